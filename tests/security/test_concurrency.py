"""Many writers change the same risk and the same deliverable at once, through a real server: no update is lost.
Every accepted write is on the audit trail, each one's "from" is the write accepted before it, the stale ones got
409 (never a 5xx), and the row ends as the last accepted write left it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import Session, col, select

from tests.conftest import make_settings, make_world
from tests.dbutil import fresh_database
from tests.live import serving
from tracker.accounts import service as accounts
from tracker.app import create_app
from tracker.audit.models import AuditEvent
from tracker.cli import migrate_database
from tracker.core.db import make_engine

WRITERS, WRITES = 8, 5


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    from tests.register.conftest import acting, make_risk
    from tracker.core.forms import parse
    from tracker.deliverables import planning

    with fresh_database(tmp_path_factory.mktemp("race")) as url:
        migrate_database(url)
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as db:
            world = make_world(db)
            manager, access = acting(db, world, "manager")
            staff, _ = acting(db, world, "staff")
            risk = make_risk(db, world, title="Original")
            d = planning.create(
                db, manager, access, parse(planning.DeliverableForm, {"code": "D-01", "title": "Original"})
            )
            tokens = {
                "manager": accounts.create_token(db, manager, "race")[1],
                "staff": accounts.create_token(db, staff, "race")[1],
            }
            db.commit()
            records = {
                "risk": (f"/api/v1/risks/{risk.id}", risk.id, ["manager", "staff"]),
                "deliverable": (f"/api/v1/deliverables/{d.id}", d.id, ["manager"]),
            }
        with serving(create_app(make_settings(url, upload_dir=tmp_path_factory.mktemp("up")))) as base:
            yield base, engine, records, tokens
        engine.dispose()


@pytest.mark.parametrize("kind", ["risk", "deliverable"])
def test_concurrent_writers_lose_no_update(live, kind):
    base, engine, records, tokens = live
    url, record_id, who = records[kind]
    barrier = threading.Barrier(WRITERS)
    answers: list[tuple[int, str, dict]] = []

    def writer(n: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[who[n % len(who)]]}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            barrier.wait()
            for i in range(WRITES):
                seen = client.get(url).json()["version"]
                title = f"writer {n} write {i}"
                r = client.patch(url, json={"title": title, "version": seen})
                answers.append((r.status_code, title, r.json()))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert len(answers) == WRITERS * WRITES
    assert {status for status, _, _ in answers} <= {200, 409}, [a for a in answers if a[0] not in (200, 409)]
    accepted = sorted((body["version"], title) for status, title, body in answers if status == 200)
    assert accepted and len(accepted) < len(answers), "the writers never raced"
    assert all(b["detail"] for status, _, b in answers if status == 409)
    with Session(engine) as db:
        events = db.exec(
            select(AuditEvent)
            .where(AuditEvent.entity_type == kind, AuditEvent.entity_id == record_id, AuditEvent.action == "update")
            .order_by(col(AuditEvent.id))
        ).all()
        titles = [e.changes["title"] for e in events]
        # Each accepted write is on the trail, in the order of the versions it made, and changed what the one
        # before it had written: nothing was overwritten unseen.
        assert [to for _, to in titles] == [title for _, title in accepted]
        assert [before for before, _ in titles] == ["Original"] + [title for _, title in accepted][:-1]
        assert len({version for version, _ in accepted}) == len(accepted)
        final = db.exec(select(AuditEvent).where(AuditEvent.id == events[-1].id)).one()
        assert final.changes["title"][1] == accepted[-1][1]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tokens['manager']}"}) as client:
        row = client.get(url).json()
    assert (row["version"], row["title"]) == accepted[-1]
