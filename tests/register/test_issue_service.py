"""Issue rules: resolution to resolve, escalation with a reason, age and the no-fault escalation flag,
risk-to-issue conversion, the decision log, and action items."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from tests.conftest import at_noon
from tests.register.conftest import acting, make_issue, make_risk
from tracker.audit.models import AuditEvent
from tracker.core.errors import Conflict, Forbidden, FormError, StaleEdit
from tracker.core.forms import parse
from tracker.register import common
from tracker.register.actions import service as actions
from tracker.register.issues import service as issues
from tracker.register.issues.models import Issue
from tracker.register.risks import service as risks
from tracker.register.risks.models import RegisterSettings

TODAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _today(clock):
    clock.set(at_noon(TODAY))


def _update(db, world, issue, role="staff", **changes):
    actor, access = acting(db, world, role)
    return issues.update(db, actor, access, issue, parse(issues.IssueForm, issues.form_values(db, issue) | changes))


def test_resolving_needs_a_resolution_and_stamps_the_day(db, world):
    issue = make_issue(db, world)
    with pytest.raises(FormError) as err:
        _update(db, world, issue, status="resolved")
    assert "resolution" in err.value.errors
    _update(db, world, issue, status="resolved", resolution="Vendor restored the environment")
    assert issue.resolved_on == TODAY
    _update(db, world, issue, status="open")
    assert issue.resolved_on is None


def test_escalating_needs_a_level_and_a_reason(db, world):
    issue = make_issue(db, world)
    with pytest.raises(FormError) as err:
        _update(db, world, issue, status="escalated")
    assert "escalation_level" in err.value.errors
    with pytest.raises(FormError) as err:
        _update(db, world, issue, status="escalated", escalation_level="executive")
    assert "escalation_reason" in err.value.errors
    _update(db, world, issue, status="escalated", escalation_level="sponsor", escalation_reason="Budget decision")
    assert (issue.status, issue.escalation_level) == ("escalated", "sponsor")


@pytest.mark.parametrize(("priority", "allowed"), [("critical", 3), ("high", 10), ("medium", 30), ("low", 60)])
def test_an_issue_older_than_its_priority_allows_is_flagged_for_escalation(db, world, priority, allowed):
    settings = RegisterSettings(project_id=1)
    at_limit = make_issue(db, world, priority=priority, raised_on=(TODAY - timedelta(days=allowed)).isoformat())
    past = make_issue(db, world, priority=priority, raised_on=(TODAY - timedelta(days=allowed + 1)).isoformat())
    assert (issues.age_days(at_limit, TODAY), issues.needs_escalation(at_limit, settings, TODAY)) == (allowed, False)
    assert (issues.age_days(past, TODAY), issues.needs_escalation(past, settings, TODAY)) == (allowed + 1, True)
    _, access = acting(db, world, "viewer")
    rows, total = issues.search(db, access, issues.IssueQuery(escalation=True))
    assert [r.issue.code for r in rows] == [past.code] and rows[0].needs_escalation and total == 1


def test_escalated_resolved_and_fresh_issues_are_not_flagged_and_thresholds_are_per_project(db, world):
    old = (TODAY - timedelta(days=200)).isoformat()
    make_issue(db, world, raised_on=old, status="escalated", escalation_level="executive", escalation_reason="Stuck")
    make_issue(db, world, raised_on=old, status="resolved", resolution="Done")
    young = make_issue(db, world, priority="low", raised_on=(TODAY - timedelta(days=5)).isoformat())
    _, access = acting(db, world, "viewer")
    assert issues.search(db, access, issues.IssueQuery(escalation=True))[1] == 0
    actor, admin = acting(db, world, "admin")
    values = dict.fromkeys(risks.SETTING_FIELDS, "30") | {"escalate_days_low": "4"}
    risks.update_settings(db, actor, admin, parse(risks.SettingsForm, values))
    rows, _ = issues.search(db, access, issues.IssueQuery(escalation=True))
    assert [r.issue.code for r in rows] == [young.code]


def test_managers_see_flagged_issues_of_their_projects_only(db, world):
    flagged = make_issue(db, world, priority="critical", raised_on="2026-11-01")
    make_issue(db, world, priority="low", raised_on="2026-11-19")
    manager, _ = acting(db, world, "manager")
    staff, _ = acting(db, world, "staff")
    found = issues.flagged_for_manager(db, manager)
    assert [(f.issue.code, f.age, f.allowed) for f in found] == [(flagged.code, 19, 3)]
    assert issues.flagged_for_manager(db, staff) == []


def test_overdue_in_python_and_sql_agree(db, world):
    late = make_issue(db, world, need_by="2026-11-19", raised_on="2026-11-02")
    make_issue(db, world, need_by="2026-11-20")
    make_issue(db, world, need_by="2026-11-01", status="closed", resolution="Done", raised_on="2026-10-01")
    _, access = acting(db, world, "viewer")
    rows, _ = issues.search(db, access, issues.IssueQuery(sort="code"), common.EVERY)
    assert [r.issue.code for r in rows if r.overdue] == [late.code]
    assert [r.issue.code for r in issues.search(db, access, issues.IssueQuery(overdue=True))[0]] == [late.code]


def test_overdue_action_items_in_python_and_sql_agree(db, world):
    from tracker.register.actions.models import ActionItem

    issue = make_issue(db, world)
    actor, access = acting(db, world, "staff")
    for due, done in (("2026-11-19", False), ("2026-11-20", False), ("2026-11-01", True), ("", False)):
        item = actions.add(
            db, actor, access, issue, parse(actions.ActionForm, {"description": f"due {due}", "due_date": due})
        )
        if done:
            actions.set_done(db, actor, access, item, True, item.version)
    items = db.exec(select(ActionItem).order_by(ActionItem.id)).all()
    late = db.exec(select(ActionItem.id).where(actions.overdue_clause(TODAY)).order_by(ActionItem.id)).all()
    assert late == [i.id for i in items if actions.is_overdue(i, TODAY)] == [items[0].id]


def test_converting_a_risk_opens_a_linked_issue_and_realizes_the_risk_in_one_action(db, world):
    risk = make_risk(
        db,
        world,
        probability="4",
        impact="5",
        owner_id=str(world.ids["staff"]),
        trigger="Sample fails",
        contingency_plan="Run parallel for a month",
    )
    actor, access = acting(db, world, "manager")
    issue = issues.convert(db, actor, access, risk, risk.version)
    assert (issue.code, issue.risk_id, issue.priority, issue.owner_id) == (
        "I-001",
        risk.id,
        "critical",
        world.ids["staff"],
    )
    assert issue.title == risk.title and "Trigger: Sample fails" in issue.description
    assert "Run parallel" in issue.description and "score 20, critical" in issue.impact
    assert risk.status == "realized" and issues.from_risk(db, risk.id).id == issue.id
    trail = {(e.entity_type, e.action): e.changes for e in db.exec(select(AuditEvent))}
    assert trail[("risk", "convert")] == {"status": ["open", "realized"], "issue": [None, "I-001"]}
    assert trail[("issue", "create")]["from_risk"] == [None, risk.code]
    with pytest.raises(Conflict):
        issues.convert(db, actor, access, risk)
    assert len(db.exec(select(Issue)).all()) == 1


def test_conversion_refuses_a_stale_risk_and_viewers(db, world):
    risk = make_risk(db, world)
    actor, access = acting(db, world, "manager")
    with pytest.raises(StaleEdit):
        issues.convert(db, actor, access, risk, risk.version + 1)
    viewer, v_access = acting(db, world, "viewer")
    with pytest.raises(Forbidden):
        issues.convert(db, viewer, v_access, risk)
    assert risk.status == "open" and db.exec(select(Issue)).first() is None


def test_the_decision_log_is_dated_and_audited(db, world):
    issue = make_issue(db, world)
    actor, access = acting(db, world, "manager")
    form = parse(
        issues.DecisionForm,
        {
            "decision": "Extend UAT by a week",
            "decided_by": "Steering committee",
            "rationale": "No test data before then",
        },
    )
    issues.add_decision(db, actor, access, issue, form)
    with pytest.raises(FormError) as err:
        issues.add_decision(db, actor, access, issue, form.model_copy(update={"decided_on": TODAY + timedelta(days=1)}))
    assert "decided_on" in err.value.errors
    with pytest.raises(FormError):
        parse(issues.DecisionForm, {"decision": "", "decided_by": ""})
    assert [(d.decided_on, d.decided_by) for d in issues.decisions_of(db, issue.id)] == [(TODAY, "Steering committee")]
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "decision")).one()
    assert event.entity_type == "issue" and event.changes["decision"][1] == "Extend UAT by a week"


def test_action_items_belong_to_a_plan_or_an_issue_and_their_changes_land_on_its_trail(db, world):
    risk = make_risk(db, world)
    issue = make_issue(db, world)
    actor, access = acting(db, world, "staff")
    with pytest.raises(FormError) as err:
        actions.add(db, actor, access, risk, parse(actions.ActionForm, {"description": "Sample again"}))
    assert "plan" in err.value.errors
    item = actions.add(
        db,
        actor,
        access,
        risk,
        parse(
            actions.ActionForm,
            {
                "description": "Sample 5% more records",
                "plan": "mitigation",
                "owner_id": str(world.ids["staff"]),
                "due_date": "2026-11-19",
            },
        ),
    )
    on_issue = actions.add(db, actor, access, issue, parse(actions.ActionForm, {"description": "Call vendor"}))
    assert (item.plan, on_issue.plan) == ("mitigation", "issue")
    assert actions.is_overdue(item, TODAY) and not actions.is_overdue(on_issue, TODAY)
    _, viewer_access = acting(db, world, "viewer")
    assert [r.risk.code for r in risks.search(db, viewer_access, risks.RiskQuery(overdue=True))[0]] == [risk.code]
    actions.set_done(db, actor, access, item, True, item.version)
    assert item.done_at is not None and not actions.is_overdue(item, TODAY)
    assert risks.search(db, viewer_access, risks.RiskQuery(overdue=True))[1] == 0
    with pytest.raises(StaleEdit):
        actions.set_done(db, actor, access, item, False, item.version - 1)
    trail = [
        e.action for e in db.exec(select(AuditEvent).where(AuditEvent.entity_type == "risk").order_by(AuditEvent.id))
    ]
    assert trail == ["create", "add_action", "update_action"]
    with pytest.raises(Forbidden):
        actions.add(db, *acting(db, world, "viewer"), issue, parse(actions.ActionForm, {"description": "x"}))


def test_my_action_items_are_the_open_ones_i_own(db, world):
    risk = make_risk(db, world)
    actor, access = acting(db, world, "staff")
    mine = actions.add(
        db,
        actor,
        access,
        risk,
        parse(
            actions.ActionForm,
            {
                "description": "Mine",
                "plan": "contingency",
                "owner_id": str(world.ids["staff"]),
                "due_date": "2026-11-01",
            },
        ),
    )
    done = actions.add(
        db,
        actor,
        access,
        risk,
        parse(actions.ActionForm, {"description": "Done", "plan": "contingency", "owner_id": str(world.ids["staff"])}),
    )
    actions.set_done(db, actor, access, done, True, done.version)
    actions.add(
        db,
        actor,
        access,
        risk,
        parse(
            actions.ActionForm, {"description": "Theirs", "plan": "contingency", "owner_id": str(world.ids["manager"])}
        ),
    )
    found = actions.mine(db, actor)
    assert [(a.item.id, a.parent_kind, a.parent_code) for a in found] == [(mine.id, "risks", risk.code)]
