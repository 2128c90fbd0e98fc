"""Imports every table so SQLModel.metadata is complete (Alembic and tests use it)."""

from sqlmodel import SQLModel

from tracker.accounts.models import ApiToken, LoginThrottle, User
from tracker.actions.models import ActionItem
from tracker.audit.models import AuditEvent
from tracker.deliverables.models import (
    Comment,
    Condition,
    CriteriaVersion,
    Criterion,
    CriterionResult,
    Decision,
    Deliverable,
    GeneratedRecord,
    ReviewAssignment,
    Submission,
    SubmissionFile,
)
from tracker.issues.models import Issue, IssueDecision, IssueDeliverable
from tracker.library.models import SavedReport
from tracker.projects.models import Membership, Project
from tracker.reports.models import StatusReport
from tracker.risks.models import RegisterSettings, Risk, RiskDeliverable, RiskScoreHistory

metadata = SQLModel.metadata

__all__ = [
    "ActionItem", "ApiToken", "AuditEvent", "Comment", "Condition", "CriteriaVersion", "Criterion", "CriterionResult", "Decision", "Deliverable",
    "GeneratedRecord",
    "Issue", "IssueDecision", "IssueDeliverable", "LoginThrottle", "Membership", "Project", "RegisterSettings",
    "ReviewAssignment", "Risk", "RiskDeliverable", "RiskScoreHistory", "SavedReport", "StatusReport", "Submission", "SubmissionFile", "User",
    "metadata",
]  # fmt: skip
