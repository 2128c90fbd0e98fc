"""Starter reports for the demo: a few useful queries each demo project's manager has shared with the project."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.clock import frozen_time, utcnow
from tracker.library import service
from tracker.library.sources import parse_definition
from tracker.projects import service as projects

ACTIVE = ["open", "mitigating", "monitoring"]
UNRESOLVED = ["open", "in_progress", "escalated"]

STARTERS = [
    (
        "Overdue reviews",
        "Submitted deliverables whose state review is past due, longest overdue first.",
        {
            "source": "deliverables",
            "columns": ["code", "title", "status", "owner", "review_due", "days_overdue"],
            "filters": [
                {"field": "status", "op": "in", "value": ["submitted", "in_review"]},
                {"field": "overdue", "op": "equals", "value": True},
            ],
            "sort": [{"field": "days_overdue", "desc": True}],
        },
    ),
    (
        "Deliverables due in the next two weeks",
        "Planned deliverables the contractor owes in the next 14 days.",
        {
            "source": "deliverables",
            "columns": ["code", "title", "type", "owner", "due_date"],
            "filters": [
                {"field": "status", "op": "in", "value": ["planned"]},
                {"field": "due_date", "op": "between", "value": ["today", "today+14"]},
            ],
            "sort": [{"field": "due_date", "desc": False}],
        },
    ),
    (
        "Critical and high risks without mitigation actions",
        "Active risks scoring 10 or more with no open action item in their mitigation plan.",
        {
            "source": "risks",
            "columns": ["code", "title", "score", "level", "owner", "status", "next_review_date"],
            "filters": [
                {"field": "level", "op": "in", "value": ["critical", "high"]},
                {"field": "status", "op": "in", "value": ACTIVE},
                {"field": "open_mitigation_actions", "op": "equals", "value": 0},
            ],
            "sort": [{"field": "score", "desc": True}],
        },
    ),
    (
        "Issues older than 30 days",
        "Unresolved issues raised more than 30 days ago, by priority.",
        {
            "source": "issues",
            "columns": ["code", "title", "priority", "status", "owner", "raised_on", "age", "needs_escalation"],
            "filters": [
                {"field": "status", "op": "in", "value": UNRESOLVED},
                {"field": "raised_on", "op": "before", "value": "today-30"},
            ],
            "sort": [{"field": "priority", "desc": False}, {"field": "raised_on", "desc": False}],
        },
    ),
    (
        "My overdue action items",
        "Action items you own that are past their due date, whoever runs it.",
        {
            "source": "actions",
            "columns": ["parent", "description", "plan", "due_date", "overdue"],
            "filters": [
                {"field": "owner", "op": "equals", "value": "me"},
                {"field": "overdue", "op": "equals", "value": True},
            ],
            "sort": [{"field": "due_date", "desc": False}],
        },
    ),
]


SET_UP = timedelta(weeks=16)  # the starters were shared as each project began, not on the day the demo loads


def load(db: Session, managers: dict[str, str], now: datetime | None = None) -> None:
    """managers: {project key: username of its manager}, who shares the starters with the project as it begins (so
    they sit at the start of its history, not at the top of everyone's recent activity)."""
    with frozen_time((now or utcnow()) - SET_UP):
        for key, username in managers.items():
            manager = principal(db.exec(select(User).where(User.username == username)).one())
            access = projects.get_for(db, manager, key)
            for name, description, raw in STARTERS:
                form = service.ReportForm(name=name, description=description, shared=True)
                service.create(db, manager, access, form, parse_definition(raw))
        db.flush()
