"""Webhooks in the browser: a manager subscribes a URL to two kinds of event (refused beside the field first), copies
the secret shown once, and finds the webhook with its empty log. Every page passes axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_a_manager_creates_a_webhook_and_sees_its_secret_once(page: Page, live_server: str):
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS")
    page.get_by_role("button", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="New webhook").click()
    page.get_by_label("Payload URL (required)").fill("https://93.184.215.14/hooks/pmo")
    page.get_by_role("button", name="Create webhook").click()  # no event chosen: refused beside the field
    expect(page.locator("#f-events-error")).to_be_visible()
    expect(page.get_by_label("Payload URL (required)")).to_have_value("https://93.184.215.14/hooks/pmo")
    assert_accessible(page)
    page.get_by_label("deliverable.submitted").check()
    page.get_by_label("deliverable.decided").check()
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_role("heading", name="Webhook created")).to_be_visible()
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    assert_accessible(page)
    page.get_by_role("button", name="Go to the webhook").click()
    expect(page.get_by_text("Nothing delivered yet.")).to_be_visible()
    expect(page.get_by_label("deliverable.decided")).to_be_checked()
    assert secret not in page.content()
    assert_accessible(page)
