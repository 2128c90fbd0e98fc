"""The search index: one row per findable record — its kind, project, code, title, body and the path of its page —
built by one SELECT per kind (DOCUMENTS). One hook keeps it current: as a session commits, the rows of the indexed
records its flushes created, changed or deleted are written again. `reindex` rebuilds every row (the CLI, and bulk
loads that bypass the ORM).

A row's id tells its kind and record (KIND_BITS). On SQLite a small table beside the FTS5 table tells its project
(search_index_scope): FTS5 reads a whole row, body and all, to give one of its columns, so a search that checked
each match's project there read every matching text; the scope table answers from a few pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from itertools import chain
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    case,
    cast,
    delete,
    event,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlmodel import col

from tracker.deliverables.models import Comment, Deliverable, Submission
from tracker.library.models import SavedReport
from tracker.register.actions.models import ActionItem
from tracker.register.actions.service import PARENT_CODE, with_parents
from tracker.register.changes.models import ChangeRequest
from tracker.register.decisions.models import LoggedDecision
from tracker.register.issues.models import Issue
from tracker.register.lessons.models import Lesson
from tracker.register.meetings.models import Meeting
from tracker.register.risks.models import Risk
from tracker.reports.models import ReportStatus, StatusReport

# What the database puts around each matched word in titles and snippets: private-use characters, removed from the
# indexed text, so the page can escape everything and then turn only these into <mark>.
MARK_START, MARK_END = "\ue000", "\ue001"
KIND_BITS = 4  # a row's id is (record id << KIND_BITS) | the kind's number: one record's row is found by its key


@cache
def table(dialect: str) -> Table:
    """The index as SQLAlchemy sees it (no model: the migration builds it per dialect). SQLite keys the FTS5 row by
    its rowid, PostgreSQL by an id column; both read as `.c.id`."""
    return Table(
        "search_index",
        MetaData(),
        Column("rowid" if dialect == "sqlite" else "id", BigInteger, key="id", primary_key=True),
        Column("kind", String),
        Column("record_id", Integer),
        Column("project_id", Integer),
        Column("code", String),
        Column("title", String),
        Column("body", String),
        Column("path", String),
    )


@cache
def scope_table() -> Table:
    """SQLite: each index row's project, by the row's id (the migration builds it; the index's writes keep it)."""
    return Table(
        "search_index_scope",
        MetaData(),
        Column("id", BigInteger, primary_key=True),
        Column("project_id", Integer),
    )


def kind_number(ix: Table) -> Any:
    """A row's kind as its number (Document.number), read from its id alone."""
    return ix.c.id.bitwise_and((1 << KIND_BITS) - 1)


def record_id(ix: Table) -> Any:
    """A row's record id, read from its id alone."""
    return ix.c.id.bitwise_rshift(literal(KIND_BITS, Integer))  # PostgreSQL shifts a bigint by an integer


def _text(*parts: Any) -> Any:
    """Fields joined by line breaks into one searchable text."""
    out: Any = func.coalesce(parts[0], "")
    for part in parts[1:]:
        out = out + "\n" + func.coalesce(part, "")
    return out


def _path(prefix: str, record_id: Any) -> Any:
    return literal(prefix) + cast(record_id, String)


@dataclass(frozen=True)
class Document:
    kind: str
    number: int  # below 2**KIND_BITS, never reused
    model: type
    fields: tuple[str, ...]  # the attributes the document reads: a flush that changes none of them leaves the row
    build: Callable[[], Select]  # record_id, project_id, code, title, body, path; filtered by the model's id
    # Rows of other kinds that show this record's code: (their kind, the select of their ids under these records).
    carries: tuple[tuple[str, Callable[[list[int]], Select]], ...] = ()


DOCUMENTS = (
    Document(
        "deliverable",
        1,
        Deliverable,
        ("project_id", "code", "title", "description", "withdrawn_reason"),
        lambda: select(
            Deliverable.id,
            Deliverable.project_id,
            Deliverable.code,
            Deliverable.title,
            _text(Deliverable.description, Deliverable.withdrawn_reason),
            _path("deliverables/", Deliverable.id),
        ),
        carries=(
            (
                "comment",
                lambda ids: (
                    select(Comment.id)
                    .join(Submission, col(Submission.id) == Comment.submission_id)
                    .where(col(Submission.deliverable_id).in_(ids))
                ),
            ),
        ),
    ),
    Document(
        "comment",
        2,
        Comment,
        ("location", "text", "response"),
        lambda: (
            select(
                Comment.id,
                Deliverable.project_id,
                Deliverable.code,
                literal("Comment #") + cast(Comment.id, String) + " on version " + cast(Submission.number, String),
                _text(Comment.location, Comment.text, Comment.response),
                _path("deliverables/", Deliverable.id) + "#comment-" + cast(Comment.id, String),
            )
            .join(Submission, col(Submission.id) == Comment.submission_id)
            .join(Deliverable, col(Deliverable.id) == Submission.deliverable_id)
        ),
    ),
    Document(
        "risk",
        3,
        Risk,
        ("project_id", "code", "title", "statement", "trigger", "mitigation_plan", "contingency_plan"),
        lambda: select(
            Risk.id,
            Risk.project_id,
            Risk.code,
            Risk.title,
            _text(Risk.statement, Risk.trigger, Risk.mitigation_plan, Risk.contingency_plan),
            _path("risks/", Risk.id),
        ),
        carries=(("action", lambda ids: select(ActionItem.id).where(col(ActionItem.risk_id).in_(ids))),),
    ),
    Document(
        "issue",
        4,
        Issue,
        ("project_id", "code", "title", "description", "impact", "resolution", "escalation_reason"),
        lambda: select(
            Issue.id,
            Issue.project_id,
            Issue.code,
            Issue.title,
            _text(Issue.description, Issue.impact, Issue.resolution, Issue.escalation_reason),
            _path("issues/", Issue.id),
        ),
        carries=(("action", lambda ids: select(ActionItem.id).where(col(ActionItem.issue_id).in_(ids))),),
    ),
    Document(
        "change",
        5,
        ChangeRequest,
        ("project_id", "code", "title", "description", "reason", "scope_impact"),
        lambda: select(
            ChangeRequest.id,
            ChangeRequest.project_id,
            ChangeRequest.code,
            ChangeRequest.title,
            _text(ChangeRequest.description, ChangeRequest.reason, ChangeRequest.scope_impact),
            _path("changes/", ChangeRequest.id),
        ),
    ),
    Document(
        "action",
        6,
        ActionItem,
        ("project_id", "description", "risk_id", "issue_id", "meeting_id", "plan"),
        lambda: with_parents(
            select(
                ActionItem.id,
                ActionItem.project_id,
                func.coalesce(PARENT_CODE, ""),
                ActionItem.description,
                literal(""),
                case(
                    (col(ActionItem.risk_id).is_not(None), _path("risks/", ActionItem.risk_id) + "#"),
                    (col(ActionItem.issue_id).is_not(None), _path("issues/", ActionItem.issue_id) + "#"),
                    else_=_path("meetings/", ActionItem.meeting_id) + "#",
                )
                + case((col(ActionItem.plan).in_(("issue", "meeting")), "actions"), else_=ActionItem.plan + "-plan"),
            )
        ),
    ),
    Document(
        "report",
        7,
        StatusReport,
        ("status", "summary", "decisions", "next_steps"),
        # Published reports only: a draft's figures are computed live, and its narrative is still being written.
        lambda: select(
            StatusReport.id,
            StatusReport.project_id,
            literal(""),
            literal("Status report, week ending ") + cast(StatusReport.period_end, String),
            _text(StatusReport.summary, StatusReport.decisions, StatusReport.next_steps),
            _path("status-reports/", StatusReport.id),
        ).where(StatusReport.status == ReportStatus.PUBLISHED),
    ),
    Document(
        "saved_report",
        8,
        SavedReport,
        ("project_id", "name", "description"),
        lambda: select(
            SavedReport.id,
            SavedReport.project_id,
            literal(""),
            SavedReport.name,
            SavedReport.description,
            _path("saved-reports/", SavedReport.id),
        ),
    ),
    Document(
        "lesson",
        9,
        Lesson,
        ("project_id", "code", "title", "description", "impact", "recommendation", "phase"),
        lambda: select(
            Lesson.id,
            Lesson.project_id,
            Lesson.code,
            Lesson.title,
            _text(Lesson.description, Lesson.impact, Lesson.recommendation, Lesson.phase),
            _path("lessons/", Lesson.id),
        ),
    ),
    Document(
        "meeting",
        10,
        Meeting,
        ("project_id", "code", "title", "agenda", "notes", "external_attendees"),
        lambda: select(
            Meeting.id,
            Meeting.project_id,
            Meeting.code,
            Meeting.title,
            _text(Meeting.agenda, Meeting.notes, Meeting.external_attendees),
            _path("meetings/", Meeting.id),
        ),
        carries=(("action", lambda ids: select(ActionItem.id).where(col(ActionItem.meeting_id).in_(ids))),),
    ),
    Document(
        "decision",
        11,
        LoggedDecision,
        ("project_id", "code", "title", "context", "options", "decided_by"),
        lambda: select(
            LoggedDecision.id,
            LoggedDecision.project_id,
            LoggedDecision.code,
            LoggedDecision.title,
            _text(LoggedDecision.context, LoggedDecision.options, LoggedDecision.decided_by),
            _path("decisions/", LoggedDecision.id),
        ),
    ),
)
BY_KIND = {d.kind: d for d in DOCUMENTS}
BY_MODEL = {d.model: d for d in DOCUMENTS}


def _clean(text: Any) -> Any:
    return func.replace(func.replace(text, MARK_START, ""), MARK_END, "")


def _write(conn: Connection, doc: Document, ids: Iterable[int] | None) -> None:
    """Write the rows of these records of one kind again (every record of the kind when `ids` is None)."""
    index = table(conn.dialect.name)
    if ids is not None:
        ids = sorted(set(ids))
        for kind, under in doc.carries:  # a changed code reaches the rows that show it
            carried = conn.execute(under(ids)).scalars().all()
            if carried:
                _write(conn, BY_KIND[kind], carried)
        keys = [(i << KIND_BITS) | doc.number for i in ids]
        conn.execute(delete(index).where(index.c.id.in_(keys)))
        if conn.dialect.name == "sqlite":
            conn.execute(delete(scope_table()).where(scope_table().c.id.in_(keys)))
    stmt = doc.build()
    if ids is not None:
        stmt = stmt.where(doc.model.id.in_(ids))
    rows = stmt.subquery()
    record, project_id, code, title, body, path = rows.c
    key = record * (1 << KIND_BITS) + doc.number
    conn.execute(
        insert(index).from_select(
            ["id", "kind", "record_id", "project_id", "code", "title", "body", "path"],
            select(key, literal(doc.kind), record, project_id, code, _clean(title), _clean(body), path),
        )
    )
    if conn.dialect.name == "sqlite":
        conn.execute(insert(scope_table()).from_select(["id", "project_id"], select(key, project_id)))


def reindex(conn: Connection) -> None:
    """Every row again, in one statement per kind (after a bulk load, or to repair the index)."""
    conn.execute(delete(table(conn.dialect.name)))
    if conn.dialect.name == "sqlite":
        conn.execute(delete(scope_table()))
    for doc in DOCUMENTS:
        _write(conn, doc, None)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO search_index(search_index) VALUES ('optimize')")


def _touched(session: Session) -> dict[Document, set[int]]:
    found: dict[Document, set[int]] = defaultdict(set)
    for obj in chain(session.new, session.deleted):
        doc = BY_MODEL.get(type(obj))
        if doc is not None and obj.id is not None:
            found[doc].add(obj.id)
    for obj in session.dirty:
        doc = BY_MODEL.get(type(obj))
        if doc is not None:
            state = sa_inspect(obj)
            if any(state.attrs[f].history.has_changes() for f in doc.fields):
                found[doc].add(obj.id)
    return found


PENDING = "search_index_pending"  # session.info: the records flushed since the index was last written


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    for doc, ids in _touched(session).items():
        session.info.setdefault(PENDING, defaultdict(set))[doc] |= ids


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    """The one hook that keeps the index current: every session (pages, API, CLI, tests) writes again, as it commits,
    the rows of the records its flushes created, changed or deleted, in the same transaction, so they commit or roll
    back together; once per kind however many flushes came before. Ids left from a rolled-back savepoint are only
    written again from the records as they are."""
    session.flush()
    pending = session.info.pop(PENDING, None)
    if pending:
        conn = session.connection()
        for doc, ids in pending.items():
            _write(conn, doc, ids)
