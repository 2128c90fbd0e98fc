"""JSON API: projects, memberships and each project's audit trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from tracker.audit import service as audit
from tracker.core.errors import Forbidden
from tracker.core.forms import ApiBody, ExpectedVersion, parse
from tracker.projects import invitations, service
from tracker.projects.invitations import InviteForm
from tracker.projects.models import DeemedPolicy, Project, Role
from tracker.projects.permissions import Perm
from tracker.projects.service import MemberForm, ProjectForm, RoleForm


class Holiday(BaseModel):
    date: date
    name: str = Field(default="", max_length=80)


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name: str
    description: str
    sponsor: str
    contractor: str
    contract_number: str
    start_date: date | None
    end_date: date | None
    timezone: str
    review_days: int
    resubmit_days: int
    deemed_policy: DeemedPolicy
    deemed_days: int
    holiday_calendar: str
    extra_holidays: list[Holiday]
    archived: bool
    version: int
    my_role: Role | None = None


class ProjectIn(ApiBody):
    """Create a project (admins). Unknown fields are refused."""

    labels = service.PROJECT_LABELS

    key: str = Field(min_length=2, max_length=10, examples=["CWS"])
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    sponsor: str = Field(default="", max_length=120)
    contractor: str = Field(default="", max_length=200)
    contract_number: str = Field(default="", max_length=60)
    start_date: date | None = None
    end_date: date | None = None
    timezone: str = Field(default="America/Los_Angeles", max_length=64)
    review_days: int = Field(default=10, ge=1, le=120)
    resubmit_days: int = Field(default=10, ge=1, le=120)
    deemed_policy: DeemedPolicy = DeemedPolicy.NEVER
    deemed_days: int = Field(default=15, ge=1, le=250)
    holiday_calendar: str = Field(default="US", min_length=1, max_length=16)
    extra_holidays: list[Holiday] = Field(default_factory=list, max_length=200)
    archived: bool = False


class ProjectPatch(ApiBody):
    """Change some fields. `version` is the one you read; a stale version answers 409."""

    labels = service.PROJECT_LABELS

    version: int
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    sponsor: str | None = Field(default=None, max_length=120)
    contractor: str | None = Field(default=None, max_length=200)
    contract_number: str | None = Field(default=None, max_length=60)
    start_date: date | None = None
    end_date: date | None = None
    timezone: str | None = Field(default=None, max_length=64)
    review_days: int | None = Field(default=None, ge=1, le=120)
    resubmit_days: int | None = Field(default=None, ge=1, le=120)
    deemed_policy: DeemedPolicy | None = None
    deemed_days: int | None = Field(default=None, ge=1, le=250)
    holiday_calendar: str | None = Field(default=None, min_length=1, max_length=16)
    extra_holidays: list[Holiday] | None = Field(default=None, max_length=200)
    archived: bool | None = None


class MemberOut(BaseModel):
    id: int
    user_id: int
    username: str
    full_name: str
    role: Role
    version: int


class MemberIn(ApiBody):
    user_id: int
    role: Role


class MemberPatch(ApiBody):
    role: Role
    version: int


class InvitationOut(BaseModel):
    id: int
    email: str
    full_name: str
    role: Role
    state: invitations.State
    sent_at: datetime
    expires_at: datetime
    invited_by: str | None
    version: int


class InvitationIn(ApiBody):
    """Invite by e-mail: someone with an account is added at once (`member`); anyone else is sent a link to make
    their account (`invitation`)."""

    labels = InviteForm.labels

    email: str = Field(max_length=254, examples=["dana@agency.gov"])
    full_name: str = Field(min_length=1, max_length=120)
    role: Role


class InvitedOut(BaseModel):
    outcome: str = Field(description="invited: a link was sent; added: an account with that address was added")
    invitation: InvitationOut | None = None
    member: MemberOut | None = None


class VersionIn(ApiBody):
    version: int


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str | None
    entity_type: str
    entity_id: int
    entity_label: str
    action: str
    changes: dict[str, Any]


def _out(project: Project, role: Role | None = None) -> ProjectOut:
    out = ProjectOut.model_validate(project)
    out.my_role = role
    return out


def _invitation_out(row: invitations.InvitationRow) -> InvitationOut:
    i = row.invitation
    return InvitationOut(
        id=i.id,
        email=i.email,
        full_name=i.full_name,
        role=i.role,
        state=row.state,
        sent_at=i.sent_at,
        expires_at=i.expires_at,
        invited_by=row.invited_by,
        version=i.version,
    )


def _member_out(row: service.MemberRow) -> MemberOut:
    m, u = row.membership, row.user
    return MemberOut(id=m.id, user_id=u.id, username=u.username, full_name=u.full_name, role=m.role, version=m.version)


class ProjectApi(Controller):
    path = "/api/v1/projects"
    tags = ["projects"]

    @get("/", sync_to_thread=True, summary="Projects you can see")
    def list_projects(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        include_archived: FromQuery[bool] = False,
    ) -> list[ProjectOut]:
        rows = service.visible_projects(db, request.user, q=q[:100], include_archived=include_archived)
        return [_out(r.project, r.role) for r in rows]

    @post("/", sync_to_thread=True, summary="Create a project (admins)")
    def create_project(self, request: Request, db: NamedDependency[Session], data: JSONBody[ProjectIn]) -> ProjectOut:
        if not request.user.is_admin:
            raise Forbidden(detail="Only admins create projects.")
        return _out(service.create_project(db, request.user, parse(ProjectForm, data.model_dump(mode="json"))))

    @get("/{key:str}", sync_to_thread=True, summary="One project")
    def get_project(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> ProjectOut:
        access = service.get_for(db, request.user, key)
        return _out(access.project, access.role)

    @patch(
        "/{key:str}",
        sync_to_thread=True,
        summary="Change project settings (its managers and admins; archiving: admins)",
    )
    def update_project(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[ProjectPatch]
    ) -> ProjectOut:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        current = ProjectOut.model_validate(access.project).model_dump(mode="json")
        merged = current | data.model_dump(mode="json", exclude_unset=True)
        service.update_project(db, request.user, access, parse(ProjectForm, merged))
        db.refresh(access.project)
        return _out(access.project, access.role)

    @get("/{key:str}/members", sync_to_thread=True, summary="Members and their roles")
    def list_members(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> list[MemberOut]:
        access = service.get_for(db, request.user, key)
        return [_member_out(r) for r in service.members(db, access.project.id)]

    @post("/{key:str}/members", sync_to_thread=True, summary="Add a member (the project's managers and admins)")
    def add_member(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[MemberIn]
    ) -> MemberOut:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        membership = service.add_member(db, request.user, access, MemberForm(user_id=data.user_id, role=data.role))
        return _member_out(service.MemberRow(*service.get_membership(db, access, membership.id)))

    @patch(
        "/{key:str}/members/{membership_id:int}",
        sync_to_thread=True,
        summary="Change a member's role (managers and admins)",
    )
    def change_role(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        membership_id: FromPath[int],
        data: JSONBody[MemberPatch],
    ) -> MemberOut:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        row = service.change_role(
            db, request.user, access, membership_id, RoleForm(role=data.role, version=data.version)
        )
        return _member_out(row)

    @delete(
        "/{key:str}/members/{membership_id:int}",
        sync_to_thread=True,
        summary="Remove a member (managers and admins; send the membership's version you read as ?version=)",
    )
    def remove_member(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        membership_id: FromPath[int],
        version: ExpectedVersion,
    ) -> None:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        service.remove_member(db, request.user, access, membership_id, version)

    @get("/{key:str}/invitations", sync_to_thread=True, summary="Invitations waiting to be accepted (managers, admins)")
    def list_invitations(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str]
    ) -> list[InvitationOut]:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        return [_invitation_out(r) for r in invitations.open_invitations(db, access.project.id)]

    @post("/{key:str}/invitations", sync_to_thread=True, summary="Invite someone by e-mail (managers, admins)")
    def invite(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[InvitationIn]
    ) -> InvitedOut:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        form = parse(InviteForm, data.model_dump())
        done = invitations.invite(db, request.app.state.settings, request.user, access, form)
        if done.membership is not None:
            member = service.MemberRow(*service.get_membership(db, access, done.membership.id))
            return InvitedOut(outcome="added", member=_member_out(member))
        return InvitedOut(outcome="invited", invitation=_invitation_out(invitations.row_of(db, done.invitation)))

    @post(
        "/{key:str}/invitations/{invitation_id:int}/resend",
        sync_to_thread=True,
        status_code=200,
        summary="Send an invitation again, with a new link and expiry (the old link stops working)",
    )
    def resend_invitation(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        invitation_id: FromPath[int],
        data: JSONBody[VersionIn],
    ) -> InvitationOut:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        invitation = invitations.resend(
            db, request.app.state.settings, request.user, access, invitation_id, data.version
        )
        return _invitation_out(invitations.row_of(db, invitation))

    @post(
        "/{key:str}/invitations/{invitation_id:int}/revoke",
        sync_to_thread=True,
        status_code=200,
        summary="Revoke an invitation: its link stops working",
    )
    def revoke_invitation(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        invitation_id: FromPath[int],
        data: JSONBody[VersionIn],
    ) -> InvitationOut:
        access = service.get_for(db, request.user, key, Perm.MANAGE)
        invitation = invitations.revoke(db, request.user, access, invitation_id, data.version)
        return _invitation_out(invitations.row_of(db, invitation))

    @get("/{key:str}/audit", sync_to_thread=True, summary="The project's audit trail, newest first")
    def project_audit(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        limit: FromQuery[int] = 50,
        offset: FromQuery[int] = 0,
    ) -> list[AuditOut]:
        access = service.get_for(db, request.user, key, Perm.VIEW_HISTORY)
        rows = audit.for_project(db, access.project.id, limit=min(max(limit, 1), 500), offset=max(offset, 0))
        return [
            AuditOut(
                id=r.event.id,
                at=r.event.at,
                actor=r.actor_name,
                entity_type=r.event.entity_type,
                entity_id=r.event.entity_id,
                entity_label=r.event.entity_label,
                action=r.event.action,
                changes=r.event.changes,
            )
            for r in rows
        ]
