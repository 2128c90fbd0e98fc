"""The status report's content: every figure against the same figure computed here from the raw rows, the period's
edges in the project's time zone, the record as it stood at a past period's end, and a fixed query count."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from tests.conftest import at_noon
from tests.register.conftest import acting, make_issue, make_risk
from tests.reports.conftest import plan
from tracker.core.calendar import business_days_between
from tracker.core.clock import deadline_state, frozen_time, utcnow
from tracker.core.errors import StaleEdit
from tracker.core.forms import parse
from tracker.deliverables import conditions, planning, reviews
from tracker.deliverables import decisions as deliverable_decisions
from tracker.deliverables import service as deliverables
from tracker.deliverables.models import Decision, Deliverable, Submission
from tracker.projects.calendar import project_holidays, project_today
from tracker.projects.models import Project
from tracker.register import common
from tracker.register.actions.models import ActionItem
from tracker.register.decisions.models import LoggedDecision
from tracker.register.issues import service as issues
from tracker.register.issues.models import Issue
from tracker.register.risks import service as risks
from tracker.register.risks.models import Risk
from tracker.reports import documents, scorecard
from tracker.reports import service as reports
from tracker.reports.models import StatusReport
from tracker.reports.periods import Period, week_ending


def _draft(db, record, period=None):
    period = period or record.week
    return reports.build(db, record.project, period, reports.draft_for(db, record.project, period))


def _local(project: Project, at: datetime) -> date:
    return at.astimezone(ZoneInfo(project.timezone)).date()


def test_every_figure_equals_the_same_figure_computed_from_the_raw_rows(db, world, record):
    c = _draft(db, record)
    p, today, week = record.project, record.today, record.week
    inside = lambda day: week.start <= day <= week.end  # noqa: E731

    # Deliverable pipeline: counts by state.
    states = Counter(db.exec(select(Deliverable.status).where(Deliverable.project_id == p.id)).all())
    assert {s["status"]: s["count"] for s in c["pipeline"] if s["count"]} == dict(states)
    assert sum(s["count"] for s in c["pipeline"]) == 6

    # Overdue clocks.
    rows = db.exec(select(Deliverable).where(Deliverable.project_id == p.id).order_by(Deliverable.code)).all()
    late = {
        "reviews": [
            (d.code, (today - d.review_due).days)
            for d in rows
            if d.status in ("submitted", "in_review") and d.review_due < today
        ],
        "resubmissions": [
            (d.code, (today - d.resubmit_due).days) for d in rows if d.status == "rejected" and d.resubmit_due < today
        ],
        "deliveries": [
            (d.code, (today - d.due_date).days) for d in rows if d.status == "planned" and d.due_date < today
        ],
        "conditions": [],
    }  # fmt: skip  (no conditional acceptance in this record: see the test below)
    assert {k: sorted((x["code"], x["days"]) for x in v) for k, v in c["overdue"].items()} == late
    assert late["deliveries"] == [("D-01", 20)] and late["reviews"][0][0] == "D-03"
    # Upcoming: every running clock that falls due in the next two weeks, by the one rule that says so.
    soon = {
        kind: sorted(
            d.code
            for d in rows
            if d.status in ("planned", "rejected")
            and deadline_state(deliverables.running_clock(d), today) == "upcoming"
            and (d.status == "rejected") == (kind == "resubmission")
        )
        for kind in ("delivery", "resubmission")
    }
    assert soon["delivery"] == ["D-02"]
    assert sorted(x["code"] for x in c["upcoming"]["deliverables"] if x["what"] == "Delivery due") == soon["delivery"]
    assert (
        sorted(x["code"] for x in c["upcoming"]["deliverables"] if x["what"] == "Resubmission due")
        == soon["resubmission"]
    )
    assert len(c["upcoming"]["deliverables"]) == len(soon["delivery"]) + len(soon["resubmission"])

    # Accepted in the period.
    accepted = db.exec(
        select(Deliverable.code)
        .join(Decision, col(Decision.deliverable_id) == Deliverable.id)
        .where(Deliverable.project_id == p.id, col(Decision.outcome).in_(["accepted"]))
    ).all()
    assert [x["code"] for x in c["accomplishments"]["accepted"]] == list(accepted) == ["D-04"]

    # Scorecard: on-time submission, first pass, turnaround, issue resolution; computed from the rows.
    subs = db.exec(select(Submission).join(Deliverable).where(Deliverable.project_id == p.id)).all()
    in_week = [s for s in subs if inside(_local(p, s.submitted_at)) and s.due_on is not None]
    on_time = sum(_local(p, s.submitted_at) <= s.due_on for s in in_week) / len(in_week)
    decisions = db.exec(
        select(Decision, Submission)
        .join(Submission, col(Submission.id) == Decision.submission_id)
        .join(Deliverable)
        .where(Deliverable.project_id == p.id)
    ).all()
    decided = [(d, s) for d, s in decisions if inside(_local(p, d.decided_at))]
    first = [d for d, s in decided if s.number == 1]
    first_pass = sum(d.outcome in ("accepted", "conditionally_accepted", "deemed_accepted") for d in first) / len(first)
    holidays = project_holidays(p, today - timedelta(days=60), days=120)
    turnaround = sum(
        business_days_between(_local(p, s.submitted_at), _local(p, d.decided_at), holidays) <= p.review_days
        for d, s in decided
    ) / len(decided)
    resolved = db.exec(select(Issue).where(Issue.project_id == p.id, col(Issue.resolved_on).is_not(None))).all()
    in_time = [(i.resolved_on - i.raised_on).days <= scorecard.ISSUE_TARGET_DAYS[i.priority] for i in resolved]
    card = {m["key"]: m for m in c["scorecard"]}
    assert card["on_time_submission_rate"]["value"] == on_time == 0.5
    assert card["first_pass_acceptance_rate"]["value"] == first_pass == 0.5
    assert card["review_turnaround_rate"]["value"] == turnaround == 1.0
    assert card["issue_resolution_rate"]["value"] == sum(in_time) / len(in_time) == 1.0
    assert card["on_time_submission_rate"]["met"] is False and card["review_turnaround_rate"]["met"] is True

    # Top risks by score, and the open ones on the heat map.
    raw = db.exec(
        select(Risk).where(Risk.project_id == p.id, col(Risk.status).in_(["open", "mitigating", "monitoring"]))
    ).all()
    top = sorted(((r.probability * r.impact, r.code) for r in raw), key=lambda t: (-t[0], t[1]))[: reports.TOP_RISKS]
    assert (
        [(x["score"], x["code"]) for x in c["top_risks"]]
        == top
        == [(25, "R-001"), (20, "R-002"), (12, "R-003"), (6, "R-006"), (4, "R-004")]
    )
    assert sum(n for _, _, n in c["heat_map"]) == len(raw) == c["counts"]["risks_open"]
    assert [x["mitigations"] for x in c["top_risks"][:2]] == [0, 1]
    assert [x["code"] for x in c["accomplishments"]["risks_closed"]] == ["R-005"]

    # New in the period, escalation, overdue action items.
    all_risks = db.exec(select(Risk).where(Risk.project_id == p.id)).all()
    assert sorted(x["code"] for x in c["new_risks"]) == sorted(r.code for r in all_risks if inside(r.raised_on))
    all_issues = db.exec(select(Issue).where(Issue.project_id == p.id)).all()
    assert sorted(x["code"] for x in c["new_issues"]) == sorted(i.code for i in all_issues if inside(i.raised_on))
    settings = common.settings_for(db, p.id)
    too_old = lambda i: (today - i.raised_on).days > settings.escalate_days(i.priority)  # noqa: E731
    flagged = {
        i.code for i in all_issues if i.status == "escalated" or (i.status in ("open", "in_progress") and too_old(i))
    }
    assert {x["code"] for x in c["escalations"]} == flagged == {"I-002", "I-003"}
    items = db.exec(
        select(ActionItem).where(
            ActionItem.project_id == p.id, col(ActionItem.done_at).is_(None), col(ActionItem.due_date) < today
        )
    ).all()
    assert [x["id"] for x in c["overdue_actions"]] == [a.id for a in items] == [record.ids["late-action"]]
    assert [x["code"] for x in c["accomplishments"]["issues_resolved"]] == ["I-004"]


def test_the_rag_follows_the_rules_written_on_the_report(db, world, record):
    c = _draft(db, record)
    areas = {a["area"]: a for a in c["rag"]["areas"]}
    assert {k: a["rag"] for k, a in areas.items()} == {
        "overall": "red",
        "deliverables": "red",
        "risks": "red",
        "issues": "red",
    }
    fired = {r["text"]: r["reasons"] for r in c["rag"]["rules"] if r["fired"]}
    assert fired["A delivery or resubmission is overdue by more than 10 days."] == ["D-01 (20 days)"]
    assert fired["A critical risk is open without an open mitigation action."] == ["R-001"]
    assert fired["A critical issue is unresolved past its need-by date."] == ["I-001"]
    assert "3 or more critical risks are open." not in fired

    record.project.rag_thresholds = {"delivery_overdue_red_days": 25}  # the project's own threshold
    c = _draft(db, record)
    fired = {r["text"] for r in c["rag"]["rules"] if r["fired"]}
    assert "A delivery or resubmission is overdue by more than 25 days." not in fired
    assert "A delivery or resubmission is overdue by more than 25 days." in {r["text"] for r in c["rag"]["rules"]}


def test_a_managers_override_stands_with_its_rationale_and_the_overall_follows(db, world, record):
    manager, access = acting(db, world, "manager")
    form = parse(
        reports.DraftForm,
        {"number": 1, "rag_risks": "amber", "why_risks": "R-001 mitigation agreed today", "summary": "Steady"},
    )
    reports.save_draft(db, manager, access, record.week, form)
    areas = {a["area"]: a for a in _draft(db, record)["rag"]["areas"]}
    assert areas["risks"] == {
        "area": "risks",
        "label": "Risks",
        "computed": "red",
        "rag": "amber",
        "overridden": True,
        "rationale": "R-001 mitigation agreed today",
    }
    assert areas["overall"]["rag"] == "red"  # deliverables and issues are still red


def _decision_at(db, d: Deliverable, at: datetime, user_id: int) -> None:
    s = Submission(
        deliverable_id=d.id,
        number=1,
        submitted_by_id=user_id,
        submitted_at=at - timedelta(days=1),
        review_due=at.date(),
        due_on=at.date(),
    )
    db.add(s)
    db.flush()
    db.add(Decision(deliverable_id=d.id, submission_id=s.id, outcome="accepted", decided_at=at, findings=""))


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Tokyo"])
def test_a_period_runs_from_local_midnight_inclusive_to_local_midnight_exclusive(db, world, zone):
    """Week ending Fri 20 Nov 2026: a decision at 23:59:59 on the Friday, local time, is in it; one at 00:00 on the
    Saturday is in the next week, whatever the UTC date of either."""
    project = db.exec(select(Project).where(Project.key == "TST")).one()
    project.timezone = zone
    week = Period(date(2026, 11, 14), date(2026, 11, 20))
    tz = ZoneInfo(zone)
    edges = {
        "first": datetime(2026, 11, 14, 0, 0, tzinfo=tz),
        "before": datetime(2026, 11, 13, 23, 59, 59, tzinfo=tz),
        "last": datetime(2026, 11, 20, 23, 59, 59, tzinfo=tz),
        "after": datetime(2026, 11, 21, 0, 0, tzinfo=tz),
    }
    for name, at in edges.items():
        with frozen_time(at - timedelta(days=3)):
            _decision_at(
                db, plan(db, world, name.upper(), date(2026, 11, 1)), at.astimezone(UTC), world.ids["contractor"]
            )
    w = reports.window(project, week, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert (w.start_at, w.end_at) == (edges["first"].astimezone(UTC), edges["after"].astimezone(UTC)) and w.closed
    c = reports.build(db, project, week, reports.draft_for(db, project, week), now=datetime(2026, 12, 1, tzinfo=UTC))
    assert sorted(x["code"] for x in c["accomplishments"]["accepted"]) == ["FIRST", "LAST"]
    assert c["period"]["starts"].startswith("14 Nov 2026 00:00 ") and c["period"]["ends"].startswith(
        "21 Nov 2026 00:00 "
    )
    assert c["period"]["as_of"] == "2026-11-20"  # the period is over: figures as at its last day


def test_open_conditions_are_overdue_or_upcoming_as_they_stood_at_the_periods_end(db, world, record, store, clock):
    from tests.reports.conftest import submit

    manager, access = acting(db, world, "manager")
    d = plan(db, world, "D-07", record.today - timedelta(days=5))
    submit(db, world, d, store)
    reviews.start_review(db, manager, access, d)
    deliverable_decisions.decide(
        db,
        manager,
        access,
        d,
        parse(
            deliverable_decisions.DecisionForm,
            {
                "outcome": "conditionally_accepted",
                "conditions": "Fix typos\nAdd the index\nSign the annex",
                "conditions_due": record.today.isoformat(),
                "conditions_owner_id": str(world.ids["contractor"]),
            },
        ),
        store=store,
    )
    typos, index, annex = conditions.open_of(db, d.id)
    for c, due in ((index, record.today + timedelta(days=10)), (annex, record.today + timedelta(days=40))):
        conditions.update(db, manager, access, d, c.id, parse(conditions.ConditionForm, {"due_date": due.isoformat()}))
    clock.set(at_noon(record.today + timedelta(days=3)))  # three days on the typos are three days late; then fixed
    week = week_ending(project_today(access.project))
    now = _draft(db, record, week)
    assert [(x["title"], x["days"], x["owner"]) for x in now["overdue"]["conditions"]] == [
        ("condition 1: Fix typos", 3, "Contractor Person")
    ]
    assert [x["title"] for x in now["upcoming"]["deliverables"] if x["what"] == "Condition due"] == [
        "condition 2: Add the index"
    ]  # in ten days; the annex's forty are beyond the two weeks
    assert now["counts"]["conditions_overdue"] == 1
    clock.advance(hours=1)
    deliverable_decisions.confirm_condition(db, manager, access, d, typos.id, "Fixed in v1.1", store=store)
    assert _draft(db, record, week)["overdue"]["conditions"] == []
    assert [t.name for t in documents.TABLES if t.name == "overdue-conditions"] == ["overdue-conditions"]


def test_a_past_period_reads_the_record_as_it_stood_at_its_end(db, world, record, store):
    """Changes after a period's end do not leak into its report: scores, statuses and new records stay as they were."""
    from tests.reports.conftest import submit

    last_week = record.week.previous()
    staff, access = acting(db, world, "staff")
    with frozen_time(utcnow() - timedelta(days=60)):
        old = make_risk(db, world, code="R-OLD", title="Old", probability="2", impact="2")
        old_issue = make_issue(db, world, code="I-OLD", title="Old", priority="low")
        planned = plan(db, world, "D-OLD", record.today + timedelta(days=90))
    # Everything else in `record` was created this week: none of it existed at the end of last week.
    risks.update(db, staff, access, old, parse(risks.RiskForm, risks.form_values(db, old) | {"probability": "5"}))
    issues.update(
        db,
        staff,
        access,
        old_issue,
        parse(issues.IssueForm, issues.form_values(db, old_issue) | {"status": "resolved", "resolution": "Done"}),
    )
    submit(db, world, planned, store)
    with frozen_time(utcnow() - timedelta(days=60)):  # due long after last week when planned; moved up since
        moved = plan(db, world, "D-MOVED", record.today + timedelta(days=60))
    manager, m_access = acting(db, world, "manager")
    planning.update(
        db,
        manager,
        m_access,
        moved,
        parse(
            planning.DeliverableForm,
            {"code": "D-MOVED", "title": "Moved", "due_date": (last_week.end - timedelta(days=1)).isoformat()},
        ),
    )
    db.commit()
    c = _draft(db, record, last_week)
    assert c["overdue"]["deliveries"] == []  # D-MOVED was not due yet as last week ended
    assert [(x["code"], x["score"]) for x in c["top_risks"]] == [("R-OLD", 4)]
    assert {s["status"]: s["count"] for s in c["pipeline"] if s["count"]} == {"planned": 2, "submitted": 1}
    assert c["counts"]["issues_open"] == 1 and c["accomplishments"]["issues_resolved"] == []
    assert c["period"]["closed"] and c["period"]["as_of"] == last_week.end.isoformat()
    now = _draft(db, record)
    assert ("R-OLD", 10) in [(x["code"], x["score"]) for x in now["top_risks"]]
    assert "I-OLD" in [x["code"] for x in now["accomplishments"]["issues_resolved"]]


def test_a_published_snapshot_never_changes_and_the_next_draft_shows_the_edits(db, world, record):
    manager, access = acting(db, world, "manager")
    draft = _draft(db, record)
    report = reports.publish(db, manager, access, record.week, 1, None)
    db.commit()
    stored = dict(report.content)
    assert stored == draft and report.rag == "red"

    staff, s_access = acting(db, world, "staff")
    r1 = db.get(Risk, record.ids["R-001"])
    risks.update(db, staff, s_access, r1, parse(risks.RiskForm, risks.form_values(db, r1) | {"probability": "1"}))
    i1 = db.get(Issue, record.ids["I-001"])
    issues.update(
        db,
        staff,
        s_access,
        i1,
        parse(issues.IssueForm, issues.form_values(db, i1) | {"status": "resolved", "resolution": "Vendor fixed it"}),
    )
    db.commit()
    db.expire_all()
    again = db.get(StatusReport, report.id)
    assert again.content == stored and again.rag == "red"
    nxt = _draft(db, record)  # the period's next draft: version 2, computed from the record as it is now
    assert reports.draft_for(db, record.project, record.week).number == 2
    assert ("R-001", 5) in [(x["code"], x["score"]) for x in nxt["top_risks"]]
    assert "I-001" in [x["code"] for x in nxt["accomplishments"]["issues_resolved"]]
    assert "R-001" not in {r for rule in nxt["rag"]["rules"] for r in rule["reasons"]}


def test_the_database_itself_refuses_to_change_a_published_report(db, world, record):
    manager, access = acting(db, world, "manager")
    report = reports.publish(db, manager, access, record.week, 1, None)
    db.commit()
    for statement in (
        "UPDATE status_report SET summary = 'x' WHERE id = :id",
        "DELETE FROM status_report WHERE id = :id",
    ):
        with pytest.raises(IntegrityError, match="never changed"), db.begin_nested():  # a 409 for a user, not a 500
            db.execute(text(statement), {"id": report.id})
    draft = reports.save_draft(db, manager, access, record.week, parse(reports.DraftForm, {"number": 2}))
    draft.summary = "a draft is edited freely"
    db.commit()


def test_trend_arrows_compare_with_the_previous_published_report_not_drafts(db, world, record):
    manager, access = acting(db, world, "manager")
    staff, s_access = acting(db, world, "staff")
    two_ago = Period(record.week.start - timedelta(weeks=2), record.week.end - timedelta(weeks=2))
    one_ago = record.week.previous()
    with frozen_time(utcnow() - timedelta(weeks=5)):
        risk = make_risk(db, world, code="R-T", title="Trend", probability="4", impact="3")  # 12
    reports.publish(db, manager, access, two_ago, 1, None)
    zone = ZoneInfo(record.project.timezone)
    with frozen_time(datetime.combine(one_ago.end, time(12), zone)):
        risks.update(db, staff, s_access, risk, parse(risks.RiskForm, risks.form_values(db, risk) | {"impact": "5"}))
    reports.save_draft(db, manager, access, one_ago, parse(reports.DraftForm, {"number": 1, "summary": "unpublished"}))
    db.commit()

    c = _draft(db, record)
    x = next(x for x in c["top_risks"] if x["code"] == "R-T")
    assert (x["score"], x["previous"], x["trend"]) == (20, 12, "up")  # against two weeks ago, not last week's draft
    assert c["compared_with"]["label"] == two_ago.label
    assert next(x for x in c["top_risks"] if x["code"] == "R-001")["trend"] == "new"

    reports.publish(db, manager, access, one_ago, 1, 1)  # as its week closed: 20
    c = _draft(db, record)
    x = next(x for x in c["top_risks"] if x["code"] == "R-T")
    assert (x["score"], x["previous"], x["trend"]) == (20, 20, "same")
    assert c["compared_with"]["label"] == one_ago.label


def test_a_correction_is_version_two_and_supersedes_version_one(db, world, record):
    manager, access = acting(db, world, "manager")
    reports.save_draft(db, manager, access, record.week, parse(reports.DraftForm, {"number": 1, "summary": "First"}))
    v1 = reports.publish(db, manager, access, record.week, 1, 1)
    draft = reports.draft_for(db, record.project, record.week)
    assert (draft.id, draft.number, draft.summary) == (None, 2, "First")
    reports.save_draft(db, manager, access, record.week, parse(reports.DraftForm, {"number": 2, "summary": "Fixed"}))
    v2 = reports.publish(db, manager, access, record.week, 2, 1)
    rows = reports.published(db, record.project.id)
    assert [(r.report.id, r.report.number, r.superseded) for r in rows] == [(v2.id, 2, False), (v1.id, 1, True)]
    assert (v1.content["narrative"]["summary"], v2.content["narrative"]["summary"]) == ("First", "Fixed")
    with pytest.raises(StaleEdit):  # someone holding version 1's draft cannot publish over the correction
        reports.publish(db, manager, access, record.week, 2, 1)


def test_a_stale_narrative_edit_is_refused(db, world, record):
    manager, access = acting(db, world, "manager")
    reports.save_draft(db, manager, access, record.week, parse(reports.DraftForm, {"number": 1, "summary": "A"}))
    with pytest.raises(StaleEdit) as err:  # loaded before the first save: no version then
        reports.save_draft(db, manager, access, record.week, parse(reports.DraftForm, {"number": 1, "summary": "B"}))
    assert err.value.current["summary"] == "A"
    saved = reports.save_draft(
        db, manager, access, record.week, parse(reports.DraftForm, {"number": 1, "version": 1, "summary": "B"})
    )
    assert (saved.summary, saved.version) == ("B", 2)


def test_the_report_costs_a_fixed_number_of_queries_however_large_the_record(db, world, record, count_queries, as_user):
    manager = as_user("manager")
    with count_queries() as small:
        _draft(db, record)
    with count_queries() as small_page:
        assert manager.get("/projects/TST/status-reports/draft").status_code == 200
    p = record.project
    today = record.today
    db.add_all(
        [
            Deliverable(
                project_id=p.id,
                code=f"B-{n:03d}",
                title="Bulk",
                due_date=today - timedelta(days=n % 30),
                status="planned",
            )
            for n in range(300)
        ]
    )
    db.add_all(
        [
            Risk(
                project_id=p.id,
                code=f"BR-{n:04d}",
                title="Bulk",
                probability=1 + n % 5,
                impact=1 + n % 4,
                raised_on=today,
            )
            for n in range(1000)
        ]
    )
    db.add_all(
        [
            Issue(
                project_id=p.id,
                code=f"BI-{n:04d}",
                title="Bulk",
                priority="medium",
                raised_on=today - timedelta(days=n % 100),
            )
            for n in range(1500)
        ]
    )
    db.add_all(
        [
            LoggedDecision(project_id=p.id, code=f"BD-{n:03d}", title="Bulk", decided_by="Board", decided_on=today)
            for n in range(200)
        ]
    )
    db.commit()
    with count_queries() as large:
        c = _draft(db, record)
    assert c["counts"]["risks_open"] == 1005 and c["counts"]["issues_open"] == 1504
    assert len(c["decisions_taken"]) >= 200
    # 24, and the period's decisions: one query for each of the decision log's four sources
    assert large.count == small.count <= 28, (small.count, large.count)
    with count_queries() as large_page:
        assert manager.get("/projects/TST/status-reports/draft").status_code == 200
    assert large_page.count == small_page.count


def test_periods_from_a_form(db, world):
    project = db.exec(select(Project).where(Project.key == "TST")).one()
    today = project_today(project)
    assert reports.period_of(project, reports.PeriodForm()) == week_ending(today)
    assert reports.period_of(project, reports.PeriodForm(period_end=date(2026, 1, 7))) == week_ending(date(2026, 1, 7))
    custom = reports.period_of(project, reports.PeriodForm(period_start=date(2026, 1, 1), period_end=date(2026, 3, 31)))
    assert (custom.start, custom.end, custom.label) == (date(2026, 1, 1), date(2026, 3, 31), "1 Jan 2026 – 31 Mar 2026")
