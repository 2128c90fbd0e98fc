"""Saved report rules: who builds, sees and changes which report; audit events; stale edits; stale definitions."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.library.conftest import definition, save
from tests.register.conftest import acting
from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.audit.models import AuditEvent
from tracker.core.errors import Forbidden, FormError, NotFound, StaleEdit
from tracker.library import service
from tracker.library.models import SavedReport
from tracker.library.sources import parse_definition

RISKS = definition("risks", ["code", "title"], [("status", "in", ["open"])])
DELIVERABLES = definition("deliverables", ["code", "status"])


def _names(db, world, role, **query) -> list[str]:
    actor, access = acting(db, world, role)
    rows = service.library(db, actor, [access], service.LibraryQuery(**query))
    return [r.report.name for r in rows]


@pytest.fixture
def reports(db, world):
    return {
        "staff private risks": save(db, world, "staff", RISKS, "Staff private risks"),
        "staff shared risks": save(
            db,
            world,
            "staff",
            RISKS,
            "Staff shared risks",
            shared=True,
            description="Open risks for the steering committee",
        ),
        "manager shared deliverables": save(
            db, world, "manager", DELIVERABLES, "Manager shared deliverables", shared=True
        ),
    }


def test_members_see_their_own_and_the_shared_reports_of_sources_their_role_sees(db, world, reports):
    assert _names(db, world, "staff") == ["Manager shared deliverables", "Staff private risks", "Staff shared risks"]
    assert _names(db, world, "manager") == ["Manager shared deliverables", "Staff shared risks"]
    assert _names(db, world, "viewer") == ["Manager shared deliverables", "Staff shared risks"]
    assert _names(db, world, "contractor") == ["Manager shared deliverables"]
    assert _names(db, world, "admin") == ["Manager shared deliverables", "Staff shared risks"]


def test_the_library_searches_name_and_description_and_filters_by_source_and_owner(db, world, reports):
    assert _names(db, world, "staff", q="steering") == ["Staff shared risks"]
    assert _names(db, world, "staff", q="PRIVATE") == ["Staff private risks"]
    assert _names(db, world, "staff", source="deliverables") == ["Manager shared deliverables"]
    assert _names(db, world, "staff", whose="mine") == ["Staff private risks", "Staff shared risks"]
    assert _names(db, world, "staff", whose="shared") == ["Manager shared deliverables", "Staff shared risks"]
    assert _names(db, world, "staff", source="bogus", whose="bogus") == _names(db, world, "staff")


def test_a_private_report_is_hidden_and_a_source_the_role_cannot_see_is_refused(db, world, reports):
    for role in ("manager", "viewer"):
        actor, access = acting(db, world, role)
        with pytest.raises(NotFound):
            service.get_for(db, access, actor, reports["staff private risks"].id)
        assert service.get_for(db, access, actor, reports["staff shared risks"].id)
    actor, access = acting(db, world, "contractor")
    with pytest.raises(Forbidden):
        service.get_for(db, access, actor, reports["staff shared risks"].id)
    assert service.get_for(db, access, actor, reports["manager shared deliverables"].id)
    outsider = principal(db.get(User, world.ids["outsider"]))
    with pytest.raises(NotFound):
        service.load_for(db, outsider, reports["staff shared risks"].id)


def test_only_managers_and_staff_build_reports(db, world):
    for role in ("viewer", "contractor", "admin"):
        with pytest.raises(Forbidden):
            save(db, world, role, DELIVERABLES)


def test_saving_is_audited_and_a_stale_edit_is_refused(db, world, reports):
    report = reports["staff shared risks"]
    actor, access = acting(db, world, "staff")
    form = service.ReportForm(name="Renamed", description="", shared=False, version=report.version)
    service.update(db, actor, access, report, form, parse_definition(DELIVERABLES))
    assert (report.name, report.shared, report.source, report.version) == ("Renamed", False, "deliverables", 2)
    events = db.exec(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "saved_report", AuditEvent.entity_id == report.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].changes["name"] == ["Staff shared risks", "Renamed"]
    assert events[1].changes["definition"][1]["source"] == "deliverables"
    with pytest.raises(StaleEdit) as err:
        service.update(db, actor, access, report, form.model_copy(update={"version": 1}), parse_definition(RISKS))
    assert err.value.current["name"] == "Renamed"


def test_owners_change_their_reports_and_managers_the_shared_ones(db, world, reports):
    manager, m_access = acting(db, world, "manager")
    staff, s_access = acting(db, world, "staff")
    shared_by_staff = reports["staff shared risks"]
    form = service.ReportForm(name="Managed", shared=True)
    service.update(db, manager, m_access, shared_by_staff, form, parse_definition(RISKS))
    with pytest.raises(Forbidden):
        service.update(db, staff, s_access, reports["manager shared deliverables"], form, parse_definition(RISKS))
    with pytest.raises(Forbidden):
        service.delete(db, staff, s_access, reports["manager shared deliverables"], 1)
    service.delete(db, manager, m_access, shared_by_staff, shared_by_staff.version)
    assert db.get(SavedReport, shared_by_staff.id) is None
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "delete")).one()
    assert (event.entity_type, event.entity_id, event.entity_label) == ("saved_report", shared_by_staff.id, "Managed")


def test_a_duplicate_is_a_private_copy_for_whoever_copied_it(db, world, reports):
    manager, access = acting(db, world, "manager")
    copy = service.duplicate(db, manager, access, reports["staff shared risks"])
    assert (copy.name, copy.owner_id, copy.shared) == ("Copy of Staff shared risks", manager.id, False)
    assert copy.definition == reports["staff shared risks"].definition
    event = db.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "saved_report", AuditEvent.entity_id == copy.id)
    ).one()
    assert event.changes["copied_from"] == [None, "Staff shared risks"]


def test_a_definition_that_no_longer_validates_is_reported_not_run(db, world, reports):
    report = reports["staff shared risks"]
    report.definition = {**report.definition, "columns": ["code", "retired_column"]}
    db.flush()
    definition_, problems = service.stored_definition(report)
    assert definition_ is None and "retired_column" in problems["columns"]
    manager, access = acting(db, world, "manager")
    with pytest.raises(FormError):
        service.duplicate(db, manager, access, report)


def test_a_role_may_not_save_a_report_over_a_source_it_cannot_see(db, world):
    from tracker.projects.models import Membership

    membership = db.exec(select(Membership).where(Membership.user_id == world.ids["staff"])).one()
    membership.role = "contractor"
    db.flush()
    with pytest.raises(Forbidden):  # contractors build nothing at all
        save(db, world, "staff", RISKS)
