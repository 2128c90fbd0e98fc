"""A request holds one database connection, never two: with a pool of a single connection every page still renders
(its menu asks the database on the request's own connection). And when every connection stays busy, the answer is
503 with Retry-After, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient
from sqlmodel import Session

from tests.conftest import Browser, make_settings, make_world
from tests.dbutil import fresh_database
from tracker.app import create_app
from tracker.cli import migrate_database
from tracker.core.db import make_engine, session_factory_for

PAGES = ["/", "/projects/TST", "/projects/TST/deliverables", "/projects/TST/risks", "/portfolio", "/search?q=plan"]


@pytest.fixture
def one_connection(tmp_path) -> Iterator[tuple[TestClient, object]]:
    with fresh_database(tmp_path) as url:
        migrate_database(url)
        setup = make_engine(url)
        with Session(setup) as db:
            make_world(db)
            db.commit()
        setup.dispose()
        # pool_timeout=0: a request finding no free connection is refused at once, with no timed wait (a timed wait
        # never ends under libfaketime, which moves the clock it waits on but not the kernel's).
        engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0)
        app = create_app(make_settings(url), session_factory=session_factory_for(engine))
        try:
            with TestClient(app, base_url="http://testserver.local") as client:
                yield client, engine
        finally:
            engine.dispose()


def test_every_page_renders_on_a_single_connection(one_connection):
    client, _ = one_connection
    browser = Browser(client)
    assert browser.login("manager").status_code == 303
    for page in PAGES:
        r = browser.get(page)
        assert r.status_code == 200, (page, r.status_code, r.text[:300])
        assert 'href="/portfolio"' in r.text, page  # the menu's question was answered, on the same connection


def test_no_free_connection_is_503_with_retry_after(one_connection):
    client, engine = one_connection
    browser = Browser(client)
    assert browser.login("manager").status_code == 303
    with engine.connect():  # someone else holds the only connection for longer than the pool waits
        page = browser.get("/projects/TST/deliverables")
        api = browser.get("/api/v1/projects", headers={"accept": "application/json"})
    for r in (page, api):
        assert r.status_code == 503, r.text[:300]
        assert r.headers["retry-after"] == "5"
    assert api.json()["detail"] == "The server is busy; try again in a moment."
    assert "The server is busy" in page.text
    assert browser.get("/projects/TST/deliverables").status_code == 200  # and answers again once one is free
