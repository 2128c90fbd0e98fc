"""Pages: a project's invitations by e-mail (its managers: invite, send again, revoke), and the page an invitation's
link opens (public: the link is the credential), where the invitee makes their account and lands in the project."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.accounts import mfa, signin
from tracker.accounts.service import MIN_PASSWORD
from tracker.accounts.signin import Method
from tracker.core.errors import Conflict, FormError, NotFound, StaleEdit
from tracker.core.forms import form_version, parse
from tracker.core.web import flash, redirect, render, show_datetime
from tracker.projects import invitations, service
from tracker.projects.invitations import AcceptForm, AccountForm, InviteForm
from tracker.projects.models import ROLE_LABELS, Role
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.sso import service as sso

Form = URLEncodedBody[dict[str, Any]]
ROLE_OPTIONS = [(r.value, ROLE_LABELS[r]) for r in Role]


def _page(request: Request, db: Session, access: Access, status: int = 200, **extra: Any) -> Template:
    context: dict[str, Any] = {
        "access": access,
        "project": access.project,
        "rows": invitations.open_invitations(db, access.project.id),
        "form": {},
        "errors": {},
        "message": None,
        "failed": False,
        "role_options": ROLE_OPTIONS,
        "expires_days": invitations.EXPIRES_AFTER.days,
        "states": invitations.STATE_WORDS,
    }
    return render(request, "projects/invitations.html", status=status, block="invitation_list", **(context | extra))


class InvitationPages(Controller):
    path = "/projects/{key:str}/invitations"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        return _page(request, db, service.get_for(db, request.user, key, Perm.MANAGE))

    @post("/", sync_to_thread=True)
    def invite(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        settings = request.app.state.settings
        try:
            done = invitations.invite(db, settings, request.user, access, parse(InviteForm, data))
        except FormError as exc:
            kept = {k: str(data.get(k) or "")[:254] for k in ("email", "full_name", "role")}
            return _page(request, db, access, status=422, form=kept, errors=exc.errors)
        if done.user is not None:
            role = ROLE_LABELS[Role(done.membership.role)]
            flash(request, f"{done.user.full_name} has an account already: added to {access.project.key} as {role}.")
            return redirect(f"/projects/{access.project.key}#members")
        until = show_datetime(done.invitation.expires_at, access.project.timezone)
        flash(request, f"Invitation sent to {done.invitation.email}; its link works until {until}.")
        return redirect(f"/projects/{access.project.key}/invitations")

    @post("/{invitation_id:int}/resend", sync_to_thread=True)
    def resend(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        invitation_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        settings = request.app.state.settings
        return self._act(
            request,
            db,
            access,
            lambda: invitations.resend(db, settings, request.user, access, invitation_id, form_version(data)),
            "Sent again to {email}, with a new link; the one sent before no longer works.",
        )

    @post("/{invitation_id:int}/revoke", sync_to_thread=True)
    def revoke(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        invitation_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        return self._act(
            request,
            db,
            access,
            lambda: invitations.revoke(db, request.user, access, invitation_id, form_version(data)),
            "The invitation to {email} is revoked: its link no longer works.",
        )

    def _act(self, request: Request, db: Session, access: Access, act: Any, done: str) -> Template | Redirect:
        try:
            invitation = act()
            message, failed = done.format(email=invitation.email), False
        except StaleEdit as exc:
            # The list as it is now, with the message: the manager decides again on what is there.
            return _page(request, db, access, status=409, message=exc.detail, failed=True)
        except Conflict as exc:
            message, failed = exc.detail, True
        if request.headers.get("hx-request"):
            return _page(request, db, access, message=message, failed=failed)
        flash(request, message, "error" if failed else "success")
        return redirect(f"/projects/{access.project.key}/invitations")


# --- the link ------------------------------------------------------------------------------------------------------


def _closed(request: Request, message: str, status: int) -> Template:
    return render(request, "projects/invitation_closed.html", status=status, message=message)


def _accept_page(
    request: Request,
    db: Session,
    token: str,
    invitation: Any,
    project: Any,
    form: dict,
    errors: dict,
    status: int = 200,
) -> Template:
    providers, passwords = sso.login_options(db, request.app.state.settings)
    return render(
        request,
        "projects/invitation_accept.html",
        status=status,
        token=token,
        min_password=MIN_PASSWORD,
        passwords=passwords,
        providers=" or ".join(p.name for p in providers) or "single sign-on",
        invitation=invitation,
        project=project,
        role=ROLE_LABELS.get(invitation.role, invitation.role),
        form=form,
        errors=errors,
    )


class InvitationLink(Controller):
    path = "/invitations"
    include_in_schema = False

    def _open(self, db: Session, request: Request, token: str) -> tuple[Any, Any] | Template:
        try:
            invitation, project = invitations.find(db, token)
        except NotFound as exc:
            return _closed(request, exc.detail, 404)
        if (reason := invitations.closed_reason(invitation, project)) is not None:
            return _closed(request, reason, 410)
        return invitation, project

    @get("/{token:str}", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], token: FromPath[str]) -> Template:
        found = self._open(db, request, token)
        if isinstance(found, Template):
            return found
        invitation, project = found
        return _accept_page(request, db, token, invitation, project, {"full_name": invitation.full_name}, {})

    @post("/{token:str}", sync_to_thread=True)
    def accept(
        self, request: Request, db: NamedDependency[Session], token: FromPath[str], data: Form
    ) -> Template | Redirect:
        found = self._open(db, request, token)
        if isinstance(found, Template):
            return found
        invitation, project = found
        kept = {k: str(data.get(k) or "")[:120] for k in ("full_name", "username")}  # never the passwords
        providers, passwords = sso.login_options(db, request.app.state.settings)
        try:
            form = parse(AcceptForm if passwords else AccountForm, data)
            user = invitations.accept(db, invitation, project, form)
        except FormError as exc:
            return _accept_page(request, db, token, invitation, project, kept, exc.errors, status=422)
        except Conflict as exc:
            return _closed(request, exc.detail, 409)
        ready = f"Welcome, {user.full_name}. Your account is ready and you are a member of {project.key}."
        # The link is no way around the sign-in policy: single sign-on, or a second factor, where it asks for them.
        if not passwords:
            names = " or ".join(p.name for p in providers) or "single sign-on"
            flash(request, f"{ready} Sign in with {names}, using {invitation.email}.")
            return redirect("/login")
        if mfa.must_enrol(sso.policy(db).mfa_required, user):
            mfa.start(db, user, mfa.Keys.from_settings(request.app.state.settings))
            signin.await_second_factor(request, user, f"/projects/{project.key}", enrol=True)
            flash(request, f"{ready} Set up your second factor to sign in.")
            return redirect("/login/enrol")
        signin.complete(request, db, user, Method.INVITATION)
        flash(request, ready)
        return redirect(f"/projects/{project.key}")


handlers = [InvitationPages, InvitationLink]
