"""Recording and reading audit events. Writes happen in the caller's transaction, so a change and
its audit row commit or roll back together."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import union_all
from sqlmodel import Session, SQLModel, col, func, select

from tracker.accounts.models import User
from tracker.audit.models import AuditEvent
from tracker.projects.models import Project


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
    return event


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    actor_name: str | None
    project_key: str | None


def _events(db: Session, *where: Any, limit: int, offset: int = 0) -> list[EventRow]:
    stmt = (
        select(AuditEvent, User.full_name, Project.key)
        .outerjoin(User, col(User.id) == AuditEvent.actor_id)
        .outerjoin(Project, col(Project.id) == AuditEvent.project_id)
        .where(*where)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return [EventRow(e, name, key) for e, name, key in db.exec(stmt)]


def for_project(db: Session, project_id: int, *, limit: int = 50, offset: int = 0) -> list[EventRow]:
    return _events(db, AuditEvent.project_id == project_id, limit=limit, offset=offset)


def count_for_project(db: Session, project_id: int) -> int:
    return db.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.project_id == project_id)).one()


def for_entity(db: Session, entity_type: str, entity_id: int, *, limit: int = 100) -> list[EventRow]:
    return _events(db, AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id, limit=limit)


def for_record(db: Session, project_id: int, entity_types: Iterable[str], label: str, *, limit: int = 200) -> list[EventRow]:
    """A record's events together with those of the rows that belong to it (recorded under its label)."""
    return _events(db, AuditEvent.project_id == project_id, col(AuditEvent.entity_type).in_(list(entity_types)),
                   AuditEvent.entity_label == label, limit=limit)  # fmt: skip


def for_projects(db: Session, project_ids: list[int], *, limit: int = 20) -> list[EventRow]:
    """The newest events across the projects: the newest `limit` of each project (each read backwards along its
    (project, at) index), then the newest of those, so the cost does not grow with the trail."""
    if not project_ids:
        return []
    newest = [select(AuditEvent.id).where(AuditEvent.project_id == p)
              .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit).subquery()
              for p in sorted(set(project_ids))]  # fmt: skip
    ids = union_all(*(select(n.c.id) for n in newest))
    return _events(db, col(AuditEvent.id).in_(ids), limit=limit)


ACTION_WORDS = {
    "create": "created", "update": "updated", "add_member": "added", "remove_member": "removed",
    "change_role": "changed the role of", "revoke": "revoked", "password": "changed the password of",
    "sign_out_all": "signed out every session of", "submit": "submitted", "resubmit": "resubmitted",
    "start_review": "started the review of", "accept": "accepted", "conditionally_accept": "conditionally accepted",
    "reject": "rejected", "conditions_met": "marked conditions met on", "withdraw": "withdrew",
    "deem_accept": "recorded deemed acceptance of", "criteria": "changed the criteria of",
    "assign_reviewer": "assigned a reviewer to", "comment": "commented on", "respond": "answered a comment on",
    "disposition": "set a comment disposition on", "criterion_result": "recorded a criterion result on",
    "escalate": "escalated the overdue review of",
    "generate_records": "generated the decision records of",
    "review": "reviewed", "convert": "converted into an issue", "add_action": "added an action item to",
    "update_action": "updated an action item of", "decision": "logged a decision on",
    "register_settings": "changed the register settings of", "import_risks": "imported risks into",
    "import_issues": "imported issues into",
    "update_report": "saved the draft of", "publish": "published", "report_targets": "changed the RAG thresholds "
    "and targets of",
}  # fmt: skip
ENTITY_WORDS = {"project": "project", "membership": "member", "app_user": "user", "api_token": "API token",
                "deliverable": "deliverable", "review_assignment": "deliverable", "comment": "deliverable",
                "criterion_result": "deliverable", "risk": "risk", "issue": "issue",
                "status_report": "status report"}  # fmt: skip


def describe(event: AuditEvent) -> str:
    """'created project', 'added member', ... for the history lists."""
    verb = ACTION_WORDS.get(event.action, event.action.replace("_", " "))
    return f"{verb} {ENTITY_WORDS.get(event.entity_type, event.entity_type.replace('_', ' '))}"


def show_value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(f"{v.get('date')} {v.get('name')}" if isinstance(v, dict) else str(v) for v in value)
    return str(value)
