"""Every key page of the load benchmark (bench/load.py's ENDPOINTS) reads the same number of queries with one record
of each kind as with many: its cost grows with what it shows, never with the size of the record behind it. Each
page's count is also pinned, so a new query on a key page is a decision, not an accident."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import tst_today
from tests.register.conftest import make_issue, make_risk
from tests.reports.conftest import plan, submit
from tracker.core.files import FileStore

# The page, and the most queries it may take with the memo off, as in every test (tests/conftest.py): kept figures
# computed each time. Served from memory, the pages that keep figures take fewer (tests/reports/test_kept_figures.py).
PAGES = {
    "/": 24,
    "/projects/TST": 38,
    "/projects/TST/deliverables?sort=due": 6,
    "/projects/TST/deliverables?status=in_review&sort=-due": 6,
    "/projects/TST/deliverables/{deliverable}": 22,
    "/projects/TST/risks": 10,
    "/projects/TST/risks/{risk}": 15,
    "/projects/TST/risks/heat-map": 7,
    "/projects/TST/issues": 10,
    "/projects/TST/issues?status=open&priority=high": 10,
    "/projects/TST/issues/{issue}": 15,
    "/projects/TST/status-reports/draft": 32,
    "/portfolio": 9,
    "/projects/TST/timeline": 9,
    "/projects/TST/scorecard": 13,
    "/search?q=quokka": 6,
    "/api/v1/projects/TST/deliverables": 5,
    "/api/v1/projects/TST/risks": 7,
    "/api/v1/projects/TST/issues": 8,
}


@pytest.fixture
def store(app, uploads) -> FileStore:
    return FileStore.from_settings(app.state.settings)


def _record(db, world, store, n: int) -> dict[str, int]:
    risk = make_risk(db, world, title=f"Quokka risk {n}", probability="4", impact="4")
    issue = make_issue(db, world, title=f"Quokka issue {n}", priority="high", risk_id=str(risk.id))
    d = plan(db, world, f"D-Q{n:02d}", tst_today() + timedelta(days=n))
    submit(db, world, d, store)
    db.commit()
    return {"risk": risk.id, "issue": issue.id, "deliverable": d.id}


def test_every_key_page_takes_the_same_queries_for_one_record_or_many(as_user, db, world, store, count_queries):
    first = _record(db, world, store, 0)
    manager = as_user("manager")

    def counts() -> dict[str, int]:
        out = {}
        for page in PAGES:
            with count_queries() as c:
                answer = manager.get(page.format(**first))
            assert answer.status_code == 200, page
            out[page] = c.count
        return out

    few = counts()
    for n in range(1, 12):
        _record(db, world, store, n)
    many = counts()
    assert many == few
    assert {p: n for p, n in few.items() if n > PAGES[p]} == {}, few
