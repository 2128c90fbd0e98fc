"""Search in the browser: a member types words into the header's box, reads the ranked results with the words marked,
narrows them by kind and follows one to its record; a contractor does not find the register. The page passes axe at
desktop and phone size, with screenshots of each."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shot(page: Page, output_path: str, name: str) -> None:
    Path(output_path).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(output_path) / f"{name}.png"), full_page=True)


def test_type_words_in_the_header_see_results_and_follow_one(page: Page, live_server: str, output_path: str):
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "mrivera")
    box = page.get_by_role("searchbox", name="Search records")
    box.fill("eligibility interf")  # the last word as far as typed
    box.press("Enter")
    page.wait_for_url("**/search?q=eligibility+interf")
    results = page.locator("ol.search-hits")
    hit = results.get_by_role("link", name="MEDS eligibility interface late for UAT")
    expect(hit).to_be_visible()
    expect(hit.locator("mark").first).to_have_text("eligibility")
    expect(page.get_by_role("status").filter(has_text="for “eligibility interf”")).to_be_visible()
    assert_accessible(page)
    _shot(page, output_path, "search-desktop")

    page.get_by_label("Kind of record").select_option("risk")  # narrows in place
    expect(page.get_by_role("navigation", name="Results by kind").get_by_role("link", name="Risk (")).to_have_attribute(
        "aria-current", "page"
    )
    expect(results.get_by_text("Review comment")).to_have_count(0)

    hit = page.locator("ol.search-hits").get_by_role("link", name="MEDS eligibility interface late for UAT")
    hit.click()
    page.wait_for_url("**/projects/CWS/risks/*")
    expect(page.get_by_role("heading", level=1)).to_contain_text("MEDS eligibility interface late for UAT")


def test_the_search_page_at_phone_size_and_its_empty_state(page: Page, live_server: str, output_path: str):
    page.set_viewport_size(PHONE)
    login(page, live_server, "dkim")
    page.goto(f"{live_server}/search")
    expect(page.get_by_role("heading", name="Find anything you can see")).to_be_visible()
    assert_accessible(page)
    _shot(page, output_path, "search-empty-phone")
    page.get_by_label("Words to find").fill('"county" data* (qual')  # its syntax is only words
    page.get_by_role("button", name="Search", exact=True).last.click()
    expect(page.locator("ol.search-hits li").first).to_be_visible()
    assert_accessible(page)
    _shot(page, output_path, "search-phone")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server}/search")
    _shot(page, output_path, "search-empty-desktop")


def test_a_contractor_finds_deliverables_but_not_the_register(page: Page, live_server: str):
    login(page, live_server, "tbrooks")
    page.goto(f"{live_server}/search?q=eligibility")
    expect(page.locator(".search-summary")).to_contain_text("for “eligibility”")
    expect(page.locator("ol.search-hits li").first).to_be_visible()  # the deliverables and their comments
    expect(page.locator("ol.search-hits").get_by_text("Risk", exact=True)).to_have_count(0)
