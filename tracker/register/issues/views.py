"""Pages: the issue register with inline quick edits, the issue record with its decision log and action items,
and create/edit forms."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.audit import service as audit
from tracker.core.errors import FormError, StaleEdit
from tracker.core.forms import parse, stale_fields
from tracker.core.web import flash, redirect, render, safe_next
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register.actions import service as actions
from tracker.register.issues import service as issues
from tracker.register.issues.models import EscalationLevel, Issue, IssueDeliverable, IssueStatus, Priority
from tracker.register.issues.service import DecisionForm, IssueForm, IssueQuery
from tracker.register.risks import service as risks
from tracker.register.risks.models import Risk

Form = URLEncodedBody[dict[str, Any]]

CHOICES = {
    "status": [s.value for s in IssueStatus],
    "priority": [p.value for p in Priority],
    "escalation_level": [e.value for e in EscalationLevel],
}
OPTIONS = {name: list(issues.WORDS[name].items()) for name in CHOICES}


def _common(db: Session, access: Access) -> dict[str, Any]:
    return {
        "access": access,
        "project": access.project,
        "choices": CHOICES,
        "options": OPTIONS,
        "owners": risks.owners(db, access.project.id),
        "can_edit": access.can(Perm.EDIT_REGISTER),
        "settings": risks.settings_for(db, access.project.id),
    }


def _list_url(access: Access, raw: dict[str, Any]) -> str:
    return f"/projects/{access.project.key}/issues?{urlencode(raw)}"


def _detail(request: Request, db: Session, access: Access, issue: Issue, status: int = 200, **extra: Any) -> Template:
    today = project_today(access.project)
    context: dict[str, Any] = {
        "issue": issue,
        "row": issues.row(db, access, issue.id),
        "today": today,
        "decisions": issues.decisions_of(db, issue.id),
        "items": actions.for_parent(db, today, issue_id=issue.id),
        "risk": db.get(Risk, issue.risk_id) if issue.risk_id else None,
        "deliverables": risks.linked_deliverables(db, IssueDeliverable, "issue_id", [issue.id])[issue.id],
        "trail": audit.for_entity(db, "issue", issue.id, limit=100) if access.can(Perm.VIEW_HISTORY) else [],
        "action_errors": {},
        "action_form": {},
        "action_plan": None,
        "decision_errors": {},
        "decision_form": {},
    }
    context.update(extra)
    return render(request, "issues/detail.html", status=status, **_common(db, access), **context)


def _form(
    request: Request,
    db: Session,
    access: Access,
    issue: Issue | None,
    form: dict[str, Any],
    errors: dict[str, str],
    stale: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    return render(
        request,
        "issues/form.html",
        status=status,
        issue=issue,
        form=form,
        errors=errors,
        stale=stale,
        labels=issues.LABELS,
        deliverable_choices=risks.deliverable_choices(db, access.project.id),
        **_common(db, access),
    )


class IssuePages(Controller):
    path = "/projects/{key:str}/issues"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        raw = {k: v for k, v in request.query_params.items() if v not in ("", None)}
        query = parse(IssueQuery, raw)
        rows, total = issues.search(db, access, query)
        base = {k: v for k, v in raw.items() if k != "page"}
        return render(
            request,
            "issues/index.html",
            block="issue_table",
            rows=rows,
            total=total,
            query=query,
            page=query.page,
            pages=max(1, math.ceil(total / issues.PAGE_SIZE)),
            base_url=_list_url(access, base),
            sort_base={k: v for k, v in base.items() if k != "sort"},
            here=_list_url(access, raw),
            export_url=f"/projects/{access.project.key}/issues/export?{urlencode(base)}",
            **_common(db, access),
        )

    @get("/new", sync_to_thread=True)
    def new(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        defaults = {
            "code": risks.next_code(db, Issue, access.project.id, "I"),
            "priority": "medium",
            "status": "open",
            "escalation_level": "project",
        }
        return _form(request, db, access, None, defaults, {})

    @post("/", sync_to_thread=True)
    def create(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        try:
            issue = issues.create(db, request.user, access, parse(IssueForm, data))
        except FormError as exc:
            return _form(request, db, access, None, data, exc.errors, status=422)
        flash(request, f"Issue {issue.code} recorded.")
        return redirect(f"/projects/{access.project.key}/issues/{issue.id}")

    @get("/{issue_id:int}", sync_to_thread=True)
    def detail(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], issue_id: FromPath[int]
    ) -> Template:
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        return _detail(request, db, access, issues.get_for(db, access, issue_id))

    @get("/{issue_id:int}/edit", sync_to_thread=True)
    def edit(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], issue_id: FromPath[int]
    ) -> Template:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        issue = issues.get_for(db, access, issue_id)
        return _form(request, db, access, issue, issues.form_values(db, issue), {})

    @post("/{issue_id:int}/edit", sync_to_thread=True)
    def update(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], issue_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        issue = issues.get_for(db, access, issue_id)
        try:
            issues.update(db, request.user, access, issue, parse(IssueForm, data))
        except StaleEdit as exc:
            return _form(
                request,
                db,
                access,
                issue,
                data | {"version": issue.version},
                {},
                stale=stale_fields(exc.current, data),
                status=409,
            )
        except FormError as exc:
            return _form(request, db, access, issue, data, exc.errors, status=422)
        flash(request, f"Issue {issue.code} saved.")
        return redirect(f"/projects/{access.project.key}/issues/{issue.id}")

    @post("/{issue_id:int}/quick", sync_to_thread=True)
    def quick(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], issue_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        """Status, owner or priority changed in the list: the row comes back re-rendered."""
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        issue = issues.get_for(db, access, issue_id)
        values = (
            issues.form_values(db, issue)
            | {k: data[k] for k in ("status", "owner_id", "priority") if k in data}
            | {"version": data.get("version")}
        )
        message, status = None, 200
        try:
            issues.update(db, request.user, access, issue, parse(IssueForm, values))
            message = f"{issue.code} saved."
        except StaleEdit:
            message, status = f"Someone else changed {issue.code} first; these are the saved values now.", 409
        except FormError as exc:
            message, status = " ".join(exc.errors.values()) + " Open the issue to complete it.", 422
        if not request.headers.get("hx-request"):
            flash(request, message, "success" if status == 200 else "error")
            return redirect(safe_next(data.get("next"), f"/projects/{access.project.key}/issues"))
        return render(
            request,
            "issues/index.html",
            block="issue_row",
            status=status,
            row=issues.row(db, access, issue.id),
            message=message,
            failed=status != 200,
            here=safe_next(data.get("next"), ""),
            **_common(db, access),
        )

    @post("/{issue_id:int}/decisions", sync_to_thread=True)
    def add_decision(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], issue_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        issue = issues.get_for(db, access, issue_id)
        try:
            issues.add_decision(db, request.user, access, issue, parse(DecisionForm, data))
        except FormError as exc:
            return _detail(request, db, access, issue, status=422, decision_errors=exc.errors, decision_form=data)
        flash(request, "Decision logged.")
        return redirect(f"/projects/{access.project.key}/issues/{issue.id}#decisions")

    @post("/{issue_id:int}/actions", sync_to_thread=True)
    def add_action(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], issue_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        issue = issues.get_for(db, access, issue_id)
        try:
            actions.add(db, request.user, access, issue, parse(actions.ActionForm, data))
        except FormError as exc:
            return _detail(request, db, access, issue, status=422, action_errors=exc.errors, action_form=data)
        flash(request, "Action item added.")
        return redirect(f"/projects/{access.project.key}/issues/{issue.id}#actions")


handlers = [IssuePages]
