"""Risk rules: codes, score history, review cadence, the filtered register, the heat map, and the helpers the
issue and action-item registers share (common.owners, deliverable links, register settings)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import Field, field_validator, model_validator
from sqlmodel import Session, col, func, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history, versions
from tracker.audit import service as audit
from tracker.core import memo
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, FormError
from tracker.core.forms import Checkbox, Form, OptionalDate, OptionalInt
from tracker.core.web import options
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm
from tracker.projects.service import Access, load_record, record_in
from tracker.register import common
from tracker.register.actions.models import ActionItem
from tracker.register.risks import scoring
from tracker.register.risks.models import (
    ACTIVE_RISK,
    ESCALATE_DAYS,
    Category,
    Proximity,
    RegisterSettings,
    Risk,
    RiskDeliverable,
    RiskScoreHistory,
    RiskStatus,
    Strategy,
)
from tracker.register.risks.scoring import Level

PERIOD_DAYS = 7  # the heat map's "one period ago": one weekly reporting period


# --- settings ---------------------------------------------------------------------------------------------

SETTING_FIELDS = (
    "review_days_critical",
    "review_days_high",
    "review_days_medium",
    "review_days_low",
    "escalate_days_critical",
    "escalate_days_high",
    "escalate_days_medium",
    "escalate_days_low",
)


class SettingsForm(Form):
    review_days_critical: int = Field(ge=1, le=365)
    review_days_high: int = Field(ge=1, le=365)
    review_days_medium: int = Field(ge=1, le=365)
    review_days_low: int = Field(ge=1, le=365)
    escalate_days_critical: int = Field(ge=1, le=365)
    escalate_days_high: int = Field(ge=1, le=365)
    escalate_days_medium: int = Field(ge=1, le=365)
    escalate_days_low: int = Field(ge=1, le=365)
    version: int | None = None


# The settings page's fields as the history (audit/history.py) names them.
SETTING_LABELS = {f"review_days_{lv}": f"Days between reviews, {lv} risks" for lv in Level} | {
    f"escalate_days_{p}": f"Days before escalation, {p} issues" for p in ESCALATE_DAYS
}
SettingsForm.labels = SETTING_LABELS


def update_settings(db: Session, actor: Principal, access: Access, form: SettingsForm) -> RegisterSettings:
    access.require(Perm.MANAGE)
    settings = db.get(RegisterSettings, access.project.id)
    if settings is None:
        settings = RegisterSettings(project_id=access.project.id)
        db.add(settings)
    else:
        settings.check_seen(form.version, audit.snapshot(settings, SETTING_FIELDS))
    before = audit.snapshot(settings, SETTING_FIELDS)
    for name in SETTING_FIELDS:
        setattr(settings, name, getattr(form, name))
    if changes := audit.diff(before, audit.snapshot(settings, SETTING_FIELDS)):
        audit.record(
            db,
            actor_id=actor.id,
            entity=access.project,
            project_id=access.project.id,
            label=access.project.key,
            action="register_settings",
            changes=changes,
        )
    db.flush()
    return settings


# --- the rules that pages, API, exports and reports share ------------------------------------------------


def review_date(settings: RegisterSettings, level: Level, today: date) -> date:
    """The next review of a risk at `level`, by the project's cadence."""
    return today + timedelta(days=settings.review_days(level))


def review_after_change(settings: RegisterSettings, before: Level, after: Level, wanted: date, today: date) -> date:
    """A risk whose level rises is reviewed within the new level's cadence, or sooner if it already was; a falling
    level never moves the date."""
    return min(wanted, review_date(settings, after, today)) if scoring.rises(before, after) else wanted


def due_for_review(risk: Risk, today: date) -> bool:
    """An active risk whose review date has come: the risk review clock is due. `due_clause` is the same rule in
    SQL."""
    return clocks.RISK_REVIEW.is_due(risk, today)


def due_clause(today: date) -> Any:
    return clocks.RISK_REVIEW.due_clause(today)


def overdue_actions_count(today: date) -> Any:
    """Open action items of the risk past their due date; a risk with any is "overdue" (its plan slips).
    actions.service.is_overdue is the same rule for one item."""
    return (
        select(func.count(ActionItem.id))
        .where(ActionItem.risk_id == Risk.id, clocks.ACTION.overdue_clause(today))
        .correlate(Risk)
        .scalar_subquery()
    )


def open_actions_count(plan: str | None = None) -> Any:
    """Open action items of the risk, of one plan (mitigation or contingency) or of both."""
    where = [ActionItem.risk_id == Risk.id, col(ActionItem.done_at).is_(None)]
    if plan:
        where.append(ActionItem.plan == plan)
    return select(func.count(ActionItem.id)).where(*where).correlate(Risk).scalar_subquery()


# --- create and edit --------------------------------------------------------------------------------------


def _one_to_five(v: int | None) -> int | None:
    if v is not None and not 1 <= v <= 5:
        raise ValueError("Choose a value from 1 to 5")
    return v


class RiskForm(common.RecordForm):
    statement: str = Field(default="", max_length=4000)
    category: Category = Category.OTHER
    probability: int
    impact: int
    proximity: Proximity = Proximity.MID
    trigger: str = Field(default="", max_length=2000)
    owner_id: OptionalInt = None
    response: Strategy = Strategy.MITIGATE
    residual_probability: OptionalInt = None
    residual_impact: OptionalInt = None
    mitigation_plan: str = Field(default="", max_length=8000)
    contingency_plan: str = Field(default="", max_length=8000)
    next_review_date: OptionalDate = None  # blank: from the cadence of the risk's level
    status: RiskStatus = RiskStatus.OPEN
    raised_on: OptionalDate = None

    @field_validator("probability", "impact", "residual_probability", "residual_impact")
    @classmethod
    def _scale(cls, v: int | None) -> int | None:
        return _one_to_five(v)

    @model_validator(mode="after")
    def _residual(self) -> RiskForm:
        if (self.residual_probability is None) != (self.residual_impact is None):
            missing = "residual_impact" if self.residual_impact is None else "residual_probability"
            raise FormError({missing: "Give both residual probability and residual impact, or neither."})
        if self.residual_probability is not None:
            residual, inherent = (
                scoring.score(self.residual_probability, self.residual_impact),
                scoring.score(self.probability, self.impact),
            )
            if residual > inherent:  # mitigation lowers a risk or leaves it; it never raises it
                raise FormError(
                    {
                        "residual_probability": (
                            f"The residual score {residual} ({self.residual_probability} × {self.residual_impact}) is above "
                            f"the inherent score {inherent} ({self.probability} × {self.impact}): mitigation cannot make a "
                            "risk worse."
                        )
                    }
                )
        return self


# The risk form's labels and the words of its coded values, as the register shows them; the history
# (audit/history.py) reads a risk's changes with them too.
LABELS = {
    "code": "Code",
    "title": "Title",
    "statement": "Risk statement",
    "category": "Category",
    "probability": "Probability",
    "impact": "Impact",
    "proximity": "Proximity",
    "trigger": "Trigger",
    "owner_id": "Owner",
    "response": "Response strategy",
    "residual_probability": "Residual probability",
    "residual_impact": "Residual impact",
    "mitigation_plan": "Mitigation plan",
    "contingency_plan": "Contingency plan",
    "next_review_date": "Next review",
    "status": "Status",
    "raised_on": "Raised on",
    "deliverable_ids": "Deliverables",
    "deliverables": "Deliverables",
    "issue": "Issue",
}
RiskForm.labels = LABELS
PROBABILITY = {n: f"{n} {word}" for n, word in scoring.PROBABILITY_WORDS.items()}
IMPACT = {n: f"{n} {word}" for n, word in scoring.IMPACT_WORDS.items()}
WORDS = {
    "category": dict(options(list(Category))),
    "proximity": dict(options(list(Proximity), " term")),
    "response": dict(options(list(Strategy))),
    "status": dict(options(list(RiskStatus))),
    "probability": PROBABILITY,
    "impact": IMPACT,
    "residual_probability": PROBABILITY,
    "residual_impact": IMPACT,
}
history.register(
    nouns={"risk": "risk"},
    verbs={
        "review": "reviewed",
        "convert": "converted into an issue",
        "register_settings": "changed the register settings of",
    },
    terms={"risk": history.Terms(LABELS, WORDS), "register_settings": history.Terms(SETTING_LABELS)},
)


def check_rules(form: RiskForm, today: date) -> None:
    """What a risk's form cannot check alone (it needs the project's today); imports check every row by it too."""
    errors = {}
    if form.raised_on and form.raised_on > today:
        errors["raised_on"] = "A risk is raised on a day that has come: choose today or an earlier day."
    if form.status in ACTIVE_RISK and form.owner_id is None:
        errors["owner_id"] = "An open, mitigating or monitoring risk needs an owner: choose who answers for it."
    if errors:
        raise FormError(errors)


FIELDS = (
    "code",
    "title",
    "statement",
    "category",
    "probability",
    "impact",
    "proximity",
    "trigger",
    "owner_id",
    "response",
    "residual_probability",
    "residual_impact",
    "mitigation_plan",
    "contingency_plan",
    "next_review_date",
    "status",
    "raised_on",
)


def form_values(db: Session, risk: Risk) -> dict[str, Any]:
    return common.form_values(db, risk, FIELDS, RiskDeliverable)


def _values(form: RiskForm) -> dict[str, Any]:
    return form.model_dump(include=set(FIELDS) - {"code", "raised_on", "next_review_date"}, mode="json") | {
        "next_review_date": form.next_review_date
    }


def _record_score(db: Session, actor: Principal, risk: Risk) -> None:
    db.add(RiskScoreHistory(risk_id=risk.id, probability=risk.probability, impact=risk.impact, changed_by_id=actor.id))


def create(db: Session, actor: Principal, access: Access, form: RiskForm, imported: bool = False) -> Risk:
    """`imported`: a register brought in from a spreadsheet as it stands may hold risks that already happened."""
    access.require(Perm.EDIT_REGISTER)
    project = access.project
    if form.status == RiskStatus.REALIZED and not imported:
        raise FormError({"status": "A new risk cannot be realized; record it, then convert it into an issue."})
    today = project_today(project)
    check_rules(form, today)
    code, links = common.check_form(db, Risk, project, form, "R")
    common.check_owner(db, project.id, form.owner_id)
    risk = Risk(project_id=project.id, code=code, raised_on=form.raised_on or today, **_values(form))
    if risk.next_review_date is None:
        risk.next_review_date = review_date(
            common.settings_for(db, project.id), scoring.level(risk.probability, risk.impact), today
        )
    common.created(db, actor, risk, FIELDS, RiskDeliverable, links)
    _record_score(db, actor, risk)
    db.flush()
    return risk


def update(db: Session, actor: Principal, access: Access, risk: Risk, form: RiskForm, imported: bool = False) -> Risk:
    access.require(Perm.EDIT_REGISTER)
    project = access.project
    risk.check_seen(form.version, audit.snapshot(risk, FIELDS))
    if form.status == RiskStatus.REALIZED and risk.status != RiskStatus.REALIZED and not imported:
        raise FormError({"status": "Use “Convert to issue” to record that a risk has happened."})
    check_rules(form, project_today(project))
    code, links = common.check_form(db, Risk, project, form, "R", risk)
    common.check_owner(db, project.id, form.owner_id)
    values = _values(form)
    settings, today = common.settings_for(db, project.id), project_today(project)
    level = scoring.level(form.probability, form.impact)
    wanted = values["next_review_date"] or review_date(settings, level, today)
    values["next_review_date"] = review_after_change(
        settings, scoring.level(risk.probability, risk.impact), level, wanted, today
    )

    def apply() -> None:
        for name, value in values.items():
            setattr(risk, name, value)
        risk.code = code
        risk.raised_on = form.raised_on or risk.raised_on

    changes = common.edited(db, risk, FIELDS, RiskDeliverable, links, apply)
    if "probability" in changes or "impact" in changes:
        _record_score(db, actor, risk)
    if changes:
        common.record_event(db, actor, risk, "update", changes)
    db.flush()
    return risk


def mark_reviewed(db: Session, actor: Principal, access: Access, risk: Risk, version: int | None = None) -> Risk:
    """The owner looked at the risk today: the next review moves one cadence step on."""
    access.require(Perm.EDIT_REGISTER)
    risk.check_seen(version, {"next_review_date": risk.next_review_date, "status": risk.status})
    if risk.status not in ACTIVE_RISK:
        raise Conflict(detail="Only an open risk is reviewed.")
    today = project_today(access.project)
    settings = common.settings_for(db, risk.project_id)
    before = risk.next_review_date
    risk.last_reviewed_on = today
    risk.next_review_date = review_date(settings, scoring.level(risk.probability, risk.impact), today)
    risk.updated_at = utcnow()
    audit.record(
        db,
        actor_id=actor.id,
        entity=risk,
        project_id=risk.project_id,
        label=risk.code,
        action="review",
        changes={"next_review_date": [before, risk.next_review_date]},
    )
    db.flush()
    return risk


def mark_realized(db: Session, actor: Principal, risk: Risk, issue_code: str) -> None:
    """Called by the conversion into an issue, in the same transaction."""
    before = risk.status
    risk.status = RiskStatus.REALIZED.value
    risk.updated_at = utcnow()
    audit.record(
        db,
        actor_id=actor.id,
        entity=risk,
        project_id=risk.project_id,
        label=risk.code,
        action="convert",
        changes={"status": [before, risk.status], "issue": [None, issue_code]},
    )


# --- loading -----------------------------------------------------------------------------------------------


def get_for(db: Session, access: Access, risk_id: int) -> Risk:
    return record_in(db, access, Risk, risk_id, "risk")


def load_for(db: Session, user: Principal, risk_id: int, perm: Perm = Perm.VIEW_REGISTER) -> tuple[Access, Risk]:
    """A risk by id for `user`: 404 unless they may see its project, 403 when they lack `perm`."""
    return load_record(db, user, Risk, risk_id, perm, "risk")


def history_of(db: Session, risk_id: int) -> list[tuple[RiskScoreHistory, str | None]]:
    stmt = (
        select(RiskScoreHistory, User.full_name)
        .outerjoin(User, col(User.id) == RiskScoreHistory.changed_by_id)
        .where(RiskScoreHistory.risk_id == risk_id)
        .order_by(RiskScoreHistory.at, RiskScoreHistory.id)
    )
    return list(db.exec(stmt).all())


# --- the register list ------------------------------------------------------------------------------------

# Every sort ends in the code, unique in a project, so the order is total without an id tie-break.
SORTS = {
    "score": (scoring.score_expr(Risk), Risk.code),
    "age": (Risk.raised_on, Risk.code),
    "due": (Risk.next_review_date, Risk.code),
    "code": (Risk.code,),
}


class RiskQuery(common.ListQuery):
    statuses = tuple(RiskStatus)
    group = "active"  # open, mitigating and monitoring
    sorts = SORTS

    level: Level | None = None
    category: Category | None = None
    probability: OptionalInt = None
    impact: OptionalInt = None
    due: Checkbox = False  # due for review
    sort: str = "-score"

    @field_validator("probability", "impact")
    @classmethod
    def _scale(cls, v: int | None) -> int | None:
        return _one_to_five(v)


@dataclass(frozen=True)
class RiskRow:
    risk: Risk
    owner_name: str | None
    open_actions: int
    overdue_actions: int
    due_for_review: bool

    @property
    def score(self) -> int:
        return scoring.score(self.risk.probability, self.risk.impact)

    @property
    def level(self) -> Level:
        return scoring.level(self.risk.probability, self.risk.impact)

    @property
    def overdue(self) -> bool:
        return self.overdue_actions > 0

    @property
    def record(self) -> Risk:
        return self.risk

    def extras(self) -> dict[str, Any]:
        """What the row works out beyond the risk's own fields (the API answers them too)."""
        r = self.risk
        residual = r.residual_probability and r.residual_impact
        return {
            "score": self.score,
            "level": self.level,
            "owner_name": self.owner_name,
            "residual_score": scoring.score(r.residual_probability, r.residual_impact) if residual else None,
            "due_for_review": self.due_for_review,
            "overdue": self.overdue,
            "open_actions": self.open_actions,
        }


def search(
    db: Session, access: Access, query: RiskQuery, part: common.Part = common.Part()
) -> tuple[list[RiskRow], int]:
    """The filtered, sorted register in two queries whatever its size: for the page, the API and exports
    (common.EVERY: every row)."""
    today = project_today(access.project)
    where = common.list_where(Risk, access, query, part, ACTIVE_RISK, (Risk.code, Risk.title, Risk.statement))
    if query.level:
        where.append(scoring.level_clause(Risk, query.level))
    if query.category:
        where.append(Risk.category == query.category.value)
    if query.owner:
        where.append(Risk.owner_id == query.owner)
    if query.probability:
        where.append(Risk.probability == query.probability)
    if query.impact:
        where.append(Risk.impact == query.impact)
    overdue = overdue_actions_count(today)
    if query.overdue:
        where.append(overdue > 0)
    if query.due:
        where.append(due_clause(today))
    stmt = select(Risk, User.full_name, open_actions_count(), overdue).outerjoin(User, col(User.id) == Risk.owner_id)
    found, total = common.page_of(db, Risk, stmt, where, query, part)
    rows = [RiskRow(r, owner, n_open or 0, n_late or 0, due_for_review(r, today)) for r, owner, n_open, n_late in found]
    return rows, total


# --- heat map ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatMap:
    now: dict[tuple[int, int], int]  # (probability, impact) -> active risks there now
    then: dict[tuple[int, int], int]  # the same risks where they stood one period ago
    as_of: date
    up: int
    down: int
    new: int  # raised since then: not on the earlier map

    @property
    def total(self) -> int:
        return sum(self.now.values())


def heat_map(db: Session, access: Access, now: datetime | None = None) -> HeatMap:
    """Active risks by probability × impact, now and one period ago, as of the minute (the comparison a period back
    needs no finer): kept while that minute and the project's record stand (tracker.core.memo)."""
    at = (now or utcnow()).replace(second=0, microsecond=0)
    key = ("heat map", access.project.id, at, versions.of(db, [access.project.id]))
    return memo.kept(key, lambda: _heat_map(db, access, at))


def _heat_map(db: Session, access: Access, now: datetime) -> HeatMap:
    """Every score a risk has had is in its history, so a risk with no history since the cutoff stood then where it
    stands now: one grouped count gives both maps, and only the risks that moved are looked up one by one."""
    cutoff = now - timedelta(days=PERIOD_DAYS)
    active = (Risk.project_id == access.project.id, col(Risk.status).in_(ACTIVE_RISK))
    counts = select(Risk.probability, Risk.impact, func.count()).where(*active).group_by(Risk.probability, Risk.impact)
    cells_now = {(p, i): n for p, i, n in db.exec(counts)}
    cells_then = Counter(cells_now)

    # Per moved risk, its last score before the cutoff: a look-up along (risk_id, at) each, not a join with the
    # whole history (which PostgreSQL would hash).
    def then(column: Any) -> Any:
        return (
            select(column)
            .where(RiskScoreHistory.risk_id == Risk.id, RiskScoreHistory.at <= cutoff)
            .order_by(col(RiskScoreHistory.id).desc())
            .limit(1)
            .correlate(Risk)
            .scalar_subquery()
        )

    since = select(RiskScoreHistory.risk_id).where(RiskScoreHistory.at > cutoff)
    moved = select(
        Risk.probability, Risk.impact, then(RiskScoreHistory.probability), then(RiskScoreHistory.impact)
    ).where(*active, col(Risk.id).in_(since))
    up = down = new = 0
    for p, i, old_p, old_i in db.exec(moved):
        cells_then[(p, i)] -= 1
        if old_p is None:  # raised since the cutoff: not on the earlier map
            new += 1
            continue
        cells_then[(old_p, old_i)] += 1
        before, after = scoring.score(old_p, old_i), scoring.score(p, i)
        up += after > before
        down += after < before
    as_of = project_today(access.project, cutoff)
    return HeatMap(cells_now, {cell: n for cell, n in cells_then.items() if n}, as_of, up, down, new)


# --- my work --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewDue:
    project_key: str
    risk: Risk
    today: date

    @property
    def level(self) -> Level:
        return scoring.level(self.risk.probability, self.risk.impact)


def my_reviews_due(db: Session, user: Principal, limit: int = 50) -> list[ReviewDue]:
    """Risks this user owns whose review date has come, on each project's own calendar day."""
    horizon = utcnow().date() + timedelta(days=1)  # the latest "today" any time zone can have
    stmt = (
        select(Risk, Project)
        .join(Project, col(Project.id) == Risk.project_id)
        .join(Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id))
        .where(Risk.owner_id == user.id, col(Membership.role).in_(common.OWNER_ROLES), due_clause(horizon))
        .order_by(Risk.next_review_date, Project.key, Risk.code)
        .limit(limit)
    )
    out = []
    for risk, project in db.exec(stmt):
        today = project_today(project)
        if due_for_review(risk, today):
            out.append(ReviewDue(project.key, risk, today))
    return out
