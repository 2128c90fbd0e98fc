"""Pages: sign in/out, the user's own profile (password, API tokens), and user administration."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.accounts import mfa, service, signin
from tracker.accounts.auth import session_user
from tracker.accounts.models import User
from tracker.accounts.service import USER_LABELS, PasswordForm, PreferencesForm, Principal, UserForm
from tracker.accounts.signin import Method, Outcome
from tracker.audit import service as audit
from tracker.calendars import service as calendars
from tracker.core.db import begin_write
from tracker.core.errors import Forbidden, FormError, StaleEdit
from tracker.core.forms import parse, refuse_controls, stale_fields
from tracker.core.web import ALL_ZONES, COMMON_ZONES, DATE_FORMATS, flash, redirect, render, safe_next
from tracker.projects import service as projects
from tracker.sso import service as sso

Form = URLEncodedBody[dict[str, Any]]


def admin_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not connection.user.is_admin:
        raise Forbidden(detail="Only admins manage users.")


def login_page_for(
    request: Request,
    db: Session,
    status: int = 200,
    error: str | None = None,
    headers: dict | None = None,
    **context: Any,
) -> Template:
    """The sign-in page answering its form, with the values and messages (also where an expired second step sends
    people): the password form shown, whatever the policy, as the person just used it."""
    providers = sso.login_options(db, request.app.state.settings)[0]
    values = {"next": "", "username": "", "errors": {}, "providers": providers, "show_password": True} | context
    return render(request, "accounts/login.html", status=status, headers=headers, error=error, **values)


# async, because Litestar 2.25 mishandles a second sync_to_thread handler on the same path (POST /login): it answers
# with an unawaited coroutine.
@get("/login", include_in_schema=False)
async def login_page(
    request: Request,
    next_: Annotated[str | None, QueryParameter(name="next")] = None,
    local: Annotated[bool, QueryParameter(description="show the password form (break-glass)")] = False,
) -> Template | Redirect:
    if request.session:
        if await anyio.to_thread.run_sync(session_user, request.session, request.app.state) is not None:
            return redirect(safe_next(next_))
        flashes = request.session.get("_flash")
        request.clear_session()  # expired, signed out elsewhere or deactivated: it signs nobody in, here either
        if flashes:  # what the page before said ("You have signed out.", an invitee's account ready) is still said
            request.set_session({"_flash": flashes})
    options = await anyio.to_thread.run_sync(_login_options, request.app.state)
    return render(
        request, "accounts/login.html", next=next_ or "", username="", errors={}, error=None, **options(local)
    )


def _login_options(state) -> Any:
    with state.session_factory() as db:
        providers, passwords = sso.login_options(db, state.settings)

    def options(show_password: bool) -> dict[str, Any]:
        # With passwords off, the form is for break-glass admins, who find it at /login?local=1.
        return {"providers": providers, "show_password": show_password or passwords or not providers}

    return options


@post("/login", sync_to_thread=True, include_in_schema=False)
def login(request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
    settings = request.app.state.settings
    username = str(data.get("username") or "").strip()[:64]
    password = str(data.get("password") or "")[:200]
    next_ = str(data.get("next") or "")
    context = {"next": next_, "username": username}
    errors = {k: "This field is required." for k, v in (("username", username), ("password", password)) if not v}
    try:
        refuse_controls({"username": username, "password": password})
    except FormError as exc:
        errors = exc.errors | errors
    if errors:
        return login_page_for(request, db, status=400, errors=errors, **context)

    limits = service.ThrottleLimits.from_settings(settings)
    attempt = service.count_attempt(db, signin.throttle_keys(username, request), limits)
    user = service.find_user(db, username)
    if attempt.wait:
        signin.record(db, request, username, user, Method.PASSWORD, Outcome.LOCKED_OUT)
        headers = {"Retry-After": str(attempt.wait)}
        return login_page_for(request, db, status=429, error=attempt.refusal, headers=headers, **context)
    # The one early commit: the attempt is counted for every parallel attempt to see before the password is checked,
    # and the check (slow on purpose) runs with no transaction open, so it holds no lock anyone waits on.
    db.commit()
    right = service.verify_password(user, password)
    if not right or not user.is_active:
        begin_write(db)
        outcome = Outcome.UNKNOWN_USER if user is None else Outcome.DEACTIVATED if right else Outcome.WRONG_PASSWORD
        signin.record(db, request, username, user, Method.PASSWORD, outcome)
        # Same words whether or not the username exists.
        return login_page_for(request, db, status=401, error="Wrong username or password.", **context)
    new_hash = service.rehashed(user, password)
    begin_write(db)
    service.store_hash(db, user, new_hash)
    if not sso.password_allowed(db, user):
        signin.record(db, request, username, user, Method.PASSWORD, Outcome.PASSWORDS_OFF)
        names = " or ".join(p.name for p in sso.login_options(db, settings)[0]) or "single sign-on"
        message = f"Password sign-in is turned off for your account. Sign in with {names} instead."
        return login_page_for(request, db, status=403, error=message, **context)
    enrolled = mfa.enrolled(db, user.id)
    if enrolled or mfa.must_enrol(sso.policy(db).mfa_required, user):
        service.forgive(db, attempt, account=False)  # the account's count waits for the second factor
        if not enrolled:
            mfa.start(db, user, mfa.Keys.from_settings(settings))
        signin.await_second_factor(request, user, next_, enrol=not enrolled)
        return redirect("/login/code" if enrolled else "/login/enrol")
    service.forgive(db, attempt)
    signin.complete(request, db, user, Method.PASSWORD)
    return redirect(safe_next(next_))


@post("/logout", sync_to_thread=True, include_in_schema=False, exclude_from_auth=True)
def logout(request: Request, db: NamedDependency[Session]) -> Template | Redirect:
    signed_in_with = request.session.get("sso")
    signin.sign_out(request, db)
    # Signed in by single sign-on: sign out at the provider too (RP-initiated logout), which sends the browser back.
    elsewhere = sso.end_session_url(db, request.app.state.settings, signed_in_with) if signed_in_with else None
    if elsewhere is not None:
        return render(request, "accounts/signing_out.html", url=elsewhere[0], provider=elsewhere[1])
    request.set_session({"_flash": [{"message": "You have signed out.", "category": "success"}]})
    return redirect("/login")


# --- profile -----------------------------------------------------------------------------------


def _profile(request: Request, db: Session, status: int = 200, block: str | None = None, **extra: Any) -> Template:
    user: Principal = request.user
    row = db.get(User, user.id)
    context = {
        "user": row,
        "tokens": service.tokens_of(db, user.id),
        "mfa_on": mfa.enrolled(db, user.id),
        "memberships": projects.visible_projects(db, user) if not user.is_admin else [],
        "prefs": {"title": row.title, "timezone": row.timezone, "date_format": row.date_format},
        "prefs_errors": {},
        "common_zones": COMMON_ZONES,
        "all_zones": ALL_ZONES,
        "date_formats": [(key, example) for key, (_, _, example) in DATE_FORMATS.items()],
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

    @post("/preferences", sync_to_thread=True)
    def save_preferences(self, request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
        user = db.get(User, request.user.id)
        try:
            service.save_preferences(db, user, parse(PreferencesForm, data))
        except FormError as exc:
            kept = {k: str(data.get(k) or "")[:120] for k in ("title", "timezone", "date_format")}
            return _profile(request, db, status=422, prefs=kept, prefs_errors=exc.errors)
        flash(request, "Preferences saved.")
        return redirect("/profile")

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
        return user_page(request, db, user, form=audit.snapshot(user, USER_LABELS) | {"version": user.version})

    @post("/{user_id:int}", sync_to_thread=True)
    def update(
        self, request: Request, db: NamedDependency[Session], user_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        user = service.get_user(db, user_id)
        try:
            service.update_user(db, request.user, user, parse(UserForm, data))
        except StaleEdit as exc:
            form = data | {"version": user.version}
            return user_page(request, db, user, status=409, form=form, stale=stale_fields(exc.current, data))
        except FormError as exc:
            return user_page(request, db, user, status=422, form=data, errors=exc.errors)
        flash(request, f"Saved {user.username}.")
        return redirect(f"/admin/users/{user.id}")


def user_page(request: Request, db: Session, user: User, status: int = 200, **extra: Any) -> Template:
    """A user's admin page: the form, their multi-factor authentication, their history."""
    context = {
        "user": user,
        "errors": {},
        "stale": None,
        "mfa_on": mfa.enrolled(db, user.id),
        "history": audit.for_entity(db, "app_user", user.id, limit=20),
    }
    return render(request, "admin/user_form.html", status=status, **(context | extra))


handlers = [login_page, login, logout, ProfileController, UserAdminController]
