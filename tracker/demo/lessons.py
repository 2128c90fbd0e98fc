"""Demo lessons learned: what each project's team wrote down after things went wrong (or right), recorded through the
service on the day they were, so /lessons has something to teach across projects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal, principal
from tracker.core.clock import frozen_time, utcnow
from tracker.core.forms import Form, parse
from tracker.deliverables.models import Deliverable
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.models import Project
from tracker.projects.service import Access
from tracker.register.lessons import service as lessons


@dataclass(frozen=True)
class Spec:
    title: str  # what happened, in one line
    description: str
    impact: str
    recommendation: str
    category: str
    phase: str
    by: str  # username of whoever records it (and owns its recommendation)
    deliverables: tuple[str, ...]  # codes in the project
    ago: int  # days ago it was recorded


SPECS = {
    "CWS": (
        Spec(
            "UAT started before the test data was masked",
            "The first UAT cycle opened on a copy of production case records; masking was still being scripted.",
            "UAT paused for nine days while the copy was withdrawn and a masked set loaded; the privacy office "
            "reviewed who had seen the records.",
            "Make a masked, signed-off test data set an entry criterion of every UAT cycle, checked at the "
            "readiness review, not assumed.",
            "testing",
            "UAT",
            "mrivera",
            ("D-03",),
            40,
        ),
        Spec(
            "Requirements were traced to designs but not to test cases",
            "The traceability matrix stopped at the design; testers wrote scripts from the user stories instead.",
            "Eleven requirements reached UAT with no test; two failed in the first week.",
            "Ask for the test-case column in the traceability matrix's acceptance criteria, and review it before "
            "system testing starts.",
            "requirements",
            "Design",
            "pokafor",
            ("D-02",),
            25,
        ),
        Spec(
            "Review turnaround slipped when one reviewer held every document",
            "All nine deliverables of the quarter went to the same senior analyst.",
            "Three reviews ran past their contractual days; the contractor claimed deemed acceptance on one.",
            "Name a backup reviewer for every deliverable at planning time and watch the review clock weekly.",
            "contractor_management",
            "Design",
            "mrivera",
            (),
            12,
        ),
    ),
    "UIM": (
        Spec(
            "The federal interface was tested against a stub for too long",
            "The federal partner's test environment opened late; the team kept testing against its own stub.",
            "Two message formats differed from the stub; the interface document went back for a second version.",
            "Book the partner's test window at contract award and test against it at least once before design "
            "sign-off.",
            "technical",
            "Build",
            "jchen",
            ("D-02",),
            30,
        ),
        Spec(
            "Steering committee decisions were not written down",
            "Decisions on conversion scope were taken in meetings and remembered differently afterwards.",
            "A month of rework on the employer account conversion, and a disputed change request.",
            "Log every steering committee decision in the issue's decision log the same day, with who decided.",
            "governance",
            "Conversion",
            "dkim",
            ("D-06",),
            18,
        ),
    ),
    "DMV": (
        Spec(
            "The schedule assumed holidays the contractor did not observe",
            "The plan counted review days on the State's calendar; the contractor planned on its own.",
            "Two submissions arrived on State holidays and their review clocks were disputed.",
            "Agree one holiday calendar in the contract and load it into the project settings before the first "
            "submission.",
            "schedule",
            "Initiation",
            "pokafor",
            ("D-01",),
            20,
        ),
    ),
}


def at(project: Project, now: datetime, ago: int, hour: int = 15) -> datetime:
    """That many days ago, at that hour of the project's day (what a record of the register was written at)."""
    day = project_today(project, now) - timedelta(days=ago)
    return datetime.combine(day, time(hour), ZoneInfo(project.timezone))


def linked(db: Session, project_id: int, codes: tuple[str, ...]) -> list[int]:
    """The ids of the project's deliverables of these codes."""
    stmt = select(Deliverable.id).where(Deliverable.project_id == project_id, col(Deliverable.code).in_(codes))
    return list(db.exec(stmt))


def record(
    db: Session,
    specs: dict[str, tuple[Any, ...]],
    now: datetime | None,
    form_of: Callable[[Session, Project, Any, dict[str, Principal]], dict[str, Any]],
    create: Callable[[Session, Principal, Access, Any], Any],
    form: type[Form],
    hour: int = 15,
) -> int:
    """Each project's specs (a register kind's demo records), each recorded by its `by` through `create` on the day
    it was (`ago`), from the `form` that `form_of` fills from it; returns how many."""
    now = now or utcnow()
    people = {u.username: principal(u) for u in db.exec(select(User))}
    count = 0
    for key, project_specs in specs.items():
        project = db.exec(select(Project).where(Project.key == key)).one()
        for spec in project_specs:
            values = form_of(db, project, spec, people)
            with frozen_time(at(project, now, spec.ago, hour)):
                actor = people[spec.by]
                create(db, actor, projects.get_for(db, actor, key), parse(form, values))
            count += 1
    db.flush()
    return count


def _form(db: Session, project: Project, spec: Spec, people: dict[str, Principal]) -> dict[str, Any]:
    return {
        "title": spec.title,
        "description": spec.description,
        "impact": spec.impact,
        "recommendation": spec.recommendation,
        "category": spec.category,
        "phase": spec.phase,
        "owner_id": people[spec.by].id,
        "deliverable_ids": linked(db, project.id, spec.deliverables),
    }


def load(db: Session, now: datetime | None = None) -> int:
    """Each project's lessons, recorded on the days they were; returns how many."""
    return record(db, SPECS, now, _form, lessons.create, lessons.LessonForm)
