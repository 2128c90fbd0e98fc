"""Contractor accountability in the browser: the contractor reports a month's figure, the State's manager disputes it
with a note, and the scorecard shows it as reported by the contractor and disputed; the manager changes a measure's
target and every month is judged against it. Each page is checked with axe and photographed at desktop and phone
sizes."""

from __future__ import annotations

import calendar
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login
from tracker.core import clock

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def _photograph(page: Page, output: str | Path, name: str) -> None:
    """Into pytest-playwright's folder for this test (--output)."""
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(folder / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size(SIZES["desktop"])


def test_the_contractor_reports_a_figure_the_manager_disputes_it_and_the_scorecard_shows_it(
    page: Page, live_server: str, output_path: str
):
    today = clock.today_in("America/Los_Angeles")  # CWS's calendar: this month has begun, so it may be reported
    month = f"{today:%Y-%m}"
    last_day = today.replace(day=calendar.monthrange(today.year, today.month)[1])

    login(page, live_server, "tbrooks")  # CWS's contractor
    page.goto(f"{live_server}/projects/CWS")
    page.get_by_role("button", name="Service levels", exact=True).click()
    expect(page.get_by_role("heading", name="Service levels reported by the contractor")).to_be_visible()
    assert_accessible(page)
    form = page.locator("form[action$='/scorecard/reported']")
    form.get_by_label("Measure").select_option(label="P1 ticket response")
    form.get_by_label("Month").fill(month)
    form.get_by_label("Value").fill("three")
    form.get_by_role("button", name="Report figure").click()
    expect(page.locator("#f-value-error")).to_contain_text("number")  # beside the field, the input kept
    expect(page.get_by_label("Value")).to_have_value("three")
    assert_accessible(page)
    page.get_by_label("Value").fill("3.1")
    page.get_by_label("Contractor's note").fill("From the service desk export, 14 P1 tickets.")
    page.get_by_role("button", name="Report figure").click()
    expect(page.locator(".flash")).to_contain_text("Figure reported")
    row = page.locator("tbody tr", has_text="P1 ticket response").filter(has_text="Awaiting verification")
    expect(row).to_have_count(1)  # the demo's latest P1 figure is disputed: this one is the new one
    _photograph(page, output_path, "reported-levels")

    page.context.clear_cookies()
    login(page, live_server, "mrivera")  # CWS's manager
    page.goto(f"{live_server}/projects/CWS/scorecard/reported")
    page.locator("tbody tr", has_text="Awaiting verification").filter(has_text="P1 ticket response").get_by_role(
        "link"
    ).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("P1 ticket response")
    page.get_by_role("button", name="Dispute").click()
    expect(page.locator("#f-reason-error")).to_be_visible()  # a dispute says why
    assert_accessible(page)
    page.get_by_label("Note").fill("The export lists 16 P1 tickets; two were answered after 6 hours.")
    page.get_by_role("button", name="Dispute").click()
    expect(page.locator(".flash")).to_contain_text("Figure disputed")
    expect(page.locator(".figure-status").first).to_have_text("Disputed")
    expect(page.locator("ol.timeline")).to_contain_text("disputed reported figure")
    assert_accessible(page)
    _photograph(page, output_path, "reported-figure")

    page.goto(f"{live_server}/projects/CWS/scorecard?period_start={today.replace(day=1)}&period_end={last_day}")
    reported = page.locator("table.scorecard tbody tr", has_text="P1 ticket response")
    expect(reported).to_contain_text("Reported by the contractor")
    expect(reported).to_contain_text("Disputed")
    expect(page.locator("svg[role=img]")).to_have_count(6)  # a chart per computed measure
    assert_accessible(page)
    page.locator("details.chart-data summary").first.click()
    assert_accessible(page)
    _photograph(page, output_path, "scorecard")

    page.goto(f"{live_server}/projects/CWS/scorecard")
    expect(page.get_by_role("heading", name=re.compile("Contractor scorecard: Week ending"))).to_be_visible()
    expect(page.get_by_role("heading", name="Service credits")).to_be_visible()
    assert_accessible(page)


def test_the_manager_changes_a_measures_target_and_every_month_is_judged_against_it(
    page: Page, live_server: str, output_path: str
):
    login(page, live_server, "mrivera")  # CWS's manager
    page.goto(f"{live_server}/projects/CWS/scorecard/reported")
    measures = page.get_by_role("table", name=re.compile("What the contractor reports"))
    expect(measures.locator("tr", has_text="System uptime")).to_contain_text("at least 99.5")
    missed = page.locator("tbody tr", has_text="System uptime").filter(has_text="Missed")
    expect(missed).to_have_count(1)  # the demo's month at 99.2
    measures.get_by_role("link", name="Edit System uptime").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("System uptime")
    expect(page.get_by_text("applies to every month's figure, earlier months included")).to_be_visible()
    expect(page.locator("#remove-h + p")).to_contain_text("figures are on the record")  # so it stays
    assert_accessible(page)
    page.get_by_role("textbox", name=re.compile("^Target")).fill("ninety-nine")
    page.get_by_role("button", name="Save measure").click()
    expect(page.locator("#f-target-error")).to_contain_text("number")  # beside the field, the input kept
    expect(page.get_by_role("textbox", name=re.compile("^Target"))).to_have_value("ninety-nine")
    assert_accessible(page)
    _photograph(page, output_path, "reported-measure")

    page.get_by_role("textbox", name=re.compile("^Target")).fill("99")
    page.get_by_role("button", name="Save measure").click()
    expect(page.locator(".flash")).to_contain_text("Measure saved: System uptime.")
    expect(measures.locator("tr", has_text="System uptime")).to_contain_text("at least 99")
    expect(missed).to_have_count(0)  # the month at 99.2 meets the new target
    measures.get_by_role("link", name="Edit System uptime").click()
    expect(page.locator("ol.timeline")).to_contain_text("changed reported measure System uptime")
    expect(page.locator("ol.timeline")).to_contain_text("99.5")  # the old target, on the record
    assert_accessible(page)

    page.get_by_role("textbox", name=re.compile("^Target")).fill(
        "99.5"
    )  # as the demo had it, for the tests after this one
    page.get_by_role("button", name="Save measure").click()
    expect(page.locator(".flash")).to_contain_text("Measure saved")
