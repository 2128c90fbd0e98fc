"""Twenty wrong passwords for one account at once, through a real server: exactly LOGIN_MAX_FAILURES of them are
checked against the password, the others answer 429 with Retry-After, and the right password waits out the lockout
too."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from argon2 import PasswordHasher
from sqlmodel import Session

from tests.conftest import PASSWORD, make_settings, make_world
from tests.dbutil import fresh_database
from tests.live import serving
from tracker.accounts import service as accounts
from tracker.app import create_app
from tracker.cli import migrate_database
from tracker.core.db import make_engine

ATTEMPTS, MAX_FAILURES, LOCKOUT = 20, 5, 60


class CountingHasher(PasswordHasher):
    """The test's own hasher, counting each password checked (the library's work, not ours)."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.checked = 0
        self._lock = threading.Lock()

    def verify(self, hash, password) -> bool:
        with self._lock:
            self.checked += 1
        return super().verify(hash, password)


@pytest.fixture
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("login")) as url:
        migrate_database(url)
        engine = make_engine(url)
        with Session(engine) as db:
            make_world(db)
        engine.dispose()
        settings = make_settings(url, login_max_failures=MAX_FAILURES, login_lockout_seconds=LOCKOUT)
        with serving(create_app(settings)) as base:
            yield base


@contextmanager
def login_form(base: str) -> Iterator[tuple[httpx.Client, str]]:
    """A client that has opened the login page, and the form's CSRF token."""
    with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as client:
        yield client, re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def test_parallel_wrong_passwords_are_checked_exactly_max_failures_times(live, clock, monkeypatch):
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", hasher)
    barrier = threading.Barrier(ATTEMPTS)
    answers: list[httpx.Response] = []

    def attempt() -> None:
        with login_form(live) as (client, token):
            barrier.wait()
            answers.append(
                client.post("/login", data={"username": "staff", "password": "wrong-password", "_csrf_token": token})
            )

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    statuses = sorted(r.status_code for r in answers)
    assert statuses == [401] * MAX_FAILURES + [429] * (ATTEMPTS - MAX_FAILURES)
    assert hasher.checked == MAX_FAILURES
    for r in answers:
        if r.status_code == 429:
            assert 0 < int(r.headers["retry-after"]) <= LOCKOUT + 1  # whole seconds, rounded up
            assert "Too many failed sign-in attempts" in r.text

    with login_form(live) as (client, token):
        right = {"username": "staff", "password": PASSWORD, "_csrf_token": token}
        refused = client.post("/login", data=right)  # the right password waits out the lockout too
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert hasher.checked == MAX_FAILURES
        clock.advance(seconds=LOCKOUT + 1)
        assert client.post("/login", data=right).status_code == 303
