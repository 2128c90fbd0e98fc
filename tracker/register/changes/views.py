"""Pages: the change register, a request's record with its workflow buttons and what its approval did, and the
draft's form (register/pages.py); what is the change request's own is its workflow."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.core.errors import Conflict, FormError, StaleEdit
from tracker.core.forms import form_version, parse
from tracker.core.web import flash
from tracker.projects import service as projects
from tracker.projects.service import Access
from tracker.register import pages
from tracker.register.changes import service as changes
from tracker.register.changes.models import ChangeStatus, Side
from tracker.register.changes.workflow import TRANSITIONS, Move
from tracker.register.kinds import KINDS

CHOICES = {"status": [s.value for s in ChangeStatus], "requested_by": [s.value for s in Side]}
OPTIONS = {name: list(changes.WORDS[name].items()) for name in CHOICES}


class ChangePages(pages.RegisterPages):
    path = "/projects/{key:str}/changes"
    kind = KINDS["changes"]

    def page_context(self, db: Session, access: Access) -> dict[str, Any]:
        return {"choices": CHOICES, "options": OPTIONS, "for_contractor": changes.side_of(access) == Side.CONTRACTOR}

    def detail_context(self, db: Session, access: Access, change: Any, today: Any) -> dict[str, Any]:
        return {
            "moves": changes.moves_for(access, change),
            "may_edit": change.status == ChangeStatus.DRAFT
            and access.can(self.kind.edit)
            and changes.acts_for(access, change),
            "outcome": changes.outcome(db, change.id),
            "move_errors": {},
            "move_form": {},
        }

    @post("/{record_id:int}/move/{action:str}", sync_to_thread=True)
    def move(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        record_id: FromPath[int],
        action: FromPath[str],
        data: pages.Form,
    ) -> Template | Redirect:
        """Submit, start the review, approve, reject or withdraw, from the record's page."""
        access = projects.get_for(db, request.user, key, self.kind.view)
        change = changes.get_for(db, access, record_id)
        try:
            step = Move(action)
        except ValueError:
            raise Conflict(detail=f"'{action}' is not a step of a change request.") from None
        form_version(data)
        try:
            changes.move(db, request.user, access, change, step, parse(changes.DecisionForm, data))
        except FormError as exc:
            return self.detail_page(request, db, access, change, status=422, move_errors=exc.errors, move_form=data)
        except StaleEdit:
            flash(request, f"Someone else changed {change.code} first; here it is as it stands now.", "error")
            return self.detail_page(request, db, access, change, status=409)
        flash(request, f"{change.code} {_done(step)}.")
        return pages.go(request, self.url(access, change))


def _done(step: Move) -> str:
    return next(t.done for (move, _), t in TRANSITIONS.items() if move == step)


handlers = [ChangePages]
