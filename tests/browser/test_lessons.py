"""A lesson learned in the browser: a project's staff member records one (a mistake first, answered beside the field),
then finds it on /lessons among the lessons of the other projects they may read; every page checked for
accessibility."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_a_lesson_recorded_on_a_project_is_found_on_the_lessons_of_every_project(page: Page, live_server: str):
    login(page, live_server, "pokafor")  # staff on CWS, manager on DMV
    page.goto(f"{live_server}/projects/CWS")
    page.get_by_role("button", name="Lessons learned").click()
    expect(page.get_by_role("link", name="UAT started before the test data was masked")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="New lesson").click()

    page.get_by_label("What happened, in one line (required)").fill("Go-live rehearsal skipped the print vendor")
    page.get_by_label("Impact").fill("Notices went out a day late in the first week.")
    page.get_by_label("Category").select_option(label="Contractor management")
    page.get_by_label("Phase").fill("Deployment")
    page.get_by_role("button", name="Record lesson").click()
    expect(page.locator("#f-recommendation-error")).to_contain_text("Say what to do next time")
    expect(page.get_by_label("Phase")).to_have_value("Deployment")
    assert_accessible(page)
    page.get_by_label("Recommendation (required)").fill("Put every outside vendor in the rehearsal's run book.")
    page.get_by_role("button", name="Record lesson").click()
    expect(page.get_by_text(re.compile(r"Lesson L-\d{3} recorded\."))).to_be_visible()
    recommendation = page.get_by_role("region", name="Recommendation")
    expect(recommendation).to_contain_text("Put every outside vendor in the rehearsal's run book.")
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Lessons").click()
    expect(page.get_by_role("heading", name="Lessons learned", level=1)).to_be_visible()
    table = page.get_by_role("region", name="Lessons learned")
    expect(table).to_contain_text("The schedule assumed holidays")  # DMV, where they manage
    expect(table).not_to_contain_text("The federal interface was tested against a stub")  # UIM: not theirs
    assert_accessible(page)
    page.get_by_label("Search what happened, impact or recommendation").fill("print vendor")
    page.get_by_label("Search what happened, impact or recommendation").press("Enter")
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the one lesson
    table.get_by_role("link", name="Go-live rehearsal skipped the print vendor").click()
    expect(page).to_have_url(re.compile(r"/projects/CWS/lessons/\d+$"))
    assert_accessible(page)
