"""Pages: the risk register with its heat map, inline quick edits, the risk record with its plans and score
trend, create/edit forms, and the project's register settings."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.audit import service as audit
from tracker.core.errors import Conflict, FormError, StaleEdit
from tracker.core.forms import parse
from tracker.core.web import flash, redirect, render, show_date
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register import common, pages
from tracker.register.actions import service as actions
from tracker.register.actions.models import Plan
from tracker.register.issues import service as issues
from tracker.register.kinds import KINDS
from tracker.register.risks import scoring
from tracker.register.risks import service as risks
from tracker.register.risks.models import Category, Proximity, RiskStatus, Strategy
from tracker.register.risks.service import SettingsForm

Form = URLEncodedBody[dict[str, Any]]

CHOICES = {
    "category": [c.value for c in Category],
    "proximity": [p.value for p in Proximity],
    "response": [s.value for s in Strategy],
    "status": [s.value for s in RiskStatus],
    "level": [lv.value for lv in scoring.Level],
}
SCALE = {"probability": scoring.PROBABILITY_WORDS, "impact": scoring.IMPACT_WORDS}
OPTIONS = {
    name: list(risks.WORDS[name].items())
    for name in ("category", "proximity", "response", "status", "probability", "impact")
}


def trend_points(history: list, width: int = 320, height: int = 110, pad: int = 14) -> list[dict[str, Any]]:
    """Where each score of the history sits on the small trend chart (x by change, y by score 1–25)."""
    n = len(history)
    step = (width - 2 * pad) / max(1, n - 1)
    points = []
    for i, (h, _) in enumerate(history):
        value = scoring.score(h.probability, h.impact)
        x = pad + (i * step if n > 1 else (width - 2 * pad) / 2)
        y = height - pad - (value - 1) / 24 * (height - 2 * pad)
        points.append({"x": round(x, 1), "y": round(y, 1), "score": value, "at": h.at})
    return points


class RiskPages(pages.WithActions, pages.RegisterPages):
    path = "/projects/{key:str}/risks"
    kind = KINDS["risks"]

    def page_context(self, db: Session, access: Access) -> dict[str, Any]:
        return {"choices": CHOICES, "scale": SCALE, "options": OPTIONS, "scoring": scoring}

    def detail_context(self, db: Session, access: Access, risk: Any, today: Any) -> dict[str, Any]:
        items = actions.for_parent(db, today, risk_id=risk.id)
        history = risks.history_of(db, risk.id)
        return {
            "history": history,
            "points": trend_points(history),
            "issue": issues.from_risk(db, risk.id),
            "mitigation": [r for r in items if r.item.plan == Plan.MITIGATION],
            "contingency": [r for r in items if r.item.plan == Plan.CONTINGENCY],
        }

    def list_page(self, request: Request, db: Session, access: Access, status: int = 200, **extra: Any) -> Template:
        page = super().list_page(request, db, access, status, **extra)
        page.context["heat"] = risks.heat_map(db, access)
        return page

    @get("/heat-map", sync_to_thread=True)
    def heat_map(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        """The heat map on its own: htmx refreshes the one beside the list from here after a quick edit."""
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        return render(
            request, "risks/heatmap.html", block="heat_map", heat=risks.heat_map(db, access), **self.common(db, access)
        )

    @post("/{record_id:int}/review", sync_to_thread=True)
    def review(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], record_id: FromPath[int], data: Form
    ) -> Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        risk = risks.get_for(db, access, record_id)
        try:
            risks.mark_reviewed(db, request.user, access, risk, pages.form_version(data))
            flash(request, f"{risk.code} reviewed; next review {show_date(risk.next_review_date)}.")
        except Conflict as exc:
            flash(request, exc.detail, "error")
        return redirect(f"/projects/{access.project.key}/risks/{risk.id}")

    @post("/{record_id:int}/convert", sync_to_thread=True)
    def convert(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], record_id: FromPath[int], data: Form
    ) -> Template | Redirect | Response:
        """Converting cannot be undone, so it is confirmed first: in the browser's dialog (htmx sends `confirmed`),
        or, without JavaScript, on the page this answers when `confirmed` is missing."""
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        risk = risks.get_for(db, access, record_id)
        if data.get("confirmed") != "yes":
            return render(
                request,
                "risks/convert.html",
                risk=risk,
                version=pages.form_version(data) if "version" in data else risk.version,
                level=scoring.level(risk.probability, risk.impact),
                **self.common(db, access),
            )
        try:
            issue = issues.convert(db, request.user, access, risk, pages.form_version(data))
        except Conflict as exc:
            flash(request, exc.detail, "error")
            return pages.go(request, f"/projects/{access.project.key}/risks/{risk.id}")
        flash(request, f"{risk.code} is realized. Issue {issue.code} opened from it; complete its details.")
        return pages.go(request, f"/projects/{access.project.key}/issues/{issue.id}")


class RegisterSettingsPages(Controller):
    path = "/projects/{key:str}/register-settings"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        settings = common.settings_for(db, access.project.id)
        form = audit.snapshot(settings, risks.SETTING_FIELDS) | {"version": settings.version}
        return render(request, "risks/settings.html", form=form, errors={}, access=access, project=access.project)

    @post("/", sync_to_thread=True)
    def save(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        try:
            risks.update_settings(db, request.user, access, parse(SettingsForm, data))
        except StaleEdit:
            flash(request, "Someone else saved these settings first; here are theirs.", "error")
            return redirect(f"/projects/{access.project.key}/register-settings")
        except FormError as exc:
            return render(
                request,
                "risks/settings.html",
                status=422,
                form=data,
                errors=exc.errors,
                access=access,
                project=access.project,
            )
        flash(request, "Register settings saved.")
        return redirect(f"/projects/{access.project.key}/risks")


handlers = [RiskPages, RegisterSettingsPages]
