"""Figures kept on the data's version (tracker.core.memo, tracker.audit.versions): the draft report, the scorecard,
the overview, the portfolio, the trends and a deliverable's comment burndown are computed once while the record
stands, and any change to it (in the project, or to people) is on the very next page, never a stale one."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session

from tests.conftest import tst_today
from tests.register.conftest import acting, make_risk
from tests.reports import test_accountability as accountability
from tests.reports.conftest import plan, submit
from tracker.accounts.models import User
from tracker.accounts.service import UserForm, principal, update_user
from tracker.audit import versions
from tracker.core import memo, renderer
from tracker.core.forms import parse
from tracker.core.web import make_environment, viewing
from tracker.deliverables import reviews
from tracker.projects.calendar import project_today
from tracker.register.risks import service as risks


@pytest.fixture
def kept() -> Iterator[None]:
    memo.clear()
    memo.enabled = True
    try:
        yield
    finally:
        memo.enabled = False
        memo.clear()


def test_a_committed_change_moves_its_projects_version_and_a_rolled_back_one_does_not(db: Session, world):
    project_id = acting(db, world, "manager")[1].project.id
    before = versions.of(db, [project_id])
    make_risk(db, world, title="Interface partner slips")
    db.commit()
    after = versions.of(db, [project_id])
    assert dict(after)[project_id] == dict(before)[project_id] + 1
    assert dict(after)[versions.GLOBAL] == dict(before)[versions.GLOBAL]  # people were not changed
    make_risk(db, world, title="Never committed")
    db.rollback()
    assert versions.of(db, [project_id]) == after


def _active_now(page: str) -> int:
    return int(re.search(r"(\d+) active risks? now", page)[1])


def test_pages_are_computed_once_and_show_a_change_on_the_next_request(as_user, db, world, kept, count_queries):
    manager = as_user("manager")
    pages = ["/projects/TST/status-reports/draft", "/projects/TST", "/projects/TST/scorecard", "/portfolio"]
    for page in pages:
        memo.clear()  # the overview shares the draft's figures
        with count_queries() as cold:
            assert manager.get(page).status_code == 200, page
        with count_queries() as warm:
            assert manager.get(page).status_code == 200
        assert warm.count < cold.count, (page, warm.count, cold.count)  # the figures came from memory

    heat = "/projects/TST/risks/heat-map"
    with count_queries() as cold:
        active = _active_now(manager.get(heat).text)
    with count_queries() as warm:
        assert manager.get(heat).status_code == 200
    assert warm.count < cold.count

    # A change in the project: the next draft, overview and heat map show it.
    risk = make_risk(db, world, title="Vendor licence audit", probability="5", impact="5")
    db.commit()
    assert _active_now(manager.get(heat).text) == active + 1
    for page in pages[:2]:
        assert "Vendor licence audit" in manager.get(page).text, page

    # ...and a change to it too.
    actor, access = acting(db, world, "staff")
    values = risks.form_values(db, risk) | {"title": "Vendor licence audit, second notice", "version": risk.version}
    risks.update(db, actor, access, risk, parse(risks.RiskForm, values))
    db.commit()
    assert "Vendor licence audit, second notice" in manager.get(pages[0]).text

    # A change to a person (the records of no project): the risk owner's new name is on the next draft.
    staff = db.get(User, world.ids["staff"])
    admin = principal(db.get(User, world.ids["admin"]))
    values = {"username": staff.username, "full_name": "Sam Renamed-Owner", "email": staff.email}
    update_user(db, admin, staff, parse(UserForm, values | {"is_active": "on", "version": str(staff.version)}))
    db.commit()
    assert "Sam Renamed-Owner" in manager.get(pages[0]).text


def test_my_work_is_kept_per_person_and_shows_a_new_risk_to_review_at_once(as_user, db, world, kept, count_queries):
    staff, manager = as_user("staff"), as_user("manager")
    with count_queries() as cold:
        assert staff.get("/").status_code == 200
    with count_queries() as warm:
        page = staff.get("/").text
    assert warm.count < cold.count
    assert "Vendor escrow lapses" not in page
    assert manager.get("/").status_code == 200  # another person's work is kept apart
    make_risk(db, world, title="Vendor escrow lapses", owner_id=str(world.ids["staff"]), next_review_date=tst_today())
    db.commit()
    page = staff.get("/").text
    assert "Vendor escrow lapses" in page.split('id="act-h"')[0]  # to review, in its section
    assert "Vendor escrow lapses" in manager.get("/").text.split('id="act-h"')[1]  # and in the recent activity


def _exposure_now(page: str) -> int:
    return int(re.search(r"Exposure (\d+)</text>", page)[1])  # the line's name and its last value, at its end


def test_the_trends_page_is_computed_once_and_shows_a_new_risk_on_the_next_request(
    as_user, db, world, kept, count_queries
):
    manager = as_user("manager")
    with count_queries() as cold:
        page = manager.get("/projects/TST/trends")
    with count_queries() as warm:
        assert manager.get("/projects/TST/trends").status_code == 200
    assert page.status_code == 200 and warm.count < cold.count  # the figures came from memory
    before = _exposure_now(page.text)

    make_risk(db, world, title="Integrator's key architect leaves", probability="5", impact="5")
    db.commit()
    assert _exposure_now(manager.get("/projects/TST/trends").text) == before + 25


def _open_today(part: str) -> int:
    desc = re.search(r'<desc id="burndown-1-d">Open: (.*?)\. </desc>', part)[1]
    return int(desc.rsplit(" ", 1)[-1])  # the last day's count: today's


def test_the_burndown_is_computed_once_and_shows_a_new_comment_on_the_next_request(
    as_user, db, world, kept, count_queries, store
):
    d = plan(db, world, "D-41", project_today(acting(db, world, "manager")[1].project) + timedelta(days=20))
    submit(db, world, d, store)
    db.commit()
    url = f"/projects/TST/deliverables/{d.id}/burndown"
    manager = as_user("manager")
    with count_queries() as cold:
        part = manager.get(url, headers={"HX-Request": "true"}).text
    with count_queries() as warm:
        manager.get(url, headers={"HX-Request": "true"})
    assert warm.count < cold.count and _open_today(part) == 0

    form = parse(reviews.CommentForm, {"text": "The data dictionary is missing", "severity": "major"})
    reviews.add_comment(db, *acting(db, world, "staff"), d, form)
    db.commit()
    assert _open_today(manager.get(url, headers={"HX-Request": "true"}).text) == 1


def test_kept_markup_is_drawn_once_per_key_parts_and_viewer(kept):
    env = make_environment()
    drawn: list[int] = []

    def draw() -> str:
        drawn.append(1)
        return str(len(drawn))

    template = env.from_string("{% kept key, part %}<b>{{ draw() }}</b> {{ '<i>' }}{% endkept %}")

    def page(key, part="a", **viewer) -> str:
        with viewing(**viewer):
            return template.render(key=key, part=part, draw=draw)

    first = page(("k", 1))
    assert first == "<b>1</b> &lt;i&gt;"  # escaped once, as drawn
    assert page(("k", 1)) == first and len(drawn) == 1  # kept
    assert page(("k", 2)) == "<b>2</b> &lt;i&gt;"  # the data moved on
    assert page(("k", 2), part="b") == "<b>3</b> &lt;i&gt;"  # another part of the page
    assert page(("k", 2), zone="Europe/Paris") == "<b>4</b> &lt;i&gt;"  # another reader's zone
    assert page(("k", 2), date_format="iso") == "<b>5</b> &lt;i&gt;"  # another reader's date format
    assert page(None) == "<b>6</b> &lt;i&gt;" and page(None) == "<b>7</b> &lt;i&gt;"  # no key: drawn every time


def test_the_timelines_are_drawn_once_and_show_a_new_deliverable_on_the_next_request(as_user, db, world, kept):
    manager = as_user("manager")
    for url in ("/projects/TST/timeline?range=around&status=all", "/portfolio/timeline?range=around&status=all"):
        memo.clear()
        assert "D-KEPT" not in manager.get(url).text
    plan(db, world, "D-KEPT", due=tst_today() + timedelta(days=3))
    db.commit()
    for url in ("/projects/TST/timeline?range=around&status=all", "/portfolio/timeline?range=around&status=all"):
        assert "D-KEPT" in manager.get(url).text, url


def test_a_kept_overview_is_kept_per_role_so_a_contractor_never_sees_the_managers_dashboard(as_user, db, world, kept):
    make_risk(db, world, title="Kept register secret", probability="5", impact="5")
    db.commit()
    assert "Kept register secret" in as_user("manager").get("/projects/TST").text
    page = as_user("contractor").get("/projects/TST")
    assert page.status_code == 200
    assert "Kept register secret" not in page.text


def test_a_figure_asked_for_by_many_at_once_is_computed_once_and_a_failure_lets_the_next_compute(kept):
    started, release, computed = threading.Event(), threading.Event(), []

    def compute() -> str:
        computed.append(1)
        started.set()
        release.wait()
        return "figure"

    answers: list[str] = []
    first = threading.Thread(target=lambda: answers.append(memo.kept("k", compute)))
    first.start()
    started.wait()  # the first is computing: the others wait for it
    others = [threading.Thread(target=lambda: answers.append(memo.kept("k", compute))) for _ in range(3)]
    for t in others:
        t.start()
    release.set()
    for t in (first, *others):
        t.join()
    assert answers == ["figure"] * 4 and len(computed) == 1

    def fail() -> str:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        memo.kept("other", fail)
    assert memo.kept("other", lambda: "computed by the next") == "computed by the next"


def test_a_pdf_downloaded_again_is_printed_once_and_a_change_prints_it_anew(as_user, db, world, kept, monkeypatch):
    printed: list[int] = []
    run = renderer.run

    def counted(work, *args):
        printed.append(1)
        return run(work, *args)

    monkeypatch.setattr(renderer, "run", counted)
    viewer = as_user("viewer")
    first = viewer.get("/portfolio.pdf")
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    assert viewer.get("/portfolio.pdf").content == first.content and len(printed) == 1

    project = acting(db, world, "manager")[1].project
    project.name = "Renamed for the pack"
    db.add(project)
    db.commit()
    assert viewer.get("/portfolio.pdf").content != first.content and len(printed) == 2


def test_a_records_history_is_read_once_and_shows_a_change_on_the_next_request(as_user, db, world, kept, count_queries):
    risk = make_risk(db, world, title="Kept history risk")
    d = plan(db, world, "D-HIST", due=tst_today() + timedelta(days=9))
    db.commit()
    manager = as_user("manager")
    for url in (f"/projects/TST/risks/{risk.id}", f"/projects/TST/deliverables/{d.id}"):
        with count_queries() as cold:
            assert manager.get(url).status_code == 200, url
        with count_queries() as warm:
            assert manager.get(url).status_code == 200
        assert warm.count < cold.count, (url, warm.count, cold.count)  # the trail came from memory

    actor, access = acting(db, world, "staff")
    values = risks.form_values(db, risk) | {"title": "Kept history risk, renamed", "version": risk.version}
    risks.update(db, actor, access, risk, parse(risks.RiskForm, values))
    db.commit()
    history = manager.get(f"/projects/TST/risks/{risk.id}").text.split('id="hist-h"')[1]
    assert "Kept history risk, renamed" in history  # the update's line, drawn anew


def test_a_search_is_ranked_once_and_finds_a_new_record_on_the_next_request(as_user, db, world, kept, count_queries):
    manager = as_user("manager")
    make_risk(db, world, title="Quokka interface outage")
    db.commit()
    with count_queries() as cold:
        assert "R-" in manager.get("/search?q=quokka").text
    with count_queries() as warm:
        assert manager.get("/search?q=quokka").status_code == 200
    assert warm.count < cold.count  # the ranking came from memory
    assert "Quokka supplier exit" not in manager.get("/search?q=quokka").text
    make_risk(db, world, title="Quokka supplier exit")
    db.commit()
    assert "supplier exit" in manager.get("/search?q=quokka").text
    assert "Quokka" not in as_user("outsider").get("/search?q=quokka").text  # kept per reader, never shared


def test_a_register_lists_rows_are_drawn_once_per_reader_and_show_a_change_on_the_next_request(
    as_user, db, world, kept
):
    risk = make_risk(db, world, title="Kept row risk")
    db.commit()
    staff, viewer = as_user("staff"), as_user("viewer")
    assert f"/risks/{risk.id}/edit" in staff.get("/projects/TST/risks").text
    assert f"/risks/{risk.id}/edit" not in viewer.get("/projects/TST/risks").text  # drawn for the viewer's role
    actor, access = acting(db, world, "staff")
    values = risks.form_values(db, risk) | {"title": "Kept row risk, renamed", "version": risk.version}
    risks.update(db, actor, access, risk, parse(risks.RiskForm, values))
    db.commit()
    assert "Kept row risk, renamed" in staff.get("/projects/TST/risks").text


def test_the_scorecards_credits_and_reported_figures_are_kept_and_a_verdict_shows_on_the_next_request(
    as_user, db, world, kept
):
    # The whole story of reported figures feeding the scorecard, told with the figures kept between its requests.
    accountability.test_reported_measures_feed_the_scorecard_with_their_status_and_verified_ones_earn_credits(
        as_user, db, world
    )
