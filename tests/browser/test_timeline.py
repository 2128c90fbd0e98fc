"""The deliverables timeline in the browser: a manager opens the project's and the portfolio's, a contractor the
project's; each checked for accessibility and photographed at desktop and phone size. On a phone only the figure's
own box scrolls sideways, never the page."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shots(page: Page, output_path: str, name: str) -> None:
    os.makedirs(output_path, exist_ok=True)
    for size, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls at {label}"
        page.screenshot(path=os.path.join(output_path, f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def test_both_timelines_draw_and_read_at_desktop_and_phone_size(page: Page, live_server: str, output_path: str):
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS")
    page.get_by_role("button", name="Timeline").click()
    expect(page.get_by_role("heading", name="Deliverables timeline")).to_be_visible()
    figure = page.get_by_role("region", name=re.compile("CWS timeline figure"))
    expect(figure).to_be_visible()
    expect(figure.locator("svg .lane").first).to_be_visible()
    expect(page.get_by_role("list", name="Legend")).to_contain_text("Accepted with conditions (C)")
    assert_accessible(page)
    _shots(page, output_path, "project-timeline")

    # The figure's box scrolls by keyboard; the data table opens as the text alternative.
    figure.focus()
    page.keyboard.press("End")
    page.get_by_text("CWS timeline as a table").click()
    expect(page.get_by_role("table").first).to_contain_text("Version 1")
    assert_accessible(page)

    page.get_by_role("link", name="Whole contract").click()
    expect(page.get_by_text("Whole contract", exact=True)).to_have_attribute("aria-current", "page")
    _shots(page, output_path, "project-timeline-contract")
    page.get_by_role("textbox", name="From").fill("2026-05-01")
    page.get_by_role("textbox", name="To").fill("2026-04-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".form-errors")).to_contain_text("The range starts after it ends")
    expect(page.get_by_role("textbox", name="From")).to_have_value("2026-05-01")
    assert_accessible(page)

    page.goto(f"{live_server}/portfolio")
    page.get_by_role("link", name="Deliverables timeline").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Portfolio timeline")
    expect(page.locator("section.timeline-band").first).to_be_visible()
    assert_accessible(page)
    _shots(page, output_path, "portfolio-timeline")

    # A lane's label opens the deliverable.
    page.locator("svg .lane a").first.click()
    expect(page).to_have_url(re.compile(r"/projects/\w+/deliverables/\d+$"))


def test_the_contractor_reads_the_timeline(page: Page, live_server: str, output_path: str):
    page.set_viewport_size(PHONE)
    login(page, live_server, "tbrooks")
    page.goto(f"{live_server}/projects/CWS/timeline?status=all")
    expect(page.get_by_role("region", name=re.compile("CWS timeline figure"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)
    page.screenshot(path=os.path.join(output_path, "contractor-timeline-phone.png"), full_page=True)
