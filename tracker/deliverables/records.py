"""Records generated from a decision — acceptance and rejection letters, conditional-acceptance notices and
sign-offs — as PDF (WeasyPrint) and DOCX (python-docx), stored once in the file store under their sha256."""

from __future__ import annotations

import io
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, or_, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.audit import service as audit
from tracker.core.db import after_commit, begin_write
from tracker.core.errors import NotFound
from tracker.core.files import FileStore
from tracker.core.text import breakable, strip_controls
from tracker.core.web import make_environment
from tracker.deliverables import criteria as criteria_versions
from tracker.deliverables.models import (
    Comment,
    Criterion,
    CriterionResult,
    Decision,
    Deliverable,
    Disposition,
    GeneratedRecord,
    Outcome,
    RecordFormat,
    RecordKind,
    Severity,
    Submission,
)
from tracker.projects.models import Project
from tracker.settings import ROOT

if TYPE_CHECKING:  # WeasyPrint and python-docx are imported where a record is rendered
    import docx.document
    from weasyprint import CSS

T = TypeVar("T")

KIND_TITLES = {
    RecordKind.ACCEPTANCE_LETTER: "Acceptance letter",
    RecordKind.REJECTION_LETTER: "Rejection letter",
    RecordKind.CONDITIONAL_NOTICE: "Notice of conditional acceptance",
    RecordKind.SIGNOFF: "Sign-off record",
}
MEDIA_TYPES = {
    RecordFormat.PDF: "application/pdf",
    RecordFormat.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
_FIRST_KIND = {
    Outcome.ACCEPTED: RecordKind.ACCEPTANCE_LETTER,
    Outcome.DEEMED_ACCEPTED: RecordKind.ACCEPTANCE_LETTER,
    Outcome.CONDITIONALLY_ACCEPTED: RecordKind.CONDITIONAL_NOTICE,
    Outcome.REJECTED: RecordKind.REJECTION_LETTER,
}
# WeasyPrint and fontTools log every rendering step at INFO: one decision would fill the server log.
for _name in ("weasyprint.progress", "fontTools"):
    logging.getLogger(_name).setLevel(logging.WARNING)

RESULT_LABELS = {"met": "Met", "not_met": "Not met", "not_applicable": "Not applicable", None: "No result recorded"}
DEEMED = "Deemed accepted under the contract's deemed-acceptance terms"


def kinds_for(decision: Decision) -> list[RecordKind]:
    """Every decision gets its letter (a closing "conditions met" decision is an acceptance) and a sign-off."""
    return [_FIRST_KIND[Outcome(decision.outcome)], RecordKind.SIGNOFF]


# --- gathering: everything one decision's records show, in four queries ----------------------------------


@dataclass(frozen=True)
class CriterionLine:
    position: int
    text: str
    result: str  # a RESULT_LABELS value
    evidence: str


@dataclass(frozen=True)
class Gathered:
    project: Project
    deliverable: Deliverable
    decision: Decision
    submission: Submission
    decided_by: str | None  # None: deemed by the contract clock
    closes: Decision | None  # the conditional acceptance a "conditions met" decision closes
    criteria: list[CriterionLine]
    agreement: criteria_versions.Agreement | None  # the criteria version judged against (None: before versions)
    counts: dict[tuple[str, str], int]  # (severity, disposition) -> comments
    open_comments: list[Comment]


def gather(db: Session, decision_id: int) -> Gathered:
    closed = aliased(Decision)
    row = db.exec(
        select(Decision, Deliverable, Project, Submission, User.full_name, closed)
        .join(Deliverable, col(Deliverable.id) == Decision.deliverable_id)
        .join(Project, col(Project.id) == Deliverable.project_id)
        .join(Submission, col(Submission.id) == Decision.submission_id)
        .outerjoin(User, col(User.id) == Decision.decided_by_id)
        .outerjoin(closed, col(closed.id) == Decision.closes_id)
        .where(Decision.id == decision_id)
    ).first()
    if row is None:
        raise NotFound(detail="No such decision.")
    decision, deliverable, project, submission, decided_by, closes = row
    # The criteria version the decision was judged against, with this submission's results, whatever changed since.
    # Decisions from before criteria had versions read the criteria in force at the decision's moment.
    judged = (
        criteria_versions.judged(db, deliverable.id, decision.criteria_version) if decision.criteria_version else None
    )
    in_force = (
        col(Criterion.id).in_(judged.version.criterion_ids)
        if judged
        else (col(Criterion.created_at) <= decision.decided_at)
        & or_(col(Criterion.retired_at).is_(None), col(Criterion.retired_at) > decision.decided_at)
    )
    criteria = db.exec(
        select(Criterion, CriterionResult)
        .outerjoin(
            CriterionResult,
            (col(CriterionResult.criterion_id) == Criterion.id) & (CriterionResult.submission_id == submission.id),
        )
        .where(Criterion.deliverable_id == deliverable.id, in_force)
        .order_by(Criterion.position, Criterion.id)
    ).all()
    if judged:
        order = {cid: n for n, cid in enumerate(judged.version.criterion_ids)}
        criteria = sorted(criteria, key=lambda row: order[row[0].id])
    counts = db.exec(
        select(Comment.severity, Comment.disposition, func.count(Comment.id))
        .where(Comment.submission_id == submission.id)
        .group_by(Comment.severity, Comment.disposition)
    ).all()
    open_comments = db.exec(
        select(Comment)
        .where(Comment.submission_id == submission.id, Comment.disposition == Disposition.OPEN)
        .order_by(Comment.id)
    ).all()
    rank = {s.value: i for i, s in enumerate(Severity)}
    return Gathered(
        project,
        deliverable,
        decision,
        submission,
        decided_by,
        closes,
        criteria=[
            CriterionLine(i, c.text, RESULT_LABELS[r.outcome if r else None], r.evidence if r else "")
            for i, (c, r) in enumerate(criteria, start=1)
        ],
        agreement=judged,
        counts={(s, d): n for s, d, n in counts},
        open_comments=sorted(open_comments, key=lambda c: rank.get(c.severity, 9)),
    )


# --- composing: the content of one kind, shared by the HTML/PDF template and the DOCX writer -------------


@dataclass
class Letter:
    title: str
    heading: str
    letterhead: list[str]
    reference: str
    paragraphs: list[str]
    facts: list[tuple[str, str]]
    findings_label: str = "Findings"
    findings: str = ""
    conditions: str = ""
    conditions_due: str = ""
    criteria: list[CriterionLine] = field(default_factory=list)
    summary_head: list[str] = field(default_factory=list)
    summary: list[list[str]] = field(default_factory=list)  # severity, count per disposition, total
    open_comments: list[list[str]] = field(default_factory=list)  # number, severity, location, text, response
    signatures: list[tuple[str, str]] = field(default_factory=list)  # role, name


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _payment(g: Gathered) -> list[tuple[str, str]]:
    """What this decision means for the payment approval: the amount, and the holdback withheld or released."""
    d, outcome = g.deliverable, Outcome(g.decision.outcome)
    if d.payment_amount is None:
        return []
    holdback = (d.payment_amount * (d.holdback_pct or 0) / 100).quantize(Decimal("0.01"))
    facts = [("Payment amount", _money(d.payment_amount))]
    if outcome is Outcome.REJECTED:
        payable, state = "Nothing: a rejected version is not paid", "withheld"
    elif outcome is Outcome.CONDITIONALLY_ACCEPTED:
        payable, state = _money(d.payment_amount - holdback), "withheld until the conditions are met"
    elif g.closes is not None:
        payable, state = f"{_money(holdback)}, the holdback", "released: the conditions are met"
    else:
        payable, state = _money(d.payment_amount), "released on acceptance"
    if holdback:
        facts.append(("Holdback", f"{d.holdback_pct.normalize():f}% ({_money(holdback)}), {state}"))
    facts.append(("Approved for payment by this decision", payable))
    return facts


def compose(g: Gathered, kind: RecordKind) -> Letter:
    p, d, x, s = g.project, g.deliverable, g.decision, g.submission
    outcome = Outcome(x.outcome)
    zone = ZoneInfo(p.timezone)

    def day(value: date | datetime | None) -> str:  # on the project's calendar, as its clocks are
        if isinstance(value, datetime):
            value = value.astimezone(zone)
        return value.strftime("%b %-d, %Y") if value else "—"

    what = f"version {s.number} of deliverable {d.code}, “{d.title}”, submitted on {day(s.submitted_at)}"
    contract = f" under contract {p.contract_number}" if p.contract_number else ""
    if outcome is Outcome.REJECTED:
        paragraphs = [
            f"This letter records that {what}, is rejected{contract}.",
            "The findings below state what must change before the deliverable can be accepted.",
        ]
        if (due := clocks.RESUBMISSION.due(d)) and d.current_version == s.number:
            paragraphs.append(f"A corrected version is due by {day(due)}.")
    elif outcome is Outcome.CONDITIONALLY_ACCEPTED:
        paragraphs = [
            f"This notice records that {what}, is accepted{contract} on the conditions below, "
            f"which must be met by {day(x.conditions_due)}.",
            "Acceptance becomes final when the conditions are confirmed as met.",
        ]
    elif outcome is Outcome.DEEMED_ACCEPTED:
        paragraphs = [
            f"This letter records that {what}, is deemed accepted under the contract's "
            "deemed-acceptance terms: no decision was recorded within the review period."
        ]
    elif g.closes is not None:
        paragraphs = [
            f"The conditions of the conditional acceptance of {day(g.closes.decided_at)} have been met. "
            f"This letter records that {what}, is accepted{contract}."
        ]
    else:
        paragraphs = [f"This letter records that {what}, is accepted{contract}."]
    if kind is RecordKind.SIGNOFF:
        paragraphs = [f"Sign-off of the decision on {what}.", *paragraphs[1:]]
    decision_label = "Accepted: conditions met" if g.closes else _label(outcome.value)
    facts = [
        ("Deliverable", f"{d.code} — {d.title}"),
        ("Version", f"{s.number}, submitted {day(s.submitted_at)}"),
        ("Decision", decision_label),
        ("Decided by", g.decided_by or DEEMED),
        ("Decided on", x.decided_at.astimezone(zone).strftime("%b %-d, %Y %H:%M %Z")),
    ]
    if g.agreement:
        facts.append(("Judged against", f"acceptance criteria {g.agreement.describe(p.timezone)}"))
    if g.closes:
        facts.append(("Closes", f"the conditional acceptance of {day(g.closes.decided_at)}"))
    facts += _payment(g)
    dispositions = list(Disposition)
    summary = []
    for sev in Severity:
        row = [g.counts.get((sev.value, disp.value), 0) for disp in dispositions]
        summary.append([_label(sev.value), *map(str, row), str(sum(row))])
    totals = [sum(g.counts.get((sev.value, disp.value), 0) for sev in Severity) for disp in dispositions]
    summary.append(["Total", *map(str, totals), str(sum(totals))])
    signatures = []
    if kind is RecordKind.SIGNOFF:
        signatures = [
            ("For the State: decided by", g.decided_by or DEEMED),
            (f"For the contractor{': ' + p.contractor if p.contractor else ''}", ""),
        ]
    return Letter(
        title=KIND_TITLES[kind],
        heading=f"{KIND_TITLES[kind]}: {d.code} version {s.number}",
        letterhead=[
            p.name,
            " · ".join(
                filter(
                    None,
                    [
                        f"Contract {p.contract_number}" if p.contract_number else "",
                        f"Contractor: {p.contractor}" if p.contractor else "",
                        f"Project {p.key}",
                    ],
                )
            ),
        ],
        reference=f"{p.key}/{d.code}/v{s.number}/decision-{x.id} · {day(x.decided_at)}",
        paragraphs=paragraphs,
        facts=facts,
        findings_label="Note" if g.closes else "Findings",
        findings=x.findings,
        conditions=x.conditions,
        conditions_due=day(x.conditions_due) if x.conditions else "",
        criteria=g.criteria,
        summary_head=["Severity", *(_label(disp.value) for disp in dispositions), "Total"],
        summary=summary,
        open_comments=[[f"#{c.id}", _label(c.severity), c.location, c.text, c.response] for c in g.open_comments],
        signatures=signatures,
    )


# --- rendering ---------------------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    return make_environment()


@cache
def _stylesheets() -> tuple[CSS, ...]:
    from weasyprint import CSS

    # US state contracts print on Letter; the layout itself fits A4 as well (see static/record.css).
    return CSS(string=(ROOT / "static" / "record.css").read_text()), CSS(string="@page { size: letter; }")


def to_html(letter: Letter, **context: object) -> str:
    return _environment().get_template("deliverables/record.html").render(letter=letter, **context)


def _printable(value: T) -> T:
    """A letter's text as the files carry it: no control characters (XML refuses them, a font has no glyph), and a
    place to wrap inside every long unbroken word (core.text.breakable)."""
    if isinstance(value, str):
        return breakable(strip_controls(value))  # type: ignore[return-value]
    if isinstance(value, (list, tuple)):
        return type(value)(_printable(v) for v in value)  # type: ignore[return-value]
    if is_dataclass(value):
        return replace(value, **{f.name: _printable(getattr(value, f.name)) for f in fields(value)})  # type: ignore[type-var]
    return value


def to_pdf(letter: Letter) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # No fetching at all: the record is self-contained, so no text in it can make the renderer reach out.
    html = HTML(string=to_html(_printable(letter), pdf=True), url_fetcher=URLFetcher(allowed_protocols=()))
    return html.write_pdf(stylesheets=list(_stylesheets()), pdf_tags=True)


def _table(document: docx.document.Document, head: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(head), style="Table Grid")
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text


def to_docx(letter: Letter) -> bytes:
    import docx
    from docx.shared import Mm, Pt

    letter = _printable(letter)
    document = docx.Document()
    document.core_properties.title = letter.heading
    document.core_properties.author = letter.letterhead[0]
    document.styles["Normal"].font.size = Pt(10.5)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(215.9), Mm(279.4)  # Letter, as the PDF
    section.left_margin = section.right_margin = Mm(20)
    header = section.header.paragraphs[0]
    header.add_run(letter.letterhead[0]).bold = True
    header.add_run("\n" + letter.letterhead[1])
    section.footer.paragraphs[0].text = letter.reference
    document.add_heading(letter.heading, level=1)
    document.add_paragraph(f"Reference {letter.reference}")
    for text in letter.paragraphs:
        document.add_paragraph(text)
    document.add_heading("Decision", level=2)
    _table(document, ["", ""], [[label, value] for label, value in letter.facts])
    if letter.findings:
        document.add_heading(letter.findings_label, level=2)
        document.add_paragraph(letter.findings)
    if letter.conditions:
        document.add_heading(f"Conditions, due {letter.conditions_due}", level=2)
        document.add_paragraph(letter.conditions)
    document.add_heading("Acceptance criteria", level=2)
    if letter.criteria:
        _table(
            document,
            ["#", "Criterion", "Result", "Evidence"],
            [[str(c.position), c.text, c.result, c.evidence] for c in letter.criteria],
        )
    else:
        document.add_paragraph("No acceptance criteria were agreed.")
    document.add_heading("Review comments", level=2)
    _table(document, letter.summary_head, letter.summary)
    if letter.open_comments:
        document.add_heading("Comments still open", level=3)
        _table(document, ["#", "Severity", "Location", "Comment", "Contractor response"], letter.open_comments)
    else:
        document.add_paragraph("No comment remains open.")
    if letter.signatures:
        document.add_heading("Signatures", level=2)
        _table(document, ["Role", "Name", "Signature", "Date"], [[r, n, "", ""] for r, n in letter.signatures])
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _both(letter: Letter) -> list[tuple[RecordFormat, bytes]]:
    return [(RecordFormat.PDF, to_pdf(letter)), (RecordFormat.DOCX, to_docx(letter))]


@cache
def _renderer() -> ProcessPoolExecutor:
    # Spawned, not forked: the server's threads (and their locks) must not be copied into the child.
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def _ready() -> None:
    import docx  # noqa: F401
    import weasyprint  # noqa: F401

    _environment()
    _stylesheets()


def warm() -> None:
    """Start the rendering process and load its libraries now (a server starting), so that the first decision's
    letters take as long as any other's."""
    _renderer().submit(_ready)


def render(letter: Letter) -> list[tuple[RecordFormat, bytes]]:
    """The letter as PDF and DOCX, rendered in a process of its own: rendering is seconds of pure Python, and in the
    server's process it would hold the interpreter lock and slow every other request (and every transaction they
    hold) while it ran."""
    return _renderer().submit(_both, letter).result()


# --- storing -----------------------------------------------------------------------------------------------


def generate_after_commit(db: Session, decision: Decision, store: FileStore) -> None:
    """A new decision's records are made once the decision has committed (generate), never inside its
    transaction: rendering takes seconds, and on SQLite everyone else's writes would wait for it."""
    decision_id = decision.id
    after_commit(db, ("records", decision_id), lambda s: generate(s, decision_id, store))


def generate(db: Session, decision_id: int, store: FileStore) -> list[GeneratedRecord]:
    """Generate and store the decision's letter and sign-off, PDF and DOCX, with no transaction open while they
    render; then write their rows in one short transaction. Generated once: a decision that already has its records
    keeps them, as it keeps everything else, and of two processes rendering at once the second one's rows are
    refused by the unique key and its files (the same bytes, the same sha256) are already stored."""
    existing = records_of(db, decision_id)
    if existing or db.get(Decision, decision_id) is None:  # a decision rolled back never gets records
        db.commit()
        return existing
    g = gather(db, decision_id)
    letters = [(kind, compose(g, kind)) for kind in kinds_for(g.decision)]
    db.commit()  # ends the read transaction: nothing is held while the files render
    d, p = g.deliverable, g.project
    rows = []
    for kind, letter in letters:
        for fmt, content in render(letter):
            sha, size = store.put(content)
            name = f"{p.key}-{d.code}-v{g.submission.number}-decision-{decision_id}-{kind.replace('_', '-')}.{fmt}"
            rows.append(
                GeneratedRecord(
                    decision_id=decision_id,
                    deliverable_id=d.id,
                    kind=kind.value,
                    format=fmt.value,
                    sha256=sha,
                    size=size,
                    filename=name,
                )
            )
    begin_write(db)
    try:
        db.add_all(rows)
        db.flush()
    except IntegrityError:
        db.rollback()
        return records_of(db, decision_id)
    audit.record(
        db,
        actor_id=g.decision.decided_by_id,
        entity=d,
        project_id=p.id,
        label=d.code,
        action="generate_records",
        changes={r.filename: [None, r.sha256] for r in rows},
    )
    db.commit()
    return rows


def generate_missing(db: Session, store: FileStore) -> list[int]:
    """Records for every decision that has none: the sweep after a process stopped between a decision's commit and
    its rendering. The ids of the decisions it made records for."""
    missing = list(
        db.exec(
            select(Decision.id)
            .where(~select(GeneratedRecord.id).where(GeneratedRecord.decision_id == Decision.id).exists())
            .order_by(Decision.id)
        )
    )
    db.commit()
    for decision_id in missing:
        generate(db, decision_id, store)
    return missing


def records_of(db: Session, decision_id: int) -> list[GeneratedRecord]:
    return list(
        db.exec(select(GeneratedRecord).where(GeneratedRecord.decision_id == decision_id).order_by(GeneratedRecord.id))
    )


@dataclass(frozen=True)
class RecordSet:
    decision: Decision
    records: list[GeneratedRecord]  # in the order generated: the letter, then the sign-off; PDF, then DOCX

    @property
    def kinds(self) -> list[tuple[str, str, dict[str, GeneratedRecord]]]:
        """(kind, title, {format: record}) per document."""
        files: dict[str, dict[str, GeneratedRecord]] = {}
        for r in self.records:
            files.setdefault(r.kind, {})[r.format] = r
        return [(kind, KIND_TITLES[RecordKind(kind)], by_format) for kind, by_format in files.items()]


def for_deliverable(db: Session, deliverable_id: int) -> list[RecordSet]:
    """A deliverable's records grouped by decision, newest decision first, in one query."""
    rows = db.exec(
        select(Decision, GeneratedRecord)
        .join(GeneratedRecord, col(GeneratedRecord.decision_id) == Decision.id)
        .where(GeneratedRecord.deliverable_id == deliverable_id)
        .order_by(col(Decision.id).desc(), GeneratedRecord.id)
    ).all()
    groups: dict[int, RecordSet] = {}
    for decision, record in rows:
        groups.setdefault(decision.id, RecordSet(decision, [])).records.append(record)
    return list(groups.values())


def get(db: Session, deliverable: Deliverable, record_id: int) -> GeneratedRecord:
    record = db.get(GeneratedRecord, record_id)
    if record is None or record.deliverable_id != deliverable.id:
        raise NotFound(detail="No such record on this deliverable.")
    return record
