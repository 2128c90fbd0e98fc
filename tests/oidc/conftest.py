"""A real OpenID provider for the single sign-on tests: Node's oidc-provider (tests/oidc/provider.mjs) on a socket
bound here, its clock set to the app's pinned clock, and helpers that sign in at it as a person would."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tracker.core.clock import utcnow

SCRIPT = Path(__file__).with_name("provider.mjs")
ROOT = SCRIPT.parents[2]
PROVIDER_PASSWORD = "provider-password"  # every account's at the test provider
CLIENT_ID, CLIENT_SECRET = "tracker", "tracker-secret"
APP_BASE = "http://127.0.0.1:8000"  # the app's TRACKER_BASE_URL in tests (the default): callbacks are made from it


@dataclass
class Idp:
    issuer: str

    def fault(self, kind: str) -> None:
        """Spoil the next ID token the token endpoint answers: audience, expired, signature, unknown_key, nonce."""
        httpx.post(f"{self.issuer}/__test/fault", data={"fault": kind}).raise_for_status()

    def rotate(self) -> None:
        httpx.post(f"{self.issuer}/__test/rotate").raise_for_status()

    def stats(self) -> dict:
        return httpx.get(f"{self.issuer}/__test/stats").json()


def _clean_env() -> dict[str, str]:
    """The environment without libfaketime: the provider runs on the machine's clock, moved to the app's by `now`."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("LD_PRELOAD", "FAKETIME", "DONT_FAKE"))}


@contextmanager
def running_provider(app_base: str, keys: tuple[str, ...]) -> Iterator[Idp]:
    """The provider until the block ends, its client `tracker` sending codes to the app at `app_base` for the
    providers named `keys`."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = {
        "issuer": issuer,
        "fd": sock.fileno(),
        "now": int(utcnow().timestamp() * 1000),
        "redirect_uris": [f"{app_base}/login/oidc/{key}/callback" for key in keys],
        "post_logout_redirect_uris": [f"{app_base}/login"],
    }
    process = subprocess.Popen(
        ["node", str(SCRIPT), json.dumps(config)],
        pass_fds=[sock.fileno()],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_clean_env(),
        cwd=ROOT,
    )
    try:
        assert process.stdout.readline().strip() == b"ready", "the test OpenID provider did not start"
        yield Idp(issuer)
    finally:
        process.terminate()
        process.wait(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def idp() -> Iterator[Idp]:
    with running_provider(APP_BASE, ("test-idp", "default")) as provider:
        yield provider


def login_at_provider(location: str, account: str, password: str = PROVIDER_PASSWORD, browser=None) -> str:
    """Follows the app's redirect to the provider, signs in on its own form, and answers the app's callback address
    (path and query) that the provider sends the browser to."""
    browser = browser or httpx.Client()
    r = browser.get(location)
    while r.status_code in (302, 303) and not r.headers["location"].startswith(APP_BASE):
        r = browser.get(httpx.URL(str(r.url)).join(r.headers["location"]))
        if r.status_code == 200 and 'name="password"' in r.text:
            action = re.search(r'<form method="post" action="([^"]+)"', r.text).group(1)
            r = browser.post(httpx.URL(str(r.url)).join(action), data={"login": account, "password": password})
    assert r.status_code in (302, 303), r.text[:500]
    target = urlsplit(r.headers["location"])
    return f"{target.path}?{target.query}"
