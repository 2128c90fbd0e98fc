"""Attachments in the browser: a file attached on a risk's page is listed with who attached it, and downloads as
sent under its own name, and is removed by its editor; the page stays accessible with the list and the form on it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_a_file_attached_on_a_risk_page_is_listed_and_downloads_as_sent(page: Page, live_server: str):
    login(page, live_server, "dkim")
    page.goto(f"{live_server}/projects/CWS/risks")
    page.get_by_role("link", name="R-900", exact=True).click()
    section = page.locator("#attachments")
    expect(section.get_by_role("heading", name="Attachments")).to_be_visible()
    assert_accessible(page)

    # Sent with no file first: the message sits beside the field.
    section.get_by_role("button", name="Attach", exact=True).click()
    expect(page.locator("#f-attachment-error")).to_contain_text("Choose a file")
    assert_accessible(page)

    # A file over the limit is named beside the field as it is chosen and never sent (the page's limit lowered here
    # to 100 bytes, so the test need not make a 50 MB file).
    page.locator("#f-attachment").evaluate("el => { el.dataset.maxBytes = '100'; }")
    page.get_by_label("Attach a file").set_input_files(
        files=[{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF" + b"x" * 200}]
    )
    expect(page.locator("#f-attachment-size-error")).to_have_text(
        "scan.pdf is larger than 100 bytes, the most a file may be. Choose a smaller file."
    )
    section.get_by_role("button", name="Attach", exact=True).click()
    expect(page.locator("#f-attachment")).to_be_focused()
    expect(section).to_contain_text("No files attached.")
    assert_accessible(page)

    content = b"Vendor's letter of 3 March: the county files arrive late.\n"
    page.get_by_label("Attach a file").set_input_files(
        files=[{"name": "Vendor letter (signed).txt", "mimeType": "text/plain", "buffer": content}]
    )
    page.locator("#attachments").get_by_role("button", name="Attach", exact=True).click()
    expect(page.get_by_text("Vendor letter (signed).txt attached to R-900.")).to_be_visible()  # under the limit: sent
    row = page.locator("#attachments tr", has_text="Vendor letter (signed).txt")
    expect(row).to_contain_text(f"{len(content)} bytes")
    expect(row).to_contain_text("Daniel Kim")
    expect(page.locator("#hist-h ~ ol")).to_contain_text("attached a file to risk")
    assert_accessible(page)

    with page.expect_download() as caught:
        row.get_by_role("link", name="Vendor letter (signed).txt").click()
    download = caught.value
    assert download.suggested_filename == "Vendor letter (signed).txt"
    assert Path(download.path()).read_bytes() == content

    # Its editor removes it: gone from the list, kept in the history.
    row.get_by_role("button", name=re.compile(r"^Remove\W+Vendor letter \(signed\)\.txt$")).click()
    expect(page.get_by_text("Vendor letter (signed).txt removed from R-900.")).to_be_visible()
    expect(page.locator("#attachments")).to_contain_text("No files attached.")
    expect(page.locator("#hist-h ~ ol")).to_contain_text("removed a file from risk")
    assert_accessible(page)
