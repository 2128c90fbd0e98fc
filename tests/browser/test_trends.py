"""The portfolio and the trends pages in the browser, on the demo: sorting in place, filtering, the charts with
their tables, the lazily loaded comment burndown; each checked for accessibility and photographed at desktop and
phone size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def _shots(page: Page, output_path: str, name: str) -> None:
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        assert_accessible(page)
        Path(output_path).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(output_path) / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size(SIZES["desktop"])


def test_leadership_sorts_and_filters_the_portfolio_and_reads_a_projects_trends(
    page: Page, live_server: str, output_path: str
):
    page.set_viewport_size(SIZES["desktop"])
    login(page, live_server, "hlee")  # the state CIO: a viewer of every project
    page.goto(f"{live_server}/portfolio")
    table = page.get_by_role("region", name="Portfolio, one row per project")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("svg.rag-strip")).to_have_count(3)
    expect(page.get_by_role("img", name=re.compile("Risk exposure per project"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Deliverables accepted against planned"))).to_be_visible()
    _shots(page, output_path, "portfolio")

    table.get_by_role("link", name=re.compile("Contract value")).click()  # sorts in place
    expect(page.locator("th[aria-sort]")).to_contain_text("Contract value")
    expect(page).to_have_url(re.compile(r"sort=-contract"))
    sponsor = page.get_by_label("Sponsor")
    first = sponsor.locator("option").nth(1).text_content()
    sponsor.select_option(first)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"sponsor="))
    expect(page.get_by_label("Sponsor")).to_have_value(first)
    assert_accessible(page)

    page.goto(f"{live_server}/projects/CWS")
    page.get_by_role("button", name="Trends").click()  # the header draws its links as buttons
    expect(page.get_by_role("heading", name="Trends")).to_be_visible()
    expect(page.locator("svg[role=img]")).to_have_count(4)
    page.get_by_text("Risk exposure, last 26 weeks as a table").click()
    _shots(page, output_path, "trends")


def test_the_deliverable_page_loads_its_comment_burndown(page: Page, live_server: str, output_path: str):
    page.set_viewport_size(SIZES["desktop"])
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS/deliverables")
    page.locator("table tbody a[href*='/deliverables/']").first.click()
    burndown = page.locator("#burndown")
    expect(burndown.get_by_role("heading", name="Open-comment burndown")).to_be_visible()
    assert_accessible(page)
    burndown.scroll_into_view_if_needed()
    Path(output_path).mkdir(parents=True, exist_ok=True)
    burndown.screenshot(path=str(Path(output_path) / "burndown-desktop.png"))
