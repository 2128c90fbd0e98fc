"""The audit event: who changed what, when, from what to what. Never updated or deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_project_at", "project_id", "at"),
        Index("ix_audit_event_entity", "entity_type", "entity_id"),
        Index("ix_audit_event_project_label_at", "project_id", "entity_label", "at"),  # a record's timeline
        # The events that changed a record's status, by record and time (trends rebuild a risk's status at any
        # moment from them): a few rows per record among the many that change something else. Its condition is
        # written exactly as `changed("status", 1).is_not(None)` renders, so both databases match it.
        Index(
            "ix_audit_event_status",
            "entity_type",
            "entity_id",
            "at",
            sqlite_where=text("json_extract(changes, '$.\"status\"[1]') IS NOT NULL"),
            postgresql_where=text("(changes #>> '{status,1}') IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    project_id: int | None = Field(default=None, foreign_key="project.id")
    entity_type: str = Field(max_length=40)
    entity_id: int
    entity_label: str = Field(default="", max_length=200)
    action: str = Field(max_length=40)  # create, update, delete, transition, login, ...
    changes: dict = Field(default_factory=dict, sa_type=JSON)  # {"field": [from, to]}


class DataVersion(SQLModel, table=True):
    """How many committed transactions have changed a project's record (scope = its id; 0 = records of no project,
    such as people and the holiday calendar). Moved on by every transaction that writes an audit event, as it
    commits (tracker.audit.versions): what was computed from a project's record at version n is still true while the
    version is n."""

    __tablename__ = "data_version"

    scope: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    n: int = 0


class Changed(ColumnElement[str]):
    """One side of a field's change in an event, as text: `changes[field][side]` (0: from, 1: to), None where the
    event did not change the field. The path is written into the SQL, not bound, so a partial index whose
    condition names it (ix_audit_event_status) can be used."""

    inherit_cache = True
    type = String()
    _traverse_internals = [("field", InternalTraversal.dp_string), ("side", InternalTraversal.dp_plain_obj)]

    def __init__(self, field: str, side: int) -> None:
        if not field.isidentifier() or side not in (0, 1):
            raise ValueError(f"not a field's change: {field!r}, {side!r}")
        self.field, self.side = field, side


def changed(field: str, side: int) -> Changed:
    return Changed(field, side)


@compiles(Changed, "sqlite")
def _changed_sqlite(element: Changed, compiler: Any, **kw: Any) -> str:
    column = compiler.process(AuditEvent.__table__.c.changes, **kw)
    return f"json_extract({column}, '$.\"{element.field}\"[{element.side}]')"


@compiles(Changed, "postgresql")
def _changed_postgresql(element: Changed, compiler: Any, **kw: Any) -> str:
    column = compiler.process(AuditEvent.__table__.c.changes, **kw)
    return f"({column} #>> '{{{element.field},{element.side}}}')"
