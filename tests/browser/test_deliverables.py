"""The acceptance journey in the browser, as the people who do it: the manager plans, the contractor submits,
a reviewer comments, acceptance is refused with the reason, the comment is answered and resolved, the
criteria are met, and the manager accepts."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login


def _as(page: Page, base: str, username: str, url: str) -> None:
    page.wait_for_load_state("networkidle")  # no htmx response may land (and set a cookie) after the sign-out
    page.goto("about:blank")  # and no timer of the page left (a region polling for letters) may fire after it
    page.context.clear_cookies()
    login(page, base, username)
    page.goto(url)


def test_plan_submit_review_refuse_resolve_and_accept(page: Page, live_server: str):
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS/deliverables")
    page.get_by_role("button", name="Plan a deliverable").click()
    assert_accessible(page)
    page.get_by_label("Code").fill("ICD-1")
    page.get_by_label("Title").fill("Interface Control Document")
    page.get_by_label("Payment amount ($)").fill("40,000")
    page.get_by_label("Holdback %").fill("10")
    page.get_by_label("Criteria, one per line, in order").fill("All interfaces listed\nMessage formats specified")
    page.get_by_role("button", name="Plan deliverable").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Interface Control Document")
    record = page.url
    expect(page.locator("#agreement")).to_contain_text("Not agreed")  # the DED is agreed before any submission
    page.get_by_role("button", name="Record the State's agreement to version 1").click()
    expect(page.locator("#agreement")).to_contain_text("Awaiting the contractor")

    _as(page, live_server, "tbrooks", record)
    expect(page.locator("#submit-h")).to_contain_text("once criteria version 1 is agreed by the State and acknowledged")
    page.get_by_role("button", name="Acknowledge criteria version 1").click()
    expect(page.locator("#agreement")).to_contain_text("Agreed")
    assert_accessible(page)
    page.get_by_label("Files").set_input_files(
        [{"name": "ICD v1.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 interface control"}]
    )
    page.get_by_label("Notes to the reviewers").fill("First issue for review")
    page.get_by_role("button", name="Submit version 1").click()
    expect(page.locator("#flashes")).to_contain_text("Version 1 submitted")
    assert_accessible(page)

    _as(page, live_server, "dkim", record)
    page.get_by_label("Daniel Kim").check()
    page.get_by_role("button", name="Start review").click()
    expect(page.locator("#record")).to_contain_text("Review started")
    page.get_by_label("Severity").select_option("critical")
    page.get_by_label("Location").fill("§2.1, p. 4")
    page.get_by_role("textbox", name="Comment (required)").fill("The eligibility interface is missing")
    page.get_by_role("button", name="Log comment").click()
    expect(page.locator("#comment-log")).to_contain_text("The eligibility interface is missing")
    assert_accessible(page)

    _as(page, live_server, "mrivera", record)
    page.get_by_label("Accept", exact=True).check()
    page.get_by_role("button", name="Record decision").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Cannot accept yet")
    expect(alert).to_contain_text("1 critical comment is still open.")
    expect(alert).to_contain_text("Criterion 1 has no result yet")
    assert_accessible(page)

    _as(page, live_server, "tbrooks", record)
    page.get_by_label(re.compile("Response to comment")).fill("Added as §2.4 in version 1.1")
    page.get_by_role("button", name="Respond").click()
    expect(page.locator("#record")).to_contain_text("Response to comment")

    _as(page, live_server, "dkim", record)
    page.get_by_label(re.compile("Disposition of comment")).select_option("resolved")
    page.get_by_role("button", name="Set").click()
    expect(page.locator("#record")).to_contain_text("marked resolved")
    for n in (1, 2):
        page.get_by_label(f"Result of criterion {n}").select_option("met")
        page.get_by_label(f"Evidence for criterion {n}").fill(f"Checked section {n}")
        page.locator(f"#criteria tbody tr:nth-child({n})").get_by_role("button", name="Save").click()
        expect(page.locator(f"#criteria tbody tr:nth-child({n}) td:nth-child(3)")).to_have_text("Met")

    _as(page, live_server, "mrivera", record)
    expect(page.locator("#decision")).to_contain_text("Ready")
    page.get_by_label("Accept", exact=True).check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#record")).to_contain_text("accepted")
    expect(page.locator("dl.facts")).to_contain_text("released on acceptance")
    expect(page.locator("#decisions")).to_contain_text("Maria Rivera")
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF of the acceptance letter").click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".pdf") and Path(path).read_bytes()[:5] == b"%PDF-"


def test_holdback_ledger_and_plan_form_errors_are_accessible(page: Page, live_server: str):
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS/holdback")
    expect(page.get_by_role("heading", name="Holdback ledger")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{live_server}/projects/CWS/deliverables/new")
    page.get_by_label("Code").fill("")
    page.get_by_role("button", name="Plan deliverable").click()
    expect(page.locator("#f-title-error")).to_be_visible()
    expect(page.get_by_label("Code")).to_be_focused()
    assert_accessible(page)


def test_a_conditional_acceptance_is_tracked_condition_by_condition(page: Page, live_server: str):
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS/deliverables")
    page.get_by_role("link", name="T-03", exact=True).click()
    record = page.url
    page.get_by_label("Accept with conditions").check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#f-conditions-error")).to_contain_text("List the conditions")  # beside the field
    assert_accessible(page)
    page.get_by_label("Accept with conditions").check()
    page.get_by_label("Conditions", exact=True).fill("Add the county trainer roster\nPublish the LMS links")
    due = page.evaluate("() => new Date(Date.now() + 10 * 864e5).toISOString().slice(0, 10)")
    page.get_by_label("Conditions due").fill(due)
    page.get_by_label("Conditions owner").select_option(label="Tom Brooks (Contractor)")
    page.get_by_role("button", name="Record decision").click()
    conditions = page.locator("#conditions")
    expect(conditions).to_contain_text("Add the county trainer roster")
    expect(conditions).to_contain_text("Tom Brooks")
    assert_accessible(page)

    _as(page, live_server, "tbrooks", f"{live_server}/")
    expect(page.get_by_role("region", name=re.compile("Conditions due"))).to_contain_text("Publish the LMS links")

    _as(page, live_server, "mrivera", record)
    first = page.locator("#conditions tbody tr").first
    first.get_by_label("Evidence it is met").fill("Roster attached to the v1.1 cover letter")
    first.get_by_role("button", name="Confirm met").click()
    expect(page.locator("#record")).to_contain_text("Condition confirmed as met")
    expect(page.locator("#conditions tbody tr").first).to_contain_text("confirmed by Maria Rivera")
    second = page.locator("#conditions tbody tr").nth(1)
    second.get_by_label("Evidence it is met").fill("Links live on the LMS home page")
    second.get_by_role("button", name="Confirm met").click()
    expect(page.locator("#record")).to_contain_text("Every condition is met: T-03 is accepted")
    expect(page.locator("dl.facts")).to_contain_text("released on acceptance")
    assert_accessible(page)
