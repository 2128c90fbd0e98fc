"""Importing a register spreadsheet through the pages, every step checked for accessibility, then exporting it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser

SHEET = """Issue #,Issue,Severity,Assigned To,Target Date,Status,Notes
I-701,Claimant portal login loops on Safari,High,Raj Patel,12/15/2026,In progress,Seen since release 2.3
I-702,Employer tax file rejected by the bank,Urgent,rpatel,2026-12-01,Open,Format changed by the bank
I-703,Call centre scripts out of date,Whenever,Nobody Known,,Open,
"""


def test_an_issue_register_is_uploaded_mapped_previewed_imported_and_exported(page: Page, live_server: str, tmp_path):
    login(page, live_server, "jchen")
    page.goto(f"{live_server}/projects/UIM/issues")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import an issue register")
    assert_accessible(page)

    sheet = tmp_path / "UIM issues.csv"
    sheet.write_text(SHEET)
    page.get_by_label("Spreadsheet (Excel .xlsx or .csv)").set_input_files(str(sheet))
    page.get_by_role("button", name="Upload and map the columns").click()
    notes = page.get_by_label("Column G “Notes” is imported as")
    expect(page.get_by_label("Column A “Issue #” is imported as")).to_have_value("code")
    expect(page.get_by_label("Column C “Severity” is imported as")).to_have_value("priority")
    expect(notes).to_have_value("")
    assert_accessible(page)
    notes.select_option("description")
    page.get_by_role("button", name="Preview the import").click()

    expect(page.get_by_text("2 new, 0 to update, 0 unchanged")).to_be_visible()
    errors = page.locator("#row-4")
    expect(errors).to_contain_text("Row 4, Priority: Choose one of: Critical, High, Medium, Low.")
    expect(errors).to_contain_text("“Nobody Known” is not a member of this project")
    assert_accessible(page)
    page.get_by_role("button", name="Import only the 2 valid rows").click()

    expect(page.locator(".flash-success")).to_contain_text("2 created, 0 updated; 1 row with errors left out")
    assert_accessible(page)
    page.get_by_role("link", name="I-702", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Employer tax file rejected by the bank")
    expect(page.locator("hgroup")).to_contain_text("Critical priority")
    expect(page.locator("p.lead")).to_have_text("Format changed by the bank")

    page.goto(f"{live_server}/projects/UIM/issues?q=I-70")
    expect(page.locator("#issue-table tbody tr")).to_have_count(2)
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename.startswith("UIM-issues-")
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Issue ID,Title,Description") and len([x for x in lines if x.startswith("I-70")]) == 2
