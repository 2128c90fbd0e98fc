"""A decision with text at every field's maximum, one comment a single unbroken word, made through a real server
while twenty people sign in and twenty read pages: everyone is answered (how fast is the benchmarks' business; the
figures are printed), and (on SQLite)
no request keeps the write lock while its letters render, nor while an uploaded file is written to the store."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.conftest import PASSWORD, agree_criteria, make_settings, make_world
from tests.dbutil import IS_SQLITE, fresh_database
from tests.live import serving
from tests.register.conftest import acting, make_issue
from tracker.app import create_app
from tracker.cli import migrate_database
from tracker.core.db import make_engine, session_factory_for
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.deliverables import decisions, planning, records, reviews, submissions
from tracker.deliverables.models import Decision, GeneratedRecord

READERS = SIGN_INS = 20
COMMENT_MAX = reviews.CommentForm.model_fields["text"].metadata[-1].max_length
FINDINGS_MAX = decisions.DecisionForm.model_fields["findings"].metadata[-1].max_length


def _words(n: int) -> str:
    return ("Section 4.2 omits the interface control table and the rollback plan. " * (n // 60 + 1))[:n]


@pytest.fixture
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, int]]:
    tmp = tmp_path_factory.mktemp("lock")
    with fresh_database(tmp) as url:
        migrate_database(url)
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as db:
            world = make_world(db)

            manager, m_access = acting(db, world, "manager")
            contractor, c_access = acting(db, world, "contractor")
            store = FileStore(tmp / "uploads", 1024 * 1024)
            d = planning.create(
                db,
                manager,
                m_access,
                parse(
                    planning.DeliverableForm,
                    {
                        "code": "D-01",
                        "title": "Data Conversion Plan",
                        "criteria": "Covers every interface",
                        "payment_amount": "1000",
                        "holdback_pct": "10",
                    },
                ),
            )
            agree_criteria(db, world, d)
            submissions.submit(db, contractor, c_access, d, "", [submissions.Upload("v1.pdf", "", b"%PDF-1")], store)
            reviews.start_review(db, manager, m_access, d)
            # Every comment at its maximum, open in the letter; the first one a single word that long.
            for n in range(12):
                text = "x" * COMMENT_MAX if n == 0 else _words(COMMENT_MAX)
                reviews.add_comment(
                    db,
                    manager,
                    m_access,
                    d,
                    parse(reviews.CommentForm, {"text": text, "location": _words(200), "severity": "critical"}),
                )
            issue = make_issue(db, world)
            db.commit()
            deliverable_id, issue_id = d.id, issue.id
        engine.dispose()
        settings = make_settings(url, login_max_failures=1000, upload_dir=tmp / "uploads")
        engine = make_engine(url)
        held = LockTimes(engine)
        try:
            with serving(create_app(settings, session_factory=session_factory_for(engine))) as base:
                yield base, url, deliverable_id, held, issue_id
        finally:
            engine.dispose()


def _signed_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    assert (
        client.post("/login", data={"username": username, "password": PASSWORD, "_csrf_token": token}).status_code
        == 303
    )
    return client


class LockTimes:
    """How long each write transaction of the app's engine held SQLite's write lock: from the moment its BEGIN
    IMMEDIATE returned (the engine's own listener runs first) to its commit or rollback."""

    def __init__(self, engine: Engine) -> None:
        self.started: dict[int, float] = {}
        self.longest = 0.0
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _begin(self, conn) -> None:
        if conn.get_execution_options().get("sqlite_immediate"):
            self.started[id(conn)] = time.perf_counter()

    def _end(self, conn) -> None:
        if (started := self.started.pop(id(conn), None)) is not None:
            self.longest = max(self.longest, time.perf_counter() - started)


def test_a_maximal_decision_keeps_nobody_waiting(live, clock, monkeypatch):
    rendering: list[float] = []
    real_render = records.render

    def timed_render(letter):
        started = time.perf_counter()
        try:
            return real_render(letter)
        finally:
            rendering.append(time.perf_counter() - started)

    monkeypatch.setattr(records, "render", timed_render)
    base, url, deliverable_id, held, _ = live
    manager = _signed_in(base, "manager")
    page = manager.get(f"/projects/TST/deliverables/{deliverable_id}").text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    answers: list[int] = []
    decided: dict[str, float] = {}

    def decide() -> None:
        started = time.perf_counter()
        r = manager.post(
            f"/projects/TST/deliverables/{deliverable_id}/decision",
            data={"outcome": "rejected", "findings": _words(FINDINGS_MAX), "version": version, "_csrf_token": token},
        )
        decided["seconds"], decided["status"] = time.perf_counter() - started, r.status_code

    def sign_in() -> None:
        client = _signed_in(base, "staff")
        try:
            answers.append(client.get("/").status_code)
        finally:
            client.close()

    readers = [_signed_in(base, "viewer") for _ in range(READERS)]

    def read(client: httpx.Client) -> None:
        answers.append(client.get(f"/projects/TST/deliverables/{deliverable_id}").status_code)

    threads = [threading.Thread(target=decide)]
    threads += [threading.Thread(target=sign_in) for _ in range(SIGN_INS)]
    threads += [threading.Thread(target=read, args=(c,)) for c in readers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)

    print(
        f"decision {decided.get('seconds', 0):.2f} s; letters rendered in {sum(rendering):.2f} s; "
        f"write lock held at most {held.longest * 1000:.0f} ms"
    )
    assert decided["status"] == 303, decided
    assert answers.count(200) == SIGN_INS + READERS, answers
    if IS_SQLITE:
        # The letters took seconds to render; no write transaction lasted that long, so none held the lock through
        # the rendering. (Each write takes milliseconds on a quiet machine; the figure above says how many here.)
        assert len(rendering) == 2 and 0 < held.longest < sum(rendering) / 2, (held.longest, rendering)
    engine = make_engine(url)
    with Session(engine) as db:
        decision = db.exec(select(Decision)).one()
        assert len(decision.findings) == FINDINGS_MAX
        assert len(db.exec(select(GeneratedRecord).where(GeneratedRecord.decision_id == decision.id)).all()) == 4
    engine.dispose()
    for c in [manager, *readers]:
        c.close()


def test_an_upload_is_written_before_the_write_lock_is_taken(live, monkeypatch):
    """The file's bytes are written and synced while no write transaction is open; keeping it inside the
    transaction is a rename. Through the page and the API, for a register record's file and a submission's."""
    base, url, deliverable_id, held, issue_id = live
    open_writes: list[int] = []
    real_stage = FileStore.stage

    def watched(store, chunks):
        open_writes.append(len(held.started))
        return real_stage(store, chunks)

    monkeypatch.setattr(FileStore, "stage", watched)
    manager = _signed_in(base, "manager")
    page = manager.get(f"/projects/TST/issues/{issue_id}").text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
    files = {"file": ("minutes.txt", b"Agreed: the contractor reruns the load test.", "text/plain")}
    r = manager.post(f"/projects/TST/issues/{issue_id}/attachments", data={"_csrf_token": token}, files=files)
    assert r.status_code == 303, r.text
    r = manager.post(
        f"/api/v1/projects/TST/issues/{issue_id}/attachments/", files=files, headers={"x-csrftoken": token}
    )
    assert r.status_code == 201, r.text
    contractor = _signed_in(base, "contractor")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', contractor.get("/").text).group(1)
    r = contractor.post(
        f"/projects/TST/deliverables/{deliverable_id}/submit",
        data={"_csrf_token": token, "notes": ""},
        files={"files": ("v2.pdf", b"%PDF-1.7 v2", "application/pdf")},
    )
    assert r.status_code == 409  # in review: refused, and the staged file is gone with the request
    assert open_writes == [0, 0, 0]
    for c in (manager, contractor):
        c.close()
