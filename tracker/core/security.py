"""Security headers on every response, limits on what a request may carry (checked before anything parses it),
session cookies that sign nobody in when they cannot be read, and CSRF checks that skip bearer-token API calls."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from litestar.connection import ASGIConnection
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tracker.core.errors import AppError, TooLarge
from tracker.core.text import control_problem, strip_controls

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}


def security_headers_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if "cache-control" not in headers:  # assets say their own (core/assets.py); pages are not kept
                    headers["cache-control"] = "no-store"
            await send(message)

        await app(scope, receive, send_wrapper)

    return middleware


# --- what a request may carry --------------------------------------------------------------------------------

MAX_BODY_MB = 1  # form fields or JSON; files come as multipart, each up to TRACKER_MAX_UPLOAD_MB
MAX_JSON_DEPTH = 32  # the deepest body the API reads (a saved report's definition) nests 4 levels
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON nests deeper than `limit`, found without parsing it (the JSON parsers recurse, and fail with a
    RecursionError about 1,000 levels down)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return False
    depth = 0
    for b in brackets:
        depth += 1 if b in b"[{" else -1
        if depth > limit:
            return True
    return False


def _address_problem(scope: Scope) -> str | None:
    """Control characters in the path or the query string (PostgreSQL refuses NUL in any text it is given)."""
    if problem := control_problem("The address", scope["path"], multiline=False):
        return problem
    for name, value in parse_qsl(scope["query_string"].decode("utf-8", "replace"), keep_blank_values=True):
        if problem := control_problem(f"“{strip_controls(name)}” in the address", name + value, multiline=False):
            return problem
    return None


def request_limits_middleware(app: ASGIApp) -> ASGIApp:
    """Refuse what no handler should have to parse: control characters in the address (400), a body of form fields
    or JSON over MAX_BODY_MB (413; file uploads keep their own limit), JSON nested deeper than MAX_JSON_DEPTH (400).
    The body is read here, whole, and handed on unchanged."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if problem := _address_problem(scope):
            raise AppError(detail=problem)
        headers = Headers.from_scope(scope)
        kind = headers.get("content-type", "").partition(";")[0].strip().lower()
        if scope["method"] in ("GET", "HEAD", "OPTIONS") or kind == "multipart/form-data":
            await app(scope, receive, send)
            return
        limit = MAX_BODY_MB * 1024 * 1024
        too_large = TooLarge(
            detail=f"The request is too large: form fields or JSON may hold at most {MAX_BODY_MB} MB "
            "(files, uploaded as attachments, may be larger)."
        )
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise too_large
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                raise too_large
        if kind != "application/x-www-form-urlencoded" and too_deep(bytes(body)):
            raise AppError(detail=f"The JSON body is nested too deeply: at most {MAX_JSON_DEPTH} levels.")
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await app(scope, replay, send)

    return middleware


# --- sessions -----------------------------------------------------------------------------------------------

SESSION_COOKIE = "tracker_session"
CSRF_COOKIE = "tracker_csrf"
CSRF_HEADER = "x-csrftoken"


class SessionBackend(ClientSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        """A cookie that cannot be read (damaged, truncated, forged, sealed with another key) is no session: the
        empty session clears it on the way out, and the visitor signs in again."""
        try:
            session = await super().load_from_connection(connection)
        except Exception:
            return {}
        return session if isinstance(session, dict) else {}


class SessionConfig(CookieBackendConfig):
    _backend_class = SessionBackend


def _needs_csrf(scope: Scope) -> bool:
    """A request carrying an Authorization header is authenticated by that header alone (never by the
    cookie), and a cross-site page cannot set that header. An API request without the session cookie carries
    no credential a forger could borrow; the auth middleware answers it 401."""
    names = [name for name, _ in scope["headers"]]
    if b"authorization" in names:
        return False
    cookies = b";".join(value for name, value in scope["headers"] if name == b"cookie")
    return not scope["path"].startswith("/api/") or SESSION_COOKIE.encode() in cookies


class TokenAwareCSRFMiddleware(CSRFMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _needs_csrf(scope):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
