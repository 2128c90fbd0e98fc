"""Service credits: a project's credit table ("review turnaround below 90% → 2% of the period's invoiced amount") and
the credits the record earns in each period.

The table is stored as JSON on the project (project.service_credits), as its SLO targets and RAG thresholds are: it is
a handful of rows always read and written whole, with the project, under the project's version (a stale edit is a
409) and audited as one change; nothing queries inside it, so a table of its own would only add joins.

The period's invoiced amount is the sum, over the deliverable decisions recorded in the period, of what each decision
approves for payment (deliverables.records.approved_for_payment: an acceptance the payment, a conditional acceptance
the payment less the holdback withheld, meeting the conditions the holdback released). A rule's credit is its percent
of that amount, to the cent (half up); a cap, when set, limits the period's total to that percent of it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.errors import FormError
from tracker.deliverables.models import Decision, Deliverable, Outcome
from tracker.deliverables.records import approved_for_payment
from tracker.projects.models import Project
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.reports import scorecard
from tracker.reports.models import FigureStatus, ServiceMeasure
from tracker.reports.periods import Period, month_end

if TYPE_CHECKING:
    from tracker.reports.levels import Row

CENT = Decimal("0.01")
COMPARISONS = {"below": "below", "above": "above"}  # the credit applies when the value is strictly below / above
BLANK_ROWS = 2  # empty rows the settings form offers for new rules
REPORTED = "reported-"  # a rule on a reported measure names it "reported-<measure id>"
history.register(
    verbs={"service_credits": "changed the service credits of"},
    terms={"service_credits": history.Terms({"credits": "Service credits"})},
)


@dataclass(frozen=True)
class Rule:
    metric: str  # a scorecard.METRICS key, or REPORTED + a measure's id
    comparison: str  # below | above
    threshold: Decimal  # in the unit the metric is shown in: a rate in percent
    percent: Decimal  # of the period's invoiced amount


@dataclass(frozen=True)
class CreditTable:
    rules: list[Rule]
    cap: Decimal | None  # the most a period's credits may total, in percent of its invoiced amount


def table_of(project: Project) -> CreditTable:
    own = project.service_credits or {}
    rules = [
        Rule(r["metric"], r["comparison"], Decimal(r["threshold"]), Decimal(r["percent"])) for r in own.get("rules", [])
    ]
    return CreditTable(rules, Decimal(own["cap"]) if own.get("cap") else None)


def to_json(table: CreditTable) -> dict[str, Any]:
    """Decimals as text, so no amount passes through a float."""
    rules = [
        {"metric": r.metric, "comparison": r.comparison, "threshold": str(r.threshold), "percent": str(r.percent)}
        for r in table.rules
    ]
    return {"rules": rules, "cap": str(table.cap) if table.cap is not None else None} if rules else {}


def choices(measures: list[ServiceMeasure]) -> dict[str, str]:
    """Every metric a rule may name, with its label: the computed ones, then the contractor-reported ones."""
    return {k: label for k, (label, *_) in scorecard.METRICS.items()} | {
        f"{REPORTED}{m.id}": f"{m.name} (reported by the contractor)" for m in measures
    }


def _unit(metric: str) -> str:
    return "%" if scorecard.METRICS.get(metric, ("", ""))[1] == "rate" else ""


def describe(rule: Rule, labels: dict[str, str]) -> str:
    """ "On-time submission rate below 90% → 2% of the invoiced amount"."""
    label = labels.get(rule.metric, "A measure no longer configured")
    return (
        f"{label} {rule.comparison} {rule.threshold.normalize():f}{_unit(rule.metric)} → "
        f"{rule.percent.normalize():f}% of the invoiced amount"
    )


def credit_of(invoiced: Decimal, percent: Decimal) -> Decimal:
    return (invoiced * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


# --- computing ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    rule: Rule
    text: str
    value: Decimal | None  # the metric's value in the rule's unit; None: nothing measured (or not verified)
    applies: bool
    amount: Decimal
    note: str = ""  # why a reported measure does not count

    @property
    def shown(self) -> str:
        return "—" if self.value is None else f"{self.value.quantize(CENT):f}{_unit(self.rule.metric)}"


@dataclass(frozen=True)
class Credits:
    period: Period
    invoiced: Decimal
    lines: list[Line]
    total: Decimal
    capped: bool  # the cap cut the total


def compute(
    table: CreditTable, period: Period, invoiced: Decimal, values: dict[str, tuple[Decimal | None, str]], labels: dict
) -> Credits:
    """`values`: each metric's value in the rule's unit for the period, with a note when it cannot count."""
    lines = []
    for rule in table.rules:
        value, note = values.get(rule.metric, (None, ""))
        applies = value is not None and (
            value < rule.threshold if rule.comparison == "below" else value > rule.threshold
        )
        amount = credit_of(invoiced, rule.percent) if applies else Decimal("0.00")
        lines.append(Line(rule, describe(rule, labels), value, applies, amount, note))
    total = sum((x.amount for x in lines), Decimal("0.00"))
    ceiling = credit_of(invoiced, table.cap) if table.cap is not None else None
    capped = ceiling is not None and total > ceiling
    return Credits(period, invoiced, lines, ceiling if capped else total, capped)


def invoiced(db: Session, project: Project, periods: list[Period]) -> dict[Period, Decimal]:
    """Each period's invoiced amount, from one query over the decisions of all of them."""
    if not periods:
        return {}
    start, end = min(p.start for p in periods), max(p.end for p in periods)
    lo = datetime.combine(start - timedelta(days=1), time.min, tzinfo=UTC)
    hi = datetime.combine(end + timedelta(days=2), time.min, tzinfo=UTC)
    rows = db.exec(
        select(
            Decision.decided_at,
            Decision.outcome,
            Decision.closes_id,
            Deliverable.payment_amount,
            Deliverable.holdback_pct,
        )
        .join(Deliverable, col(Deliverable.id) == Decision.deliverable_id)
        .where(
            Deliverable.project_id == project.id,
            col(Deliverable.payment_amount).is_not(None),
            col(Decision.outcome) != Outcome.REJECTED,
            col(Decision.decided_at) >= lo,
            col(Decision.decided_at) < hi,
        )
    ).all()
    day = scorecard.local_day(project)
    by_day: dict[date, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for at, outcome, closes_id, payment, holdback_pct in rows:
        by_day[day(at)] += approved_for_payment(payment, holdback_pct, outcome, closes_id)
    return {
        p: sum((v for d, v in by_day.items() if p.start <= d <= p.end), Decimal("0.00")).quantize(CENT) for p in periods
    }


def _shown(value: float | None, unit: str) -> Decimal | None:
    """A computed metric in the unit its rules are written in: a rate in percent."""
    if value is None:
        return None
    return Decimal(repr(value)) * (100 if unit == "rate" else 1)


def reported_in(period: Period, rows: list[Row]) -> dict[str, tuple[Decimal | None, str]]:
    """Each reported measure's figure for the period: a month's figure belongs to the period holding its last day,
    and counts towards credits only once the State has verified it."""
    out: dict[str, tuple[Decimal | None, str]] = {}
    for r in rows:
        if period.start <= month_end(r.figure.month) <= period.end:
            if r.figure.status == FigureStatus.VERIFIED:
                out[f"{REPORTED}{r.measure.id}"] = (r.figure.value, "")
            else:
                out[f"{REPORTED}{r.measure.id}"] = (None, f"{r.status_label.lower()}: no credit until verified")
    return out


def for_card(
    db: Session, project: Project, card: scorecard.Card, rows: list[Row], labels: dict[str, str]
) -> list[Credits]:
    """The credits of each period of the card's trend, oldest first (the last is the card's period)."""
    table = table_of(project)
    amounts = invoiced(db, project, card.periods)
    out = []
    for i, period in enumerate(card.periods):
        values = {m.key: (_shown(m.trend[i], m.unit), "") for m in card.metrics} | reported_in(period, rows)
        out.append(compute(table, period, amounts[period], values, labels))
    return out


def for_period(db: Session, project: Project, period: Period, metrics: list[scorecard.Metric], rows: list[Row], labels):
    """The credits of one period (the status report's)."""
    values = {m.key: (_shown(m.value, m.unit), "") for m in metrics} | reported_in(period, rows)
    return compute(table_of(project), period, invoiced(db, project, [period])[period], values, labels)


def as_content(c: Credits) -> dict[str, Any]:
    """JSON-ready, amounts as text (cents exact): what a status report's snapshot stores."""
    return {
        "invoiced": str(c.invoiced),
        "total": str(c.total),
        "capped": c.capped,
        "lines": [
            {
                "rule": x.text,
                "value": x.shown,
                "applies": x.applies,
                "amount": str(x.amount),
                "note": x.note,
            }
            for x in c.lines
        ],
    }


# --- the settings form ------------------------------------------------------------------------------------------


def form_values(project: Project) -> dict[str, Any]:
    table = table_of(project)
    values: dict[str, Any] = {"version": project.version, "cap": "" if table.cap is None else f"{table.cap:f}"}
    for i, r in enumerate(table.rules):
        values |= {
            f"credit-{i}-metric": r.metric,
            f"credit-{i}-comparison": r.comparison,
            f"credit-{i}-threshold": f"{r.threshold.normalize():f}",
            f"credit-{i}-percent": f"{r.percent.normalize():f}",
        }
    values["rows"] = len(table.rules) + BLANK_ROWS
    return values


def _decimal(raw: str, low: Decimal, high: Decimal) -> Decimal:
    try:
        value = Decimal(raw.replace(",", "").removesuffix("%").strip())
    except InvalidOperation:
        raise ValueError("Enter a number.") from None
    if not value.is_finite() or not low <= value <= high:
        raise ValueError(f"Enter a number from {low} to {high}.")
    return value


def parse(data: dict[str, Any], allowed: dict[str, str]) -> CreditTable:
    """The table from the form: a row with no measure chosen is left out; errors name the field they belong to."""
    rules, errors = [], {}
    indexes = sorted({int(k.split("-")[1]) for k in data if k.startswith("credit-") and k.split("-")[1].isdigit()})
    for i in indexes:
        raw = {
            f: str(data.get(f"credit-{i}-{f}") or "").strip() for f in ("metric", "comparison", "threshold", "percent")
        }
        if not raw["metric"]:
            continue
        if raw["metric"] not in allowed:
            errors[f"credit-{i}-metric"] = "Choose one of the listed measures."
        if raw["comparison"] not in COMPARISONS:
            errors[f"credit-{i}-comparison"] = "Choose below or above."
        values = {}
        for field, high in (("threshold", Decimal(10**9)), ("percent", Decimal(100))):
            try:
                values[field] = _decimal(raw[field], Decimal(0) if field == "percent" else -high, high)
            except ValueError as exc:
                errors[f"credit-{i}-{field}"] = str(exc)
        if not any(k.startswith(f"credit-{i}-") for k in errors):
            rules.append(Rule(raw["metric"], raw["comparison"], values["threshold"], values["percent"]))
    cap = None
    if raw_cap := str(data.get("cap") or "").strip():
        try:
            cap = _decimal(raw_cap, Decimal(0), Decimal(100))
        except ValueError as exc:
            errors["cap"] = str(exc)
    if errors:
        raise FormError(errors)
    return CreditTable(rules, cap)


def _text(table: CreditTable, labels: dict[str, str]) -> str:
    lines = [describe(r, labels) for r in table.rules]
    if table.cap is not None:
        lines.append(f"at most {table.cap.normalize():f}% of the invoiced amount in a period")
    return "; ".join(lines) or "none"


def update(db: Session, actor: Principal, access: Access, data: dict[str, Any], labels: dict[str, str]) -> Project:
    access.require(Perm.MANAGE)
    project = access.project
    table = parse(data, labels)
    version = str(data.get("version") or "")
    before = table_of(project)
    project.check_seen(int(version) if version.isdigit() else None, form_values(project))
    project.service_credits = to_json(table)
    if _text(before, labels) != _text(table, labels):
        audit.record(
            db,
            actor_id=actor.id,
            entity=project,
            project_id=project.id,
            label=project.key,
            action="service_credits",
            changes={"credits": [_text(before, labels), _text(table, labels)]},
        )
    db.add(project)
    db.flush()
    return project
