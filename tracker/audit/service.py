"""Recording and reading audit events. Writes happen in the caller's transaction, so a change and
its audit row commit or roll back together."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import union_all
from sqlmodel import Session, SQLModel, col, func, select

from tracker.audit import versions
from tracker.audit.models import AuditEvent
from tracker.core import memo
from tracker.core.db import detach

# Where events find the names of the people and projects they name by id: (id column, name column) of each, told by
# the accounts and projects domains (`name_people`, `name_projects`), as audit knows no domain.
NAMES: dict[str, tuple[Any, Any]] = {}


def name_people(id_column: Any, name_column: Any) -> None:
    NAMES["people"] = (id_column, name_column)


def name_projects(id_column: Any, key_column: Any) -> None:
    NAMES["projects"] = (id_column, key_column)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict, str, int, float, bool)) or value is None:
        return value
    return str(value)


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {f: _plain(getattr(obj, f)) for f in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def record(
    db: Session,
    *,
    actor_id: int | None,
    entity: SQLModel,
    action: str,
    changes: dict[str, Any] | None = None,
    label: str = "",
    project_id: int | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor_id,
        project_id=project_id,
        entity_type=entity.__tablename__,
        entity_id=entity.id,
        entity_label=label[:200],
        action=action,
        changes={k: [_plain(a), _plain(b)] for k, (a, b) in (changes or {}).items()},
    )
    db.add(event)
    versions.touched(db, project_id, action)
    return event


def holds_person(field: str) -> bool:
    """Changes name people by user id under fields like owner_id (or a condition's "… owner")."""
    return field.endswith(("_id", " owner"))


def _people_in(changes: dict[str, Any]) -> Iterable[int]:
    for field, pair in changes.items():
        for value in pair:
            if holds_person(field) and type(value) is int:
                yield value
            elif field == "definition" and isinstance(value, dict):  # a saved report filtered by a person
                yield from (f["value"] for f in value.get("filters", []) if type(f.get("value")) is int)


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    actor_name: str | None
    project_key: str | None
    names: dict[int, str]  # everyone the page's events name by id, shared by its rows


def _events(db: Session, *where: Any, limit: int, offset: int = 0) -> list[EventRow]:
    """The events, then the names of the people their changes name, in one more query whatever their number."""
    person_id, person_name = NAMES["people"]
    project_id, project_key = NAMES["projects"]
    stmt = (
        select(AuditEvent, person_name, project_key)
        .outerjoin(person_id.class_, person_id == AuditEvent.actor_id)
        .outerjoin(project_id.class_, project_id == AuditEvent.project_id)
        .where(*where)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
        .offset(offset)
    )
    rows = db.exec(stmt).all()
    ids = {i for e, _, _ in rows for i in _people_in(e.changes or {})}
    names = dict(db.exec(select(person_id, person_name).where(person_id.in_(ids))).all()) if ids else {}
    return [EventRow(e, name, key, names) for e, name, key in rows]


def for_project(db: Session, project_id: int, *, limit: int = 50, offset: int = 0) -> list[EventRow]:
    return _events(db, AuditEvent.project_id == project_id, limit=limit, offset=offset)


def count_for_project(db: Session, project_id: int) -> int:
    return db.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.project_id == project_id)).one()


def for_entity(db: Session, entity_type: str, entity_id: int, *, limit: int = 100) -> list[EventRow]:
    return _events(db, AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id, limit=limit)


def for_record(
    db: Session, project_id: int, entity_types: Iterable[str], label: str, *, limit: int = 200
) -> list[EventRow]:
    """A record's events together with those of the rows that belong to it (recorded under its label)."""
    return _events(
        db,
        AuditEvent.project_id == project_id,
        col(AuditEvent.entity_type).in_(list(entity_types)),
        AuditEvent.entity_label == label,
        limit=limit,
    )


@dataclass(frozen=True)
class Trail:
    """A record's events as its page shows them, and the memo key they are kept under (the project's data versions):
    the page keeps their drawing under it too ({% kept %}), so a record viewed again before its project changes
    reads neither the trail nor draws it."""

    rows: list[EventRow]
    kept: tuple | None = None

    def __bool__(self) -> bool:
        return bool(self.rows)


NO_TRAIL = Trail([])


def kept_trail(db: Session, project_id: int, record: tuple, read: Callable[[], list[EventRow]]) -> Trail:
    """`read`'s events of `record` (a key naming it), kept until its project's record (or people's names) changes."""
    key = ("trail", record, versions.of(db, [project_id]))
    return Trail(memo.kept(key, lambda: _shared(db, read())), key)


def recent(db: Session, project_ids: list[int], *, limit: int = 20) -> Trail:
    """`for_projects`, kept until one of the projects (or people's names) changes."""
    ids = sorted(set(project_ids))
    key = ("recent", tuple(ids), limit, versions.of(db, ids))
    return Trail(memo.kept(key, lambda: _shared(db, for_projects(db, ids, limit=limit))), key)


def _shared(db: Session, rows: list[EventRow]) -> list[EventRow]:
    """Events to keep for other requests, out of this request's session."""
    detach(db, (row.event for row in rows))
    return rows


def for_projects(db: Session, project_ids: list[int], *, limit: int = 20) -> list[EventRow]:
    """The newest events across the projects: the newest `limit` of each project (each read backwards along its
    (project, at) index), then the newest of those, so the cost does not grow with the trail."""
    if not project_ids:
        return []
    newest = [
        select(AuditEvent.id)
        .where(AuditEvent.project_id == p)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
        .subquery()
        for p in sorted(set(project_ids))
    ]
    ids = union_all(*(select(n.c.id) for n in newest))
    return _events(db, col(AuditEvent.id).in_(ids), limit=limit)
