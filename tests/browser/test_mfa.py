"""A person turns on multi-factor authentication from their profile, reading the key off the page into their "app"
(pyotp here), signs out and signs in again with the second step; an admin then reads that on the sign-in log. Each
page is checked with axe and photographed at desktop and phone size. Where the policy asks everyone for a second factor,
someone without one sets it up on the way in, and those pages are checked too."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from tests.browser.conftest import LIVE, login
from tracker.accounts import service as accounts
from tracker.core.clock import utcnow
from tracker.core.db import make_engine
from tracker.core.forms import parse
from tracker.sso import service as sso

pytestmark = pytest.mark.browser

NAME, PASSWORD = "mfa-walker", "walker-password-1"


def _person() -> None:
    """A person of this test's own, so the demo's people sign in as the other tests expect."""
    engine = make_engine(LIVE["settings"].database_url)
    with Session(engine) as db:
        if accounts.find_user(db, NAME) is None:
            form = {
                "username": NAME,
                "full_name": "Morgan Walker",
                "email": "mwalker@example.gov",
                "password": PASSWORD,
            }
            accounts.create_user(db, None, parse(accounts.UserForm, form))
            db.commit()
    engine.dispose()


def test_a_person_turns_on_mfa_and_signs_in_with_a_code(page: Page, live_server: str, look, clock):
    _person()
    login(page, live_server, NAME, PASSWORD)
    page.goto(f"{live_server}/profile")
    page.get_by_role("link", name="Set up multi-factor authentication").click()
    look("mfa-off")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    look("mfa-setup")
    secret = page.locator("#mfa-secret").inner_text().replace(" ", "")

    page.get_by_label("Code from the app").fill("000000" if pyotp.TOTP(secret).at(utcnow()) != "000000" else "111111")
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page.locator("#f-code-error")).to_contain_text("does not match")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).at(utcnow()))
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page.get_by_text("Save these recovery codes now.")).to_be_visible()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(10)
    look("mfa-recovery-codes")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/login")
    page.get_by_label("Username").fill(NAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/login/code")
    look("mfa-code")
    clock.advance(seconds=30)  # the code confirming the set-up is used up: the app shows the next one
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).at(utcnow()))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/profile/mfa")
    expect(page.get_by_text("10 of 10 unused")).to_be_visible()
    look("mfa-on")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/login")
    login(page, live_server, "admin")
    page.get_by_role("link", name="Sign-in", exact=True).click()
    expect(page.get_by_role("group", name="Multi-factor authentication required of")).to_be_visible()
    look("sign-in-policy")
    page.get_by_role("button", name="Sign-in log").click()
    page.get_by_label("Username").fill(NAME)
    page.get_by_role("button", name="Filter").click()
    rows = page.get_by_role("region", name="sign-in").get_by_role("row")
    expect(rows.filter(has_text="Password and authenticator code")).to_have_count(1)
    look("sign-ins")


FORCED = "mfa-forced"


def _require_mfa_of(rule: str) -> None:
    """The sign-in policy's second-factor rule, set on the live demo database (put back after the test)."""
    engine = make_engine(LIVE["settings"].database_url)
    with Session(engine) as db:
        if rule != "nobody" and accounts.find_user(db, FORCED) is None:
            form = {
                "username": FORCED,
                "full_name": "Riley Forced",
                "email": "rforced@example.gov",
                "password": PASSWORD,
            }
            accounts.create_user(db, None, parse(accounts.UserForm, form))
        rules = sso.policy(db)
        rules.mfa_required = rule
        db.merge(rules)
        db.commit()
    engine.dispose()


def test_where_everyone_needs_a_second_factor_a_person_without_one_sets_it_up_to_get_in(
    page: Page, live_server: str, look
):
    _require_mfa_of("everyone")
    try:
        page.goto(f"{live_server}/login")
        page.get_by_label("Username").fill(FORCED)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/login/enrol")
        expect(page.get_by_role("heading", name="Set up multi-factor authentication")).to_be_visible()
        expect(page.get_by_role("img", name="QR code")).to_be_visible()
        look("mfa-forced-enrol")
        page.get_by_label("Code from the app").fill("abc")
        page.get_by_role("button", name="Confirm and turn on").click()
        expect(page.locator("#f-code-error")).to_be_visible()
        look("mfa-forced-enrol-error")
        secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
        page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).at(utcnow()))
        page.get_by_role("button", name="Confirm and turn on").click()
        expect(page.get_by_role("heading", name="Multi-factor authentication is on")).to_be_visible()
        look("mfa-forced-recovery-codes")
        page.get_by_role("button", name="I have saved them: continue").click()
        page.wait_for_url(f"{live_server}/")
    finally:
        _require_mfa_of("nobody")
