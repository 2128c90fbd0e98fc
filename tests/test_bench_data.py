"""The benchmark portfolio (`tracker bench-data`), generated at the tiny scale into a database of its own: every key
page of the largest project renders for bench-manager, and the records agree with their audit trail, the contract
clocks and the scale asked for."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from tests.conftest import Browser, make_settings
from tests.dbutil import fresh_database
from tracker import cli
from tracker.app import create_app
from tracker.audit.models import AuditEvent
from tracker.cli import migrate_database
from tracker.core.db import make_engine
from tracker.core.files import FileStore
from tracker.deliverables.models import Comment, Decision, Deliverable, Disposition, Outcome, Severity
from tracker.deliverables.service import run_clocks
from tracker.deliverables.workflow import Status
from tracker.demo.bench import generate, register
from tracker.demo.bench.people import PASSWORD
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project, Role
from tracker.register.actions.models import ActionItem
from tracker.register.issues.models import UNRESOLVED, Issue, IssueStatus, Priority
from tracker.register.risks import scoring
from tracker.register.risks.models import ACTIVE_RISK, Risk, RiskScoreHistory, RiskStatus
from tracker.reports import service as reports
from tracker.reports.periods import week_ending
from tracker.settings import get_settings

SCALE = generate.SCALES["tiny"]


@dataclass
class Bench:
    url: str
    engine: Engine
    uploads: Path
    counts: dict[str, int]
    marks: dict[str, int | str]


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    tmp = tmp_path_factory.mktemp("bench")
    with fresh_database(tmp) as url:
        migrate_database(url)
        counts = generate.run(url, SCALE, FileStore(tmp / "uploads", 1024 * 1024), say=lambda _: None)
        engine = make_engine(url)
        yield Bench(url, engine, tmp / "uploads", counts, generate.landmarks(url))
        engine.dispose()


@pytest.fixture(scope="module")
def manager(bench: Bench) -> Iterator[Browser]:
    app = create_app(make_settings(bench.url, upload_dir=bench.uploads))
    with TestClient(app, base_url="http://testserver.local") as client:
        browser = Browser(client)
        assert browser.login("bench-manager", PASSWORD).status_code == 303
        yield browser


def test_the_counts_are_the_scales(bench: Bench) -> None:
    c = bench.counts
    assert (
        c["project"],
        c["app_user"],
        c["deliverable"],
        c["submission"],
        c["comment"],
        c["risk"],
        c["issue"],
        c["action_item"],
    ) == (
        SCALE.projects,
        SCALE.users,
        SCALE.deliverables,
        SCALE.submissions,
        SCALE.comments,
        SCALE.risks,
        SCALE.issues,
        SCALE.actions,
    )
    assert SCALE.audit_events <= c["audit_event"] < SCALE.audit_events * 1.01  # plus the services' own few
    assert c["saved_report"] == 5 * SCALE.projects
    assert c["status_report"] == SCALE.projects + 1


@pytest.mark.parametrize("name", generate.SCALES)
def test_the_largest_project_holds_what_its_scale_states(name: str) -> None:
    scale = generate.SCALES[name]
    for total, largest in (
        (scale.deliverables, scale.largest.deliverables),
        (scale.risks, scale.largest.risks),
        (scale.issues, scale.largest.issues),
    ):
        counts = generate.split(random.Random(generate.SEED), total, scale.projects, largest)
        assert (len(counts), sum(counts), counts[0]) == (scale.projects, total, largest)
        assert largest > max(counts[1:])


def test_past_large_a_scale_adds_projects_not_a_larger_largest_project() -> None:
    assert generate.SCALES["huge"].largest == generate.SCALES["large"].largest


def test_reviews_a_risk_has_no_days_for_go_to_the_others() -> None:
    assert register.shares([1.0, 3.0], [100, 100], 8) == [2, 6]  # in proportion while no cap binds
    assert register.shares([1.0, 1.0, 2.0], [1, 100, 100], 30) == [1, 9, 19]  # the first's cap leaves 29 for two
    assert register.shares([0.0, 1.0], [0, 5], 3) == [0, 3]


def test_the_largest_project_is_clearly_the_largest(bench: Bench) -> None:
    with Session(bench.engine) as db:
        for model in (Deliverable, Risk, Issue):
            sizes = db.exec(
                select(Project.key, func.count(model.id))
                .join(model, model.project_id == Project.id)
                .group_by(Project.key)
                .order_by(func.count(model.id).desc())
            ).all()
            assert sizes[0][0] == "BIG" and sizes[0][1] > sizes[1][1], model.__name__


def test_every_status_level_priority_and_role_occurs(bench: Bench) -> None:
    with Session(bench.engine) as db:
        big = db.exec(select(Project.id).where(Project.key == "BIG")).one()
        assert set(db.exec(select(Deliverable.status).where(Deliverable.project_id == big))) == set(Status)
        assert set(db.exec(select(Risk.status).where(Risk.project_id == big))) == set(RiskStatus)
        assert set(db.exec(select(Issue.status).where(Issue.project_id == big))) == set(IssueStatus)
        assert set(db.exec(select(Issue.priority).where(Issue.project_id == big))) == set(Priority)
        levels = {scoring.level(p, i) for p, i in db.exec(select(Risk.probability, Risk.impact))}
        assert levels == set(scoring.Level)
        for project in db.exec(select(Project.id)):
            assert set(db.exec(select(Membership.role).where(Membership.project_id == project))) == set(Role)
        assert set(db.exec(select(Comment.severity))) == set(Severity)
        assert set(db.exec(select(Comment.disposition))) == set(Disposition)
        assert set(db.exec(select(Decision.outcome))) == set(Outcome)
        rejected_then_accepted = (
            select(func.count())
            .select_from(Deliverable)
            .where(Deliverable.status == Status.ACCEPTED, Deliverable.current_version > 1)
        )
        assert db.exec(rejected_then_accepted).one() > 0
        overdue = (
            select(func.count())
            .select_from(ActionItem)
            .where(col(ActionItem.done_at).is_(None), col(ActionItem.due_date) < func.current_date())
        )
        assert db.exec(overdue).one() > 0


def test_the_contract_clocks_have_nothing_left_to_do(bench: Bench) -> None:
    """Deemed acceptances and escalations are already on the record, so a server starting on the data stays idle."""
    with Session(bench.engine) as db:
        run = run_clocks(db, FileStore(bench.uploads, 1024 * 1024))
        db.rollback()
    assert (run.deemed, run.escalated) == ([], [])


def test_the_audit_trail_tells_where_each_record_stands(bench: Bench) -> None:
    """The draft report reads statuses and scores from the audit trail: they must be the rows' own."""
    with Session(bench.engine) as db:
        for project in db.exec(select(Project)).all():
            period = week_ending(project_today(project))
            content = reports.build(db, project, period, reports.draft_for(db, project, period))
            pipeline = {row["status"]: row["count"] for row in content["pipeline"] if row["count"]}
            stored = dict(
                db.exec(
                    select(Deliverable.status, func.count())
                    .where(Deliverable.project_id == project.id)
                    .group_by(Deliverable.status)
                ).all()
            )
            assert pipeline == stored, project.key
            active = {(int(i), score) for i, score in content["risk_scores"].items()}
            rows = {
                (r.id, scoring.score(r.probability, r.impact))
                for r in db.exec(select(Risk).where(Risk.project_id == project.id, col(Risk.status).in_(ACTIVE_RISK)))
            }
            assert active == rows, project.key
            unresolved = (
                select(func.count())
                .select_from(Issue)
                .where(Issue.project_id == project.id, col(Issue.status).in_(UNRESOLVED))
            )
            assert content["counts"]["issues_open"] == db.exec(unresolved).one(), project.key


def test_every_event_names_its_records_project(bench: Bench) -> None:
    """Ids are renumbered in time order after generation: the trail's project and entity ids with them."""
    with Session(bench.engine) as db:
        for model, etype in (
            (Deliverable, "deliverable"),
            (Risk, "risk"),
            (Issue, "issue"),
            (Membership, "membership"),
        ):
            wrong = (
                select(func.count())
                .select_from(AuditEvent)
                .join(model, model.id == AuditEvent.entity_id)
                .where(AuditEvent.entity_type == etype, AuditEvent.project_id != model.project_id)
            )
            events = select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == etype)
            assert (db.exec(wrong).one(), db.exec(events).one() > 0) == (0, True), etype
        projects = (
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity_type == "project", AuditEvent.entity_id != AuditEvent.project_id)
        )
        assert db.exec(projects).one() == 0


def test_the_trails_ids_are_in_time_order(bench: Bench) -> None:
    """The reviews, made only as the trail is written, merge in among the events held in memory."""
    after = aliased(AuditEvent)
    out_of_order = (
        select(func.count())
        .select_from(AuditEvent)
        .join(after, after.id == AuditEvent.id + 1)
        .where(after.at < AuditEvent.at, after.id <= SCALE.audit_events)  # the services' own come after, as of then
    )
    reviews = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "review")
    with Session(bench.engine) as db:
        assert db.exec(out_of_order).one() == 0
        assert db.exec(reviews).one() > SCALE.audit_events / 4


def test_each_risk_history_ends_at_its_score(bench: Bench) -> None:
    latest = (
        select(RiskScoreHistory.risk_id, func.max(RiskScoreHistory.id).label("last"))
        .group_by(RiskScoreHistory.risk_id)
        .subquery()
    )
    stmt = (
        select(func.count())
        .select_from(Risk)
        .join(latest, latest.c.risk_id == Risk.id)
        .join(RiskScoreHistory, RiskScoreHistory.id == latest.c.last)
        .where((RiskScoreHistory.probability != Risk.probability) | (RiskScoreHistory.impact != Risk.impact))
    )
    with Session(bench.engine) as db:
        assert db.exec(stmt).one() == 0
        assert db.exec(select(func.count(func.distinct(RiskScoreHistory.risk_id)))).one() == SCALE.risks


def test_every_key_page_of_the_largest_project_renders(bench: Bench, manager: Browser) -> None:
    key, d, report = bench.marks["project"], bench.marks["deliverable_id"], bench.marks["saved_report_id"]
    with Session(bench.engine) as db:
        big = db.exec(select(Project.id).where(Project.key == key)).one()
        count = db.exec(select(func.count()).select_from(Deliverable).where(Deliverable.project_id == big)).one()
    last_page = -(-count // 25)
    pages = [
        "/",
        f"/projects/{key}",
        f"/projects/{key}/deliverables",
        f"/projects/{key}/deliverables?page={last_page}",
        f"/projects/{key}/deliverables?status=in_review&sort=-due",
        f"/projects/{key}/deliverables/{d}",
        f"/projects/{key}/risks",
        f"/projects/{key}/risks/heat-map",
        f"/projects/{key}/issues",
        f"/projects/{key}/status-reports/draft",
        f"/projects/{key}/status-reports",
        "/portfolio",
        f"/projects/{key}/scorecard",
        f"/projects/{key}/trends",
        f"/projects/{key}/deliverables/{d}/burndown",
        f"/projects/{key}/saved-reports/{report}",
        "/api/v1/projects",
        f"/api/v1/projects/{key}/deliverables",
        f"/api/v1/projects/{key}/risks",
        f"/api/v1/projects/{key}/issues",
        f"/api/v1/projects/{key}/status-reports",
        "/api/v1/portfolio",
        "/api/v1/saved-reports",
        f"/api/v1/saved-reports/{report}/run",
        f"/api/v1/deliverables/{d}",
    ]
    failed = {url: r.status_code for url in pages if (r := manager.get(url)).status_code != 200}
    assert failed == {}
    assert f"D-{last_page * 25 - 25 + 1:03d}" in manager.get(f"/projects/{key}/deliverables?page={last_page}").text


def test_the_command_refuses_a_database_with_data_and_reset_replaces_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_database(tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("TRACKER_UPLOAD_DIR", str(tmp_path / "uploads"))
        get_settings.cache_clear()
        runner = CliRunner()
        first = runner.invoke(cli.main, ["bench-data", "--scale", "tiny"])
        assert first.exit_code == 0, first.output
        assert "bench-manager" in first.output and PASSWORD in first.output
        assert "/projects/BIG/deliverables/" in first.output
        again = runner.invoke(cli.main, ["bench-data", "--scale", "tiny"])
        assert again.exit_code != 0 and "--reset" in again.output
        reset = runner.invoke(cli.main, ["bench-data", "--scale", "tiny", "--reset"])
        assert reset.exit_code == 0, reset.output
        engine = make_engine(url)
        with Session(engine) as db:
            assert db.exec(select(func.count()).select_from(Deliverable)).one() == SCALE.deliverables
        engine.dispose()
        get_settings.cache_clear()
