"""A real HTTP receiver for webhook deliveries (http.server in a thread, on 127.0.0.1) that answers with the statuses
a test sets, keeps every request, and verifies signatures with the standardwebhooks library; and webhooks made
through the service."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from tests.register.conftest import acting
from tracker.core.clock import utcnow
from tracker.core.forms import parse
from tracker.webhooks import service


class PinnedVerifier(Verifier):
    """The library's verification, with the freshness of webhook-timestamp judged by the app's clock (the tests pin
    it to another date than the machine's)."""

    def _Webhook__verify_timestamp(self, timestamp_header: str) -> datetime:
        at = datetime.fromtimestamp(float(timestamp_header), tz=UTC)
        if abs(at - utcnow()) > timedelta(minutes=5):
            raise WebhookVerificationError("Message timestamp too old or too new")
        return at


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)  # answered in turn; 200 once they run out
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verified(self, secret: str) -> list[dict]:
        """Every request's payload, each verified with the secret (raises on a bad signature)."""
        return [PinnedVerifier(secret).verify(r.body, r.headers) for r in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with state.lock:
                state.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            if status in (301, 302, 307):
                self.send_header("location", "http://127.0.0.1:9/elsewhere")
            self.end_headers()
            self.wfile.write(b"received" if status < 300 else b"something broke")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/tracker?token=abc"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def make_webhook(db, world, url: str, events=("risk.created",), allow_private: bool = True, role: str = "manager"):
    actor, access = acting(db, world, role)
    form = parse(service.WebhookForm, {"url": url, "events": list(events)})
    return service.create(db, actor, access, form, allow_private)
