"""A weekly status meeting in the browser: a project's manager opens the draft status report, starts the weekly
status meeting from it (the draft's lists become the agenda), adds an action item in the minutes (a mistake first,
answered beside the field) and sees it listed, then logs a decision taken in the meeting; every page checked for
accessibility."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_a_weekly_status_meeting_started_from_the_draft_report_gets_its_action_items(page: Page, live_server: str):
    login(page, live_server, "mrivera")  # manager on CWS
    page.goto(f"{live_server}/projects/CWS/status-reports")
    page.get_by_role("button", name="This week's draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft status report")
    assert_accessible(page)
    page.get_by_role("button", name="Start the weekly status meeting").click()

    expect(page.get_by_text(re.compile(r"Meeting M-\d{3} started"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"/projects/CWS/meetings/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Weekly status meeting")
    agenda = page.get_by_role("region", name="Agenda")
    expect(agenda).to_contain_text("Top risks")
    expect(agenda).to_contain_text("Overdue action items")
    expect(page.get_by_role("region", name="Who attended")).to_contain_text("Maria Rivera")
    assert_accessible(page)

    page.get_by_text("Add an action item").click()
    page.get_by_role("button", name="Add action").click()
    expect(page.locator("#f-issue-description-error")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Action (required)").fill("Send the vendor the list of overdue deliverables")
    page.get_by_role("button", name="Add action").click()
    expect(page.get_by_text("Action item added.")).to_be_visible()
    actions = page.locator("#actions")
    expect(actions).to_contain_text("Send the vendor the list of overdue deliverables")
    assert_accessible(page)

    page.get_by_text("Record a decision").click()
    page.get_by_label("Decision (required)").fill("The vendor reports overdue deliverables daily until they are in")
    page.get_by_role("button", name="Log the decision").click()
    expect(page.get_by_text(re.compile(r"Decision D-\d{3} logged\."))).to_be_visible()
    expect(page.locator("#decisions")).to_contain_text("The vendor reports overdue deliverables daily")
    assert_accessible(page)

    page.goto(f"{live_server}/projects/CWS/meetings")
    expect(page.get_by_role("link", name=re.compile("Weekly status meeting")).first).to_be_visible()
    assert_accessible(page)
