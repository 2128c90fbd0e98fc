"""Mail in the browser: a manager keeps change requests coming immediately and turns report mail off, the
contractor submits a change request, the dispatcher runs, and the admin reads the message on Outgoing mail."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine

from tests.browser.conftest import LIVE, assert_accessible, login
from tracker import side_effects

pytestmark = pytest.mark.browser


def _dispatch_once() -> None:
    settings = LIVE["settings"]
    engine = create_engine(settings.database_url)
    try:
        side_effects.dispatcher(engine, settings).once()
    finally:
        engine.dispose()


def test_a_preference_set_an_event_and_the_message_on_outgoing_mail(page: Page, live_server: str):
    _dispatch_once()  # the mail handler starts at the end of the trail: what happens next is told
    login(page, live_server, "mrivera")
    page.get_by_role("link", name="Maria Rivera").click()
    page.get_by_role("button", name="Mail preferences").click()
    page.get_by_role("group", name="A change request awaits your decision").get_by_label("Immediately").check()
    page.get_by_role("group", name="A status report is published").get_by_label("Off").check()
    assert_accessible(page)
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Your mail preferences are saved.")).to_be_visible()
    expect(page.get_by_role("group", name="A status report is published").get_by_label("Off")).to_be_checked()

    page.context.clear_cookies()
    login(page, live_server, "tbrooks")
    page.goto(f"{live_server}/projects/CWS/changes/new")
    page.get_by_label("Title (required)").fill("Weekend cut-over support")
    page.get_by_role("button", name="Save as draft").click()
    page.get_by_role("button", name="Submit for decision").click()
    expect(page.get_by_text("submitted.")).to_be_visible()

    _dispatch_once()
    page.context.clear_cookies()
    login(page, live_server, "admin")
    page.get_by_role("link", name="Outgoing mail").click()
    row = page.locator("tr", has=page.get_by_text("mrivera@example.gov")).filter(has_text="Weekend cut-over support")
    expect(row).to_contain_text("Change request awaiting decision")
    expect(row).to_contain_text("Kept")
    assert_accessible(page)
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Weekend cut-over support")
    expect(page.locator("pre")).to_contain_text("Tom Brooks submitted")
    assert_accessible(page)
