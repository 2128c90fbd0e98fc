"""The clocks table: every deadline the tracker runs, one row each (what starts it, its due date, what stops it, what
"due soon" means), and the one overdue rule, in Python for one record and in SQL for lists. My work, the lists'
badges and filters, saved reports, the status report, the scorecard, letters and the contract-clock job read it;
tests/test_clocks.py holds Python and SQL to each other and every caller to the table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, false, or_, true

from tracker.core.clock import UPCOMING_DAYS, deadline_state
from tracker.deliverables.models import Condition, Deliverable, ReviewAssignment
from tracker.deliverables.workflow import Status
from tracker.projects.calendar import due_after
from tracker.projects.models import Project
from tracker.register.actions.models import ActionItem
from tracker.register.issues.models import UNRESOLVED, Issue
from tracker.register.risks.models import ACTIVE_RISK, Risk

UNDER_REVIEW = (Status.SUBMITTED, Status.IN_REVIEW)
DEEMED_WARNING_DAYS = 5  # calendar days before deemed acceptance that the record, the list and My work warn


@dataclass(frozen=True, eq=False)  # each clock is one object: compared and hashed by identity
class Clock:
    """One clock. It runs while the record's `status` is one of `statuses` (any, when no status column is named) and
    `stopped_by` is unset; it is overdue from the day after `due` (that day itself is on time), and due soon from
    `soon_days` calendar days before it (0: on the day). Python and SQL below are both read from these fields."""

    key: str
    label: str  # what is due, as pages and reports say it
    starts: str  # what starts it (and so sets `due`)
    stops: str  # what pauses or stops it
    due_column: Any  # the due date column
    status: Any = None  # the status column the clock runs in, with `statuses`
    statuses: tuple[str, ...] = ()
    stopped_by: Any = None  # a column whose value stops the clock (done, met, completed)
    soon_days: int = UPCOMING_DAYS
    business_days: str = ""  # the project's setting that sets `due`, in its business days after the start

    def start(self, project: Project, day: date) -> date:
        """The due date of the clock started on `day`: the project's `business_days` setting after it."""
        return due_after(project, day, getattr(project, self.business_days))

    # --- one record ---------------------------------------------------------------------------------------------

    def running(self, record: Any) -> bool:
        if self.status is not None and getattr(record, self.status.key) not in self.statuses:
            return False
        return self.stopped_by is None or getattr(record, self.stopped_by.key) is None

    def due(self, record: Any) -> date | None:
        """The day the record is due by this clock; None when the clock does not run or has no date."""
        return getattr(record, self.due_column.key) if self.running(record) else None

    def state(self, due: date | None, today: date) -> str | None:
        """ "overdue", "upcoming" (due soon) or None, for a due date this clock gave (or gave as of a past moment)."""
        return deadline_state(due, today, self.soon_days)

    def overdue(self, record: Any, today: date) -> bool:
        return past(self.due(record), today)

    def days_overdue(self, record: Any, today: date) -> int:
        return days_past(self.due(record), today)

    def is_due(self, record: Any, today: date) -> bool:
        """Needs attention now: overdue or due soon."""
        due = self.due(record)
        return due is not None and due <= today + timedelta(days=self.soon_days)

    # --- lists, in SQL --------------------------------------------------------------------------------------------

    def running_clause(self) -> Any:
        parts = []
        if self.status is not None:
            parts.append(self.status.in_([str(s) for s in self.statuses]))
        if self.stopped_by is not None:
            parts.append(self.stopped_by.is_(None))
        return and_(true(), *parts)

    def due_expr(self) -> Any:
        """`due` in SQL: the date while the clock runs, else NULL."""
        return case((self.running_clause(), self.due_column), else_=None)

    def past_due_clause(self, today: date) -> Any:
        """The due day has passed (whether the clock runs is the caller's, e.g. as it stood at a past moment)."""
        return self.due_column < today

    def overdue_clause(self, today: date) -> Any:
        return and_(self.running_clause(), self.past_due_clause(today))

    def due_clause(self, today: date) -> Any:
        """`is_due` in SQL."""
        return and_(self.running_clause(), self.due_column <= today + timedelta(days=self.soon_days))


DELIVERY = Clock(
    "delivery",
    "Delivery due",
    starts="planning: the contractual due date of the deliverable",
    stops="the first submission (or withdrawal)",
    due_column=Deliverable.due_date,
    status=Deliverable.status,
    statuses=(Status.PLANNED,),
)
REVIEW = Clock(
    "review",
    "State review due",
    starts="a submission: the project's review days, in business days after it",
    stops="a decision, deemed acceptance or withdrawal; overdue under the never-deemed policy, it escalates",
    due_column=Deliverable.review_due,
    status=Deliverable.status,
    statuses=UNDER_REVIEW,
    business_days="review_days",
)
ASSIGNMENT = Clock(
    "assignment",
    "Review assignment due",
    starts="assigning a reviewer: the day chosen, else the submission's review due date",
    stops="the reviewer completes (a decision completes every open assignment)",
    due_column=ReviewAssignment.due_date,
    stopped_by=ReviewAssignment.completed_at,
)
RESUBMISSION = Clock(
    "resubmission",
    "Resubmission due",
    starts="a rejection: the project's resubmission days, in business days after it",
    stops="the next submission (or withdrawal)",
    due_column=Deliverable.resubmit_due,
    status=Deliverable.status,
    statuses=(Status.REJECTED,),
    business_days="resubmit_days",
)
DEEMED = Clock(
    "deemed",
    "Deemed accepted by silence",
    starts="a submission, under the deemed-acceptance policy: the project's deemed days, in business days after it",
    stops="a decision or withdrawal; once passed, the contract-clock job deems the deliverable accepted",
    due_column=Deliverable.deemed_on,
    status=Deliverable.status,
    statuses=UNDER_REVIEW,
    soon_days=DEEMED_WARNING_DAYS,
    business_days="deemed_days",
)
CONDITION = Clock(
    "condition",
    "Condition due",
    starts="a conditional acceptance: the due date its decision gives the conditions",
    stops="a manager confirms the condition met",
    due_column=Condition.due_date,
    stopped_by=Condition.met_at,
)
ACTION = Clock(
    "action",
    "Action item due",
    starts="the action item's due date, set when it is added or edited",
    stops="the action item is done",
    due_column=ActionItem.due_date,
    stopped_by=ActionItem.done_at,
)
ISSUE = Clock(
    "issue",
    "Issue needed by",
    starts="the issue's need-by date",
    stops="the issue is resolved or closed",
    due_column=Issue.need_by,
    status=Issue.status,
    statuses=UNRESOLVED,
)
RISK_REVIEW = Clock(
    "risk_review",
    "Risk review due",
    starts="the review cadence of the risk's level (or the date its owner sets); each review restarts it",
    stops="the risk is closed or has become an issue",
    due_column=Risk.next_review_date,
    status=Risk.status,
    statuses=ACTIVE_RISK,
    soon_days=0,  # "due for review" once the day has come
)

CLOCKS = {c.key: c for c in (DELIVERY, REVIEW, ASSIGNMENT, RESUBMISSION, DEEMED, CONDITION, ACTION, ISSUE, RISK_REVIEW)}

# --- the deliverable's running clock: delivery, the state's review or the resubmission, one at a time by status ----

RUNNING = (DELIVERY, REVIEW, RESUBMISSION)


def running_for(status: str) -> Clock | None:
    """The clock a deliverable in `status` waits on, if any."""
    return next((c for c in RUNNING if status in c.statuses), None)


def running_due(d: Any) -> date | None:
    """The day the deliverable is waiting on now. `running_due_expr` is the same rule in SQL."""
    clock = running_for(d.status)
    return clock.due(d) if clock else None


def running_due_expr() -> Any:
    return case(*((c.running_clause(), c.due_column) for c in RUNNING), else_=None)


def running_overdue_clause(today: date) -> Any:
    """The running clock has passed: `days_past(running_due(d), today)` > 0, in SQL."""
    return or_(*(c.overdue_clause(today) for c in RUNNING))


# --- the overdue rule itself ---------------------------------------------------------------------------------------


def past(due: date | None, today: date) -> bool:
    """Overdue: the due day has passed (on the day itself it is still on time)."""
    return due is not None and due < today


def days_past(due: date | None, today: date) -> int:
    """Calendar days overdue; 0 when on time or with no date."""
    return max(0, (today - due).days) if due else 0


def on_time(done_on: date, due: date) -> bool:
    """Done on or before its due day: the same day `past` turns overdue the day after."""
    return done_on <= due


def days_past_clause(due: Any, today: date, low: int | None = None, high: int | None = None) -> Any:
    """`low` <= days_past(due) <= `high` in SQL (either end open), for filters over any number of rows."""
    parts = []
    if low is not None and low > 0:
        parts.append(due <= today - timedelta(days=low))
    if high is not None:
        parts.append(or_(due.is_(None), due >= today - timedelta(days=high)) if high >= 0 else false())
    return and_(true(), *parts)
