"""Security headers on every response, and CSRF checks that skip bearer-token API calls."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

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
                if scope["path"].startswith(("/static/", "/vendor/")):
                    headers["cache-control"] = "public, max-age=3600"
                elif "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await app(scope, receive, send_wrapper)

    return middleware


SESSION_COOKIE = "tracker_session"


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
