"""Risk rules: codes, review cadence, score history, due for review, realized only by conversion, audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from tests.conftest import at_noon
from tests.register.conftest import RISK, acting, make_risk
from tracker.audit.models import AuditEvent
from tracker.core.errors import Forbidden, FormError, StaleEdit
from tracker.core.forms import parse
from tracker.register import common
from tracker.register.risks import service as risks
from tracker.register.risks.models import RegisterSettings, Risk, RiskScoreHistory

TODAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _today(clock):
    clock.set(at_noon(TODAY))


def _update(db, world, risk, role="staff", **changes):
    actor, access = acting(db, world, role)
    return risks.update(db, actor, access, risk, parse(risks.RiskForm, risks.form_values(db, risk) | changes))


def test_codes_count_up_per_project_and_a_taken_code_is_refused(db, world):
    assert make_risk(db, world).code == "R-001"
    make_risk(db, world, code="r-041")
    assert make_risk(db, world).code == "R-042"
    with pytest.raises(FormError) as err:
        make_risk(db, world, code="R-041")
    assert "already used" in err.value.errors["code"]


def test_next_review_defaults_from_the_cadence_of_the_level_and_the_project_can_change_it(db, world):
    assert make_risk(db, world, probability="5", impact="5").next_review_date == TODAY + timedelta(days=7)
    assert make_risk(db, world, probability="3", impact="4").next_review_date == TODAY + timedelta(days=14)
    assert make_risk(db, world, probability="1", impact="1").next_review_date == TODAY + timedelta(days=90)
    assert make_risk(db, world, next_review_date="2026-12-01").next_review_date == date(2026, 12, 1)
    actor, access = acting(db, world, "admin")
    form = parse(risks.SettingsForm, dict.fromkeys(risks.SETTING_FIELDS, "5"))
    risks.update_settings(db, actor, access, form)
    assert make_risk(db, world, probability="1", impact="1").next_review_date == TODAY + timedelta(days=5)
    manager, manager_access = acting(db, world, "manager")  # the project's managers set its cadences
    risks.update_settings(
        db, manager, manager_access, parse(risks.SettingsForm, dict.fromkeys(risks.SETTING_FIELDS, "6"))
    )
    assert make_risk(db, world, probability="1", impact="1").next_review_date == TODAY + timedelta(days=6)
    staff, staff_access = acting(db, world, "staff")
    with pytest.raises(Forbidden):
        risks.update_settings(db, staff, staff_access, form)


def test_every_probability_or_impact_change_is_kept_with_who_and_when(db, world):
    risk = make_risk(db, world)
    _update(db, world, risk, impact=5)
    _update(db, world, risk, title="Renamed only")
    _update(db, world, risk, role="manager", probability=2)
    rows = risks.history_of(db, risk.id)
    assert [(h.probability, h.impact, who) for h, who in rows] == [
        (3, 4, "Staff Person"),
        (3, 5, "Staff Person"),
        (2, 5, "Manager Person"),
    ]


def test_a_rising_level_brings_the_next_review_forward_to_the_new_levels_cadence(db, world, clock):
    risk = make_risk(db, world, probability="1", impact="2")  # low: reviewed in 90 days
    assert risk.next_review_date == TODAY + timedelta(days=90)
    clock.set(at_noon(TODAY + timedelta(days=10)))
    _update(db, world, risk, probability=3)  # medium (6): 30 days from the day it rose
    assert risk.next_review_date == TODAY + timedelta(days=40)
    _update(db, world, risk, impact=3)  # still medium (9): the date stays
    assert risk.next_review_date == TODAY + timedelta(days=40)
    _update(db, world, risk, probability=5, impact=4)  # critical: within the week
    assert risk.next_review_date == TODAY + timedelta(days=17)
    events = db.exec(select(AuditEvent).where(AuditEvent.entity_type == "risk").order_by(AuditEvent.id)).all()
    assert [e.changes.get("next_review_date") for e in events[1:]] == [
        [(TODAY + timedelta(days=90)).isoformat(), (TODAY + timedelta(days=40)).isoformat()],
        None,
        [(TODAY + timedelta(days=40)).isoformat(), (TODAY + timedelta(days=17)).isoformat()],
    ]


def test_a_rising_level_keeps_an_earlier_review_and_a_falling_level_never_moves_it(db, world):
    soon = make_risk(db, world, probability="1", impact="1", next_review_date=(TODAY + timedelta(days=3)).isoformat())
    _update(db, world, soon, probability=4, impact=4)  # high: 14 days, but it is reviewed in 3 already
    assert soon.next_review_date == TODAY + timedelta(days=3)
    late = make_risk(db, world, probability="1", impact="1", next_review_date="2027-06-01")
    _update(db, world, late, probability=5, impact=5, next_review_date="2027-07-01")  # the same edit asks for later
    assert late.next_review_date == TODAY + timedelta(days=7)
    _update(db, world, late, probability=1, impact=1)  # falling: the critical cadence's date stays
    assert late.next_review_date == TODAY + timedelta(days=7)


def test_due_for_review_in_python_and_in_sql_agree(db, world):
    due = make_risk(db, world, next_review_date=TODAY.isoformat())
    make_risk(db, world, next_review_date=(TODAY + timedelta(days=1)).isoformat())
    late = make_risk(db, world, next_review_date=(TODAY - timedelta(days=3)).isoformat())
    closed = make_risk(db, world, next_review_date=(TODAY - timedelta(days=3)).isoformat(), status="closed")
    _, access = acting(db, world, "viewer")
    rows, _ = risks.search(db, access, risks.RiskQuery(sort="code"), common.EVERY)
    assert [r.risk.code for r in rows if r.due_for_review] == [due.code, late.code]
    filtered, total = risks.search(db, access, risks.RiskQuery(due=True, sort="code"))
    assert [r.risk.code for r in filtered] == [due.code, late.code] and total == 2
    assert not risks.due_for_review(closed, TODAY)


def test_marking_reviewed_moves_the_next_review_one_cadence_on(db, world):
    risk = make_risk(db, world, probability="5", impact="4", next_review_date="2026-11-01")
    actor, access = acting(db, world, "staff")
    risks.mark_reviewed(db, actor, access, risk, risk.version)
    assert (risk.last_reviewed_on, risk.next_review_date) == (TODAY, TODAY + timedelta(days=7))
    with pytest.raises(StaleEdit):
        risks.mark_reviewed(db, actor, access, risk, risk.version - 1)


def test_a_risk_becomes_realized_only_through_conversion(db, world):
    with pytest.raises(FormError) as err:
        make_risk(db, world, status="realized")
    assert "status" in err.value.errors
    risk = make_risk(db, world)
    with pytest.raises(FormError) as err:
        _update(db, world, risk, status="realized")
    assert "Convert" in err.value.errors["status"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"probability": "6"}, "probability"),
        ({"impact": "0"}, "impact"),
        ({"probability": "likely"}, "probability"),
        ({"category": "weather"}, "category"),
        ({"residual_probability": "2"}, "residual_impact"),
        ({"next_review_date": "soon"}, "next_review_date"),
        ({"code": "R 1"}, "code"),
        ({"response": "ignore"}, "response"),
        ({"title": "x" * 201}, "title"),
        ({"residual_probability": "4", "residual_impact": "4"}, "residual_probability"),
    ],
)
def test_bad_risks_are_refused_field_by_field_and_nothing_is_written(db, world, change, field):
    with pytest.raises(FormError) as err:
        make_risk(db, world, **change)
    assert field in err.value.errors
    assert db.exec(select(Risk)).first() is None


def test_a_residual_score_above_the_inherent_score_is_refused_whichever_side_moves(db, world):
    with pytest.raises(FormError) as err:
        make_risk(db, world, residual_probability="4", residual_impact="4")  # 16 after mitigation, 12 before
    assert err.value.errors == {
        "residual_probability": "The residual score 16 (4 × 4) is above the inherent score "
        "12 (3 × 4): mitigation cannot make a risk worse."
    }
    risk = make_risk(db, world, residual_probability="4", residual_impact="3")  # equal is allowed
    with pytest.raises(FormError) as err:
        _update(db, world, risk, probability=2)  # the inherent score drops below the residual one
    assert "inherent score 8 (2 × 4)" in err.value.errors["residual_probability"]
    db.refresh(risk)
    assert risk.probability == 3


def test_owners_and_deliverables_must_belong_to_the_project(db, world):
    with pytest.raises(FormError) as err:
        make_risk(db, world, owner_id=str(world.ids["outsider"]))
    assert "owner_id" in err.value.errors
    with pytest.raises(FormError) as err:  # contractors cannot see the register, so cannot own in it
        make_risk(db, world, owner_id=str(world.ids["contractor"]))
    assert "owner_id" in err.value.errors
    with pytest.raises(FormError) as err:
        make_risk(db, world, deliverable_ids=["999999"])
    assert "deliverable_ids" in err.value.errors
    assert make_risk(db, world, owner_id=str(world.ids["viewer"])).owner_id == world.ids["viewer"]


def test_viewers_cannot_change_the_register_and_contractors_cannot_open_it(db, world):
    with pytest.raises(Forbidden):
        make_risk(db, world, role="viewer")
    with pytest.raises(Forbidden):
        acting(db, world, "contractor")[1].require(risks.Perm.VIEW_REGISTER)


def test_a_stale_edit_is_refused_with_the_stored_values(db, world):
    risk = make_risk(db, world)
    old = risks.form_values(db, risk)
    _update(db, world, risk, impact=5)
    actor, access = acting(db, world, "manager")
    with pytest.raises(StaleEdit) as err:
        risks.update(db, actor, access, risk, parse(risks.RiskForm, old | {"title": "Mine"}))
    assert err.value.current["impact"] == 5
    assert risk.title == RISK["title"]


def test_create_and_change_are_audited_with_their_fields(db, world):
    risk = make_risk(db, world)
    _update(db, world, risk, impact=5, mitigation_plan="Second sample")
    events = db.exec(select(AuditEvent).where(AuditEvent.entity_type == "risk").order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["create", "update"]
    assert events[0].changes["probability"] == [None, 3]
    assert events[1].changes == {"impact": [4, 5], "mitigation_plan": ["", "Second sample"]}


def test_heat_map_counts_active_risks_now_and_where_they_stood_a_period_ago(db, world):
    a = make_risk(db, world, probability="2", impact="2")
    b = make_risk(db, world, probability="4", impact="4")
    c = make_risk(db, world, probability="3", impact="3")
    make_risk(db, world, probability="3", impact="3")  # never moved
    closed = make_risk(db, world, probability="4", impact="4", status="closed")
    week_ago = risks.utcnow() - timedelta(days=8)
    for h in db.exec(select(RiskScoreHistory)).all():
        h.at = week_ago
    _update(db, world, a, probability=5)
    _update(db, world, b, impact=1)
    _update(db, world, c, impact=5)
    _update(db, world, c, impact=3)  # moved and came back: where it stood
    _update(db, world, closed, probability=1)  # not active: on neither map
    make_risk(db, world, probability="1", impact="1")  # new since then
    _, access = acting(db, world, "viewer")
    heat = risks.heat_map(db, access)
    assert heat.now == {(5, 2): 1, (4, 1): 1, (3, 3): 2, (1, 1): 1}
    assert heat.then == {(2, 2): 1, (4, 4): 1, (3, 3): 2}
    assert (heat.up, heat.down, heat.new, heat.total) == (1, 1, 1, 5)


def test_register_settings_default_until_saved(db, world):
    _, access = acting(db, world, "viewer")
    assert db.get(RegisterSettings, access.project.id) is None
    assert common.settings_for(db, access.project.id).review_days("critical") == 7
