"""Every page a signed-in manager can open, at phone size (390×844) with no sideways scroll of the page and no serious
accessibility fault, screenshotted at phone and desktop size; and the registers at 1,366 px: every column shown,
one line a row."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from tests.browser.conftest import DESKTOP, LIVE, PHONE, assert_accessible, login, screenshot
from tests.security.test_permissions import ROUTES
from tracker.core.db import make_engine
from tracker.deliverables.models import Decision, Deliverable
from tracker.library.models import SavedReport
from tracker.projects.models import Project
from tracker.register.actions.models import ActionItem
from tracker.register.changes.models import ChangeRequest
from tracker.register.custom.models import CustomField
from tracker.register.decisions.models import LoggedDecision
from tracker.register.issues.models import Issue
from tracker.register.lessons.models import Lesson
from tracker.register.meetings.models import Meeting
from tracker.register.risks.models import Risk
from tracker.reports.models import ReportStatus, ServiceFigure, ServiceMeasure, StatusReport
from tracker.webhooks.models import Webhook

pytestmark = pytest.mark.browser

MANAGER = "mrivera"  # manages CWS in the demo data
# Not pages: downloads, the fragments htmx swaps into a page, and an import's steps (they need an uploaded sheet).
NOT_PAGES = re.compile(
    r"\.(csv|xlsx|pdf|docx)\b|/export|/tables/|/records/|/attachments/|/row\b|/row-edit|/import/|/watching"
)
# Pages the browser tests open besides the permissions table's (a filtered list, a builder with its source chosen).
MORE = ["/projects/CWS/risks?q=R-90", "/projects/CWS/saved-reports/new?source=issues"]
UNSEEDED = {"/projects/{key}/webhooks/{webhook_id}"}  # the demo subscribes no webhook (its page has its own test)


def _ids() -> dict[str, str]:
    """The permissions table's placeholders, filled from the live demo database: CWS and its seeded records."""
    engine = make_engine(LIVE["settings"].database_url)
    with Session(engine) as db:
        project = db.exec(select(Project).where(Project.key == "CWS")).one()

        def first(model, *where):
            """The first such record of CWS (the conftest's seeded one when named), else its first of the kind."""
            query = select(model.id).where(model.project_id == project.id).order_by(model.id)
            return db.exec(query.where(*where)).first() or db.exec(query).first()

        risk = first(Risk, Risk.code == "R-900")
        rejected = first(Deliverable, Deliverable.code == "T-02", Deliverable.status == "rejected")
        decision = db.exec(select(Decision.id).where(Decision.deliverable_id == rejected)).first()
        ids = {
            "key": "CWS",
            "deliverable_id": first(Deliverable, Deliverable.code == "T-01"),
            "rejected_id": rejected,
            "decision_id": decision,
            "kind": "rejection_letter",
            "risk_id": risk,
            "issue_id": first(Issue, Issue.code == "I-900"),
            "item_id": first(ActionItem, ActionItem.risk_id == risk),
            "change_id": first(ChangeRequest),
            "lesson_id": first(Lesson),
            "meeting_id": first(Meeting),
            "logged_decision_id": first(LoggedDecision),
            "status_report_id": first(StatusReport, StatusReport.status == ReportStatus.PUBLISHED),
            "report_id": first(SavedReport, col(SavedReport.shared).is_(True), SavedReport.source != "deliverables"),
            "deliverables_report_id": first(SavedReport, SavedReport.source == "deliverables"),
            "webhook_id": first(Webhook),
            "figure_id": first(ServiceFigure, ServiceFigure.status == "disputed"),
            "measure_id": first(ServiceMeasure),
            "custom_field_id": first(CustomField),
        }
    engine.dispose()
    return {k: str(v) for k, v in ids.items() if v is not None}


def manager_pages() -> list[str]:
    """Every page (GET, not the API) the permissions table lets a manager open, with its placeholders filled."""
    ids, paths = _ids(), []
    for method, path, allowed, *_ in ROUTES:
        if method != "GET" or path.startswith("/api/") or "manager" not in allowed or NOT_PAGES.search(path):
            continue
        path = re.sub(r"\?.*\{\w+\}.*$", "", path)  # a query naming a date the demo may not have: the page's default
        filled = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), m.group(0)), path)
        if "{" in filled:
            assert path in UNSEEDED, f"no demo record for {path}"
            continue
        paths.append(filled)
    return list(dict.fromkeys(paths + MORE))


def _name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"


def test_every_page_a_manager_opens_fits_a_phone_and_is_accessible(page: Page, live_server: str):
    login(page, live_server, MANAGER)
    pages, problems = manager_pages(), []
    assert len(pages) >= 40
    for path in pages:
        page.set_viewport_size(PHONE)
        response = page.goto(f"{live_server}{path}")
        if response is None or response.status != 200:
            problems.append(f"{path}: answered {response and response.status}")
            continue
        sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if sideways > 0:
            wide = page.evaluate(WIDEST)
            problems.append(f"{path}: the page scrolls {sideways}px sideways at 390px ({wide})")
        try:
            assert_accessible(page)
        except AssertionError as exc:
            problems.append(f"{path}: {exc}")
        screenshot(page, f"phone-{_name(path)}")
        page.set_viewport_size(DESKTOP)
        screenshot(page, f"desktop-{_name(path)}")
    assert not problems, "\n".join(problems)


# The outermost elements wider than the window, for a failure to name the culprit.
WIDEST = """() => [...document.querySelectorAll('main *, header *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('[role=region]'))
  .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
  .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
    + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""


def test_the_menu_folds_behind_a_button_on_a_phone_and_opens_from_the_keyboard(page: Page, live_server: str):
    page.set_viewport_size(PHONE)
    login(page, live_server, MANAGER)
    menu = page.get_by_role("button", name="Menu")
    projects = page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(projects).to_be_hidden()
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(projects).to_be_visible()
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    page.set_viewport_size(DESKTOP)
    expect(menu).to_be_hidden()
    expect(projects).to_be_visible()


# Per register row: its height against one line of its text, and the width its title keeps.
ROWS = """() => [...document.querySelectorAll('table.register tbody tr')].map(tr => {
  const title = tr.querySelector('td.cell-title');
  const line = parseFloat(getComputedStyle(tr).lineHeight) || 20;
  return {height: tr.getBoundingClientRect().height, line, title: title ? title.getBoundingClientRect().width : 0};
})"""


@pytest.mark.parametrize("register", ["risks", "issues"])
def test_a_register_shows_every_column_on_one_line_a_row_at_1366(page: Page, live_server: str, register: str):
    page.set_viewport_size(DESKTOP)
    login(page, live_server, MANAGER)
    page.goto(f"{live_server}/projects/CWS/{register}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    region = page.get_by_role("region", name=re.compile(r"list$"))
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth"), "the list scrolls sideways at 1366px"
    rows = page.evaluate(ROWS)
    assert len(rows) >= 5
    for row in rows:
        assert row["height"] < 2 * row["line"] + 16, row  # one line of text and the cell's padding
        assert row["title"] >= 150, row  # the title keeps room to be read
    # The whole title on keyboard focus, shown over the row without moving the table; on hover, its title.
    first = page.locator("table.register tbody tr").first
    first.locator("td.mono a").focus()
    page.keyboard.press("Tab")
    link = first.locator("td.cell-title a")
    expect(link).to_be_focused()
    assert link.evaluate("a => getComputedStyle(a).whiteSpace === 'normal' && a.scrollWidth <= a.clientWidth")
    link.hover()
    assert link.get_attribute("title") == link.inner_text()
    assert abs(page.evaluate(ROWS)[0]["height"] - rows[0]["height"]) < 1  # nothing moved
    page.keyboard.press("Tab")  # on to the row's Edit: the title is cut again
    # A row's in-place edit fits too; Escape puts the row back and the keyboard on its Edit.
    expect(first.locator("a.row-edit")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("tr.row-editing select").first).to_be_focused()
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth"), "the row's edit scrolls sideways at 1366px"
    page.keyboard.press("Escape")
    expect(page.locator("tr.row-editing")).to_have_count(0)
    expect(page.locator("a.row-edit").first).to_be_focused()
