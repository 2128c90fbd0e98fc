"""Imports every table so SQLModel.metadata is complete (Alembic and tests use it)."""

from sqlmodel import SQLModel

from tracker.accounts.models import ApiToken, LoginThrottle, User
from tracker.audit.models import AuditEvent
from tracker.calendars.models import CalendarFeed
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
from tracker.dispatch.models import DispatchCursor, DispatchEffect
from tracker.library.models import SavedReport
from tracker.mail.models import MailPreference, MailSettings, OutgoingMail, ReportRecipient, ReportSchedule, Watch
from tracker.projects.models import Membership, Project
from tracker.register.actions.models import ActionItem
from tracker.register.changes.models import ChangeDeliverable, ChangeRequest
from tracker.register.issues.models import Issue, IssueDecision, IssueDeliverable
from tracker.register.risks.models import RegisterSettings, Risk, RiskDeliverable, RiskScoreHistory
from tracker.reports.models import StatusReport
from tracker.webhooks.models import Webhook, WebhookDelivery

metadata = SQLModel.metadata

# Ids are never given twice: the audit trail names records by id, so a deleted record's events must never come to
# name a new one. Without AUTOINCREMENT, SQLite hands the highest id to the next row again once it is deleted
# (PostgreSQL sequences never go back). Set here for every table, so tables added later and autogenerate get it too.
# SQLAlchemy does not reflect it: a batch migration that rebuilds a table passes table_kwargs={"sqlite_autoincrement":
# True} (tests/test_migrations.py fails otherwise).
for table in metadata.tables.values():
    table.dialect_kwargs["sqlite_autoincrement"] = True

__all__ = [
    "ActionItem",
    "ApiToken",
    "AuditEvent",
    "CalendarFeed",
    "ChangeDeliverable",
    "ChangeRequest",
    "Comment",
    "Condition",
    "CriteriaVersion",
    "Criterion",
    "CriterionResult",
    "Decision",
    "Deliverable",
    "DispatchCursor",
    "DispatchEffect",
    "GeneratedRecord",
    "Issue",
    "IssueDecision",
    "IssueDeliverable",
    "LoginThrottle",
    "MailPreference",
    "MailSettings",
    "Membership",
    "OutgoingMail",
    "Project",
    "RegisterSettings",
    "ReportRecipient",
    "ReportSchedule",
    "ReviewAssignment",
    "Risk",
    "RiskDeliverable",
    "RiskScoreHistory",
    "SavedReport",
    "StatusReport",
    "Submission",
    "SubmissionFile",
    "User",
    "Watch",
    "Webhook",
    "WebhookDelivery",
    "metadata",
]
