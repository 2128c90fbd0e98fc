"""JSON API: who am I."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from pydantic import BaseModel
from sqlmodel import Session

from tracker.projects import service as projects


class MembershipOut(BaseModel):
    project_key: str
    project_name: str
    role: str | None


class MeOut(BaseModel):
    id: int
    username: str
    full_name: str
    is_admin: bool
    projects: list[MembershipOut]


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["accounts"]

    @get("/", sync_to_thread=True, summary="The signed-in user and their project roles")
    def me(self, request: Request, db: NamedDependency[Session]) -> MeOut:
        user = request.user
        rows = projects.visible_projects(db, user)
        return MeOut(
            id=user.id,
            username=user.username,
            full_name=user.full_name,
            is_admin=user.is_admin,
            projects=[MembershipOut(project_key=r.project.key, project_name=r.project.name, role=r.role) for r in rows],
        )
