"""Letters in the browser: the admin names the organisation, uploads its logo and sets the contractor's contact on
the project; the manager decides; the letter shows the addressee, the signature, the reference and the logo."""

from __future__ import annotations

import re

import pytest
import resvg_py
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from tests.browser.conftest import LIVE, agree_as, assert_accessible, login
from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.db import commit, make_engine
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.deliverables import planning, reviews, submissions
from tracker.deliverables.models import Decision, Deliverable
from tracker.demo import portfolio
from tracker.projects import service as projects

pytestmark = pytest.mark.browser

PNG = bytes(resvg_py.svg_to_bytes(svg_string=portfolio.LOGO_SVG))  # a logo one can see in the screenshots
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


def _ready_to_accept() -> int:
    """A deliverable of our own, under review with its one criterion met: the manager may accept it."""
    settings = LIVE["settings"]
    engine = make_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as db:

        def who(name):
            user = principal(db.exec(select(User).where(User.username == name)).one())
            return user, projects.get_for(db, user, "CWS")

        manager, m_access = who("mrivera")
        contractor, c_access = who("tbrooks")
        staff, s_access = who("dkim")
        form = {"code": "L-01", "title": "Letter Check Plan", "criteria": "Has a letterhead"}
        d = planning.create(db, manager, m_access, parse(planning.DeliverableForm, form))
        agree_as(db, d, manager, contractor)
        store = FileStore.from_settings(settings)
        submissions.submit(db, contractor, c_access, d, "", [submissions.Upload("LCP.pdf", "", b"%PDF")], store)
        reviews.start_review(db, staff, s_access, d, [staff.id])
        reviews.record_result(db, staff, s_access, d, planning.active_criteria(db, d.id)[0].id, "met")
        commit(db)
        deliverable_id = d.id
    engine.dispose()
    return deliverable_id


def _decision_of(deliverable_id: int) -> int:
    engine = make_engine(LIVE["settings"].database_url)
    with Session(engine) as db:
        found = db.exec(select(Decision.id).where(Decision.deliverable_id == deliverable_id)).one()
        assert db.get(Deliverable, deliverable_id).status == "accepted"
    engine.dispose()
    return found


def _shots(page: Page, output_path: str, name: str) -> None:
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"{output_path}/{name}-{size}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def test_admin_sets_the_logo_manager_decides_the_letter_shows_it_all(page: Page, live_server: str, output_path):
    deliverable_id = _ready_to_accept()
    login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/organisation")
    page.get_by_label("Logo", exact=True).set_input_files(
        {"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": b"<svg/>"}
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#f-logo-error")).to_contain_text("PNG or JPEG")  # beside the field
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill("California Department of Examples")
    page.get_by_label("Logo", exact=True).set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": PNG})
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Organisation saved.")).to_be_visible()
    expect(page.get_by_role("img", name="Logo of California Department of Examples")).to_be_visible()
    history = page.locator("ol.timeline").first  # the admins' record of it
    expect(history).to_contain_text("updated organisation California Department of Examples")
    expect(history).to_contain_text("logo.png")
    assert_accessible(page)
    _shots(page, output_path, "organisation")

    page.goto(f"{live_server}/projects/CWS/edit")
    page.get_by_label("Contractor contact's name").fill("Pat Contractor")
    page.get_by_label("Contact's title").fill("Delivery Director")
    page.get_by_label("Contact's e-mail").fill("pat@contractor.example")
    page.get_by_label("Contact's postal address").fill("1 Integrator Way\nSacramento, CA 95814")
    assert_accessible(page)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Project settings saved.")).to_be_visible()

    page.context.clear_cookies()
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS/deliverables/{deliverable_id}")
    page.get_by_label("Accept", exact=True).check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#record")).to_contain_text("accepted")
    decision_id = _decision_of(deliverable_id)

    url = f"{live_server}/projects/CWS/deliverables/{deliverable_id}/decisions/{decision_id}/acceptance_letter"
    page.goto(url)
    letter = page.locator("body")
    expect(letter).to_contain_text("California Department of Examples")
    expect(page.get_by_role("img", name="California Department of Examples logo")).to_be_visible()
    expect(page.locator("address")).to_contain_text("Pat Contractor")
    expect(page.locator("address")).to_contain_text("Sacramento, CA 95814")
    expect(page.locator(".signed")).to_contain_text("Maria Rivera")
    expect(page.locator(".signed")).to_contain_text("Acceptance Manager")
    expect(page.locator(".ref")).to_contain_text("CWS-L-01-L1")
    assert_accessible(page)
    _shots(page, output_path, "letter")


def test_a_person_chooses_their_title_zone_and_date_format(page: Page, live_server: str, output_path):
    login(page, live_server, "dkim")
    page.goto(f"{live_server}/profile")
    page.get_by_label("Your title", exact=True).fill("Senior Reviewer")
    page.get_by_label("Time zone", exact=True).select_option("Europe/London")
    page.get_by_label("Date format", exact=True).select_option(label="2026-12-06")
    assert_accessible(page)
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Preferences saved.")).to_be_visible()
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("Europe/London")
    expect(page.get_by_label("Date format", exact=True)).to_have_value("iso")
    _shots(page, output_path, "profile")
    page.goto(f"{live_server}/projects/CWS/deliverables")
    expect(page.locator("#deliverable-table tbody")).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
