"""Pages: a project's deliverables list, the plan form, each deliverable's record with the review and decision
forms, the comment log exports and the holdback ledger. Every action is a plain POST (303 back to the record) and,
from htmx, re-renders the record region in place."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ETag
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, URLEncodedBody
from litestar.response import File, Redirect, Template
from sqlmodel import Session, col, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.audit import service as audit
from tracker.core import exports
from tracker.core.errors import Conflict, Forbidden, FormError, NotFound, StaleEdit
from tracker.core.files import FileStore, uploads_in
from tracker.core.forms import form_version, parse, refuse_controls, stale_fields
from tracker.core.web import flash, redirect, render, show_date
from tracker.deliverables import conditions, criteria, decisions, planning, records, reviews, service, submissions
from tracker.deliverables.decisions import DecisionForm
from tracker.deliverables.models import (
    CriterionOutcome,
    Decision,
    Deliverable,
    DeliverableType,
    Disposition,
    RecordKind,
    Severity,
)
from tracker.deliverables.planning import DeliverableForm
from tracker.deliverables.reviews import CommentForm
from tracker.deliverables.service import CommentFilter, ListQuery
from tracker.deliverables.workflow import ACTION_LABELS, STATUS_LABELS, Status, actions_for
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register import kinds
from tracker.register.changes import service as changes

Form = URLEncodedBody[dict[str, Any]]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]

TYPE_LABELS = {t.value: t.value.replace("_", " ").capitalize() for t in DeliverableType}
SEVERITY_LABELS = {s.value: s.value.capitalize() for s in Severity}
DISPOSITION_LABELS = {d.value: d.value.replace("_", " ").capitalize() for d in Disposition}
OUTCOME_LABELS = {
    CriterionOutcome.MET.value: "Met",
    CriterionOutcome.NOT_MET.value: "Not met",
    CriterionOutcome.NOT_APPLICABLE.value: "Not applicable",
}
DECISION_LABELS = {"accepted": "Accept", "conditionally_accepted": "Accept with conditions", "rejected": "Reject"}


def _store(request: Request) -> FileStore:
    return FileStore.from_settings(request.app.state.settings)


def _record(
    request: Request,
    db: Session,
    access: Access,
    d: Deliverable,
    status: int = 200,
    errors: dict[str, dict[str, str]] | None = None,
    form: dict[str, dict[str, Any]] | None = None,
    notice: str = "",
    done: str = "",
    block: str = "record",
) -> Template:
    """The deliverable's record page (or, for htmx, its record region) with every form's errors and input."""
    project = access.project
    today = project_today(project)
    comments = reviews.current_comments(db, d)
    query = parse(CommentFilter, {k: v for k, v in request.query_params.items() if k in ("severity", "disposition")})
    reviewable = d.status in (Status.SUBMITTED, Status.IN_REVIEW)
    decided = list(
        db.exec(
            select(Decision, User.full_name)
            .outerjoin(User, col(User.id) == Decision.decided_by_id)
            .where(Decision.deliverable_id == d.id)
            .order_by(col(Decision.id).desc())
        )
    )
    made = records.for_deliverable(db, d.id)
    with_records = {group.decision.id for group in made}
    return render(
        request,
        "deliverables/detail.html",
        block=block,
        status=status,
        access=access,
        project=project,
        d=d,
        owner=db.get(User, d.owner_id) if d.owner_id else None,
        criteria=service.criteria_with_results(db, d),
        submissions=submissions.submissions_of(db, d.id),
        agreement=criteria.agreement(db, criteria.current(db, d.id)),
        conditions=conditions.of_deliverable(db, d.id),
        members=projects.member_choices(db, project.id),
        assignments=service.assignments_of(db, d) if d.current_version else [],
        comments=service.filter_comments(comments, query),
        comment_total=len(comments),
        comment_query=query,
        open_critical=sum(1 for c in comments if c.severity == Severity.CRITICAL and c.disposition == Disposition.OPEN),
        decisions=decided,
        records=made,
        pending_records=[x for x, _ in decided if x.id not in with_records],
        blockers=decisions.acceptance_blockers(db, d) if d.status == Status.IN_REVIEW else [],
        trail=service.timeline(db, d) if access.can(Perm.VIEW_HISTORY) else audit.NO_TRAIL,
        actions=actions_for(d.status, access.perms),
        reviewable=reviewable,
        reviewers=service.reviewers_and_owners(db, project.id) if reviewable and access.can(Perm.REVIEW) else [],
        clock=service.running_clock(d),
        clock_late=service.days_overdue(service.running_clock(d), today),
        review_late=clocks.REVIEW.overdue(d, today),
        resubmission_late=clocks.RESUBMISSION.overdue(d, today),
        today=today,
        deemed_left=service.deemed_warning(d, today),
        holdback=decisions.holdback_of(d),
        moved=changes.moved(db, d.id) if access.can(Perm.VIEW_CHANGES) else [],
        linked=kinds.linked_to(db, access, d.id),
        errors=errors or {},
        form=form or {},
        notice=notice,
        done=done,
        status_labels=STATUS_LABELS,
        type_labels=TYPE_LABELS,
        action_labels=ACTION_LABELS,
        severity_labels=SEVERITY_LABELS,
        disposition_labels=DISPOSITION_LABELS,
        outcome_labels=OUTCOME_LABELS,
        decision_labels=DECISION_LABELS,
    )


def _act(
    request: Request,
    db: Session,
    key: str,
    deliverable_id: int,
    name: str,
    data: dict[str, Any],
    action: Callable[[Access, Deliverable], str],
    anchor: str,
) -> Template | Redirect:
    """Run one service action all-or-nothing. Refusals re-render the record with the message beside the form
    `name` and the user's input kept; success flashes (plain POST → 303) or re-renders the region (htmx)."""
    access = projects.get_for(db, request.user, key)
    d = service.get_for(db, access, deliverable_id)
    kept = {name: {k: v for k, v in data.items() if k != "_csrf_token"}}
    try:
        with db.begin_nested():
            refuse_controls(data)  # fields these forms read without a form model
            message = action(access, d)
    except FormError as exc:
        return _record(request, db, access, d, 422, errors={name: exc.errors}, form=kept)
    except StaleEdit as exc:
        stale = "; ".join(f"{k.replace('_', ' ')} is now “{v}”" for k, v in stale_fields(exc.current, data).items())
        return _record(
            request,
            db,
            access,
            d,
            409,
            form=kept,
            errors={name: {"__all__": exc.detail + (f" Newer values: {stale}." if stale else "")}},
        )
    except (Conflict, Forbidden) as exc:
        # The record changed under the user (or the role may not): say so at the top, keep the input below.
        return _record(request, db, access, d, exc.status_code, notice=exc.detail, form=kept)
    if request.headers.get("hx-request"):
        return _record(request, db, access, d, done=message)
    flash(request, message)
    return redirect(f"/projects/{access.project.key}/deliverables/{d.id}#{anchor}")


def _version(data: dict[str, Any]) -> int | None:
    try:
        return int(data["version"]) if data.get("version") not in (None, "") else None
    except (TypeError, ValueError):
        raise FormError({"__all__": "The form was damaged; reload the page."}) from None


class DeliverablePages(Controller):
    path = "/projects/{key:str}/deliverables"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key)
        raw = {k: v for k, v in request.query_params.items() if v not in ("", None)}
        query = parse(ListQuery, raw)
        rows, total = service.list_page(db, access, query)
        pages = max(1, math.ceil(total / service.PAGE_SIZE))
        base = {k: v for k, v in raw.items() if k != "page"}
        return render(
            request,
            "deliverables/index.html",
            block="deliverable_table",
            access=access,
            project=access.project,
            rows=rows,
            total=total,
            query=query,
            page=query.page,
            pages=pages,
            base_url=f"/projects/{access.project.key}/deliverables?{urlencode(base)}",
            sort_base={k: v for k, v in base.items() if k != "sort"},
            owners=service.reviewers_and_owners(db, access.project.id),
            today=project_today(access.project),
            status_labels=STATUS_LABELS,
            type_labels=TYPE_LABELS,
        )

    @get("/export.csv", sync_to_thread=True)
    def list_csv(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Response:
        return _export_list(request, db, key, "csv")

    @get("/export.xlsx", sync_to_thread=True)
    def list_xlsx(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Response:
        return _export_list(request, db, key, "xlsx")

    # --- planning -------------------------------------------------------------------------------------

    def _plan_form(
        self,
        request: Request,
        db: Session,
        access: Access,
        d: Deliverable | None,
        form: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
        stale: dict[str, Any] | None = None,
    ) -> Template:
        return render(
            request,
            "deliverables/form.html",
            status=status,
            access=access,
            project=access.project,
            d=d,
            form=form,
            errors=errors,
            stale=stale or {},
            labels=service.PLAN_LABELS,
            owners=service.reviewers_and_owners(db, access.project.id),
            types=list(TYPE_LABELS.items()),
        )

    @get("/new", sync_to_thread=True)
    def new(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, Perm.PLAN_DELIVERABLES)
        return self._plan_form(
            request, db, access, None, {"code": planning.next_code(db, access.project.id), "type": "document"}, {}
        )

    @post("/", sync_to_thread=True)
    def create(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.PLAN_DELIVERABLES)
        try:
            with db.begin_nested():
                d = planning.create(db, request.user, access, parse(DeliverableForm, data))
        except FormError as exc:
            return self._plan_form(request, db, access, None, data, exc.errors, status=422)
        flash(request, f"{d.code} planned.")
        return redirect(f"/projects/{access.project.key}/deliverables/{d.id}")

    @get("/{deliverable_id:int}/edit", sync_to_thread=True)
    def edit(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], deliverable_id: FromPath[int]
    ) -> Template:
        access = projects.get_for(db, request.user, key, Perm.PLAN_DELIVERABLES)
        d = service.get_for(db, access, deliverable_id)
        values = {f: getattr(d, f) for f in planning.FIELDS} | {"version": d.version}
        values["criteria"] = "\n".join(c.text for c in planning.active_criteria(db, d.id))
        return self._plan_form(request, db, access, d, values, {})

    @post("/{deliverable_id:int}/edit", sync_to_thread=True)
    def update(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.PLAN_DELIVERABLES)
        d = service.get_for(db, access, deliverable_id)
        try:
            with db.begin_nested():
                planning.update(db, request.user, access, d, parse(DeliverableForm, data))
        except FormError as exc:
            return self._plan_form(request, db, access, d, data, exc.errors, status=422)
        except StaleEdit as exc:
            return self._plan_form(
                request,
                db,
                access,
                d,
                data | {"version": d.version},
                {},
                status=409,
                stale=stale_fields(exc.current, data),
            )
        except (Conflict, Forbidden) as exc:
            return self._plan_form(request, db, access, d, data, {"__all__": exc.detail}, status=exc.status_code)
        flash(request, f"{d.code} saved.")
        return redirect(f"/projects/{access.project.key}/deliverables/{d.id}")

    # --- the record -----------------------------------------------------------------------------------

    @get("/{deliverable_id:int}", sync_to_thread=True)
    def detail(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], deliverable_id: FromPath[int]
    ) -> Template:
        access = projects.get_for(db, request.user, key)
        return _record(request, db, access, service.get_for(db, access, deliverable_id))

    @get("/{deliverable_id:int}/records", sync_to_thread=True)
    def records_section(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], deliverable_id: FromPath[int]
    ) -> Template | Redirect:
        """The decision records region, which htmx fetches again while letters are being prepared; without JS,
        the record page at that region."""
        access = projects.get_for(db, request.user, key)
        d = service.get_for(db, access, deliverable_id)
        if not request.headers.get("hx-request"):
            return redirect(f"/projects/{access.project.key}/deliverables/{d.id}#records-section")
        return _record(request, db, access, d, block="records_section")

    @get("/{deliverable_id:int}/comments", sync_to_thread=True)
    def comment_log(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], deliverable_id: FromPath[int]
    ) -> Template | Redirect:
        """The filter form's target: htmx swaps only the log; without JS, the record page with the filter."""
        access = projects.get_for(db, request.user, key)
        d = service.get_for(db, access, deliverable_id)
        if not request.headers.get("hx-request"):
            query = urlencode({k: v for k, v in request.query_params.items() if v})
            return redirect(f"/projects/{access.project.key}/deliverables/{d.id}?{query}#comments")
        return _record(request, db, access, d, block="comment_log")

    @get("/{deliverable_id:int}/burndown", sync_to_thread=True)
    def burndown(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], deliverable_id: FromPath[int]
    ) -> Template:
        """Open review comments per day of each version's review: the record page loads it lazily (htmx swaps
        this part); without JS, a page of its own."""
        access = projects.get_for(db, request.user, key)
        d = service.get_for(db, access, deliverable_id)
        return render(
            request,
            "deliverables/burndown.html",
            block="burndown",
            access=access,
            project=access.project,
            d=d,
            burndown=reviews.comment_burndown(db, access.project, d),
        )

    @post("/{deliverable_id:int}/submit", sync_to_thread=True)
    def submit(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        data: Multipart,
    ) -> Template | Redirect:
        store = _store(request)
        uploads = uploads_in(data, "files", store)  # written before the first query takes the write lock
        notes = data.get("notes", "")
        text = {k: v for k, v in data.items() if isinstance(v, str)}

        def run(access: Access, d: Deliverable) -> str:
            if not isinstance(notes, str):
                raise FormError({"notes": "Notes must be text."})
            try:
                s = submissions.submit(db, request.user, access, d, notes, uploads, store, _version(text))
            except FormError as exc:
                if uploads and "files" not in exc.errors:
                    exc.errors["files"] = "Choose the files again: browsers do not keep them after an error."
                raise
            return f"Version {s.number} submitted; the review is due {show_date(s.review_due, weekday=True)}."

        return _act(request, db, key, deliverable_id, "submit", text, run, "submissions")

    @post("/{deliverable_id:int}/start-review", sync_to_thread=True)
    def start_review(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        def run(access: Access, d: Deliverable) -> str:
            ids = data.get("reviewer_ids", [])
            ids = ids if isinstance(ids, list) else [ids]
            try:
                reviewers = [int(i) for i in ids if i]
            except ValueError:
                raise FormError({"reviewer_ids": "Choose reviewers from the list."}) from None
            reviews.start_review(db, request.user, access, d, reviewers, _version(data))
            return "Review started."

        return _act(request, db, key, deliverable_id, "start_review", data, run, "decision")

    @post("/{deliverable_id:int}/reviewers", sync_to_thread=True)
    def assign(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        def run(access: Access, d: Deliverable) -> str:
            form = parse(reviews.AssignForm, data)
            a = reviews.assign_reviewer(db, request.user, access, d, form.reviewer_id, form.due_date)
            return f"Reviewer assigned, due {show_date(a.due_date, weekday=True)}."

        return _act(request, db, key, deliverable_id, "assign", data, run, "reviews")

    @post("/{deliverable_id:int}/reviewers/{reviewer_id:int}/remove", sync_to_thread=True)
    def unassign(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        reviewer_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        version = form_version(data)

        def run(access: Access, d: Deliverable) -> str:
            reviews.remove_reviewer(db, request.user, access, d, reviewer_id, version)
            return "Reviewer removed from this version."

        return _act(request, db, key, deliverable_id, "unassign", data, run, "reviews")

    @post("/{deliverable_id:int}/comments", sync_to_thread=True)
    def add_comment(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        def run(access: Access, d: Deliverable) -> str:
            c = reviews.add_comment(db, request.user, access, d, parse(CommentForm, data))
            return f"Comment #{c.id} logged."

        return _act(request, db, key, deliverable_id, "comment", data, run, "comments")

    @post("/{deliverable_id:int}/comments/{comment_id:int}", sync_to_thread=True)
    def update_comment(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        comment_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        def run(access: Access, d: Deliverable) -> str:
            version = _version(data)
            if "response" in data:
                reviews.respond(db, request.user, access, comment_id, str(data["response"]), version)
                return f"Response to comment #{comment_id} saved."
            if "disposition" in data:
                reviews.set_disposition(db, request.user, access, comment_id, str(data["disposition"]), version)
                return f"Comment #{comment_id} marked {str(data['disposition']).replace('_', ' ')}."
            raise FormError({"__all__": "Send a response or a disposition."})

        return _act(request, db, key, deliverable_id, f"comment-{comment_id}", data, run, f"comment-{comment_id}")

    @post("/{deliverable_id:int}/criteria/{criterion_id:int}", sync_to_thread=True)
    def record_result(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        criterion_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        def run(access: Access, d: Deliverable) -> str:
            reviews.record_result(
                db,
                request.user,
                access,
                d,
                criterion_id,
                str(data.get("outcome", "")),
                str(data.get("evidence", "")),
                _version(data),
            )
            return "Criterion result recorded."

        return _act(
            request, db, key, deliverable_id, f"criterion-{criterion_id}", data, run, f"criterion-{criterion_id}"
        )

    @post("/{deliverable_id:int}/decision", sync_to_thread=True)
    def decide(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        def run(access: Access, d: Deliverable) -> str:
            if not data.get("outcome"):
                raise FormError({"outcome": "Choose accept, accept with conditions, or reject."})
            decision = decisions.decide(
                db, request.user, access, d, parse(DecisionForm, data), _version(data), store=_store(request)
            )
            return f"{d.code} version {d.current_version}: {decision.outcome.replace('_', ' ')}."

        return _act(request, db, key, deliverable_id, "decision", data, run, "decision")

    @post("/{deliverable_id:int}/conditions-met", sync_to_thread=True)
    def conditions_met(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        def run(access: Access, d: Deliverable) -> str:
            decisions.conditions_met(
                db, request.user, access, d, str(data.get("evidence", "")), _version(data), store=_store(request)
            )
            return f"Every condition is met: {d.code} is accepted."

        return _act(request, db, key, deliverable_id, "conditions_met", data, run, "conditions")

    @post("/{deliverable_id:int}/conditions/{condition_id:int}", sync_to_thread=True)
    def update_condition(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        condition_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        def run(access: Access, d: Deliverable) -> str:
            c = conditions.update(db, request.user, access, d, condition_id, parse(conditions.ConditionForm, data))
            return f"Condition {c.position} is due {show_date(c.due_date, weekday=True)}."

        return _act(
            request, db, key, deliverable_id, f"condition-{condition_id}", data, run, f"condition-{condition_id}"
        )

    @post("/{deliverable_id:int}/conditions/{condition_id:int}/met", sync_to_thread=True)
    def condition_met(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        condition_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        def run(access: Access, d: Deliverable) -> str:
            form = parse(conditions.MetForm, data)
            closed = decisions.confirm_condition(
                db, request.user, access, d, condition_id, form.evidence, form.version, store=_store(request)
            )
            return f"Every condition is met: {d.code} is accepted." if closed else "Condition confirmed as met."

        return _act(request, db, key, deliverable_id, f"met-{condition_id}", data, run, f"condition-{condition_id}")

    @post("/{deliverable_id:int}/criteria/agree", sync_to_thread=True)
    def agree_criteria(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        def run(access: Access, d: Deliverable) -> str:
            v = criteria.agree(db, request.user, access, d, _version(data))
            return f"Criteria version {v.number} agreed for the State; the contractor acknowledges it next."

        return _act(request, db, key, deliverable_id, "agreement", data, run, "criteria")

    @post("/{deliverable_id:int}/criteria/acknowledge", sync_to_thread=True)
    def acknowledge_criteria(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        def run(access: Access, d: Deliverable) -> str:
            v = criteria.acknowledge(db, request.user, access, d, _version(data))
            return f"Criteria version {v.number} acknowledged."

        return _act(request, db, key, deliverable_id, "agreement", data, run, "criteria")

    @post("/{deliverable_id:int}/withdraw", sync_to_thread=True)
    def withdraw(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        def run(access: Access, d: Deliverable) -> str:
            decisions.withdraw(db, request.user, access, d, str(data.get("reason", "")), _version(data))
            return f"{d.code} withdrawn."

        return _act(request, db, key, deliverable_id, "withdraw", data, run, "decision")

    # --- exports --------------------------------------------------------------------------------------

    @get("/{deliverable_id:int}/comments.csv", sync_to_thread=True)
    def comments_csv(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], deliverable_id: FromPath[int]
    ) -> Response:
        return _export_comments(request, db, key, deliverable_id, "csv")

    @get("/{deliverable_id:int}/comments.xlsx", sync_to_thread=True)
    def comments_xlsx(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], deliverable_id: FromPath[int]
    ) -> Response:
        return _export_comments(request, db, key, deliverable_id, "xlsx")

    @get("/{deliverable_id:int}/decisions/{decision_id:int}/{kind:str}", sync_to_thread=True)
    def record_page(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        decision_id: FromPath[int],
        kind: FromPath[str],
    ) -> Template:
        """A decision's letter or sign-off as a printable page; the stored PDF and DOCX are the record."""
        access = projects.get_for(db, request.user, key)
        d = service.get_for(db, access, deliverable_id)
        g = records.gather(db, decision_id)
        if g.decision.deliverable_id != d.id or kind not in records.kinds_for(g.decision):
            raise NotFound(detail="No such record on this deliverable.")
        base = f"/projects/{access.project.key}/deliverables/{d.id}"
        files = {r.format: f"{base}/records/{r.id}" for r in records.records_of(db, decision_id) if r.kind == kind}
        return render(
            request,
            "deliverables/record.html",
            letter=records.with_logo(records.compose(g, RecordKind(kind)), g, _store(request)),
            back_url=base,
            back_label=f"{d.code} {d.title}",
            files=files,
        )

    @get("/{deliverable_id:int}/records/{record_id:int}", sync_to_thread=True)
    def record_file(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        deliverable_id: FromPath[int],
        record_id: FromPath[int],
    ) -> File:
        access = projects.get_for(db, request.user, key)
        record = records.get(db, service.get_for(db, access, deliverable_id), record_id)
        path = _store(request).path_for(record.sha256)
        if not path.is_file():
            raise NotFound(detail="The file is missing from storage; restore it from backup.")
        return File(
            path=path,
            filename=record.filename,
            media_type=records.MEDIA_TYPES[record.format],
            etag=ETag(value=record.sha256),
        )


class HoldbackPage(Controller):
    path = "/projects/{key:str}/holdback"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def ledger(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key)
        return render(
            request,
            "deliverables/holdback.html",
            access=access,
            project=access.project,
            ledger=decisions.holdback_ledger(db, access.project.id),
            ledger_words=decisions.LEDGER_WORDS,
            status_labels=STATUS_LABELS,
        )

    @get("/ledger.csv", sync_to_thread=True)
    def ledger_csv(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Response:
        return _export_ledger(request, db, key, "csv")

    @get("/ledger.xlsx", sync_to_thread=True)
    def ledger_xlsx(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Response:
        return _export_ledger(request, db, key, "xlsx")


def _download(
    request: Request, access: Access, name: str, fmt: str, title: str, headers: list[str], rows: list, filters=()
) -> Response:
    """A table as the CSV or XLSX file `name`.fmt; the workbook says what it holds (core.exports.About)."""
    if fmt == "csv":
        body, media = exports.to_csv(headers, rows), exports.CSV
    else:
        p = access.project
        about = exports.About(request.user.full_name, [("Project", f"{p.key} · {p.name}"), *filters], p.timezone)
        body, media = exports.to_xlsx(headers, rows, title=title, heading=title, about=about), exports.XLSX
    filename = f"{access.project.key}-{name}-{project_today(access.project).isoformat()}.{fmt}"
    return Response(body, media_type=media, headers={"content-disposition": f'attachment; filename="{filename}"'})


def _export_list(request: Request, db: Session, key: str, fmt: str) -> Response:
    """The deliverables list as its page filters and sorts it, every page."""
    access = projects.get_for(db, request.user, key)
    raw = {k: v for k, v in request.query_params.items() if v not in ("", None) and k != "page"}
    query = parse(ListQuery, raw)
    filters = service.describe_query(query, service.reviewers_and_owners(db, access.project.id))
    rows = service.export_table(db, access, query)
    title = f"{access.project.key} deliverables"
    return _download(request, access, "deliverables", fmt, title, service.EXPORT_HEADERS, rows, filters)


def _export_ledger(request: Request, db: Session, key: str, fmt: str) -> Response:
    access = projects.get_for(db, request.user, key)
    rows = decisions.ledger_table(decisions.holdback_ledger(db, access.project.id))
    title = f"{access.project.key} holdback ledger"
    return _download(request, access, "holdback", fmt, title, decisions.LEDGER_HEADERS, rows)


def _export_comments(request: Request, db: Session, key: str, deliverable_id: int, fmt: str) -> Response:
    """The comment log in the form contractors and states exchange: every version, oldest first."""
    access = projects.get_for(db, request.user, key)
    d = service.get_for(db, access, deliverable_id)
    headers, rows = service.comment_log(db, d)
    name = f"{access.project.key}-{d.code}-comments.{fmt}"
    if fmt == "csv":
        body, media = exports.to_csv(headers, rows), exports.CSV
    else:
        p = access.project
        about = exports.About(
            request.user.full_name, [("Project", f"{p.key} · {p.name}"), ("Deliverable", d.code)], p.timezone
        )
        body, media = exports.to_xlsx(headers, rows, title=f"{d.code} comments", about=about), exports.XLSX
    return Response(body, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})


handlers = [DeliverablePages, HoldbackPage]
