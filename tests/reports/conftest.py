"""A record with something in every section of a status report, built through the services (so the audit trail is
what the app writes), relative to the project's today so pages served at the real time see it too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlmodel import Session

from tests.conftest import agree_criteria
from tests.register.conftest import acting, make_issue, make_risk
from tracker.core.clock import frozen_time, utcnow
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.deliverables import decisions, planning, records, reviews, submissions
from tracker.deliverables.models import Deliverable
from tracker.projects.calendar import project_today
from tracker.projects.models import Project
from tracker.register.actions import service as actions
from tracker.register.issues.models import Issue
from tracker.register.risks.models import Risk
from tracker.reports.periods import Period, week_ending


@dataclass
class Record:
    project: Project
    today: date
    week: Period
    ids: dict[str, int]


def plan(db: Session, world, code: str, due: date, **extra) -> Deliverable:
    """A deliverable with its criteria agreed and acknowledged, ready to submit."""
    actor, access = acting(db, world, "manager")
    d = planning.create(
        db,
        actor,
        access,
        parse(
            planning.DeliverableForm,
            {
                "code": code,
                "title": f"Deliverable {code}",
                "due_date": due.isoformat(),
                "owner_id": str(world.ids["staff"]),
                "criteria": "Meets the statement of work",
                **extra,
            },
        ),
    )
    agree_criteria(db, world, d)
    return d


def submit(db: Session, world, d: Deliverable, store: FileStore) -> None:
    submissions.submit(db, *acting(db, world, "contractor"), d, "", [submissions.Upload("v.pdf", "", b"%PDF")], store)


def decide(db: Session, world, d: Deliverable, store: FileStore, outcome: str) -> None:
    manager = acting(db, world, "manager")
    reviews.start_review(db, *manager, d)
    for c in planning.active_criteria(db, d.id):
        reviews.record_result(db, *manager, d, c.id, "met")
    decisions.decide(
        db, *manager, d, parse(decisions.DecisionForm, {"outcome": outcome, "findings": "Gaps"}), store=store
    )


@pytest.fixture
def store(tmp_path) -> FileStore:
    return FileStore(tmp_path / "files", 10 * 1024 * 1024)


@pytest.fixture
def record(db: Session, world, store: FileStore, monkeypatch: pytest.MonkeyPatch) -> Record:
    # Decision letters are tested with the deliverables; rendering their PDFs here would only slow every report test.
    monkeypatch.setattr(records, "generate", lambda *args, **kwargs: [])
    project = acting(db, world, "manager")[1].project
    today = project_today(project)
    ids: dict[str, int] = {}
    with frozen_time(utcnow() - timedelta(days=21)):  # submitted three weeks ago: its review is long overdue
        d = plan(db, world, "D-03", today - timedelta(days=30))
        submit(db, world, d, store)
        ids["D-03"] = d.id
    ids["D-01"] = plan(db, world, "D-01", today - timedelta(days=20)).id  # delivery 20 days late
    ids["D-02"] = plan(db, world, "D-02", today + timedelta(days=5)).id  # due within two weeks
    d = plan(db, world, "D-04", today + timedelta(days=2))
    submit(db, world, d, store)  # on time
    decide(db, world, d, store, "accepted")
    ids["D-04"] = d.id
    d = plan(db, world, "D-05", today - timedelta(days=3))
    submit(db, world, d, store)  # late
    decide(db, world, d, store, "rejected")
    ids["D-05"] = d.id
    d = plan(db, world, "D-06", today + timedelta(days=40))
    decisions.withdraw(db, *acting(db, world, "manager"), d, "Out of scope")
    ids["D-06"] = d.id

    staff = acting(db, world, "staff")
    risks = {
        "R-001": {"probability": "5", "impact": "5"},  # critical, no mitigation action: red
        "R-002": {"probability": "4", "impact": "5"},  # critical, mitigated
        "R-003": {"probability": "4", "impact": "3"},
        "R-004": {"probability": "2", "impact": "2"},
        "R-005": {"probability": "3", "impact": "3", "status": "closed"},
        "R-006": {"probability": "3", "impact": "2", "raised_on": (today - timedelta(days=30)).isoformat()},
    }
    for code, values in risks.items():
        ids[code] = make_risk(db, world, code=code, title=f"Risk {code}", **values).id
    risk = db.get(Risk, ids["R-002"])
    due = (today + timedelta(days=9)).isoformat()
    actions.add(
        db, *staff, risk, parse(actions.ActionForm, {"description": "Mitigate", "plan": "mitigation", "due_date": due})
    )
    issues = {
        "I-001": {
            "priority": "critical",
            "raised_on": (today - timedelta(days=1)).isoformat(),
            "need_by": (today - timedelta(days=1)).isoformat(),
        },
        "I-002": {"priority": "high", "raised_on": (today - timedelta(days=20)).isoformat()},  # past 10 days: flagged
        "I-003": {
            "priority": "medium",
            "status": "escalated",
            "escalation_level": "executive",
            "escalation_reason": "Needs the sponsor's budget",
        },
        "I-004": {
            "priority": "medium",
            "raised_on": (today - timedelta(days=4)).isoformat(),
            "status": "resolved",
            "resolution": "Fixed",
        },
        "I-005": {"priority": "low"},
    }
    for code, values in issues.items():
        ids[code] = make_issue(db, world, code=code, title=f"Issue {code}", **values).id
    issue = db.get(Issue, ids["I-002"])
    ids["late-action"] = actions.add(
        db,
        *staff,
        issue,
        parse(
            actions.ActionForm, {"description": "Chase the vendor", "due_date": (today - timedelta(days=3)).isoformat()}
        ),
    ).id
    db.commit()
    return Record(project, today, week_ending(today), ids)
