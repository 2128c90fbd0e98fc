"""The decision log in the browser: a project's staff member opens the merged decision log from the project's header,
records a decision (a mistake first, answered beside the field), and finds it in the merged log beside the
deliverable, change request and issue decisions; every page checked for accessibility."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_a_decision_recorded_on_a_project_is_in_its_merged_decision_log(page: Page, live_server: str):
    login(page, live_server, "pokafor")  # staff on CWS
    page.goto(f"{live_server}/projects/CWS")
    page.get_by_role("button", name="Decision log").click()
    expect(page.get_by_role("heading", name="Decision log", level=2)).to_be_visible()
    log = page.get_by_role("region", name="Decision log")
    expect(log).to_contain_text("Go live in two county waves instead of one")  # the decision log's own
    expect(log).to_contain_text("Change request")  # a change request decided
    assert_accessible(page)

    page.get_by_role("button", name="Record a decision").click()
    page.get_by_label("Decision (required)").fill("Print vendor joins the next go-live rehearsal")
    page.get_by_label("Context").fill("Notices went out a day late after the last rehearsal.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#f-decided_by-error")).to_contain_text("Say who decided")
    expect(page.get_by_label("Context")).to_have_value("Notices went out a day late after the last rehearsal.")
    assert_accessible(page)
    page.get_by_label("Decided by", exact=True).fill("Release board")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text(re.compile(r"Decision D-\d{3} recorded\."))).to_be_visible()
    expect(page.get_by_role("region", name="Context")).to_contain_text("Notices went out a day late")
    assert_accessible(page)

    page.get_by_role("link", name="Every decision of the project").click()
    page.get_by_label("Search decisions").fill("print vendor")
    page.get_by_label("Search decisions").press("Enter")
    log = page.get_by_role("region", name="Decision log")
    expect(log.get_by_role("row")).to_have_count(2)  # the header and the one decision
    expect(log).to_contain_text("Release board")
    assert_accessible(page)
    log.get_by_role("link", name=re.compile(r"D-\d{3}")).click()
    expect(page).to_have_url(re.compile(r"/projects/CWS/decisions/\d+$"))
