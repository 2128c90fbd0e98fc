"""Durability under a stream of writes: kill -9 of a real `tracker serve` loses no acknowledged write and leaves
nothing half-written; `tracker backup` taken mid-stream restores (`tracker restore`) into a fresh database as one
consistent moment. Three writers run at once through the API: risks created one after another, decisions logged on
an issue, and a deliverable cycling through submit (with a file), start review and reject (with its letters).

Slow for the suite (a server process started twice, letters rendered): run it with
`.venv/bin/pytest bench/test_durability.py` (PostgreSQL: set TRACKER_TEST_DATABASE as for the suite)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from tests.conftest import agree_criteria, make_settings, make_world
from tests.dbutil import IS_SQLITE, fresh_database
from tests.live import free_port, serving
from tracker.accounts import service as accounts
from tracker.app import create_app
from tracker.cli import migrate_database
from tracker.core.db import make_engine
from tracker.core.files import FileStore

TRACKER = str(Path(sys.executable).parent / "tracker")


def _seed(url: str) -> tuple[dict, dict]:
    from tests.register.conftest import acting, make_issue
    from tracker.core.forms import parse
    from tracker.deliverables import planning

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        world = make_world(db)
        manager, access = acting(db, world, "manager")
        d = planning.create(
            db,
            manager,
            access,
            parse(planning.DeliverableForm, {"code": "D-01", "title": "Plan", "criteria": "Covers every interface"}),
        )
        agree_criteria(db, world, d)  # a submission waits for the agreed criteria
        issue = make_issue(db, world)
        tokens = {
            role: accounts.create_token(db, acting(db, world, role)[0], "stream")[1]
            for role in ("manager", "staff", "contractor")
        }
        db.commit()
        ids = {"deliverable": d.id, "issue": issue.id, "staff": world.ids["staff"]}
    engine.dispose()
    return ids, tokens


class Stream:
    """Writers that keep going until stopped. `sent` holds every write tried, `acked` those answered 2xx."""

    def __init__(self, base: str, ids: dict, tokens: dict) -> None:
        self.base, self.ids, self.tokens = base, ids, tokens
        self.sent: dict[str, list] = {"risk": [], "decision": [], "cycle": []}
        self.acked: dict[str, list] = {"risk": [], "decision": [], "cycle": []}
        self.errors: list[str] = []  # 5xx answers
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(kind,)) for kind in self.sent]

    def _client(self, role: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {self.tokens[role]}"}, timeout=30)

    def _run(self, kind: str) -> None:
        step: Callable[[int], tuple[object, httpx.Response]] = getattr(self, f"_{kind}")
        n = 0
        while not self.stop.is_set():
            try:
                key, r = step(n)
            except httpx.HTTPError:  # the server is down or was killed mid-answer: unacknowledged
                time.sleep(0.02)
                continue
            finally:
                n += 1
            if r.status_code >= 500:
                self.errors.append(f"{kind} {n}: {r.status_code} {r.text[:200]}")
            if r.is_success:
                self.acked[kind].append(key)

    def _risk(self, n: int) -> tuple[str, httpx.Response]:
        title = f"risk {n:05d}"
        self.sent["risk"].append(title)
        with self._client("staff") as c:
            return title, c.post(
                "/api/v1/projects/TST/risks",
                json={"title": title, "probability": 2, "impact": 3, "owner_id": self.ids["staff"]},
            )

    def _decision(self, n: int) -> tuple[str, httpx.Response]:
        text_ = f"decision {n:05d}"
        self.sent["decision"].append(text_)
        with self._client("staff") as c:
            return text_, c.post(
                f"/api/v1/issues/{self.ids['issue']}/decisions", json={"decision": text_, "decided_by": "Board"}
            )

    def _cycle(self, n: int) -> tuple[str, httpx.Response]:
        url = f"/api/v1/deliverables/{self.ids['deliverable']}"
        step = ("submit", "start_review", "reject")[n % 3]
        self.sent["cycle"].append(step)
        if step == "submit":
            with self._client("contractor") as c:
                r = c.post(f"{url}/submissions", data={"notes": f"v{n}"}, files={"files": (f"v{n}.pdf", f"%PDF {n}")})
            return (step, r.json()["number"] if r.is_success else None), r
        with self._client("manager") as c:
            if step == "start_review":
                return (step, None), c.post(f"{url}/transition", json={"action": "start_review"})
            return (step, None), c.post(f"{url}/decision", json={"outcome": "rejected", "findings": f"Round {n}"})

    def __enter__(self) -> Stream:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)

    def wait_for(self, risks: int, cycles: int, limit: float = 60) -> None:
        deadline = time.time() + limit
        while (len(self.acked["risk"]) < risks or len(self.acked["cycle"]) < cycles) and time.time() < deadline:
            time.sleep(0.02)


def check_consistent(url: str, uploads: Path) -> dict[str, list]:
    """Integrity and the rules no crash may break; returns what is stored, in order."""
    if url.startswith("sqlite"):
        with sqlite3.connect(make_url(url).database) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    engine = make_engine(url)
    with engine.connect() as conn:

        def one(sql: str) -> int:
            return conn.execute(text(sql)).scalar_one()

        def rows(sql: str) -> list:
            return [r[0] for r in conn.execute(text(sql))]

        # Nothing half-written: each row has the rows written in its transaction.
        assert (
            one(
                "SELECT count(*) FROM submission s WHERE NOT EXISTS "
                "(SELECT 1 FROM submission_file f WHERE f.submission_id = s.id)"
            )
            == 0
        )
        assert (
            one(
                "SELECT count(*) FROM decision d WHERE NOT EXISTS (SELECT 1 FROM audit_event a WHERE "
                "a.entity_type = 'deliverable' AND a.entity_id = d.deliverable_id AND a.action = 'reject')"
            )
            == 0
        )
        # A decision's letter and sign-off, PDF and DOCX, are rendered after it commits: all four, or none yet.
        assert (
            one(
                "SELECT count(*) FROM decision d WHERE (SELECT count(*) FROM generated_record g "
                "WHERE g.decision_id = d.id) NOT IN (0, 4)"
            )
            == 0
        )
        assert (
            one(
                "SELECT count(*) FROM risk r WHERE NOT EXISTS (SELECT 1 FROM audit_event a WHERE "
                "a.entity_type = 'risk' AND a.entity_id = r.id AND a.action = 'create')"
            )
            == 0
        )
        assert one("SELECT count(*) FROM issue_decision") == one(
            "SELECT count(*) FROM audit_event WHERE entity_type = 'issue' AND action = 'decision'"
        )
        assert one("SELECT count(*) FROM audit_event WHERE entity_type = 'deliverable' AND action = 'reject'") == one(
            "SELECT count(*) FROM decision"
        )
        store = FileStore(uploads, 1)
        for sha in rows("SELECT sha256 FROM submission_file UNION SELECT sha256 FROM generated_record"):
            assert store.path_for(sha).is_file(), sha
        stored = {
            "risk": rows("SELECT title FROM risk ORDER BY id"),
            "decision": rows("SELECT decision FROM issue_decision ORDER BY id"),
            "submission": rows("SELECT number FROM submission ORDER BY id"),
        }
    engine.dispose()
    return stored


def _serve(url: str, uploads: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": url,
        "TRACKER_ENV": "test",
        "TRACKER_SECRET_KEY": "durability-" + "x" * 32,
        "TRACKER_UPLOAD_DIR": str(uploads),
        "TRACKER_DISPATCH_SECONDS": "0",
    }
    proc = subprocess.Popen([TRACKER, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("tracker serve did not start")


def test_kill_minus_nine_mid_stream_loses_no_acknowledged_write(tmp_path):
    uploads = tmp_path / "uploads"
    with fresh_database(tmp_path) as url:
        migrate_database(url)
        ids, tokens = _seed(url)
        proc, base = _serve(url, uploads)
        try:
            with Stream(base, ids, tokens) as stream:
                stream.wait_for(risks=10, cycles=3)
                os.kill(proc.pid, signal.SIGKILL)  # mid-stream: some writes are in flight
                proc.wait(timeout=10)
            assert len(stream.acked["risk"]) >= 10 and len(stream.acked["cycle"]) >= 3 and not stream.errors
            stored = check_consistent(url, uploads)
            for kind in ("risk", "decision"):
                assert set(stream.acked[kind]) <= set(stored[kind]) <= set(stream.sent[kind]), kind
            acked_versions = [number for step, number in stream.acked["cycle"] if step == "submit"]
            assert set(acked_versions) <= set(stored["submission"])
            _cli(url, "clocks")  # the letters of decisions the kill left unrendered
            assert (
                _count(
                    url,
                    "SELECT count(*) FROM decision d WHERE NOT EXISTS "
                    "(SELECT 1 FROM generated_record g WHERE g.decision_id = d.id)",
                )
                == 0
            )
            proc, base = _serve(url, uploads)  # and the app comes back on the same database
            r = httpx.get(f"{base}/api/v1/projects/TST/risks", headers={"Authorization": f"Bearer {tokens['staff']}"})
            assert r.status_code == 200 and r.json()["total"] == len(stored["risk"])
        finally:
            proc.kill()
            proc.wait(timeout=10)


def _count(url: str, sql: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return value


def _cli(url: str, *args: str) -> str:
    env = os.environ | {"DATABASE_URL": url}
    result = subprocess.run([TRACKER, *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_backup_taken_mid_stream_restores_one_consistent_moment(tmp_path):
    uploads = tmp_path / "uploads"
    dump = tmp_path / ("backup.db" if IS_SQLITE else "backup.dump")
    with fresh_database(tmp_path) as url, fresh_database(tmp_path) as restored_url:
        migrate_database(url)
        ids, tokens = _seed(url)
        app = create_app(make_settings(url, upload_dir=uploads))
        with serving(app) as base, Stream(base, ids, tokens) as stream:
            stream.wait_for(risks=10, cycles=3)
            before = {kind: list(acked) for kind, acked in stream.acked.items()}
            _cli(url, "backup", str(dump))
            after = {kind: list(acked) for kind, acked in stream.acked.items()}
            stream.wait_for(risks=len(after["risk"]) + 5, cycles=0)  # writes go on after the copy
        assert not stream.errors
        _cli(restored_url, "restore", str(dump))
        restored = check_consistent(restored_url, uploads)
        for kind in ("risk", "decision"):
            # One writer per kind, one write after another: a consistent moment holds a prefix of the sequence,
            # at least everything acknowledged before the backup began, at most what was sent before it ended.
            assert restored[kind] == stream.sent[kind][: len(restored[kind])], kind
            assert set(before[kind]) <= set(restored[kind]), kind
            assert len(restored[kind]) <= len(after[kind]) + 1, kind
        assert len(stream.acked["risk"]) > len(restored["risk"])  # the backup did not simply wait for the end
        if IS_SQLITE:  # the restored database is the backup, table by table
            with sqlite3.connect(dump) as a, sqlite3.connect(make_url(restored_url).database) as b:
                tables = [t for (t,) in a.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                assert "risk" in tables
                for t in tables:
                    assert (
                        a.execute(f'SELECT * FROM "{t}"').fetchall() == b.execute(f'SELECT * FROM "{t}"').fetchall()
                    ), t
        with serving(create_app(make_settings(restored_url, upload_dir=uploads))) as base:  # the copy serves
            r = httpx.get(f"{base}/api/v1/projects/TST/risks", headers={"Authorization": f"Bearer {tokens['staff']}"})
            assert r.status_code == 200 and r.json()["total"] == len(restored["risk"])
