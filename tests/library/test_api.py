"""The saved reports API per role: catalog, create with clear 422s, list across projects, run, change with a
version, duplicate, delete, and preview without saving."""

from __future__ import annotations

from sqlmodel import select

from tests.library.conftest import definition, save
from tests.register.conftest import make_risk
from tracker.audit.models import AuditEvent
from tracker.library.models import SavedReport

API = "/api/v1/saved-reports"
LEVELS = definition(
    "risks", ["code", "score", "level"], [("level", "in", ["critical", "high"])], sort=[("score", True)]
)


def _create(b, **overrides):
    return b.api("POST", f"{API}/", json={"project": "TST", "name": "High risks", "definition": LEVELS} | overrides)


def test_the_catalog_lists_every_source_field_and_operator(as_user):
    catalog = as_user("contractor").api("GET", f"{API}/catalog").json()
    assert [s["key"] for s in catalog["sources"]] == [
        "deliverables",
        "risks",
        "issues",
        "changes",
        "lessons",
        "decisions",
        "meetings",
        "actions",
    ]
    level = next(f for f in catalog["sources"][1]["fields"] if f["key"] == "level")
    assert level["operators"] == ["in", "equals"] and level["choices"] == ["low", "medium", "high", "critical"]
    age = next(f for f in catalog["sources"][2]["fields"] if f["key"] == "age")
    assert age["filterable"] is False and age["operators"] == []
    assert catalog["operators"]["gte"] == "is at least"


def test_a_report_through_the_api_from_creation_to_deletion(as_user, db, world):
    for p, i in ((5, 5), (2, 2), (3, 4)):
        make_risk(db, world, probability=str(p), impact=str(i))
    db.commit()
    staff, manager, viewer = as_user("staff"), as_user("manager"), as_user("viewer")
    r = _create(staff, shared=True)
    assert r.status_code == 201, r.text
    report = r.json()
    assert (report["project"], report["source"], report["owner_name"], report["runnable"]) == (
        "TST",
        "risks",
        "Staff Person",
        True,
    )
    run = viewer.api("GET", f"{API}/{report['id']}/run").json()
    assert [c["label"] for c in run["columns"]] == ["Code", "Score", "Level"]
    assert [row[1:] for row in run["rows"]] == [[25, "Critical"], [12, "High"]] and run["total"] == 2
    assert run["links"][0].startswith("/projects/TST/risks/")
    assert viewer.api("GET", f"{API}/{report['id']}/run?limit=1&offset=1").json()["rows"][0][1] == 12

    r = manager.api("PATCH", f"{API}/{report['id']}", json={"name": "Top risks", "version": 1})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["can_change"] is True
    r = staff.api("PATCH", f"{API}/{report['id']}", json={"shared": False, "version": 1})
    assert r.status_code == 409 and r.json()["extra"]["current"]["name"] == "Top risks"
    r = staff.api("PATCH", f"{API}/{report['id']}", json={"definition": definition("risks", ["title"]), "version": 2})
    assert r.status_code == 200 and r.json()["definition"]["columns"] == ["title"]

    copy = manager.api("POST", f"{API}/{report['id']}/duplicate")
    assert copy.status_code == 201 and copy.json()["shared"] is False and copy.json()["name"] == "Copy of Top risks"
    assert [r["name"] for r in viewer.api("GET", f"{API}/").json()] == ["Top risks"]
    assert [r["name"] for r in manager.api("GET", f"{API}/?whose=mine").json()] == ["Copy of Top risks"]
    assert viewer.api("DELETE", f"{API}/{report['id']}?version=3").status_code == 403
    r = manager.api("DELETE", f"{API}/{report['id']}?version=2")
    assert r.status_code == 409 and "not deleted" in r.json()["detail"]
    assert r.json()["extra"]["current"] == {"name": "Top risks"}
    assert manager.api("DELETE", f"{API}/{report['id']}").status_code == 400
    assert manager.api("DELETE", f"{API}/{report['id']}?version=3").status_code == 204
    assert viewer.api("GET", f"{API}/{report['id']}").status_code == 404
    actions = db.exec(
        select(AuditEvent.action).where(AuditEvent.entity_type == "saved_report").order_by(AuditEvent.id)
    ).all()
    assert actions == ["create", "update", "update", "create", "delete"]


def test_bad_definitions_answer_422_with_a_message_per_part(as_user, db):
    staff = as_user("staff")
    bad = definition(
        "risks",
        ["code", "salary"],
        [("score", "before", "x"), ("status", "in", ["lost"]), ("raised_on", "after", "2026-13-01")],
        sort=[("nope", False)],
    )
    r = _create(staff, name="", definition=bad)
    assert r.status_code == 422
    body = r.json()
    assert body["status_code"] == 422 and body["detail"]
    assert set(body["extra"]) == {
        "name",
        "columns",
        "filters.0.op",
        "filters.1.value",
        "filters.2.value",
        "sort.0.field",
    }
    assert "Risks have no column 'salary'" in body["extra"]["columns"]
    r = _create(staff, definition={"source": "risks", "columns": ["code"], "sql": "SELECT 1"})
    assert r.status_code == 422 and r.json()["extra"] == {"sql": "Unknown field."}
    r = _create(staff, definition="DROP TABLE risk")
    assert r.status_code == 400  # not even an object
    r = staff.api("POST", f"{API}/preview", json={"project": "TST", "definition": definition("nowhere", ["x"])})
    assert r.status_code == 422 and "source" in r.json()["extra"]
    assert db.exec(select(SavedReport)).first() is None


def test_who_may_create_read_and_run(as_user, db, world):
    for persona in ("viewer", "contractor", "admin"):
        assert _create(as_user(persona)).status_code == 403, persona
    assert _create(as_user("outsider")).status_code == 404
    private = save(db, world, "staff", LEVELS, "Private")
    shared = save(db, world, "staff", LEVELS, "Shared", shared=True)
    deliverables = save(db, world, "manager", definition("deliverables", ["code"]), "Deliverables", shared=True)
    db.commit()
    assert as_user("manager").api("GET", f"{API}/{private.id}").status_code == 404
    assert as_user("contractor").api("GET", f"{API}/{shared.id}/run").status_code == 403
    assert as_user("contractor").api("GET", f"{API}/{deliverables.id}/run").status_code == 200
    assert as_user("outsider").api("GET", f"{API}/{shared.id}").status_code == 404
    assert as_user("outsider").api("GET", f"{API}/").json() == []
    assert [r["name"] for r in as_user("contractor").api("GET", f"{API}/").json()] == ["Deliverables"]
    assert as_user("outsider").api("GET", f"{API}/?project=TST").status_code == 404


def test_preview_runs_a_definition_without_saving_it(as_user, db, world):
    make_risk(db, world, probability="5", impact="5")
    db.commit()
    r = as_user("staff").api("POST", f"{API}/preview", json={"project": "TST", "definition": LEVELS})
    assert r.status_code == 200 and r.json()["total"] == 1
    assert db.exec(select(SavedReport)).first() is None
    for reader in ("viewer", "contractor"):  # they run shared reports; building one, previews included, is not theirs
        r = as_user(reader).api("POST", f"{API}/preview", json={"project": "TST", "definition": LEVELS})
        assert r.status_code == 403
