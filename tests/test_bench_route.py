"""The load benchmark's ceiling page (bench/load.py): a signed-in page with the whole middleware stack, served only
when TRACKER_BENCH_ROUTES asks for it."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.conftest import Browser, _session, make_settings
from tracker.app import create_app


def signed_in(app, username: str | None) -> Browser:
    b = Browser(TestClient(app, base_url="http://testserver.local"))
    if username:
        assert b.login(username).status_code == 303
    return b


def test_the_ceiling_page_is_served_only_when_the_benchmark_asks(conn, database_url, world, count_queries):
    bench = create_app(make_settings(database_url, bench_routes=True), session_factory=lambda: _session(conn))
    plain = create_app(make_settings(database_url), session_factory=lambda: _session(conn))

    viewer = signed_in(bench, "viewer")
    with count_queries() as counted:
        page = viewer.get("/bench/minimal")
    assert page.status_code == 200 and "Benchmark ceiling" in page.text and "answered 1" in page.text
    assert counted.count == 3  # the signed-in user, whether the menu offers the portfolio, and the page's one query
    anonymous = signed_in(bench, None).get("/bench/minimal", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith("/login")
    assert signed_in(plain, "viewer").get("/bench/minimal").status_code == 404
