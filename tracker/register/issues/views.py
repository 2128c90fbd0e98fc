"""Pages: the issue register with inline quick edits, the issue record with its decision log and action items,
and create/edit forms (register/pages.py); what is the issue's own is its decision log."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.core.forms import parse
from tracker.projects.service import Access
from tracker.register import common, pages
from tracker.register.actions import service as actions
from tracker.register.issues import service as issues
from tracker.register.issues.models import EscalationLevel, IssueStatus, Priority
from tracker.register.issues.service import DecisionForm
from tracker.register.kinds import KINDS
from tracker.register.risks.models import Risk

CHOICES = {
    "status": [s.value for s in IssueStatus],
    "priority": [p.value for p in Priority],
    "escalation_level": [e.value for e in EscalationLevel],
}
OPTIONS = {name: list(issues.WORDS[name].items()) for name in CHOICES}


class IssuePages(pages.WithActions, pages.RegisterPages):
    path = "/projects/{key:str}/issues"
    kind = KINDS["issues"]

    def page_context(self, db: Session, access: Access) -> dict[str, Any]:
        return {"choices": CHOICES, "options": OPTIONS, "settings": common.settings_for(db, access.project.id)}

    def detail_context(self, db: Session, access: Access, issue: Any, today: Any) -> dict[str, Any]:
        return {
            "decisions": issues.decisions_of(db, issue.id),
            "items": actions.for_parent(db, today, issue_id=issue.id),
            "risk": db.get(Risk, issue.risk_id) if issue.risk_id else None,
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
        def log(access: Access, issue: Any) -> str:
            issues.add_decision(db, request.user, access, issue, parse(DecisionForm, data))
            return "Decision logged."

        return self.record_decision(request, db, key, record_id, data, log)


handlers = [IssuePages]
