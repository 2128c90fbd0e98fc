"""Risks, their probability/impact history, links to deliverables, and the register settings of a project."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field
from tracker.register.risks.scoring import Level


class RiskStatus(StrEnum):
    OPEN = "open"
    MITIGATING = "mitigating"
    MONITORING = "monitoring"
    CLOSED = "closed"
    REALIZED = "realized"  # only through conversion into an issue


ACTIVE_RISK = (RiskStatus.OPEN, RiskStatus.MITIGATING, RiskStatus.MONITORING)


class Category(StrEnum):
    SCHEDULE = "schedule"
    COST = "cost"
    SCOPE = "scope"
    TECHNICAL = "technical"
    CONTRACTOR_PERFORMANCE = "contractor_performance"
    SECURITY = "security"
    BUSINESS_CONTINUITY = "business_continuity"
    RESOURCES = "resources"
    OTHER = "other"


class Proximity(StrEnum):
    NEAR = "near"
    MID = "mid"
    FAR = "far"


class Strategy(StrEnum):
    AVOID = "avoid"
    MITIGATE = "mitigate"
    TRANSFER = "transfer"
    ACCEPT = "accept"
    ESCALATE = "escalate"


class Risk(Versioned, SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("project_id", "code"),
        # Covers the heat map's count of active risks by probability and impact, without reading the rows.
        Index("ix_risk_project_status_score", "project_id", "status", "probability", "impact"),
        Index("ix_risk_project_review", "project_id", "next_review_date"),
        # An owner's risks due for review (My work) in date order, filtered inside the index.
        Index("ix_risk_owner_review", "owner_id", "next_review_date", "status", "project_id"),
        # The register's default order, highest score first: read along this index, not sorted. The expression
        # is scoring.score_expr's, written the same way so SQLite and PostgreSQL match it.
        Index("ix_risk_project_score", "project_id", text("(probability * impact)"), "code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    code: str = Field(max_length=20)
    title: str = Field(max_length=200)
    statement: str = Field(default="", max_length=4000)  # "if <condition>, then <consequence>"
    category: str = Field(default=Category.OTHER, max_length=24)
    # Score and level are never stored: risks.scoring derives them from these two.
    probability: int
    impact: int
    proximity: str = Field(default=Proximity.MID, max_length=8)
    trigger: str = Field(default="", max_length=2000)  # what shows the risk is happening; activates the contingency
    owner_id: int | None = Field(default=None, foreign_key="app_user.id")
    response: str = Field(default=Strategy.MITIGATE, max_length=10)
    residual_probability: int | None = None  # expected after mitigation
    residual_impact: int | None = None
    mitigation_plan: str = Field(default="", max_length=8000)
    contingency_plan: str = Field(default="", max_length=8000)
    next_review_date: date | None = None
    last_reviewed_on: date | None = None
    status: str = Field(default=RiskStatus.OPEN, max_length=12)
    raised_on: date  # identified on (the project's calendar day)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class RiskScoreHistory(SQLModel, table=True):
    """Every probability/impact a risk has had, from its creation on: the trend and "one period ago"."""

    __tablename__ = "risk_score_history"
    __table_args__ = (
        Index("ix_risk_score_history_risk_at", "risk_id", "at"),
        Index("ix_risk_score_history_at", "at", "risk_id"),  # which risks moved since a time (the heat map)
    )

    id: int | None = Field(default=None, primary_key=True)
    risk_id: int = Field(foreign_key="risk.id")
    at: datetime = Field(default_factory=utcnow)
    probability: int
    impact: int
    changed_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class RiskDeliverable(SQLModel, table=True):
    __tablename__ = "risk_deliverable"

    risk_id: int = Field(foreign_key="risk.id", primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id", primary_key=True, index=True)


# The defaults a project starts with; a project's own row overrides them.
REVIEW_DAYS = {Level.CRITICAL: 7, Level.HIGH: 14, Level.MEDIUM: 30, Level.LOW: 90}
ESCALATE_DAYS = {"critical": 3, "high": 10, "medium": 30, "low": 60}


class RegisterSettings(Versioned, SQLModel, table=True):
    """Per project: how often a risk of each level is reviewed, and how many days an unresolved issue of
    each priority may age before it is flagged for escalation."""

    __tablename__ = "register_settings"

    project_id: int = Field(foreign_key="project.id", primary_key=True)
    review_days_critical: int = Field(default=REVIEW_DAYS[Level.CRITICAL], sa_column_kwargs={"server_default": "7"})
    review_days_high: int = Field(default=REVIEW_DAYS[Level.HIGH], sa_column_kwargs={"server_default": "14"})
    review_days_medium: int = Field(default=REVIEW_DAYS[Level.MEDIUM], sa_column_kwargs={"server_default": "30"})
    review_days_low: int = Field(default=REVIEW_DAYS[Level.LOW], sa_column_kwargs={"server_default": "90"})
    escalate_days_critical: int = Field(default=ESCALATE_DAYS["critical"], sa_column_kwargs={"server_default": "3"})
    escalate_days_high: int = Field(default=ESCALATE_DAYS["high"], sa_column_kwargs={"server_default": "10"})
    escalate_days_medium: int = Field(default=ESCALATE_DAYS["medium"], sa_column_kwargs={"server_default": "30"})
    escalate_days_low: int = Field(default=ESCALATE_DAYS["low"], sa_column_kwargs={"server_default": "60"})
    version: int = version_field()

    def review_days(self, level: Level | str) -> int:
        return getattr(self, f"review_days_{Level(level).value}")

    def escalate_days(self, priority: str) -> int:
        return getattr(self, f"escalate_days_{priority}")
