"""Custom fields, for every kind of the kinds table alike: their definitions (a project's managers), the values a
record holds (whoever may edit the record), checked by type, stored as typed rows (register/custom/models.py),
read for a page of records in one query, filtered with indexed EXISTS clauses, and written through the kind's own
create or update, so a change to a value is part of the record's one event and moves its version."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import Field, field_validator
from sqlmodel import Session, col, delete, exists, func, or_, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.errors import FormError, NotFound
from tracker.core.forms import Checkbox, Form, parse
from tracker.core.text import control_problem
from tracker.projects.models import Membership
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register import common
from tracker.register.custom.models import CustomField, CustomValue, FieldType
from tracker.register.custom.values import Values, definitions, number_text, read
from tracker.register.kinds import KINDS, Kind

MAX_CHOICES = 50
TEXT_LIMIT = 500  # the value column's length: indexed on both databases
TYPE_WORDS = {
    FieldType.TEXT: "Text",
    FieldType.NUMBER: "Number",
    FieldType.DATE: "Date",
    FieldType.CHOICE: "Choice (one)",
    FieldType.CHOICES: "Choices (several)",
    FieldType.USER: "Project member",
}
LABELS = {
    "kind": "Register",
    "label": "Label",
    "type": "Type",
    "choices": "Choices",
    "required": "Required",
    "help": "Help text",
    "position": "Order",
    "in_list": "A column of the list",
    "retired": "Retired",
}
WORDS = {"type": {t.value: w for t, w in TYPE_WORDS.items()}}
history.register(nouns={"custom_field": "custom field"}, terms={"custom_field": history.Terms(LABELS, WORDS)})
FIELDS = ("label", "type", "choices", "required", "help", "position", "in_list", "retired")


def slug(label: str) -> str:
    """The field's key: its label in lower case, words joined by "_" ("Vendor SLA hours" -> "vendor_sla_hours")."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:40] or "field"


# --- definitions ------------------------------------------------------------------------------------------------


class FieldForm(Form):
    kind: str = ""  # the kinds table's plural: only when a field is defined; its register never changes
    label: str = Field(min_length=1, max_length=80)
    type: FieldType = FieldType.TEXT
    choices: list[str] = Field(default_factory=list, max_length=MAX_CHOICES)
    required: Checkbox = False
    help: str = Field(default="", max_length=300)
    position: int = Field(default=0, ge=0, le=1000)
    in_list: Checkbox = True
    retired: Checkbox = False
    version: int | None = None

    @field_validator("choices", mode="before")
    @classmethod
    def _choices(cls, v: Any) -> Any:
        return common.as_list(v)

    @field_validator("choices")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        out = [c.strip() for c in v if c.strip()]
        if any(len(c) > 100 for c in out):
            raise ValueError("Keep each choice to 100 characters")
        if len({c.lower() for c in out}) != len(out):
            raise ValueError("Give each choice once")
        return out


FieldForm.labels = LABELS


def page_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """The settings page's form as FieldForm takes it: its choices are a text box, one a line."""
    return dict(data) | {"choices": str(data.get("choices") or "").splitlines()}


def get(db: Session, access: Access, field_id: int) -> CustomField:
    f = db.get(CustomField, field_id)
    if f is None or f.project_id != access.project.id:
        raise NotFound(detail="No such custom field in this project.")
    return f


def kind_of(f: CustomField) -> Kind:
    return next(k for k in KINDS.values() if k.entity == f.entity)


def _check_definition(db: Session, kind: Kind, project_id: int, form: FieldForm, f: CustomField | None) -> str:
    """The definition's rules beyond its form's; returns its key."""
    errors = {}
    own = {n.lower() for n in (*kind.service.LABELS, *kind.service.LABELS.values())}
    key = f.key if f is not None else slug(form.label)
    if form.label.lower() in own:
        errors["label"] = f"A {kind.noun} already has a field called “{form.label}”: choose another label."
    taken = db.exec(
        select(CustomField.id).where(
            CustomField.project_id == project_id,
            CustomField.entity == kind.entity,
            or_(func.lower(CustomField.label) == form.label.lower(), CustomField.key == key),
        )
    ).all()
    if any(i != (f.id if f else None) for i in taken):
        errors["label"] = f"The {kind.plural} of this project already have a field called “{form.label}”."
    choosing = form.type in (FieldType.CHOICE, FieldType.CHOICES)
    if choosing and not form.choices:
        errors["choices"] = "Give the choices, one a line."
    if not choosing and form.choices:
        errors["choices"] = "Only a choice field has choices: leave this blank."
    if f is not None and form.type != f.type and _in_use(db, f):
        errors["type"] = "Records hold values of this field: its type stays as it is (retire it and add another)."
    if f is not None and f.type in (FieldType.CHOICE, FieldType.CHOICES) and choosing:
        gone = set(f.choices) - set(form.choices)
        used = db.exec(
            select(CustomValue.text_value)
            .where(CustomValue.field_id == f.id, col(CustomValue.text_value).in_(sorted(gone)))
            .distinct()
        ).all()
        if used:
            errors["choices"] = f"Records hold {', '.join(sorted(used))}: keep it among the choices."
    if errors:
        raise FormError(errors)
    return key


def _in_use(db: Session, f: CustomField) -> bool:
    return db.exec(select(CustomValue.id).where(CustomValue.field_id == f.id).limit(1)).first() is not None


def _event(db: Session, actor: Principal, f: CustomField, action: str, changes: dict[str, Any]) -> None:
    audit.record(
        db,
        actor_id=actor.id,
        entity=f,
        project_id=f.project_id,
        label=f"{kind_of(f).label}: {f.label}",
        action=action,
        changes=changes,
    )


def define(db: Session, actor: Principal, access: Access, form: FieldForm) -> CustomField:
    access.require(Perm.MANAGE)
    kind = KINDS.get(form.kind)
    if kind is None:
        raise FormError({"kind": "Choose one of the registers."})
    key = _check_definition(db, kind, access.project.id, form, None)
    f = CustomField(project_id=access.project.id, entity=kind.entity, key=key, **form.model_dump(include=set(FIELDS)))
    db.add(f)
    db.flush()
    changes = {n: [None, v] for n, v in audit.snapshot(f, FIELDS).items() if v not in (None, "", [], False)}
    _event(db, actor, f, "create", changes)
    db.flush()
    return f


def change(db: Session, actor: Principal, access: Access, f: CustomField, form: FieldForm) -> CustomField:
    access.require(Perm.MANAGE)
    f.check_seen(form.version, audit.snapshot(f, FIELDS))
    _check_definition(db, kind_of(f), access.project.id, form, f)
    before = audit.snapshot(f, FIELDS)
    for name, value in form.model_dump(include=set(FIELDS)).items():
        setattr(f, name, value)
    if changes := audit.diff(before, audit.snapshot(f, FIELDS)):
        _event(db, actor, f, "update", changes)
    db.flush()
    return f


def definition_values(f: CustomField) -> dict[str, Any]:
    """A stored definition as its settings form starts from (choices one a line)."""
    return audit.snapshot(f, FIELDS) | {"choices": "\n".join(f.choices), "version": f.version}


# --- values -----------------------------------------------------------------------------------------------------


def members(db: Session, project_id: int) -> dict[int, str]:
    """{user id: name} of the project's members: whom a "project member" field may name."""
    stmt = (
        select(User.id, User.full_name)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.project_id == project_id)
        .order_by(User.full_name)
    )
    return dict(db.exec(stmt).all())


def input_name(f: CustomField) -> str:
    """The field's name in a record's form (and its errors)."""
    return f"cf_{f.id}"


def _one(f: CustomField, raw: Any, people: Mapping[int, str]) -> Any:
    """One value as its type holds it (None when blank); ValueError says what is wrong, in the page's words."""
    if f.type == FieldType.CHOICES:
        wanted = [str(v).strip() for v in common.as_list(raw) if str(v).strip()]
        unknown = [v for v in wanted if v not in f.choices]
        if unknown:
            raise ValueError(f"Choose from the list: “{unknown[0]}” is not one of the choices.")
        return [c for c in f.choices if c in wanted] or None  # in the definition's order, each once
    if isinstance(raw, list):
        if len(raw) > 1:
            raise ValueError("Give one value.")
        raw = raw[0] if raw else None
    if isinstance(raw, (dict, bool)):
        raise ValueError("Give one value, as text.")
    text = "" if raw is None else str(raw).strip()
    if text == "":
        return None
    if problem := control_problem(f.label, text, False):
        raise ValueError(problem)
    if f.type == FieldType.TEXT:
        if len(text) > TEXT_LIMIT:
            raise ValueError(f"Keep it to {TEXT_LIMIT} characters.")
        return text
    if f.type == FieldType.NUMBER:
        try:
            n = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise ValueError("Give a number, such as 48 or 12.5.") from None
        if not n.is_finite() or abs(n) >= Decimal(10) ** 14 or n != n.quantize(Decimal("0.0001")):
            raise ValueError("Give a number below 100,000,000,000,000 with at most 4 decimals.")
        return n
    if f.type == FieldType.DATE:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError("Give a date as 2026-03-31.") from None
    if f.type == FieldType.CHOICE:
        if text not in f.choices:
            raise ValueError(f"Choose from the list: “{text}” is not one of the choices.")
        return text
    try:
        user_id = int(text)
    except ValueError:
        user_id = None
    if user_id not in people:
        raise ValueError("Choose a member of this project.")
    return user_id


def clean(
    db: Session, project_id: int, fields: list[CustomField], raw: Mapping[int, Any], partial: bool = False, name=None
) -> dict[int, Any]:
    """{field id: value} from what was sent ({field id: text or list}): each checked by its type, a required one
    not left blank. `partial`: only the fields sent (an API change, a bulk edit); otherwise every field, a field not
    sent being blank. Errors are named by `name(field)` (the form's input name unless told)."""
    name = name or input_name
    people = members(db, project_id) if any(f.type == FieldType.USER for f in fields) else {}
    values, errors = {}, {}
    for f in fields:
        if partial and f.id not in raw:
            continue
        try:
            value = _one(f, raw.get(f.id), people)
        except ValueError as exc:
            errors[name(f)] = str(exc)
            continue
        if f.required and value is None:
            errors[name(f)] = f"{f.label} is required."
            continue
        values[f.id] = value
    if errors:
        raise FormError(errors)
    return values


def from_form(fields: list[CustomField], data: Mapping[str, Any]) -> dict[int, Any]:
    """What a record's form sent for its custom fields: {field id: text or list}."""
    return {f.id: data.get(input_name(f)) for f in fields}


def by_name(fields: list[CustomField], sent: Mapping[str, Any] | None) -> dict[int, Any]:
    """The API's `custom_fields` ({key or label: value}) as {field id: value}; a name no field has is refused."""
    found: dict[int, Any] = {}
    for name, value in (sent or {}).items():
        f = next((f for f in fields if name in (f.key, f.label)), None)
        if f is None:
            known = ", ".join(f.key for f in fields) or "none"
            raise FormError({"custom_fields": f"No custom field is called “{name}” (the fields: {known})."})
        found[f.id] = value
    return found


def as_json(f: CustomField, value: Any) -> Any:
    """A value as the API and spreadsheets give it: a number as a number, a date in ISO, a member by user id."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def form_values(db: Session, fields: list[CustomField], record_id: int) -> dict[str, Any]:
    """A stored record's values as its edit form starts from them."""
    values = read(db, fields, [record_id])
    out = {}
    for f in fields:
        v = values.get(record_id, f)
        out[input_name(f)] = number_text(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, date) else v
    return out


def _rows(f: CustomField, record_id: int, value: Any) -> list[CustomValue]:
    if value is None:
        return []
    if f.type == FieldType.CHOICES:
        return [CustomValue(field_id=f.id, record_id=record_id, text_value=c) for c in value]
    column = {FieldType.NUMBER: "number_value", FieldType.DATE: "date_value", FieldType.USER: "user_id"}
    return [CustomValue(field_id=f.id, record_id=record_id, **{column.get(f.type, "text_value"): value})]


def save(
    db: Session,
    actor: Principal,
    access: Access,
    kind: Kind,
    record: Any,
    data: Mapping[str, Any],
    raw: Mapping[int, Any],
    partial: bool = False,
    fields: list[CustomField] | None = None,
    name=None,
    **options: Any,
) -> Any:
    """Create (record None) or update a record through its kind's service with its custom values: the kind's form
    and the custom values checked together (errors of both beside their fields), the values' changes part of the
    kind's own event (common.edited and common.created take them), so a change to a value alone moves the version and
    a stale edit is refused before anything is written. `options` go to the kind's service (imported=True)."""
    fields = definitions(db, access.project.id, kind.entity) if fields is None else fields
    errors: dict[str, str] = {}
    try:
        values = clean(db, access.project.id, fields, raw, partial, name)
    except FormError as exc:
        errors, values = exc.errors, {}
    try:
        form = parse(kind.form, dict(data))
    except FormError as exc:
        raise FormError(exc.errors | errors) from None
    if errors:
        raise FormError(errors)
    before = read(db, fields, [record.id]) if record is not None else Values()
    now = Values({0: values}, before.names | (members(db, access.project.id) if _names_users(fields, values) else {}))
    by_id = {f.id: f for f in fields}
    changed = {fid: v for fid, v in values.items() if v != before.get(record.id if record else 0, by_id[fid])}
    pending = {
        by_id[fid].label: [before.shown(record.id, by_id[fid]) if record else None, now.shown(0, by_id[fid])]
        for fid in changed
    }
    key = (kind.entity, record.id if record is not None else None)
    db.info.setdefault(common.CUSTOM_CHANGES, {})[key] = pending
    try:
        if record is None:
            record = kind.service.create(db, actor, access, form, **options)
        else:
            kind.service.update(db, actor, access, record, form, **options)
    finally:
        db.info[common.CUSTOM_CHANGES].pop(key, None)
    if changed:
        db.exec(
            delete(CustomValue).where(col(CustomValue.field_id).in_(list(changed)), CustomValue.record_id == record.id)
        )
        for fid, value in changed.items():
            db.add_all(_rows(by_id[fid], record.id, value))
        db.flush()
    return record


def _names_users(fields: list[CustomField], values: Mapping[int, Any]) -> bool:
    return any(f.type == FieldType.USER and values.get(f.id) is not None for f in fields)


def names_members(fields: list[CustomField]) -> bool:
    """Whether a form of these fields offers the project's members (one has the member type)."""
    return any(f.type == FieldType.USER for f in fields)


# --- the list: columns and filters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """What a page shows of a kind's custom fields: the fields, their values on the page's records, the filters
    asked for ({parameter: value}) and, when a field names members, the project's members {id: name}."""

    fields: list[CustomField] = field(default_factory=list)
    values: Values = field(default_factory=Values)
    asked: dict[str, str] = field(default_factory=dict)
    members: dict[int, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[CustomField]:
        """The fields the list shows as columns (the others are its filters only)."""
        return [f for f in self.fields if f.in_list]


def filter_names(f: CustomField) -> list[str]:
    """The list's query parameters for the field: its value, or the two ends of a range."""
    if f.type in (FieldType.NUMBER, FieldType.DATE):
        return [f"cf_{f.key}_from", f"cf_{f.key}_to"]
    return [f"cf_{f.key}"]


def filters(fields: list[CustomField], params: Mapping[str, Any], record_id: Any) -> tuple[list[Any], dict[str, str]]:
    """The EXISTS clauses that the list's custom filters make (each on an index of the value table: field and the
    typed column), and the filters as asked. A value its field cannot hold (a word for a number) filters nothing."""
    clauses, asked = [], {}
    for f in fields:
        for param in filter_names(f):
            text = str(params.get(param) or "").strip()
            if not text:
                continue
            asked[param] = text
            try:
                condition = _condition(f, param, text)
            except (ValueError, InvalidOperation):
                continue
            clauses.append(exists().where(CustomValue.field_id == f.id, CustomValue.record_id == record_id, condition))
    return clauses, asked


def _condition(f: CustomField, param: str, text: str) -> Any:
    if f.type in (FieldType.NUMBER, FieldType.DATE):
        column = CustomValue.number_value if f.type == FieldType.NUMBER else CustomValue.date_value
        value = Decimal(text) if f.type == FieldType.NUMBER else date.fromisoformat(text)
        return column >= value if param.endswith("_from") else column <= value
    if f.type == FieldType.USER:
        return CustomValue.user_id == int(text)
    if f.type == FieldType.TEXT:
        return func.lower(CustomValue.text_value).like(f"%{text.lower()}%")
    return CustomValue.text_value == text


def table(db: Session, kind: Kind, project_id: int, record_ids: Iterable[int] = ()) -> Table:
    """The kind's fields and their values on the records shown: at most three queries, whatever the records and
    fields."""
    fields = definitions(db, project_id, kind.entity)
    people = members(db, project_id) if names_members(fields) else {}
    return Table(fields, read(db, fields, record_ids), {}, people)


def narrow(db: Session, kind: Kind, project_id: int, query: common.ListQuery, params: Mapping[str, Any]) -> Table:
    """The kind's fields, with the list's query narrowed by the custom filters asked for (common.list_where adds
    them to every kind's list)."""
    t = table(db, kind, project_id)
    clauses, asked = filters(t.fields, params, kind.model.id)
    query.extra_where.extend(clauses)
    return Table(t.fields, t.values, asked, t.members)


def with_values(db: Session, t: Table, record_ids: Iterable[int]) -> Table:
    return Table(t.fields, read(db, t.fields, record_ids), t.asked, t.members)
