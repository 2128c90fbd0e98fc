"""Records generated from a decision — acceptance and rejection letters, conditional-acceptance notices and
sign-offs — as PDF (WeasyPrint) and DOCX (python-docx), stored once in the file store under their sha256."""

from __future__ import annotations

import base64
import io
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, TypeVar

from jinja2 import Environment
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, or_, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.audit import service as audit
from tracker.core import renderer
from tracker.core.db import after_commit, begin_write
from tracker.core.errors import NotFound
from tracker.core.files import FileStore
from tracker.core.text import breakable, strip_controls
from tracker.core.web import as_document, make_environment, show_date, show_datetime
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
from tracker.projects import organisation
from tracker.projects.models import Organisation, Project
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
    decided_by_title: str
    number: int  # the decision's place among its deliverable's decisions: its letter's number
    organisation: Organisation
    closes: Decision | None  # the conditional acceptance a "conditions met" decision closes
    criteria: list[CriterionLine]
    agreement: criteria_versions.Agreement | None  # the criteria version judged against (None: before versions)
    counts: dict[tuple[str, str], int]  # (severity, disposition) -> comments
    open_comments: list[Comment]


def gather(db: Session, decision_id: int) -> Gathered:
    closed, earlier = aliased(Decision), aliased(Decision)
    # Decisions are never deleted or renumbered (they are immutable), so a decision's place among its deliverable's
    # is fixed: the letter's number, derived rather than stored.
    number = (
        select(func.count(earlier.id))
        .where(earlier.deliverable_id == Decision.deliverable_id, earlier.id <= Decision.id)
        .correlate(Decision)
        .scalar_subquery()
    )
    row = db.exec(
        select(Decision, Deliverable, Project, Submission, User.full_name, User.title, number, closed, Organisation)
        .join(Deliverable, col(Deliverable.id) == Decision.deliverable_id)
        .join(Project, col(Project.id) == Deliverable.project_id)
        .join(Submission, col(Submission.id) == Decision.submission_id)
        .outerjoin(User, col(User.id) == Decision.decided_by_id)
        .outerjoin(closed, col(closed.id) == Decision.closes_id)
        .outerjoin(Organisation, col(Organisation.id) == organisation.ROW_ID)  # the one row, if set
        .where(Decision.id == decision_id)
    ).first()
    if row is None:
        raise NotFound(detail="No such decision.")
    decision, deliverable, project, submission, decided_by, decided_by_title, number, closes, org = row
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
        decided_by_title or "",
        number,
        org or Organisation(id=organisation.ROW_ID),
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
    organisation: str = ""  # the organisation's name, heading the letter
    logo: str = ""  # its logo as a data: URI ("" without one); set by whoever renders (records.with_logo)
    addressee: list[str] = field(default_factory=list)  # the contractor's contact, as an envelope reads
    signed_by: list[str] = field(default_factory=list)  # the decider's name and title; empty when deemed


def reference(project_key: str, deliverable_code: str, number: int) -> str:
    """A letter's reference: "<KEY>-<deliverable code>-L<n>", n its decision's place among the deliverable's."""
    return f"{project_key}-{deliverable_code}-L{number}"


def with_logo(letter: Letter, g: Gathered, store: FileStore) -> Letter:
    return replace(letter, logo=organisation.logo_data_uri(g.organisation, store))


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def approved_for_payment(
    payment: Decimal | None, holdback_pct: Decimal | None, outcome: str, closes_id: int
) -> Decimal:
    """What a decision makes invoiceable: an acceptance the payment in full, a conditional acceptance the payment less
    the holdback (withheld), the acceptance that closes a conditional one the holdback (released); a rejection nothing.
    The letters say it, and the scorecard's service credits are a share of it."""
    if payment is None or outcome == Outcome.REJECTED:
        return Decimal("0.00")
    holdback = (payment * (holdback_pct or 0) / 100).quantize(Decimal("0.01"))
    if closes_id:
        return holdback
    return payment - holdback if outcome == Outcome.CONDITIONALLY_ACCEPTED else payment


def _payment(g: Gathered) -> list[tuple[str, str]]:
    """What this decision means for the payment approval: the amount, and the holdback withheld or released."""
    d, outcome = g.deliverable, Outcome(g.decision.outcome)
    if d.payment_amount is None:
        return []
    holdback = (d.payment_amount * (d.holdback_pct or 0) / 100).quantize(Decimal("0.01"))
    facts = [("Payment amount", _money(d.payment_amount))]
    payable = approved_for_payment(d.payment_amount, d.holdback_pct, outcome, g.decision.closes_id)
    if outcome is Outcome.REJECTED:
        shown, state = "Nothing: a rejected version is not paid", "withheld"
    elif outcome is Outcome.CONDITIONALLY_ACCEPTED:
        shown, state = _money(payable), "withheld until the conditions are met"
    elif g.closes is not None:
        shown, state = f"{_money(payable)}, the holdback", "released: the conditions are met"
    else:
        shown, state = _money(payable), "released on acceptance"
    if holdback:
        facts.append(("Holdback", f"{d.holdback_pct.normalize():f}% ({_money(holdback)}), {state}"))
    facts.append(("Approved for payment by this decision", shown))
    return facts


def compose(g: Gathered, kind: RecordKind) -> Letter:
    """A letter is one document for everyone: its times read in the project's zone and the default date format,
    whoever's request writes or shows it."""
    with as_document():
        return _compose(g, kind)


def _compose(g: Gathered, kind: RecordKind) -> Letter:
    p, d, x, s = g.project, g.deliverable, g.decision, g.submission
    outcome = Outcome(x.outcome)

    def day(value: date | datetime | None) -> str:  # on the project's calendar, as its clocks are
        return show_date(value, p.timezone)

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
        ("Decided on", show_datetime(x.decided_at, p.timezone)),
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
        reference=reference(p.key, d.code, g.number),
        organisation=g.organisation.name,
        addressee=list(  # an address that repeats the firm's name gives it once
            dict.fromkeys(
                line.strip()
                for line in (
                    p.contact_name,
                    p.contact_title,
                    p.contractor,
                    *p.contact_address.splitlines(),
                    p.contact_email,
                )
                if line.strip()
            )
        ),
        signed_by=[x for x in (g.decided_by, g.decided_by_title) if x] if g.decided_by else [],  # none when deemed
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
        return replace(
            value,
            **{
                f.name: getattr(value, f.name) if f.name in _AS_IS else _printable(getattr(value, f.name))
                for f in fields(value)
            },
        )  # type: ignore[type-var]
    return value


_AS_IS = {"logo"}  # data, not text: a break inside it would spoil the image


def to_pdf(letter: Letter) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Nothing fetched but the logo the letter carries inline (data:), so no text in it can make the renderer reach out.
    html = HTML(string=to_html(_printable(letter), pdf=True), url_fetcher=URLFetcher(allowed_protocols=("data",)))
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
    if letter.logo:
        header.add_run().add_picture(io.BytesIO(base64.b64decode(letter.logo.partition(",")[2])), height=Mm(14))
        header.add_run("\n")
    if letter.organisation:
        header.add_run(letter.organisation + "\n").bold = True
    header.add_run(letter.letterhead[0]).bold = not letter.organisation
    header.add_run("\n" + letter.letterhead[1])
    section.footer.paragraphs[0].text = f"Reference {letter.reference}"
    if letter.addressee:
        document.add_paragraph("\n".join(letter.addressee))
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
    if letter.signed_by:
        document.add_paragraph("\n".join(["Signed,", "", *letter.signed_by]))
    if letter.signatures:
        document.add_heading("Signatures", level=2)
        _table(document, ["Role", "Name", "Signature", "Date"], [[r, n, "", ""] for r, n in letter.signatures])
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _both(letter: Letter) -> list[tuple[RecordFormat, bytes]]:
    return [(RecordFormat.PDF, to_pdf(letter)), (RecordFormat.DOCX, to_docx(letter))]


def _ready() -> None:
    import docx  # noqa: F401
    import weasyprint  # noqa: F401

    _environment()
    _stylesheets()


def warm() -> None:
    """Start the rendering process and load its libraries now (a server starting), so that the first decision's
    letters take as long as any other's."""
    renderer.warm(_ready)


def render(letter: Letter) -> list[tuple[RecordFormat, bytes]]:
    """The letter as PDF and DOCX, rendered in the rendering process (tracker.core.renderer)."""
    return renderer.run(_both, letter)


# --- storing -----------------------------------------------------------------------------------------------


def generate_after_commit(db: Session, decision: Decision, store: FileStore) -> None:
    """A new decision's records are made once the decision has committed (generate), never inside its
    transaction: rendering takes seconds, and on SQLite everyone else's writes would wait for it."""
    decision_id = decision.id
    after_commit(db, ("records", decision_id), lambda s: generate(s, decision_id, store))


@dataclass(frozen=True)
class Composed:
    """A decision's letters, composed from the record and ready to render: what `generate` renders and keeps."""

    decision_id: int
    gathered: Gathered
    letters: list[tuple[RecordKind, Letter]]


def compose_for(db: Session, decision_id: int, store: FileStore) -> Composed | list[GeneratedRecord]:
    """The decision's letters to render, or the records it already has (a decision keeps its records; one rolled
    back never gets any). Ends the read transaction, so nothing is held while they render."""
    existing = records_of(db, decision_id)
    if existing or db.get(Decision, decision_id) is None:
        db.commit()
        return existing
    g = gather(db, decision_id)
    letters = [(kind, with_logo(compose(g, kind), g, store)) for kind in kinds_for(g.decision)]
    db.commit()
    return Composed(decision_id, g, letters)


def keep(
    db: Session, store: FileStore, c: Composed, rendered: list[list[tuple[RecordFormat, bytes]]]
) -> list[GeneratedRecord]:
    """Store the rendered files (one list per letter, in the order composed) and write their rows in one short
    transaction. Of two processes keeping the same decision's records, the second one's rows are refused by the
    unique key and its files (the same bytes, the same sha256) are already stored."""
    d, p, decision_id = c.gathered.deliverable, c.gathered.project, c.decision_id
    rows = []
    for (kind, _), files in zip(c.letters, rendered, strict=True):
        for fmt, content in files:
            sha, size = store.put(content)
            name = f"{p.key}-{d.code}-v{c.gathered.submission.number}-decision-{decision_id}-{kind.replace('_', '-')}.{fmt}"
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
        actor_id=c.gathered.decision.decided_by_id,
        entity=d,
        project_id=p.id,
        label=d.code,
        action="generate_records",
        changes={r.filename: [None, r.sha256] for r in rows},
    )
    db.commit()
    return rows


def generate(db: Session, decision_id: int, store: FileStore) -> list[GeneratedRecord]:
    """Generate and store the decision's letter and sign-off, PDF and DOCX, with no transaction open while they
    render; then write their rows in one short transaction. Generated once."""
    c = compose_for(db, decision_id, store)
    if isinstance(c, list):
        return c
    return keep(db, store, c, [render(letter) for _, letter in c.letters])


def render_all(letters: list[Letter], workers: int) -> list[list[tuple[RecordFormat, bytes]]]:
    """Many letters rendered at once by `workers` processes of their own (loading a whole history, not serving)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_both, letters, chunksize=2))


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
