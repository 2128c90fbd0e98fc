"""A live server on a free loopback port, with its own migrated demo database, driven by Debian's Chromium."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.conftest import make_settings
from tests.dbutil import fresh_database
from tracker import demo
from tracker.app import create_app
from tracker.cli import migrate_database

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-gpu"]  # fmt: skip


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "headless": True,
            "args": CHROMIUM_ARGS}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("live")) as url:
        migrate_database(url)
        demo.load(url)
        settings = make_settings(url, login_max_failures=1000, upload_dir=tmp_path_factory.mktemp("uploads"))
        _seed_deliverable(url, settings)
        app = create_app(settings)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.time() + 20
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        assert server.started, "live server did not start"
        yield f"http://127.0.0.1:{port}"
        server.should_exit = True
        thread.join(timeout=10)


def _seed_deliverable(url: str, settings) -> None:  # noqa: ANN001
    """One deliverable under review with a comment, so its pages are part of the accessibility sweep."""
    from sqlmodel import Session, select

    from tracker.accounts.models import User
    from tracker.accounts.service import principal
    from tracker.core.db import make_engine
    from tracker.core.files import FileStore
    from tracker.core.forms import parse
    from tracker.deliverables import service
    from tracker.projects import service as projects

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        def who(name):  # noqa: ANN001, ANN202
            user = principal(db.exec(select(User).where(User.username == name)).one())
            return user, projects.get_for(db, user, "CWS")

        manager, m_access = who("mrivera")
        d = service.create(db, manager, m_access, parse(service.DeliverableForm, {
            "code": "D-01", "title": "Project Management Plan", "payment_amount": "80000", "holdback_pct": "10",
            "criteria": "Schedule baseline\nRisk management approach"}))  # fmt: skip
        contractor, c_access = who("tbrooks")
        service.submit(db, contractor, c_access, d, "First version", [service.Upload("PMP v1.pdf", "", b"%PDF")],
                       FileStore(settings.upload_dir, 1024 * 1024))  # fmt: skip
        staff, s_access = who("dkim")
        service.start_review(db, staff, s_access, d, [staff.id])
        service.add_comment(db, staff, s_access, d, parse(service.CommentForm, {
            "location": "§4", "text": "Baseline dates missing", "severity": "critical"}))  # fmt: skip
        db.commit()
    engine.dispose()


_axe = Axe()


def assert_accessible(page: Page) -> None:
    """axe-core on the page as it is now: no serious or critical violations."""
    results = _axe.run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
                              for v in bad)  # fmt: skip


def login(page: Page, base: str, username: str, password: str = demo.DEMO_PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


@pytest.fixture(autouse=True)
def _fail_fast(page: Page) -> None:
    page.set_default_timeout(7000)
