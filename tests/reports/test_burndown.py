"""The open-comment burndown of a deliverable's review: open comments per day of each version, from submission to
decision, read back through the audited dispositions; lazily loaded on the record page."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import at_noon
from tests.register.conftest import acting
from tests.reports.conftest import decide, plan, submit
from tracker.core.clock import frozen_time
from tracker.core.forms import parse
from tracker.deliverables import reviews


def _comment(db, world, d, text):
    return reviews.add_comment(
        db, *acting(db, world, "staff"), d, parse(reviews.CommentForm, {"text": text, "severity": "minor"})
    )


def test_each_version_burns_down_from_submission_to_decision(db, world, record, store, as_user, count_queries):
    now = at_noon(record.today)  # well inside the project's day, whatever the hour the suite runs at
    with frozen_time(now - timedelta(days=3)):
        d = plan(db, world, "D-31", record.today + timedelta(days=20))
        submit(db, world, d, store)
        first = _comment(db, world, d, "Section 2 is thin")
        _comment(db, world, d, "Typo on p. 4")
    with frozen_time(now - timedelta(days=2)):
        reviews.set_disposition(db, *acting(db, world, "staff"), first.id, "resolved", first.version)
    with frozen_time(now - timedelta(days=1)):
        _comment(db, world, d, "Missing index")
    with frozen_time(now):
        decide(db, world, d, store, "rejected")  # today, with two comments open
    with frozen_time(now + timedelta(hours=1)):  # version 2 carries the open ones forward
        submit(db, world, d, store)
    db.commit()
    project = record.project
    versions = reviews.comment_burndown(db, project, d).versions
    assert [(v.version, v.open, v.decided) for v in versions] == [(1, [2, 1, 2, 2], True), (2, [2], False)]
    assert versions[0].days[0] == record.today - timedelta(days=3) and versions[0].days[-1] == record.today

    manager = as_user("contractor")
    page = manager.get(f"/projects/TST/deliverables/{d.id}").text
    assert f'hx-get="/projects/TST/deliverables/{d.id}/burndown" hx-trigger="load" hx-target="this"' in page
    with count_queries() as q:
        part = manager.get(f"/projects/TST/deliverables/{d.id}/burndown", headers={"HX-Request": "true"}).text
    assert part.lstrip().startswith('<section id="burndown"') and "<html" not in part
    assert "Version 1: open review comments per day" in part and part.count('role="img"') == 2
    assert q.count <= 12
    whole = manager.get(f"/projects/TST/deliverables/{d.id}/burndown").text  # without JS: a page of its own
    assert "<html" in whole and "Version 2: open review comments per day" in whole
    assert as_user("outsider").get(f"/projects/TST/deliverables/{d.id}/burndown").status_code == 404
