"""Multi-factor authentication: enrolment on the profile, the second step of signing in, codes accepted once, the
login throttle on codes, recovery codes, the pending step's expiry, the site's policy and turning it off."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlmodel import select

from tests.conftest import PASSWORD, Browser, csrf_from
from tracker.accounts import mfa
from tracker.accounts.models import RecoveryCode, SignIn, User, UserMfa
from tracker.audit.models import AuditEvent
from tracker.core.clock import utcnow
from tracker.sso import service as sso

STEP = timedelta(seconds=30)


def code_now(secret: str, at: datetime | None = None) -> str:
    """What the person's app shows: pyotp on the app's clock (the test's pinned one), never the machine's."""
    return pyotp.TOTP(secret).at(at or utcnow())


def enrol(b: Browser) -> tuple[str, list[str]]:
    """Turns it on from the profile as a person would: start, read the key off the page, confirm with a code."""
    assert b.post("/profile/mfa/start").status_code == 303
    page = b.get("/profile/mfa").text
    secret = re.search(r'id="mfa-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    r = b.post("/profile/mfa/confirm", {"code": code_now(secret)})
    assert r.status_code == 200, r.text
    return secret, re.findall(r"<li>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</li>", r.text)


def password_step(as_user, username: str, password: str = PASSWORD) -> Browser:
    b = as_user(None)
    r = b.login(username, password)
    assert r.status_code == 303 and r.headers["location"] in ("/login/code", "/login/enrol"), r.text
    return b


def second_step(b: Browser, code: str):
    return b.post("/login/code", {"code": code})


def outcomes(db, username: str) -> list[tuple[str, str]]:
    db.expire_all()
    rows = db.exec(select(SignIn).where(SignIn.username == username).order_by(SignIn.id)).all()
    return [(r.method, r.outcome) for r in rows]


@pytest.fixture
def staff(as_user) -> Browser:
    return as_user("staff")


@pytest.fixture
def enrolled(staff, clock) -> tuple[str, list[str]]:
    """The staff member (signed in as `staff`) with an authenticator; the clock has moved to the next code."""
    secret, codes = enrol(staff)
    clock.advance(seconds=30)
    return secret, codes


# --- enrolment ------------------------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_key_and_is_confirmed_by_a_current_code(as_user, db, world, app):
    b = as_user("staff")
    assert "Set up multi-factor authentication" in b.get("/profile").text
    assert b.post("/profile/mfa/start").status_code == 303
    page = b.get("/profile/mfa").text
    assert 'src="data:image/svg+xml' in page and 'alt="QR code' in page
    secret = re.search(r'id="mfa-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    row = db.get(UserMfa, world.ids["staff"])
    assert row.confirmed_at is None and secret not in row.secret  # encrypted at rest
    assert mfa.Keys.from_settings(app.state.settings).secrets.decrypt(row.secret.encode()).decode() == secret

    wrong = b.post("/profile/mfa/confirm", {"code": "000000" if code_now(secret) != "000000" else "111111"})
    assert wrong.status_code == 422 and 'id="f-code-error"' in wrong.text and "does not match" in wrong.text
    assert not mfa.enrolled(db, world.ids["staff"])

    r = b.post("/profile/mfa/confirm", {"code": code_now(secret)})
    assert r.status_code == 200 and "Save these recovery codes now" in r.text
    codes = re.findall(r"<li>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</li>", r.text)
    assert len(set(codes)) == 10
    db.expire_all()
    assert mfa.enrolled(db, world.ids["staff"])
    stored = db.exec(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not any(c.replace("-", "") in h for c in codes for h in stored)  # hashed only
    page = b.get("/profile/mfa").text
    assert "10 of 10 unused" in page and codes[0] not in page  # shown once
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "mfa_enrol")).one().actor_id == world.ids["staff"]


def test_an_empty_or_control_character_code_is_explained_beside_the_field(as_user):
    b = as_user("staff")
    b.post("/profile/mfa/start")
    for code, words in (("", "Enter the code"), ("12\x003456", "")):
        r = b.post("/profile/mfa/confirm", {"code": code})
        assert r.status_code == 422 and 'id="f-code-error"' in r.text and words in r.text


# --- signing in -----------------------------------------------------------------------------------------------


def test_an_enrolled_user_signs_in_in_two_steps(as_user, db, world, enrolled):
    secret, _ = enrolled
    b = password_step(as_user, "staff")
    # Password right, second factor pending: signed in to nothing.
    assert b.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert b.client.get("/api/v1/me").status_code == 401
    page = b.get("/login/code")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text
    r = second_step(b, code_now(secret))
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert b.get("/").status_code == 200
    assert outcomes(db, "staff")[-1] == ("password_mfa", "signed_in")
    assert db.get(User, world.ids["staff"]).last_login_at is not None


def test_the_second_step_keeps_where_the_person_was_going(as_user, enrolled):
    secret, _ = enrolled
    b = as_user(None)
    b.token = csrf_from(b.get("/login?next=/projects/TST").text)
    form = {"username": "staff", "password": PASSWORD, "next": "/projects/TST", "_csrf_token": b.token}
    assert b.client.post("/login", data=form, follow_redirects=False).headers["location"] == "/login/code"
    r = second_step(b, code_now(secret))
    assert r.status_code == 303 and r.headers["location"] == "/projects/TST"


def test_a_code_is_not_accepted_twice(as_user, db, enrolled):
    secret, _ = enrolled
    first = password_step(as_user, "staff")
    assert second_step(first, code_now(secret)).status_code == 303
    again = password_step(as_user, "staff")
    r = second_step(again, code_now(secret))
    assert r.status_code == 401 and 'id="f-code-error"' in r.text and "used already" in r.text
    assert outcomes(db, "staff")[-1] == ("password_mfa", "reused_code")
    # An older step's code, still inside the drift window, is refused too once a newer one was accepted.
    assert second_step(again, code_now(secret, utcnow() - STEP)).status_code == 401


def test_a_wrong_code_is_explained_beside_the_field_and_logged(as_user, db, enrolled):
    secret, _ = enrolled
    b = password_step(as_user, "staff")
    wrong = "000000" if code_now(secret) != "000000" else "111111"
    r = second_step(b, wrong)
    assert r.status_code == 401 and 'id="f-code-error"' in r.text and "not right" in r.text
    assert outcomes(db, "staff")[-1] == ("password_mfa", "wrong_code")
    assert second_step(b, "").status_code == 400


def test_totp_reads_the_app_clock_not_the_machine(as_user, clock, enrolled):
    secret, _ = enrolled
    clock.set(datetime(2031, 7, 4, 9, 0, 0, tzinfo=UTC))
    b = password_step(as_user, "staff")
    far = utcnow() + timedelta(minutes=10)
    assert second_step(b, code_now(secret, far)).status_code == 401  # outside the drift window of the app's now
    assert second_step(b, code_now(secret)).status_code == 303


def test_wrong_codes_count_for_the_throttle_and_a_locked_account_is_told_beside_the_field(as_user, db, enrolled):
    secret, _ = enrolled
    b = as_user(None)
    for _ in range(2):
        assert b.login("staff", "not-the-password").status_code == 401
    b = password_step(as_user, "staff")  # right, yet the account's count stands until the second factor passes
    wrong = "000000" if code_now(secret) != "000000" else "111111"
    assert [second_step(b, wrong).status_code for _ in range(2)] == [401, 401]  # five failures: locked
    locked = second_step(b, code_now(secret))
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert 'id="f-code-error"' in locked.text and "Too many failed sign-in attempts" in locked.text
    assert outcomes(db, "staff")[-1] == ("password_mfa", "locked_out")
    assert as_user(None).login("staff").status_code == 429  # and the password step waits too


def test_a_recovery_code_signs_in_once(as_user, db, world, enrolled):
    _, codes = enrolled
    b = password_step(as_user, "staff")
    r = second_step(b, codes[3].upper().replace("-", " "))  # typed loosely
    assert r.status_code == 303
    assert "9 left" in b.get("/").text
    assert outcomes(db, "staff")[-1] == ("recovery_code", "signed_in")
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "mfa_recovery")).one()
    assert event.changes == {"recovery_codes_left": [10, 9]}
    again = password_step(as_user, "staff")
    r = second_step(again, codes[3])
    assert r.status_code == 401 and 'id="f-code-error"' in r.text
    assert outcomes(db, "staff")[-1] == ("recovery_code", "wrong_code")
    assert "9 of 10 unused" in b.get("/profile/mfa").text


def test_a_pending_step_expires(as_user, clock, enrolled):
    secret, _ = enrolled
    b = password_step(as_user, "staff")
    clock.advance(seconds=601)
    r = b.get("/login/code", follow_redirects=False)
    assert r.status_code == 401 and 'id="f-password-error"' in r.text and "waited too long" in r.text
    r = second_step(b, code_now(secret))
    assert r.status_code in (303, 401) and b.get("/", follow_redirects=False).status_code == 302
    fresh = password_step(as_user, "staff")
    clock.advance(seconds=601)
    r = second_step(fresh, code_now(secret))
    assert r.status_code == 401 and 'id="f-password-error"' in r.text and "Enter your password again" in r.text


def test_no_pending_step_sends_to_the_sign_in_page(as_user):
    b = as_user(None)
    assert b.get("/login/code", follow_redirects=False).headers["location"] == "/login"
    assert b.get("/login/enrol", follow_redirects=False).headers["location"] == "/login"


def test_deactivation_during_the_pending_step_ends_it(as_user, db, world, enrolled):
    secret, _ = enrolled
    b = password_step(as_user, "staff")
    user = db.get(User, world.ids["staff"])
    user.is_active = False
    db.commit()
    r = second_step(b, code_now(secret))
    assert r.status_code == 401 and b.get("/", follow_redirects=False).status_code == 302


# --- the policy -----------------------------------------------------------------------------------------------


def _require(as_user, who: str) -> Browser:
    """The policy set by an admin on the sign-in page, whose browser (signed in before the rule) is returned."""
    admin = as_user("admin")
    r = admin.post("/admin/sign-in/policy", {"local_passwords": "true", "mfa_required": who, "version": "1"})
    assert r.status_code == 303, r.text
    return admin


def test_required_of_admins_sends_an_admin_to_enrol_before_anything_else(as_user, db, world):
    _require(as_user, "admins")
    b = password_step(as_user, "admin")
    assert b.client.cookies.get("tracker_session")
    assert b.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert b.get("/login/code", follow_redirects=False).headers["location"] == "/login/enrol"
    page = b.get("/login/enrol")
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.text
    secret = re.search(r'id="mfa-secret"[^>]*>([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    wrong = b.post("/login/enrol", {"code": "abc"})
    assert wrong.status_code == 422 and 'id="f-code-error"' in wrong.text
    r = b.post("/login/enrol", {"code": code_now(secret)})
    assert r.status_code == 200 and "Save these recovery codes now" in r.text
    assert b.get("/").status_code == 200
    assert outcomes(db, "admin")[-1] == ("password_mfa", "signed_in")
    # Others sign in as before.
    assert as_user(None).login("staff").headers["location"] == "/"


def test_required_of_everyone_applies_to_every_password(as_user):
    _require(as_user, "everyone")
    assert as_user(None).login("viewer").headers["location"] == "/login/enrol"


def test_the_rule_is_saved_with_the_sign_in_policy_on_the_record(as_user, db):
    admin = _require(as_user, "admins")
    assert sso.policy(db).mfa_required == "admins" and sso.policy(db).local_passwords
    event = db.exec(select(AuditEvent).where(AuditEvent.entity_type == "sign_in_policy")).one()
    assert event.changes == {"mfa_required": ["nobody", "admins"]}
    page = admin.get("/admin/sign-in").text
    assert re.search(r'value="admins"[^>]*checked', page)
    r = admin.post("/admin/sign-in/policy", {"local_passwords": "true", "mfa_required": "bosses", "version": "2"})
    assert r.status_code == 422 and 'id="f-mfa_required-error"' in r.text


@pytest.mark.parametrize("persona", ["manager", "staff", "contractor", "viewer"])
def test_only_admins_set_the_rule_or_read_the_sign_ins(as_user, db, world, persona):
    b = as_user(persona)
    r = b.post("/admin/sign-in/policy", {"local_passwords": "true", "mfa_required": "nobody", "version": "1"})
    assert r.status_code == 403 and sso.policy(db).mfa_required == "nobody"
    assert b.get("/admin/sign-ins").status_code == 403
    assert b.post(f"/admin/users/{world.ids['staff']}/mfa/disable").status_code == 403


# --- recovery codes and turning it off ----------------------------------------------------------------------


def test_new_recovery_codes_need_a_code_or_the_password_and_cancel_the_old(as_user, staff, enrolled):
    secret, codes = enrolled
    b = staff
    r = b.post("/profile/mfa/recovery-codes", {"proof": "not-my-password"})
    assert r.status_code == 422 and 'id="f-codes-proof-error"' in r.text
    r = b.post("/profile/mfa/recovery-codes", {"proof": code_now(secret)})
    assert r.status_code == 200
    new = re.findall(r"<li>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</li>", r.text)
    assert len(new) == 10 and not set(new) & set(codes)
    assert second_step(password_step(as_user, "staff"), codes[0]).status_code == 401
    assert second_step(password_step(as_user, "staff"), new[0]).status_code == 303


def test_turning_it_off_needs_a_code_or_the_password(as_user, db, world, staff, enrolled):
    b = staff
    r = b.post("/profile/mfa/disable", {"proof": ""})
    assert r.status_code == 422 and 'id="f-off-proof-error"' in r.text
    r = b.post("/profile/mfa/disable", {"proof": PASSWORD})
    assert r.status_code == 303
    assert not mfa.enrolled(db, world.ids["staff"]) and db.exec(select(RecoveryCode)).first() is None
    assert as_user(None).login("staff").headers["location"] == "/"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "mfa_disable")).one()
    assert event.actor_id == world.ids["staff"]


def test_an_admin_turns_off_mfa_for_someone_who_lost_it(as_user, db, world, enrolled):
    staff_id = world.ids["staff"]
    assert as_user("manager").post(f"/admin/users/{staff_id}/mfa/disable").status_code == 403
    assert mfa.enrolled(db, staff_id)
    admin = as_user("admin")
    assert "Multi-factor authentication: <strong>on</strong>" in admin.get(f"/admin/users/{staff_id}").text
    assert admin.post(f"/admin/users/{staff_id}/mfa/disable").status_code == 303
    db.expire_all()
    assert not mfa.enrolled(db, staff_id)
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "mfa_disable")).one().actor_id == world.ids["admin"]


def test_starting_over_while_on_is_refused(staff, enrolled):
    assert staff.post("/profile/mfa/start").status_code == 409
