"""Helpers shared by the register tests: acting as a persona, and plain factories with fixed defaults."""

from __future__ import annotations

from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.forms import parse
from tracker.projects import service as projects
from tracker.register.issues import service as issues
from tracker.register.risks import service as risks

RISK = {
    "title": "Data conversion slips",
    "statement": "If legacy data is dirtier than sampled, then go-live slips",
    "category": "schedule",
    "probability": "3",
    "impact": "4",
}
ISSUE = {"title": "Test environment unavailable", "description": "The UAT environment is down.", "priority": "high"}


def acting(db, world, role):
    user = principal(db.get(User, world.ids[role]))
    return user, projects.get_for(db, user, world.project_key)


def make_risk(db, world, role="staff", **overrides):
    """An open risk needs an owner: the staff member, unless `overrides` say otherwise."""
    actor, access = acting(db, world, role)
    return risks.create(
        db, actor, access, parse(risks.RiskForm, RISK | {"owner_id": str(world.ids["staff"])} | overrides)
    )


def make_issue(db, world, role="staff", **overrides):
    actor, access = acting(db, world, role)
    return issues.create(db, actor, access, parse(issues.IssueForm, ISSUE | overrides))
