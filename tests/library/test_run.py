"""Running a report: each source's answer equals the same answer worked out here from the raw rows, with the
domain rules written out independently (days overdue, level bands, escalation age, overdue actions), and a run
only ever shows what the reader may see."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from tests.conftest import at_noon
from tests.library.conftest import definition, run
from tests.register.conftest import acting, make_issue, make_risk
from tracker.core.errors import Forbidden
from tracker.core.forms import parse
from tracker.deliverables.models import Comment, Deliverable, Submission
from tracker.projects.models import Project
from tracker.register.actions import service as actions
from tracker.register.actions.models import ActionItem
from tracker.register.issues.models import Issue
from tracker.register.risks.models import Risk

TODAY = date(2026, 11, 20)
STATUSES = ("planned", "submitted", "in_review", "accepted", "conditionally_accepted", "rejected", "withdrawn")


@pytest.fixture(autouse=True)
def _today(clock):
    clock.set(at_noon(TODAY))


def _project_id(db, world) -> int:
    _, access = acting(db, world, "manager")
    return access.project.id


@pytest.fixture
def deliverables(db, world) -> list[Deliverable]:
    """21 deliverables in every status, with clocks from five weeks late to two weeks ahead, and owners."""
    pid, owners = _project_id(db, world), (world.ids["staff"], world.ids["manager"], None)
    rows = []
    for i in range(21):
        day = TODAY + timedelta(days=i * 2 - 30)
        d = Deliverable(
            project_id=pid,
            code=f"D-{i:02d}",
            title=f"Deliverable {i}" + (" plan" if i % 4 == 0 else ""),
            type=("document", "plan", "training")[i % 3],
            status=STATUSES[i % 7],
            due_date=day,
            review_due=day + timedelta(days=3),
            resubmit_due=day - timedelta(days=2) if i % 2 else None,
            current_version=i % 3,
            owner_id=owners[i % 3],
            payment_amount=Decimal(1000 * i),
        )
        db.add(d)
        rows.append(d)
    db.flush()
    for d in rows[:6]:  # critical comments: open on the current version count; older versions and closed do not
        for number in range(1, d.current_version + 1):
            s = Submission(
                deliverable_id=d.id, number=number, submitted_by_id=world.ids["contractor"], review_due=TODAY
            )
            db.add(s)
            db.flush()
            db.add(Comment(submission_id=s.id, reviewer_id=world.ids["staff"], text="x", severity="critical"))
            db.add(
                Comment(
                    submission_id=s.id,
                    reviewer_id=world.ids["staff"],
                    text="y",
                    severity="critical",
                    disposition="resolved",
                )
            )
    db.flush()
    return rows


def _clock(d: Deliverable) -> date | None:
    return {
        "planned": d.due_date,
        "submitted": d.review_due,
        "in_review": d.review_due,
        "rejected": d.resubmit_due,
    }.get(d.status)


def _days_late(d: Deliverable) -> int:
    clock = _clock(d)
    return (TODAY - clock).days if clock and clock < TODAY else 0


def test_deliverables_by_days_overdue_equal_the_clocks_worked_out_here(db, world, deliverables):
    result = run(
        db,
        world,
        "viewer",
        definition(
            "deliverables",
            ["code", "status", "days_overdue", "overdue", "open_critical"],
            [("status", "in", ["planned", "submitted", "in_review", "rejected"]), ("days_overdue", "gte", 3)],
            sort=[("days_overdue", True)],
        ),
    )
    expected = sorted(
        (
            d
            for d in deliverables
            if d.status in ("planned", "submitted", "in_review", "rejected") and _days_late(d) >= 3
        ),
        key=lambda d: (-_days_late(d), d.id),
    )
    assert result.total == len(expected) > 3
    assert [r[0] for r in result.rows] == [d.code for d in expected]
    assert [r[2] for r in result.rows] == [_days_late(d) for d in expected]
    assert all(r[3] == "Yes" for r in result.rows)
    critical = {d.code: 1 if i < 6 and d.current_version else 0 for i, d in enumerate(deliverables)}  # one open each
    assert [r[4] for r in result.rows] == [critical[d.code] for d in expected]
    assert result.links[0] == f"/projects/TST/deliverables/{expected[0].id}"


@pytest.mark.parametrize(
    ("op", "n"), [("gte", 0), ("gte", 1), ("lte", 0), ("lte", 5), ("equals", 0), ("equals", 4), ("lte", -1)]
)
def test_every_days_overdue_filter_matches_the_figure_shown(db, world, deliverables, op, n):
    result = run(
        db,
        world,
        "viewer",
        definition("deliverables", ["code", "days_overdue"], [("days_overdue", op, n)], sort=[("days_overdue", False)]),
        limit=None,
    )
    test = {"gte": lambda v: v >= n, "lte": lambda v: v <= n, "equals": lambda v: v == n}[op]
    expected = sorted((d for d in deliverables if test(_days_late(d))), key=lambda d: (_days_late(d), d.id))
    assert [(r[0], r[1]) for r in result.rows] == [(d.code, _days_late(d)) for d in expected]


def test_deliverable_filters_on_text_choice_person_date_and_money(db, world, deliverables):
    result = run(
        db,
        world,
        "staff",
        definition(
            "deliverables",
            ["code", "owner", "payment_amount"],
            [
                ("title", "contains", "PLAN"),
                ("type", "in", ["document", "training"]),
                ("owner", "equals", "me"),
                ("due_date", "between", ["today-30", "today+10"]),
                ("payment_amount", "gte", 1000),
            ],
            sort=[("code", True)],
        ),
        limit=None,
    )
    expected = sorted(
        (
            d
            for d in deliverables
            if "plan" in d.title.lower()
            and d.type in ("document", "training")
            and d.owner_id == world.ids["staff"]
            and TODAY - timedelta(days=30) <= d.due_date <= TODAY + timedelta(days=10)
            and d.payment_amount >= 1000
        ),
        key=lambda d: d.code,
        reverse=True,
    )
    assert [r[0] for r in result.rows] == [d.code for d in expected] and expected
    assert {r[1] for r in result.rows} == {"Staff Person"}
    unassigned = run(
        db, world, "staff", definition("deliverables", ["code"], [("owner", "is_empty", None)]), limit=None
    )
    assert [r[0] for r in unassigned.rows] == sorted(d.code for d in deliverables if d.owner_id is None)


@pytest.fixture
def register(db, world):
    """Risks at every level and status, with mitigation and contingency actions open, done and late."""
    made = []
    for i, (p, im) in enumerate([(5, 5), (4, 5), (4, 4), (3, 4), (2, 5), (3, 3), (1, 4), (1, 1), (5, 4), (2, 2)]):
        status = ("open", "mitigating", "monitoring", "closed")[i % 4]
        made.append(
            make_risk(
                db,
                world,
                code=f"R-{i:03d}",
                probability=str(p),
                impact=str(im),
                status=status,
                raised_on=(TODAY - timedelta(days=10 * i)).isoformat(),
                next_review_date=(TODAY + timedelta(days=i - 4)).isoformat(),
                owner_id=str(world.ids["staff"] if i % 2 else world.ids["manager"]),
            )
        )
    actor, access = acting(db, world, "staff")
    plans = {
        0: [("mitigation", -3, False)],
        1: [("mitigation", 5, True), ("contingency", 5, False)],
        2: [("contingency", -1, False)],
        4: [("mitigation", 2, False), ("mitigation", -9, False)],
        8: [("mitigation", -2, True)],
    }
    for i, items in plans.items():
        for plan, due, done in items:
            item = actions.add(
                db,
                actor,
                access,
                made[i],
                parse(
                    actions.ActionForm,
                    {
                        "description": f"{plan} for {made[i].code}",
                        "plan": plan,
                        "owner_id": str(world.ids["staff"]),
                        "due_date": (TODAY + timedelta(days=due)).isoformat(),
                    },
                ),
            )
            if done:
                actions.set_done(db, actor, access, item, True, item.version)
    db.flush()
    return made


def _level(score: int) -> str:
    return "critical" if score >= 20 else "high" if score >= 10 else "medium" if score >= 5 else "low"


def test_day_filters_on_a_moment_count_the_projects_days_and_its_cells_read_in_the_readers_zone(
    db, world, deliverables
):
    """TST keeps Los Angeles time: its 20 November runs from 08:00 UTC that day to 08:00 UTC the next."""
    moments = {
        "D-00": datetime(2026, 11, 20, 7, 59, tzinfo=UTC),  # 23:59 on the 19th there
        "D-01": datetime(2026, 11, 20, 8, 0, tzinfo=UTC),  # midnight starting the 20th
        "D-02": datetime(2026, 11, 21, 7, 59, tzinfo=UTC),  # 23:59 on the 20th
        "D-03": datetime(2026, 11, 21, 8, 0, tzinfo=UTC),  # the 21st
    }
    for d in deliverables:
        d.updated_at = moments.get(d.code, datetime(2026, 10, 1, 12, tzinfo=UTC))
    db.flush()

    def codes(*filters: tuple) -> list[str]:
        result = run(db, world, "staff", definition("deliverables", ["code"], list(filters), sort=[("code", False)]))
        return [r[0] for r in result.rows]

    assert codes(("updated_at", "between", ["today", "today"])) == ["D-01", "D-02"]
    assert codes(("updated_at", "after", "today")) == ["D-03"]
    assert codes(("updated_at", "before", "today"), ("code", "contains", "D-0")) == [
        "D-00",
        *(f"D-0{i}" for i in range(4, 10)),
    ]
    assert codes(("updated_at", "is_empty", None)) == []
    result = run(db, world, "staff", definition("deliverables", ["code", "updated_at"], [("code", "equals", "D-02")]))
    assert (result.zone, result.moments) == ("America/Los_Angeles", [False, True])  # staff chose no zone
    (cell,) = [r[1] for r in result.rows]
    assert cell == moments["D-02"] and cell.tzinfo == ZoneInfo("America/Los_Angeles")


def test_critical_and_high_risks_without_open_mitigation_equal_the_register_worked_out_here(db, world, register):
    result = run(
        db,
        world,
        "viewer",
        definition(
            "risks",
            ["code", "score", "level", "open_mitigation_actions", "overdue_actions", "due_for_review"],
            [
                ("level", "in", ["critical", "high"]),
                ("status", "in", ["open", "mitigating", "monitoring"]),
                ("open_mitigation_actions", "equals", 0),
            ],
            sort=[("score", True)],
        ),
    )
    items = list(db.exec(select(ActionItem)))

    def open_mitigation(r: Risk) -> int:
        return sum(1 for a in items if a.risk_id == r.id and a.plan == "mitigation" and a.done_at is None)

    def late(r: Risk) -> int:
        return sum(1 for a in items if a.risk_id == r.id and a.done_at is None and a.due_date < TODAY)

    expected = sorted(
        (
            r
            for r in register
            if _level(r.probability * r.impact) in ("critical", "high")
            and r.status != "closed"
            and open_mitigation(r) == 0
        ),
        key=lambda r: (-r.probability * r.impact, r.id),
    )
    assert [row[0] for row in result.rows] == [r.code for r in expected] and len(expected) >= 2
    assert [row[1:] for row in result.rows] == [
        [
            r.probability * r.impact,
            _level(r.probability * r.impact).title(),
            0,
            late(r),
            "Yes" if r.next_review_date <= TODAY else "No",
        ]
        for r in expected
    ]


def test_risk_levels_sort_by_score_and_filter_by_band(db, world, register):
    result = run(
        db,
        world,
        "viewer",
        definition("risks", ["code", "level"], [("level", "equals", "medium")], sort=[("level", False)]),
        limit=None,
    )
    expected = sorted(
        (r for r in register if 5 <= r.probability * r.impact <= 9), key=lambda r: (r.probability * r.impact, r.id)
    )
    assert list(result.rows) == [[r.code, "Medium"] for r in expected]


@pytest.fixture
def issues(db, world):
    made = []
    for i, priority in enumerate(["critical", "high", "medium", "low"] * 3):
        status = ("open", "in_progress", "escalated", "resolved")[(i // 4 + i) % 4]
        extra = {"escalation_level": "executive", "escalation_reason": "x"} if status == "escalated" else {}
        extra |= {"resolution": "Done"} if status == "resolved" else {}
        made.append(
            make_issue(
                db,
                world,
                code=f"I-{i:03d}",
                priority=priority,
                status=status,
                raised_on=(TODAY - timedelta(days=7 * i)).isoformat(),
                need_by=(TODAY + timedelta(days=20 - 5 * i)).isoformat(),
                **extra,
            )
        )
    return made


ESCALATE_DAYS = {"critical": 3, "high": 10, "medium": 30, "low": 60}  # the register's defaults, written out


def test_issues_older_than_30_days_and_their_flags_equal_those_worked_out_here(db, world, issues):
    result = run(
        db,
        world,
        "viewer",
        definition(
            "issues",
            ["code", "priority", "age", "overdue", "needs_escalation"],
            [("status", "in", ["open", "in_progress", "escalated"]), ("raised_on", "before", "today-30")],
            sort=[("priority", False), ("raised_on", False)],
        ),
        limit=None,
    )
    rank = ["critical", "high", "medium", "low"]
    expected = sorted(
        (i for i in issues if i.status != "resolved" and i.raised_on < TODAY - timedelta(days=30)),
        key=lambda i: (rank.index(i.priority), i.raised_on, i.id),
    )
    assert [row[0] for row in result.rows] == [i.code for i in expected] and len(expected) >= 3

    def flagged(i: Issue) -> bool:
        return i.status in ("open", "in_progress") and (TODAY - i.raised_on).days > ESCALATE_DAYS[i.priority]

    assert [row[1:] for row in result.rows] == [
        [
            i.priority.title(),
            (TODAY - i.raised_on).days,
            "Yes" if i.need_by < TODAY else "No",
            "Yes" if flagged(i) else "No",
        ]
        for i in expected
    ]
    escalation = run(
        db,
        world,
        "viewer",
        definition("issues", ["code"], [("needs_escalation", "equals", True)], sort=[("code", False)]),
        limit=None,
    )
    assert [row[0] for row in escalation.rows] == sorted(i.code for i in issues if flagged(i))


def test_my_overdue_action_items_are_the_readers_own(db, world, register, issues):
    actor, access = acting(db, world, "manager")
    actions.add(
        db,
        actor,
        access,
        issues[0],
        parse(
            actions.ActionForm,
            {
                "description": "Call the vendor",
                "owner_id": str(world.ids["manager"]),
                "due_date": (TODAY - timedelta(days=1)).isoformat(),
            },
        ),
    )
    raw = definition(
        "actions",
        ["parent", "description", "owner", "due_date", "overdue"],
        [("owner", "equals", "me"), ("overdue", "equals", True)],
        sort=[("due_date", False)],
    )
    items = list(db.exec(select(ActionItem)))
    risk_codes, issue_codes = {r.id: r.code for r in register}, {i.id: i.code for i in issues}
    for role in ("staff", "manager"):
        mine = sorted(
            (a for a in items if a.owner_id == world.ids[role] and a.done_at is None and a.due_date < TODAY),
            key=lambda a: (a.due_date, a.id),
        )
        result = run(db, world, role, raw, limit=None)
        assert [row[:2] for row in result.rows] == [
            [risk_codes[a.risk_id] if a.risk_id else issue_codes[a.issue_id], a.description] for a in mine
        ]
        assert mine and all(row[4] == "Yes" for row in result.rows)
    assert result.links == [f"/projects/TST/issues/{issues[0].id}"]


def test_a_run_shows_only_the_readers_project_and_sources_they_may_see(db, world, register):
    make_risk(db, world, code="R-OTH")  # same project; then one in another project must never show
    other_id = db.exec(select(Project.id).where(Project.key == "OTH")).one()
    other_risk = Risk(project_id=other_id, code="R-X", title="Elsewhere", probability=5, impact=5, raised_on=TODAY)
    db.add(other_risk)
    db.flush()
    raw = definition("risks", ["code"], sort=[("code", False)])
    assert "R-X" not in [row[0] for row in run(db, world, "viewer", raw, limit=None).rows]
    with pytest.raises(Forbidden):
        run(db, world, "contractor", raw)


def test_sql_looking_input_is_a_value_never_sql(db, world, register):
    hostile = "'; DROP TABLE risk; --"
    result = run(db, world, "viewer", definition("risks", ["code"], [("title", "contains", hostile)]))
    assert result.total == 0 and result.rows == []
    assert len(db.exec(select(Risk)).all()) == len(register)
    make_risk(db, world, code="R-HOST", title=f"100% of {hostile}")
    found = run(db, world, "viewer", definition("risks", ["code"], [("title", "contains", "100% of '; drop")]))
    assert [row[0] for row in found.rows] == ["R-HOST"]
    assert run(db, world, "viewer", definition("risks", ["code"], [("title", "contains", "%")])).total == 1
