"""Journeys a person takes in the browser, with an accessibility check on every page they see."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_sign_in_is_clear_about_a_wrong_password(page: Page, live_server: str):
    page.goto(f"{live_server}/login")
    assert_accessible(page)
    page.get_by_label("Username").fill("mrivera")
    page.get_by_label("Password").fill("not-it")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.get_by_label("Username")).to_have_value("mrivera")
    assert_accessible(page)


def test_admin_creates_a_project_adds_a_member_and_sees_the_audit_entry(page: Page, live_server: str):
    login(page, live_server, "admin")
    assert_accessible(page)
    page.get_by_role("link", name="Projects", exact=True).click()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="New project").or_(page.get_by_role("link", name="New project")).click()
    assert_accessible(page)

    # A mistake first: the error appears beside the field and the input stays.
    page.get_by_label("Key").fill("hr")
    page.get_by_label("Name (required)", exact=True).fill("Human Resources System")
    page.get_by_label("Contractor (systems integrator)").fill("Summit Integration Partners")
    page.get_by_label("Official calendar").fill("US-XX")
    page.get_by_role("button", name="Create project").click()
    expect(page.locator("#f-holiday_calendar-error")).to_contain_text("not a subdivision")
    expect(page.get_by_label("Contractor (systems integrator)")).to_have_value("Summit Integration Partners")
    assert_accessible(page)

    page.get_by_label("Official calendar").fill("US-WA")
    page.get_by_role("button", name="Create project").click()
    expect(page).to_have_url(f"{live_server}/projects/HR/members")  # a new project's first task: its members
    expect(page.get_by_text("Project HR created")).to_be_visible()
    assert_accessible(page)

    # Add a member: htmx swaps the members panel in place (no page load).
    page.evaluate("window.__marker = 'still here'")
    page.get_by_label("Add a person").select_option(label="Maria Rivera (Department of Social Services)")
    page.get_by_label("Role", exact=True).select_option("manager")
    page.get_by_role("button", name="Add member").click()
    members = page.locator("#members")
    expect(members.get_by_role("row", name=re.compile("Maria Rivera"))).to_be_visible()
    assert page.evaluate("window.__marker") == "still here"

    page.get_by_role("link", name="HR", exact=True).click()  # the overview names the managers, and has the history
    expect(page.locator("#members")).to_contain_text("Maria Rivera")
    expect(page.locator("ol.timeline")).to_contain_text("added member Maria Rivera")
    expect(page.locator("ol.timeline")).to_contain_text("created project HR")
    assert_accessible(page)


def test_role_change_updates_the_row_in_place(page: Page, live_server: str):
    login(page, live_server, "admin")
    page.goto(f"{live_server}/projects/DMV")
    page.get_by_role("link", name="Manage members and roles").click()
    page.evaluate("window.__marker = 'still here'")
    page.get_by_label("Role of Sofia Nguyen").select_option("viewer")
    expect(page.get_by_text("Role changed.")).to_be_visible()
    expect(page.get_by_label("Role of Sofia Nguyen")).to_have_value("viewer")
    assert page.evaluate("window.__marker") == "still here"
    page.goto(f"{live_server}/projects/DMV/history")
    expect(page.locator("ol.timeline li").first).to_contain_text("changed the role of member Sofia Nguyen")
    assert_accessible(page)


def test_every_page_a_member_sees_is_accessible(page: Page, live_server: str):
    login(page, live_server, "admin")
    for path in [
        "/",
        "/projects",
        "/projects/CWS",
        "/projects/CWS/edit",
        "/projects/CWS/members",
        "/projects/CWS/history",
        "/admin/users",
        "/admin/users/new",
        "/admin/users/2",
        "/profile",
        "/projects/new",
        "/projects/NOPE",
        "/projects/CWS/deliverables",
        "/projects/CWS/deliverables?overdue=true&sort=-due",
        "/projects/CWS/deliverables/1",
        "/projects/CWS/deliverables/2",
        "/projects/CWS/deliverables/7",
        "/projects/CWS/register-settings",
        "/projects/CWS/holdback",
    ]:
        page.goto(f"{live_server}{path}")
        assert_accessible(page)
    page.context.clear_cookies()
    login(page, live_server, "mrivera")  # a manager, who sees the register's edit controls
    for path in [
        "/",
        "/projects/CWS/risks",
        "/projects/CWS/risks?due=true&overdue=true",
        "/projects/CWS/risks/new",
        "/projects/CWS/issues",
        "/projects/CWS/issues?escalation=true",
        "/projects/CWS/issues/new",
        "/projects/CWS/risks/heat-map",
        "/projects/CWS/actions/1/edit",
    ]:
        assert page.goto(f"{live_server}{path}").status == 200, path
        assert_accessible(page)


def test_contractor_sees_only_their_project_and_no_history(page: Page, live_server: str):
    login(page, live_server, "tbrooks")
    page.get_by_role("link", name="Projects", exact=True).click()
    rows = page.locator("#project-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("CWS")
    page.goto(f"{live_server}/projects/CWS")
    expect(page.get_by_role("heading", name="Recent history")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit settings")).to_have_count(0)
    page.goto(f"{live_server}/projects/UIM")
    expect(page.get_by_role("heading", name=re.compile("Not found"))).to_be_visible()


def test_api_token_is_created_shown_once_and_revoked(page: Page, live_server: str):
    login(page, live_server, "jchen")
    page.get_by_role("link", name="James Chen").click()
    page.get_by_label("Token name").fill("Weekly export")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("New token")
    expect(token).to_have_value(re.compile(r"^trk_"))
    secret = token.input_value()
    assert_accessible(page)
    api = page.request.get(f"{live_server}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status == 200 and api.json()["username"] == "jchen"
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Revoke Weekly export").click()
    expect(page.locator("#tokens")).to_contain_text("Revoked")
    assert page.request.get(f"{live_server}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status == 401


def test_deliverable_record_shows_blockers_and_downloads_files(page: Page, live_server: str):
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS")
    page.get_by_role("button", name="Deliverables", exact=True).click()
    page.get_by_role("link", name="Browser Check Plan").click()
    expect(page.get_by_role("note")).to_contain_text("1 critical comment is still open.")
    expect(page.locator("dl.facts")).to_contain_text(
        "10.00% ($8,000.00), kept back from the payment until final acceptance"
    )
    with page.expect_download() as download:
        page.get_by_role("link", name="BCP v1.pdf").click()
    assert download.value.suggested_filename == "BCP v1.pdf"
    assert_accessible(page)


def test_a_reviewer_finds_their_review_on_my_work(page: Page, live_server: str):
    login(page, live_server, "dkim")
    section = page.get_by_role("region", name=re.compile("Reviews assigned to you"))
    expect(section).to_contain_text("CWS T-01")
    assert_accessible(page)
    section.get_by_role("link", name=re.compile("Browser Check Plan")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Browser Check Plan")


def test_decision_records_are_listed_and_their_printable_page_is_accessible(page: Page, live_server: str):
    login(page, live_server, "tbrooks")  # the contractor receives these letters
    page.goto(f"{live_server}/projects/CWS/deliverables")
    page.get_by_role("link", name="T-02", exact=True).click()
    records = page.locator("section", has=page.get_by_role("heading", name="Decision records"))
    expect(records.get_by_role("link", name="Rejection letter", exact=True)).to_be_visible()
    assert_accessible(page)
    records.get_by_role("link", name="Rejection letter", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rejection letter: T-02 version 1")
    expect(page.get_by_text("Tables 12-18 are not mapped.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Download PDF"))).to_be_visible()
    assert_accessible(page)
