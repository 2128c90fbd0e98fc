"""The demo: the deliverable history (every status, real clocks) and the risk and issue registers (every level and
status, score trends, conversions, escalations), with work waiting for every demo persona."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, func, select

from tests.conftest import DemoTemplate, demo_copy
from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.audit.models import AuditEvent
from tracker.core.calendar import is_business_day
from tracker.core.clock import utcnow
from tracker.core.db import make_engine
from tracker.core.files import FileStore
from tracker.deliverables import service, work
from tracker.deliverables.models import Comment, Decision, Deliverable, Submission, SubmissionFile
from tracker.deliverables.workflow import Status
from tracker.demo.deliverables import tiny_pdf
from tracker.projects.calendar import due_after, project_holidays, project_today
from tracker.projects.models import Membership, Project
from tracker.projects.service import Access, get_for, perms_for
from tracker.register.actions import service as actions
from tracker.register.actions.models import ActionItem
from tracker.register.attachments.models import Attachment
from tracker.register.custom.models import CustomField, CustomValue
from tracker.register.decisions import log as decision_log
from tracker.register.decisions.models import LoggedDecision
from tracker.register.issues import service as issues
from tracker.register.issues.models import Issue, IssueDecision, IssueDeliverable, IssueStatus
from tracker.register.risks import scoring
from tracker.register.risks import service as risks
from tracker.register.risks.models import Risk, RiskDeliverable, RiskScoreHistory, RiskStatus


@pytest.fixture(scope="module")
def demo_db(
    demo_template: DemoTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Session, FileStore]]:
    with demo_copy(demo_template, tmp_path_factory.mktemp("demo")) as (url, uploads):
        engine = make_engine(url)
        with Session(engine) as db:
            yield db, FileStore(uploads, 1024 * 1024)
        engine.dispose()


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _deliverables(db: Session) -> dict[tuple[str, str], Deliverable]:
    rows = db.exec(select(Project.key, Deliverable).join(Project, col(Project.id) == Deliverable.project_id))
    return {(key, d.code): d for key, d in rows}


def test_every_project_has_a_deliverable_in_every_status(demo_db):
    db, _ = demo_db
    statuses: dict[str, set[str]] = {}
    for (key, _code), d in _deliverables(db).items():
        statuses.setdefault(key, set()).add(d.status)
    assert statuses == {key: {s.value for s in Status} for key in ("CWS", "UIM", "DMV")}
    counts = db.exec(
        select(Project.key, func.count(Deliverable.id)).join(Deliverable).group_by(Project.key).order_by(Project.key)
    ).all()
    assert all(12 <= n <= 20 for _, n in counts), counts


def test_rejected_versions_are_resubmitted_and_accepted_and_conditions_are_met(demo_db):
    db, _ = demo_db
    outcomes: dict[int, list[str]] = {}
    for d_id, outcome in db.exec(select(Decision.deliverable_id, Decision.outcome).order_by(Decision.id)):
        outcomes.setdefault(d_id, []).append(outcome)
    after_rejection = [o for o in outcomes.values() if o[0] == "rejected" and o[-1] == "accepted"]
    assert len(after_rejection) >= 6
    assert ["rejected", "rejected", "accepted"] in after_rejection
    assert ["conditionally_accepted", "accepted"] in outcomes.values()
    # What version 1 was rejected for came forward to version 2 and was resolved there.
    carried = db.exec(select(Comment).where(col(Comment.carried_from_id).is_not(None))).all()
    assert carried and {c.disposition for c in carried} >= {"resolved", "open"}


def test_overdue_reviews_resubmissions_and_deliveries_show_today(demo_db):
    db, _ = demo_db
    kinds = set()
    for key in ("CWS", "UIM", "DMV"):
        project = db.exec(select(Project).where(Project.key == key)).one()
        today = project_today(project)
        access = Access(project, None, True, perms_for(None, True))
        rows, _ = service.list_page(db, access, service.ListQuery(overdue=True))
        assert rows, f"{key} has nothing overdue"
        kinds |= {r.deliverable.status for r in rows}
        upcoming = [
            d
            for (k, _c), d in _deliverables(db).items()
            if k == key and d.status == "planned" and today <= d.due_date <= today + timedelta(days=14)
        ]
        assert upcoming, f"{key} has nothing due in the next two weeks"
    assert kinds >= {"planned", "submitted", "in_review", "rejected"}


def test_every_demo_reviewer_has_an_open_review_and_every_contractor_comments_to_answer(demo_db):
    db, _ = demo_db
    members = db.exec(
        select(User, Membership.role).join(Membership, col(Membership.user_id) == User.id).order_by(User.username)
    ).all()
    reviewers = {u.username: u for u, role in members if role in ("manager", "staff")}
    contractors = {u.username: u for u, role in members if role == "contractor"}
    assert len(reviewers) == 6 and len(contractors) == 3
    for name, user in reviewers.items():
        assert work.my_reviews(db, principal(user)), f"{name} has no open review"
    for name, user in contractors.items():
        assert work.awaiting_response(db, principal(user)), f"{name} has no comment to answer"


def test_clocks_and_timestamps_are_those_the_app_would_have_written(demo_db):
    db, store = demo_db
    now = utcnow()
    projects = {p.id: p for p in db.exec(select(Project))}
    rows = db.exec(select(Submission, Deliverable.project_id).join(Deliverable).order_by(Submission.id)).all()
    assert len(rows) > 40
    assert min(_aware(s.submitted_at) for s, _ in rows) < now - timedelta(weeks=14)  # replayed, not loaded "now"
    for s, project_id in rows:
        project = projects[project_id]
        submitted = project_today(project, _aware(s.submitted_at))
        assert is_business_day(submitted, project_holidays(project, submitted, days=1))
        assert s.review_due == due_after(project, submitted, project.review_days)
    for d in db.exec(select(Deliverable).where(Deliverable.status == "rejected")):
        decided = db.exec(
            select(Decision.decided_at).where(Decision.deliverable_id == d.id).order_by(col(Decision.id).desc())
        ).first()
        project = projects[d.project_id]
        decided_on = project_today(project, _aware(decided))
        assert d.resubmit_due == due_after(project, decided_on, project.resubmit_days)
    first, last = db.exec(select(func.min(AuditEvent.at), func.max(AuditEvent.at))).one()
    assert now - timedelta(weeks=19) < _aware(first) and _aware(last) < now
    for f in db.exec(select(SubmissionFile).order_by(SubmissionFile.id).limit(5)):
        with store.open(f.sha256) as data:
            assert len(data.read()) == f.size


def test_tiny_pdf_is_a_pdf_with_a_valid_cross_reference_table():
    pdf = tiny_pdf(["Data Conversion Plan (v2)", "§3.2, p. 14"])
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    xref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[xref:].startswith(b"xref")
    offsets = [int(line.split()[0]) for line in pdf[xref:].splitlines()[3:8]]
    assert [pdf[o:].split(b" ", 1)[0] for o in offsets] == [b"1", b"2", b"3", b"4", b"5"]
    assert b"(Data Conversion Plan \\(v2\\)) '" in pdf and "§".encode("cp1252") in pdf


# --- the register ----------------------------------------------------------------------------------------------


def _by_project(db: Session, model):
    rows = db.exec(select(Project.key, model).join(Project, col(Project.id) == model.project_id).order_by(model.id))
    out: dict[str, list] = {}
    for key, record in rows:
        out.setdefault(key, []).append(record)
    return out


def test_every_register_has_risks_of_every_level_and_status_and_issues_in_every_state(demo_db):
    db, _ = demo_db
    for key, project_risks in _by_project(db, Risk).items():
        assert 15 <= len(project_risks) <= 25
        assert {r.status for r in project_risks} == {s.value for s in RiskStatus}, key
        active = [r for r in project_risks if r.status in ("open", "mitigating", "monitoring")]
        assert {scoring.level(r.probability, r.impact) for r in active} == set(scoring.Level), key
    for key, project_issues in _by_project(db, Issue).items():
        assert {i.status for i in project_issues} == {s.value for s in IssueStatus}, key
        for i in project_issues:
            assert i.escalation_level == "project" or i.escalation_reason, i.code
            assert i.status not in ("resolved", "closed") or (i.resolution and i.resolved_on), i.code
    assert db.exec(select(func.count()).select_from(IssueDecision)).one() >= 12
    assert db.exec(select(func.count()).select_from(RiskDeliverable)).one() >= 25
    assert db.exec(select(func.count()).select_from(IssueDeliverable)).one() >= 5


def test_score_histories_rise_and_fall_over_the_sixteen_weeks(demo_db):
    db, _ = demo_db
    now = utcnow()
    history: dict[int, list[RiskScoreHistory]] = {}
    for h in db.exec(select(RiskScoreHistory).order_by(RiskScoreHistory.risk_id, RiskScoreHistory.at)):
        history.setdefault(h.risk_id, []).append(h)
    trends = [
        scoring.score(h[-1].probability, h[-1].impact) - scoring.score(h[0].probability, h[0].impact)
        for h in history.values()
    ]
    assert sum(t > 0 for t in trends) >= 10 and sum(t < 0 for t in trends) >= 10
    moments = [_aware(h.at) for hs in history.values() for h in hs]
    assert now - timedelta(weeks=17) < min(moments) < now - timedelta(weeks=14) and max(moments) < now
    for key in ("CWS", "UIM", "DMV"):
        project = db.exec(select(Project).where(Project.key == key)).one()
        heat = risks.heat_map(db, Access(project, None, True, perms_for(None, True)))
        assert heat.up and heat.down, key  # the heat map shows movement since last week


def test_realized_risks_became_issues_and_some_action_items_are_overdue_or_done(demo_db):
    db, _ = demo_db
    realized = db.exec(select(Risk).where(Risk.status == "realized").order_by(Risk.id)).all()
    assert len(realized) >= 6
    for risk in realized:
        issue = db.exec(select(Issue).where(Issue.risk_id == risk.id)).one()
        assert issue.raised_on > risk.raised_on and issue.project_id == risk.project_id
        trail = db.exec(
            select(AuditEvent.action).where(AuditEvent.entity_type == "risk", AuditEvent.entity_id == risk.id)
        ).all()
        assert "convert" in trail
    items = db.exec(select(ActionItem, Project).join(Project, col(Project.id) == ActionItem.project_id)).all()
    overdue = [i for i, p in items if actions.is_overdue(i, project_today(p))]
    assert len(overdue) >= 10 and sum(i.done_at is not None for i, _ in items) >= 10


def test_every_demo_manager_and_staff_member_has_register_work_waiting(demo_db):
    db, _ = demo_db
    members = db.exec(
        select(User, Membership.role)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(col(Membership.role).in_(["manager", "staff"]))
        .order_by(User.username)
    ).all()
    for user, role in members:
        who = principal(user)
        mine = actions.mine(db, who)
        assert any(a.overdue for a in mine) and any(not a.overdue for a in mine), user.username
        assert risks.my_reviews_due(db, who), user.username
        if role == "manager":
            assert issues.flagged_for_manager(db, who), user.username


def test_every_demo_project_shares_the_starter_reports_and_they_run(demo_db):
    """Here rather than in tests/library, so the demo loads once for both (suite time)."""
    from tracker.demo.library import STARTERS
    from tracker.library import service as library
    from tracker.projects import service as projects

    db, _ = demo_db
    overdue = 0
    for key, manager in (("CWS", "mrivera"), ("UIM", "jchen"), ("DMV", "pokafor")):
        user = principal(db.exec(select(User).where(User.username == manager)).one())
        access = projects.get_for(db, user, key)
        rows = library.library(db, user, [access], library.LibraryQuery(whose="shared"))
        assert sorted(r.report.name for r in rows) == sorted(name for name, _, _ in STARTERS)
        by_name = {r.report.name: r.report for r in rows}
        definition, problems = library.stored_definition(by_name["Overdue reviews"])
        result = library.run(db, access, user, definition)
        today = project_today(access.project)
        late = sorted(
            (
                d
                for d in db.exec(select(Deliverable).where(Deliverable.project_id == access.project.id))
                if d.status in ("submitted", "in_review") and d.review_due < today
            ),
            key=lambda d: (d.review_due, d.id),
        )
        assert [row[0] for row in result.rows] == [d.code for d in late]
        overdue += len(late)
        for report in by_name.values():
            definition, problems = library.stored_definition(report)
            assert not problems and library.run(db, access, user, definition).total >= 0
    assert overdue > 0


def test_the_demo_publishes_weekly_status_reports_as_the_record_stood_each_friday(demo_db):
    """Shares this module's demo load: six weeks of reports per project, a correction, an override, trends."""
    from tracker.demo import reports as reports_demo
    from tracker.reports import service as reports
    from tracker.reports.models import StatusReport

    db, _ = demo_db
    rows = db.exec(
        select(Project.key, StatusReport)
        .join(StatusReport, col(StatusReport.project_id) == Project.id)
        .order_by(Project.key, StatusReport.period_end, StatusReport.number)
    ).all()
    by_key: dict[str, list[StatusReport]] = {}
    for key, report in rows:
        by_key.setdefault(key, []).append(report)
    assert {k: len({r.period_end for r in v}) for k, v in by_key.items()} == dict.fromkeys(
        ("CWS", "DMV", "UIM"), reports_demo.WEEKS
    )
    for key, reps in by_key.items():
        project = db.exec(select(Project).where(Project.key == key)).one()
        for r in reps:
            assert r.status == "published" and r.period_end.weekday() == 4
            assert r.content["period"]["end"] == str(r.period_end)
            local = _aware(r.published_at).astimezone(ZoneInfo(project.timezone))
            assert local.date() == r.period_end or r.number == 2  # published that Friday; a correction later
        pipelines = {tuple(s["count"] for s in r.content["pipeline"]) for r in reps}
        assert len(pipelines) > 1, f"{key}: every week's snapshot shows the same pipeline"  # as the record stood
        assert reps[-1].content["compared_with"] is not None and reps[0].content["compared_with"] is None
        history = [h["rag"] for h in reps[-1].content["rag_history"]]
        assert history[-reports_demo.WEEKS :] == [
            r.rag for r in reps if r.number == max(x.number for x in reps if x.period_end == r.period_end)
        ]
    assert [r.number for r in by_key["UIM"]].count(2) == 1
    held = [a for r in by_key["CWS"] for a in r.content["rag"]["areas"] if a["overridden"]]
    assert len(held) == 1 and "steering committee" in held[0]["rationale"]
    viewer = principal(db.exec(select(User).where(User.username == "hlee")).one())
    portfolio = reports.portfolio(db, viewer)
    assert sorted(p.project.key for p in portfolio) == ["CWS", "DMV", "UIM"] and all(
        p.trend != "none" for p in portfolio
    )
    manager = principal(db.exec(select(User).where(User.username == "mrivera")).one())
    assert [t.project_key for t in reports.to_publish(db, manager)] == ["CWS"]  # this week's, not yet published


def test_register_records_carry_the_demos_files_with_their_history(demo_db):
    db, store = demo_db
    files = db.exec(select(Attachment).order_by(Attachment.id)).all()
    assert {(a.entity, a.original_name) for a in files} >= {
        ("issue", "Northbridge reply - environment outage.txt"),
        ("risk", "County extract quality sample.csv"),
        ("lesson", "UAT data masking checklist.txt"),
    }
    for a in files:
        assert store.path_for(a.sha256).read_bytes()[:4] in (b"Nort", b"coun", b"Befo")
        event = db.exec(
            select(AuditEvent).where(
                AuditEvent.entity_type == a.entity, AuditEvent.entity_id == a.record_id, AuditEvent.action == "attach"
            )
        ).one()
        assert a.original_name in str(event.changes) and _aware(event.at) == _aware(a.uploaded_at)


def test_every_project_logs_decisions_some_settling_its_register_and_the_reports_list_them(demo_db):
    from tracker.reports.models import StatusReport  # as the reports' test above imports it

    db, _ = demo_db
    logged = db.exec(select(Project.key, LoggedDecision).join(Project, col(Project.id) == LoggedDecision.project_id))
    by_project: dict[str, list[LoggedDecision]] = {}
    for key, d in logged:
        by_project.setdefault(key, []).append(d)
    assert sorted(by_project) == ["CWS", "DMV", "UIM"]
    every = [d for ds in by_project.values() for d in ds]
    assert all(d.decided_by for d in every)
    assert {"issue", "risk", "change"} <= {
        name for d in every for name in ("issue", "risk", "change") if getattr(d, f"{name}_id")
    }
    manager = principal(db.exec(select(User).where(User.username == "mrivera")).one())
    access = get_for(db, manager, "CWS")
    merged = decision_log.for_reader(db, access, decision_log.LogQuery())
    assert {e.source for e in merged} == set(decision_log.Source)  # all four sources, read where they are kept
    reports_with = [
        r
        for r in db.exec(select(StatusReport).where(StatusReport.status == "published"))
        if r.content.get("decisions_taken")
    ]
    assert reports_with  # a published week lists the decisions taken in it


def test_the_demo_registers_carry_custom_fields_with_values_on_their_records_histories(demo_db):
    db, _ = demo_db
    labels = {(f.entity, f.label) for f in db.exec(select(CustomField))}
    assert {("risk", "Funding source"), ("issue", "Ticket ref"), ("issue", "Vendor SLA hours")} <= labels
    values = db.exec(select(CustomValue)).all()
    assert len(values) >= 10 and any(v.number_value is not None for v in values)
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "update")).all()
    assert any("Funding source" in e.changes for e in events)
