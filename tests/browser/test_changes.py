"""A change request in the browser: the contractor raises and submits it, the manager finds it on My work, reviews
and approves it, and the deliverable shows the date it moved to; every page checked for accessibility."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_a_contractors_change_request_from_draft_to_approval_moves_the_deliverable(page: Page, live_server: str):
    login(page, live_server, "tbrooks")
    page.goto(f"{live_server}/projects/CWS")
    page.get_by_role("button", name="Change requests").click()
    expect(page.get_by_role("link", name="CR-003")).to_have_count(0)  # the State's draft is the State's
    assert_accessible(page)
    page.get_by_role("button", name="New change request").click()

    # A mistake first: the message sits beside the field and the input stays.
    page.get_by_label("Title (required)").fill("Add a load test before go-live")
    page.get_by_label("Reason").fill("Peak enrolment doubles in January")
    page.get_by_label("Cost impact (USD)").fill("five thousand")
    page.get_by_label("Schedule impact (business days)").fill("3")
    page.get_by_label("Affected deliverables").select_option(label="D-14 · Training Materials — Release 2.1")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator("#f-cost_impact-error")).to_contain_text("enter an amount such as 12500")
    expect(page.get_by_label("Title (required)")).to_have_value("Add a load test before go-live")
    assert_accessible(page)
    page.get_by_label("Cost impact (USD)").fill("5,000")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_text("Change request CR-004 recorded.")).to_be_visible()
    expect(page.get_by_text("requested by the contractor")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Submit for decision").click()
    expect(page.get_by_text("CR-004 submitted.")).to_be_visible()
    page.get_by_role("button", name="Watch", exact=True).click()  # told of what happens to it next
    expect(page.get_by_role("button", name="Watching")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text("1 watching")).to_be_visible()
    assert_accessible(page)
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)  # the contractor never decides

    # The manager finds it on My work, starts the review and decides it.
    page.context.clear_cookies()
    login(page, live_server, "mrivera")
    work = page.locator("#work-changes_to_decide")
    expect(work).to_contain_text("Add a load test before go-live")
    work.get_by_role("link", name="Add a load test before go-live").click()
    page.get_by_role("button", name="Start review").click()
    expect(page.get_by_text("CR-004 put under review.")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#f-rationale-error")).to_contain_text("Give the reasons")
    assert_accessible(page)
    page.get_by_label("Decision rationale").fill("Cheaper than a failed go-live")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("CR-004 approved.")).to_be_visible()
    table = page.locator("table", has=page.get_by_role("columnheader", name="Due date after"))
    expect(table).to_contain_text("$100,000.00")
    assert_accessible(page)

    table.get_by_role("link", name="D-14").click()
    expect(page.get_by_text("Due date moved by CR-004")).to_be_visible()
    expect(page.get_by_text("Payment changed by CR-004")).to_be_visible()
    assert_accessible(page)
