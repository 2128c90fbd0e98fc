"""The register's kinds, as data: what each kind of register record is called, its code prefix, its model and its
links to deliverables, its form and list filters, the fields its list edits in place, who may read and record it,
and the service that keeps its own rules. The pages (register/pages.py), the API (register/api.py), the spreadsheet columns (transfer/columns.py)
and the saved-report sources read this table; a kind's package adds only what is truly its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from sqlalchemy import literal, union_all
from sqlmodel import Session, SQLModel, col, select

from tracker.audit import versions
from tracker.core import memo
from tracker.core.forms import Form
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register import common
from tracker.register.changes import service as changes
from tracker.register.changes.models import ChangeDeliverable, ChangeRequest
from tracker.register.decisions import service as decisions
from tracker.register.decisions.models import LoggedDecision, LoggedDecisionDeliverable
from tracker.register.issues import service as issues
from tracker.register.issues.models import Issue, IssueDeliverable
from tracker.register.lessons import service as lessons
from tracker.register.lessons.models import Lesson, LessonDeliverable
from tracker.register.meetings import service as meetings
from tracker.register.meetings.models import Meeting, MeetingDeliverable
from tracker.register.risks import service as risks
from tracker.register.risks.models import Risk, RiskDeliverable


@dataclass(frozen=True)
class Kind:
    name: str  # "risk": what templates and the API's paths ({risk_id}) call the record
    plural: str  # "risks": its URL segment and its templates' folder
    prefix: str  # codes are R-001, I-001, ...
    model: type[SQLModel]
    link: type[SQLModel]  # its links to deliverables
    service: ModuleType  # search, get_for, load_for, create, update, form_values, check_rules, FIELDS, LABELS, WORDS
    form: type[Form]
    query: type[Form]  # the list's filters, sort and page
    quick: tuple[str, ...]  # the fields its list edits in place
    bulk: tuple[str, ...] = ()  # the fields its list sets on every ticked row at once (register/bulk.py)
    new: dict[str, Any] = field(default_factory=dict)  # a new record's form, before the next free code
    refresh: str | None = None  # the htmx event a quick edit fires, for parts of the page that depend on the list
    noun: str = ""  # what people call one: its name unless given ("change request")
    view: Perm = Perm.VIEW_REGISTER  # who may read the kind's records (the service may narrow it per record)
    edit: Perm = Perm.EDIT_REGISTER  # who may record and change them
    # Refuses (403) a member who may edit the kind but not this record (a change request of the other side)
    may_change: Callable[[Access, Any], None] | None = None
    # The records of the kind this member may see, as a where-clause, where the view permission is not all of it
    visible: Callable[[Access], Any] | None = None

    def __post_init__(self) -> None:
        if not self.noun:
            object.__setattr__(self, "noun", self.name)  # frozen: set once, as it is made

    def require_change(self, access: Access, record: Any) -> None:
        """403 unless this member may change the record: the kind's edit permission, then its own rule, if any."""
        access.require(self.edit)
        if self.may_change is not None:
            self.may_change(access, record)

    @property
    def title(self) -> str:
        return self.name.capitalize()

    @property
    def entity(self) -> str:
        """The audit trail's name for its records: the model's table."""
        return self.model.__tablename__

    def row(self, db: Session, access: Access, record_id: int) -> Any:
        """One record as its list shows it (404 unless this member may see it)."""
        rows, _ = self.service.search(db, access, self.query(), common.Part(record_id=record_id))
        return common.only_row(rows, self.noun)

    @property
    def label(self) -> str:
        """The record's noun as a sentence starts with it: "Risk", "Change request"."""
        return self.noun.capitalize()

    @property
    def link_key(self) -> str:
        return f"{self.name}_id"


KINDS = {
    k.plural: k
    for k in (
        Kind(
            name="risk",
            plural="risks",
            prefix="R",
            model=Risk,
            link=RiskDeliverable,
            service=risks,
            form=risks.RiskForm,
            query=risks.RiskQuery,
            quick=("status", "owner_id", "probability", "impact"),
            bulk=("owner_id", "status", "next_review_date"),
            new={
                "category": "other",
                "probability": 3,
                "impact": 3,
                "proximity": "mid",
                "response": "mitigate",
                "status": "open",
            },
            refresh="risk-changed",
        ),
        Kind(
            name="issue",
            plural="issues",
            prefix="I",
            model=Issue,
            link=IssueDeliverable,
            service=issues,
            form=issues.IssueForm,
            query=issues.IssueQuery,
            quick=("status", "owner_id", "priority"),
            bulk=("owner_id", "status", "priority"),
            new={"priority": "medium", "status": "open", "escalation_level": "project"},
        ),
        Kind(
            name="change",
            plural="changes",
            prefix="CR",
            model=ChangeRequest,
            link=ChangeDeliverable,
            service=changes,
            form=changes.ChangeForm,
            query=changes.ChangeQuery,
            quick=(),  # a request is edited only as a draft, on its own page
            new={"requested_by": "state", "cost_impact": "0.00", "schedule_impact": 0},
            noun="change request",
            view=Perm.VIEW_CHANGES,
            edit=Perm.RAISE_CHANGE,
            may_change=changes.require_acts_for,
            visible=changes.visible_clause,
        ),
        Kind(
            name="lesson",
            plural="lessons",
            prefix="L",
            model=Lesson,
            link=LessonDeliverable,
            service=lessons,
            form=lessons.LessonForm,
            query=lessons.LessonQuery,
            quick=(),  # a lesson is written, not triaged: edited on its own page
            new={"category": "other"},
        ),
        Kind(
            name="meeting",
            plural="meetings",
            prefix="M",
            model=Meeting,
            link=MeetingDeliverable,
            service=meetings,
            form=meetings.MeetingForm,
            query=meetings.MeetingQuery,
            quick=(),  # minutes are written on their own page
            new={"meeting_type": "other"},
        ),
        Kind(
            name="decision",
            plural="decisions",
            prefix="D",
            model=LoggedDecision,
            link=LoggedDecisionDeliverable,
            service=decisions,
            form=decisions.DecisionForm,
            query=decisions.DecisionQuery,
            quick=(),  # a decision is written down once and corrected on its own page
        ),
    )
}


@dataclass(frozen=True)
class Linked:
    kind: Kind
    id: int
    code: str
    title: str
    status: str  # "" for a kind without statuses


def linked_to(db: Session, access: Access, deliverable_id: int) -> list[Linked]:
    """The register records of every kind linked to a deliverable that this member may see, by kind then code, in
    one query whatever the number of kinds; kept while the project's record stands, per set of permissions (which
    decide the kinds and the records seen)."""
    key = ("linked", deliverable_id, access.perms) + versions.of(db, [access.project.id])
    return memo.kept(key, lambda: _linked_to(db, access, deliverable_id))


def _linked_to(db: Session, access: Access, deliverable_id: int) -> list[Linked]:
    parts = []
    for kind in KINDS.values():
        if not access.can(kind.view):
            continue
        m = kind.model
        status = getattr(m, "status", literal(""))
        where = [kind.link.deliverable_id == deliverable_id]
        if kind.visible is not None:
            where.append(kind.visible(access))
        parts.append(
            select(literal(kind.plural).label("kind"), col(m.id), col(m.code), col(m.title), status.label("status"))
            .join(kind.link, getattr(kind.link, kind.link_key) == m.id)
            .where(*where)
        )
    if not parts:
        return []
    rows = db.exec(union_all(*parts).order_by("kind", "code")).all()
    return [Linked(KINDS[k], i, code, title, status) for k, i, code, title, status in rows]
