"""Imports every table so SQLModel.metadata is complete (Alembic and tests use it)."""

from sqlmodel import SQLModel

from tracker.accounts.models import ApiToken, LoginThrottle, User
from tracker.audit.models import AuditEvent
from tracker.deliverables.models import (
    Comment,
    Criterion,
    CriterionResult,
    Decision,
    Deliverable,
    ReviewAssignment,
    Submission,
    SubmissionFile,
)
from tracker.projects.models import Membership, Project

metadata = SQLModel.metadata

__all__ = [
    "ApiToken", "AuditEvent", "Comment", "Criterion", "CriterionResult", "Decision", "Deliverable", "LoginThrottle",
    "Membership", "Project", "ReviewAssignment", "Submission", "SubmissionFile", "User", "metadata",
]  # fmt: skip
