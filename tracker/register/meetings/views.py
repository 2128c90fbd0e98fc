"""Pages: a project's meetings (register/pages.py gives the list, the record and its forms, pages.WithActions the
action items recorded in the minutes), the minutes as a PDF, mailing them to the attendees, and a weekly status
meeting started from the draft status report."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.core.errors import FormError
from tracker.core.forms import parse
from tracker.core.web import flash, redirect
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.service import Access
from tracker.register import common, pages
from tracker.register.actions import service as actions
from tracker.register.decisions import service as decisions
from tracker.register.kinds import KINDS
from tracker.register.meetings import service as meetings
from tracker.register.meetings.models import MeetingType
from tracker.reports import service as reports

DECISION_FIELDS = ("title", "context", "options", "decided_by", "decided_on")  # what the minutes' form asks
CHOICES = {"meeting_type": [t.value for t in MeetingType]}
OPTIONS = {name: list(meetings.WORDS[name].items()) for name in CHOICES}


class MeetingPages(pages.WithActions, pages.RegisterPages):
    path = "/projects/{key:str}/meetings"
    kind = KINDS["meetings"]

    def page_context(self, db: Session, access: Access) -> dict[str, Any]:
        return {"choices": CHOICES, "options": OPTIONS, "default_day": project_today(access.project)}

    def list_context(self, db: Session, access: Access) -> dict[str, Any]:
        return {"deliverable_choices": common.deliverable_choices(db, access.project.id)}

    def detail_context(self, db: Session, access: Access, meeting: Any, today: Any) -> dict[str, Any]:
        return {
            "items": actions.for_parent(db, today, meeting_id=meeting.id),
            "agenda": meetings.lines(meeting.agenda),
            "external": meetings.lines(meeting.external_attendees),
            "mailed": meetings.mailed(db, meeting.id),
            "mail_errors": {},
            "decisions": meetings.decisions_of(db, meeting.id),
            "decision_errors": {},
            "decision_form": {},
        }

    @post("/{record_id:int}/decisions", sync_to_thread=True)
    def add_decision(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        record_id: FromPath[int],
        data: pages.Form,
    ) -> Template | Redirect:
        """A decision taken in the meeting, logged in the decision log and listed in the minutes."""

        def log(access: Access, meeting: Any) -> str:
            form = parse(decisions.DecisionForm, {k: v for k, v in data.items() if k in DECISION_FIELDS})
            return f"Decision {meetings.record_decision(db, request.user, access, meeting, form).code} logged."

        return self.record_decision(request, db, key, record_id, data, log)

    @get("/{record_id:int}/minutes.pdf", sync_to_thread=True)
    def pdf(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], record_id: FromPath[int]
    ) -> Response:
        access = projects.get_for(db, request.user, key, self.kind.view)
        body, name = meetings.minutes_pdf(db, self.kind.service.get_for(db, access, record_id))
        return Response(
            content=body,
            media_type="application/pdf",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @post("/{record_id:int}/mail", sync_to_thread=True)
    def mail(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], record_id: FromPath[int]
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, self.kind.edit)
        meeting = self.kind.service.get_for(db, access, record_id)
        try:
            names = meetings.mail_minutes(db, request.user, access, meeting)
        except FormError as exc:
            return self.detail_page(request, db, access, meeting, status=422, mail_errors=exc.errors)
        flash(request, f"The minutes of {meeting.code} will be mailed to {', '.join(names)}.")
        return redirect(self.url(access, meeting, "#publish"))

    @post("/from-report", sync_to_thread=True)
    def from_report(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: pages.Form
    ) -> Redirect:
        """A weekly status meeting on the draft status report of the period posted (the draft page's button)."""
        access = projects.get_for(db, request.user, key, self.kind.edit)
        try:
            period = reports.period_of(
                access.project, parse(reports.PeriodForm, {k: data.get(k) for k in ("period_start", "period_end")})
            )
        except FormError as exc:
            flash(request, " ".join(exc.errors.values()), "error")
            return redirect(f"/projects/{access.project.key}/status-reports")
        meeting = meetings.start_weekly(db, request.user, access, period)
        flash(request, f"Meeting {meeting.code} started: the draft's lists are its agenda.")
        return redirect(self.url(access, meeting))


handlers = [MeetingPages]
