"""JSON API: My work, the same sections as the home page."""

from __future__ import annotations

from datetime import date
from typing import Literal

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from pydantic import BaseModel, Field
from sqlmodel import Session

from tracker.home import service


class WorkItemOut(BaseModel):
    project: str = Field(examples=["CWS"])
    code: str = Field(examples=["D-07"], description="The record's code, or the report period")
    title: str
    url: str = Field(description="The record's page")
    due: date | None
    days: int | None = Field(description="Days until due on the project's calendar; negative when overdue")
    state: Literal["overdue", "upcoming"] | None = Field(
        description="overdue once the day has passed; upcoming when due in the next 14 days"
    )
    detail: str
    flag: str = Field(description="A warning beside the clock, e.g. a review escalated or about to be deemed accepted")


class SectionOut(BaseModel):
    key: str = Field(examples=["lead_reviews"])
    title: str = Field(examples=["Reviews you lead"])
    items: list[WorkItemOut]


class MyWorkApi(Controller):
    path = "/api/v1/my-work"
    tags = ["accounts"]

    @get("/", sync_to_thread=True, summary="Everything that needs you now, across your projects, with its clock")
    def my_work(self, request: Request, db: NamedDependency[Session]) -> list[SectionOut]:
        """Every section of My work in the page's order, empty ones included: reviews you lead and are assigned,
        comments awaiting your disposition or response, conditions due, criteria to agree, reports to publish,
        resubmissions awaited, deliverables due from you, action items, risks due for review and issues flagged
        for escalation."""
        return [
            SectionOut(
                key=s.key,
                title=s.title,
                items=[
                    WorkItemOut(
                        project=i.project_key,
                        code=i.code,
                        title=i.title,
                        url=i.url,
                        due=i.due,
                        days=i.days,
                        state=i.state,
                        detail=i.detail,
                        flag=i.flag,
                    )
                    for i in s.items
                ],
            )
            for s in service.my_work(db, request.user)
        ]
