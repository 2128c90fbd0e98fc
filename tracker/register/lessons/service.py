"""Lesson rules: codes, the fixed categories, the recommendation a lesson must give, the filtered register of one
project, and the lessons of every project a reader may see (the cross-project page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, or_, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.errors import FormError
from tracker.core.forms import Form, OptionalDate, OptionalInt
from tracker.core.web import options
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm, perms_for, roles_with
from tracker.projects.service import Access, load_record, record_in
from tracker.register import common
from tracker.register.lessons.models import Lesson, LessonCategory, LessonDeliverable

PER_PAGE = 50  # lessons the cross-project page shows a page

# --- create and edit --------------------------------------------------------------------------------------


class LessonForm(common.RecordForm):
    description: str = Field(default="", max_length=8000)
    impact: str = Field(default="", max_length=4000)
    recommendation: str = Field(default="", max_length=4000)
    category: LessonCategory = LessonCategory.OTHER
    phase: str = Field(default="", max_length=100)
    owner_id: OptionalInt = None
    recorded_on: OptionalDate = None


# The lesson form's labels and the words of its categories; the history reads a lesson's changes with them too.
LABELS = {
    "code": "Code",
    "title": "What happened, in one line",
    "description": "What happened",
    "impact": "Impact",
    "recommendation": "Recommendation",
    "category": "Category",
    "phase": "Phase",
    "owner_id": "Owner",
    "recorded_on": "Recorded on",
    "deliverable_ids": "Deliverables",
    "deliverables": "Deliverables",
}
LessonForm.labels = LABELS
WORDS = {"category": dict(options(list(LessonCategory)))}
history.register(nouns={"lesson": "lesson"}, terms={"lesson": history.Terms(LABELS, WORDS)})

FIELDS = (
    "code",
    "title",
    "description",
    "impact",
    "recommendation",
    "category",
    "phase",
    "owner_id",
    "recorded_on",
)
TEXT = (Lesson.code, Lesson.title, Lesson.description, Lesson.impact, Lesson.recommendation, Lesson.phase)


def check_rules(form: LessonForm, today: date) -> None:
    """What a lesson's form cannot check alone; imports check every row by it too."""
    errors = {}
    if not form.recommendation.strip():
        errors["recommendation"] = "Say what to do next time: a lesson without a recommendation teaches nothing."
    if form.recorded_on and form.recorded_on > today:
        errors["recorded_on"] = "A lesson is recorded on a day that has come: choose today or an earlier day."
    if errors:
        raise FormError(errors)


def _values(form: LessonForm) -> dict[str, Any]:
    return form.model_dump(include=set(FIELDS) - {"code", "recorded_on"}, mode="json") | {"phase": form.phase.strip()}


def form_values(db: Session, lesson: Lesson) -> dict[str, Any]:
    return common.form_values(db, lesson, FIELDS, LessonDeliverable)


def create(db: Session, actor: Principal, access: Access, form: LessonForm, imported: bool = False) -> Lesson:
    """`imported`: brought in from a spreadsheet (a lesson's rules are the same either way)."""
    access.require(Perm.EDIT_REGISTER)
    today = project_today(access.project)
    check_rules(form, today)
    code, links = common.check_form(db, Lesson, access.project, form, "L")
    common.check_owner(db, access.project.id, form.owner_id)
    lesson = Lesson(
        project_id=access.project.id,
        code=code,
        recorded_on=form.recorded_on or today,
        recorded_by_id=actor.id,
        **_values(form),
    )
    common.created(db, actor, lesson, FIELDS, LessonDeliverable, links)
    return lesson


def update(
    db: Session, actor: Principal, access: Access, lesson: Lesson, form: LessonForm, imported: bool = False
) -> Lesson:
    access.require(Perm.EDIT_REGISTER)
    lesson.check_seen(form.version, audit.snapshot(lesson, FIELDS))
    recorded_on = form.recorded_on or lesson.recorded_on
    check_rules(form.model_copy(update={"recorded_on": recorded_on}), project_today(access.project))
    code, links = common.check_form(db, Lesson, access.project, form, "L", lesson)
    common.check_owner(db, access.project.id, form.owner_id)

    def apply() -> None:
        for name, value in (_values(form) | {"code": code, "recorded_on": recorded_on}).items():
            setattr(lesson, name, value)

    if changes := common.edited(db, lesson, FIELDS, LessonDeliverable, links, apply):
        common.record_event(db, actor, lesson, "update", changes)
    db.flush()
    return lesson


# --- loading -------------------------------------------------------------------------------------------------


def get_for(db: Session, access: Access, lesson_id: int) -> Lesson:
    return record_in(db, access, Lesson, lesson_id, "lesson")


def load_for(db: Session, user: Principal, lesson_id: int, perm: Perm = Perm.VIEW_REGISTER) -> tuple[Access, Lesson]:
    """A lesson by id for `user`: 404 unless they may see its project, 403 when they lack `perm`."""
    return load_record(db, user, Lesson, lesson_id, perm, "lesson")


# --- the register list ---------------------------------------------------------------------------------------

# Every sort ends in the code, unique in a project, so the order is total without an id tie-break.
SORTS = {
    "recorded": (Lesson.recorded_on, Lesson.code),
    "category": (Lesson.category, Lesson.code),
    "phase": (Lesson.phase, Lesson.code),
    "code": (Lesson.code,),
}
Recorder = aliased(User, name="lesson_recorder")


class LessonQuery(common.ListQuery):
    sorts = SORTS

    category: LessonCategory | None = None
    phase: str = Field(default="", max_length=100)
    deliverable: OptionalInt = None
    sort: str = "-recorded"


@dataclass(frozen=True)
class LessonRow:
    lesson: Lesson
    owner_name: str | None
    recorded_by_name: str | None

    @property
    def record(self) -> Lesson:
        return self.lesson

    def extras(self) -> dict[str, Any]:
        """What the row works out beyond the lesson's own fields (the API answers them too)."""
        return {"owner_name": self.owner_name, "recorded_by_name": self.recorded_by_name}


def _filters(query: LessonQuery) -> list[Any]:
    """The filters a lesson list has beyond every register's (words, owner): category, phase, deliverable."""
    where: list[Any] = []
    if query.category:
        where.append(Lesson.category == query.category.value)
    if query.phase:
        where.append(common.text_match(query.phase.strip(), Lesson.phase))
    if query.deliverable:
        linked = select(LessonDeliverable.lesson_id).where(LessonDeliverable.deliverable_id == query.deliverable)
        where.append(col(Lesson.id).in_(linked))
    return where


def _people(stmt: Any) -> Any:
    return stmt.outerjoin(User, col(User.id) == Lesson.owner_id).outerjoin(
        Recorder, col(Recorder.id) == Lesson.recorded_by_id
    )


def search(
    db: Session, access: Access, query: LessonQuery, part: common.Part = common.Part()
) -> tuple[list[LessonRow], int]:
    """The filtered, sorted lessons of one project in two queries whatever their number (page, API, exports)."""
    where = common.list_where(Lesson, access, query, part, (), TEXT) + _filters(query)
    if query.owner:
        where.append(Lesson.owner_id == query.owner)
    stmt = _people(select(Lesson, User.full_name, Recorder.full_name))
    found, total = common.page_of(db, Lesson, stmt, where, query, part)
    return [LessonRow(lesson, owner, recorder) for lesson, owner, recorder in found], total


def phases(db: Session, project_id: int) -> list[str]:
    """The phases the project's lessons name, for the list's filter."""
    stmt = select(Lesson.phase).where(Lesson.project_id == project_id, Lesson.phase != "").distinct()
    return sorted(db.exec(stmt), key=str.casefold)


# --- every project's lessons --------------------------------------------------------------------------------


class EveryQuery(Form):
    """The cross-project page's filters: words, category, project."""

    q: str = Field(default="", max_length=100)
    category: LessonCategory | None = None
    project: str = Field(default="", max_length=10)
    page: int = Field(default=1, ge=1, le=100_000)

    @field_validator("category", mode="before")
    @classmethod
    def _any(cls, v: Any) -> Any:
        return v or None  # blank: any category

    def model_post_init(self, _: Any) -> None:
        self.project = self.project.strip().upper()


@dataclass(frozen=True)
class Found:
    lesson: Lesson
    project_key: str
    project_name: str
    owner_name: str | None
    recorded_by_name: str | None

    @property
    def url(self) -> str:
        return f"/projects/{self.project_key}/lessons/{self.lesson.id}"


READ = Perm.VIEW_REGISTER  # who may read a project's lessons, on its pages and across projects


def readable_projects(user: Principal) -> Any:
    """The ids of the projects whose lessons `user` may read, as a subquery: every project for an admin whose rights
    read the register, else those where their role does (archived projects too: their lessons are for later)."""
    if user.is_admin and READ in perms_for(None, True):
        return select(Project.id)
    return select(Membership.project_id).where(
        Membership.user_id == user.id, col(Membership.role).in_(sorted(roles_with(READ)))
    )


def everywhere(db: Session, user: Principal, query: EveryQuery) -> tuple[list[Found], int]:
    """The lessons of every project `user` may read, newest first, one page of them and how many there are: one
    query, whatever the number of projects and lessons."""
    where = [col(Lesson.project_id).in_(readable_projects(user))]
    if query.q:
        where.append(or_(common.text_match(query.q, *TEXT), common.text_match(query.q, Project.name)))
    if query.category:
        where.append(Lesson.category == query.category.value)
    if query.project:
        where.append(Project.key == query.project)
    stmt = (
        _people(
            select(Lesson, Project.key, Project.name, User.full_name, Recorder.full_name, func.count().over()).join(
                Project, col(Project.id) == Lesson.project_id
            )
        )
        .where(*where)
        .order_by(col(Lesson.recorded_on).desc(), Project.key, Lesson.code)
        .limit(PER_PAGE)
        .offset((query.page - 1) * PER_PAGE)
    )
    rows = db.exec(stmt).all()
    total = rows[0][-1] if rows else 0
    return [Found(lesson, key, name, owner, recorder) for lesson, key, name, owner, recorder, _ in rows], total


def project_choices(db: Session, user: Principal) -> list[tuple[str, str]]:
    """(key, name) of the projects whose lessons `user` may read, for the page's filter."""
    stmt = select(Project.key, Project.name).where(col(Project.id).in_(readable_projects(user)))
    return [(k, n) for k, n in db.exec(stmt.order_by(Project.key))]
