"""Custom fields in the browser: a manager defines a field on the risks (a refused definition comes back beside its
field), fills it on a new risk, filters the list by it and sets it on ticked rows at once; every page stays
accessible. The field is retired at the end, so the shared demo's lists are as other tests expect them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_a_manager_defines_a_field_fills_it_filters_by_it_and_sets_it_in_bulk(page: Page, live_server: str):
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS/edit")
    page.get_by_role("link", name="Custom fields of the registers").click()
    expect(page.get_by_role("heading", name="Custom fields of CWS")).to_be_visible()
    assert_accessible(page)

    # A choice field without choices is refused beside the box, the rest kept.
    page.get_by_label("Register").select_option("risks")
    page.get_by_label("Label (required)").fill("Budget line")
    page.get_by_label("Type (required)").select_option("choice")
    page.get_by_label("Help text").fill("Which budget pays for the response.")
    page.get_by_role("button", name="Add field").click()
    expect(page.locator("#f-choices-error")).to_have_text("Give the choices, one a line.")
    expect(page.get_by_label("Label (required)")).to_have_value("Budget line")
    assert_accessible(page)
    page.get_by_label("Choices").fill("Capital\nOperations")
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_text("Field “Budget line” added to the risks.")).to_be_visible()

    # Filled on a new risk: its help text describes the field.
    codes = []
    for title, budget in (("Budget: kiosk refresh slips", "Capital"), ("Budget: county printing costs", None)):
        page.goto(f"{live_server}/projects/CWS/risks/new")
        page.get_by_label("Title (required)").fill(title)
        page.get_by_label("Owner").select_option(label="Maria Rivera")
        field = page.get_by_label("Budget line")
        expect(field).to_have_accessible_description(re.compile("Which budget pays for the response."))
        if budget:
            field.select_option(budget)
        assert_accessible(page)
        page.get_by_role("button", name="Record risk").click()
        notice = page.get_by_text(re.compile(r"Risk R-\d+ recorded\."))
        expect(notice).to_be_visible()
        codes.append(re.search(r"R-\d+", notice.inner_text())[0])
    expect(page.locator("#custom-fields")).to_contain_text("Budget line")

    # The list shows it as a column and filters by it.
    page.goto(f"{live_server}/projects/CWS/risks?q=Budget:")
    rows = page.locator("#risk-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#risk-table thead")).to_contain_text("Budget line")
    page.locator("form.filter-bar").get_by_label("Budget line").select_option("Capital")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Capital")
    assert_accessible(page)

    # Both ticked, set at once.
    page.goto(f"{live_server}/projects/CWS/risks?q=Budget:")
    for code in codes:
        page.get_by_role("checkbox", name=f"Select {code}").check()
    panel = page.locator("details.bulk-edit")
    panel.locator("summary").click()
    panel.get_by_label("Budget line").select_option("Operations")
    page.get_by_role("button", name="Apply to the selected risks").click()
    expect(page.get_by_text(f"Changed 2 risks ({', '.join(sorted(codes))}).")).to_be_visible()
    for n in range(2):
        expect(rows.nth(n)).to_contain_text("Operations")
    assert_accessible(page)
    rows.first.locator("td.mono a").click()
    expect(page.locator("section[aria-labelledby=hist-h]")).to_contain_text("Budget line")

    # Retired: gone from the list, kept on the settings page.
    page.goto(f"{live_server}/projects/CWS/custom-fields")
    page.get_by_role("link", name="Edit Budget line").click()
    page.get_by_label("Retired").check()
    page.get_by_role("button", name="Save field").click()
    expect(page.get_by_text("Field “Budget line” saved.")).to_be_visible()
    page.goto(f"{live_server}/projects/CWS/risks?q=Budget:")
    expect(page.locator("#risk-table thead")).not_to_contain_text("Budget line")
