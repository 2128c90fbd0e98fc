"""JSON API for deliverables: plan, submit versions with files, review, comment, record results, decide."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import ETag
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import File
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from tracker.core.errors import FormError, NotFound
from tracker.core.files import FileStore, as_download, uploads_in
from tracker.core.forms import ApiBody, ExpectedVersion, parse, refuse_controls
from tracker.deliverables import conditions, criteria, decisions, planning, records, reviews, service, submissions
from tracker.deliverables.decisions import DecisionForm
from tracker.deliverables.models import (
    CriterionOutcome,
    Deliverable,
    Disposition,
    Outcome,
    RecordFormat,
    RecordKind,
    Severity,
)
from tracker.deliverables.planning import DeliverableForm
from tracker.deliverables.reviews import CommentForm
from tracker.deliverables.service import ListQuery
from tracker.deliverables.workflow import Action, Status, actions_for
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.models import Project
from tracker.projects.permissions import Perm


class DeliverableOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    title: str
    description: str
    type: str
    due_date: date | None
    owner_id: int | None
    payment_amount: Decimal | None
    holdback_pct: Decimal | None
    status: Status
    current_version: int
    review_due: date | None
    resubmit_due: date | None
    withdrawn_reason: str
    version: int
    deemed_on: date | None = None
    escalated: bool = False
    criteria: list[str] = []
    actions: list[Action] = []
    days_overdue: int | None = Field(default=None, description="In lists: calendar days past the running clock")
    open_critical: int | None = Field(
        default=None, description="In lists: open critical comments on the current version"
    )


class DeliverableIn(ApiBody):
    labels = service.LABELS
    code: str = Field(min_length=1, max_length=20, examples=["D-07"])
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=8000)
    type: str = "document"
    due_date: date | None = None
    owner_id: int | None = None
    payment_amount: Decimal | None = None
    holdback_pct: Decimal | None = None
    criteria: list[str] = Field(default_factory=list, max_length=100)


class DeliverablePage(BaseModel):
    items: list[DeliverableOut]
    total: int
    limit: int
    offset: int


class FileOut(BaseModel):
    id: int
    original_name: str
    size: int
    content_type: str
    sha256: str


class SubmissionOut(BaseModel):
    id: int
    number: int
    submitted_at: datetime
    submitted_by: str
    notes: str
    review_due: date
    files: list[FileOut]


class TransitionIn(ApiBody):
    action: Action = Field(description="start_review, withdraw or conditions_met (decisions use /decision)")
    reason: str = Field(default="", max_length=2000, description="withdraw: why")
    evidence: str = Field(
        default="",
        max_length=4000,
        description="conditions_met: the evidence every open condition is met (one condition: /conditions)",
    )
    reviewer_ids: list[int] = Field(default_factory=list, max_length=50)
    version: int | None = Field(default=None, description="The deliverable's version you read (stale: 409)")


class CommentIn(ApiBody):
    labels = service.LABELS
    location: str = Field(default="", max_length=200)
    text: str = Field(min_length=1, max_length=8000)
    severity: Severity


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    submission_id: int
    reviewer_id: int
    location: str
    text: str
    severity: str
    response: str
    disposition: str
    carried_from_id: int | None
    version: int


class CommentPatch(ApiBody):
    labels = service.LABELS
    response: str | None = Field(default=None, max_length=8000)
    disposition: Disposition | None = None
    version: int


class ResultIn(ApiBody):
    criterion_id: int
    outcome: CriterionOutcome
    evidence: str = Field(default="", max_length=4000)
    version: int | None = Field(
        default=None, description="The `result_version` you read, 0 when there was no result (stale: 409)"
    )


class DecisionIn(ApiBody):
    labels = service.LABELS
    outcome: Outcome
    findings: str = Field(default="", max_length=20000)
    conditions: str = Field(default="", max_length=20000, description="One condition per line")
    conditions_due: date | None = None
    conditions_owner_id: int | None = Field(default=None, description="A project member who owes the conditions")
    version: int | None = None


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    submission_id: int
    outcome: str
    findings: str
    conditions: str
    conditions_due: date | None
    decided_by_id: int | None
    decided_at: datetime
    criteria_version: int | None = None


class CriterionOut(BaseModel):
    id: int
    position: int
    text: str
    result: CriterionOutcome | None = Field(default=None, description="On the current submission, if recorded")
    evidence: str = ""
    result_version: int = Field(default=0, description="Send it back as `version` when recording (0: no result yet)")


class CriteriaOut(BaseModel):
    """The acceptance criteria in force (the DED's current version) and its agreement."""

    version: int = Field(description="The criteria version; decisions name the version they were judged against")
    agreed_at: datetime | None
    agreed_by: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ready_to_submit: bool = Field(description="Agreed by a manager and acknowledged by the contractor")
    criteria: list[CriterionOut]
    deliverable_version: int = Field(description="Send it back as `version` when agreeing or acknowledging")


class VersionIn(ApiBody):
    version: int | None = Field(default=None, description="The deliverable's version you read (stale: 409)")


class ConditionOut(BaseModel):
    id: int
    decision_id: int
    position: int
    text: str
    due_date: date
    owner_id: int | None
    owner: str | None
    met_at: datetime | None
    met_by: str | None
    evidence: str
    overdue_days: int
    version: int


class ConditionPatch(ApiBody):
    due_date: date
    owner_id: int | None = None
    version: int


class ConditionMetIn(ApiBody):
    evidence: str = Field(min_length=1, max_length=4000, examples=["Revised section 4 delivered as v1.1, p. 12"])
    version: int | None = None


class RecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    decision_id: int
    kind: RecordKind
    format: RecordFormat
    filename: str
    sha256: str
    size: int
    created_at: datetime
    download_url: str = ""


class DeliverablePatch(ApiBody):
    """Change any of the plan's fields; `version` is the one you read (a stale one answers 409)."""

    labels = service.LABELS

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=8000)
    type: str | None = None
    due_date: date | None = None
    owner_id: int | None = None
    payment_amount: Decimal | None = None
    holdback_pct: Decimal | None = None
    criteria: list[str] | None = Field(default=None, max_length=100)
    version: int


def _out(db: Session, access: projects.Access, d: Deliverable, criteria: list[str] | None = None) -> DeliverableOut:
    out = DeliverableOut.model_validate(d)
    out.escalated = d.escalated_at is not None
    out.criteria = criteria if criteria is not None else [c.text for c in planning.active_criteria(db, d.id)]
    out.actions = actions_for(d.status, access.perms)
    return out


class ReviewerOut(BaseModel):
    reviewer_id: int
    name: str
    due_date: date
    completed_at: datetime | None
    version: int = Field(description="The assignment's version; send it back as ?version= to remove the reviewer")


class ReviewerIn(ApiBody):
    reviewer_id: int = Field(description="A manager or staff member of the project")
    due_date: date | None = Field(default=None, description="Default: the version's review due date")


class DecisionRowOut(DecisionOut):
    deliverable_id: int
    deliverable_code: str = Field(examples=["D-07"])
    deliverable_title: str
    version: int = Field(description="The submitted version decided")
    decided_by: str | None = Field(description="None: deemed accepted by the contract clock")
    closes_id: int = Field(description="0, or the conditional acceptance this decision closes (conditions met)")


class LedgerRowOut(BaseModel):
    deliverable_id: int
    code: str
    title: str
    status: Status
    payment: Decimal
    holdback: Decimal
    paid: Decimal = Field(description="Paid to date: in full on acceptance, less the holdback on a conditional one")
    state: Literal["pending", "withheld", "released", "cancelled"]
    released_on: datetime | None


class LedgerOut(BaseModel):
    project: str = Field(examples=["CWS"])
    project_name: str
    contractor: str
    payment: Decimal
    paid: Decimal
    withheld: Decimal
    released: Decimal
    pending: Decimal
    rows: list[LedgerRowOut] = Field(description="Per deliverable (the project's own ledger; empty across projects)")


def _ledger_out(project: Project, ledger: decisions.Ledger, rows: bool = True) -> LedgerOut:
    return LedgerOut(
        project=project.key,
        project_name=project.name,
        contractor=project.contractor,
        payment=ledger.payment,
        paid=ledger.paid,
        withheld=ledger.withheld,
        released=ledger.released,
        pending=ledger.pending,
        rows=[
            LedgerRowOut(
                deliverable_id=r.deliverable.id,
                code=r.deliverable.code,
                title=r.deliverable.title,
                status=r.deliverable.status,
                payment=r.payment,
                holdback=r.holdback,
                paid=r.paid,
                state=r.state,
                released_on=r.released_on,
            )
            for r in ledger.rows
        ]
        if rows
        else [],
    )


def _reviewers_out(db: Session, d: Deliverable) -> list[ReviewerOut]:
    return [
        ReviewerOut(
            reviewer_id=r.assignment.reviewer_id,
            name=r.reviewer_name,
            due_date=r.assignment.due_date,
            completed_at=r.assignment.completed_at,
            version=r.assignment.version,
        )
        for r in service.assignments_of(db, d)
    ]


def _criteria_out(db: Session, d: Deliverable) -> CriteriaOut:
    a = criteria.agreement(db, criteria.current(db, d.id))
    rows = service.criteria_with_results(db, d)
    return CriteriaOut(
        version=a.version.number,
        agreed_at=a.version.agreed_at,
        agreed_by=a.agreed_by,
        acknowledged_at=a.version.acknowledged_at,
        acknowledged_by=a.acknowledged_by,
        ready_to_submit=a.complete,
        deliverable_version=d.version,
        criteria=[
            CriterionOut(
                id=r.criterion.id,
                position=r.criterion.position,
                text=r.criterion.text,
                result=r.result.outcome if r.result else None,
                evidence=r.result.evidence if r.result else "",
                result_version=r.result.version if r.result else 0,
            )
            for r in rows
        ],
    )


def _conditions_out(db: Session, access: projects.Access, d: Deliverable) -> list[ConditionOut]:
    today = project_today(access.project)
    return [
        ConditionOut(
            id=c.id,
            decision_id=c.decision_id,
            position=c.position,
            text=c.text,
            due_date=c.due_date,
            owner_id=c.owner_id,
            owner=row.owner_name,
            met_at=c.met_at,
            met_by=row.met_by_name,
            evidence=c.evidence,
            overdue_days=row.overdue_days(today),
            version=c.version,
        )
        for row in conditions.of_deliverable(db, d.id)
        for c in [row.condition]
    ]


def _store(request: Request) -> FileStore:
    return FileStore.from_settings(request.app.state.settings)


class ProjectDeliverablesApi(Controller):
    path = "/api/v1/projects/{key:str}/deliverables"
    tags = ["deliverables"]

    @get("/", sync_to_thread=True, summary="A project's deliverables")
    def list_deliverables(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        status: FromQuery[Status | None] = None,
        type: FromQuery[str | None] = None,
        owner: FromQuery[int | None] = None,
        overdue: FromQuery[bool] = False,
        q: FromQuery[str] = "",
        sort: FromQuery[str] = "code",
        limit: FromQuery[int] = 50,
        offset: FromQuery[int] = 0,
    ) -> DeliverablePage:
        """Filtered like the list page: status, type, owner (review lead id), overdue, q (code or title);
        sort by code, due, status or review (prefix - for descending)."""
        access = projects.get_for(db, request.user, key)
        limit, offset = min(max(limit, 1), 500), max(offset, 0)
        query = parse(
            ListQuery, {"status": status, "type": type, "owner": owner, "overdue": overdue, "q": q, "sort": sort}
        )
        rows, total = service.list_page(db, access, query, limit, offset)
        criteria = service.criteria_texts(db, [r.deliverable.id for r in rows])
        items = []
        for row in rows:
            out = _out(db, access, row.deliverable, criteria[row.deliverable.id])
            out.days_overdue, out.open_critical = row.days_overdue, row.open_critical
            items.append(out)
        return DeliverablePage(items=items, total=total, limit=limit, offset=offset)

    @get("/decisions", sync_to_thread=True, summary="Every deliverable decision of the project, newest first")
    def list_decisions(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str]
    ) -> list[DecisionRowOut]:
        access = projects.get_for(db, request.user, key)
        return [
            DecisionRowOut(
                **DecisionOut.model_validate(r.decision).model_dump(),
                deliverable_id=r.decision.deliverable_id,
                deliverable_code=r.code,
                deliverable_title=r.title,
                version=r.version,
                decided_by=r.decided_by,
                closes_id=r.decision.closes_id,
            )
            for r in decisions.decisions_of(db, access.project.id)
        ]

    @get("/holdback", sync_to_thread=True, summary="The project's holdback ledger: paid, withheld and released")
    def holdback(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> LedgerOut:
        access = projects.get_for(db, request.user, key)
        return _ledger_out(access.project, decisions.holdback_ledger(db, access.project.id))

    @post("/", sync_to_thread=True, summary="Plan a deliverable with its acceptance criteria (managers)")
    def create_deliverable(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[DeliverableIn]
    ) -> DeliverableOut:
        access = projects.get_for(db, request.user, key, Perm.PLAN_DELIVERABLES)
        values = data.model_dump(mode="json") | {"criteria": "\n".join(data.criteria)}
        return _out(db, access, planning.create(db, request.user, access, parse(DeliverableForm, values)))


class DeliverableApi(Controller):
    path = "/api/v1/deliverables/{deliverable_id:int}"
    tags = ["deliverables"]

    @get("/", sync_to_thread=True, summary="One deliverable, with the actions you may take now")
    def get_deliverable(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int]
    ) -> DeliverableOut:
        access, d = service.load_for(db, request.user, deliverable_id)
        return _out(db, access, d)

    @patch("/", sync_to_thread=True, summary="Change the plan and criteria (managers; a stale version answers 409)")
    def update_deliverable(
        self,
        request: Request,
        db: NamedDependency[Session],
        deliverable_id: FromPath[int],
        data: JSONBody[DeliverablePatch],
    ) -> DeliverableOut:
        access, d = service.load_for(db, request.user, deliverable_id, Perm.PLAN_DELIVERABLES)
        values = {f: getattr(d, f) for f in planning.FIELDS} | data.model_dump(mode="json", exclude_unset=True)
        if data.criteria is not None:
            values["criteria"] = "\n".join(data.criteria)
        else:
            values["criteria"] = "\n".join(c.text for c in planning.active_criteria(db, d.id))
        planning.update(db, request.user, access, d, parse(DeliverableForm, values))
        return _out(db, access, d)

    @get("/submissions", sync_to_thread=True, summary="Every submitted version with its files")
    def list_submissions(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int]
    ) -> list[SubmissionOut]:
        _, d = service.load_for(db, request.user, deliverable_id)
        return [
            SubmissionOut(
                id=s.id,
                number=s.number,
                submitted_at=s.submitted_at,
                submitted_by=name,
                notes=s.notes,
                review_due=s.review_due,
                files=[FileOut.model_validate(f, from_attributes=True) for f in files],
            )
            for s, name, files in submissions.submissions_of(db, d.id)
        ]

    @post("/submissions", sync_to_thread=True, summary="Submit the next version (multipart: notes, files)")
    def submit(
        self,
        request: Request,
        db: NamedDependency[Session],
        deliverable_id: FromPath[int],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> SubmissionOut:
        store = _store(request)
        uploads = uploads_in(data, "files", store)  # written before the first query takes the write lock
        access, d = service.load_for(db, request.user, deliverable_id, Perm.SUBMIT)
        notes = data.get("notes", "")
        if not isinstance(notes, str):
            raise FormError({"notes": "Notes must be text."})
        refuse_controls({"notes": notes})
        submission = submissions.submit(db, request.user, access, d, notes, uploads, store)
        _, name, stored = submissions.submissions_of(db, d.id)[0]
        return SubmissionOut(
            id=submission.id,
            number=submission.number,
            submitted_at=submission.submitted_at,
            submitted_by=name,
            notes=submission.notes,
            review_due=submission.review_due,
            files=[FileOut.model_validate(f, from_attributes=True) for f in stored],
        )

    @get(
        "/files/{file_id:int}",
        sync_to_thread=True,
        summary="Download a submitted file (as an attachment)",
        responses={200: ResponseSpec(bytes, False, "The file as uploaded", "application/octet-stream")},
    )
    def download(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int], file_id: FromPath[int]
    ) -> File:
        access, d = service.load_for(db, request.user, deliverable_id)
        stored = submissions.file_for(db, access, d, file_id)
        return as_download(_store(request), stored.sha256, stored.original_name)

    @post("/transition", sync_to_thread=True, status_code=200, summary="Start review, withdraw, or mark conditions met")
    def transition(
        self,
        request: Request,
        db: NamedDependency[Session],
        deliverable_id: FromPath[int],
        data: JSONBody[TransitionIn],
    ) -> DeliverableOut:
        access, d = service.load_for(db, request.user, deliverable_id)
        if data.action is Action.START_REVIEW:
            reviews.start_review(db, request.user, access, d, data.reviewer_ids, data.version)
        elif data.action is Action.WITHDRAW:
            decisions.withdraw(db, request.user, access, d, data.reason, data.version)
        elif data.action is Action.CONDITIONS_MET:
            decisions.conditions_met(db, request.user, access, d, data.evidence, data.version, store=_store(request))
        else:
            raise FormError({"action": "Use /submissions to submit and /decision to decide."})
        return _out(db, access, d)

    @get("/criteria", sync_to_thread=True, summary="The acceptance criteria in force, with ids, results and agreement")
    def get_criteria(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int]
    ) -> CriteriaOut:
        _, d = service.load_for(db, request.user, deliverable_id)
        return _criteria_out(db, d)

    @post(
        "/criteria/agree",
        sync_to_thread=True,
        status_code=200,
        summary="Record the State's agreement to the current criteria version (managers)",
    )
    def agree_criteria(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int], data: JSONBody[VersionIn]
    ) -> CriteriaOut:
        access, d = service.load_for(db, request.user, deliverable_id)
        criteria.agree(db, request.user, access, d, data.version)
        return _criteria_out(db, d)

    @post(
        "/criteria/acknowledge",
        sync_to_thread=True,
        status_code=200,
        summary="Acknowledge the agreed criteria version (the contractor)",
    )
    def acknowledge_criteria(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int], data: JSONBody[VersionIn]
    ) -> CriteriaOut:
        access, d = service.load_for(db, request.user, deliverable_id)
        criteria.acknowledge(db, request.user, access, d, data.version)
        return _criteria_out(db, d)

    @get("/conditions", sync_to_thread=True, summary="The conditions of its conditional acceptances, met or open")
    def list_conditions(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int]
    ) -> list[ConditionOut]:
        access, d = service.load_for(db, request.user, deliverable_id)
        return _conditions_out(db, access, d)

    @patch(
        "/conditions/{condition_id:int}",
        sync_to_thread=True,
        summary="Move an open condition's due date or change its owner (managers)",
    )
    def update_condition(
        self,
        request: Request,
        db: NamedDependency[Session],
        deliverable_id: FromPath[int],
        condition_id: FromPath[int],
        data: JSONBody[ConditionPatch],
    ) -> list[ConditionOut]:
        access, d = service.load_for(db, request.user, deliverable_id)
        conditions.update(
            db, request.user, access, d, condition_id, parse(conditions.ConditionForm, data.model_dump(mode="json"))
        )
        return _conditions_out(db, access, d)

    @post(
        "/conditions/{condition_id:int}/met",
        sync_to_thread=True,
        status_code=200,
        summary="Confirm a condition met, with evidence (managers); the last one accepts the deliverable",
    )
    def condition_met(
        self,
        request: Request,
        db: NamedDependency[Session],
        deliverable_id: FromPath[int],
        condition_id: FromPath[int],
        data: JSONBody[ConditionMetIn],
    ) -> list[ConditionOut]:
        access, d = service.load_for(db, request.user, deliverable_id)
        decisions.confirm_condition(
            db, request.user, access, d, condition_id, data.evidence, data.version, store=_store(request)
        )
        return _conditions_out(db, access, d)

    @get("/reviewers", sync_to_thread=True, summary="The reviewers of the current version, with their due dates")
    def list_reviewers(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int]
    ) -> list[ReviewerOut]:
        _, d = service.load_for(db, request.user, deliverable_id)
        return _reviewers_out(db, d) if d.current_version else []

    @post("/reviewers", sync_to_thread=True, status_code=200, summary="Assign a reviewer to the version under review")
    def assign_reviewer(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int], data: JSONBody[ReviewerIn]
    ) -> list[ReviewerOut]:
        access, d = service.load_for(db, request.user, deliverable_id)
        reviews.assign_reviewer(db, request.user, access, d, data.reviewer_id, data.due_date)
        return _reviewers_out(db, d)

    @delete(
        "/reviewers/{reviewer_id:int}",
        sync_to_thread=True,
        status_code=200,
        summary="Take a reviewer off the version under review (not one who has finished; send the assignment's "
        "version you read as ?version=)",
    )
    def remove_reviewer(
        self,
        request: Request,
        db: NamedDependency[Session],
        deliverable_id: FromPath[int],
        reviewer_id: FromPath[int],
        version: ExpectedVersion,
    ) -> list[ReviewerOut]:
        access, d = service.load_for(db, request.user, deliverable_id)
        reviews.remove_reviewer(db, request.user, access, d, reviewer_id, version)
        return _reviewers_out(db, d)

    @get("/comments", sync_to_thread=True, summary="The current version's comment log")
    def list_comments(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int]
    ) -> list[CommentOut]:
        _, d = service.load_for(db, request.user, deliverable_id)
        return [CommentOut.model_validate(c) for c in reviews.current_comments(db, d)]

    @post("/comments", sync_to_thread=True, summary="Log a review comment (reviewers)")
    def add_comment(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int], data: JSONBody[CommentIn]
    ) -> CommentOut:
        access, d = service.load_for(db, request.user, deliverable_id)
        comment = reviews.add_comment(db, request.user, access, d, parse(CommentForm, data.model_dump(mode="json")))
        return CommentOut.model_validate(comment)

    @post(
        "/comments/{comment_id:int}",
        sync_to_thread=True,
        status_code=200,
        summary="Answer a comment (contractor) or set its disposition (reviewers)",
    )
    def update_comment(
        self,
        request: Request,
        db: NamedDependency[Session],
        deliverable_id: FromPath[int],
        comment_id: FromPath[int],
        data: JSONBody[CommentPatch],
    ) -> CommentOut:
        access, _ = service.load_for(db, request.user, deliverable_id)
        comment = None
        version = data.version
        if data.response is not None:
            comment = reviews.respond(db, request.user, access, comment_id, data.response, version)
            version = comment.version
        if data.disposition is not None:
            comment = reviews.set_disposition(db, request.user, access, comment_id, data.disposition, version)
        if comment is None:
            raise FormError({"response": "Send a response, a disposition, or both."})
        return CommentOut.model_validate(comment)

    @post("/criteria-results", sync_to_thread=True, status_code=200, summary="Record criteria results (reviewers)")
    def record_results(
        self,
        request: Request,
        db: NamedDependency[Session],
        deliverable_id: FromPath[int],
        data: JSONBody[list[ResultIn]],
    ) -> dict[str, list[str]]:
        access, d = service.load_for(db, request.user, deliverable_id)
        if len(data) > criteria.MAX_CRITERIA:
            raise FormError({"criteria": f"At most {criteria.MAX_CRITERIA} results in one request."})
        for item in data:
            reviews.record_result(
                db, request.user, access, d, item.criterion_id, item.outcome, item.evidence, item.version
            )
        return {"blockers": decisions.acceptance_blockers(db, d)}

    @post("/decision", sync_to_thread=True, summary="Accept, conditionally accept or reject (managers)")
    def decide(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int], data: JSONBody[DecisionIn]
    ) -> DecisionOut:
        access, d = service.load_for(db, request.user, deliverable_id)
        form = parse(DecisionForm, data.model_dump(mode="json", exclude={"version"}))
        decision = decisions.decide(db, request.user, access, d, form, data.version, store=_store(request))
        return DecisionOut.model_validate(decision)

    @get("/records", sync_to_thread=True, summary="Letters and sign-offs generated from the decisions, with sha256")
    def list_records(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int]
    ) -> list[RecordOut]:
        _, d = service.load_for(db, request.user, deliverable_id)
        url = f"/api/v1/deliverables/{d.id}/records/"
        return [
            RecordOut.model_validate(r).model_copy(update={"download_url": f"{url}{r.id}"})
            for group in records.for_deliverable(db, d.id)
            for r in group.records
        ]

    @get(
        "/records/{record_id:int}",
        sync_to_thread=True,
        summary="Download a generated record (PDF or DOCX)",
        responses={200: ResponseSpec(bytes, False, "application/pdf or the DOCX type", "application/*")},
    )
    def download_record(
        self, request: Request, db: NamedDependency[Session], deliverable_id: FromPath[int], record_id: FromPath[int]
    ) -> File:
        _, d = service.load_for(db, request.user, deliverable_id)
        record = records.get(db, d, record_id)
        path = _store(request).path_for(record.sha256)
        if not path.is_file():
            raise NotFound(detail="The file is missing from storage; restore it from backup.")
        return File(
            path=path,
            filename=record.filename,
            media_type=records.MEDIA_TYPES[record.format],
            etag=ETag(value=record.sha256),
        )


class HoldbackApi(Controller):
    path = "/api/v1/holdback"
    tags = ["deliverables"]

    @get("/", sync_to_thread=True, summary="The holdback ledger's totals for every project you can see")
    def holdback(self, request: Request, db: NamedDependency[Session]) -> list[LedgerOut]:
        """One row per project: payment, paid, withheld, released and pending; each project's own ledger lists its
        deliverables at /api/v1/projects/{key}/deliverables/holdback."""
        visible = [r.project for r in projects.visible_projects(db, request.user)]
        ledgers = decisions.holdback_ledgers(db, [p.id for p in visible])
        return [_ledger_out(p, ledgers[p.id], rows=False) for p in visible]
