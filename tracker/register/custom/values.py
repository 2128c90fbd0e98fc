"""Reading custom fields and their values, apart from the rules that write them (service.py): what a page, a report
or an export shows needs only the definitions, the typed rows and the members they name, not the kinds table, so the
status report reads them without importing the register's kinds (which import the reports)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.register.custom.models import CustomField, CustomValue, FieldType


def definitions(db: Session, project_id: int, entity: str | None = None, retired: bool = False) -> list[CustomField]:
    """The project's fields (of one kind), in their order; retired ones only when asked for."""
    stmt = select(CustomField).where(CustomField.project_id == project_id)
    if entity is not None:
        stmt = stmt.where(CustomField.entity == entity)
    if not retired:
        stmt = stmt.where(col(CustomField.retired).is_(False))
    return list(db.exec(stmt.order_by(CustomField.entity, CustomField.position, CustomField.id)))


@dataclass(frozen=True)
class Values:
    """The values of some records, read in one query: {record id: {field id: value}} and the names of the members
    they name."""

    of: dict[int, dict[int, Any]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def get(self, record_id: int, f: CustomField) -> Any:
        return self.of.get(record_id, {}).get(f.id)

    def shown(self, record_id: int, f: CustomField) -> str:
        return shown(f, self.get(record_id, f), self.names)


def read(db: Session, fields: list[CustomField], record_ids: Iterable[int] | None) -> Values:
    """The fields' values on these records (None: on every record), in one query (its index: field, record)."""
    if not fields:
        return Values()
    by_id = {f.id: f for f in fields}
    stmt = (
        select(CustomValue, User.full_name)
        .outerjoin(User, col(User.id) == CustomValue.user_id)
        .where(col(CustomValue.field_id).in_(list(by_id)))
    )
    if record_ids is not None:
        ids = list(record_ids)
        if not ids:
            return Values()
        stmt = stmt.where(col(CustomValue.record_id).in_(ids))
    out: dict[int, dict[int, Any]] = {}
    names: dict[int, str] = {}
    for v, name in db.exec(stmt.order_by(CustomValue.id)):
        f = by_id[v.field_id]
        value = _stored(f, v)
        if v.user_id is not None:
            names[v.user_id] = name
        mine = out.setdefault(v.record_id, {})
        if f.type == FieldType.CHOICES:
            mine.setdefault(f.id, []).append(value)
        else:
            mine[f.id] = value
    for mine in out.values():  # a multiple choice in its definition's order
        for fid, value in mine.items():
            if by_id[fid].type == FieldType.CHOICES:
                mine[fid] = [c for c in by_id[fid].choices if c in value] + [
                    c for c in value if c not in by_id[fid].choices
                ]
    return Values(out, names)


def _stored(f: CustomField, v: CustomValue) -> Any:
    if f.type == FieldType.NUMBER:
        return v.number_value.normalize() if v.number_value is not None else None
    if f.type == FieldType.DATE:
        return v.date_value
    if f.type == FieldType.USER:
        return v.user_id
    return v.text_value


def number_text(n: Decimal) -> str:
    return f"{n.normalize():f}"


def shown(f: CustomField, value: Any, names: Mapping[int, str]) -> Any:
    """A value as the history keeps it: text, a number as written, a date in ISO (the history shows it as pages
    do), a member's name, the choices as a list."""
    if value is None or value == []:
        return None
    if f.type == FieldType.NUMBER:
        return number_text(value)
    if f.type == FieldType.DATE:
        return value.isoformat()
    if f.type == FieldType.USER:
        return names.get(value, "a former member")
    return value
