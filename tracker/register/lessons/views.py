"""Pages: a project's lessons learned (register/pages.py gives the list, the record and its forms), and /lessons, the
lessons of every project the reader may see."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlmodel import Session

from tracker.core.forms import parse
from tracker.core.web import render
from tracker.projects.service import Access
from tracker.register import common, pages
from tracker.register.kinds import KINDS
from tracker.register.lessons import service as lessons
from tracker.register.lessons.models import LessonCategory

CHOICES = {"category": [c.value for c in LessonCategory]}
OPTIONS = {name: list(lessons.WORDS[name].items()) for name in CHOICES}


class LessonPages(pages.RegisterPages):
    path = "/projects/{key:str}/lessons"
    kind = KINDS["lessons"]

    def page_context(self, db: Session, access: Access) -> dict[str, Any]:
        return {"choices": CHOICES, "options": OPTIONS}

    def list_context(self, db: Session, access: Access) -> dict[str, Any]:
        return {
            "phases": {p: p for p in lessons.phases(db, access.project.id)},
            "deliverable_choices": common.deliverable_choices(db, access.project.id),
        }


@get("/lessons", sync_to_thread=True, include_in_schema=False)
def every_lesson(request: Request, db: NamedDependency[Session]) -> Template:
    """Lessons learned across every project the reader may read the register of, newest first."""
    wanted = {k: v for k, v in request.query_params.items() if k in lessons.EveryQuery.model_fields}
    query = parse(lessons.EveryQuery, wanted)
    found, total = lessons.everywhere(db, request.user, query)
    base = {k: v for k, v in wanted.items() if v and k != "page"}
    return render(
        request,
        "lessons/everywhere.html",
        block="lesson_results",
        query=query,
        found=found,
        total=total,
        **pages.pager(query.page, total, lessons.PER_PAGE, "/lessons", base),
        projects=lessons.project_choices(db, request.user),
        options=OPTIONS,
    )


handlers = [LessonPages, every_lesson]
