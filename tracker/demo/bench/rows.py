"""The generated rows, held per table until written. Ids are renumbered in the order the rows came to be, as the
app's would be (so one project's rows interleave with the others' on disk, as in real use), then each table is
written in bulk: SQLAlchemy Core executemany in batches, or COPY on PostgreSQL."""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table, insert, text
from sqlalchemy.engine import Connection

from tracker.models import metadata

BATCH = 20_000


def spread(rng: random.Random, mix: dict[Any, int], count: int) -> list[Any]:
    """`count` values: each value of the mix once first (so every one occurs), then drawn by weight."""
    values = list(mix)[:count]
    return values + rng.choices(list(mix), list(mix.values()), k=count - len(values))


class Rows:
    """One table's rows, each with the moment it was created."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.rows: list[dict[str, Any]] = []
        self.moments: list[datetime] = []
        self.numbered = "id" in table.c

    def add(self, moment: datetime, **values: Any) -> int:
        """Keep a row; returns its id, provisional until `renumber`."""
        if self.numbered:
            values["id"] = len(self.rows) + 1
        self.rows.append(values)
        self.moments.append(moment)
        return len(self.rows)

    def renumber(self) -> list[int]:
        """Give ids in time order (ties keep the order of creation); returns new id by provisional id."""
        order = sorted(range(len(self.rows)), key=self.moments.__getitem__)
        new = [0] * (len(self.rows) + 1)
        for rank, i in enumerate(order, start=1):
            new[i + 1] = rank
        self.rows = [self.rows[i] for i in order]
        self.moments = []
        for row in self.rows:
            row["id"] = new[row["id"]]
        return new


@dataclass(frozen=True)
class ActionChanges:
    """An action item's audit changes name the item's id, known only once the ids are final."""

    item_id: int
    build: Callable[[int], dict[str, Any]]


class Trail:
    """The audit events, as tuples (at, actor_id, project_id, entity_type, entity_id, label, action, changes): those
    held in memory, and those made only as the trail is written (`later`), the bulk of it at the larger scales."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.streams: list[Iterator[tuple]] = []
        self.streamed = 0
        self.new_ids: dict[str, list[int]] = {}

    def add(
        self,
        at: datetime,
        actor_id: int | None,
        project_id: int | None,
        entity_type: str,
        entity_id: int,
        label: str,
        action: str,
        changes: dict[str, Any] | ActionChanges,
    ) -> None:
        self.events.append((at, actor_id, project_id, entity_type, entity_id, label[:200], action, changes))

    def later(self, count: int, events: Iterator[tuple]) -> None:
        """`count` events, in time order, made as they are written."""
        self.streams.append(events)
        self.streamed += count

    def __len__(self) -> int:
        return len(self.events) + self.streamed

    def finish(self, new_ids: dict[str, list[int]]) -> None:
        """The events held in time order; the final ids by table, for `rows`."""
        self.events.sort(key=itemgetter(0))
        self.new_ids = new_ids

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every event in time order (ties in the order they were added, the streams' last) with the final ids: the
        actor's, the project's and the entity's (an entity type is its table's name)."""
        new_ids = self.new_ids
        users, projects, actions = new_ids["app_user"], new_ids["project"], new_ids["action_item"]
        merged = heapq.merge(self.events, *self.streams, key=itemgetter(0))
        for n, (at, actor, project, etype, eid, label, action, changes) in enumerate(merged, start=1):
            if isinstance(changes, ActionChanges):
                changes = changes.build(actions[changes.item_id])
            yield {
                "id": n,
                "at": at,
                "actor_id": actor and users[actor],
                "project_id": project and projects[project],
                "entity_type": etype,
                "entity_id": new_ids[etype][eid] if etype in new_ids else eid,
                "entity_label": label,
                "action": action,
                "changes": changes,
            }


class Store:
    """Every table's rows and the audit trail."""

    def __init__(self) -> None:
        self.tables = {t.name: Rows(t) for t in metadata.sorted_tables if t.name != "audit_event"}
        self.trail = Trail()

    def __getitem__(self, name: str) -> Rows:
        return self.tables[name]

    def finish(self) -> None:
        """Renumber every table in time order and point every reference at the new ids."""
        new_ids = {name: rows.renumber() for name, rows in self.tables.items() if rows.numbered and rows.rows}
        for rows in self.tables.values():
            for column in rows.table.c:
                for fk in column.foreign_keys:
                    target = new_ids.get(fk.column.table.name)
                    if target is not None:
                        name = column.name
                        for row in rows.rows:
                            if row[name]:
                                row[name] = target[row[name]]
        for row in self.tables["decision"].rows:  # closes_id is a plain column: 0, or the conditional decision
            if row["closes_id"]:
                row["closes_id"] = new_ids["decision"][row["closes_id"]]
        for row in self.tables["criteria_version"].rows:  # criterion ids in a list, not a foreign key
            row["criterion_ids"] = [new_ids["criterion"][i] for i in row["criterion_ids"]]
        self.trail.finish(new_ids)

    def counts(self) -> dict[str, int]:
        return {name: len(rows.rows) for name, rows in self.tables.items()} | {"audit_event": len(self.trail)}

    def write(self, conn: Connection) -> None:
        """Parents before children, so every foreign key holds as each row arrives."""
        for table in metadata.sorted_tables:
            if table.name == "audit_event":
                write(conn, table, self.trail.rows())
            elif self.tables[table.name].rows:
                write(conn, table, iter(self.tables[table.name].rows))


def write(conn: Connection, table: Table, rows: Iterator[dict[str, Any]]) -> None:
    columns = [c.name for c in table.c]
    first = next(rows, None)
    if first is None:
        return
    if set(first) != set(columns):
        raise ValueError(f"{table.name}: rows must give every column; differ on {sorted(set(first) ^ set(columns))}")
    if conn.dialect.name == "postgresql":
        with _bare(conn, table):
            _copy(conn, table, columns, chain([first], rows))
        return
    batch = [first]
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            conn.execute(insert(table), batch)
            batch = []
    if batch:
        conn.execute(insert(table), batch)


@contextmanager
def _bare(conn: Connection, table: Table) -> Iterator[None]:
    """PostgreSQL: the table without its foreign keys and its indexes (but those of its primary key and unique
    constraints) while COPY fills it, then both made again, as pg_restore does: an index built from all the rows and
    a foreign key checked in one join cost a fraction of growing and checking them row by row (ten million audit
    events)."""
    found = conn.execute(
        text(
            "SELECT 'DROP INDEX ' || CAST(i.indexrelid AS regclass), pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = CAST(:t AS regclass) "
            "AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
            "UNION ALL SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname), "
            "format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) "
            "FROM pg_constraint c WHERE c.conrelid = CAST(:t AS regclass) AND c.contype = 'f'"
        ),
        {"t": f'"{table.name}"'},
    ).all()
    for drop, _ in found:
        conn.exec_driver_sql(drop)
    yield
    for _, create in found:
        conn.exec_driver_sql(create)


def _copy(conn: Connection, table: Table, columns: list[str], rows: Iterator[dict[str, Any]]) -> None:
    """COPY FROM STDIN through the session's own psycopg connection (same transaction); JSON goes as its text."""
    values = itemgetter(*columns)
    as_json = [n for n, c in enumerate(table.c) if isinstance(c.type, JSON)]
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        if not as_json:
            for row in rows:
                copy.write_row(values(row))
            return
        for row in rows:
            line = list(values(row))
            for n in as_json:
                if line[n] is not None:
                    line[n] = json.dumps(line[n])
            copy.write_row(line)


def reset_sequences(conn: Connection) -> None:
    """PostgreSQL: ids were given explicitly, so each id sequence must continue after the highest."""
    for table in metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f'COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM "{table.name}"'
                )
            )
