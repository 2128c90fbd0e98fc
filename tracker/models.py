"""Imports every table so SQLModel.metadata is complete (Alembic and tests use it)."""

from sqlmodel import SQLModel

from tracker.accounts.models import ApiToken, LoginThrottle, RecoveryCode, SignIn, User, UserMfa
from tracker.audit.models import AuditEvent, DataVersion
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
from tracker.projects.models import Invitation, Membership, Project
from tracker.register.actions.models import ActionItem
from tracker.register.attachments.models import Attachment
from tracker.register.changes.models import ChangeDeliverable, ChangeRequest
from tracker.register.custom.models import CustomField, CustomValue
from tracker.register.decisions.models import LoggedDecision, LoggedDecisionDeliverable
from tracker.register.issues.models import Issue, IssueDecision, IssueDeliverable
from tracker.register.lessons.models import Lesson, LessonDeliverable
from tracker.register.meetings.models import Meeting, MeetingAttendee, MeetingDeliverable
from tracker.register.risks.models import RegisterSettings, Risk, RiskDeliverable, RiskScoreHistory
from tracker.reports.models import ServiceFigure, ServiceMeasure, StatusReport
from tracker.sso.models import GroupMapping, OidcIdentity, OidcProvider, SignInPolicy
from tracker.webhooks.models import Webhook, WebhookDelivery

metadata = SQLModel.metadata

# Ids are never given twice: the audit trail names records by id, so a deleted record's events must never come to
# name a new one. Without AUTOINCREMENT, SQLite hands the highest id to the next row again once it is deleted
# (PostgreSQL sequences never go back). Set here for every table, so tables added later and autogenerate get it too.
# SQLAlchemy does not reflect it: a batch migration that rebuilds a table passes table_kwargs={"sqlite_autoincrement":
# True} (tests/test_migrations.py fails otherwise).
for table in metadata.tables.values():
    table.dialect_kwargs["sqlite_autoincrement"] = True

# Tables the migrations build that no model declares: the search index (an FTS5 virtual table and its shadow tables
# on SQLite, a generated tsvector column on PostgreSQL; tracker/search/index.py). Alembic's comparison of models and
# schema (autogenerate, tests/test_migrations.py) passes over them, by this one rule.
NOT_MODELLED = "search_index"


def modelled(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's include_name: False for the search index's tables (and their indexes)."""
    table = name if type_ == "table" else parent_names.get("table_name")
    return not (table or "").startswith(NOT_MODELLED)


__all__ = [
    "ActionItem",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "DataVersion",
    "CalendarFeed",
    "ChangeDeliverable",
    "ChangeRequest",
    "Comment",
    "Condition",
    "CriteriaVersion",
    "Criterion",
    "CriterionResult",
    "CustomField",
    "CustomValue",
    "Decision",
    "Deliverable",
    "DispatchCursor",
    "DispatchEffect",
    "GeneratedRecord",
    "GroupMapping",
    "Invitation",
    "Issue",
    "IssueDecision",
    "IssueDeliverable",
    "Lesson",
    "LoggedDecision",
    "LoggedDecisionDeliverable",
    "LessonDeliverable",
    "LoginThrottle",
    "Meeting",
    "MeetingAttendee",
    "MeetingDeliverable",
    "MailPreference",
    "MailSettings",
    "OidcIdentity",
    "OidcProvider",
    "Membership",
    "OutgoingMail",
    "Project",
    "RecoveryCode",
    "RegisterSettings",
    "ReportRecipient",
    "ReportSchedule",
    "ReviewAssignment",
    "Risk",
    "RiskDeliverable",
    "RiskScoreHistory",
    "SavedReport",
    "ServiceFigure",
    "ServiceMeasure",
    "SignIn",
    "SignInPolicy",
    "StatusReport",
    "Submission",
    "SubmissionFile",
    "User",
    "UserMfa",
    "Watch",
    "Webhook",
    "WebhookDelivery",
    "metadata",
    "modelled",
]
