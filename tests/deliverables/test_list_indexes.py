"""The deliverable list reads a page in order from the index of its sort (each ending in the code that breaks ties)
and skips its offset there: the project's rows are never sorted, nor read before the page, however far the page
(bench/profile.py's "page 50" shows the cost on the large data set). Checked on SQLite's query plan."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import tst_today
from tests.register.conftest import acting
from tests.reports.conftest import plan
from tracker.deliverables import service
from tracker.deliverables.service import SORTS, ListQuery


@pytest.mark.parametrize("sort", [s for key in SORTS for s in (key, "-" + key)])
def test_every_order_of_the_deliverable_list_is_read_from_an_index(db, world, plan_of_list_query, sort):
    for n in range(3):
        plan(db, world, f"D-IX{n}", tst_today() + timedelta(days=n))
    _, access = acting(db, world, "staff")
    query = ListQuery(sort=sort, page=2)
    page = plan_of_list_query(lambda: service.list_page(db, access, query, limit=1), within="LIST SUBQUERY")
    assert "COVERING INDEX" in page, page
    assert "TEMP B-TREE" not in page, page
