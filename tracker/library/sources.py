"""What a saved report may ask of each source (deliverables, risks, issues, change requests, lessons, decisions, meetings, action items): the fields a user may
show, filter and sort by — each a SQL expression taken from the owning domain's rules, so a figure here equals the
same figure on the register, the record and the status report — the operators each kind of field allows, and the
versioned definition a report stores, validated field by field. No SQL text ever comes from input."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field as PydField
from pydantic import ValidationError
from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import col

from tracker import clocks
from tracker.accounts.models import User
from tracker.core.clock import as_utc
from tracker.core.errors import FormError
from tracker.core.forms import ApiBody
from tracker.core.web import label
from tracker.deliverables import service as deliverables
from tracker.deliverables.models import Deliverable, DeliverableType
from tracker.deliverables.workflow import STATUS_LABELS, Status
from tracker.projects.permissions import Perm
from tracker.register.actions.models import ActionItem, Plan
from tracker.register.changes import service as changes
from tracker.register.changes.models import PENDING, ChangeRequest, ChangeStatus
from tracker.register.custom.models import CustomField, CustomValue, FieldType
from tracker.register.decisions.models import LoggedDecision
from tracker.register.issues import service as issues
from tracker.register.issues.models import EscalationLevel, Issue, IssueStatus, Priority
from tracker.register.kinds import KINDS
from tracker.register.kinds import Kind as RegisterKind
from tracker.register.lessons.models import Lesson, LessonCategory
from tracker.register.meetings.models import Meeting, MeetingType
from tracker.register.risks import scoring
from tracker.register.risks import service as risks
from tracker.register.risks.models import Category, Proximity, RegisterSettings, Risk, RiskStatus, Strategy


class Kind(StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    DATE = "date"
    NUMBER = "number"
    PERSON = "person"
    FLAG = "flag"


OPERATORS: dict[Kind, tuple[str, ...]] = {
    Kind.TEXT: ("contains", "equals", "is_empty"),
    Kind.CHOICE: ("in", "equals"),
    Kind.DATE: ("before", "after", "between", "is_empty"),
    Kind.NUMBER: ("gte", "lte", "equals"),
    Kind.PERSON: ("equals", "is_empty"),
    Kind.FLAG: ("equals",),
}
OPERATOR_LABELS = {
    "contains": "contains",
    "equals": "is",
    "in": "is one of",
    "is_empty": "is empty",
    "before": "is before",
    "after": "is after",
    "between": "is between",
    "gte": "is at least",
    "lte": "is at most",
}
PAGE_SIZES = (10, 25, 50, 100, 200)
MAX_COLUMNS, MAX_FILTERS, MAX_SORTS = 30, 20, 3
ME = "me"  # a person filter's value meaning whoever runs the report
RELATIVE_DATE = re.compile(r"^today(?:([+-])(\d{1,4}))?$")


@dataclass(frozen=True)
class Ctx:
    """What a run knows besides the definition: the project's calendar day (and its zone, whose midnights a day
    filter on a moment counts from), who reads, the zone they read times in (core.web.zone_for: their own, else the
    project's), the register settings."""

    today: date
    reader_id: int
    settings: RegisterSettings | None = None
    zone: str = "UTC"
    project_zone: str = "UTC"


def _plain(value: Any, ctx: Ctx) -> Any:
    """A cell: a moment as the reader's clock shows it (aware, in ctx.zone; the page names the zone, an export's header
    does), a day as a date (the page shows it in the reader's format, CSV and the API in ISO, XLSX as a date),
    anything else as it is."""
    if isinstance(value, datetime):  # stored in UTC; SQLite hands it back naive
        return as_utc(value).astimezone(ZoneInfo(ctx.zone))
    return "" if value is None else value


@dataclass(frozen=True)
class Field:
    label: str
    kind: Kind
    value: Callable[[Ctx], Any]  # the SQL selected, sorted and (unless `match`) filtered; a tuple: several
    show: Callable[[Any, Ctx], Any] = _plain  # the selected value as a cell
    match: Callable[[Ctx], Any] | None = None  # what filters compare instead (a person's id, not their name)
    choices: tuple[tuple[str, str], ...] = ()  # (value, label), in their natural order, which sorting follows
    clause: Callable[[str, Any, Ctx], Any] | None = None  # a filter the plain comparison cannot express
    order: Callable[[bool, Ctx], list[Any]] | None = None  # ordering when not by `value`
    decimals: bool = False
    sortable: bool = True
    filterable: bool = True
    moment: bool = False  # a time of day too (UTC in the database), not a day: shown in the reader's zone


def text(label_: str, column: Any, **kw: Any) -> Field:
    return Field(label_, Kind.TEXT, lambda _: column, **kw)


def choice(label_: str, column: Any, choices: dict[str, str], **kw: Any) -> Field:
    return Field(
        label_,
        Kind.CHOICE,
        lambda _: column,
        show=lambda v, _: choices.get(v, v or ""),
        choices=tuple(choices.items()),
        **kw,
    )


def when(label_: str, column: Any) -> Field:
    return Field(label_, Kind.DATE, lambda _: column)


def _moment_clause(column: Any) -> Callable[[str, Any, Ctx], Any]:
    """Day filters on a moment: the days are the project's, from its midnight (the same rows for every reader)."""

    def clause(op: str, value: Any, ctx: Ctx) -> Any:
        if op == "is_empty":
            return column.is_(None)

        def midnight(v: str, after: int = 0) -> datetime:
            day = resolve_date(v, ctx.today) + timedelta(days=after)
            return datetime.combine(day, time.min, ZoneInfo(ctx.project_zone)).astimezone(UTC)

        if op == "before":
            return column < midnight(value)
        if op == "after":
            return column >= midnight(value, after=1)
        return and_(column >= midnight(value[0]), column < midnight(value[1], after=1))  # between, both days in

    return clause


def moment(label_: str, column: Any) -> Field:
    """A stored moment (UTC): filtered by the project's days like a date, shown in the reader's zone."""
    return Field(label_, Kind.DATE, lambda _: column, clause=_moment_clause(column), moment=True)


def number(label_: str, expr: Callable[[Ctx], Any], **kw: Any) -> Field:
    return Field(label_, Kind.NUMBER, expr, **kw)


def person(label_: str, alias: Any, fk: Any) -> Field:
    return Field(label_, Kind.PERSON, lambda _: alias.full_name, match=lambda _: fk)


def flag(label_: str, rule: Callable[[Ctx], Any]) -> Field:
    """A yes/no from a domain rule (a SQL clause): selected as 1/0, so NULL comparisons count as no."""
    return Field(label_, Kind.FLAG, lambda ctx: case((rule(ctx), 1), else_=0), show=lambda v, _: "Yes" if v else "No")


def labels(enum: type[StrEnum], suffix: str = "") -> dict[str, str]:
    return {e.value: label(e.value) + suffix for e in enum}


# --- deliverables -------------------------------------------------------------------------------------------


def _days_overdue_clause(op: str, n: int, ctx: Ctx) -> Any:
    low = n if op in ("gte", "equals") else None
    high = n if op in ("lte", "equals") else None
    return clocks.days_past_clause(clocks.running_due_expr(), ctx.today, low, high)


def _days_overdue_order(descending: bool, ctx: Ctx) -> list[Any]:
    late = case((clocks.running_overdue_clause(ctx.today), clocks.running_due_expr()), else_=None)  # on time: 0 days
    # More days overdue means an earlier clock.
    return [late.asc().nulls_last()] if descending else [late.desc().nulls_first()]


Lead = aliased(User, name="lead")
DELIVERABLE_FIELDS = {
    "code": text("Code", Deliverable.code),
    "title": text("Title", Deliverable.title),
    "type": choice("Type", Deliverable.type, labels(DeliverableType)),
    "status": choice("Status", Deliverable.status, {s.value: STATUS_LABELS[s] for s in Status}),
    "owner": person("Review lead", Lead, Deliverable.owner_id),
    "due_date": when("Due date", Deliverable.due_date),
    "review_due": when("Review due", Deliverable.review_due),
    "resubmit_due": when("Resubmission due", Deliverable.resubmit_due),
    "days_overdue": Field(
        "Days overdue",
        Kind.NUMBER,
        lambda _: clocks.running_due_expr(),
        show=lambda clock, ctx: clocks.days_past(clock, ctx.today),
        clause=_days_overdue_clause,
        order=_days_overdue_order,
    ),
    "overdue": flag("Overdue", lambda ctx: clocks.running_overdue_clause(ctx.today)),
    "current_version": number("Current version", lambda _: Deliverable.current_version),
    "open_critical": number("Open critical comments", lambda _: deliverables.open_critical_count()),
    "payment_amount": number("Payment amount", lambda _: Deliverable.payment_amount, decimals=True),
    "holdback_pct": number("Holdback %", lambda _: Deliverable.holdback_pct, decimals=True),
    "deemed_on": when("Deemed accepted on", Deliverable.deemed_on),
    "updated_at": moment("Updated", Deliverable.updated_at),
}


# --- risks ---------------------------------------------------------------------------------------------------


def _level_clause(op: str, value: str | list[str], _ctx: Ctx) -> Any:
    wanted = value if isinstance(value, list) else [value]
    return or_(*(scoring.level_clause(Risk, scoring.Level(v)) for v in wanted))


RiskOwner = aliased(User, name="risk_owner")
RISK_FIELDS = {
    "code": text("Code", Risk.code),
    "title": text("Title", Risk.title),
    "statement": text("Risk statement", Risk.statement),
    "category": choice("Category", Risk.category, labels(Category)),
    "probability": number("Probability", lambda _: Risk.probability),
    "impact": number("Impact", lambda _: Risk.impact),
    "score": number("Score", lambda _: scoring.score_expr(Risk)),
    "level": Field(
        "Level",
        Kind.CHOICE,
        lambda _: scoring.score_expr(Risk),
        show=lambda s, _: scoring.LEVEL_LABELS[scoring.level_for_score(s)],
        choices=tuple((lv.value, text_) for lv, text_ in scoring.LEVEL_LABELS.items()),
        clause=_level_clause,
    ),  # sorted by score
    "proximity": choice("Proximity", Risk.proximity, labels(Proximity, " term")),
    "owner": person("Owner", RiskOwner, Risk.owner_id),
    "response": choice("Response strategy", Risk.response, labels(Strategy)),
    "status": choice("Status", Risk.status, labels(RiskStatus)),
    "next_review_date": when("Next review", Risk.next_review_date),
    "last_reviewed_on": when("Last reviewed", Risk.last_reviewed_on),
    "raised_on": when("Raised on", Risk.raised_on),
    "due_for_review": flag("Due for review", lambda ctx: clocks.RISK_REVIEW.due_clause(ctx.today)),
    "open_actions": number("Open actions", lambda _: risks.open_actions_count()),
    "open_mitigation_actions": number(
        "Open mitigation actions", lambda _: risks.open_actions_count(Plan.MITIGATION.value)
    ),
    "overdue_actions": number("Overdue actions", lambda ctx: risks.overdue_actions_count(ctx.today)),
    "updated_at": moment("Updated", Risk.updated_at),
}


# --- issues --------------------------------------------------------------------------------------------------

IssueOwner = aliased(User, name="issue_owner")
FromRisk = aliased(Risk, name="from_risk")
ISSUE_FIELDS = {
    "code": text("Code", Issue.code),
    "title": text("Title", Issue.title),
    "description": text("Description", Issue.description),
    "priority": choice("Priority", Issue.priority, labels(Priority)),
    "status": choice("Status", Issue.status, labels(IssueStatus)),
    "escalation_level": choice("Escalation level", Issue.escalation_level, labels(EscalationLevel)),
    "owner": person("Owner", IssueOwner, Issue.owner_id),
    "need_by": when("Need by", Issue.need_by),
    "raised_on": when("Raised on", Issue.raised_on),
    "resolved_on": when("Resolved on", Issue.resolved_on),
    "age": Field(
        "Age (days)",
        Kind.NUMBER,
        lambda _: (Issue.raised_on, Issue.resolved_on),
        show=lambda v, ctx: issues.age_of(v[0], v[1], ctx.today),
        sortable=False,
        filterable=False,
    ),
    "overdue": flag("Overdue", lambda ctx: clocks.ISSUE.overdue_clause(ctx.today)),
    "needs_escalation": flag("Flagged for escalation", lambda ctx: issues.escalation_clause(ctx.settings, ctx.today)),
    "open_actions": number("Open actions", lambda _: issues.open_actions_count()),
    "from_risk": text("From risk", FromRisk.code),
    "updated_at": moment("Updated", Issue.updated_at),
}


# --- change requests -----------------------------------------------------------------------------------------

ChangeRaiser = aliased(User, name="change_raiser")
CHANGE_FIELDS = {
    "code": text("Code", ChangeRequest.code),
    "title": text("Title", ChangeRequest.title),
    "description": text("Description", ChangeRequest.description),
    "reason": text("Reason", ChangeRequest.reason),
    "requested_by": choice("Requested by", ChangeRequest.requested_by, changes.WORDS["requested_by"]),
    "status": choice("Status", ChangeRequest.status, labels(ChangeStatus)),
    "cost_impact": number("Cost impact", lambda _: ChangeRequest.cost_impact, decimals=True),
    "schedule_impact": number("Schedule impact (business days)", lambda _: ChangeRequest.schedule_impact),
    "scope_impact": text("Scope impact", ChangeRequest.scope_impact),
    "raised_by": person("Raised by", ChangeRaiser, ChangeRequest.raised_by_id),
    "raised_on": when("Raised on", ChangeRequest.raised_on),
    "submitted_on": when("Submitted on", ChangeRequest.submitted_on),
    "decided_on": when("Decided on", ChangeRequest.decided_on),
    "awaiting_decision": flag("Awaiting a decision", lambda _: col(ChangeRequest.status).in_(PENDING)),
    "updated_at": moment("Updated", ChangeRequest.updated_at),
}


# --- lessons learned -----------------------------------------------------------------------------------------

LessonOwner = aliased(User, name="lesson_owner")
LESSON_FIELDS = {
    "code": text("Code", Lesson.code),
    "title": text("What happened", Lesson.title),
    "description": text("Description", Lesson.description),
    "impact": text("Impact", Lesson.impact),
    "recommendation": text("Recommendation", Lesson.recommendation),
    "category": choice("Category", Lesson.category, labels(LessonCategory)),
    "phase": text("Phase", Lesson.phase),
    "owner": person("Owner", LessonOwner, Lesson.owner_id),
    "recorded_on": when("Recorded on", Lesson.recorded_on),
    "updated_at": moment("Updated", Lesson.updated_at),
}


# --- meetings ---------------------------------------------------------------------------------------------

MeetingChair = aliased(User, name="meeting_chair")
MEETING_FIELDS = {
    "code": text("Code", Meeting.code),
    "title": text("Title", Meeting.title),
    "held_on": when("Held on", Meeting.held_on),
    "meeting_type": choice("Kind of meeting", Meeting.meeting_type, labels(MeetingType)),
    "chair": person("Chair", MeetingChair, Meeting.owner_id),
    "external_attendees": text("Others who attended", Meeting.external_attendees),
    "agenda": text("Agenda", Meeting.agenda),
    "notes": text("Notes", Meeting.notes),
    "updated_at": moment("Updated", Meeting.updated_at),
}


# --- the decision log ----------------------------------------------------------------------------------------

Decider = aliased(User, name="decision_decider")
DECISION_FIELDS = {
    "code": text("Code", LoggedDecision.code),
    "title": text("Decision", LoggedDecision.title),
    "context": text("Context", LoggedDecision.context),
    "options": text("Options considered", LoggedDecision.options),
    "decided_by": text("Decided by", LoggedDecision.decided_by),
    "decider": person("Decided by (member)", Decider, LoggedDecision.decided_by_id),
    "decided_on": when("Decided on", LoggedDecision.decided_on),
    "updated_at": moment("Updated", LoggedDecision.updated_at),
}


# --- action items --------------------------------------------------------------------------------------------

ActionOwner = aliased(User, name="action_owner")
ParentRisk = aliased(Risk, name="parent_risk")
ParentIssue = aliased(Issue, name="parent_issue")
ParentMeeting = aliased(Meeting, name="parent_meeting")
ACTION_FIELDS = {
    "description": text("Description", ActionItem.description),
    "parent": text("Risk, issue or meeting", func.coalesce(ParentRisk.code, ParentIssue.code, ParentMeeting.code)),
    "plan": choice("Plan", ActionItem.plan, labels(Plan)),
    "owner": person("Owner", ActionOwner, ActionItem.owner_id),
    "due_date": when("Due date", ActionItem.due_date),
    "done": flag("Done", lambda _: ActionItem.done_at.is_not(None)),
    "done_at": moment("Done at", ActionItem.done_at),
    "overdue": flag("Overdue", lambda ctx: clocks.ACTION.overdue_clause(ctx.today)),
}


# --- the sources ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    model: Any
    perm: Perm  # who may see its rows
    fields: dict[str, Field]
    joins: Callable[[Any], Any]  # the outer joins its fields read
    link: tuple[Any, ...]  # selected beside the columns, to link each row to its record
    href: Callable[[str, tuple], str]
    columns: tuple[str, ...]  # a new report's columns
    sort: tuple[str, bool]  # and its sort: (field, descending)
    noun: str = ""

    def filterable(self) -> list[tuple[str, Field]]:
        return [(k, f) for k, f in self.fields.items() if f.filterable]

    def sortable(self) -> list[tuple[str, Field]]:
        return [(k, f) for k, f in self.fields.items() if f.sortable]


def register_source(
    kind: RegisterKind,
    fields: dict[str, Field],
    joins: Callable[[Any], Any],
    columns: tuple[str, ...],
    sort: tuple[str, bool],
) -> Source:
    """A register kind as a source: its rows are the kind's records, seen by those who see the register, each
    linking to its page; the kind gives its fields, their joins and a new report's columns and sort."""
    return Source(
        kind.plural,
        f"{kind.label}s",
        kind.model,
        Perm.VIEW_REGISTER,
        fields,
        joins,
        (kind.model.id,),
        lambda key, ids: f"/projects/{key}/{kind.plural}/{ids[0]}",
        columns,
        sort,
        kind.noun,
    )


def custom_field(f: CustomField, model: Any) -> Field:
    """A project's custom field of a register kind (register/custom) as a report's column, filter and sort: its value
    read beside each record by a subquery on the value table's (field, record) index; a member by name (filtered by
    id), a multiple choice as its choices on one line (filtered by any of them)."""
    where = (CustomValue.field_id == f.id, CustomValue.record_id == model.id)

    def one(column: Any) -> Callable[[Ctx], Any]:
        return lambda _: select(column).where(*where).correlate(model).limit(1).scalar_subquery()

    if f.type == FieldType.NUMBER:
        return Field(f.label, Kind.NUMBER, one(CustomValue.number_value), show=_custom_number, decimals=True)
    if f.type == FieldType.DATE:
        return Field(f.label, Kind.DATE, one(CustomValue.date_value))
    if f.type == FieldType.USER:
        name = select(User.full_name).join(CustomValue, col(CustomValue.user_id) == User.id)
        return Field(
            f.label,
            Kind.PERSON,
            lambda _: name.where(*where).correlate(model).limit(1).scalar_subquery(),
            match=one(CustomValue.user_id),
        )
    if f.type == FieldType.CHOICE:
        return Field(f.label, Kind.CHOICE, one(CustomValue.text_value), choices=tuple(f.options))
    if f.type == FieldType.CHOICES:

        def any_of(op: str, value: Any, _ctx: Ctx) -> Any:
            if op == "is_empty":
                return ~exists().where(*where)
            return exists().where(
                *where, col(CustomValue.text_value).in_(value if isinstance(value, list) else [value])
            )

        joined = lambda _: (  # noqa: E731 - read once per row, as the other fields' values are
            select(func.aggregate_strings(CustomValue.text_value, "; "))
            .where(*where)
            .correlate(model)
            .scalar_subquery()
        )
        return Field(f.label, Kind.CHOICE, joined, choices=tuple(f.options), clause=any_of, sortable=False)
    return Field(f.label, Kind.TEXT, one(CustomValue.text_value))


def _custom_number(value: Any, _ctx: Ctx) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return "" if value is None else value


def with_custom(source: Source, fields: list[CustomField]) -> Source:
    """The source with these custom fields after its own, keyed cf_<key>."""
    if not fields:
        return source
    return replace(source, fields=source.fields | {f"cf_{f.key}": custom_field(f, source.model) for f in fields})


def _action_href(key: str, ids: tuple) -> str:
    risk_id, issue_id, meeting_id = ids
    if risk_id:
        return f"/projects/{key}/risks/{risk_id}"
    return f"/projects/{key}/issues/{issue_id}" if issue_id else f"/projects/{key}/meetings/{meeting_id}"


SOURCES: dict[str, Source] = {
    "deliverables": Source(
        "deliverables",
        "Deliverables",
        Deliverable,
        Perm.VIEW,
        DELIVERABLE_FIELDS,
        lambda s: s.outerjoin(Lead, Lead.id == Deliverable.owner_id),
        (Deliverable.id,),
        lambda key, ids: f"/projects/{key}/deliverables/{ids[0]}",
        ("code", "title", "status", "owner", "due_date", "days_overdue"),
        ("code", False),
        "deliverable",
    ),
    "risks": register_source(
        KINDS["risks"],
        RISK_FIELDS,
        lambda s: s.outerjoin(RiskOwner, RiskOwner.id == Risk.owner_id),
        ("code", "title", "score", "level", "owner", "status", "next_review_date"),
        ("score", True),
    ),
    "issues": register_source(
        KINDS["issues"],
        ISSUE_FIELDS,
        lambda s: s.outerjoin(IssueOwner, IssueOwner.id == Issue.owner_id).outerjoin(
            FromRisk, FromRisk.id == Issue.risk_id
        ),
        ("code", "title", "priority", "status", "owner", "need_by", "age"),
        ("priority", False),
    ),
    "changes": register_source(
        KINDS["changes"],
        CHANGE_FIELDS,
        lambda s: s.outerjoin(ChangeRaiser, ChangeRaiser.id == ChangeRequest.raised_by_id),
        ("code", "title", "requested_by", "status", "cost_impact", "schedule_impact", "decided_on"),
        ("code", False),
    ),
    "lessons": register_source(
        KINDS["lessons"],
        LESSON_FIELDS,
        lambda s: s.outerjoin(LessonOwner, LessonOwner.id == Lesson.owner_id),
        ("code", "title", "category", "phase", "recommendation", "recorded_on"),
        ("recorded_on", True),
    ),
    "decisions": register_source(
        KINDS["decisions"],
        DECISION_FIELDS,
        lambda s: s.outerjoin(Decider, Decider.id == LoggedDecision.decided_by_id),
        ("code", "title", "decided_by", "decided_on"),
        ("decided_on", True),
    ),
    "meetings": register_source(
        KINDS["meetings"],
        MEETING_FIELDS,
        lambda s: s.outerjoin(MeetingChair, MeetingChair.id == Meeting.owner_id),
        ("code", "title", "held_on", "meeting_type", "chair"),
        ("held_on", True),
    ),
    "actions": Source(
        "actions",
        "Action items",
        ActionItem,
        Perm.VIEW_REGISTER,
        ACTION_FIELDS,
        lambda s: (
            s.outerjoin(ActionOwner, ActionOwner.id == ActionItem.owner_id)
            .outerjoin(ParentRisk, ParentRisk.id == ActionItem.risk_id)
            .outerjoin(ParentIssue, ParentIssue.id == ActionItem.issue_id)
            .outerjoin(ParentMeeting, ParentMeeting.id == ActionItem.meeting_id)
        ),
        (ActionItem.risk_id, ActionItem.issue_id, ActionItem.meeting_id),
        _action_href,
        ("parent", "description", "owner", "due_date", "done", "overdue"),
        ("due_date", False),
        "action item",
    ),
}


# --- the stored definition -----------------------------------------------------------------------------------


class FilterDef(ApiBody):
    field: str = PydField(max_length=40)
    op: str = PydField(max_length=20)
    value: Any = None  # by kind: text, a choice or a list of them, a date (or today±N), a number, a person, yes/no


class SortDef(ApiBody):
    field: str = PydField(max_length=40)
    desc: bool = False


class Definition(ApiBody):
    """What a saved report stores. `format` numbers the shape, so a later change can read older reports."""

    format: Literal[1] = 1
    source: str = PydField(max_length=16)
    columns: list[str] = PydField(min_length=1, max_length=MAX_COLUMNS)
    filters: list[FilterDef] = PydField(default_factory=list, max_length=MAX_FILTERS)
    sort: list[SortDef] = PydField(default_factory=list, max_length=MAX_SORTS)
    page_size: int = 25


_STRUCTURE_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "Unknown field.",
    "too_short": "Choose at least one.",
    "literal_error": "Use format 1.",
}


def _structure_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "definition"
        message = _STRUCTURE_MESSAGES.get(err["type"]) or err["msg"].removeprefix("Value error, ").rstrip(".") + "."
        if err["type"] == "too_long":
            message = f"At most {err['ctx']['max_length']} {'characters' if 'string' in err['msg'] else 'entries'}."
        out.setdefault(key, message)
    return out


def parse_definition(raw: Any, sources: dict[str, Source] | None = None) -> Definition:
    """A definition checked against its source's catalog (`sources`: a project's, with its custom fields), with
    values normalised; FormError with one clear message per wrong part ("filters.1.value": ...) otherwise."""
    sources = sources or SOURCES
    try:
        d = Definition.model_validate(raw)
    except ValidationError as exc:
        raise FormError(_structure_errors(exc), "The report definition is not valid.") from exc
    source = sources.get(d.source)
    if source is None:
        raise FormError({"source": f"Choose what to report on: {', '.join(sources)}."}, "Unknown source.")
    errors: dict[str, str] = {}
    unknown = [c for c in d.columns if c not in source.fields]
    if unknown:
        errors["columns"] = f"{source.label} have no column {', '.join(repr(c) for c in unknown)}."
    elif len(set(d.columns)) != len(d.columns):
        errors["columns"] = "Show each column once."
    filters = []
    for i, f in enumerate(d.filters):
        fld = source.fields.get(f.field)
        if fld is None or not fld.filterable:
            errors[f"filters.{i}.field"] = f"{source.label} cannot be filtered by {f.field!r}."
        elif f.op not in OPERATORS[fld.kind]:
            allowed = ", ".join(OPERATOR_LABELS[o] for o in OPERATORS[fld.kind])
            errors[f"filters.{i}.op"] = f"{fld.label} can be filtered with: {allowed}."
        else:
            try:
                filters.append(FilterDef(field=f.field, op=f.op, value=clean_value(fld, f.op, f.value)))
            except ValueError as exc:
                errors[f"filters.{i}.value"] = str(exc)
    for i, s in enumerate(d.sort):
        fld = source.fields.get(s.field)
        if fld is None or not fld.sortable:
            errors[f"sort.{i}.field"] = f"{source.label} cannot be sorted by {s.field!r}."
    if d.page_size not in PAGE_SIZES:
        errors["page_size"] = f"Choose {', '.join(map(str, PAGE_SIZES))} rows a page."
    if errors:
        raise FormError(errors, "The report definition is not valid.")
    return d.model_copy(update={"filters": filters})


def _date_value(v: Any) -> str:
    s = str(v).strip().lower().replace(" ", "") if isinstance(v, (str, date)) else ""
    if RELATIVE_DATE.match(s):
        return s
    try:
        return date.fromisoformat(s).isoformat()
    except ValueError:
        raise ValueError("Enter a date as YYYY-MM-DD, or today, today-30, today+14") from None


def resolve_date(v: str, today: date) -> date:
    m = RELATIVE_DATE.match(v)
    if not m:
        return date.fromisoformat(v)
    sign, days = m.groups()
    return today + timedelta(days=int(days or 0) * (-1 if sign == "-" else 1))


def _number(v: Any, decimals: bool) -> int | float:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ValueError("Enter a number")
    try:
        n = Decimal(str(v).strip())
    except InvalidOperation:
        raise ValueError("Enter a number") from None
    if not n.is_finite() or abs(n) > 10**12:
        raise ValueError("Enter a number")
    if n != n.to_integral_value():
        if not decimals:
            raise ValueError("Enter a whole number")
        return float(n)
    return int(n)


def clean_value(fld: Field, op: str, v: Any) -> Any:
    """The filter value in its stored form, or ValueError saying what to enter."""
    if op == "is_empty":
        return None
    if op == "between":
        if not isinstance(v, list) or len(v) != 2:
            raise ValueError("Give two dates: from and to")
        start, end = _date_value(v[0]), _date_value(v[1])
        if not RELATIVE_DATE.match(start) and not RELATIVE_DATE.match(end) and start > end:
            raise ValueError("The first date is after the second")
        return [start, end]
    kind = fld.kind
    if kind == Kind.TEXT:
        s = str(v).strip() if isinstance(v, (str, int)) and not isinstance(v, bool) else ""
        if not s:
            raise ValueError("Enter the text to look for")
        if len(s) > 200:
            raise ValueError("Use at most 200 characters")
        return s
    if kind == Kind.CHOICE:
        allowed = dict(fld.choices)
        values = v if isinstance(v, list) else [] if v in (None, "") else [v]
        if not values or (op == "equals" and len(values) != 1):
            raise ValueError("Choose one value" if op == "equals" else "Choose at least one value")
        if any(not isinstance(x, str) or x not in allowed for x in values):
            raise ValueError(f"Choose from: {', '.join(allowed.values())}")
        return values[0] if op == "equals" else list(dict.fromkeys(values))
    if kind == Kind.DATE:
        return _date_value(v)
    if kind == Kind.NUMBER:
        return _number(v, fld.decimals)
    if kind == Kind.PERSON:
        if v == ME:
            return ME
        if isinstance(v, bool) or not str(v).strip().isdigit():
            raise ValueError("Choose a person, or “me” for whoever runs the report")
        return int(str(v).strip())
    if kind == Kind.FLAG:
        if v in (True, "true", "yes", "1", 1):
            return True
        if v in (False, "false", "no", "0", 0):
            return False
        raise ValueError("Choose yes or no")
    raise ValueError("Unsupported filter")  # pragma: no cover - every kind is handled above


# --- SQL from a definition ------------------------------------------------------------------------------------


def where_clause(fld: Field, f: FilterDef, ctx: Ctx) -> Any:
    """One filter as a SQL clause over bound parameters."""
    if fld.clause is not None:
        return fld.clause(f.op, f.value, ctx)
    expr, v = (fld.match or fld.value)(ctx), f.value
    if f.op == "is_empty":
        return or_(expr.is_(None), expr == "") if fld.kind == Kind.TEXT else expr.is_(None)
    if f.op == "contains":
        return func.lower(expr).contains(v.lower(), autoescape=True)
    if f.op == "in":
        return expr.in_(v)
    if f.op in ("before", "after"):
        day = resolve_date(v, ctx.today)
        return expr < day if f.op == "before" else expr > day
    if f.op == "between":
        return expr.between(resolve_date(v[0], ctx.today), resolve_date(v[1], ctx.today))
    if f.op == "gte":
        return expr >= v
    if f.op == "lte":
        return expr <= v
    # equals
    if fld.kind == Kind.TEXT:
        return func.lower(expr) == v.lower()
    if fld.kind == Kind.PERSON:
        return expr == (ctx.reader_id if v == ME else v)
    if fld.kind == Kind.FLAG:
        return expr == (1 if v else 0)
    return expr == v


def ordering(fld: Field, descending: bool, ctx: Ctx) -> list[Any]:
    if fld.order is not None:
        return fld.order(descending, ctx)
    expr = fld.value(ctx)
    if fld.kind == Kind.CHOICE and fld.clause is None:
        expr = case({v: n for n, (v, _) in enumerate(fld.choices)}, value=expr, else_=len(fld.choices))
    return [expr.desc().nulls_last() if descending else expr.asc().nulls_last()]


def describe(source: Source, d: Definition, people: dict[int, str] | None = None) -> list[str]:
    """The filters in words, for the report page: "Status is one of Open, Mitigating"."""
    out, people = [], people or {}
    for f in d.filters:
        fld = source.fields[f.field]
        names = dict(fld.choices)
        if f.op == "is_empty":
            value = ""
        elif f.op == "between":
            value = f" {f.value[0]} and {f.value[1]}"
        elif isinstance(f.value, list):
            value = " " + ", ".join(names.get(v, v) for v in f.value)
        elif fld.kind == Kind.FLAG:
            value = " yes" if f.value else " no"
        elif fld.kind == Kind.PERSON:
            value = " me (whoever runs the report)" if f.value == ME else f" {people.get(f.value, f'user {f.value}')}"
        else:
            value = f" {names.get(f.value, f.value)}"
        out.append(f"{fld.label} {OPERATOR_LABELS[f.op]}{value}")
    return out
