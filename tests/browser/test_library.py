"""The reports library in the browser: a staff member builds a report with two filters, previews it live, saves
it shared; the manager finds it in the library, runs it and exports it. Every library page passes axe."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_library_pages_are_accessible(page: Page, live_server: str):
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS")
    page.get_by_role("button", name="Reports library").click()
    expect(page.get_by_role("link", name="Overdue reviews")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Overdue reviews").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overdue reviews")
    expect(page.locator("table.report-result")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Edit").click()
    expect(page.get_by_label("Name (required)")).to_have_value("Overdue reviews")
    assert_accessible(page)
    page.goto(f"{live_server}/projects/CWS/saved-reports/new?source=issues")
    page.get_by_role("button", name="Add a filter").click()
    page.get_by_label("Filter 1: field").select_option("priority")
    expect(page.get_by_label("Values")).to_be_visible()
    page.get_by_role("button", name="Save report").first.click()  # no name: refused beside the field
    expect(page.locator("#f-name-error")).to_be_visible()
    assert_accessible(page)


def test_build_preview_share_then_another_user_finds_runs_and_exports_it(page: Page, live_server: str):
    login(page, live_server, "dkim")
    page.goto(f"{live_server}/projects/CWS/saved-reports/")
    page.get_by_role("button", name="New report").click()
    page.evaluate("window.__marker = 'no reload'")
    page.get_by_label("Source").select_option("risks")
    expect(page.get_by_label("Score", exact=True)).to_be_checked()  # the risk columns came in place

    page.get_by_role("button", name="Add a filter").click()
    page.get_by_label("Filter 1: field").select_option("level")
    page.get_by_label("Values").select_option(["critical", "high"])
    page.get_by_role("button", name="Add a filter").click()
    page.get_by_label("Filter 2: field").select_option("title")
    page.get_by_label("Text", exact=True).fill("county data quality")  # the row re-rendered for a text field
    preview = page.locator("#preview")
    expect(preview).to_contain_text("R-900")
    expect(preview).to_contain_text("of 1 row")
    assert page.evaluate("window.__marker") == "no reload"  # all of it swapped in place

    page.get_by_label("Name (required)").fill("County data risks")
    page.get_by_label("Description").fill("Critical and high risks about county data, for the steering committee")
    page.get_by_label("Share with the project").check()
    page.get_by_role("button", name="Save report").first.click()
    expect(page.locator("#flashes")).to_contain_text("saved and shared with the project")
    expect(page.get_by_role("heading", level=1)).to_have_text("County data risks")
    expect(page.get_by_text("Level is one of High, Critical; Title contains county data quality")).to_be_visible()

    page.context.clear_cookies()
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS/saved-reports/")
    page.get_by_label("Search names and descriptions").fill("steering")
    expect(page.locator("#report-list tbody tr")).to_have_count(1)
    page.get_by_role("link", name="County data risks").click()
    expect(page.locator("table.report-result tbody")).to_contain_text("R-900")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename == "CWS-County-data-risks.csv"
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][:2] == ["Code", "Title"] and [r[0] for r in rows[1:]] == ["R-900"]
