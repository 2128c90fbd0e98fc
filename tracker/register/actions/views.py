"""Pages: mark an action item done or open again, and edit it. Items are added on their risk or issue page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.core.errors import FormError, StaleEdit
from tracker.core.forms import parse, stale_fields
from tracker.core.web import flash, options, redirect, render
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.register import common
from tracker.register.actions import service as actions
from tracker.register.actions.models import ActionItem, Plan
from tracker.register.pages import form_version

Form = URLEncodedBody[dict[str, Any]]


class ActionPages(Controller):
    path = "/projects/{key:str}/actions/{item_id:int}"
    include_in_schema = False

    @post("/done", sync_to_thread=True)
    def done(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], item_id: FromPath[int], data: Form
    ) -> Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        item = actions.get_for(db, access, item_id)
        version = form_version(data)
        try:
            done = data.get("done") == "true"
            actions.set_done(db, request.user, access, item, done, version)
            flash(request, "Action item done." if done else "Action item reopened.")
        except StaleEdit:
            flash(request, "Someone else changed that action item first; check it and try again.", "error")
        except FormError as exc:
            flash(request, " ".join(exc.errors.values()), "error")
        return redirect(actions.back_url(access.project.key, item))

    @get("/edit", sync_to_thread=True)
    def edit(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], item_id: FromPath[int]
    ) -> Template:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        item = actions.get_for(db, access, item_id)
        return self._form(request, db, access, item, actions.as_values(item), {})

    @post("/edit", sync_to_thread=True)
    def update(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], item_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        item = actions.get_for(db, access, item_id)
        try:
            actions.update(db, request.user, access, item, parse(actions.ActionForm, data))
        except StaleEdit as exc:
            return self._form(
                request,
                db,
                access,
                item,
                data | {"version": item.version},
                {},
                stale=stale_fields(exc.current, data),
                status=409,
            )
        except FormError as exc:
            return self._form(request, db, access, item, data, exc.errors, status=422)
        flash(request, "Action item saved.")
        return redirect(actions.back_url(access.project.key, item))

    def _form(
        self,
        request: Request,
        db: Session,
        access: projects.Access,
        item: ActionItem,
        form: dict[str, Any],
        errors: dict[str, str],
        stale: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Template:
        return render(
            request,
            "register/action_form.html",
            status=status,
            access=access,
            project=access.project,
            item=item,
            form=form,
            errors=errors,
            stale=stale,
            labels=actions.LABELS,
            back=actions.back_url(access.project.key, item),
            owners=common.owners(db, access.project.id),
            plans=options([Plan.MITIGATION.value, Plan.CONTINGENCY.value], " plan"),
        )


handlers = [ActionPages]
