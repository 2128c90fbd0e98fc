"""Pages: sign in/out, the user's own profile (password, API tokens), and user administration."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.accounts import service
from tracker.accounts.auth import session_user
from tracker.accounts.models import User
from tracker.accounts.service import USER_LABELS, PasswordForm, Principal, UserForm
from tracker.audit import service as audit
from tracker.calendars import service as calendars
from tracker.core.clock import utcnow
from tracker.core.db import begin_write
from tracker.core.errors import Forbidden, FormError, StaleEdit
from tracker.core.forms import parse, refuse_controls, stale_fields
from tracker.core.web import flash, redirect, render, safe_next
from tracker.projects import service as projects

Form = URLEncodedBody[dict[str, Any]]


def admin_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not connection.user.is_admin:
        raise Forbidden(detail="Only admins manage users.")


def _client_key(request: Request) -> str:
    return f"ip:{request.client.host if request.client else 'unknown'}"


# async, because Litestar 2.25 mishandles a second sync_to_thread handler on the same path (POST /login): it answers
# with an unawaited coroutine.
@get("/login", include_in_schema=False)
async def login_page(
    request: Request, next_: Annotated[str | None, QueryParameter(name="next")] = None
) -> Template | Redirect:
    if request.session:
        if await anyio.to_thread.run_sync(session_user, request.session, request.app.state) is not None:
            return redirect(safe_next(next_))
        request.clear_session()  # expired, signed out elsewhere or deactivated: it signs nobody in, here either
    return render(request, "accounts/login.html", next=next_ or "", username="", errors={}, error=None)


@post("/login", sync_to_thread=True, include_in_schema=False)
def login(request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
    settings = request.app.state.settings
    username = str(data.get("username") or "").strip()[:64]
    password = str(data.get("password") or "")[:200]
    next_ = str(data.get("next") or "")
    context = {"next": next_, "username": username, "errors": {}}
    errors = {k: "This field is required." for k, v in (("username", username), ("password", password)) if not v}
    try:
        refuse_controls({"username": username, "password": password})
    except FormError as exc:
        errors = exc.errors | errors
    if errors:
        return render(request, "accounts/login.html", status=400, error=None, **(context | {"errors": errors}))

    limits = service.ThrottleLimits(
        settings.login_max_failures,
        timedelta(seconds=settings.login_window_seconds),
        timedelta(seconds=settings.login_lockout_seconds),
    )
    attempt = service.count_attempt(db, [f"user:{username.lower()}", _client_key(request)], limits)
    if attempt.wait:
        message = f"Too many failed sign-in attempts. Wait {attempt.wait} seconds, then try again."
        return render(
            request,
            "accounts/login.html",
            status=429,
            headers={"Retry-After": str(attempt.wait)},
            error=message,
            **context,
        )
    user = service.find_user(db, username)
    # The one early commit: the attempt is counted for every parallel attempt to see before the password is checked,
    # and the check (slow on purpose) runs with no transaction open, so it holds no lock anyone waits on.
    db.commit()
    if not service.verify_password(user, password) or not user.is_active:
        # Same words whether or not the username exists.
        return render(request, "accounts/login.html", status=401, error="Wrong username or password.", **context)
    new_hash = service.rehashed(user, password)
    begin_write(db)
    service.signed_in(db, user, attempt, new_hash)
    # A new cookie value (fresh nonce, new issue time) replaces whatever the browser had before.
    request.clear_session()
    request.set_session({"uid": user.id, "epoch": user.session_epoch, "iat": int(utcnow().timestamp())})
    return redirect(safe_next(next_))


@post("/logout", sync_to_thread=True, include_in_schema=False, exclude_from_auth=True)
def logout(request: Request, db: NamedDependency[Session]) -> Redirect:
    # The session lives in the cookie, so a copy of it would outlive a mere clearing: move the user's session
    # epoch on, which ends every session of theirs (this browser's and any copy of its cookie).
    uid, epoch = request.session.get("uid"), request.session.get("epoch")
    if isinstance(uid, int) and isinstance(epoch, int):
        service.end_sessions(db, uid, epoch)
    request.clear_session()
    request.set_session({"_flash": [{"message": "You have signed out.", "category": "success"}]})
    return redirect("/login")


# --- profile -----------------------------------------------------------------------------------


def _profile(request: Request, db: Session, status: int = 200, block: str | None = None, **extra: Any) -> Template:
    user: Principal = request.user
    row = db.get(User, user.id)
    context = {
        "user": row,
        "tokens": service.tokens_of(db, user.id),
        "memberships": projects.visible_projects(db, user) if not user.is_admin else [],
        "password_errors": {},
        "token_errors": {},
        "new_token": None,
        "token_name": "",
        "calendar_feed": (feed := calendars.feed_of(db, user.id)),
        "calendar_url": calendars.address(request.app.state.settings, feed),
    }
    context.update(extra)
    return render(request, "accounts/profile.html", status=status, block=block, **context)


class ProfileController(Controller):
    path = "/profile"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session]) -> Template:
        return _profile(request, db)

    @post("/password", sync_to_thread=True)
    def change_password(self, request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
        user = db.get(User, request.user.id)
        try:
            service.change_password(db, user, parse(PasswordForm, data))
        except FormError as exc:
            return _profile(request, db, status=422, password_errors=exc.errors)
        request.set_session(request.session | {"epoch": user.session_epoch})  # keep this browser signed in
        flash(request, "Password changed. Other browsers have been signed out.")
        return redirect("/profile")

    @post("/tokens", sync_to_thread=True)
    def create_token(self, request: Request, db: NamedDependency[Session], data: Form) -> Template:
        name = str(data.get("name") or "")
        try:
            token, secret = service.create_token(db, request.user, name)
        except FormError as exc:
            return _profile(request, db, status=422, token_errors=exc.errors, token_name=name[:80], block="tokens")
        # The secret is in this response only; it is never stored or shown again.
        return _profile(request, db, status=201, new_token=secret, block="tokens")

    @post("/tokens/{token_id:int}/revoke", sync_to_thread=True)
    def revoke_token(self, request: Request, db: NamedDependency[Session], token_id: FromPath[int]) -> Template:
        token = service.revoke_token(db, request.user, token_id)
        if not request.headers.get("hx-request"):
            flash(request, f"Token “{token.name}” revoked.")
        return _profile(request, db, block="tokens")

    @post("/sign-out-everywhere", sync_to_thread=True)
    def sign_out_everywhere(self, request: Request, db: NamedDependency[Session]) -> Redirect:
        user = db.get(User, request.user.id)
        service.sign_out_everywhere(db, user)
        request.set_session(request.session | {"epoch": user.session_epoch})
        flash(request, "Every other browser has been signed out.")
        return redirect("/profile")


# --- user administration ---------------------------------------------------------------------------


class UserAdminController(Controller):
    path = "/admin/users"
    guards = [admin_required]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session], q: FromQuery[str] = "") -> Template:
        q = q.strip()[:100]
        return render(request, "admin/users.html", block="user_table", users=service.list_users(db, q), q=q)

    @get("/new", sync_to_thread=False)
    def new(self, request: Request) -> Template:
        return render(request, "admin/user_form.html", user=None, form={"is_active": True}, errors={}, stale=None)

    @post("/", sync_to_thread=True)
    def create(self, request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
        try:
            user = service.create_user(db, request.user, parse(UserForm, data))
        except FormError as exc:
            return render(
                request, "admin/user_form.html", status=422, user=None, form=data, errors=exc.errors, stale=None
            )
        flash(request, f"User {user.username} created. Add them to projects from each project's page.")
        return redirect(f"/admin/users/{user.id}")

    @get("/{user_id:int}", sync_to_thread=True)
    def edit(self, request: Request, db: NamedDependency[Session], user_id: FromPath[int]) -> Template:
        user = service.get_user(db, user_id)
        return render(
            request,
            "admin/user_form.html",
            user=user,
            form=audit.snapshot(user, USER_LABELS) | {"version": user.version},
            errors={},
            stale=None,
            history=audit.for_entity(db, "app_user", user.id, limit=20),
        )

    @post("/{user_id:int}", sync_to_thread=True)
    def update(
        self, request: Request, db: NamedDependency[Session], user_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        user = service.get_user(db, user_id)
        try:
            service.update_user(db, request.user, user, parse(UserForm, data))
        except StaleEdit as exc:
            return render(
                request,
                "admin/user_form.html",
                status=409,
                user=user,
                errors={},
                form=data | {"version": user.version},
                stale=stale_fields(exc.current, data),
                history=audit.for_entity(db, "app_user", user.id, limit=20),
            )
        except FormError as exc:
            return render(
                request,
                "admin/user_form.html",
                status=422,
                user=user,
                form=data,
                errors=exc.errors,
                stale=None,
                history=audit.for_entity(db, "app_user", user.id, limit=20),
            )
        flash(request, f"Saved {user.username}.")
        return redirect(f"/admin/users/{user.id}")


handlers = [login_page, login, logout, ProfileController, UserAdminController]
