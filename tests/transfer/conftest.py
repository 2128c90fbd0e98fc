"""A register worth exporting: risks and issues with every kind of cell, in TST; and OTH ready to receive it."""

from __future__ import annotations

import pytest

from tests.register.conftest import acting, make_issue, make_risk
from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.forms import parse
from tracker.deliverables import planning
from tracker.projects import service as projects
from tracker.register.actions import service as actions
from tracker.register.issues import service as issues

TRICKY = '=HYPERLINK("http://evil.example","x") <script>alert(1)</script> | pipe \\ slash'


def plan_deliverables(db, world, key: str) -> dict[str, int]:
    user = principal(db.get(User, world.ids["admin"]))
    manager = principal(db.get(User, world.ids["manager"]))
    access = projects.get_for(db, manager if key == "TST" else user, key)
    if key != "TST":  # admins do not plan deliverables: act as OTH's manager
        access = projects.get_for(db, principal(db.get(User, world.ids["outsider"])), key)
        manager = principal(db.get(User, world.ids["outsider"]))
    out = {}
    for code in ("D-01", "D-02"):
        d = planning.create(
            db,
            manager,
            access,
            parse(
                planning.DeliverableForm,
                {
                    "code": code,
                    "title": f"Deliverable {code}",
                    "type": "document",
                    "due_date": "2030-01-15",
                    "criteria": "Complete",
                },
            ),
        )
        out[code] = d.id
    return out


@pytest.fixture
def register(db, world):
    """TST's register: a realized risk converted into an issue, a closed and a monitored risk, action items open,
    overdue and done, an escalated issue with a decision log, a resolved one, formula-like and HTML text."""
    links = plan_deliverables(db, world, "TST")
    staff, access = acting(db, world, "staff")
    owner = str(world.ids["staff"])
    r1 = make_risk(
        db,
        world,
        code="R-001",
        title="County data quality",
        owner_id=owner,
        mitigation_plan=TRICKY,
        residual_probability="2",
        residual_impact="3",
        deliverable_ids=[str(links["D-01"]), str(links["D-02"])],
        raised_on="2026-01-05",
        next_review_date="2026-02-01",
        trigger="-5% sample match",
    )
    make_risk(
        db,
        world,
        code="R-002",
        title="Closed one",
        status="closed",
        category="security",
        probability="1",
        impact="1",
        proximity="far",
        response="accept",
        raised_on="2026-01-06",
        next_review_date="2026-03-01",
    )
    r3 = make_risk(
        db,
        world,
        code="R-003",
        title="Key staff leave",
        status="monitoring",
        owner_id=str(world.ids["viewer"]),
        probability="5",
        impact="5",
        raised_on="2026-01-07",
        next_review_date="2026-01-20",
        contingency_plan="Backfill from the bench\nwith two lines",
    )
    for plan, description, due, done in (
        ("mitigation", "Profile the pilot counties", "2026-01-20", True),
        ("mitigation", "Agree cleansing | rules", "2026-02-15", False),
        ("contingency", "Phase the counties", "", False),
    ):
        actions.add(
            db,
            staff,
            access,
            r1,
            parse(
                actions.ActionForm,
                {
                    "description": description,
                    "plan": plan,
                    "due_date": due,
                    "owner_id": owner,
                    "done": done,
                    "done_on": "2026-01-19" if done else "",
                },
            ),
        )
    actions.add(
        db, staff, access, r3, parse(actions.ActionForm, {"description": "Name deputies", "plan": "mitigation"})
    )
    converted = issues.convert(db, staff, access, r1)
    i1 = issues.update(
        db,
        staff,
        access,
        converted,
        parse(
            issues.IssueForm,
            issues.form_values(db, converted)
            | {
                "status": "escalated",
                "escalation_level": "executive",
                "escalation_reason": "Needs the CIO",
                "need_by": "2026-02-20",
                "raised_on": "2026-02-01",
            },
        ),
    )
    issues.add_decision(
        db,
        staff,
        access,
        i1,
        parse(
            issues.DecisionForm,
            {
                "decided_on": "2026-02-03",
                "decision": "Fund a data steward",
                "decided_by": "Steering committee",
                "rationale": "Cheaper than a slip\nof two months",
            },
        ),
    )
    actions.add(
        db,
        staff,
        access,
        i1,
        parse(actions.ActionForm, {"description": "Hire the steward", "owner_id": owner, "due_date": "2026-02-28"}),
    )
    make_issue(
        db,
        world,
        code="I-002",
        title=TRICKY[:200],
        status="resolved",
        resolution="Rebooted",
        raised_on="2026-01-10",
        resolved_on="2026-01-12",
        priority="low",
        deliverable_ids=[str(links["D-02"])],
    )
    db.flush()
    return links


@pytest.fixture
def other(db, world):
    """OTH with TST's register people as members and deliverables of the same codes: an empty register."""
    admin = principal(db.get(User, world.ids["admin"]))
    access = projects.get_for(db, admin, "OTH", projects.Perm.MANAGE)
    for role in ("manager", "staff", "viewer"):
        projects.add_member(db, admin, access, projects.MemberForm(user_id=world.ids[role], role=role))
    plan_deliverables(db, world, "OTH")
    db.flush()
