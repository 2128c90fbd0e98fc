"""The deliverables timeline: lanes and marks for built data, the range and its bad input, who sees what, and a
fixed number of queries whatever the number of deliverables and projects."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from tests.conftest import at_noon, tst_today
from tests.register.conftest import acting
from tracker.core.forms import parse
from tracker.core.web import show_date
from tracker.deliverables import timeline
from tracker.deliverables.models import Condition, Decision, Deliverable, Submission
from tracker.deliverables.timeline import Preset, RangeForm, Scale, Show, span_of
from tracker.projects import service as projects
from tracker.projects.models import Project
from tracker.register.changes.models import ChangeDeliverable, ChangeRequest

TODAY = tst_today()


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def _project(db, key: str = "TST") -> Project:
    return db.exec(select(Project).where(Project.key == key)).one()


def _deliverable(db, project: Project, code: str, status: str = "planned", due: int | None = 20, **kw) -> Deliverable:
    d = Deliverable(
        project_id=project.id,
        code=code,
        title=f"{code} title",
        status=status,
        due_date=None if due is None else day(due),
        **kw,
    )
    db.add(d)
    db.flush()
    return d


def _submit(db, d: Deliverable, user_id: int, number: int, on: int, review_due: int) -> Submission:
    s = Submission(
        deliverable_id=d.id,
        number=number,
        submitted_at=at_noon(day(on)),
        submitted_by_id=user_id,
        review_due=day(review_due),
    )
    db.add(s)
    db.flush()
    return s


def _decide(db, d: Deliverable, s: Submission, outcome: str, on: int, **kw) -> Decision:
    x = Decision(deliverable_id=d.id, submission_id=s.id, outcome=outcome, decided_at=at_noon(day(on)), **kw)
    db.add(x)
    db.flush()
    return x


def build(db, world, project: Project | None = None, prefix: str = "D") -> dict[str, Deliverable]:
    """One deliverable of each kind: moved by an approved change request, rejected and resubmitted with its review
    running late, accepted with conditions (one met), deemed accepted, and withdrawn."""
    project = project or _project(db)
    user = world.ids["contractor"]
    moved = _deliverable(db, project, f"{prefix}-01", due=10)
    change = ChangeRequest(
        project_id=project.id, code="CR-004", title="Later plan", status="approved", raised_on=day(-5)
    )
    db.add(change)
    db.flush()
    db.add(ChangeDeliverable(change_id=change.id, deliverable_id=moved.id, due_before=day(3), due_after=day(10)))

    late = _deliverable(db, project, f"{prefix}-02", status="in_review", due=-45, current_version=2, review_due=day(-5))
    v1 = _submit(db, late, user, 1, -40, -30)
    _decide(db, late, v1, "rejected", -32, findings="Incomplete")
    _submit(db, late, user, 2, -20, -5)

    cond = _deliverable(db, project, f"{prefix}-03", status="conditionally_accepted", due=-65, current_version=1)
    c1 = _submit(db, cond, user, 1, -60, -50)
    x = _decide(db, cond, c1, "conditionally_accepted", -52, conditions="Sign\nIndex", conditions_due=day(15))
    db.add(
        Condition(
            deliverable_id=cond.id, decision_id=x.id, position=1, text="Sign", due_date=day(15), met_at=at_noon(day(-1))
        )
    )
    db.add(Condition(deliverable_id=cond.id, decision_id=x.id, position=2, text="Index", due_date=day(15)))

    deemed = _deliverable(db, project, f"{prefix}-04", status="accepted", due=-80, current_version=1)
    _decide(db, deemed, _submit(db, deemed, user, 1, -75, -65), "deemed_accepted", -64)
    gone = _deliverable(db, project, f"{prefix}-05", status="withdrawn", due=30)
    db.commit()
    return {"moved": moved, "late": late, "cond": cond, "deemed": deemed, "gone": gone}


def _form(**kw) -> RangeForm:
    return parse(RangeForm, kw)


# --- the lanes ---------------------------------------------------------------------------------------------------


def test_each_lane_carries_its_submissions_windows_decisions_conditions_and_moves(db, world):
    built = build(db, world)
    _, access = acting(db, world, "manager")
    span, band = timeline.for_project(db, access, _form(range="around", status="all"))
    assert (span.start, span.end) == (day(-90), day(90))
    lanes = {lane.deliverable.code: lane for lane in band.lanes}
    assert list(lanes) == ["D-04", "D-03", "D-02", "D-01", "D-05"]  # by due date
    assert band.total == 5 and band.today == TODAY

    moved = lanes["D-01"]
    assert [(m.code, m.due_before, m.due_after) for m in moved.moves] == [("CR-004", day(3), day(10))]
    late = lanes["D-02"]
    assert [(v.number, v.submitted_on, v.review_due, v.review_overdue) for v in late.versions] == [
        (1, day(-40), day(-30), False),
        (2, day(-20), day(-5), True),  # the running review is past its due day
    ]
    assert [(x.letter, x.words, x.on, x.version) for x in late.verdicts] == [("R", "Rejected", day(-32), 1)]
    cond = lanes["D-03"]
    assert [(x.letter, x.words) for x in cond.verdicts] == [("C", "Accepted with conditions")]
    assert [(c.due, c.texts, c.met, c.overdue) for c in cond.conditions] == [
        (day(15), ["1. Sign", "2. Index"], 1, False)
    ]
    assert [(x.letter, x.words) for x in lanes["D-04"].verdicts] == [("D", "Deemed accepted")]
    assert not moved.due_overdue and built["moved"].id == moved.deliverable.id


def test_the_status_filter_shows_open_accepted_or_all(db, world):
    build(db, world)
    _, access = acting(db, world, "manager")

    def codes(show: str) -> list[str]:
        return [
            lane.deliverable.code
            for lane in timeline.for_project(db, access, _form(range="around", status=show))[1].lanes
        ]

    assert codes("open") == ["D-03", "D-02", "D-01"]
    assert codes("accepted") == ["D-04"]
    assert codes("all") == ["D-04", "D-03", "D-02", "D-01", "D-05"]


def test_a_lane_is_drawn_only_when_something_of_it_falls_in_the_range(db, world):
    build(db, world)
    _, access = acting(db, world, "manager")
    _, band = timeline.for_project(db, access, _form(**{"from": day(1).isoformat(), "to": day(12).isoformat()}))
    assert [lane.deliverable.code for lane in band.lanes] == ["D-01"]  # D-03's conditions are due on day 15
    _, band = timeline.for_project(db, access, _form(**{"from": day(-10).isoformat(), "to": day(-6).isoformat()}))
    assert [lane.deliverable.code for lane in band.lanes] == ["D-02"]  # inside version 2's review window


def test_change_request_moves_follow_who_may_see_change_requests(db, world):
    built = build(db, world)
    _, contractor = acting(db, world, "contractor")
    ids = [built["moved"].id]
    assert [m.code for m in timeline.changes.moved_across(db, [contractor], ids)[ids[0]]] == ["CR-004"]
    blind = type(contractor)(contractor.project, contractor.role, False, contractor.perms - {"view_changes"})
    assert timeline.changes.moved_across(db, [blind], ids) == {}


# --- the pages ---------------------------------------------------------------------------------------------------


def test_the_project_timeline_draws_every_mark_with_a_tooltip_and_a_table(as_user, db, world):
    built = build(db, world)
    page = as_user("manager").get("/projects/TST/timeline?range=around&status=all")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'role="region"' in html and 'tabindex="0"' in html and "timeline figure" in html
    assert "<title>Today, " in html
    assert (
        "moved by CR-004" in html and f"<title>Due {show_date(day(3))}, moved to {show_date(day(10))} by CR-004" in html
    )
    assert "<title>Version 2 review window: submitted" in html and "(overdue)</title>" in html and "review late" in html
    assert "<title>Version 1: Rejected on" in html and "<title>Version 1: Deemed accepted on" in html
    assert "2 conditions due" in html and "1 met" in html
    assert f'href="/projects/TST/deliverables/{built["late"].id}"' in html
    assert "<summary>TST timeline as a table</summary>" in html
    assert "Version 1: Accepted with conditions (C) on" in html
    assert re.search(r"<svg[^>]*aria-labelledby=\"tl-TST-t tl-TST-d\"", html)


def test_the_contractor_sees_the_timeline_but_no_register_link(as_user, db, world):
    build(db, world)
    html = as_user("contractor").get("/projects/TST/timeline?range=around").text
    assert "moved by CR-004" in html  # an approved change request: the contractor sees it
    assert "/risks" not in html and "/issues" not in html and "/status-reports" not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-02-30", "from"),
        ("to=yesterday", "to"),
        ("from=2026-05-01&to=2026-04-01", "The range starts after it ends"),
        ("from=2020-01-01&to=2026-01-01", "at most three years"),
        ("status=everything", "status"),
        ("range=forever", "range"),
    ],
)
def test_bad_ranges_answer_422_with_the_message_and_keep_the_input(as_user, db, world, query, message):
    page = as_user("viewer").get(f"/projects/TST/timeline?{query}")
    assert page.status_code == 422
    assert 'class="form-errors"' in page.text and message in page.text
    assert "<svg" in page.text  # the preset's timeline still shows beside the message
    typed = query.split("&")[0].split("=")[1]
    if query.startswith(("from", "to")):
        assert f'value="{typed}"' in page.text


def test_the_range_presets_and_one_ended_ranges():
    today = date(2026, 3, 11)
    assert span_of(_form(range="around"), today, [], []) == timeline.Span(date(2025, 12, 11), date(2026, 6, 9))
    assert span_of(_form(), today, [], []) == span_of(_form(range="around"), today, [], [])  # the default
    contract = span_of(_form(range="contract"), today, [date(2026, 1, 5), None], [date(2027, 6, 30)])
    assert (contract.start, contract.end, contract.note) == (date(2026, 1, 5), date(2027, 6, 30), "")
    assert "No contract dates" in span_of(_form(range="contract"), today, [None], [None]).note
    long = span_of(_form(range="contract"), today, [date(2020, 1, 1)], [date(2030, 1, 1)])
    assert long.end == date(2020, 1, 1) + timedelta(days=timeline.MAX_DAYS) and "over three years" in long.note
    assert span_of(_form(**{"from": "2026-01-01"}), today, [], []).end == date(2026, 6, 30)
    assert span_of(_form(to="2026-06-30"), today, [], []).start == date(2026, 1, 1)
    assert _form(range="around", status="accepted").range == Preset.AROUND and _form().status == Show.OPEN


def test_the_axis_has_a_tick_per_week_and_a_label_per_month():
    scale = Scale(date(2026, 1, 15), date(2026, 3, 31), 100)
    assert [t.label for t in scale.months()] == ["Feb 2026", "Mar"]
    assert Scale(date(2026, 1, 1), date(2026, 2, 1), 100).months()[0].label == "Jan 2026"
    assert len(scale.weeks()) == 11  # Mondays Jan 19 .. Mar 30
    assert scale.x(date(2026, 1, 15)) == 100 + timeline.PX_PER_DAY / 2
    assert scale.x(date(2025, 1, 1)) == scale.x(date(2026, 1, 15))  # held inside the range
    assert scale.width == 100 + 76 * timeline.PX_PER_DAY + 12


def test_the_portfolio_has_a_band_per_project_the_reader_sees(as_user, db, world):
    build(db, world)
    build(db, world, _project(db, "OTH"), prefix="O")
    admin = as_user("admin").get("/portfolio/timeline?range=around").text
    assert 'id="band-TST-h"' in admin and 'id="band-OTH-h"' in admin
    contractor = as_user("contractor").get("/portfolio/timeline?range=around").text
    assert 'id="band-TST-h"' in contractor and 'id="band-OTH-h"' not in contractor
    assert "moved by CR-004" in contractor
    outsider = as_user("outsider").get("/portfolio/timeline?range=around").text
    assert 'id="band-OTH-h"' in outsider and 'id="band-TST-h"' not in outsider
    assert as_user("viewer").get("/portfolio/timeline?from=bad").status_code == 422


def test_both_timelines_are_linked(as_user, db, world):
    manager = as_user("manager")
    assert 'href="/projects/TST/timeline"' in manager.get("/projects/TST/deliverables").text
    assert 'href="/portfolio/timeline"' in manager.get("/portfolio").text


# --- queries -------------------------------------------------------------------------------------------------------


def test_the_project_timeline_runs_the_same_queries_for_few_and_many_deliverables(as_user, db, world, count_queries):
    build(db, world)
    manager = as_user("manager")
    url = "/projects/TST/timeline?range=around&status=all"
    with count_queries() as few:
        assert manager.get(url).status_code == 200
    project = _project(db)
    for n in range(25):
        d = _deliverable(db, project, f"E-{n:02d}", status="rejected", due=-n, current_version=1)
        s = _submit(db, d, world.ids["contractor"], 1, -n - 5, -n + 5)
        x = _decide(db, d, s, "conditionally_accepted", -n)
        db.add(Condition(deliverable_id=d.id, decision_id=x.id, position=1, text="Fix", due_date=day(n)))
    db.commit()
    with count_queries() as many:
        page = manager.get(url)
    assert page.text.count('class="lane"') == 30
    # the reader, the menu, the project, the data's versions (the figure's key), five for the lanes
    assert many.count == few.count <= 9, many.statements


def test_the_portfolio_timeline_runs_the_same_queries_for_few_and_many_projects(as_user, db, world, count_queries):
    build(db, world)
    admin = as_user("admin")
    with count_queries() as few:
        assert admin.get("/portfolio/timeline?range=around").status_code == 200
    build(db, world, _project(db, "OTH"), prefix="O")
    user, _ = acting(db, world, "admin")
    for key in ("THR", "FOU"):
        build(db, world, projects.create_project(db, user, parse(projects.ProjectForm, {"key": key, "name": key})))
    with count_queries() as many:
        page = admin.get("/portfolio/timeline?range=around")
    assert page.text.count('class="timeline-band"') == 4
    # the reader, the menu, their projects, the data's versions (the figure's key), five for the lanes
    assert many.count == few.count <= 9, many.statements
