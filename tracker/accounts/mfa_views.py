"""Pages of multi-factor authentication: the second step of signing in, enrolment right after the password where the
policy requires it, and the person's own authenticator and recovery codes on their profile."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.accounts import mfa, service, signin
from tracker.accounts.models import User
from tracker.accounts.signin import Method, Outcome
from tracker.accounts.views import login_page_for
from tracker.core.db import begin_write
from tracker.core.errors import FormError
from tracker.core.forms import refuse_controls
from tracker.core.web import flash, redirect, render, safe_next
from tracker.sso import service as sso

Form = URLEncodedBody[dict[str, Any]]

EXPIRED = "The sign-in waited too long for its second step. Enter your password again."


def _keys(request: Request) -> mfa.Keys:
    return mfa.Keys.from_settings(request.app.state.settings)


def _limits(request: Request) -> service.ThrottleLimits:
    return service.ThrottleLimits.from_settings(request.app.state.settings)


def _field(data: dict[str, Any], name: str) -> tuple[str, str | None]:
    """A short one-line field's value and, when it cannot be used, what to do instead."""
    value = str(data.get(name) or "").strip()[:200]
    if not value:
        return value, "Enter the code."
    try:
        refuse_controls({name: value})
    except FormError as exc:
        return "", exc.errors[name]
    return value, None


def _start_again(request: Request, db: Session) -> Template | Redirect:
    """No (valid) password step: an expired one says so beside the password; none at all goes to sign in."""
    if not signin.waited(request):
        return redirect("/login")
    request.clear_session()
    return login_page_for(request, db, status=401, errors={"password": EXPIRED})


class SecondStep(Controller):
    """/login/code and /login/enrol: reached with the password step's marker only (public paths: nobody is signed in)."""

    path = "/login"
    include_in_schema = False

    @get("/code", sync_to_thread=True)
    def code_page(self, request: Request, db: NamedDependency[Session]) -> Template | Redirect:
        step = signin.pending(request, db)
        if step is None:
            return _start_again(request, db)
        if step.enrol:
            return redirect("/login/enrol")
        return render(request, "accounts/login_code.html", errors={})

    @post("/code", sync_to_thread=True)
    def submit_code(self, request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
        step = signin.pending(request, db)
        if step is None or step.enrol:
            return _start_again(request, db)
        user = step.user
        code, problem = _field(data, "code")
        if problem:
            return render(request, "accounts/login_code.html", status=400, errors={"code": problem})
        attempt = service.count_attempt(db, signin.throttle_keys(user.username, request), _limits(request))
        method = Method.PASSWORD_MFA if mfa.is_totp(code) else Method.RECOVERY_CODE
        if attempt.wait:
            signin.record(db, request, user.username, user, method, Outcome.LOCKED_OUT)
            headers = {"Retry-After": str(attempt.wait)}
            errors = {"code": attempt.refusal}
            return render(request, "accounts/login_code.html", status=429, headers=headers, errors=errors)
        result = mfa.check(db, user, code, _keys(request))
        if result in (mfa.Check.WRONG, mfa.Check.REUSED):
            reused = result == mfa.Check.REUSED
            signin.record(
                db, request, user.username, user, method, Outcome.REUSED_CODE if reused else Outcome.WRONG_CODE
            )
            message = mfa.REUSED_CODE if reused else mfa.WRONG_CODE
            return render(request, "accounts/login_code.html", status=401, errors={"code": message})
        service.forgive(db, attempt)
        signin.complete(request, db, user, method)
        if result == mfa.Check.RECOVERY:
            left = mfa.recovery_codes_left(db, user.id)
            flash(
                request,
                f"You signed in with a recovery code, which is now used up; {left} left. "
                "Make new ones on your profile's multi-factor authentication page.",
                "info",
            )
        return redirect(safe_next(step.next))

    @get("/enrol", sync_to_thread=True)
    def enrol_page(self, request: Request, db: NamedDependency[Session]) -> Template | Redirect:
        step = signin.pending(request, db)
        if step is None:
            return _start_again(request, db)
        if not step.enrol:
            return redirect("/login/code")
        return _enrol(request, db, step.user)

    @post("/enrol", sync_to_thread=True)
    def confirm(self, request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
        step = signin.pending(request, db)
        if step is None or not step.enrol:
            return _start_again(request, db)
        code, problem = _field(data, "code")
        try:
            if problem:
                raise FormError({"code": problem})
            codes = mfa.confirm(db, step.user, code, _keys(request))
        except FormError as exc:
            return _enrol(request, db, step.user, status=422, errors=exc.errors)
        signin.complete(request, db, step.user, Method.PASSWORD_MFA)
        return render(request, "accounts/login_codes.html", codes=codes, next=safe_next(step.next))


def _enrol(request: Request, db: Session, user: User, status: int = 200, **extra: Any) -> Template | Redirect:
    row = mfa.authenticator(db, user.id)
    if row is None or row.confirmed_at is not None:  # turned off or on elsewhere meanwhile: start over
        request.clear_session()
        return redirect("/login")
    setup = mfa.setup(row, user, _keys(request))
    return render(request, "accounts/login_enrol.html", status=status, setup=setup, **({"errors": {}} | extra))


# --- the person's own, on their profile ----------------------------------------------------------------------


def _prove(request: Request, db: Session, user: User, proof: str) -> tuple[int, str, dict] | None:
    """Is it really them, before their second factor changes? A current code from their app or their password,
    counted by the login throttle as a sign-in is. None when proved, else (status, message, headers)."""
    if not proof:
        return 422, "Enter a code from your app or your password.", {}
    attempt = service.count_attempt(db, signin.throttle_keys(user.username, request), _limits(request))
    if attempt.wait:
        return 429, attempt.refusal, {"Retry-After": str(attempt.wait)}
    if mfa.TOTP_CODE.fullmatch(proof):  # six digits exactly: a password has at least ten characters
        result = mfa.check_totp(db, user, proof, _keys(request))
        if result != mfa.Check.TOTP:
            return 422, mfa.REUSED_CODE if result == mfa.Check.REUSED else "That code is not right.", {}
    else:
        db.commit()  # the count stands, and the password check (slow on purpose) holds no lock
        right = service.verify_password(user, proof)
        begin_write(db)
        if not right:
            return 422, "That is neither a current code from your app nor your password.", {}
    service.forgive(db, attempt)
    return None


def _page(request: Request, db: Session, status: int = 200, headers: dict | None = None, **extra: Any) -> Template:
    user = db.get(User, request.user.id)
    row = mfa.authenticator(db, user.id)
    context = {
        "user": user,
        "on": row is not None and row.confirmed_at is not None,
        "setup": mfa.setup(row, user, _keys(request)) if row is not None and row.confirmed_at is None else None,
        "left": mfa.recovery_codes_left(db, user.id),
        "required": mfa.must_enrol(sso.policy(db).mfa_required, user),
        "codes": None,
        "errors": {},
    }
    return render(request, "accounts/mfa.html", status=status, headers=headers, section="profile", **(context | extra))


class MfaProfile(Controller):
    path = "/profile/mfa"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session]) -> Template:
        return _page(request, db)

    @post("/start", sync_to_thread=True)
    def start(self, request: Request, db: NamedDependency[Session]) -> Redirect:
        mfa.start(db, db.get(User, request.user.id), _keys(request))
        return redirect("/profile/mfa")

    @post("/confirm", sync_to_thread=True)
    def confirm(self, request: Request, db: NamedDependency[Session], data: Form) -> Template:
        code, problem = _field(data, "code")
        try:
            if problem:
                raise FormError({"code": problem})
            codes = mfa.confirm(db, db.get(User, request.user.id), code, _keys(request))
        except FormError as exc:
            return _page(request, db, status=422, errors=exc.errors)
        return _page(request, db, codes=codes)

    @post("/recovery-codes", sync_to_thread=True)
    def regenerate(self, request: Request, db: NamedDependency[Session], data: Form) -> Template:
        user = db.get(User, request.user.id)
        proof, _ = _field(data, "proof")
        if refused := _prove(request, db, user, proof):
            status, message, headers = refused
            return _page(request, db, status=status, headers=headers, errors={"codes_proof": message})
        return _page(request, db, codes=mfa.regenerate_codes(db, user, _keys(request)))

    @post("/disable", sync_to_thread=True)
    def disable(self, request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
        user = db.get(User, request.user.id)
        proof, _ = _field(data, "proof")
        if refused := _prove(request, db, user, proof):
            status, message, headers = refused
            return _page(request, db, status=status, headers=headers, errors={"off_proof": message})
        mfa.disable(db, request.user, user)
        flash(request, "Multi-factor authentication is off: you sign in with your password alone.")
        return redirect("/profile/mfa")


handlers = [SecondStep, MfaProfile]
