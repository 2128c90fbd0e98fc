"""Status reports in the browser: a manager overrides a RAG with a rationale, writes the summary and publishes; a
viewer finds it on the portfolio, reads it and downloads the PDF. Every report page is checked for accessibility."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_every_status_report_page_is_accessible(page: Page, live_server: str):
    login(page, live_server, "mrivera")
    for path in [
        "/projects/CWS/status-reports",
        "/projects/CWS/scorecard",
        "/projects/CWS/scorecard?period_end=2099-01-01",
        "/portfolio",
        "/portfolio?sort=project",
        "/projects/CWS/status-reports/draft?period_end=bad",
    ]:
        page.goto(f"{live_server}{path}")
        assert_accessible(page)
    page.goto(f"{live_server}/projects/CWS/status-reports")
    page.locator("table").get_by_role("link", name=re.compile("Week ending")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Status report: Week ending")
    expect(page.locator("svg[role=img]")).to_have_count(10)  # four charts and six sparklines
    assert_accessible(page)
    page.get_by_text("Each table as CSV").click()
    page.locator("details.chart-data summary").first.click()
    assert_accessible(page)
    page.goto(f"{live_server}/projects/UIM/status-reports")
    expect(page.get_by_role("heading", name=re.compile("Not found"))).to_be_visible()  # not her project
    page.context.clear_cookies()
    login(page, live_server, "admin")
    page.goto(f"{live_server}/projects/UIM/status-reports")
    expect(page.get_by_text("Superseded", exact=True)).to_be_visible()  # the demo's correction supersedes a version 1
    page.get_by_role("button", name="RAG thresholds and targets").click()
    assert_accessible(page)
    page.get_by_label(re.compile("Red: open critical risks")).fill("0")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#f-critical_risks_red-error")).to_contain_text("from 1 to 1000")
    assert_accessible(page)


def test_a_manager_publishes_the_weeks_report_and_a_viewer_reads_it_from_the_portfolio(page: Page, live_server: str):
    login(page, live_server, "mrivera")
    todo = page.get_by_role("region", name=re.compile("Status reports to publish"))
    todo.get_by_role("link", name=re.compile("CWS")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft status report")
    assert_accessible(page)

    # An override without a rationale is refused beside the field; what was typed stays.
    page.get_by_label("Risks RAG").select_option("amber")
    summary = page.get_by_role("textbox", name="Summary")
    summary.fill("Two state reviews are late; the contractor's resubmissions are on time.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#f-why_risks-error")).to_contain_text("Write why you override")
    expect(summary).to_have_value(re.compile("Two state reviews are late"))
    assert_accessible(page)
    page.get_by_label("Risks rationale").fill("Mitigation funded at Tuesday's steering committee.")
    page.get_by_role("button", name="Save draft").click()
    report = page.locator("#report")
    expect(report).to_contain_text("Set by the manager")
    expect(report).to_contain_text("Mitigation funded at Tuesday's steering committee.")
    expect(report).to_contain_text("Two state reviews are late")
    page.get_by_role("button", name=re.compile("^Publish")).click()
    expect(page.get_by_text(re.compile("^Published: Week ending"))).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Status report: Week ending")
    assert_accessible(page)

    page.context.clear_cookies()
    login(page, live_server, "hlee")  # the state CIO: a viewer of every project
    page.get_by_role("link", name="Portfolio").click()
    expect(page.get_by_role("heading", level=1, name="Portfolio")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Critical risks")).click()  # sort by a column, in place
    expect(page.locator("th[aria-sort]")).to_contain_text("Critical risks")
    # the project's name opens its overview; the latest report's week opens the report
    expect(page.get_by_role("link", name=re.compile("CWS"))).to_have_attribute("href", "/projects/CWS")
    page.get_by_role("row", name=re.compile("CWS")).get_by_role("link", name=re.compile("Week ending")).click()
    expect(page.locator("#report")).to_contain_text("Mitigation funded at Tuesday's steering committee.")
    expect(page.get_by_role("button", name="Save draft")).to_have_count(0)
    with page.expect_download(timeout=60_000) as download:  # a PDF renders in seconds on a busy machine
        page.get_by_role("button", name="PDF (Letter)").click()
    assert download.value.suggested_filename.startswith("CWS-status-") and download.value.suggested_filename.endswith(
        ".pdf"
    )
    with open(download.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
