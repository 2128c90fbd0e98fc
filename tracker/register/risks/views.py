"""Pages: the risk register with its heat map, inline quick edits, the risk record with its plans and score
trend, create/edit forms, and the project's register settings."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.audit import service as audit
from tracker.core.errors import Conflict, FormError, StaleEdit
from tracker.core.forms import parse, stale_fields
from tracker.core.web import flash, redirect, render, safe_next
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register.actions import service as actions
from tracker.register.actions.models import Plan
from tracker.register.issues import service as issues
from tracker.register.risks import scoring
from tracker.register.risks import service as risks
from tracker.register.risks.models import Category, Proximity, Risk, RiskDeliverable, RiskStatus, Strategy
from tracker.register.risks.service import RiskForm, RiskQuery, SettingsForm

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


def _common(db: Session, access: Access) -> dict[str, Any]:
    return {
        "access": access,
        "project": access.project,
        "choices": CHOICES,
        "scale": SCALE,
        "options": OPTIONS,
        "scoring": scoring,
        "owners": risks.owners(db, access.project.id),
        "can_edit": access.can(Perm.EDIT_REGISTER),
    }


def _list_url(access: Access, raw: dict[str, Any]) -> str:
    return f"/projects/{access.project.key}/risks?{urlencode(raw)}"


def _index(request: Request, db: Session, access: Access) -> Template:
    raw = {k: v for k, v in request.query_params.items() if v not in ("", None)}
    query = parse(RiskQuery, raw)
    rows, total = risks.search(db, access, query)
    base = {k: v for k, v in raw.items() if k != "page"}
    return render(
        request,
        "risks/index.html",
        block="risk_table",
        rows=rows,
        total=total,
        query=query,
        page=query.page,
        pages=max(1, math.ceil(total / risks.PAGE_SIZE)),
        base_url=_list_url(access, base),
        sort_base={k: v for k, v in base.items() if k != "sort"},
        here=_list_url(access, raw),
        export_url=f"/projects/{access.project.key}/risks/export?{urlencode(base)}",
        heat=risks.heat_map(db, access),
        **_common(db, access),
    )


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


def _detail(request: Request, db: Session, access: Access, risk: Risk, status: int = 200, **extra: Any) -> Template:
    today = project_today(access.project)
    items = actions.for_parent(db, today, risk_id=risk.id)
    history = risks.history_of(db, risk.id)
    context: dict[str, Any] = {
        "risk": risk,
        "row": risks.row(db, access, risk.id),
        "today": today,
        "history": history,
        "points": trend_points(history),
        "issue": issues.from_risk(db, risk.id),
        "deliverables": risks.linked_deliverables(db, RiskDeliverable, "risk_id", [risk.id])[risk.id],
        "mitigation": [r for r in items if r.item.plan == Plan.MITIGATION],
        "contingency": [r for r in items if r.item.plan == Plan.CONTINGENCY],
        "trail": audit.for_entity(db, "risk", risk.id, limit=100) if access.can(Perm.VIEW_HISTORY) else [],
        "action_errors": {},
        "action_form": {},
        "action_plan": None,
    }
    context.update(extra)
    return render(request, "risks/detail.html", status=status, **_common(db, access), **context)


def _form(
    request: Request,
    db: Session,
    access: Access,
    risk: Risk | None,
    form: dict[str, Any],
    errors: dict[str, str],
    stale: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    return render(
        request,
        "risks/form.html",
        status=status,
        risk=risk,
        form=form,
        errors=errors,
        stale=stale,
        labels=risks.LABELS,
        deliverable_choices=risks.deliverable_choices(db, access.project.id),
        **_common(db, access),
    )


class RiskPages(Controller):
    path = "/projects/{key:str}/risks"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        return _index(request, db, projects.get_for(db, request.user, key, Perm.VIEW_REGISTER))

    @get("/heat-map", sync_to_thread=True)
    def heat_map(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        """The heat map on its own: htmx refreshes the one beside the list from here after a quick edit."""
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        return render(
            request, "risks/heatmap.html", block="heat_map", heat=risks.heat_map(db, access), **_common(db, access)
        )

    @get("/new", sync_to_thread=True)
    def new(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        defaults = {
            "code": risks.next_code(db, Risk, access.project.id, "R"),
            "category": "other",
            "probability": 3,
            "impact": 3,
            "proximity": "mid",
            "response": "mitigate",
            "status": "open",
        }
        return _form(request, db, access, None, defaults, {})

    @post("/", sync_to_thread=True)
    def create(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        try:
            risk = risks.create(db, request.user, access, parse(RiskForm, data))
        except FormError as exc:
            return _form(request, db, access, None, data, exc.errors, status=422)
        flash(request, f"Risk {risk.code} recorded.")
        return redirect(f"/projects/{access.project.key}/risks/{risk.id}")

    @get("/{risk_id:int}", sync_to_thread=True)
    def detail(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], risk_id: FromPath[int]
    ) -> Template:
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        return _detail(request, db, access, risks.get_for(db, access, risk_id))

    @get("/{risk_id:int}/edit", sync_to_thread=True)
    def edit(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], risk_id: FromPath[int]
    ) -> Template:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        risk = risks.get_for(db, access, risk_id)
        return _form(request, db, access, risk, risks.form_values(db, risk), {})

    @post("/{risk_id:int}/edit", sync_to_thread=True)
    def update(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], risk_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        risk = risks.get_for(db, access, risk_id)
        try:
            risks.update(db, request.user, access, risk, parse(RiskForm, data))
        except StaleEdit as exc:
            return _form(
                request,
                db,
                access,
                risk,
                data | {"version": risk.version},
                {},
                stale=stale_fields(exc.current, data),
                status=409,
            )
        except FormError as exc:
            return _form(request, db, access, risk, data, exc.errors, status=422)
        flash(request, f"Risk {risk.code} saved.")
        return redirect(f"/projects/{access.project.key}/risks/{risk.id}")

    @post("/{risk_id:int}/quick", sync_to_thread=True)
    def quick(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], risk_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        """Status, owner, probability or impact changed in the list: the row comes back re-rendered."""
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        risk = risks.get_for(db, access, risk_id)
        values = (
            risks.form_values(db, risk)
            | {k: data[k] for k in ("status", "owner_id", "probability", "impact") if k in data}
            | {"version": data.get("version")}
        )
        message, status = None, 200
        try:
            risks.update(db, request.user, access, risk, parse(RiskForm, values))
            message = f"{risk.code} saved."
        except StaleEdit:
            message, status = f"Someone else changed {risk.code} first; these are the saved values now.", 409
        except FormError as exc:
            message, status = " ".join(exc.errors.values()), 422
        if not request.headers.get("hx-request"):
            flash(request, message, "success" if status == 200 else "error")
            return redirect(safe_next(data.get("next"), f"/projects/{access.project.key}/risks"))
        return render(
            request,
            "risks/index.html",
            block="risk_row",
            status=status,
            row=risks.row(db, access, risk.id),
            message=message,
            failed=status != 200,
            here=safe_next(data.get("next"), ""),
            headers={"HX-Trigger": "risk-changed"} if status == 200 else None,
            **_common(db, access),
        )

    @post("/{risk_id:int}/review", sync_to_thread=True)
    def review(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], risk_id: FromPath[int], data: Form
    ) -> Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        risk = risks.get_for(db, access, risk_id)
        try:
            risks.mark_reviewed(db, request.user, access, risk, _version(data))
            flash(request, f"{risk.code} reviewed; next review {risk.next_review_date:%b %-d, %Y}.")
        except Conflict as exc:
            flash(request, exc.detail, "error")
        return redirect(f"/projects/{access.project.key}/risks/{risk.id}")

    @post("/{risk_id:int}/convert", sync_to_thread=True)
    def convert(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], risk_id: FromPath[int], data: Form
    ) -> Template | Redirect | Response:
        """Converting cannot be undone, so it is confirmed first: in the browser's dialog (htmx sends `confirmed`),
        or, without JavaScript, on the page this answers when `confirmed` is missing."""
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        risk = risks.get_for(db, access, risk_id)
        if data.get("confirmed") != "yes":
            return render(
                request,
                "risks/convert.html",
                risk=risk,
                version=_version(data) or risk.version,
                level=scoring.level(risk.probability, risk.impact),
                **_common(db, access),
            )
        try:
            issue = issues.convert(db, request.user, access, risk, _version(data))
        except Conflict as exc:
            flash(request, exc.detail, "error")
            return _go(request, f"/projects/{access.project.key}/risks/{risk.id}")
        flash(request, f"{risk.code} is realized. Issue {issue.code} opened from it; complete its details.")
        return _go(request, f"/projects/{access.project.key}/issues/{issue.id}")

    @post("/{risk_id:int}/actions", sync_to_thread=True)
    def add_action(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], risk_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        risk = risks.get_for(db, access, risk_id)
        try:
            actions.add(db, request.user, access, risk, parse(actions.ActionForm, data))
        except FormError as exc:
            return _detail(
                request,
                db,
                access,
                risk,
                status=422,
                action_errors=exc.errors,
                action_form=data,
                action_plan=data.get("plan"),
            )
        flash(request, "Action item added.")
        return redirect(f"/projects/{access.project.key}/risks/{risk.id}#{data.get('plan', 'mitigation')}-plan")


def _go(request: Request, path: str) -> Redirect | Response:
    """A redirect, or for htmx the instruction to load that page (htmx would follow a 303 and swap the page in)."""
    if request.headers.get("hx-request"):
        return Response(content="", headers={"HX-Redirect": path})
    return redirect(path)


def _version(data: dict[str, Any]) -> int | None:
    try:
        return int(data["version"])
    except (KeyError, TypeError, ValueError):
        return None


class RegisterSettingsPages(Controller):
    path = "/projects/{key:str}/register-settings"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        settings = risks.settings_for(db, access.project.id)
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
