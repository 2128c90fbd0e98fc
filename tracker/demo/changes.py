"""Demo change requests: each project's change control over the last weeks, replayed through the service at the time
each step happened. An approved request moves its deliverables and changes their payments, as it would live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.clock import frozen_time, utcnow
from tracker.core.forms import parse
from tracker.deliverables.models import Deliverable
from tracker.deliverables.workflow import FINAL
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.models import Project
from tracker.register.changes import service as changes
from tracker.register.changes.workflow import Move


@dataclass(frozen=True)
class Spec:
    title: str
    reason: str
    by: str  # username of whoever raises it: a contractor's staff raise it as the contractor
    cost: str
    days: int
    scope: str
    affects: int  # how many of the project's open deliverables, the soonest due first
    steps: tuple[tuple[Move, str, str], ...]  # (move, username, rationale)
    ago: int  # days ago it was raised; each step follows two days later


SPECS = {
    "CWS": (
        Spec(
            "Add a second data-conversion rehearsal",
            "The first rehearsal left 3% of case records unmatched; cut-over needs a clean run.",
            "mrivera",
            "18500.00",
            5,
            "One more full rehearsal with reconciliation reports.",
            2,
            (
                (Move.SUBMIT, "mrivera", ""),
                (Move.START_REVIEW, "pokafor", ""),
                (Move.APPROVE, "mrivera", "Cheaper than a failed cut-over; the steering committee agreed on the 14th."),
            ),
            30,
        ),
        Spec(
            "Extend the hypercare period by four weeks",
            "County offices go live in two waves instead of one.",
            "tbrooks",
            "42000.00",
            10,
            "Four more weeks of on-site support after go-live.",
            1,
            ((Move.SUBMIT, "tbrooks", ""), (Move.START_REVIEW, "pokafor", "")),
            12,
        ),
        Spec(
            "Drop the legacy fax gateway interface",
            "The State retired fax intake in September.",
            "dkim",
            "-6000.00",
            0,
            "One interface fewer to build and test.",
            1,
            (),
            4,
        ),
    ),
    "UIM": (
        Spec(
            "Accessibility remediation of the claimant portal",
            "The accessibility audit found 41 WCAG 2.2 AA failures in the inherited screens.",
            "lgarcia",
            "27500.00",
            8,
            "Remediate inherited screens to WCAG 2.2 AA.",
            1,
            ((Move.SUBMIT, "lgarcia", ""),),
            6,
        ),
        Spec(
            "Move the training sessions on site",
            "Union agreement requires in-person training.",
            "rpatel",
            "9000.00",
            3,
            "Travel and rooms for six sessions.",
            1,
            (
                (Move.SUBMIT, "rpatel", ""),
                (Move.START_REVIEW, "rpatel", ""),
                (Move.REJECT, "jchen", "Remote training with recorded sessions meets the agreement; legal confirmed."),
            ),
            20,
        ),
    ),
    "DMV": (
        Spec(
            "Add REAL ID document scanning",
            "Federal deadline; the scanners arrive with the new counters.",
            "pokafor",
            "31000.00",
            6,
            "Scanner integration and one more test cycle.",
            2,
            (
                (Move.SUBMIT, "pokafor", ""),
                (Move.START_REVIEW, "snguyen", ""),
                (Move.APPROVE, "pokafor", "Required by federal rule; funded from the modernization reserve."),
            ),
            25,
        ),
    ),
}


def _at(project: Project, now: datetime, ago: int) -> datetime:
    day = project_today(project, now) - timedelta(days=ago)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day, time(10), ZoneInfo(project.timezone))


def load(db: Session, now: datetime | None = None) -> int:
    """Each project's change requests, raised and moved on the days they were; returns how many."""
    now = now or utcnow()
    count = 0
    for key, specs in SPECS.items():
        project = db.exec(select(Project).where(Project.key == key)).one()
        people = {u.username: principal(u) for u in db.exec(select(User))}
        for spec in specs:
            actor = people[spec.by]
            with frozen_time(_at(project, now, spec.ago)):
                access = projects.get_for(db, actor, key)
                open_ones = db.exec(
                    select(Deliverable.id)
                    .where(
                        Deliverable.project_id == project.id,
                        col(Deliverable.status).not_in(sorted(FINAL)),
                        col(Deliverable.due_date) >= project_today(project),  # what is still to come
                    )
                    .order_by(Deliverable.due_date, Deliverable.code)
                    .limit(spec.affects)
                ).all()
                form = {
                    "title": spec.title,
                    "reason": spec.reason,
                    "requested_by": "state",
                    "cost_impact": spec.cost,
                    "schedule_impact": spec.days,
                    "scope_impact": spec.scope,
                    "deliverable_ids": list(open_ones),
                }
                change = changes.create(db, actor, access, parse(changes.ChangeForm, form))
            for n, (move, who, rationale) in enumerate(spec.steps, start=1):
                with frozen_time(_at(project, now, max(spec.ago - 2 * n, 1))):
                    mover = people[who]
                    access = projects.get_for(db, mover, key)
                    form = parse(changes.DecisionForm, {"version": change.version, "rationale": rationale})
                    changes.move(db, mover, access, change, move, form)
            count += 1
    db.flush()
    return count
