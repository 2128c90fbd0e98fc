"""A project's overview in the browser, as leadership opens it: the RAG per area, then from each part of the
dashboard to its list, already filtered; the contractor's overview holds no register."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_a_viewer_reads_the_overview_and_follows_its_parts_to_their_lists(page: Page, live_server: str, look):
    login(page, live_server, "hlee")
    page.goto(f"{live_server}/projects/CWS")
    expect(page.get_by_role("heading", name="Status by area")).to_be_visible()
    rag = page.get_by_role("region", name="Status by area")
    expect(rag.get_by_role("row", name=re.compile("^Overall"))).to_contain_text(re.compile("Red|Amber|Green"))
    expect(page.get_by_role("heading", name="Top 5 risks")).to_be_visible()
    look("overview-viewer")

    page.get_by_role("list", name="Deliverables by state").get_by_role("link", name=re.compile("^Accepted")).click()
    expect(page).to_have_url(re.compile(r"/projects/CWS/deliverables\?status=accepted$"))
    expect(page.locator("tbody tr").first).to_contain_text("Accepted")
    page.go_back()
    page.get_by_role("link", name=re.compile(r"open, by score")).click()
    expect(page).to_have_url(re.compile(r"/projects/CWS/risks\?sort=-score$"))
    page.go_back()
    page.get_by_role("link", name="Holdback ledger").click()
    expect(page).to_have_url(re.compile(r"/projects/CWS/holdback$"))
    expect(page.get_by_role("heading", name="Holdback ledger")).to_be_visible()


def test_the_contractor_sees_deadlines_and_money_but_no_register(page: Page, live_server: str, look):
    login(page, live_server, "tbrooks")
    page.goto(f"{live_server}/projects/CWS")
    expect(page.get_by_role("heading", name="Deadlines")).to_be_visible()
    expect(page.get_by_role("heading", name="Payments and holdback")).to_be_visible()
    expect(page.get_by_role("heading", name="Status by area")).to_have_count(0)
    expect(page.get_by_role("heading", name="Risk heat map")).to_have_count(0)
    look("overview-contractor")
