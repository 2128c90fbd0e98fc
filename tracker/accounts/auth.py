"""Authentication middleware: a Bearer API token, or the signed session cookie. Sets request.user."""

from __future__ import annotations

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy.exc import OperationalError

from tracker.accounts import service
from tracker.accounts.service import Principal
from tracker.core.clock import utcnow
from tracker.core.web import set_viewer

PUBLIC_PATHS = [
    "^/login",
    "^/static/",
    "^/vendor/",
    "^/healthz",
    "^/schema",
    "^/favicon.ico",
    "^/mail/unsubscribe/",  # the signed link is the credential
    "^/calendars/",  # a feed's token is its credential
    "^/invitations/",  # an invitation's link is the credential of the person it was sent to
]


def session_user(session: dict, state) -> Principal | None:
    """Who a session cookie signs in: an active user whose sessions it has not outlived; None otherwise."""
    uid, epoch = session.get("uid"), session.get("epoch")
    if not (
        isinstance(uid, int) and isinstance(epoch, int) and session_is_fresh(session, state.settings.session_max_age)
    ):
        return None
    with state.session_factory() as db:
        user = service.active_user(db, uid, epoch)
        return service.principal(user) if user else None


def _token_user(factory, secret: str) -> Principal | None:
    with factory() as db:
        user = service.user_for_token(db, secret)
        result = service.principal(user, via_token=True) if user else None
        try:
            db.commit()  # last_used_at
        except OperationalError:  # SQLite: another request holds the write lock; the coarse timestamp can wait
            db.rollback()
        return result


def session_is_fresh(session: dict, max_age: int, now: float | None = None) -> bool:
    issued = session.get("iat")
    return isinstance(issued, (int, float)) and 0 <= (now or utcnow().timestamp()) - issued <= max_age


class AuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        state = connection.app.state
        header = connection.headers.get("authorization")
        if header is not None:
            # A request that names a credential is judged by it alone; no fallback to the cookie.
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise NotAuthorizedException(detail="Use 'Authorization: Bearer <token>'.")
            user = await anyio.to_thread.run_sync(_token_user, state.session_factory, secret.strip())
            if user is None:
                raise NotAuthorizedException(detail="Invalid or revoked API token.")
            set_viewer(user.timezone, user.date_format)
            return AuthenticationResult(user=user, auth="token")

        session = connection.scope.get("session") or {}
        if session and (user := await anyio.to_thread.run_sync(session_user, session, state)) is not None:
            set_viewer(user.timezone, user.date_format)  # for this request's times and dates
            return AuthenticationResult(user=user, auth="session")
        if session:
            connection.scope["session"] = {}  # expired or revoked: drop it
        raise NotAuthorizedException(detail="Sign in to continue.")
