"""Spreadsheet import and export of the risk and issue registers: the filtered register as CSV or XLSX, and a
PMO's own register read back in — columns mapped, every row validated by the register's own forms and rules,
then the valid rows created or updated through the register services, all in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core import exports
from tracker.core.clock import as_utc
from tracker.core.errors import Conflict, FormError, StaleEdit
from tracker.core.forms import parse
from tracker.core.messages import label_of
from tracker.core.spreadsheet import Sheet, match_headers
from tracker.core.web import label
from tracker.deliverables.models import Deliverable
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register import common
from tracker.register.actions import service as actions
from tracker.register.actions.models import ActionItem
from tracker.register.changes.models import ChangeRequest
from tracker.register.custom import service as custom
from tracker.register.issues import service as issues
from tracker.register.issues.models import Issue
from tracker.register.risks.models import Risk
from tracker.transfer.columns import Column, Extras, Lookups, Register, custom_column

FORMATS = {"csv": exports.CSV, "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
ACTION_PLANS = {"mitigation_actions": "mitigation", "contingency_actions": "contingency", "actions": "issue"}
history.register(verbs={"import_risks": "imported risks into", "import_issues": "imported issues into"})  # a project's


def query_for(register: Register, params: dict[str, Any]) -> Any:
    """The register list's filters (and sort) from query parameters, as the list page reads them."""
    return parse(register.spec.query, {k: v for k, v in params.items() if v not in ("", None)})


def with_custom(db: Session, access: Access, register: Register) -> Register:
    """The register with the project's custom fields of its kind as columns, after its own (register/custom)."""
    own = tuple(c for c in register.columns if not c.key.startswith("cf_"))
    fields = custom.definitions(db, access.project.id, register.spec.entity)
    return replace(register, columns=own + tuple(custom_column(f) for f in fields))


def register_rows(db: Session, access: Access, register: Register, query: Any = None) -> list[Any]:
    """Every row of the filtered register, through the same query as the list page."""
    spec = register.spec
    return spec.service.search(db, access, query or spec.query(sort="code"), common.EVERY)[0]


def extras(db: Session, project: Project, register: Register, ids: list[int]) -> Extras:
    """Deliverable links, action items and decision logs of these records, in three queries at most (only what
    the register's columns show)."""
    link, key = register.spec.link, register.spec.link_key
    keys = {c.key for c in register.columns}
    items: dict[tuple[int, str], list[tuple[ActionItem, str | None]]] = {}
    if keys & set(ACTION_PLANS):
        parent = getattr(ActionItem, key)
        stmt = (
            select(ActionItem, User.full_name)
            .outerjoin(User, col(User.id) == ActionItem.owner_id)
            .where(ActionItem.project_id == project.id, col(parent).is_not(None))
            .order_by(col(ActionItem.done_at).is_not(None), col(ActionItem.due_date).asc().nulls_last(), ActionItem.id)
        )
        for item, name in db.exec(stmt):
            items.setdefault((getattr(item, key), item.plan), []).append((item, name))
    decisions = issues.decision_logs(db, project.id) if "decisions" in keys else {}
    fields = [f for f in custom.definitions(db, project.id, register.spec.entity) if f"cf_{f.key}" in keys]
    return Extras(
        common.linked_deliverables(db, link, key, ids),
        items,
        decisions,
        lambda at: project_today(project, as_utc(at)),
        custom.read(db, fields, None) if fields else None,
    )


# --- export ------------------------------------------------------------------------------------------------


def export_table(db: Session, access: Access, register: Register, query: Any = None) -> tuple[list[str], list[list]]:
    access.require(register.spec.view)
    register = with_custom(db, access, register)
    rows = register_rows(db, access, register, query)
    x = extras(db, access.project, register, [r.record.id for r in rows])
    return [c.header for c in register.columns], [[c.write(r, x) for c in register.columns] for r in rows]


def export_file(
    db: Session, access: Access, register: Register, query: Any, fmt: str, by: str = ""
) -> tuple[bytes, str, str]:
    """(content, media type, file name) of the filtered register as CSV or XLSX (made for `by`)."""
    if fmt not in FORMATS:
        raise FormError({"format": "Choose csv or xlsx."})
    headers, rows = export_table(db, access, register, query)
    key = access.project.key
    name = f"{key}-{register.kind}-{project_today(access.project).isoformat()}.{fmt}"
    if fmt == "csv":
        return exports.to_csv(headers, rows), FORMATS[fmt], name
    chosen = query.model_dump(exclude_defaults=True) if query is not None else {}
    about = exports.About(
        by,
        [
            ("Project", f"{key} · {access.project.name}"),
            ("Register", register.kind),
            *((label(k), ", ".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in chosen.items()),
        ],
        access.project.timezone,
    )
    return exports.to_xlsx(headers, rows, title=f"{key} {register.kind}", about=about), FORMATS[fmt], name


# --- mapping -------------------------------------------------------------------------------------------------


def letter(index: int) -> str:
    from openpyxl.utils import get_column_letter  # imported when first used, as every openpyxl use

    return get_column_letter(index + 1)


def auto_mapping(register: Register, headers: list[str]) -> dict[int, str]:
    """Column index -> column key, by header (computed columns too, so that "Score" is not taken for another)."""
    return match_headers(headers, {c.key: (c.header, *c.aliases) for c in register.columns})


def unrecognised(register: Register, sheet: Sheet, mapping: dict[int, str]) -> list[str]:
    """Columns holding something that no header rule matched and the user did not map: the import leaves them out,
    and says so."""
    known = auto_mapping(register, sheet.headers)
    return [
        h or f"column {letter(i)} (no header)"
        for i, h in enumerate(sheet.headers)
        if i not in known and i not in mapping and (h or any(cells[i] for _, cells in sheet.rows))
    ]


def check_mapping(register: Register, headers: list[str], mapping: dict[int, str]) -> dict[int, str]:
    """The importable part of a mapping. Each field comes from one column at most; required fields from one."""
    known = {c.key: c for c in register.columns}
    errors: dict[str, str] = {}
    used: dict[str, int] = {}
    for i, key in sorted(mapping.items()):
        column = known.get(key)
        if not 0 <= i < len(headers):
            errors["__all__"] = f"The file has no column {letter(i)}."
        elif column is None:
            errors[f"column-{i}"] = "Choose a field from the list."
        elif key in used:
            errors[f"column-{i}"] = f"{column.header} already comes from column {letter(used[key])}."
        elif not column.computed:
            used[key] = i
    missing = [c.header for c in register.required if c.key not in used]
    if missing:
        errors["__all__"] = f"Choose the column that holds the {' and the '.join(missing)}."
    if errors:
        raise FormError(errors, detail="Check the column mapping.")
    return {i: key for key, i in used.items()}


# --- the preview -----------------------------------------------------------------------------------------------


@dataclass
class RowPlan:
    number: int  # as the spreadsheet numbers it
    code: str  # blank: the next free code
    title: str
    action: str = "create"  # create | update | unchanged | invalid
    errors: dict[str, str] = field(default_factory=dict)  # column header -> message
    changed: list[str] = field(default_factory=list)  # headers of the columns an update changes
    values: dict[str, Any] = field(default_factory=dict)  # form fields
    extra: dict[str, Any] = field(default_factory=dict)  # action items, decision log, the risk it came from
    current: Any = None  # the register row it updates
    record: Risk | Issue | None = None  # after the import: the record written


@dataclass
class ImportPlan:
    register: Register
    headers: list[str]
    mapping: dict[int, str]  # column index -> column key, importable columns only
    rows: list[RowPlan]
    extras: Extras
    unrecognised: list[str]  # the file's columns neither matched by their header nor mapped by the user

    def count(self, action: str) -> int:
        return sum(r.action == action for r in self.rows)

    @property
    def invalid(self) -> list[RowPlan]:
        return [r for r in self.rows if r.action == "invalid"]

    @property
    def seen(self) -> dict[str, int]:
        """The version of each record the preview showed (0: not there yet), for the check at import."""
        return {r.code: r.current.record.version if r.current else 0 for r in self.rows if r.code}


def lookups(db: Session, project: Project) -> Lookups:
    people: dict[str, set[int]] = {}
    stmt = (
        select(User.id, User.username, User.email, User.full_name)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.project_id == project.id, col(Membership.role).in_(common.OWNER_ROLES))
    )
    for uid, *names in db.exec(stmt):
        for name in names:
            people.setdefault(name.strip().lower(), set()).add(uid)
    delivs = db.exec(select(Deliverable.code, Deliverable.id).where(Deliverable.project_id == project.id))
    codes = {
        model: {c.upper(): i for c, i in db.exec(select(model.code, model.id).where(model.project_id == project.id))}
        for model in (Risk, Issue, ChangeRequest)
    }
    return Lookups(
        people, {c.upper(): i for c, i in delivs}, codes[Risk], issues=codes[Issue], changes=codes[ChangeRequest]
    )


def _form_values(register: Register, row: Any, x: Extras) -> dict[str, Any]:
    """A stored record as its form starts from (one register row; no query)."""
    record = row.record
    values = audit.snapshot(record, register.spec.service.FIELDS)
    return values | {"deliverable_ids": [d for d, _ in x.links.get(record.id, [])]}


def _cell(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else "" if value is None else str(value)


def _label(f: Any) -> str:
    """A custom field's error as the import names it: by its column, the field's label."""
    return f.label


def _sentence(message: str) -> str:
    return message if message.endswith(".") else message + "."


def build_plan(db: Session, access: Access, register: Register, sheet: Sheet, mapping: dict[int, str]) -> ImportPlan:
    """Every row read through the mapping and validated as the register's form would validate it; nothing
    is written. A row whose code is already in the register updates that record."""
    access.require(Perm.EDIT_REGISTER)
    register = with_custom(db, access, register)
    left_out = unrecognised(register, sheet, mapping)
    mapping = check_mapping(register, sheet.headers, mapping)
    if not sheet.rows:
        raise FormError({"file": "The file has a header row but no rows of data."})
    project = access.project
    today = project_today(project)
    look = lookups(db, project)
    stored = register_rows(db, access, register)
    x = extras(db, project, register, [r.record.id for r in stored])
    by_code = {r.record.code.upper(): r for r in stored}
    needed = [(f"cf_{f.key}", f.label) for f in custom.definitions(db, project.id, register.spec.entity) if f.required]
    first_seen: dict[str, int] = {}
    plans = []
    for number, cells in sheet.rows:
        given = {key: cells[i] for i, key in mapping.items()}
        row = RowPlan(number, given.get("code", "").strip().upper(), given.get("title", ""))
        plans.append(row)
        for key, cell in given.items():
            column = register.column(key)
            try:
                value = column.read(cell, look)
            except ValueError as exc:
                row.errors[column.header] = _sentence(str(exc))
                continue
            if value is not None:
                (row.values if column.field else row.extra)[column.field or key] = value
        if row.code and row.code in first_seen:
            row.errors[register.column("code").header] = f"{row.code} is also on row {first_seen[row.code]}."
        first_seen.setdefault(row.code, number)
        row.current = by_code.get(row.code) if row.code else None
        _validate(register, row, x, today)
        for key, header in needed if row.current is None else ():
            if key not in row.extra:
                row.errors.setdefault(header, f"{header} is required.")
        if not row.errors and row.current is not None:
            _changes(register, row, given, x, look)
        row.action = (
            "invalid" if row.errors else "create" if row.current is None else "update" if row.changed else "unchanged"
        )
    return ImportPlan(register, sheet.headers, mapping, plans, x, left_out)


def _beside_column(form: type, name: str, message: str) -> str:
    """A form's message shown beside the column that holds the field: the column names it, so a message that
    begins "Probability: …" drops its label."""
    rest = message.removeprefix(f"{label_of(form, name)}: ")
    return message if rest == message else rest[:1].upper() + rest[1:]


def _validate(register: Register, row: RowPlan, x: Extras, today: date) -> None:
    base = _form_values(register, row.current, x) if row.current else {}
    try:
        form = parse(register.form, base | row.values)
        register.spec.service.check_rules(form, today)
    except FormError as exc:
        for name, message in exc.errors.items():
            row.errors.setdefault(register.header_for(name), _beside_column(register.form, name, message))
    for key, items in row.extra.items():
        if key in ACTION_PLANS:
            _check_entries(register.column(key), row, items, actions.ActionForm, today, "done_on")
        elif key == "decisions":
            _check_entries(register.column(key), row, items, issues.DecisionForm, today, "decided_on")
    came_from = getattr(row.current.record, "risk_id", None) if row.current else None
    if row.current and "risk" in row.extra and row.extra["risk"] != came_from:
        row.errors[register.column("risk").header] = (
            f"{row.code} came from {row.current.risk_code or 'no risk'}; an import does not change that."
        )


def _check_entries(column: Column, row: RowPlan, entries: list[dict], form: type, today: date, day: str) -> None:
    for n, entry in enumerate(entries, start=1):
        try:
            parsed = parse(form, entry)
        except FormError as exc:
            name, message = next(iter(exc.errors.items()))
            row.errors.setdefault(column.header, f"Entry {n}: {message}")
            return
        if getattr(parsed, day) and getattr(parsed, day) > today:
            row.errors.setdefault(column.header, f"Entry {n}: {getattr(parsed, day)} is still to come.")
            return


def _changes(register: Register, row: RowPlan, given: dict[str, str], x: Extras, look: Lookups) -> None:
    """The columns whose value differs from the stored record's, compared as read from cells both."""
    for key in given:
        column = register.column(key)
        new = (row.values if column.field else row.extra).get(column.field or key)
        if new is None:
            continue
        try:
            old = column.read(_cell(column.write(row.current, x)), look)
        except ValueError:
            old = None
        if not column.same(new, old):
            row.changed.append(column.header)


# --- the import ------------------------------------------------------------------------------------------------


def run(
    db: Session,
    actor: Principal,
    access: Access,
    plan: ImportPlan,
    *,
    only_valid: bool = False,
    seen: dict[str, int] | None = None,
    filename: str = "",
) -> list[RowPlan]:
    """Write the plan's rows in one savepoint: all of them, or (only_valid) the valid ones; any failure leaves
    nothing written. `seen`: the versions the preview showed; a record changed since refuses the import (409)."""
    access.require(Perm.EDIT_REGISTER)
    if plan.invalid and not only_valid:
        raise FormError(
            {"rows": f"{len(plan.invalid)} row(s) have errors."},
            detail=f"{len(plan.invalid)} row(s) have errors; nothing was imported.",
        )
    written = []
    with db.begin_nested():
        for row in plan.rows:
            if row.action in ("invalid", "unchanged"):
                continue
            try:
                _write(db, actor, access, plan, row, seen)
            except StaleEdit:
                raise Conflict(
                    detail=f"Row {row.number}: {row.code} was changed after the preview; nothing was "
                    "imported. Preview the file again."
                ) from None
            except Conflict as exc:  # a record the import may not change (a change request already submitted)
                raise Conflict(detail=f"Row {row.number}: {exc.detail} Nothing was imported.") from None
            except FormError as exc:
                message = "; ".join(f"{plan.register.header_for(k)}: {v}" for k, v in exc.errors.items())
                raise FormError(
                    {"rows": message}, detail=f"Row {row.number}: {message} Nothing was imported."
                ) from None
            written.append(row)
        if written:
            audit.record(
                db,
                actor_id=actor.id,
                entity=access.project,
                project_id=access.project.id,
                label=access.project.key,
                action=f"import_{plan.register.kind}",
                changes={
                    "file": [None, filename],
                    "created": [None, sum(r.action == "create" for r in written)],
                    "updated": [None, sum(r.action == "update" for r in written)],
                },
            )
    return written


def _write(
    db: Session, actor: Principal, access: Access, plan: ImportPlan, row: RowPlan, seen: dict[str, int] | None
) -> None:
    register, x = plan.register, plan.extras
    values = (_form_values(register, row.current, x) if row.current else {}) | row.values
    record = row.current.record if row.current else None
    if record is not None:  # the version the preview showed: 0 when the record was not there yet
        values["version"] = seen.get(row.code, record.version) if seen is not None else record.version
    fields = custom.definitions(db, access.project.id, register.spec.entity)
    raw = {f.id: row.extra[f"cf_{f.key}"] for f in fields if f"cf_{f.key}" in row.extra}
    came_from = {"risk": db.get(Risk, row.extra["risk"])} if "risk" in row.extra and record is None else {}
    record = custom.save(
        db,
        actor,
        access,
        register.spec,
        record,
        values,
        raw,
        record is not None,
        fields,
        _label,
        imported=True,
        **came_from,
    )
    logged = {(d.decision, d.decided_by) for d in x.decisions.get(record.id, [])}
    for entry in row.extra.get("decisions", []):
        if (entry["decision"], entry["decided_by"]) not in logged:
            issues.add_decision(db, actor, access, record, parse(issues.DecisionForm, entry))
    for key, plan_name in ACTION_PLANS.items():
        if key in row.extra:
            _sync_actions(
                db, actor, access, record, plan_name, row.extra[key], x.actions.get((record.id, plan_name), [])
            )
    row.record = record


def _sync_actions(
    db: Session,
    actor: Principal,
    access: Access,
    parent: Risk | Issue,
    plan: str,
    entries: list[dict],
    existing: list[tuple[ActionItem, str | None]],
) -> None:
    """Items are matched by description: a new one is added, a known one updated; none is removed."""
    by_description = {item.description.casefold(): item for item, _ in existing}
    for entry in entries:
        item = by_description.get(entry["description"].casefold())
        if item is None:
            actions.add(db, actor, access, parent, parse(actions.ActionForm, entry | {"plan": plan}))
        elif (entry["owner_id"] or None, entry["due_date"] or None, entry["done"]) != (
            item.owner_id,
            item.due_date and item.due_date.isoformat(),
            item.done_at is not None,
        ):
            actions.update(
                db, actor, access, item, parse(actions.ActionForm, entry | {"plan": plan, "version": item.version})
            )
