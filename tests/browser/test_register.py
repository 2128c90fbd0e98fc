"""The register in the browser: a risk from creation to issue, with every page checked for accessibility."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_record_pages_of_the_register_are_accessible(page: Page, live_server: str):
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS/risks")
    page.get_by_role("link", name="R-900", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("County data quality")
    expect(page.locator("svg.trend")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Edit", exact=True).click()
    assert_accessible(page)
    page.goto(f"{live_server}/projects/CWS/issues")
    page.get_by_role("link", name="I-900", exact=True).click()
    expect(page.get_by_text("flagged for escalation")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Edit, escalate or resolve").click()
    assert_accessible(page)
    page.goto(f"{live_server}/projects/UIM/register-settings")
    expect(page.get_by_role("heading", name=re.compile("Not found|Not allowed"))).to_be_visible()


def test_a_risk_from_creation_to_the_heat_map_to_an_inline_edit_to_an_issue(page: Page, live_server: str):
    login(page, live_server, "dkim")
    assert_accessible(page)
    page.goto(f"{live_server}/projects/CWS")
    page.get_by_role("button", name="Risks").click()
    page.get_by_role("button", name="New risk").click()

    # A mistake first: the message sits beside the field and the input stays.
    page.get_by_label("Title (required)").fill("Interface partner misses the test window")
    page.get_by_label("Risk statement").fill("If the IRS interface is late, then UAT slips a month")
    page.get_by_label("Residual probability").select_option("2")
    page.get_by_role("button", name="Record risk").click()
    expect(page.locator("#f-residual_impact-error")).to_contain_text("both residual probability and residual impact")
    expect(page.get_by_label("Title (required)")).to_have_value("Interface partner misses the test window")
    assert_accessible(page)
    page.get_by_label("Residual probability").select_option("")
    page.get_by_label("Owner", exact=True).select_option(label="Daniel Kim")
    page.get_by_label("Probability (required)").select_option("2")
    page.get_by_label("Impact (required)").select_option("3")
    page.get_by_role("button", name="Record risk").click()
    recorded = page.get_by_text(re.compile(r"^Risk R-\d+ recorded\.$"))
    expect(recorded).to_be_visible()
    code = re.search(r"R-\d+", recorded.inner_text())[0]  # the next free code: other tests record risks here too
    expect(page.get_by_role("heading", level=1)).to_contain_text("Interface partner misses")

    # The heat map beside the list counts it in its cell, and the cell links to the filtered list.
    page.get_by_role("link", name="Risks", exact=True).click()  # the breadcrumb
    heat = page.locator("#heat-map")
    expect(heat.get_by_role("link", name="1 risk: probability 2, impact 3, medium")).to_be_visible()
    assert_accessible(page)

    # Raise its probability in place: Edit loads the row's fields, Escape puts the row back, Save re-renders it and
    # the heat map moves, with no page load.
    page.evaluate("window.__marker = 'still here'")
    row = page.locator("tr", has=page.get_by_role("link", name=code))
    row.get_by_role("link", name=f"Edit {code}").click()
    expect(row.get_by_label(f"Probability of {code}")).to_be_focused()
    page.keyboard.press("Escape")
    expect(row.get_by_label(f"Probability of {code}")).to_have_count(0)
    expect(row.get_by_role("link", name=f"Edit {code}")).to_be_focused()
    page.keyboard.press("Enter")
    row.get_by_label(f"Probability of {code}").select_option("5")
    assert_accessible(page)
    row.get_by_role("button", name=f"Save {code}").click()
    expect(row).to_contain_text(f"{code} saved.")
    expect(row).to_contain_text("15 High")
    expect(heat.get_by_role("link", name="1 risk: probability 5, impact 3, high")).to_be_visible()
    expect(heat.get_by_role("link", name="1 risk: probability 2, impact 3, medium")).to_have_count(0)
    assert page.evaluate("window.__marker") == "still here"
    assert_accessible(page)

    # The heat map cell lists just this risk.
    heat.get_by_role("link", name="1 risk: probability 5, impact 3, high").click()
    expect(page.locator("#risk-table tbody tr")).to_have_count(1)

    # Add a mitigation action, then the risk happens: convert it into an issue in one action, once the browser has
    # asked (without JavaScript a page asks instead).
    page.get_by_role("link", name=code).first.click()
    page.get_by_text("Add an action item to the mitigation plan").click()
    page.locator("#f-mitigation-description").fill("Weekly call with the IRS interface team")
    page.get_by_role("button", name="Add action").first.click()
    expect(page.locator("#mitigation-plan")).to_contain_text("Weekly call with the IRS interface team")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Convert to issue").click()
    expect(page.get_by_text(re.compile(rf"{code} is realized\. Issue I-\d+ opened from it"))).to_be_visible()
    expect(page.locator("dl.facts").first).to_contain_text(code)
    assert_accessible(page)

    # Escalate, then resolve; resolving without a resolution is refused beside the field.
    page.get_by_role("button", name="Edit, escalate or resolve").click()
    page.get_by_label("Status", exact=True).select_option("resolved")
    page.get_by_role("button", name="Save issue").click()
    expect(page.locator("#f-resolution-error")).to_contain_text("Describe the resolution")
    page.get_by_label("Status", exact=True).select_option("escalated")
    page.get_by_label("Escalation level").select_option("executive")
    page.get_by_label("Escalation reason").fill("Needs the CIO to call the IRS")
    page.get_by_role("button", name="Save issue").click()
    expect(page.locator("hgroup")).to_contain_text("Escalated")
    page.get_by_role("button", name="Edit, escalate or resolve").click()
    page.get_by_label("Status", exact=True).select_option("resolved")
    page.get_by_label("Resolution", exact=True).fill("IRS moved the window")
    page.get_by_role("button", name="Save issue").click()
    expect(page.locator("hgroup")).to_contain_text("Resolved")
    page.goto(f"{live_server}/projects/CWS/risks?q={code}")
    expect(page.locator("#risk-table")).to_contain_text("Realized")


def test_tick_issues_in_the_list_and_change_them_at_once(page: Page, live_server: str):
    login(page, live_server, "dkim")
    for title in ("Bulk: scanner firmware rejected", "Bulk: county VPN drops at night"):
        page.goto(f"{live_server}/projects/CWS/issues/new")
        page.get_by_label("Title (required)").fill(title)
        page.get_by_role("button", name="Record issue").click()
        expect(page.get_by_text(re.compile(r"Issue I-\d+ recorded\."))).to_be_visible()
    page.goto(f"{live_server}/projects/CWS/issues?q=Bulk")
    rows = page.locator("#issue-table tbody tr")
    expect(rows).to_have_count(2)
    codes = [rows.nth(n).locator("td.mono a").inner_text() for n in range(2)]

    # A change with nothing ticked is refused beside the panel, and what was chosen stays chosen.
    panel = page.locator("details.bulk-edit")
    panel.locator("summary").click()
    panel.get_by_label("Priority").select_option("critical")
    page.get_by_role("button", name="Apply to the selected issues").click()
    expect(page.get_by_text("Select at least one issue in the list.")).to_be_visible()
    expect(panel.get_by_label("Priority")).to_have_value("critical")
    assert_accessible(page)

    for code in codes:
        page.get_by_role("checkbox", name=f"Select {code}").check()
    panel.get_by_label("Owner").select_option(label="Daniel Kim")
    page.get_by_role("button", name="Apply to the selected issues").click()
    expect(page.get_by_text(f"Changed 2 issues ({', '.join(sorted(codes))}).")).to_be_visible()
    for n in range(2):
        expect(rows.nth(n)).to_contain_text("Critical")
        expect(rows.nth(n)).to_contain_text("Daniel Kim")
    assert_accessible(page)

    # Each issue's history has the change, once.
    rows.first.locator("td.mono a").click()
    expect(page.locator("section[aria-labelledby=hist-h]")).to_contain_text("Critical")
