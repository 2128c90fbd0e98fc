"""The deliverables timeline: each deliverable's dates (due, moved by a change request, submitted, under review,
decided, conditions due) for one project or across the portfolio, in a fixed number of queries, and the day scale
the template draws them on as SVG."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, model_validator
from sqlalchemy import and_, exists, func, or_
from sqlmodel import Session, col, select

from tracker import clocks
from tracker.accounts.service import Principal
from tracker.audit import versions
from tracker.core import memo
from tracker.core.clock import latest_today
from tracker.core.db import detach
from tracker.core.errors import FormError
from tracker.core.forms import Form, OptionalDate
from tracker.core.web import show_date
from tracker.deliverables.models import Condition, Decision, Deliverable, Outcome, Submission
from tracker.deliverables.workflow import OPEN, Status
from tracker.projects.calendar import project_today
from tracker.projects.models import Project
from tracker.projects.permissions import Perm, perms_for
from tracker.projects.service import Access, visible_projects
from tracker.register.changes import service as changes

MAX_DAYS = 3 * 366  # the longest range one figure covers
AROUND_DAYS = 90  # the "last 90 days and next 90" preset, either side of today
PX_PER_DAY = 4  # the figure grows with its range and scrolls inside its own box
LANES = 80  # deliverables on a project's timeline (the first by due date; the page says how many more)
BAND_LANES = 12  # per project on the portfolio's
LABEL_WIDTH = {False: 240, True: 180}  # the column of lane labels; True: the portfolio's compact lanes


class Preset(StrEnum):
    CONTRACT = "contract"
    AROUND = "around"


PRESET_LABELS = {Preset.CONTRACT: "Whole contract", Preset.AROUND: "Last 90 days and next 90"}


class Show(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    ALL = "all"


SHOWS: dict[Show, tuple[str, frozenset[str] | None]] = {  # label, statuses (None: every one)
    Show.OPEN: ("Open", frozenset(OPEN)),
    Show.ACCEPTED: ("Accepted", frozenset({Status.ACCEPTED})),
    Show.ALL: ("All", None),
}

OUTCOMES = {  # outcome -> (letter, words); the shape is the template's, per outcome
    Outcome.ACCEPTED: ("A", "Accepted"),
    Outcome.CONDITIONALLY_ACCEPTED: ("C", "Accepted with conditions"),
    Outcome.REJECTED: ("R", "Rejected"),
    Outcome.DEEMED_ACCEPTED: ("D", "Deemed accepted"),
}


class RangeForm(Form):
    """The timeline's query: a preset, or a range of days from `from` to `to`, and which deliverables."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore", populate_by_name=True)
    labels = {"from": "From", "to": "To", "range": "Range", "status": "Show"}

    start: OptionalDate = Field(default=None, alias="from")
    end: OptionalDate = Field(default=None, alias="to")
    range: Preset = Preset.AROUND  # readable at a laptop's width without scrolling
    status: Show = Show.OPEN

    @model_validator(mode="after")
    def _order(self) -> RangeForm:
        if self.start and self.end:
            if self.start > self.end:
                raise FormError({"from": "The range starts after it ends: give a first day on or before the last."})
            if (self.end - self.start).days > MAX_DAYS:
                raise FormError({"to": "A timeline covers at most three years: choose a shorter range."})
        return self


@dataclass(frozen=True)
class Span:
    start: date
    end: date
    note: str = ""  # what was shown instead of what was asked (no contract dates; a contract over three years)
    kept: tuple | None = None  # the key of what is drawn over the span: the page keeps its markup under it ({% kept %})


def span_of(form: RangeForm, today: date, starts: Iterable[date | None], ends: Iterable[date | None]) -> Span:
    """The days to draw: the range asked for, else the preset; `starts`/`ends` are the contracts' dates."""
    if form.start or form.end:  # one end alone: half a year from it
        start = form.start or form.end - timedelta(days=2 * AROUND_DAYS)
        return Span(start, form.end or start + timedelta(days=2 * AROUND_DAYS))
    around = Span(today - timedelta(days=AROUND_DAYS), today + timedelta(days=AROUND_DAYS))
    if form.range == Preset.AROUND:
        return around
    first, last = [d for d in starts if d], [d for d in ends if d]
    if not first or not last or min(first) > max(last):
        return Span(around.start, around.end, "No contract dates are set: showing 90 days either side of today.")
    start, end = min(first), max(last)
    if (end - start).days > MAX_DAYS:
        return Span(
            start,
            start + timedelta(days=MAX_DAYS),
            "The contract runs over three years: showing its first three; choose dates to see the rest.",
        )
    return Span(start, end)


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Scale:
    """Days to x: one day is PX_PER_DAY pixels, after the column of lane labels."""

    start: date
    end: date
    left: int

    @property
    def width(self) -> int:
        return self.left + ((self.end - self.start).days + 1) * PX_PER_DAY + 12

    def within(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    def x(self, day: date) -> float:
        """The middle of `day`, held inside the range."""
        day = min(max(day, self.start), self.end)
        return self.left + (day - self.start).days * PX_PER_DAY + PX_PER_DAY / 2

    def months(self) -> list[Tick]:
        first = self.start.replace(day=1)
        days = [first] if first == self.start else []
        while True:
            first = (first + timedelta(days=32)).replace(day=1)
            if first > self.end:
                break
            days.append(first)
        return [
            Tick(self.x(d) - PX_PER_DAY / 2, d.strftime("%b %Y" if d.month == 1 or d == days[0] else "%b"))
            for d in days
        ]

    def weeks(self) -> list[float]:
        monday = self.start + timedelta(days=-self.start.weekday() % 7)
        return [self.x(monday + timedelta(weeks=n)) - PX_PER_DAY / 2 for n in range((self.end - monday).days // 7 + 1)]


# --- the lanes --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    number: int
    submitted_on: date
    review_due: date  # the end of its review window, as the review clock set it at submission
    review_overdue: bool  # the window is the running one and has passed


@dataclass(frozen=True)
class Verdict:
    outcome: str
    on: date
    version: int
    closes: bool  # "conditions met": the acceptance that closes a conditional one

    @property
    def letter(self) -> str:
        return OUTCOMES[self.outcome][0]

    @property
    def words(self) -> str:
        return "Conditions met: accepted" if self.closes else OUTCOMES[self.outcome][1]


@dataclass(frozen=True)
class ConditionDue:
    """The conditions one decision set, due on one day."""

    due: date
    texts: list[str]
    met: int  # how many of them are met
    overdue: bool


@dataclass(frozen=True)
class Mark:
    """One mark on a lane, where the figure draws it: `kind` names its shape (a symbol of the template), `tip` is its
    tooltip, `text` the number, letter or words drawn with it; a window or a move runs from `x` to `x2`."""

    kind: str
    x: float
    tip: str
    text: str = ""
    x2: float = 0.0
    change_id: int = 0  # a move: the change request that made it


@dataclass
class Lane:
    deliverable: Deliverable
    due_overdue: bool  # the delivery clock has passed
    moves: list[changes.Moved] = field(default_factory=list)  # those that moved the due date, oldest first
    versions: list[Version] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    conditions: list[ConditionDue] = field(default_factory=list)

    def marks(self, scale: Scale) -> list[Mark]:
        """What falls in the range, in drawing order: windows under the points, decisions on top."""
        d, x, on = self.deliverable, scale.x, show_date  # in the reader's date format
        out = []
        for v in self.versions:
            if v.submitted_on <= scale.end and v.review_due >= scale.start:
                late = " (overdue)" if v.review_overdue else ""
                tip = f"Version {v.number} review window: submitted {on(v.submitted_on)}, review due {on(v.review_due)}"
                kind = "window_late" if v.review_overdue else "window"
                out.append(Mark(kind, x(v.submitted_on), tip + late, x2=x(v.review_due)))
        for m in self.moves:
            if min(m.due_before, m.due_after) <= scale.end and max(m.due_before, m.due_after) >= scale.start:
                tip = f"Due {on(m.due_before)}, moved to {on(m.due_after)} by {m.code}"
                kind = "moved" if scale.within(m.due_before) else "moved_from_outside"
                out.append(Mark(kind, x(m.due_before), tip, f"moved by {m.code}", x(m.due_after), m.change_id))
        if scale.within(d.due_date):
            late = " (overdue: not yet submitted)" if self.due_overdue else ""
            out.append(Mark("due_late" if late else "due", x(d.due_date), f"{d.code} due {on(d.due_date)}{late}"))
        for c in self.conditions:
            if scale.within(c.due):
                n = len(c.texts)
                tip = f"{n} condition{'s' if n != 1 else ''} due {on(c.due)}, {c.met} met"
                tip += f"{' (overdue)' if c.overdue else ''}: {'; '.join(c.texts)}"
                out.append(Mark("condition_met" if c.met == n else "condition", x(c.due), tip))
        for v in self.versions:
            if scale.within(v.submitted_on):
                tip = f"Version {v.number} submitted {on(v.submitted_on)}"
                out.append(Mark("submission", x(v.submitted_on), tip, str(v.number)))
        for verdict in self.verdicts:
            if scale.within(verdict.on):
                tip = f"Version {verdict.version}: {verdict.words} on {on(verdict.on)}"
                out.append(Mark(verdict.outcome, x(verdict.on), tip, verdict.letter))
        return out

    def short_title(self, length: int) -> str:
        title = self.deliverable.title
        return title if len(title) <= length else title[: length - 1].rstrip() + "…"


@dataclass
class Band:
    project: Project
    today: date
    lanes: list[Lane]
    total: int  # deliverables in range and filter; more than the lanes when capped


def _local(project: Project, at: datetime) -> date:
    return project_today(project, at.replace(tzinfo=at.tzinfo or UTC))


def _relevant(span: Span) -> Any:
    """A deliverable belongs on the figure when its due date, a submission or review window, a decision or a condition
    falls in the range (a day either side, for instants read in the project's zone)."""
    start = datetime.combine(span.start - timedelta(days=1), time.min, UTC)
    end = datetime.combine(span.end + timedelta(days=2), time.min, UTC)
    return or_(
        and_(col(Deliverable.due_date) >= span.start, col(Deliverable.due_date) <= span.end),
        exists().where(
            Submission.deliverable_id == Deliverable.id,
            Submission.submitted_at < end,
            Submission.review_due >= span.start,
        ),
        exists().where(
            Decision.deliverable_id == Deliverable.id, Decision.decided_at >= start, Decision.decided_at < end
        ),
        exists().where(
            Condition.deliverable_id == Deliverable.id, Condition.due_date >= span.start, Condition.due_date <= span.end
        ),
    )


def bands(db: Session, accesses: list[Access], span: Span, show: Show, lanes: int) -> list[Band]:
    """A band per project, in the order given, each with its first `lanes` deliverables in range by due date: five
    queries, whatever the number of projects and deliverables."""
    if not accesses:
        return []
    by_project = {a.project.id: a.project for a in accesses}
    statuses = SHOWS[show][1]
    where = [col(Deliverable.project_id).in_(by_project), _relevant(span)]
    if statuses is not None:
        where.append(col(Deliverable.status).in_(sorted(statuses)))
    order = (col(Deliverable.due_date).is_(None), Deliverable.due_date, Deliverable.code)
    ranked = (
        select(
            Deliverable.id,
            func.row_number().over(partition_by=Deliverable.project_id, order_by=order).label("n"),
            func.count().over(partition_by=Deliverable.project_id).label("total"),
        )
        .where(*where)
        .subquery()
    )
    rows = db.exec(
        select(Deliverable, ranked.c.total)
        .join(ranked, ranked.c.id == Deliverable.id)
        .where(ranked.c.n <= lanes)
        .order_by(Deliverable.project_id, ranked.c.n)
    ).all()
    today = {pid: project_today(p) for pid, p in by_project.items()}
    out = {pid: Band(p, today[pid], [], 0) for pid, p in by_project.items()}
    lane_of: dict[int, Lane] = {}
    for d, total in rows:
        lane_of[d.id] = lane = Lane(d, clocks.DELIVERY.overdue(d, today[d.project_id]))
        out[d.project_id].lanes.append(lane)
        out[d.project_id].total = total
    if lane_of:
        _fill(db, accesses, lane_of, by_project, today)
    return list(out.values())


def _fill(
    db: Session, accesses: list[Access], lane_of: dict[int, Lane], projects: dict[int, Project], today: dict[int, date]
) -> None:
    ids = list(lane_of)
    numbers: dict[int, int] = {}  # submission id -> version number
    for sid, did, number, at, review_due in db.exec(
        select(
            Submission.id, Submission.deliverable_id, Submission.number, Submission.submitted_at, Submission.review_due
        )
        .where(col(Submission.deliverable_id).in_(ids))
        .order_by(Submission.deliverable_id, Submission.number)
    ):
        lane = lane_of[did]
        d = lane.deliverable
        running = number == d.current_version and clocks.REVIEW.overdue(d, today[d.project_id])
        lane.versions.append(Version(number, _local(projects[d.project_id], at), review_due, running))
        numbers[sid] = number
    for did, sid, outcome, at, closes in db.exec(
        select(
            Decision.deliverable_id, Decision.submission_id, Decision.outcome, Decision.decided_at, Decision.closes_id
        )
        .where(col(Decision.deliverable_id).in_(ids))
        .order_by(Decision.deliverable_id, Decision.decided_at, Decision.id)
    ):
        lane = lane_of[did]
        on = _local(projects[lane.deliverable.project_id], at)
        lane.verdicts.append(Verdict(outcome, on, numbers.get(sid, 0), bool(closes)))
    groups: dict[tuple[int, int, date], list[Condition]] = {}
    for c in db.exec(
        select(Condition)
        .where(col(Condition.deliverable_id).in_(ids))
        .order_by(Condition.deliverable_id, Condition.decision_id, Condition.due_date, Condition.position)
    ):
        groups.setdefault((c.deliverable_id, c.decision_id, c.due_date), []).append(c)
    for (did, _, due), conds in groups.items():
        day = today[lane_of[did].deliverable.project_id]
        lane_of[did].conditions.append(
            ConditionDue(
                due,
                [f"{c.position}. {c.text}" for c in conds],
                sum(1 for c in conds if c.met_at is not None),
                any(clocks.CONDITION.overdue(c, day) for c in conds),
            )
        )
    for did, moves in changes.moved_across(db, accesses, ids).items():
        lane_of[did].moves = [m for m in moves if m.due_before and m.due_after and m.due_before != m.due_after]


# --- the two pages ------------------------------------------------------------------------------------------------


def _kept_bands(db: Session, accesses: list[Access], span: Span, show: Show, lanes: int) -> list[Band]:
    """The bands, kept under the span's key (tracker.core.memo) and shared by the requests that read them: their
    deliverables are taken out of this request's session (no relationship is ever read from them, and nothing of a
    later request can expire them), and each band is handed out with this request's own project."""

    def compute() -> list[Band]:
        out = bands(db, accesses, span, show, lanes)
        detach(db, (lane.deliverable for band in out for lane in band.lanes))
        return out

    by_id = {a.project.id: a.project for a in accesses}
    return [replace(b, project=by_id[b.project.id]) for b in memo.kept(span.kept, compute)]


def _kept(db: Session, accesses: list[Access], span: Span, show: Show, lanes: int) -> Span:
    """The span with the key of what its figure draws: the projects as this reader may see them (the role decides
    which change requests move a date), each project's day, the range, the filter and the data's versions."""
    seen = tuple((a.project.id, a.project.version, a.perms, project_today(a.project)) for a in accesses)
    key = ("timeline", seen, span.start, span.end, show, lanes, *versions.of(db, [a.project.id for a in accesses]))
    return replace(span, kept=key)


def for_project(db: Session, access: Access, form: RangeForm) -> tuple[Span, Band]:
    p = access.project
    span = _kept(db, [access], span_of(form, project_today(p), [p.start_date], [p.end_date]), form.status, LANES)
    return span, _kept_bands(db, [access], span, form.status, LANES)[0]


def portfolio_accesses(db: Session, user: Principal) -> list[Access]:
    """Every project the reader may see deliverables of, in one query."""
    accesses = [
        Access(r.project, r.role, user.is_admin, perms_for(r.role, user.is_admin)) for r in visible_projects(db, user)
    ]
    return [a for a in accesses if a.can(Perm.VIEW)]


def for_portfolio(db: Session, user: Principal, form: RangeForm) -> tuple[Span, list[Band]]:
    accesses = portfolio_accesses(db, user)
    today = max((project_today(a.project) for a in accesses), default=None) or latest_today()
    span = span_of(form, today, [a.project.start_date for a in accesses], [a.project.end_date for a in accesses])
    span = _kept(db, accesses, span, form.status, BAND_LANES)
    return span, _kept_bands(db, accesses, span, form.status, BAND_LANES)
