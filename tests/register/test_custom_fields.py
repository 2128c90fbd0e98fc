"""Custom fields on register records: a project's managers define them per kind; each type's values are checked
(an error beside the field, the input kept), shown on the record, as list columns and filters, set in bulk, exported
and imported, read and written through the API, and each change is part of the record's update event."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from tests.register.conftest import RISK, acting, make_issue, make_risk
from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.audit.models import AuditEvent
from tracker.core.errors import FormError
from tracker.core.forms import parse
from tracker.core.spreadsheet import read_table
from tracker.library import service as library
from tracker.library.sources import parse_definition
from tracker.projects import service as projects
from tracker.register.custom import service as custom
from tracker.register.custom.models import CustomField, CustomValue
from tracker.register.kinds import KINDS
from tracker.register.risks.models import Risk
from tracker.transfer import service as transfer
from tracker.transfer.columns import RISKS


def define(db, world, kind="risks", role="manager", **values):
    actor, access = acting(db, world, role)
    form = parse(custom.FieldForm, {"kind": kind, "label": "Funding source", "type": "choice"} | values)
    return custom.define(db, actor, access, form)


@pytest.fixture
def fields(db, world):
    """Risks: a choice, a number, a date, a member, a text and several choices."""
    out = {
        "funding": define(db, world, choices=["Federal", "State", "Grant"], required=True),
        "hours": define(db, world, label="Vendor SLA hours", type="number", help="Hours the vendor has to respond."),
        "signed": define(db, world, label="Contract signed", type="date"),
        "analyst": define(db, world, label="Analyst", type="user"),
        "ticket": define(db, world, label="Ticket ref", type="text"),
        "areas": define(db, world, label="Areas", type="choices", choices=["Finance", "HR", "IT"]),
    }
    db.commit()
    return out


def form_of(fields, **values):
    return {custom.input_name(fields[k]): v for k, v in values.items()}


def set_values(db, world, record, values, kind="risks"):
    """Custom values set on a record as its service saves them, the rest of it as it is."""
    actor, access = acting(db, world, "staff")
    k = KINDS[kind]
    return custom.save(db, actor, access, k, record, k.service.form_values(db, record), values, partial=True)


def test_a_manager_defines_a_field_on_the_settings_page_and_errors_come_back_beside_the_field(as_user, db, world):
    manager = as_user("manager")
    assert "Custom fields of TST" in manager.get("/projects/TST/custom-fields").text
    r = manager.post("/projects/TST/custom-fields", {"kind": "risks", "label": "Funding source", "type": "choice"})
    assert r.status_code == 422
    assert 'id="f-choices-error"' in r.text and "Give the choices, one a line." in r.text
    assert 'value="Funding source"' in r.text  # input kept
    r = manager.post(
        "/projects/TST/custom-fields",
        {
            "kind": "risks",
            "label": "Funding source",
            "type": "choice",
            "choices": "Federal\nState\n",
            "required": "true",
        },
    )
    assert r.status_code == 303
    f = db.exec(select(CustomField)).one()
    assert (f.key, f.choices, f.required, f.entity) == ("funding_source", ["Federal", "State"], True, "risk")
    r = manager.post("/projects/TST/custom-fields", {"kind": "risks", "label": "funding source", "type": "text"})
    assert r.status_code == 422 and "already have a field called" in r.text
    r = manager.post("/projects/TST/custom-fields", {"kind": "risks", "label": "Status", "type": "text"})
    assert r.status_code == 422 and "A risk already has a field called" in r.text


def test_only_managers_define_fields(as_user, db, world):
    for role in ("staff", "contractor", "viewer"):
        assert as_user(role).get("/projects/TST/custom-fields").status_code == 403
        r = as_user(role).post("/projects/TST/custom-fields", {"kind": "risks", "label": "X", "type": "text"})
        assert r.status_code == 403
    assert as_user("outsider").get("/projects/TST/custom-fields").status_code == 404


def test_each_type_is_checked_beside_its_field_with_the_input_kept(as_user, db, world, fields):
    staff = as_user("staff")
    page = staff.get("/projects/TST/risks/new").text
    hours = custom.input_name(fields["hours"])
    assert f'aria-describedby="f-{hours}-help"' in page and "Hours the vendor has to respond." in page
    data = RISK | {"owner_id": str(world.ids["staff"]), "code": ""}
    bad = form_of(fields, funding="", hours="lots", signed="31/03/2026", analyst=str(world.ids["outsider"]))
    bad |= form_of(fields, areas=["HR", "Payroll"])
    r = staff.post("/projects/TST/risks", data | bad)
    assert r.status_code == 422
    for key, message in (
        ("funding", "Funding source is required."),
        ("hours", "Give a number, such as 48 or 12.5."),
        ("signed", "Give a date as 2026-03-31."),
        ("analyst", "Choose a member of this project."),
        ("areas", "“Payroll” is not one of the choices."),
    ):
        assert f'id="f-{custom.input_name(fields[key])}-error"' in r.text, key
        assert message in r.text, key
    assert 'value="lots"' in r.text and 'value="31/03/2026"' in r.text
    good = form_of(fields, funding="State", hours="48", signed="2026-03-31", analyst=str(world.ids["viewer"]))
    good |= form_of(fields, ticket="INC-4711", areas=["IT", "HR"])
    r = staff.post("/projects/TST/risks", data | good)
    assert r.status_code == 303, r.text
    risk = db.exec(select(Risk)).one()
    page = staff.get(f"/projects/TST/risks/{risk.id}").text
    for shown in ("State", "48", "31 Mar 2026", "Viewer Person", "INC-4711", "HR, IT"):
        assert shown in page, shown
    created = db.exec(select(AuditEvent).where(AuditEvent.entity_type == "risk")).one()
    assert created.changes["Funding source"] == [None, "State"]
    assert created.changes["Areas"] == [None, ["HR", "IT"]]
    assert created.changes["Analyst"] == [None, "Viewer Person"]


def test_a_value_changed_alone_moves_the_version_and_is_one_update_event_and_stale_is_409(as_user, db, world, fields):
    risk = make_risk(db, world)
    actor, access = acting(db, world, "staff")
    kind = KINDS["risks"]
    values = kind.service.form_values(db, risk)
    custom.save(db, actor, access, kind, risk, values, {fields["funding"].id: "Federal"}, partial=True)
    db.commit()
    assert risk.version == 2
    staff = as_user("staff")
    edit = staff.get(f"/projects/TST/risks/{risk.id}/edit").text
    assert "Federal" in edit
    form = values | {"version": "2"} | form_of(fields, funding="Grant", hours="12.5")
    form = {k: ("" if v is None else v) for k, v in form.items()}
    r = staff.post(f"/projects/TST/risks/{risk.id}/edit", form)
    assert r.status_code == 303, r.text
    db.refresh(risk)
    assert risk.version == 3
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "update").order_by(AuditEvent.id.desc())).first()
    assert event.changes == {"Funding source": ["Federal", "Grant"], "Vendor SLA hours": [None, "12.5"]}
    history = staff.get(f"/projects/TST/risks/{risk.id}").text
    assert "Funding source" in history and "Federal" in history and "Grant" in history
    r = staff.post(f"/projects/TST/risks/{risk.id}/edit", form | form_of(fields, funding="State"))
    assert r.status_code == 409
    assert [v.text_value for v in db.exec(select(CustomValue).where(CustomValue.field_id == fields["funding"].id))] == [
        "Grant"
    ]


def test_a_retired_field_leaves_the_forms_and_keeps_its_values(as_user, db, world, fields):
    risk = make_risk(db, world)
    actor, access = acting(db, world, "staff")
    kind = KINDS["risks"]
    custom.save(db, actor, access, kind, risk, kind.service.form_values(db, risk), {fields["ticket"].id: "T-1"}, True)
    m_actor, m_access = acting(db, world, "manager")
    f = fields["ticket"]
    custom.change(
        db,
        m_actor,
        m_access,
        f,
        parse(custom.FieldForm, custom.definition_values(f) | {"retired": True, "choices": []}),
    )
    db.commit()
    staff = as_user("staff")
    assert "Ticket ref" not in staff.get(f"/projects/TST/risks/{risk.id}/edit").text
    assert "Ticket ref" not in staff.get("/projects/TST/risks").text
    assert db.exec(select(CustomValue.text_value).where(CustomValue.field_id == f.id)).one() == "T-1"


def test_filters_equal_a_choice_or_member_range_a_number_or_date_and_search_a_text(as_user, db, world, fields):
    f = fields
    rows = {
        "a": {f["funding"].id: "Federal", f["hours"].id: "24", f["signed"].id: "2026-01-10", f["ticket"].id: "INC-1"},
        "b": {
            f["funding"].id: "State",
            f["hours"].id: "48",
            f["signed"].id: "2026-02-10",
            f["analyst"].id: world.ids["viewer"],
        },
        "c": {f["funding"].id: "Federal", f["hours"].id: "72.5", f["areas"].id: ["HR", "IT"]},
    }
    made = {}
    for name, values in rows.items():
        made[name] = make_risk(db, world, title=f"Risk {name}")
        set_values(db, world, made[name], values)
    db.commit()
    staff = as_user("staff")
    page = staff.get("/projects/TST/risks").text
    assert ">Funding source</th>" in page and ">Vendor SLA hours</th>" in page
    assert "72.5" in page and "HR, IT" in page and "Viewer Person" in page

    def found(**params):
        html = staff.get("/projects/TST/risks", params=params).text
        return {n for n in rows if f">Risk {n}<" in html}

    assert found(cf_funding_source="Federal") == {"a", "c"}
    assert found(cf_vendor_sla_hours_from="30") == {"b", "c"}
    assert found(cf_vendor_sla_hours_from="30", cf_vendor_sla_hours_to="50") == {"b"}
    assert found(cf_contract_signed_to="2026-01-31") == {"a"}
    assert found(cf_analyst=str(world.ids["viewer"])) == {"b"}
    assert found(cf_ticket_ref="inc") == {"a"}
    assert found(cf_areas="IT") == {"c"}
    assert found(cf_vendor_sla_hours_from="lots") == {"a", "b", "c"}  # a word filters nothing
    # the API's list takes the same filters
    r = staff.api("GET", "/api/v1/projects/TST/risks", params={"cf_funding_source": "State"})
    assert [i["title"] for i in r.json()["items"]] == ["Risk b"]
    assert r.json()["items"][0]["custom_fields"]["vendor_sla_hours"] == 48
    # a field that is no column of the list still filters it
    actor, access = acting(db, world, "manager")
    hours = f["hours"]
    custom.change(
        db,
        actor,
        access,
        hours,
        parse(custom.FieldForm, custom.definition_values(hours) | {"in_list": False, "choices": []}),
    )
    db.commit()
    assert ">Vendor SLA hours</th>" not in staff.get("/projects/TST/risks").text
    assert found(cf_vendor_sla_hours_from="30") == {"b", "c"}
    assert 'id="f-cf_vendor_sla_hours_from"' in staff.get("/projects/TST/risks").text


def test_a_list_with_custom_columns_runs_the_same_queries_for_few_and_many_rows_and_fields(
    as_user, db, world, count_queries
):
    staff = as_user("staff")

    def cost(n_rows, n_fields):
        for i in range(n_fields):
            define(db, world, label=f"Field {n_rows} {i}", type="choice", choices=["Yes", "No"])
        for i in range(n_rows):
            make_risk(db, world, title=f"Row {n_rows} {i}")
        db.commit()
        staff.get("/projects/TST/risks")
        with count_queries() as c:
            assert staff.get(f"/projects/TST/risks?cf_field_{n_rows}_0=Yes").status_code == 200
        return c.count

    assert cost(2, 1) == cost(20, 4)


def test_bulk_edit_sets_a_custom_field_on_the_ticked_rows_each_with_its_event(as_user, db, world, fields):
    a, b, c = (make_risk(db, world, title=f"Risk {n}") for n in "abc")
    db.commit()
    staff = as_user("staff")
    page = staff.get("/projects/TST/risks").text
    name = custom.input_name(fields["funding"])
    assert f'id="f-bulk-{name}"' in page
    r = staff.post(
        "/projects/TST/risks/bulk",
        {"pick": [f"{a.id}:{a.version}", f"{b.id}:{b.version}"], name: "Grant", "next": "/projects/TST/risks"},
    )
    assert r.status_code == 303, r.text
    values = custom.read(db, [fields["funding"]], [a.id, b.id, c.id])
    assert [values.get(x.id, fields["funding"]) for x in (a, b, c)] == ["Grant", "Grant", None]
    for x in (a, b):
        db.refresh(x)
        assert x.version == 2
    r = staff.post(
        "/projects/TST/risks/bulk",
        {"pick": [f"{c.id}:{c.version}"], name: "Lottery", "next": "/projects/TST/risks"},
    )
    assert r.status_code == 422 and "“Lottery” is not one of the choices." in r.text
    assert f'id="f-bulk-{name}-error"' in r.text
    # the API's bulk edit names the field by its key
    r = staff.api(
        "POST",
        "/api/v1/projects/TST/risks/bulk",
        json={
            "records": [{"id": c.id, "version": c.version}],
            "changes": {"custom_fields": {"funding_source": "State"}},
        },
    )
    assert r.status_code == 200 and r.json()["changed"] == [c.code], r.text


def test_the_api_reads_and_writes_custom_fields_by_key_or_label_and_refuses_bad_values(as_user, db, world, fields):
    staff = as_user("staff")
    body = {
        "title": "Vendor may miss the SLA",
        "probability": 3,
        "impact": 3,
        "owner_id": world.ids["staff"],
        "custom_fields": {"funding_source": "State", "Vendor SLA hours": 36, "analyst": world.ids["viewer"]},
    }
    r = staff.api("POST", "/api/v1/projects/TST/risks", json=body)
    assert r.status_code in (200, 201), r.text
    got = r.json()
    assert got["custom_fields"]["funding_source"] == "State"
    assert got["custom_fields"]["vendor_sla_hours"] == 36
    assert got["custom_fields"]["analyst"] == world.ids["viewer"]
    assert got["custom_fields"]["areas"] is None
    r = staff.api(
        "PATCH",
        f"/api/v1/risks/{got['id']}",
        json={"version": got["version"], "custom_fields": {"areas": ["IT"], "contract_signed": "2026-04-01"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["custom_fields"]["areas"] == ["IT"] and r.json()["custom_fields"]["funding_source"] == "State"
    assert r.json()["version"] == got["version"] + 1
    for bad, field in (
        ({"vendor_sla_hours": "many"}, "custom_fields.vendor_sla_hours"),
        ({"funding_source": "Lottery"}, "custom_fields.funding_source"),
        ({"analyst": world.ids["outsider"]}, "custom_fields.analyst"),
        ({"funding_source": None}, "custom_fields.funding_source"),
        ({"no_such_field": 1}, "custom_fields"),
    ):
        r = staff.api("PATCH", f"/api/v1/risks/{got['id']}", json={"version": got["version"] + 1, "custom_fields": bad})
        assert r.status_code == 422, (bad, r.text)
        assert field in r.text, (bad, r.text)
    r = staff.api("POST", "/api/v1/projects/TST/risks", json=body | {"custom_fields": {}})
    assert r.status_code == 422 and "custom_fields.funding_source" in r.text  # required
    r = staff.api("PATCH", f"/api/v1/risks/{got['id']}", json={"version": 1, "custom_fields": {"ticket_ref": "x"}})
    assert r.status_code == 409


def test_the_definitions_api_is_the_managers(as_user, db, world):
    body = {"kind": "issues", "label": "Vendor SLA hours", "type": "number"}
    for role in ("staff", "contractor", "viewer"):
        assert as_user(role).api("POST", "/api/v1/projects/TST/custom-fields", json=body).status_code == 403
    manager = as_user("manager")
    r = manager.api("POST", "/api/v1/projects/TST/custom-fields", json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["kind"], made["key"], made["type"]) == ("issues", "vendor_sla_hours", "number")
    r = manager.api("POST", "/api/v1/projects/TST/custom-fields", json=body | {"type": "choice"})
    assert r.status_code == 422 and "already have a field called" in r.text
    r = manager.api(
        "PATCH", f"/api/v1/projects/TST/custom-fields/{made['id']}", json={"version": made["version"], "retired": True}
    )
    assert r.status_code == 200 and r.json()["retired"] is True
    r = manager.api("PATCH", f"/api/v1/projects/TST/custom-fields/{made['id']}", json={"version": 1, "help": "x"})
    assert r.status_code == 409
    listed = as_user("contractor").api("GET", "/api/v1/projects/TST/custom-fields")
    assert listed.status_code == 200 and [f["key"] for f in listed.json()] == ["vendor_sla_hours"]


def test_issues_have_their_own_fields(as_user, db, world):
    ticket = define(db, world, kind="issues", label="Ticket ref", type="text")
    issue = make_issue(db, world)
    set_values(db, world, issue, {ticket.id: "SNOW-99"}, "issues")
    db.commit()
    staff = as_user("staff")
    assert "SNOW-99" in staff.get("/projects/TST/issues").text
    assert "Ticket ref" not in staff.get("/projects/TST/risks").text
    with pytest.raises(FormError):
        set_values(db, world, issue, {ticket.id: "x" * 501}, "issues")


def test_export_then_import_into_another_project_keeps_the_values_typed_and_by_label(db, world, fields):
    a, b = make_risk(db, world, title="Risk a"), make_risk(db, world, title="Risk b")
    f = fields
    set_values(
        db,
        world,
        a,
        {f["funding"].id: "Grant", f["hours"].id: "12.5", f["signed"].id: "2026-03-31", f["areas"].id: ["HR", "IT"]},
    )
    set_values(db, world, b, {f["funding"].id: "State", f["analyst"].id: world.ids["staff"], f["ticket"].id: "T-9"})
    _, tst = acting(db, world, "staff")
    headers, rows = transfer.export_table(db, tst, RISKS)
    for label in ("Funding source", "Vendor SLA hours", "Contract signed", "Analyst", "Ticket ref", "Areas"):
        assert label in headers
    cells = dict(zip(headers, rows[0], strict=True))
    assert cells["Vendor SLA hours"] == 12.5 and cells["Contract signed"] == date(2026, 3, 31)  # typed cells
    assert cells["Areas"] == "HR; IT"
    body, _, name = transfer.export_file(db, tst, RISKS, None, "xlsx")
    # OTH defines the same fields (by label), as its manager (the outsider) would
    outsider, oth = acting_in(db, world, "outsider", "OTH")
    admin, _ = acting_in(db, world, "admin", "OTH")
    admin_oth = projects.get_for(db, admin, "OTH")
    projects.add_member(db, admin, admin_oth, projects.MemberForm(user_id=world.ids["staff"], role="staff"))
    for x in fields.values():
        values = custom.definition_values(x) | {"kind": "risks", "choices": x.choices}
        custom.define(db, outsider, oth, parse(custom.FieldForm, values))
    oth_fields = {x.label: x for x in custom.definitions(db, oth.project.id, "risk")}
    plan = transfer.build_plan(
        db,
        oth,
        RISKS,
        read_table(name, body),
        transfer.auto_mapping(transfer.with_custom(db, oth, RISKS), read_table(name, body).headers),
    )
    assert [(r.action, r.errors) for r in plan.rows] == [("create", {})] * 2
    written = transfer.run(db, outsider, oth, plan, filename=name)
    assert len(written) == 2 and "Analyst" in plan.register.importable[-3].header + "Analyst"
    got = custom.read(db, list(oth_fields.values()), [written[0].record.id])
    rid = written[0].record.id
    assert got.get(rid, oth_fields["Funding source"]) == "Grant"
    assert got.get(rid, oth_fields["Vendor SLA hours"]) == Decimal("12.5")
    assert got.get(rid, oth_fields["Contract signed"]) == date(2026, 3, 31)
    assert got.get(rid, oth_fields["Areas"]) == ["HR", "IT"]
    other = custom.read(db, list(oth_fields.values()), [written[1].record.id])
    assert other.get(written[1].record.id, oth_fields["Analyst"]) == world.ids["staff"]
    # the same file again changes nothing; a changed cell is an update in the record's one event
    again = transfer.build_plan(
        db,
        oth,
        RISKS,
        read_table(name, body),
        transfer.auto_mapping(transfer.with_custom(db, oth, RISKS), headers),
    )
    assert again.rows[0].action == "unchanged", again.rows[0].changed
    code = written[0].record.code
    sheet = read_table("u.csv", f"Code,Title,P,I,SLA,Funding\n{code},Risk a,3,4,24,grant\n".encode())
    mapping = {0: "code", 1: "title", 2: "probability", 3: "impact", 4: "cf_vendor_sla_hours", 5: "cf_funding_source"}
    plan = transfer.build_plan(db, oth, RISKS, sheet, mapping)
    assert plan.rows[0].action == "update" and plan.rows[0].changed == ["Vendor SLA hours"]
    transfer.run(db, outsider, oth, plan)
    event = db.exec(
        select(AuditEvent).where(
            AuditEvent.entity_id == rid, AuditEvent.entity_type == "risk", AuditEvent.action == "update"
        )
    ).one()
    assert event.changes == {"Vendor SLA hours": ["12.5", "24"]}
    bad = read_table(
        "b.csv", b"Title,Probability,Impact,Vendor SLA hours,Funding source\nX,1,1,lots,Lottery\nY,1,1,1,\n"
    )
    plan = transfer.build_plan(
        db, oth, RISKS, bad, transfer.auto_mapping(transfer.with_custom(db, oth, RISKS), bad.headers)
    )
    assert plan.rows[0].errors["Vendor SLA hours"].startswith("Give a number")
    assert plan.rows[0].errors["Funding source"].startswith("Choose from")
    assert plan.rows[1].errors["Funding source"] == "Funding source is required."


def acting_in(db, world, role, key):
    actor = principal(db.get(User, world.ids[role]))
    return actor, projects.get_for(db, actor, key)


def test_readers_read_the_values_and_only_editors_write_them(as_user, db, world, fields):
    risk = make_risk(db, world)
    set_values(db, world, risk, {fields["funding"].id: "Grant"})
    db.commit()
    viewer = as_user("viewer")
    r = viewer.api("GET", f"/api/v1/risks/{risk.id}")
    assert r.status_code == 200 and r.json()["custom_fields"]["funding_source"] == "Grant"
    assert "Grant" in viewer.get(f"/projects/TST/risks/{risk.id}").text
    r = viewer.api(
        "PATCH", f"/api/v1/risks/{risk.id}", json={"version": risk.version, "custom_fields": {"ticket_ref": "x"}}
    )
    assert r.status_code == 403
    assert as_user("contractor").api("GET", f"/api/v1/risks/{risk.id}").status_code in (403, 404)
    assert as_user("outsider").api("GET", f"/api/v1/risks/{risk.id}").status_code == 404
    assert db.exec(select(CustomValue).where(CustomValue.field_id == fields["ticket"].id)).all() == []


def test_a_definition_keeps_the_choices_and_the_type_its_records_hold(db, world, fields):
    risk = make_risk(db, world)
    set_values(db, world, risk, {fields["funding"].id: "Grant", fields["hours"].id: "4"})
    actor, access = acting(db, world, "manager")
    f = fields["funding"]
    with pytest.raises(FormError) as caught:
        custom.change(
            db,
            actor,
            access,
            f,
            parse(custom.FieldForm, custom.definition_values(f) | {"choices": ["Federal", "State"]}),
        )
    assert caught.value.errors == {"choices": "Records hold Grant: keep it among the choices."}
    h = fields["hours"]
    with pytest.raises(FormError) as caught:
        custom.change(
            db, actor, access, h, parse(custom.FieldForm, custom.definition_values(h) | {"type": "text", "choices": []})
        )
    assert "type" in caught.value.errors
    # a field without values changes type freely; its help and order too, in one update event
    t = fields["ticket"]
    custom.change(
        db,
        actor,
        access,
        t,
        parse(custom.FieldForm, custom.definition_values(t) | {"type": "number", "choices": [], "position": 5}),
    )
    event = db.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "custom_field", AuditEvent.entity_id == t.id, AuditEvent.action == "update"
        )
    ).one()
    assert event.changes == {"type": ["text", "number"], "position": [0, 5]}
    with pytest.raises(FormError) as caught:
        custom.define(db, actor, access, parse(custom.FieldForm, {"kind": "nothing", "label": "X"}))
    assert caught.value.errors == {"kind": "Choose one of the registers."}


def test_saved_reports_show_and_filter_by_custom_fields(as_user, db, world, fields):
    f = fields
    made = {}
    for name, values in {
        "a": {
            f["funding"].id: "Federal",
            f["hours"].id: "24",
            f["areas"].id: ["HR"],
            f["analyst"].id: world.ids["viewer"],
        },
        "b": {f["funding"].id: "State", f["hours"].id: "72.5", f["areas"].id: ["HR", "IT"]},
        "c": {f["funding"].id: "Federal", f["signed"].id: "2026-02-01"},
    }.items():
        made[name] = make_risk(db, world, title=f"Risk {name}")
        set_values(db, world, made[name], values)
    actor, access = acting(db, world, "staff")
    sources = library.sources_of(db, access.project.id)
    columns = ["title", "cf_funding_source", "cf_vendor_sla_hours", "cf_areas", "cf_analyst", "cf_contract_signed"]

    def run(*filters, sort=()):
        raw = {"source": "risks", "columns": columns, "filters": list(filters), "sort": list(sort)}
        result = library.run(db, access, actor, parse_definition(raw, sources))
        return [dict(zip(result.headers, row, strict=True)) for row in result.rows]

    rows = run(sort=[{"field": "title"}])
    assert rows[0] == {
        "Title": "Risk a",
        "Funding source": "Federal",
        "Vendor SLA hours": 24,
        "Areas": "HR",
        "Analyst": "Viewer Person",
        "Contract signed": "",
    }
    assert rows[1]["Vendor SLA hours"] == 72.5 and rows[1]["Areas"] == "HR; IT"
    assert rows[2]["Contract signed"] == date(2026, 2, 1)
    titles = lambda *fs: sorted(r["Title"] for r in run(*fs))  # noqa: E731
    assert titles({"field": "cf_funding_source", "op": "equals", "value": "Federal"}) == ["Risk a", "Risk c"]
    assert titles({"field": "cf_vendor_sla_hours", "op": "gte", "value": 30}) == ["Risk b"]
    assert titles({"field": "cf_areas", "op": "in", "value": ["IT"]}) == ["Risk b"]
    assert titles({"field": "cf_analyst", "op": "equals", "value": world.ids["viewer"]}) == ["Risk a"]
    assert titles({"field": "cf_contract_signed", "op": "is_empty"}) == ["Risk a", "Risk b"]
    # without the project's fields, such a definition is refused by name
    with pytest.raises(FormError) as caught:
        parse_definition({"source": "risks", "columns": ["cf_funding_source"]})
    assert "columns" in caught.value.errors
    # on the page: saved, then run
    staff = as_user("staff")
    r = staff.post(
        "/projects/TST/saved-reports/",
        {"name": "By funding", "source": "risks", "previous_source": "risks", "columns": ["code", "cf_funding_source"]},
    )
    assert r.status_code == 303, r.text
    page = staff.get(r.headers["location"]).text
    assert "Funding source" in page and "Federal" in page


def test_a_risk_list_of_25_rows_with_three_custom_columns_and_six_filters_stays_under_40_kb(as_user, db, world, fields):
    actor, access = acting(db, world, "manager")
    for key in ("signed", "analyst", "areas"):  # filters only
        f = fields[key]
        custom.change(
            db,
            actor,
            access,
            f,
            parse(custom.FieldForm, custom.definition_values(f) | {"in_list": False, "choices": f.choices}),
        )
    long = "Interface partner cannot staff the joint test window before the county pilot begins in spring"
    for n in range(25):
        risk = make_risk(db, world, title=f"{long} {n}")
        set_values(
            db,
            world,
            risk,
            {fields["funding"].id: "State", fields["hours"].id: "48", fields["ticket"].id: "INC0041237"},
        )
    db.commit()
    page = as_user("staff").get("/projects/TST/risks")
    assert page.status_code == 200 and page.text.count("INC0041237") == 25
    assert len(page.content) <= 40_000, len(page.content)
