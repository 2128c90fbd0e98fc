"""Service levels the contractor reports itself: the measures a project's managers configure (name, unit, target,
which way is good; removed only while no figure or credit rule rests on them), the monthly figures the contractor
enters or imports and may correct while pending or disputed, and the State's verification or dispute of each, with a
note, on the record."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator
from sqlmodel import Session, col, func, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, FormError, NotFound
from tracker.core.forms import Checkbox, Form, parse
from tracker.core.spreadsheet import match_headers, read_table
from tracker.projects.calendar import project_today
from tracker.projects.models import Project
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.reports import credits
from tracker.reports.models import FigureStatus, ServiceFigure, ServiceMeasure
from tracker.reports.periods import month_end

STATUS_LABELS = {
    FigureStatus.PENDING: "Awaiting verification",
    FigureStatus.VERIFIED: "Verified",
    FigureStatus.DISPUTED: "Disputed",
}
CORRECTABLE = (FigureStatus.PENDING, FigureStatus.DISPUTED)  # a verified figure is settled
VERDICTS = {"verify": FigureStatus.VERIFIED, "dispute": FigureStatus.DISPUTED}
LABELS = {
    "name": "Measure",
    "unit": "Unit",
    "target": "Target",
    "higher_is_better": "Higher is better",
    "measure_id": "Measure",
    "month": "Month",
    "value": "Value",
    "notes": "Contractor's note",
    "status": "Status",
    "reason": "Note",
    "verdict": "Verdict",
    "file": "File",
}
# An import's columns: each field's label and the headers it is known by.
IMPORT_COLUMNS = {
    "measure": ["Measure", "Service level", "Name", "Metric"],
    "month": ["Month", "Period", "Reporting month"],
    "value": ["Value", "Figure", "Actual", "Result"],
    "notes": ["Note", "Notes", "Comment", "Comments"],
}
history.register(
    nouns={"service_figure": "reported figure", "service_measure": "reported measure"},
    verbs={
        "report_figure": "reported",
        "correct_figure": "corrected",
        "verify_figure": "verified",
        "dispute_figure": "disputed",
        "add_measure": "added",
        "edit_measure": "changed",
        "remove_measure": "removed",
    },
    terms={
        "service_figure": history.Terms(LABELS, {"status": {s.value: w for s, w in STATUS_LABELS.items()}}),
        "service_measure": history.Terms(LABELS, {"higher_is_better": {True: "Yes", False: "No"}}),
    },
)
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-\d{1,2})?\s*$")


def month_of(value: Any) -> date:
    """'2026-10' (or any day of it, or a date) as the month's first day."""
    if isinstance(value, date):
        return value.replace(day=1)
    found = _MONTH.match(str(value or ""))
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ValueError("Enter the month as YYYY-MM, e.g. 2026-10.")
    return date(int(found.group(1)), int(found.group(2)), 1)


def _number(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip().replace(",", "").removesuffix("%").strip()
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError("Enter a number, e.g. 99.5.") from None
        if not number.is_finite():
            raise ValueError("Enter a number, e.g. 99.5.")
        return number
    return value


Number = Annotated[Decimal, BeforeValidator(_number), Field(ge=Decimal("-1e9"), le=Decimal("1e9"), decimal_places=4)]


class MeasureForm(Form):
    labels = LABELS
    name: str = Field(min_length=1, max_length=120)
    unit: str = Field(default="", max_length=40)
    target: Number
    higher_is_better: Checkbox = False


class FigureForm(Form):
    labels = LABELS
    measure_id: int
    month: date
    value: Number
    notes: str = Field(default="", max_length=2000)

    @field_validator("month", mode="before")
    @classmethod
    def _month(cls, v: Any) -> date:
        return month_of(v)


class CorrectionForm(Form):
    labels = LABELS
    value: Number
    notes: str = Field(default="", max_length=2000)


class VerdictForm(Form):
    labels = LABELS
    verdict: str = Field(pattern="^(verify|dispute)$")
    reason: str = Field(default="", max_length=2000)


# --- reading ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    figure: ServiceFigure
    measure: ServiceMeasure
    entered_by: str | None
    decided_by: str | None

    @property
    def met(self) -> bool:
        return met(self.measure, self.figure.value)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[FigureStatus(self.figure.status)]


def met(measure: ServiceMeasure, value: Decimal) -> bool:
    return value >= measure.target if measure.higher_is_better else value <= measure.target


def measures(db: Session, project_id: int) -> list[ServiceMeasure]:
    return list(
        db.exec(
            select(ServiceMeasure).where(ServiceMeasure.project_id == project_id).order_by(col(ServiceMeasure.name))
        )
    )


def figures(db: Session, project_id: int, since: date | None = None, until: date | None = None) -> list[Row]:
    """The figures of the project's measures (months from `since` to `until`), newest month first, in one query."""
    entered, decided = User.__table__.alias("entered"), User.__table__.alias("decided")
    stmt = (
        select(ServiceFigure, ServiceMeasure, entered.c.full_name, decided.c.full_name)
        .join(ServiceMeasure, col(ServiceMeasure.id) == ServiceFigure.measure_id)
        .outerjoin(entered, entered.c.id == ServiceFigure.entered_by_id)
        .outerjoin(decided, decided.c.id == ServiceFigure.decided_by_id)
        .where(ServiceFigure.project_id == project_id)
        .order_by(col(ServiceFigure.month).desc(), ServiceMeasure.name)
    )
    if since:
        stmt = stmt.where(col(ServiceFigure.month) >= since.replace(day=1))
    if until:
        stmt = stmt.where(col(ServiceFigure.month) <= until)
    return [Row(*r) for r in db.exec(stmt)]


def get_measure_for(db: Session, access: Access, measure_id: int) -> ServiceMeasure:
    measure = db.get(ServiceMeasure, measure_id)
    if measure is None or measure.project_id != access.project.id:
        raise NotFound(detail="No such reported measure in this project.")
    return measure


def measure_values(m: ServiceMeasure) -> dict[str, Any]:
    """A measure as its form shows it (and its history and a stale edit's notice)."""
    return {
        "name": m.name,
        "unit": m.unit,
        "target": f"{m.target.normalize():f}",
        "higher_is_better": m.higher_is_better,
    }


def removal_refusals(db: Session, project: Project, measure: ServiceMeasure) -> list[str]:
    """Why the measure may not be removed: figures reported against it (their record keeps its measure), or a
    service-credit rule that names it. Empty when it may."""
    reasons = []
    count = db.exec(select(func.count()).where(ServiceFigure.measure_id == measure.id)).one()
    if count:
        reasons.append(
            f"{count} figure{' is' if count == 1 else 's are'} on the record for it, and a reported figure keeps "
            "its measure; rename it or change its target instead."
        )
    labels = credits.choices([measure])
    rules = [
        credits.describe(r, labels)
        for r in credits.table_of(project).rules
        if r.metric == f"{credits.REPORTED}{measure.id}"
    ]
    if rules:
        reasons.append(
            f"The service credits name it ({'; '.join(rules)}); take "
            f"{'that rule' if len(rules) == 1 else 'those rules'} out on the report settings page first."
        )
    return reasons


def get_for(db: Session, access: Access, figure_id: int) -> ServiceFigure:
    figure = db.get(ServiceFigure, figure_id)
    if figure is None or figure.project_id != access.project.id:
        raise NotFound(detail="No such reported figure in this project.")
    return figure


def require_any(access: Access, *perms: Perm) -> None:
    """Reported figures are read by the State's readers and by the contractor who reports them."""
    if not any(access.can(p) for p in perms):
        access.require(perms[0])


READ = (Perm.VIEW_REGISTER, Perm.DELIVER)


# --- writing ---------------------------------------------------------------------------------------------------


def _values(f: ServiceFigure) -> dict[str, Any]:
    return {"value": f"{f.value.normalize():f}", "notes": f.note, "status": f.status, "reason": f.decision_note}


def _label(measure: ServiceMeasure, month: date) -> str:
    return f"{measure.name}, {month:%b %Y}"


def add_measure(db: Session, actor: Principal, access: Access, form: MeasureForm) -> ServiceMeasure:
    access.require(Perm.MANAGE)
    _check_name(db, access, form.name)
    measure = ServiceMeasure(
        project_id=access.project.id,
        name=form.name,
        unit=form.unit,
        target=form.target,
        higher_is_better=form.higher_is_better,
    )
    db.add(measure)
    db.flush()
    audit.record(
        db,
        actor_id=actor.id,
        entity=measure,
        project_id=access.project.id,
        label=measure.name,
        action="add_measure",
        changes={k: [None, v] for k, v in form.model_dump().items()},
    )
    return measure


def _check_name(db: Session, access: Access, name: str, measure_id: int | None = None) -> None:
    if any(m.name.lower() == name.lower() and m.id != measure_id for m in measures(db, access.project.id)):
        raise FormError({"name": "This project already has a measure of that name."})


def edit_measure(
    db: Session, actor: Principal, access: Access, measure: ServiceMeasure, form: MeasureForm, seen: int | None
) -> ServiceMeasure:
    """A new name, unit, target or direction. Met or missed is read against the target in force, so a new target
    judges every month's figure again; the history keeps the old one."""
    access.require(Perm.MANAGE)
    measure.check_seen(seen, measure_values(measure))
    _check_name(db, access, form.name, measure.id)
    before = measure_values(measure)
    measure.name, measure.unit, measure.target = form.name, form.unit, form.target
    measure.higher_is_better = form.higher_is_better
    changes = audit.diff(before, measure_values(measure))
    if changes:
        db.add(measure)
        db.flush()
        audit.record(
            db,
            actor_id=actor.id,
            entity=measure,
            project_id=access.project.id,
            label=measure.name,
            action="edit_measure",
            changes=changes,
        )
    return measure


def remove_measure(db: Session, actor: Principal, access: Access, measure: ServiceMeasure, seen: int | None) -> None:
    """Only a measure nothing rests on: no figure reported against it and no service-credit rule naming it."""
    access.require(Perm.MANAGE)
    measure.check_seen(
        seen,
        measure_values(measure),
        "This measure was changed after you loaded it, so it was not removed. Check it and remove it again.",
    )
    if reasons := removal_refusals(db, access.project, measure):
        raise Conflict(detail=f"{measure.name} cannot be removed: " + " ".join(reasons))
    audit.record(
        db,
        actor_id=actor.id,
        entity=measure,
        project_id=access.project.id,
        label=measure.name,
        action="remove_measure",
        changes={k: [v, None] for k, v in measure_values(measure).items() if v != ""},
    )
    db.delete(measure)
    db.flush()


def _check_month(access: Access, month: date) -> None:
    if month > project_today(access.project).replace(day=1):
        raise FormError({"month": "That month has not begun yet; report a month once it is under way or over."})


def report(db: Session, actor: Principal, access: Access, form: FigureForm) -> ServiceFigure:
    access.require(Perm.DELIVER)
    measure = db.get(ServiceMeasure, form.measure_id)
    if measure is None or measure.project_id != access.project.id:
        raise FormError({"measure_id": "Choose one of this project's measures."})
    _check_month(access, form.month)
    taken = db.exec(
        select(ServiceFigure.id).where(ServiceFigure.measure_id == measure.id, ServiceFigure.month == form.month)
    ).first()
    if taken:
        raise FormError({"month": "That month is already reported for this measure; correct the figure instead."})
    figure = ServiceFigure(
        project_id=access.project.id,
        measure_id=measure.id,
        month=form.month,
        value=form.value,
        note=form.notes,
        entered_by_id=actor.id,
    )
    db.add(figure)
    db.flush()
    audit.record(
        db,
        actor_id=actor.id,
        entity=figure,
        project_id=access.project.id,
        label=_label(measure, figure.month),
        action="report_figure",
        changes=audit.diff({}, {k: v for k, v in _values(figure).items() if k in ("value", "notes")}),
    )
    return figure


def correct(
    db: Session, actor: Principal, access: Access, figure: ServiceFigure, form: CorrectionForm, seen: int | None
) -> ServiceFigure:
    """A new revision of a figure still pending or disputed: it goes back to awaiting verification."""
    access.require(Perm.DELIVER)
    figure.check_seen(seen, _values(figure))
    if figure.status not in CORRECTABLE:
        raise Conflict(detail="A verified figure is settled; it can no longer be corrected.")
    before = _values(figure)
    figure.value, figure.note, figure.status = form.value, form.notes, FigureStatus.PENDING
    figure.revision += 1
    figure.entered_by_id, figure.entered_at = actor.id, utcnow()
    db.add(figure)
    db.flush()
    measure = db.get(ServiceMeasure, figure.measure_id)
    audit.record(
        db,
        actor_id=actor.id,
        entity=figure,
        project_id=access.project.id,
        label=_label(measure, figure.month),
        action="correct_figure",
        changes=audit.diff(before, _values(figure)),
    )
    return figure


def decide(
    db: Session, actor: Principal, access: Access, figure: ServiceFigure, form: VerdictForm, seen: int | None
) -> ServiceFigure:
    """The State verifies a figure or disputes it (a dispute says why); a later correction is decided again."""
    access.require(Perm.VERIFY_FIGURES)
    figure.check_seen(seen, _values(figure))
    status = VERDICTS[form.verdict]
    if status == FigureStatus.DISPUTED and not form.reason:
        raise FormError({"reason": "Say what is disputed, so the contractor can answer it."})
    if figure.status == FigureStatus.VERIFIED or figure.status == status:
        raise Conflict(detail=f"This figure is already {STATUS_LABELS[FigureStatus(figure.status)].lower()}.")
    before = _values(figure)
    figure.status, figure.decision_note = status, form.reason
    figure.decided_by_id, figure.decided_at = actor.id, utcnow()
    db.add(figure)
    db.flush()
    measure = db.get(ServiceMeasure, figure.measure_id)
    audit.record(
        db,
        actor_id=actor.id,
        entity=figure,
        project_id=access.project.id,
        label=_label(measure, figure.month),
        action="verify_figure" if status == FigureStatus.VERIFIED else "dispute_figure",
        changes=audit.diff(before, _values(figure)),
    )
    return figure


@dataclass(frozen=True)
class ImportResult:
    added: int
    errors: list[tuple[int, str]]  # (spreadsheet row, what is wrong)


def import_figures(db: Session, actor: Principal, access: Access, filename: str, data: bytes) -> ImportResult:
    """Each row a figure (measure, month, value, note). All or nothing: any row in error and none is added, every
    error is listed with its row number."""
    access.require(Perm.DELIVER)
    sheet = read_table(filename, data)
    columns = match_headers(sheet.headers, IMPORT_COLUMNS)
    missing = [IMPORT_COLUMNS[f][0] for f in ("measure", "month", "value") if f not in columns.values()]
    if missing:
        raise FormError({"file": f"The file has no column for: {', '.join(missing)}."})
    by_name = {m.name.lower(): m for m in measures(db, access.project.id)}
    taken = {(r.measure.id, r.figure.month) for r in figures(db, access.project.id)}
    forms, errors = [], []
    for number, cells in sheet.rows:
        row = {field: cells[i] for i, field in columns.items()}
        measure = by_name.get(row["measure"].strip().lower())
        if measure is None:
            errors.append((number, f"No measure named '{row['measure']}'."))
            continue
        try:
            form = parse(FigureForm, {"measure_id": measure.id, **{k: v for k, v in row.items() if k != "measure"}})
            _check_month(access, form.month)
        except FormError as exc:
            errors.append((number, " ".join(exc.errors.values())))
            continue
        if (measure.id, form.month) in taken:
            errors.append((number, f"{_label(measure, form.month)} is already reported; correct it on its page."))
            continue
        taken.add((measure.id, form.month))
        forms.append(form)
    if errors:
        return ImportResult(0, errors)
    for form in forms:
        report(db, actor, access, form)
    return ImportResult(len(forms), [])


@dataclass(frozen=True)
class Latest:
    """A measure as the scorecard shows it for a period: its latest month ended by the period's end."""

    measure: ServiceMeasure
    row: Row | None
    in_period: bool  # that month ended inside the period: its figure is the period's, for service credits
    recent: list[Row]  # the months read, oldest first


def latest(all_measures: list[ServiceMeasure], rows: list[Row], period: Any) -> list[Latest]:
    out = []
    for m in all_measures:
        mine = sorted((r for r in rows if r.measure.id == m.id and month_end(r.figure.month) <= period.end), key=_month)
        last = mine[-1] if mine else None
        out.append(Latest(m, last, bool(last and month_end(last.figure.month) >= period.start), mine))
    return out


def _month(r: Row) -> date:
    return r.figure.month
