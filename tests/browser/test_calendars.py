"""A person subscribes to their calendar feeds and resets an address, with an accessibility check on each page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def _feed_path(page: Page) -> str:
    return urlsplit(page.get_by_label("Feed address", exact=False).input_value()).path


def test_a_contractor_subscribes_to_their_feeds_and_resets_one(page: Page, live_server: str):
    login(page, live_server, "tbrooks")
    page.goto(f"{live_server}/profile")
    calendar = page.locator("#calendar")
    calendar.get_by_role("button", name="Create feed address").click()
    expect(calendar.get_by_label("Feed address", exact=False)).to_be_visible()
    assert_accessible(page)
    old = _feed_path(page)
    feed = page.request.get(live_server + old)
    assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in feed.body()

    page.once("dialog", lambda d: d.accept())
    calendar.get_by_role("button", name="Reset address").click()
    expect(calendar.get_by_label("Feed address", exact=False)).not_to_have_value(f"http://127.0.0.1:8000{old}")
    assert page.request.get(live_server + old).status == 404
    assert page.request.get(live_server + _feed_path(page)).status == 200

    page.locator("#proj-h ~ ul a").first.click()
    page.locator("#calendar").get_by_role("button", name="Create feed address").click()
    expect(page.locator("#calendar").get_by_label("Feed address", exact=False)).to_be_visible()
    assert_accessible(page)
    body = page.request.get(live_server + _feed_path(page)).body()
    assert b"BEGIN:VEVENT" in body and b"risk-" not in body  # a contractor's project feed: no register
