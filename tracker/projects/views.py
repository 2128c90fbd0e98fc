"""Pages: project list, project overview with members and history, project settings."""

from __future__ import annotations

import math
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.handlers import BaseRouteHandler
from litestar.params import Body, FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.audit import service as audit
from tracker.calendars import service as calendars
from tracker.core.errors import Conflict, Forbidden, FormError, StaleEdit, TooLarge
from tracker.core.files import FileStore
from tracker.core.forms import form_version, parse, stale_fields
from tracker.core.web import flash, redirect, render
from tracker.projects import invitations, organisation, service
from tracker.projects.calendar import project_holidays, project_today
from tracker.projects.models import ROLE_LABELS, DeemedPolicy, Role
from tracker.projects.permissions import Perm
from tracker.projects.service import PROJECT_LABELS, Access, MemberForm, ProjectForm, RoleForm

Form = URLEncodedBody[dict[str, Any]]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
HISTORY_PAGE = 50

ROLE_OPTIONS = [(r.value, ROLE_LABELS[r]) for r in Role]
DEEMED_OPTIONS = [
    (DeemedPolicy.NEVER.value, "Never accepted by default: an overdue review escalates"),
    (DeemedPolicy.DEEMED.value, "Deemed accepted after N business days of state silence"),
]


def _form_values(project: Any) -> dict[str, Any]:
    values = audit.snapshot(project, PROJECT_LABELS)
    values["extra_holidays"] = service.format_extra_holidays(project.extra_holidays)
    values["version"] = project.version
    return values


def overview_page(
    request: Request, db: Session, access: Access, status: int = 200, block: str | None = None, **extra: Any
) -> Template:
    project = access.project
    context: dict[str, Any] = {
        "access": access,
        "project": project,
        "members": service.members(db, project.id),
        "role_options": ROLE_OPTIONS,
        "history": audit.for_project(db, project.id, limit=15) if access.can(Perm.VIEW_HISTORY) else [],
        "holidays": project_holidays(project, project_today(project), days=120),
        "calendar_feed": (feed := calendars.feed_of(db, request.user.id, project.id)),
        "calendar_url": calendars.address(request.app.state.settings, feed),
    }
    context.update(extra)
    return render(request, "projects/detail.html", status=status, block=block, **context)


def members_page(
    request: Request, db: Session, access: Access, status: int = 200, block: str | None = None, **extra: Any
) -> Template:
    """Every member and their role; for managers, the forms that add, change and remove them (its block "members" is
    what the forms' htmx answers swap in)."""
    project, manages = access.project, access.can(Perm.MANAGE)
    context: dict[str, Any] = {
        "access": access,
        "project": project,
        "members": service.members(db, project.id),
        "candidates": service.non_member_choices(db, project.id) if manages else [],
        "open_invitations": invitations.count_open(db, project.id) if manages else 0,
        "member_errors": {},
        "member_form": {},
        "role_options": ROLE_OPTIONS,
    }
    return render(request, "projects/members.html", status=status, block=block, **context | extra)


class ProjectController(Controller):
    path = "/projects"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(
        self, request: Request, db: NamedDependency[Session], q: FromQuery[str] = "", archived: FromQuery[bool] = False
    ) -> Template:
        q = q.strip()[:100]
        rows = service.visible_projects(db, request.user, q=q, include_archived=archived)
        return render(request, "projects/index.html", block="project_table", rows=rows, q=q, archived=archived)

    @get("/new", sync_to_thread=False)
    def new(self, request: Request) -> Template:
        if not request.user.is_admin:
            raise Forbidden(detail="Only admins create projects.")
        defaults = {
            "review_days": 10,
            "resubmit_days": 10,
            "deemed_days": 15,
            "holiday_calendar": "US",
            "timezone": "America/Los_Angeles",
            "deemed_policy": "never",
        }
        return self._form(request, None, defaults, {})

    @post("/", sync_to_thread=True)
    def create(self, request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
        if not request.user.is_admin:
            raise Forbidden(detail="Only admins create projects.")
        try:
            project = service.create_project(db, request.user, parse(ProjectForm, data))
        except FormError as exc:
            return self._form(request, None, data, exc.errors, status=422)
        flash(request, f"Project {project.key} created. Add its members below.")
        return redirect(f"/projects/{project.key}/members")

    @get("/{key:str}/edit", sync_to_thread=True)
    def edit(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        return self._form(request, access, _form_values(access.project), {})

    @post("/{key:str}/edit", sync_to_thread=True)
    def update(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        if not access.can(Perm.ARCHIVE):  # the form has no such field for them: the project stays as it is
            data = data | {"archived": access.project.archived}
        try:
            service.update_project(db, request.user, access, parse(ProjectForm, data))
        except StaleEdit as exc:
            stale = stale_fields(exc.current, data)
            return self._form(request, access, data | {"version": access.project.version}, {}, stale=stale, status=409)
        except FormError as exc:
            return self._form(request, access, data, exc.errors, status=422)
        flash(request, "Project settings saved.")
        return redirect(f"/projects/{access.project.key}")

    def _form(
        self,
        request: Request,
        access: Access | None,
        form: dict[str, Any],
        errors: dict[str, str],
        stale: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Template:
        return render(
            request,
            "projects/form.html",
            status=status,
            access=access,
            project=access.project if access else None,
            form=form,
            errors=errors,
            stale=stale,
            deemed_options=DEEMED_OPTIONS,
            labels=PROJECT_LABELS,
        )

    # --- members (read by every member; changed by the project's managers, and admins) ---

    @get("/{key:str}/members", sync_to_thread=True)
    def members(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        return members_page(request, db, service.get_for(db, request.user, key, Perm.VIEW))

    @post("/{key:str}/members", sync_to_thread=True)
    def add_member(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        try:
            membership = service.add_member(db, request.user, access, parse(MemberForm, data))
        except FormError as exc:
            return members_page(
                request, db, access, status=422, block="members", member_errors=exc.errors, member_form=data
            )
        if not request.headers.get("hx-request"):
            flash(request, "Member added.")
            return redirect(f"/projects/{access.project.key}/members")
        return members_page(request, db, access, block="members", added_id=membership.id)

    @post("/{key:str}/members/{membership_id:int}/role", sync_to_thread=True)
    def change_role(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        membership_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        try:
            service.change_role(db, request.user, access, membership_id, parse(RoleForm, data))
        except (FormError, Conflict) as exc:
            if not request.headers.get("hx-request"):
                flash(request, exc.detail, "error")
                return redirect(f"/projects/{access.project.key}/members")
            return members_page(request, db, access, status=exc.status_code, block="members", member_message=exc.detail)
        if not request.headers.get("hx-request"):
            flash(request, "Role changed.")
            return redirect(f"/projects/{access.project.key}/members")
        return members_page(request, db, access, block="members", member_message="Role changed.")

    @post("/{key:str}/members/{membership_id:int}/remove", sync_to_thread=True)
    def remove_member(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        membership_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        version = form_version(data)
        try:
            user = service.remove_member(db, request.user, access, membership_id, version)
            message, category = f"{user.full_name} removed from the project.", "success"
        except StaleEdit as exc:
            # The list as it is now, with the message: the user decides again on what is there.
            return members_page(
                request, db, access, status=409, block="members", member_message=exc.detail, member_failed=True
            )
        except Conflict as exc:
            message, category = exc.detail, "error"
        if not request.headers.get("hx-request"):
            flash(request, message, category)
            return redirect(f"/projects/{access.project.key}/members")
        return members_page(request, db, access, block="members", member_message=message)

    @get("/{key:str}/history", sync_to_thread=True)
    def history(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], page: FromQuery[int] = 1
    ) -> Template:
        access = service.get_for(db, request.user, key, Perm.VIEW_HISTORY)
        total = audit.count_for_project(db, access.project.id)
        pages = max(1, math.ceil(total / HISTORY_PAGE))
        page = min(max(1, page), pages)
        rows = audit.for_project(db, access.project.id, limit=HISTORY_PAGE, offset=(page - 1) * HISTORY_PAGE)
        return render(
            request,
            "projects/history.html",
            access=access,
            project=access.project,
            history=rows,
            page=page,
            pages=pages,
            total=total,
        )


# --- the organisation (admins) -------------------------------------------------------------------------------


def _admins_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not connection.user.is_admin:
        raise Forbidden(detail="Only admins set the organisation's name and logo.")


class OrganisationAdmin(Controller):
    path = "/admin/organisation"
    guards = [_admins_only]
    include_in_schema = False

    def _page(self, request: Request, db: Session, status: int = 200, **extra: Any) -> Template:
        org = organisation.get(db)
        store = FileStore.from_settings(request.app.state.settings)
        context = {
            "org": org,
            "logo": organisation.logo_data_uri(org, store),
            "form": {"name": org.name, "version": org.version},
            "errors": {},
            "stale": None,
            "max_kb": organisation.LOGO_MAX_BYTES // 1024,
            "history": audit.for_entity(db, "organisation", organisation.ROW_ID, limit=20),
        }
        return render(request, "admin/organisation.html", status=status, section="admin", **(context | extra))

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session]) -> Template:
        return self._page(request, db)

    @post("/", sync_to_thread=True)
    def save(self, request: Request, db: NamedDependency[Session], data: Multipart) -> Template | Redirect:
        text = {k: v for k, v in data.items() if isinstance(v, str)}
        upload = data.get("logo")
        logo, logo_name = None, ""
        if isinstance(upload, UploadFile) and upload.filename:
            logo_name = upload.filename
            logo = upload.file.read(organisation.LOGO_MAX_BYTES + 1)
            if len(logo) > organisation.LOGO_MAX_BYTES:
                raise TooLarge(detail=f"A logo may be at most {organisation.LOGO_MAX_BYTES // 1024} KB.")
        store = FileStore.from_settings(request.app.state.settings)
        try:
            form = parse(organisation.OrganisationForm, text)
            organisation.save(db, request.user, form, logo, store, logo_name)
        except StaleEdit as exc:
            return self._page(request, db, status=409, form=text, stale=stale_fields(exc.current, text))
        except FormError as exc:
            return self._page(request, db, status=422, form=text, errors=exc.errors)
        flash(request, "Organisation saved. New letters carry its name and logo.")
        return redirect("/admin/organisation")


handlers = [ProjectController, OrganisationAdmin]
