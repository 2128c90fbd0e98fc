"""A live server on a free loopback port, with its own copy of the demo database, driven by Debian's Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page

from tests.conftest import DemoTemplate, agree_as, demo_copy, make_settings
from tests.live import serving
from tracker.app import create_app
from tracker.demo import portfolio

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "headless": True, "args": CHROMIUM_ARGS}


# A page load may take seconds on a loaded CI machine (two suites share its two cores, and the first load also starts
# the browser's renderer), so loads and URL waits get a generous deadline of their own; everything else (a click, a
# field, a locator) keeps a short one, so a page that is wrong still fails fast. expect() keeps its own 5 s.
NAVIGATION_MS = 30_000
ACTION_MS = 7_000


LIVE: dict[str, Any] = {}


@pytest.fixture(scope="session")
def live_server(demo_template: DemoTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_copy(demo_template, tmp_path_factory.mktemp("live")) as (url, uploads):
        settings = make_settings(url, login_max_failures=1000, upload_dir=uploads)
        _seed_deliverable(url, settings)
        _seed_register(url)
        with serving(create_app(settings)) as base:
            _answers(base)
            LIVE["settings"] = settings  # for a test that runs the dispatcher on the live server's database
            yield base


def _answers(base: str) -> None:
    """The server answers the sign-in page before the first test asks for it: its first request pays once for what is
    done once (templates compiled, the database opened), here, not inside a test's deadline. A server that answers
    wrongly fails here, saying so, instead of as a timeout in whichever test came first."""
    r = httpx.get(f"{base}/login", timeout=NAVIGATION_MS / 1000)
    assert r.status_code == 200 and 'name="_csrf_token"' in r.text, f"/login answered {r.status_code}: {r.text[:300]}"


def _seed_deliverable(url: str, settings) -> None:
    """One deliverable of our own under review with a critical comment, beside the demo's history."""
    from sqlmodel import Session, select

    from tracker.accounts.models import User
    from tracker.accounts.service import principal
    from tracker.core.db import commit, make_engine
    from tracker.core.files import FileStore
    from tracker.core.forms import parse
    from tracker.deliverables import decisions, planning, reviews, submissions
    from tracker.projects import service as projects

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as db:

        def who(name):
            user = principal(db.exec(select(User).where(User.username == name)).one())
            return user, projects.get_for(db, user, "CWS")

        manager, m_access = who("mrivera")
        d = planning.create(
            db,
            manager,
            m_access,
            parse(
                planning.DeliverableForm,
                {
                    "code": "T-01",
                    "title": "Browser Check Plan",
                    "payment_amount": "80000",
                    "holdback_pct": "10",
                    "criteria": "Schedule baseline\nRisk management approach",
                },
            ),
        )
        contractor, c_access = who("tbrooks")
        agree_as(db, d, manager, contractor)
        submissions.submit(
            db,
            contractor,
            c_access,
            d,
            "First version",
            [submissions.Upload("BCP v1.pdf", "", b"%PDF")],
            FileStore(settings.upload_dir, 1024 * 1024),
        )
        staff, s_access = who("dkim")
        reviews.start_review(db, staff, s_access, d, [staff.id])
        reviews.add_comment(
            db,
            staff,
            s_access,
            d,
            parse(reviews.CommentForm, {"location": "§4", "text": "Baseline dates missing", "severity": "critical"}),
        )
        # A second one rejected, so its decision records (letter, sign-off) are swept too.
        rejected = planning.create(
            db,
            manager,
            m_access,
            parse(
                planning.DeliverableForm,
                {
                    "code": "T-02",
                    "title": "Browser Rejection Plan",
                    "payment_amount": "40000",
                    "holdback_pct": "10",
                    "criteria": "Mapping of every legacy table",
                },
            ),
        )
        store = FileStore.from_settings(settings)
        agree_as(db, rejected, manager, contractor)
        submissions.submit(
            db, contractor, c_access, rejected, "", [submissions.Upload("DCP v1.pdf", "", b"%PDF")], store
        )
        reviews.start_review(db, staff, s_access, rejected, [staff.id])
        reviews.add_comment(
            db,
            staff,
            s_access,
            rejected,
            parse(reviews.CommentForm, {"location": "§2", "text": "Legacy table list incomplete", "severity": "major"}),
        )
        decisions.decide(
            db,
            manager,
            m_access,
            rejected,
            parse(decisions.DecisionForm, {"outcome": "rejected", "findings": "Tables 12-18 are not mapped."}),
            store=store,
        )
        # A third under review with every criterion met, for a decision with conditions.
        ready = planning.create(
            db,
            manager,
            m_access,
            parse(
                planning.DeliverableForm,
                {
                    "code": "T-03",
                    "title": "Browser Training Plan",
                    "payment_amount": "30000",
                    "holdback_pct": "10",
                    "criteria": "Every role has a course",
                },
            ),
        )
        agree_as(db, ready, manager, contractor)
        submissions.submit(db, contractor, c_access, ready, "", [submissions.Upload("TP v1.pdf", "", b"%PDF")], store)
        reviews.start_review(db, staff, s_access, ready, [staff.id])
        reviews.record_result(db, staff, s_access, ready, planning.active_criteria(db, ready.id)[0].id, "met")
        commit(db)  # and the decision's letters, rendered after it
    engine.dispose()


def _seed_register(url: str) -> None:
    """A risk with history, plans and an overdue action, and an issue with a decision, for the accessibility sweep."""
    from sqlmodel import Session, select

    from tracker.accounts.models import User
    from tracker.accounts.service import principal
    from tracker.core.db import make_engine
    from tracker.core.forms import parse
    from tracker.projects import service as projects
    from tracker.register.actions import service as actions
    from tracker.register.issues import service as issues
    from tracker.register.risks import service as risks

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        staff = principal(db.exec(select(User).where(User.username == "dkim")).one())
        access = projects.get_for(db, staff, "CWS")
        risk = risks.create(
            db,
            staff,
            access,
            parse(
                risks.RiskForm,
                {
                    "code": "R-900",
                    "title": "County data quality",
                    "statement": "If county records are incomplete, then conversion slips",
                    "category": "technical",
                    "probability": "4",
                    "impact": "4",
                    "owner_id": str(staff.id),
                    "mitigation_plan": "Profile every county extract",
                    "contingency_plan": "Phase the counties",
                    "trigger": "Profiling finds over 5% bad rows",
                    "next_review_date": "2020-01-01",
                },
            ),
        )
        risks.update(db, staff, access, risk, parse(risks.RiskForm, risks.form_values(db, risk) | {"impact": "5"}))
        actions.add(
            db,
            staff,
            access,
            risk,
            parse(
                actions.ActionForm,
                {
                    "description": "Profile the pilot counties",
                    "plan": "mitigation",
                    "owner_id": str(staff.id),
                    "due_date": "2020-02-01",
                },
            ),
        )
        issue = issues.create(
            db,
            staff,
            access,
            parse(
                issues.IssueForm,
                {
                    "code": "I-900",
                    "title": "UAT environment unavailable",
                    "priority": "critical",
                    "raised_on": "2020-01-01",
                    "need_by": "2020-01-10",
                },
            ),
        )
        issues.add_decision(
            db,
            staff,
            access,
            issue,
            parse(issues.DecisionForm, {"decision": "Rent a cloud environment", "decided_by": "Steering committee"}),
        )
        actions.add(db, staff, access, issue, parse(actions.ActionForm, {"description": "Order the environment"}))
        db.commit()
    engine.dispose()


_axe = Axe()

# Screenshots of the pages the browser tests visit, at desktop and phone size, for a person to look over.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results" / "screens"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def screenshot(page: Page, name: str) -> None:
    """The page as it is now, at its current viewport, into ARTIFACTS/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def assert_accessible(page: Page) -> None:
    """axe-core on the page as it is now: no serious or critical violations."""
    results = _axe.run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}" for v in bad
    )


def login(page: Page, base: str, username: str, password: str = portfolio.DEMO_PASSWORD) -> None:
    """Signs `username` in afresh. Leaving the page first aborts its requests in flight: one answered after the
    cookies were cleared would set the last user's session again, and /login would then send us home instead."""
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


@pytest.fixture(autouse=True)
def _deadlines(context: BrowserContext) -> None:
    """Set on the context, so its pages (the test's and any it opens) inherit both deadlines."""
    context.set_default_timeout(ACTION_MS)
    context.set_default_navigation_timeout(NAVIGATION_MS)


@pytest.fixture
def look(page: Page, pytestconfig: pytest.Config) -> Callable[[str], None]:
    """`look(name)`: the page as it is now, checked with axe and photographed at desktop and at phone size (kept in
    the run's output folder, screens/), with no sideways scroll of the page on the phone."""
    folder = Path(pytestconfig.getoption("--output")) / "screens"
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(name: str) -> None:
        was = page.viewport_size or DESKTOP
        for size, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
            page.set_viewport_size(size)
            assert_accessible(page)
            page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
            if size is PHONE:
                wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert wide <= 0, f"{name}: the page scrolls sideways by {wide} px on a phone"
        page.set_viewport_size(was)

    return shoot
