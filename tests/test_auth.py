"""Signing in and out, sessions, throttling, CSRF, security headers, API tokens."""

from __future__ import annotations

from sqlmodel import select

from tests.conftest import Browser, csrf_from
from tracker.accounts.models import ApiToken, User


def test_login_sets_a_hardened_session_cookie(as_user):
    b = as_user(None)
    r = b.login("manager")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("tracker_session="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "manager" not in cookie  # the session is encrypted, not readable


def test_wrong_password_and_unknown_user_get_the_same_answer(as_user):
    b = as_user(None)
    wrong = b.login("manager", "not-the-password")
    unknown = b.login("nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in wrong.text and "Wrong username or password." in unknown.text
    assert 'value="manager"' in wrong.text  # the typed username is kept


def test_repeated_failures_are_slowed_down(as_user):
    b = as_user(None)
    for _ in range(5):
        assert b.login("staff", "wrong-password").status_code == 401
    locked = b.login("staff")  # even the right password waits out the lockout
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.text


def test_next_parameter_cannot_leave_the_site(as_user):
    b = as_user(None)
    page = b.get("/login?next=https://evil.example/")
    token = csrf_from(page.text)
    r = b.client.post(
        "/login",
        data={
            "username": "viewer",
            "password": "correct-horse-battery",
            "next": "//evil.example/x",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_anonymous_page_redirects_to_login_with_next(as_user):
    r = as_user(None).get("/projects/TST", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/login?next=%2Fprojects%2FTST"


def test_logout_ends_the_session(as_user):
    b = as_user("viewer")
    assert b.get("/").status_code == 200
    r = b.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "You have signed out." in b.get("/login").text
    assert b.get("/", follow_redirects=False).status_code == 302


def test_post_without_csrf_token_is_refused(as_user, db):
    b = as_user("admin")
    r = b.client.post("/projects/TST/edit", data={"name": "Hijacked"}, follow_redirects=False)
    assert r.status_code == 403
    assert "form expired" in r.text
    r = b.client.post("/projects/TST/edit", data={"name": "Hijacked", "_csrf_token": "forged"})
    assert r.status_code == 403


def test_security_headers_on_every_response(as_user):
    r = as_user(None).get("/login")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"


def test_changing_password_signs_out_other_browsers(as_user, db):
    first, second = as_user("staff"), as_user("staff")
    r = first.post(
        "/profile/password",
        {
            "current_password": "correct-horse-battery",
            "new_password": "a-brand-new-password",
            "confirm_password": "a-brand-new-password",
        },
    )
    assert r.status_code == 303
    assert first.get("/").status_code == 200  # this browser stays in
    assert second.get("/", follow_redirects=False).status_code == 302  # the other is out
    assert as_user(None).login("staff", "a-brand-new-password").status_code == 303


def test_password_change_errors_are_shown_beside_the_fields(as_user):
    b = as_user("staff")
    r = b.post("/profile/password", {"current_password": "wrong", "new_password": "short", "confirm_password": "x"})
    assert r.status_code == 422
    assert 'id="f-new_password-error"' in r.text


def test_deactivated_user_is_signed_out(as_user, db, world):
    b = as_user("viewer")
    user = db.get(User, world.ids["viewer"])
    user.is_active = False
    user.session_epoch += 1
    db.commit()
    assert b.get("/", follow_redirects=False).status_code == 302
    assert as_user(None).login("viewer").status_code == 401


# --- API tokens -----------------------------------------------------------------------------------


def _create_token(b: Browser, name: str = "CI script") -> str:
    r = b.post("/profile/tokens", {"name": name})
    assert r.status_code == 201, r.text
    import re

    return re.search(r'id="new-token" type="text" readonly value="([^"]+)"', r.text).group(1)


def test_token_is_shown_once_and_stored_hashed(as_user, db):
    b = as_user("manager")
    secret = _create_token(b)
    assert secret.startswith("trk_")
    row = db.exec(select(ApiToken)).one()
    assert row.token_hash != secret and secret not in row.token_hash
    assert secret not in b.get("/profile").text


def test_bearer_token_authenticates_api_without_csrf(as_user, app):
    from litestar.testing import TestClient

    secret = _create_token(as_user("manager"))
    with TestClient(app) as fresh:
        r = fresh.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 200 and r.json()["username"] == "manager"
        assert [p["project_key"] for p in r.json()["projects"]] == ["TST"]


def test_revoked_or_bad_tokens_get_401(as_user, app, db):
    from litestar.testing import TestClient

    b = as_user("manager")
    secret = _create_token(b)
    token_id = db.exec(select(ApiToken.id)).one()
    assert b.post(f"/profile/tokens/{token_id}/revoke", htmx=True).status_code == 200
    with TestClient(app) as fresh:
        for header in (f"Bearer {secret}", "Bearer trk_made_up", "Basic abc", "Bearer "):
            r = fresh.get("/api/v1/me", headers={"Authorization": header})
            assert r.status_code == 401, header
            assert r.json()["detail"]


def test_a_bad_bearer_header_never_falls_back_to_the_cookie(as_user):
    b = as_user("manager")
    r = b.client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_token_name_is_required(as_user, db):
    r = as_user("manager").post("/profile/tokens", {"name": "  "}, htmx=True)
    assert r.status_code == 422 and "Give the token a name" in r.text
    assert db.exec(select(ApiToken)).first() is None


def test_a_request_authenticated_by_a_token_cannot_create_tokens(as_user, app, db):
    from litestar.testing import TestClient

    secret = _create_token(as_user("manager"))
    with TestClient(app, base_url="http://testserver.local") as fresh:
        for headers in ({}, {"HX-Request": "true"}, {"Accept": "application/json"}):
            r = fresh.post(
                "/profile/tokens", data={"name": "another"}, headers={"Authorization": f"Bearer {secret}", **headers}
            )
            assert r.status_code == 403 and "API token" in r.text, r.text
    assert db.exec(select(ApiToken.name)).all() == ["CI script"]


def test_every_429_says_when_to_try_again(as_user):
    b = as_user(None)
    for _ in range(5):
        assert b.login("staff", "wrong-password").status_code == 401
    locked = b.login("staff")
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert f"Wait {locked.headers['retry-after']} seconds" in locked.text


def test_session_cookies_are_secure_in_prod_unless_plain_http_is_asked_for(database_url, conn, world):
    from litestar.testing import TestClient

    from tests.conftest import _session, make_settings
    from tracker.app import create_app

    def secure(**settings) -> list[bool]:
        """Whether the CSRF cookie and the session cookie of a sign-in are marked Secure."""
        app = create_app(make_settings(database_url, **settings), session_factory=lambda: _session(conn))
        b = Browser(TestClient(app, base_url="https://testserver.local"))
        page = b.client.get("/login")
        r = b.login("viewer")
        assert r.status_code == 303, r.text
        cookies = [*page.headers.get_list("set-cookie"), *r.headers.get_list("set-cookie")]
        return ["; secure" in c.lower() for c in cookies if c.startswith(("tracker_csrf=", "tracker_session="))]

    assert set(secure(env="prod")) == {True}
    assert set(secure(env="prod", secure_cookies=False)) == {False}  # plain-HTTP development, asked for by name
    assert set(secure(env="dev")) == {False}
    assert set(secure(env="dev", secure_cookies=True)) == {True}


def test_htmx_request_after_the_session_ended_redirects_the_whole_page(as_user):
    r = as_user(None).get("/projects?q=x", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.headers["HX-Redirect"] == "/login"


def test_text_is_escaped_everywhere_it_is_shown(as_user, db):
    admin = as_user("admin")
    payload = '<script>alert("x")</script>'
    form = {
        "key": "XSS",
        "name": payload,
        "sponsor": payload,
        "holiday_calendar": "US",
        "timezone": "UTC",
        "review_days": "5",
        "resubmit_days": "5",
        "deemed_days": "5",
        "deemed_policy": "never",
    }
    assert admin.post("/projects", form).status_code == 303
    for url in ("/projects", "/projects/XSS", "/", "/projects/XSS/history"):
        page = admin.get(url).text
        assert payload not in page, url
        assert "&lt;script&gt;" in page, url
    assert admin.api("GET", "/api/v1/projects/XSS").json()["name"] == payload  # stored literally


# --- hardening: throttling per account and per address, session lifetime and rotation, tokens -------------


def test_failures_from_many_addresses_lock_the_account_and_many_accounts_lock_the_address(db, world):
    from datetime import timedelta

    from tracker.accounts import service

    limits = service.ThrottleLimits(5, timedelta(minutes=15), timedelta(minutes=1))
    for i in range(5):  # one account guessed from five addresses
        assert not service.count_attempt(db, ["user:staff", f"ip:10.0.0.{i}"], limits).wait
    assert service.count_attempt(db, ["user:staff", "ip:10.9.9.9"], limits).wait > 0  # locked from a new address too
    assert not service.count_attempt(db, ["user:viewer", "ip:10.9.9.9"], limits).wait  # other accounts are not
    for name in ("a", "b", "c", "d", "e"):  # five accounts sprayed from one address
        assert not service.count_attempt(db, [f"user:{name}", "ip:192.0.2.7"], limits).wait
    assert (
        service.count_attempt(db, ["user:viewer", "ip:192.0.2.7"], limits).wait > 0
    )  # that address may not try anyone
    later = service.utcnow() + timedelta(minutes=2)
    assert not service.count_attempt(db, ["user:staff", "ip:192.0.2.7"], limits, now=later).wait  # the lockout ends


def test_spraying_passwords_over_many_accounts_locks_the_address(as_user):
    b = as_user(None)
    for name in ("ann", "bob", "cy", "dee", "eve"):
        assert b.login(name, "Winter2026!").status_code == 401
    r = b.login("viewer")  # the right password, from the same address, must wait
    assert r.status_code == 429 and "Too many failed sign-in attempts" in r.text


def _session_cookie(b: Browser) -> str:
    return b.client.cookies.get("tracker_session")


def test_login_issues_a_new_session_cookie_every_time(as_user):
    b = as_user(None)
    b.post("/logout")  # an anonymous session cookie (the flash) exists before signing in
    before = _session_cookie(b)
    assert before and b.login("viewer").status_code == 303
    first = _session_cookie(b)
    assert b.login("viewer").status_code == 303
    assert len({before, first, _session_cookie(b)}) == 3


def _replay(app, cookie: str):
    from litestar.testing import TestClient

    with TestClient(app, base_url="http://testserver.local") as other:
        other.cookies.set("tracker_session", cookie, domain="testserver.local")
        return other.get("/", follow_redirects=False)


def test_a_copied_cookie_stops_working_after_logout(as_user, app):
    b = as_user("viewer")
    copied = _session_cookie(b)
    assert _replay(app, copied).status_code == 200
    assert b.post("/logout").status_code == 303
    assert _replay(app, copied).status_code == 302  # the copy is signed out too
    assert as_user("viewer").get("/").status_code == 200  # signing in again works


def test_a_copied_cookie_stops_working_after_a_password_change(as_user, app):
    b = as_user("staff")
    copied = _session_cookie(b)
    r = b.post(
        "/profile/password",
        {
            "current_password": "correct-horse-battery",
            "new_password": "a-brand-new-password",
            "confirm_password": "a-brand-new-password",
        },
    )
    assert r.status_code == 303 and _session_cookie(b) != copied
    assert _replay(app, copied).status_code == 302
    assert b.get("/").status_code == 200


def test_a_session_ends_at_its_absolute_lifetime_however_active(as_user, app, clock):
    b = as_user("viewer")
    max_age = app.state.settings.session_max_age
    clock.advance(seconds=max_age - 60)
    assert b.get("/", follow_redirects=False).status_code == 200  # still in, and busy
    clock.advance(seconds=65)
    r = b.get("/", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"].startswith("/login")
    page = b.get("/")  # followed: the sign-in page, not a loop between it and the page asked for
    assert page.status_code == 200 and 'name="password"' in page.text


def test_a_revoked_session_reaches_the_sign_in_page_instead_of_looping(as_user):
    b = as_user("viewer")
    copied = _session_cookie(b)
    b.post("/profile/sign-out-everywhere", {})
    other = as_user(None)
    other.client.cookies.set("tracker_session", copied, domain="testserver.local")
    page = other.get("/projects")
    assert page.status_code == 200 and 'name="password"' in page.text and "/login" in str(page.url)


def test_a_token_secret_is_stored_nowhere(as_user, db):
    from sqlalchemy import select as sa_select
    from sqlmodel import SQLModel

    secret = _create_token(as_user("manager"))
    db.expire_all()
    for table in SQLModel.metadata.sorted_tables:
        assert secret not in repr(db.execute(sa_select(table)).all()), table.name
        assert secret[4:20] not in repr(db.execute(sa_select(table)).all()), table.name


def test_a_revoked_token_stays_revoked_and_only_its_owner_may_revoke_it(as_user, app, db):
    from litestar.testing import TestClient

    secret = _create_token(as_user("manager"))
    token_id = db.exec(select(ApiToken.id)).one()
    assert as_user("admin").post(f"/profile/tokens/{token_id}/revoke").status_code == 404  # not even an admin
    with TestClient(app) as fresh:
        assert fresh.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    owner = as_user("manager")
    assert owner.post(f"/profile/tokens/{token_id}/revoke", htmx=True).status_code == 200
    assert owner.post(f"/profile/tokens/{token_id}/revoke", htmx=True).status_code == 200  # idempotent
    with TestClient(app) as fresh:
        assert fresh.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "revoked" in owner.get("/profile").text.lower()
