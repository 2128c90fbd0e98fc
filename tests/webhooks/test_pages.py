"""The webhook pages: create (the secret shown on the answer and nowhere after), errors beside the field with the
input kept, edit with the version read, a turned-off webhook says so, send again, delete; CSRF on every form."""

from __future__ import annotations

import re

from sqlmodel import select

from tests.webhooks.conftest import make_webhook
from tracker.audit.models import AuditEvent
from tracker.dispatch.models import DispatchEffect
from tracker.webhooks import service
from tracker.webhooks.kinds import DISABLE_AFTER
from tracker.webhooks.models import Webhook

PUBLIC = "https://93.184.215.14/hooks/tracker"
BASE = "/projects/TST/webhooks"


def test_a_manager_creates_a_webhook_and_the_secret_is_shown_once(as_user, db):
    b = as_user("manager")
    assert "New webhook" in b.get(BASE + "/").text
    assert 'href="/projects/TST/webhooks/"' in b.get("/projects/TST").text
    r = b.post(BASE, {"url": PUBLIC, "events": ["risk.created", "deliverable.decided"], "active": ["false", "true"]})
    assert r.status_code == 200, r.text
    secret = re.search(r'value="(whsec_[^"]+)"', r.text).group(1)
    hook = db.exec(select(Webhook)).one()
    assert hook.secret == secret and hook.events == ["deliverable.decided", "risk.created"] and hook.active
    for page in (BASE + "/", f"{BASE}/{hook.id}"):
        assert secret not in b.get(page).text
    event = db.exec(select(AuditEvent).where(AuditEvent.entity_type == "webhook")).one()
    assert "token" not in str(event.changes) and "93.184.215.14/hooks" not in str(event.changes)


def test_errors_are_shown_beside_the_field_with_the_input_kept(as_user):
    b = as_user("manager")
    r = b.post(BASE, {"url": "http://127.0.0.1:9000/x", "events": "risk.created", "description": "Mine"})
    assert r.status_code == 422
    assert 'id="f-url-error"' in r.text and "private" in r.text
    assert 'value="http://127.0.0.1:9000/x"' in r.text and 'value="Mine"' in r.text
    assert re.search(r'value="risk.created" checked', r.text)
    r = b.post(BASE, {"url": PUBLIC})
    assert r.status_code == 422 and 'id="f-events-error"' in r.text and f'value="{PUBLIC}"' in r.text


def test_edit_names_the_version_and_a_stale_one_is_shown_not_saved(as_user, db, world):
    hook = make_webhook(db, world, PUBLIC)
    db.commit()
    b = as_user("manager")
    page = b.get(f"{BASE}/{hook.id}").text
    assert 'name="version" value="1"' in page and hook.secret not in page
    form = {"url": PUBLIC, "events": ["risk.updated"], "active": ["false", "true"], "version": "1"}
    r = b.post(f"{BASE}/{hook.id}", form)
    assert r.status_code == 303
    db.refresh(hook)
    assert hook.events == ["risk.updated"]
    r = b.post(f"{BASE}/{hook.id}", form | {"description": "late"})
    assert r.status_code == 409 and "Someone else saved" in r.text and 'value="late"' in r.text
    assert b.post(f"{BASE}/{hook.id}", {"url": PUBLIC, "events": "risk.created"}).status_code == 400


def test_a_webhook_turned_off_by_failures_says_so_and_turning_it_on_starts_over(as_user, db, world):
    hook = make_webhook(db, world, PUBLIC)
    event_id = db.exec(select(AuditEvent.id)).first()
    failed = service.Attempt(False, None, "", "ConnectError: refused", 3)
    for _ in range(DISABLE_AFTER):
        service.log_attempt(db, hook.id, event_id, "risk.created", "msg", False, failed)
    db.commit()
    db.refresh(hook)
    b = as_user("manager")
    assert "Turned off after failures" in b.get(BASE + "/").text
    page = b.get(f"{BASE}/{hook.id}").text
    assert "Turned off on" in page and "ConnectError: refused" in page
    form = {"url": PUBLIC, "events": "risk.created", "active": ["false", "true"], "version": str(hook.version)}
    assert b.post(f"{BASE}/{hook.id}", form).status_code == 303
    db.refresh(hook)
    assert hook.active and hook.consecutive_failures == 0 and hook.disabled_at is None


def test_send_again_new_secret_and_delete(as_user, db, world):
    hook = make_webhook(db, world, PUBLIC)
    event_id = db.exec(select(AuditEvent.id)).first()
    service.log_attempt(db, hook.id, event_id, "risk.created", "msg", False, service.Attempt(True, 200, "", "", 5))
    db.commit()
    delivery = service.deliveries(db, hook)[0]
    b = as_user("manager")
    r = b.post(f"{BASE}/{hook.id}/deliveries/{delivery.id}/redeliver", {})
    assert r.status_code == 303 and r.headers["location"].endswith("#deliveries")
    assert db.exec(select(DispatchEffect).where(DispatchEffect.recipient == f"{hook.id}/again/1")).one()
    old = hook.secret
    r = b.post(f"{BASE}/{hook.id}/secret", {"version": "1"})
    assert r.status_code == 200 and "New secret made" in r.text
    db.refresh(hook)
    assert hook.secret != old and hook.secret in r.text
    assert b.post(f"{BASE}/{hook.id}/delete", {"version": "1"}).status_code == 303  # stale: kept, with the reason
    assert db.get(Webhook, hook.id) is not None
    hook_id = hook.id
    assert b.post(f"{BASE}/{hook_id}/delete", {"version": str(hook.version)}).headers["location"] == BASE + "/"
    db.expire_all()
    assert db.get(Webhook, hook_id) is None


def test_forms_need_their_csrf_token(as_user):
    b = as_user("manager")
    r = b.client.post(BASE, data={"url": PUBLIC, "events": "risk.created"}, follow_redirects=False)
    assert r.status_code == 403


def test_staff_and_viewers_do_not_see_the_webhooks(as_user):
    for persona in ("staff", "viewer", "contractor"):
        b = as_user(persona)
        assert b.get(BASE + "/").status_code == 403
        assert "/webhooks" not in b.get("/projects/TST").text
