"""The webhooks API: the secret in the creation's answer only, field errors as 422, stale versions as 409, a
missing one as 400, the delivery log and sending a delivery again (a new effect for the dispatcher)."""

from __future__ import annotations

from sqlmodel import select

from tests.webhooks.conftest import make_webhook
from tracker.audit.models import AuditEvent
from tracker.dispatch.models import DispatchEffect
from tracker.webhooks import service

PUBLIC = "https://93.184.215.14/hooks/tracker"  # an address, so no name is looked up


def _create(b, **overrides):
    return b.api("POST", "/api/v1/projects/TST/webhooks", json={"url": PUBLIC, "events": ["risk.created"]} | overrides)


def test_a_manager_creates_a_webhook_and_sees_its_secret_once(as_user):
    b = as_user("manager")
    r = _create(b, events=["deliverable.submitted", "risk.created"], description="PMO bus")
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["deliverable.submitted", "risk.created"]  # in the table's order
    assert created["project"] == "TST" and created["active"] and created["version"] == 1
    one = b.api("GET", f"/api/v1/webhooks/{created['id']}")
    assert one.status_code == 200 and "secret" not in one.json()
    listed = b.api("GET", "/api/v1/projects/TST/webhooks").json()
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
    assert created["secret"] not in b.api("GET", "/api/v1/projects/TST/webhooks").text


def test_an_admin_manages_the_webhooks_of_any_project(as_user):
    assert _create(as_user("admin")).status_code == 201
    assert as_user("admin").api("GET", "/api/v1/projects/OTH/webhooks").status_code == 200


def test_bad_fields_are_422_naming_the_field(as_user):
    b = as_user("manager")
    for overrides, field in (
        ({"url": "http://127.0.0.1:8080/x"}, "url"),
        ({"url": "http://10.0.0.7/x"}, "url"),
        ({"url": "http://169.254.169.254/latest"}, "url"),
        ({"url": "http://[::1]/x"}, "url"),
        ({"url": "ftp://93.184.215.14/x"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["risk.deleted"]}, "events"),
    ):
        r = _create(b, **overrides)
        assert r.status_code == 422, (overrides, r.text)
        assert field in r.json()["extra"], r.text
    assert _create(b, secret="whsec_mine").status_code == 400, "the secret is never chosen by the client"


def test_patch_and_delete_name_the_version_read(as_user):
    b = as_user("manager")
    hook = _create(b).json()
    path = f"/api/v1/webhooks/{hook['id']}"
    r = b.api("PATCH", path, json={"events": ["issue.escalated"], "active": False, "version": 1})
    assert r.status_code == 200, r.text
    assert r.json()["events"] == ["issue.escalated"] and not r.json()["active"] and r.json()["version"] == 2
    assert b.api("PATCH", path, json={"description": "late", "version": 1}).status_code == 409
    assert b.api("PATCH", path, json={"url": "http://192.168.1.2/", "version": 2}).status_code == 422
    assert b.api("DELETE", path).status_code == 400
    assert b.api("DELETE", path + "?version=1").status_code == 409
    assert b.api("DELETE", path + "?version=2").status_code == 204
    assert b.api("GET", path).status_code == 404


def test_a_new_secret_replaces_the_old_one(as_user, db):
    b = as_user("manager")
    hook = _create(b).json()
    r = b.api("POST", f"/api/v1/webhooks/{hook['id']}/secret?version=1")
    assert r.status_code == 200, r.text
    assert r.json()["secret"].startswith("whsec_") and r.json()["secret"] != hook["secret"]
    assert b.api("POST", f"/api/v1/webhooks/{hook['id']}/secret?version=1").status_code == 409


def test_the_log_lists_attempts_and_a_delivery_is_sent_again_as_a_new_effect(as_user, db, world):
    hook = make_webhook(db, world, PUBLIC)
    event_id = db.exec(select(AuditEvent.id)).first()
    attempt = service.Attempt(False, 500, "oops", "Answered 500", 30)
    service.log_attempt(db, hook.id, event_id, "risk.created", f"msg_{event_id}_{hook.id}", False, attempt)
    db.commit()
    b = as_user("manager")
    [row] = b.api("GET", f"/api/v1/webhooks/{hook.id}/deliveries").json()
    assert (row["status_code"], row["ok"], row["error"], row["message_id"]) == (
        500,
        False,
        "Answered 500",
        f"msg_{event_id}_{hook.id}",
    )
    path = f"/api/v1/webhooks/{hook.id}/deliveries/{row['id']}/redeliver"
    assert b.api("POST", path).status_code == 202
    assert b.api("POST", path).status_code == 202
    recipients = db.exec(select(DispatchEffect.recipient).where(DispatchEffect.event_id == event_id)).all()
    assert sorted(recipients) == [f"{hook.id}/again/1", f"{hook.id}/again/2"]
    other = make_webhook(db, world, PUBLIC)
    assert b.api("POST", f"/api/v1/webhooks/{other.id}/deliveries/{row['id']}/redeliver").status_code == 404
    b.api("PATCH", f"/api/v1/webhooks/{hook.id}", json={"active": False, "version": hook.version})
    assert b.api("POST", path).status_code == 409


def test_members_without_the_right_get_403_and_others_404(as_user):
    hook = _create(as_user("manager")).json()
    for persona, status in (("staff", 403), ("contractor", 403), ("viewer", 403), ("outsider", 404)):
        r = as_user(persona).api("GET", f"/api/v1/webhooks/{hook['id']}")
        assert r.status_code == status, (persona, r.text)
        assert r.json()["status_code"] == status
