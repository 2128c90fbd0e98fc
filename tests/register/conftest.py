"""Helpers shared by the register tests: acting as a persona, and plain factories with fixed defaults."""

from __future__ import annotations

from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.forms import parse
from tracker.core.spreadsheet import read_table
from tracker.projects import service as projects
from tracker.register.issues import service as issues
from tracker.register.risks import service as risks
from tracker.transfer import service as transfer

RISK = {
    "title": "Data conversion slips",
    "statement": "If legacy data is dirtier than sampled, then go-live slips",
    "category": "schedule",
    "probability": "3",
    "impact": "4",
}
ISSUE = {"title": "Test environment unavailable", "description": "The UAT environment is down.", "priority": "high"}


def acting(db, world, role):
    user = principal(db.get(User, world.ids[role]))
    return user, projects.get_for(db, user, world.project_key)


def make_risk(db, world, role="staff", **overrides):
    """An open risk needs an owner: the staff member, unless `overrides` say otherwise."""
    actor, access = acting(db, world, role)
    return risks.create(
        db, actor, access, parse(risks.RiskForm, RISK | {"owner_id": str(world.ids["staff"])} | overrides)
    )


def make_issue(db, world, role="staff", **overrides):
    actor, access = acting(db, world, role)
    return issues.create(db, actor, access, parse(issues.IssueForm, ISSUE | overrides))


def round_trip(db, world, register, rows: int) -> None:
    """TST's register exported, imported into OTH as new records, exported again the same; importing the same sheet
    again changes nothing (needs the `other` fixture)."""
    staff, tst = acting(db, world, "staff")
    oth = projects.get_for(db, staff, "OTH")
    body, _, name = transfer.export_file(db, tst, register, None, "xlsx")
    sheet = read_table(name, body)
    plan = transfer.build_plan(db, oth, register, sheet, transfer.auto_mapping(register, sheet.headers))
    assert [(r.action, r.errors) for r in plan.rows] == [("create", {})] * rows
    transfer.run(db, staff, oth, plan)
    assert transfer.export_table(db, oth, register) == transfer.export_table(db, tst, register)
    again = transfer.build_plan(db, oth, register, sheet, transfer.auto_mapping(register, sheet.headers))
    assert {r.action for r in again.rows} == {"unchanged"}


def watched_and_mentioned(db, world, as_user, inbox, dispatch, kind, record, change: dict) -> None:
    """A viewer watches the record from its page (a contractor, who may not read the register, cannot); a manager's
    edit that @mentions both tells the viewer once, and the contractor nothing."""
    viewer, thread = as_user("viewer"), f"{kind.plural}-{record.id}"
    assert f'href="/watching?record={thread}"' in viewer.get(f"/projects/TST/{kind.plural}/{record.id}").text
    assert viewer.post("/watching", {"record": thread, "watch": "on"}, htmx=True).status_code == 200
    assert as_user("contractor").post("/watching", {"record": thread, "watch": "on"}).status_code == 404
    manager, access = acting(db, world, "manager")
    values = kind.service.form_values(db, record) | change
    kind.service.update(db, manager, access, record, parse(kind.form, values))
    db.commit()
    dispatch.once()
    told = sorted(" ".join(m["Subject"].split()) for m in inbox.to("viewer@example.gov"))  # unfolded
    assert told == [f"[TST {record.code}] You are mentioned on {record.title}"]  # once, though a watcher too
    assert inbox.to("contractor@example.gov") == []  # may not read the register


# Who reads and records a kind that follows the register's permissions (lessons, decisions): (role, read, write)
REGISTER_ROLES = [
    ("manager", 200, 303),
    ("staff", 200, 303),
    ("viewer", 200, 403),
    ("contractor", 403, 403),
    ("outsider", 404, 404),
]


def reads_and_records(user, plural: str, record_id: int, form: dict, read: int, write: int) -> None:
    """The kind's list and record open as `read` says for this user, and recording one answers `write`."""
    assert user.get(f"/projects/TST/{plural}").status_code == read
    assert user.get(f"/projects/TST/{plural}/{record_id}").status_code == read
    assert user.post(f"/projects/TST/{plural}", form).status_code == write


def api_readers(as_user, plural: str, record_id: int) -> None:
    """Through the API: a viewer reads a register record and may not change it, a contractor may not read it, and a
    non-member is not told it exists."""
    path = f"/api/v1/{plural}/{record_id}"
    assert as_user("viewer").api("GET", path).status_code == 200
    assert as_user("viewer").api("PATCH", path, json={"version": 2}).status_code == 403
    assert as_user("contractor").api("GET", path).status_code == 403
    assert as_user("outsider").api("GET", path).status_code == 404


def found_by_readers(as_user, word: str, kind: str, code: str, plural: str) -> None:
    """Search finds the one record holding `word` for a reader of the register, and nothing for a contractor."""
    hits = as_user("viewer").get("/api/v1/search", params={"q": word}).json()
    assert [(h["kind"], h["code"]) for h in hits["results"]] == [(kind, code)]
    assert hits["results"][0]["url"].startswith(f"/projects/TST/{plural}/")
    assert as_user("contractor").get("/api/v1/search", params={"q": word}).json()["total"] == 0
