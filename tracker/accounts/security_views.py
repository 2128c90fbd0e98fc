"""Admins' pages of signing in: the sign-in log, and turning off a person's multi-factor authentication when they lost
it (the sign-in policy, with who must use it, is on /admin/sign-in: sso/views.py)."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.accounts import mfa, service, signin_log
from tracker.accounts.signin import METHOD_WORDS, OUTCOME_WORDS, Outcome
from tracker.accounts.views import admin_required
from tracker.core.web import flash, redirect, render

Form = URLEncodedBody[dict[str, Any]]


class SecurityAdmin(Controller):
    path = "/admin"
    guards = [admin_required]
    include_in_schema = False

    @get("/sign-ins", sync_to_thread=True)
    def sign_ins(
        self,
        request: Request,
        db: NamedDependency[Session],
        user: FromQuery[str] = "",
        outcome: FromQuery[str] = "",
        page: FromQuery[int] = 1,
    ) -> Template:
        user = user.strip()[:64]
        outcome = outcome if outcome in set(Outcome) else ""
        page = max(page, 1)
        rows, total = signin_log.search(db, user, outcome, page)
        query = urlencode({k: v for k, v in (("user", user), ("outcome", outcome)) if v})
        return render(
            request,
            "admin/sign_ins.html",
            section="admin",
            rows=rows,
            total=total,
            user=user,
            outcome=outcome,
            outcomes=list(OUTCOME_WORDS.items()),
            outcome_words=OUTCOME_WORDS,
            method_words=METHOD_WORDS,
            page=page,
            pages=max(1, math.ceil(total / signin_log.PAGE)),
            base_url="/admin/sign-ins" + (f"?{query}" if query else ""),
            retention_days=request.app.state.settings.signin_retention_days,
        )

    @post("/users/{user_id:int}/mfa/disable", sync_to_thread=True)
    def disable_mfa(self, request: Request, db: NamedDependency[Session], user_id: FromPath[int]) -> Redirect:
        user = service.get_user(db, user_id)
        mfa.disable(db, request.user, user)
        flash(request, f"Multi-factor authentication is off for {user.username}.")
        return redirect(f"/admin/users/{user.id}")


handlers = [SecurityAdmin]
