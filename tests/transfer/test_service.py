"""Import and export of the registers through the service: the round trip, header matching, row errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from tests.conftest import tst_today
from tests.register.conftest import acting
from tests.transfer.conftest import TRICKY
from tracker.audit.models import AuditEvent
from tracker.core.errors import Conflict, FormError
from tracker.core.spreadsheet import read_table
from tracker.deliverables.models import Deliverable
from tracker.projects import service as projects
from tracker.projects.models import Project
from tracker.register.actions.models import ActionItem
from tracker.register.issues.models import Issue, IssueDecision
from tracker.register.risks.models import Risk
from tracker.transfer import service as transfer
from tracker.transfer.columns import ISSUES, RISKS


def _oth(db, world, role="staff"):
    actor, _ = acting(db, world, role)
    return actor, projects.get_for(db, actor, "OTH")


def _plan(db, world, register, name, body, mapping=None):
    _, access = _oth(db, world)
    sheet = read_table(name, body)
    return transfer.build_plan(db, access, register, sheet, mapping or transfer.auto_mapping(register, sheet.headers))


def _import(db, world, register, name, body, **kw):
    plan = _plan(db, world, register, name, body)
    actor, access = _oth(db, world)
    return plan, transfer.run(db, actor, access, plan, **kw)


def _csv(text: str) -> bytes:
    return text.encode()


def test_export_then_import_into_an_empty_project_then_export_again_gives_the_same_rows(db, world, register, other):
    _, tst = acting(db, world, "staff")
    _, oth = _oth(db, world)
    for reg in (RISKS, ISSUES):  # risks first: issues name the risk they came from
        body, media, name = transfer.export_file(db, tst, reg, None, "xlsx")
        assert name.startswith(f"TST-{reg.kind}-") and name.endswith(".xlsx") and "spreadsheet" in media
        plan, written = _import(db, world, reg, name, body)
        assert [(r.action, r.errors) for r in plan.rows] == [("create", {})] * len(plan.rows)
        assert transfer.export_table(db, oth, reg) == transfer.export_table(db, tst, reg)
        # The same register as CSV reads as the same cells: importing it changes nothing.
        plan, written = _import(db, world, reg, "again.csv", transfer.export_file(db, tst, reg, None, "csv")[0])
        assert {r.action for r in plan.rows} == {"unchanged"} and written == []
    realized = db.exec(select(Risk).where(Risk.project_id == oth.project.id, Risk.code == "R-001")).one()
    issue = db.exec(select(Issue).where(Issue.project_id == oth.project.id, Issue.code == "I-001")).one()
    assert realized.status == "realized" and issue.risk_id == realized.id


def test_formula_like_and_html_text_is_stored_literally_and_neutralised_in_the_export(db, world, register, other):
    _, tst = acting(db, world, "staff")
    body = transfer.export_file(db, tst, ISSUES, None, "csv")[0].decode("utf-8-sig")
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body
    _import(db, world, RISKS, "r.xlsx", transfer.export_file(db, tst, RISKS, None, "xlsx")[0])
    _import(db, world, ISSUES, "i.csv", body.encode())
    stored = db.exec(select(Issue.title).where(Issue.code == "I-002").order_by(Issue.id)).all()
    assert stored == [TRICKY[:200]] * 2


def test_common_pmo_headers_are_matched_and_computed_columns_are_not_imported(db, world):
    headers = [
        "Risk ID",
        "Risk Title",
        "Description",
        "Likelihood",
        "Impact",
        "Risk Score",
        "RAG",
        "Mitigation",
        "Risk Owner",
        "Date Raised",
        "Comments",
    ]
    mapping = transfer.auto_mapping(RISKS, headers)
    assert [mapping.get(i) for i in range(len(headers))] == [
        "code",
        "title",
        "statement",
        "probability",
        "impact",
        "score",
        "level",
        "mitigation_plan",
        "owner",
        "raised_on",
        None,
    ]
    assert transfer.check_mapping(RISKS, headers, mapping) == {
        0: "code",
        1: "title",
        2: "statement",
        3: "probability",
        4: "impact",
        7: "mitigation_plan",
        8: "owner",
        9: "raised_on",
    }
    issue_headers = ["Issue #", "Issue", "Severity", "Assigned To", "Target Date", "Status", "Related Risk"]
    assert transfer.auto_mapping(ISSUES, issue_headers) == {
        0: "code",
        1: "title",
        2: "priority",
        3: "owner",
        4: "need_by",
        5: "status",
        6: "risk",
    }


def test_a_mapping_needs_the_required_fields_once_each(db, world):
    with pytest.raises(FormError) as exc:
        transfer.check_mapping(RISKS, ["A", "B", "C"], {0: "title", 1: "title", 2: "nonsense"})
    assert exc.value.errors == {
        "column-1": "Title already comes from column A.",
        "column-2": "Choose a field from the list.",
        "__all__": "Choose the column that holds the Probability and the Impact.",
    }


PMO_SHEET = """Ref,Risk,Likelihood,Impact,Owner,Status,Date identified,Review date,Deliverable,Mitigation actions
R-10,Vendor late,Likely,4 - Major,staff@example.gov,Active,03/05/2026,46100,D-01,Call the vendor | Staff Person | 2026-04-01
R-11,,7,Huge,Nobody,Sleeping,31/31/2026,soon,D-99,Ok | | | maybe
R-10,Duplicate,1,1,,,,,,
,No code given,Rare,negligible,Viewer Person,,,,,
"""


def test_every_row_is_read_with_row_numbered_errors_and_nothing_is_written_unless_only_valid(
    db, world, register, other
):
    plan = _plan(db, world, RISKS, "pmo.csv", _csv(PMO_SHEET))
    assert [(r.number, r.action) for r in plan.rows] == [(2, "create"), (3, "invalid"), (4, "invalid"), (5, "create")]
    good, bad, dup, _ = plan.rows
    assert good.values | good.extra == {
        "code": "R-10",
        "title": "Vendor late",
        "probability": 4,
        "impact": 4,
        "owner_id": world.ids["staff"],
        "status": "open",
        "raised_on": "2026-03-05",
        "next_review_date": "2026-03-19",
        "deliverable_ids": [
            db.exec(select(Deliverable.id).join(Project).where(Project.key == "OTH", Deliverable.code == "D-01")).one()
        ],
        "mitigation_actions": [
            {
                "description": "Call the vendor",
                "owner_id": world.ids["staff"],
                "due_date": "2026-04-01",
                "done": False,
                "done_on": "",
            }
        ],
    }
    assert bad.errors == {
        "Title": "Title is required.",
        "Probability": "Choose a value from 1 to 5.",
        "Impact": "Give 1 to 5 or one of: negligible, minor, moderate, major, severe.",
        "Owner": "“Nobody” is not a member of this project who can see the register (give a username, email or "
        "full name).",
        "Status": "Choose one of: Open, Mitigating, Monitoring, Closed, Realized.",
        "Raised on": "Enter a date as YYYY-MM-DD or MM/DD/YYYY.",
        "Next review": "Enter a date as YYYY-MM-DD or MM/DD/YYYY.",
        "Deliverables": "No deliverable D-99 in this project.",
        "Mitigation actions": "Line 1: write open, or done with the day it was done, not “maybe”.",
    }
    assert dup.errors == {
        "Risk ID": "R-10 is also on row 2.",
        "Owner": "An open, mitigating or monitoring risk needs an owner: choose who answers for it.",
    }
    actor, access = _oth(db, world)
    events = db.exec(select(func.count()).select_from(AuditEvent)).one()
    with pytest.raises(FormError) as exc:
        transfer.run(db, actor, access, plan)
    assert exc.value.detail == "2 row(s) have errors; nothing was imported."
    assert db.exec(select(Risk).where(Risk.project_id == access.project.id)).all() == []
    assert db.exec(select(func.count()).select_from(AuditEvent)).one() == events
    written = transfer.run(db, actor, access, plan, only_valid=True, filename="pmo.csv")
    assert [(r.number, r.record.code) for r in written] == [(2, "R-10"), (5, "R-011")]
    items = db.exec(select(ActionItem.description).where(ActionItem.risk_id == written[0].record.id)).all()
    assert items == ["Call the vendor"]
    summary = db.exec(select(AuditEvent).where(AuditEvent.action == "import_risks")).one()
    assert summary.changes == {"file": [None, "pmo.csv"], "created": [None, 2], "updated": [None, 0]}
    assert db.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "risk")).one() >= 3


def test_a_known_code_updates_that_record_with_the_version_the_preview_saw(db, world, register, other):
    actor, tst = acting(db, world, "staff")
    sheet = _csv(
        "Risk ID,Title,Probability,Impact,Mitigation actions\n"
        "R-003,Key staff leave,5,2,Name deputies | | | done 2026-01-10\nR-002,Closed one,1,1,\n"
        "R-001,County data quality,3,4,\n"
    )
    mapping = {0: "code", 1: "title", 2: "probability", 3: "impact", 4: "mitigation_actions"}
    plan = transfer.build_plan(db, tst, RISKS, read_table("u.csv", sheet), mapping)
    assert [(r.action, r.changed) for r in plan.rows] == [
        ("update", ["Impact", "Mitigation actions"]),
        ("unchanged", []),
        ("unchanged", []),
    ]
    seen = plan.seen
    r1, r3 = (
        db.exec(select(Risk).where(Risk.project_id == tst.project.id, Risk.code == c)).one() for c in ("R-001", "R-003")
    )
    r1.title = "Changed after the preview"  # R-001 would now be updated back, but not from a stale preview
    db.flush()
    plan = transfer.build_plan(db, tst, RISKS, read_table("u.csv", sheet), mapping)
    with pytest.raises(Conflict) as exc:
        transfer.run(db, actor, tst, plan, seen=seen)
    assert exc.value.detail.startswith("Row 4: R-001 was changed after the preview; nothing was imported.")
    db.refresh(r3)
    assert r3.impact == 5  # row 2 was rolled back with the rest
    transfer.run(db, actor, tst, plan, seen=plan.seen)
    db.refresh(r3)
    db.refresh(r1)
    assert (r3.impact, r1.title) == (2, "County data quality")
    item = db.exec(select(ActionItem).where(ActionItem.risk_id == r3.id)).one()
    assert item.done_at is not None
    assert db.exec(
        select(AuditEvent.action)
        .where(AuditEvent.entity_type == "risk", AuditEvent.entity_id == r3.id)
        .order_by(AuditEvent.id)
    ).all()[-2:] == ["update", "update_action"]


def test_an_imported_update_that_raises_the_level_brings_the_next_review_forward(db, world, register):
    actor, tst = acting(db, world, "staff")
    r2 = db.exec(select(Risk).where(Risk.project_id == tst.project.id, Risk.code == "R-002")).one()
    r2.next_review_date = tst_today() + timedelta(days=60)  # low (1 × 1), reviewed in two months
    db.flush()
    sheet = read_table("u.csv", _csv("Risk ID,Title,Probability,Impact\nR-002,Closed one,4,5\n"))
    transfer.run(
        db,
        actor,
        tst,
        transfer.build_plan(db, tst, RISKS, sheet, {0: "code", 1: "title", 2: "probability", 3: "impact"}),
    )
    db.refresh(r2)
    assert (r2.probability, r2.impact, r2.next_review_date) == (4, 5, tst_today() + timedelta(days=7))


def test_a_row_whose_residual_score_is_above_its_inherent_score_is_a_row_error(db, world, register, other):
    sheet = _csv(
        "Title,Probability,Impact,Residual probability,Residual impact,Risk owner\n"
        "Worse after mitigation,2,2,Possible,Moderate,staff@example.gov\n"
        "Better after mitigation,4,4,2,2,staff@example.gov\n"
    )
    plan = _plan(db, world, RISKS, "r.csv", sheet)
    assert [(r.action, r.errors) for r in plan.rows] == [
        (
            "invalid",
            {
                "Residual probability": "The residual score 9 (3 × 3) is above the inherent score 4 (2 × 2): "
                "mitigation cannot make a risk worse."
            },
        ),
        ("create", {}),
    ]


def test_issue_rows_follow_the_issue_rules_and_the_decision_log_only_grows(db, world, register):
    actor, tst = acting(db, world, "staff")
    sheet = (
        "Issue ID,Title,Status,Resolution,Escalation level,From risk,Decision log\n"
        'I-001,County data quality,Escalated,,Executive,R-001,"2026-02-03 | Steering committee | Fund a data '
        'steward | x\n2026-02-10 | CIO | Approve overtime"\n'
        "I-002,Other,Resolved,,,,\n"
        "I-009,New one,Open,,Sponsor,R-002,2099-01-01 | CIO | Go\n"
        "I-001,,,,,R-003,\n"
    )
    mapping = {0: "code", 1: "title", 2: "status", 3: "resolution", 4: "escalation_level", 5: "risk", 6: "decisions"}
    plan = transfer.build_plan(db, tst, ISSUES, read_table("i.csv", _csv(sheet)), mapping)
    assert [(r.action, r.errors) for r in plan.rows] == [
        ("update", {}),
        ("invalid", {"Resolution": "Describe the resolution before resolving or closing the issue."}),
        (
            "invalid",
            {
                "Escalation reason": "Say why the issue is escalated.",
                "Decision log": "Entry 1: 2099-01-01 is still to come.",
            },
        ),
        (
            "invalid",
            {
                "Issue ID": "I-001 is also on row 2.",
                "Title": "Title is required.",
                "From risk": "I-001 came from R-001; an import does not change that.",
            },
        ),
    ]
    assert plan.rows[0].changed == ["Decision log"]
    transfer.run(db, actor, tst, plan, only_valid=True)
    assert db.exec(select(IssueDecision.decision).order_by(IssueDecision.id)).all() == [
        "Fund a data steward",
        "Approve overtime",
    ]


def test_huge_cells_and_real_formulas_give_row_errors_and_no_formula_is_stored(db, world):
    import io

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Title", "Probability", "Impact", "Mitigation plan"])
    wb.active.append(["x" * 100_000, 3, 3, ""])
    wb.active.append(["=1+2", "=B2", 3, '=HYPERLINK("http://evil.example")'])  # formulas never computed by Excel
    wb.active.append(["Fine", 3, 3, "y" * 9000])
    body = io.BytesIO()
    wb.save(body)
    _, tst = acting(db, world, "staff")
    sheet = read_table("formulas.xlsx", body.getvalue())
    plan = transfer.build_plan(db, tst, RISKS, sheet, transfer.auto_mapping(RISKS, sheet.headers))
    assert [r.errors for r in plan.rows] == [
        {"Title": "Title can be at most 200 characters long; this one has 32,767. Shorten it."},
        {"Title": "Title is required.", "Probability": "Probability is required."},
        {"Mitigation plan": "Mitigation plan can be at most 8,000 characters long; this one has 9,000. Shorten it."},
    ]
