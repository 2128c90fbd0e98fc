"""Accounts that end cleanly and sign-ins on the record: deactivation ends sessions and API tokens at once, people see
and revoke their own tokens, and admins read every sign-in attempt (how, from where, and why one failed)."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from litestar.testing import TestClient
from sqlmodel import select

from tests.conftest import PASSWORD
from tracker.accounts import signin, signin_log
from tracker.accounts.models import ApiToken, SignIn, User
from tracker.audit.models import AuditEvent
from tracker.core.clock import utcnow
from tracker.dispatch import service as dispatch


def _token(b, name: str = "Nightly export") -> str:
    r = b.post("/profile/tokens", {"name": name})
    assert r.status_code == 201, r.text
    return re.search(r'id="new-token" type="text" readonly value="([^"]+)"', r.text).group(1)


def _user_form(user: User, **changes) -> dict:
    values = {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "is_admin": "false",
        "is_active": "true",
        "version": str(user.version),
    }
    return values | changes


# --- deactivation -----------------------------------------------------------------------------------------


def test_deactivation_refuses_the_cookie_and_the_token_on_the_very_next_request(as_user, app, db, world):
    viewer = as_user("viewer")
    secret = _token(viewer)
    bearer = {"Authorization": f"Bearer {secret}"}
    with TestClient(app, base_url="http://testserver.local") as script:
        assert script.get("/api/v1/me", headers=bearer).status_code == 200
        user = db.get(User, world.ids["viewer"])
        r = as_user("admin").post(f"/admin/users/{user.id}", _user_form(user, is_active="false"))
        assert r.status_code == 303, r.text
        assert viewer.get("/", follow_redirects=False).headers["location"].startswith("/login")
        assert viewer.client.get("/api/v1/me").status_code == 401
        assert script.get("/api/v1/me", headers=bearer).status_code == 401

        # Reactivated, the person signs in afresh; the old token stays dead.
        db.expire_all()
        user = db.get(User, world.ids["viewer"])
        assert as_user("admin").post(f"/admin/users/{user.id}", _user_form(user)).status_code == 303
        assert script.get("/api/v1/me", headers=bearer).status_code == 401
    assert as_user(None).login("viewer").status_code == 303
    db.expire_all()
    token = db.exec(select(ApiToken)).one()
    assert token.revoked_at is not None
    revoke = db.exec(select(AuditEvent).where(AuditEvent.entity_type == "api_token", AuditEvent.action == "revoke"))
    assert revoke.one().actor_id == world.ids["admin"]


def test_a_deactivated_person_cannot_sign_in_and_the_log_says_why(as_user, db, world):
    user = db.get(User, world.ids["viewer"])
    assert as_user("admin").post(f"/admin/users/{user.id}", _user_form(user, is_active="false")).status_code == 303
    r = as_user(None).login("viewer")
    assert r.status_code == 401 and "Wrong username or password." in r.text  # no hint that the account exists
    assert db.exec(select(SignIn.outcome).where(SignIn.username == "viewer")).all()[-1] == "deactivated"


# --- the person's own tokens --------------------------------------------------------------------------------


def test_a_person_sees_their_active_tokens_with_their_use_and_revokes_them(as_user, app, db, world):
    b = as_user("staff")
    secret = _token(b, "Data warehouse")
    _token(b, "Dashboard")
    page = b.get("/profile").text
    assert page.count("Never") == 2 and "Data warehouse" in page and "Dashboard" in page
    with TestClient(app) as script:
        assert script.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    tokens = {t.name: t for t in db.exec(select(ApiToken))}
    assert tokens["Data warehouse"].last_used_at is not None
    page = b.get("/profile").text
    assert page.count("Never") == 1

    r = b.post(f"/profile/tokens/{tokens['Data warehouse'].id}/revoke", htmx=True)
    assert r.status_code == 200
    active = r.text.split("<details>")[0]
    assert "Data warehouse" not in active and "Dashboard" in active
    assert "Revoked tokens: 1" in r.text
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "revoke")).one()
    assert event.actor_id == world.ids["staff"] and event.entity_label == "Data warehouse"


# --- the sign-in log -------------------------------------------------------------------------------------------


def test_every_way_in_and_every_failure_is_logged_and_audited(as_user, db):
    anonymous = as_user(None)
    anonymous.login("manager", "not-the-password")
    anonymous.login("nobody-here", "not-the-password")
    as_user("manager")
    db.expire_all()
    rows = db.exec(select(SignIn).order_by(SignIn.id)).all()[-3:]
    assert [(r.username, r.method, r.outcome) for r in rows] == [
        ("manager", "password", "wrong_password"),
        ("nobody-here", "password", "unknown_user"),
        ("manager", "password", "signed_in"),
    ]
    assert rows[0].address and rows[0].user_agent  # the test client names itself
    assert rows[1].user_id is None and rows[2].user_id is not None
    events = db.exec(select(AuditEvent).where(AuditEvent.entity_type == "sign_in").order_by(AuditEvent.id)).all()[-3:]
    assert [(e.action, e.actor_id is None) for e in events] == [
        ("sign_in_failed", True),
        ("sign_in_failed", True),
        ("sign_in", False),
    ]
    assert events[0].changes["outcome"] == [None, "wrong_password"]


def test_a_lockout_is_logged(as_user, db):
    b = as_user(None)
    for _ in range(5):
        b.login("staff", "wrong-password")
    assert b.login("staff").status_code == 429
    db.expire_all()
    assert db.exec(select(SignIn.outcome).order_by(SignIn.id)).all()[-1] == "locked_out"


def test_signing_out_is_audited(as_user, db, world):
    b = as_user("viewer")
    assert b.post("/logout").status_code == 303
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "sign_out")).one()
    assert event.actor_id == world.ids["viewer"] and event.entity_type == "app_user"


def _fake_request(address: str = "203.0.113.9", agent: str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"):
    return SimpleNamespace(client=SimpleNamespace(host=address), headers={"user-agent": agent})


def test_the_log_page_shows_when_from_where_and_how_in_the_viewers_zone(as_user, db, world):
    admin = as_user("admin")
    admin.post("/profile/preferences", {"title": "", "timezone": "Asia/Tokyo", "date_format": "iso"})
    user = db.get(User, world.ids["contractor"])
    row = signin.record(db, _fake_request(), user.username, user, signin.Method.OIDC, signin.Outcome.SIGNED_IN)
    db.commit()
    page = admin.get("/admin/sign-ins?user=contractor").text
    assert "Single sign-on (OIDC)" in page and "203.0.113.9" in page and "Firefox/140.0" in page
    assert f"{row.at.astimezone(ZoneInfo('Asia/Tokyo')):%Y-%m-%d %H:%M} JST" in page
    assert f'datetime="{row.at.isoformat()}"' in page


def test_the_log_filters_by_person_and_outcome_and_pages(as_user, db, count_queries):
    admin = as_user("admin")
    as_user(None).login("Staff", "not-the-password")  # names are matched whatever their case
    for _ in range(signin_log.PAGE + 5):
        db.add(SignIn(username="bulk", address="198.51.100.1", method="password", outcome="unknown_user"))
    db.commit()
    page = admin.get("/admin/sign-ins?user=staff&outcome=wrong_password").text
    assert "1 sign-in attempt as staff: Wrong password" in page and "bulk" not in page
    page = admin.get("/admin/sign-ins?outcome=unknown_user").text
    assert "Page 1 of 2" in page and 'href="/admin/sign-ins?outcome=unknown_user&amp;page=2"' in page
    second = admin.get("/admin/sign-ins?outcome=unknown_user&page=2").text
    assert second.count(">bulk<") == 5
    assert admin.get("/admin/sign-ins?outcome=nonsense&page=-3").status_code == 200  # ignored, not an error
    with count_queries() as few:
        admin.get("/admin/sign-ins")
    with count_queries() as many:
        admin.get("/admin/sign-ins?outcome=unknown_user")
    assert few.count == many.count  # a page of rows costs what an empty one does


def test_old_rows_of_the_log_are_deleted_after_the_retention_period(db, app):
    settings = app.state.settings
    db.add(
        SignIn(username="old", address="x", method="password", outcome="signed_in", at=utcnow() - timedelta(days=400))
    )
    db.add(SignIn(username="new", address="x", method="password", outcome="signed_in"))
    db.commit()
    said = signin_log.forget_old(db, dispatch.Context.from_settings(settings))
    assert said.startswith("1 ")
    assert db.exec(select(SignIn.username)).all() == ["new"]
    assert "sign-in-log-retention" in dispatch.JOBS


def test_signing_in_does_not_make_an_open_admin_edit_stale(as_user, db, world):
    user = db.get(User, world.ids["viewer"])
    version = user.version
    as_user(None).login("viewer", PASSWORD)
    db.expire_all()
    assert db.get(User, world.ids["viewer"]).version == version
