"""Data versions: the seam that lets figures computed from a project's record be kept until the record changes.

Every transaction that writes an audit event (tracker.audit.service.record: every change to the record does) moves
on, as it commits, the version of each project it touched (scope 0 for records of no project: people, the holiday
calendar, the organisation). The version is read in the reader's own transaction before anything it computes from,
so whatever it computes is at least as new as the version it is filed under (tracker.core.memo): a change is seen by
the very next request, in every server process, and nothing is ever served stale.

On PostgreSQL two writers of one project queue on its row as they commit, so versions commit in the order they
count; a version is seen only once its changes are."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from tracker.audit.models import DataVersion

GLOBAL = 0  # the scope of records of no project
TOUCHED = "data_versions_touched"  # session.info: the scopes this transaction's audit events touched
READ = "data_versions_read"  # session.info: the versions this transaction has read, by scope
# Events about how someone signs in, not about the record: no figure reads them, so they move no version (a morning
# of sign-ins would otherwise set every kept figure aside).
SIGN_IN_ACTIONS = frozenset(
    {
        *("sign_in", "sign_in_failed", "sign_out", "sso_refused", "password", "sign_out_all", "revoke"),
        *("mfa_enrol", "mfa_disable", "mfa_codes", "mfa_recovery"),
    }
)


def touched(db: Session, project_id: int | None, action: str) -> None:
    """Called for each audit event: its project's version moves on when the transaction commits."""
    if action not in SIGN_IN_ACTIONS:
        db.info.setdefault(TOUCHED, set()).add(project_id or GLOBAL)


def of(db: Session, project_ids: Iterable[int]) -> tuple[tuple[int, int], ...]:
    """The versions of these projects and of the records of no project, in one query: a key for what is computed
    from them. A scope never changed reads 0. Read once per transaction (a page asks for its project's several times):
    what the transaction computes after is at least as new as what it read first, which is all a key must promise."""
    scopes = sorted({GLOBAL, *project_ids})
    known: dict[int, int] = db.info.setdefault(READ, {})
    if missing := [s for s in scopes if s not in known]:
        found = dict(db.exec(select(DataVersion.scope, DataVersion.n).where(col(DataVersion.scope).in_(missing))).all())
        known.update({s: found.get(s, 0) for s in missing})
    return tuple((s, known[s]) for s in scopes)


def _insert(dialect: str) -> Any:
    return (postgresql if dialect == "postgresql" else sqlite).insert(DataVersion)


@event.listens_for(Session, "before_commit")
def _move_on(session: Session) -> None:
    scopes = session.info.pop(TOUCHED, None)
    if not scopes:
        return
    conn = session.connection()
    insert = _insert(conn.dialect.name)
    for scope in sorted(scopes):  # one order for every writer, so two never wait on each other's rows crosswise
        stmt = insert.values(scope=scope, n=1)
        conn.execute(stmt.on_conflict_do_update(index_elements=["scope"], set_={"n": DataVersion.n + 1}))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(READ, None)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(TOUCHED, None)
    session.info.pop(READ, None)
