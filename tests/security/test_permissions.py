"""Every route × every persona, from one table. Reads: the allowed get 200, the others 403/404 (a non-member 404 on a
project's routes, so a project's existence does not leak), anonymous visitors the login page (pages) or 401 (API);
an API refusal is the JSON error with its detail. Writes: the allowed are not refused (no 401/403/404; a 409 or 422
from the record's state is fine), the others are refused and nothing is written. A route missing from the table
fails the test: add one line for it (one per kind of record where records differ in who may use them: a private
saved report, a shared one)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from tests.security.conftest import (
    CHANGE_SHEET,
    DECISION_SHEET,
    ISSUE_SHEET,
    LESSON_SHEET,
    LEVELS_SHEET,
    MEETING_SHEET,
    RISK_SHEET,
)

PERSONAS = ("admin", "manager", "staff", "contractor", "viewer", "outsider", None)
ALL = {"admin", "manager", "staff", "contractor", "viewer", "outsider"}
MEMBERS = {"admin", "manager", "staff", "contractor", "viewer"}
READERS = {"admin", "manager", "staff", "viewer"}  # contractors never see the project-wide history or the register
EDITORS = {"manager", "staff"}  # change the register; review deliverables
SUBMITTERS = {"manager", "staff", "contractor"}
MANAGER = {"manager"}  # plan deliverables and decide
CONTRACTOR = {"contractor"}  # acknowledge the agreed acceptance criteria
ADMIN = {"admin"}
MANAGING = {"admin", "manager"}  # a project's own settings, members and invitations: its managers, and admins
HOOKS = MANAGING  # a project's webhooks: its managers, and admins across projects
HOOK = {"url": "https://93.184.215.14/hook", "events": "risk.created"}  # a public address: no DNS asked
WEBHOOK_PAGE = "/projects/{key}/webhooks/{webhook_id}"

RISK = {"title": "Changed", "probability": "1", "impact": "1"}
SSO_PROVIDER = {
    "name": "Agency",
    "issuer": "https://login.example.gov",
    "client_id": "tracker",
    "client_secret": "x" * 12,
}
ISSUE = {"title": "Changed", "priority": "low"}
PROJECT = {
    "name": "Renamed",
    "holiday_calendar": "US",
    "timezone": "UTC",
    "review_days": "5",
    "resubmit_days": "5",
    "deemed_days": "5",
    "deemed_policy": "never",
}
PLAN = {"code": "D-09", "title": "Another plan", "criteria": "Covers every interface\nTraceable"}
PDF = {"files": ("version.pdf", b"%PDF-1.4 v2")}  # a (name, content) value is sent as a multipart upload
BUILDER = {"source": "risks", "previous_source": "risks", "columns": "code", "name": "Renamed"}  # the library's form
RISKS_QUERY = {"source": "risks", "columns": ["code", "level"]}
REPORT_PAGE = "/projects/{key}/saved-reports"
STATUS_PAGE = "/projects/{key}/status-reports"
RISK_COLUMNS = {"column-0": "code", "column-1": "title", "column-2": "probability", "column-3": "impact"}
ISSUE_COLUMNS = {"column-0": "code", "column-1": "title", "column-2": "priority"}
CHANGE_COLUMNS = {"column-0": "code", "column-1": "title", "column-2": "cost_impact"}
LESSON_COLUMNS = {"column-0": "code", "column-1": "title", "column-2": "recommendation"}
LESSON = {"title": "Changed", "recommendation": "Start earlier", "category": "testing"}
MEETING_COLUMNS = {"column-0": "code", "column-1": "title", "column-2": "agenda"}
MEETING = {"title": "Changed", "meeting_type": "steering", "agenda": "Budget"}
DECISION_COLUMNS = {"column-0": "code", "column-1": "title", "column-2": "decided_by"}
DECISION = {"title": "Changed", "decided_by": "Steering committee"}
LEVELS_PAGE = "/projects/{key}/scorecard/reported"
LEVELS_API = "/api/v1/projects/{key}/service-levels"
LEVEL_READERS = READERS | CONTRACTOR
MEASURE = {"name": "Uptime", "unit": "%", "higher_is_better": "true"}  # a measure's settings: its project's managers
CREDITS = {"credit-0-metric": "review_turnaround_rate", "credit-0-comparison": "below", "credit-0-threshold": "90"}
CREDITS |= {"credit-0-percent": "2", "cap": "10"}
# change requests: every member reads them (the contractor its own and the State's once submitted); the State's staff
# and the contractor raise them; the seeded one is the State's, submitted, so only the State's editors act on it
CHANGE_READERS = MEMBERS
RAISERS = SUBMITTERS

# (method, path, who may, body[, what the others get when not the usual 403/404: one status, or by persona with "*"
# for the rest]). Placeholders are filled from the seeded ids (tests/security/conftest.py); any name may stand in a
# path segment (e.g. {rejected_id} for the deliverable that has decision records). Rows run in order, each persona on
# one database: a row that deletes a record comes after every other row that uses it.
ROUTES = [
    ("GET", "/", ALL, None),
    ("GET", "/profile", ALL, None),
    (
        "POST",
        "/profile/password",
        ALL,
        {
            "current_password": "correct-horse-battery",
            "new_password": "a-new-password-1",
            "confirm_password": "a-new-password-1",
        },
    ),
    ("POST", "/profile/preferences", ALL, {"title": "Analyst", "timezone": "Europe/Paris", "date_format": "iso"}),
    ("POST", "/profile/tokens", ALL, {"name": "script"}),
    ("POST", "/profile/tokens/{token_id}/revoke", MANAGER, {}, 404),  # the manager's own token: others never see it
    ("POST", "/profile/sign-out-everywhere", ALL, {}),
    ("POST", "/profile/calendar", ALL, {}),  # creates the person's My work feed (a reset names the version)
    ("GET", "/profile/mfa", ALL, None),
    ("POST", "/profile/mfa/start", ALL, {}),
    ("POST", "/profile/mfa/confirm", ALL, {"code": "not-a-code"}),  # 422: their own set-up, a wrong code
    ("POST", "/profile/mfa/recovery-codes", ALL, {"proof": "not-my-password"}),  # 422
    ("POST", "/profile/mfa/disable", ALL, {"proof": "not-my-password"}),  # 422
    ("GET", "/admin/users", ADMIN, None),
    ("GET", "/admin/users/new", ADMIN, None),
    (
        "POST",
        "/admin/users",
        ADMIN,
        {"username": "zz", "full_name": "Z", "email": "z@example.gov", "password": "long-enough-pw"},
    ),
    ("GET", "/admin/users/{user_id}", ADMIN, None),
    ("POST", "/admin/users/{user_id}/mfa/disable", ADMIN, {}),
    ("GET", "/admin/sign-ins", ADMIN, None),
    ("GET", "/admin/sign-ins?user=manager&outcome=wrong_password&page=2", ADMIN, None),
    (
        "POST",
        "/admin/users/{user_id}",
        ADMIN,
        {"username": "spare", "full_name": "Renamed", "email": "s@example.gov", "is_active": "on"},
    ),
    # single sign-on: providers, group mappings and the password policy (admins)
    ("GET", "/admin/sign-in", ADMIN, None),
    ("GET", "/admin/sign-in/providers/new", ADMIN, None),
    ("POST", "/admin/sign-in/providers", ADMIN, SSO_PROVIDER | {"key": "other"}),
    ("GET", "/admin/sign-in/providers/{provider_id}", ADMIN, None),
    ("POST", "/admin/sign-in/providers/{provider_id}", ADMIN, SSO_PROVIDER | {"key": "agency", "name": "Renamed"}),
    ("POST", "/admin/sign-in/providers/{removable_provider_id}/delete", ADMIN, {"version": "1"}),
    ("POST", "/admin/sign-in/mappings", ADMIN, {"provider_id": "{provider_id}", "group_name": "g", "grant": "admin"}),
    ("POST", "/admin/sign-in/mappings/{group_mapping_id}/delete", ADMIN, {}),
    ("POST", "/admin/sign-in/policy", ADMIN, {"local_passwords": "true"}),
    ("GET", "/projects", ALL, None),
    ("GET", "/projects/new", ADMIN, None),
    ("POST", "/projects", ADMIN, PROJECT | {"key": "NEW"}),
    ("GET", "/projects/{key}", MEMBERS, None),
    ("GET", "/projects/{key}/members", MEMBERS, None),
    ("GET", "/projects/{key}/edit", MANAGING, None),
    ("POST", "/projects/{key}/edit", MANAGING, PROJECT | {"key": "TST"}),
    ("GET", "/projects/{key}/history", READERS, None),
    ("POST", "/projects/{key}/calendar", MEMBERS, {}),  # each member's own feed of the project
    ("POST", "/projects/{key}/members", MANAGING, {"user_id": "{outsider}", "role": "viewer"}),
    ("POST", "/projects/{key}/members/{membership_id}/role", MANAGING, {"role": "staff"}),
    ("POST", "/projects/{key}/members/{removable_id}/remove", MANAGING, {"version": "1"}),
    ("GET", "/projects/{key}/invitations", MANAGING, None),
    ("POST", "/projects/{key}/invitations", MANAGING, {"email": "new@example.gov", "full_name": "N", "role": "viewer"}),
    ("POST", "/projects/{key}/invitations/{invitation_id}/resend", MANAGING, {"version": "1"}),
    ("POST", "/projects/{key}/invitations/{invitation_id}/revoke", MANAGING, {"version": "2"}),
    # deliverables
    ("GET", "/projects/{key}/deliverables", MEMBERS, None),
    ("GET", "/projects/{key}/deliverables/new", MANAGER, None),
    ("POST", "/projects/{key}/deliverables", MANAGER, PLAN),
    ("GET", "/projects/{key}/deliverables/{deliverable_id}", MEMBERS, None),
    ("GET", "/projects/{key}/deliverables/{deliverable_id}/edit", MANAGER, None),
    ("POST", "/projects/{key}/deliverables/{deliverable_id}/edit", MANAGER, PLAN | {"code": "D-01"}),
    ("GET", "/projects/{key}/deliverables/{deliverable_id}/comments", MEMBERS, None),
    ("GET", "/projects/{key}/deliverables/{deliverable_id}/burndown", MEMBERS, None),
    ("GET", "/projects/{key}/deliverables/{deliverable_id}/comments.csv", MEMBERS, None),
    ("GET", "/projects/{key}/deliverables/{deliverable_id}/comments.xlsx", MEMBERS, None),
    ("POST", "/projects/{key}/deliverables/{deliverable_id}/submit", SUBMITTERS, PDF),
    ("POST", "/projects/{key}/deliverables/{deliverable_id}/start-review", EDITORS, {}),
    ("POST", "/projects/{key}/deliverables/{deliverable_id}/reviewers", EDITORS, {"reviewer_id": "{staff}"}),
    ("POST", "/projects/{key}/deliverables/{deliverable_id}/reviewers/{staff}/remove", EDITORS, {"version": "1"}),
    ("POST", "/projects/{key}/deliverables/{deliverable_id}/comments", EDITORS, {"text": "x", "severity": "minor"}),
    (
        "POST",
        "/projects/{key}/deliverables/{deliverable_id}/comments/{comment_id}",
        EDITORS,
        {"disposition": "resolved"},
    ),
    ("POST", "/projects/{key}/deliverables/{deliverable_id}/criteria/{criterion_id}", EDITORS, {"outcome": "met"}),
    (
        "POST",
        "/projects/{key}/deliverables/{deliverable_id}/decision",
        MANAGER,
        {"outcome": "rejected", "findings": "x"},
    ),
    ("POST", "/projects/{key}/deliverables/{planned_id}/criteria/agree", MANAGER, {}),
    ("POST", "/projects/{key}/deliverables/{planned_id}/criteria/acknowledge", CONTRACTOR, {}),
    (
        "POST",
        "/projects/{key}/deliverables/{conditional_id}/conditions/{condition_id}",
        MANAGER,
        {"due_date": "{condition_due}"},
    ),
    ("POST", "/projects/{key}/deliverables/{conditional_id}/conditions/{condition_id}/met", MANAGER, {"evidence": "x"}),
    ("POST", "/projects/{key}/deliverables/{conditional_id}/conditions-met", MANAGER, {"evidence": "Both done"}),
    ("POST", "/projects/{key}/deliverables/{deliverable_id}/withdraw", MANAGER, {"reason": "No longer needed"}),
    ("GET", "/projects/{key}/deliverables/{rejected_id}/decisions/{decision_id}/{kind}", MEMBERS, None),
    ("GET", "/projects/{key}/deliverables/{rejected_id}/records/{record_id}", MEMBERS, None),
    ("GET", "/projects/{key}/deliverables/{rejected_id}/records", MEMBERS, None),
    ("GET", "/projects/{key}/holdback", MEMBERS, None),
    ("GET", "/projects/{key}/timeline", MEMBERS, None),
    ("GET", "/projects/{key}/holdback/ledger.csv", MEMBERS, None),
    ("GET", "/projects/{key}/holdback/ledger.xlsx", MEMBERS, None),
    ("GET", "/projects/{key}/deliverables/export.csv", MEMBERS, None),
    ("GET", "/projects/{key}/deliverables/export.xlsx", MEMBERS, None),
    # register
    ("GET", "/projects/{key}/risks", READERS, None),
    ("GET", "/projects/{key}/risks/heat-map", READERS, None),
    ("GET", "/projects/{key}/risks/new", EDITORS, None),
    ("POST", "/projects/{key}/risks", EDITORS, RISK),
    ("GET", "/projects/{key}/risks/{risk_id}", READERS, None),
    ("GET", "/projects/{key}/risks/{risk_id}/edit", EDITORS, None),
    ("POST", "/projects/{key}/risks/{risk_id}/edit", EDITORS, RISK | {"version": "1"}),
    ("GET", "/projects/{key}/risks/{risk_id}/row", READERS, None),
    ("GET", "/projects/{key}/risks/{risk_id}/row-edit", EDITORS, None),
    ("POST", "/projects/{key}/risks/{risk_id}/quick", EDITORS, {"probability": "1", "version": "1"}),
    ("POST", "/projects/{key}/risks/bulk", EDITORS, {"pick": "{risk_id}:1", "status": "monitoring"}),
    ("POST", "/projects/{key}/risks/{risk_id}/review", EDITORS, {"version": "1"}),
    ("POST", "/projects/{key}/risks/{risk_id}/actions", EDITORS, {"description": "x", "plan": "mitigation"}),
    ("POST", "/projects/{key}/risks/{risk_id}/convert", EDITORS, {"version": "1", "confirmed": "yes"}),
    ("GET", "/projects/{key}/issues", READERS, None),
    ("GET", "/projects/{key}/issues/new", EDITORS, None),
    ("POST", "/projects/{key}/issues", EDITORS, ISSUE),
    ("GET", "/projects/{key}/issues/{issue_id}", READERS, None),
    ("GET", "/projects/{key}/issues/{issue_id}/edit", EDITORS, None),
    ("POST", "/projects/{key}/issues/{issue_id}/edit", EDITORS, ISSUE | {"version": "1"}),
    ("GET", "/projects/{key}/issues/{issue_id}/row", READERS, None),
    ("GET", "/projects/{key}/issues/{issue_id}/row-edit", EDITORS, None),
    ("POST", "/projects/{key}/issues/{issue_id}/quick", EDITORS, {"status": "in_progress", "version": "1"}),
    ("POST", "/projects/{key}/issues/bulk", EDITORS, {"pick": "{issue_id}:1", "priority": "low"}),
    ("POST", "/projects/{key}/issues/{issue_id}/decisions", EDITORS, {"decision": "x", "decided_by": "y"}),
    ("POST", "/projects/{key}/issues/{issue_id}/actions", EDITORS, {"description": "x"}),
    ("GET", "/projects/{key}/actions/{item_id}/edit", EDITORS, None),
    ("POST", "/projects/{key}/actions/{item_id}/edit", EDITORS, {"description": "x", "version": "1"}),
    ("POST", "/projects/{key}/actions/{item_id}/done", EDITORS, {"done": "true", "version": "1"}),
    ("GET", "/projects/{key}/register-settings", MANAGING, None),
    (
        "POST",
        "/projects/{key}/register-settings",
        MANAGING,
        {
            f"{kind}_days_{level}": "9"
            for kind in ("review", "escalate")
            for level in ("critical", "high", "medium", "low")
        },
    ),
    # custom fields of the register: defined by the project's managers (values: as the record, above and below)
    ("GET", "/projects/{key}/custom-fields", MANAGING, None),
    ("POST", "/projects/{key}/custom-fields", MANAGING, {"kind": "issues", "label": "Ticket ref", "type": "text"}),
    ("GET", "/projects/{key}/custom-fields/{custom_field_id}", MANAGING, None),
    (
        "POST",
        "/projects/{key}/custom-fields/{custom_field_id}",
        MANAGING,
        {"label": "Funding", "type": "choice", "choices": "Federal\nState", "version": "1"},
    ),
    ("GET", "/api/v1/projects/{key}/custom-fields", MEMBERS, None),
    ("POST", "/api/v1/projects/{key}/custom-fields", MANAGING, {"kind": "issues", "label": "SLA", "type": "number"}),
    ("PATCH", "/api/v1/projects/{key}/custom-fields/{custom_field_id}", MANAGING, {"version": 2, "help": "Who pays"}),
    # register spreadsheets
    ("GET", "/projects/{key}/risks/export?format=csv&status=active", READERS, None),
    ("GET", "/projects/{key}/issues/export?format=xlsx", READERS, None),
    ("GET", "/projects/{key}/risks/import", EDITORS, None),
    ("POST", "/projects/{key}/risks/import", EDITORS, {"file": ("risks.csv", RISK_SHEET)}),
    ("GET", "/projects/{key}/risks/import/{risk_sheet}", EDITORS, None),
    ("GET", "/projects/{key}/risks/import/{risk_sheet}/preview?" + urlencode(RISK_COLUMNS), EDITORS, None),
    ("POST", "/projects/{key}/risks/import/{risk_sheet}", EDITORS, RISK_COLUMNS | {"seen": "{{}}"}),
    ("GET", "/projects/{key}/issues/import", EDITORS, None),
    ("POST", "/projects/{key}/issues/import", EDITORS, {"file": ("issues.csv", ISSUE_SHEET)}),
    ("GET", "/projects/{key}/issues/import/{issue_sheet}", EDITORS, None),
    ("GET", "/projects/{key}/issues/import/{issue_sheet}/preview?" + urlencode(ISSUE_COLUMNS), EDITORS, None),
    ("POST", "/projects/{key}/issues/import/{issue_sheet}", EDITORS, ISSUE_COLUMNS | {"seen": "{{}}"}),
    ("GET", "/projects/{key}/changes", CHANGE_READERS, None),
    ("GET", "/projects/{key}/changes/new", RAISERS, None),
    ("POST", "/projects/{key}/changes", RAISERS, {"title": "x"}),
    ("GET", "/projects/{key}/changes/{change_id}", CHANGE_READERS, None),
    ("GET", "/projects/{key}/changes/{change_id}/edit", EDITORS, None),
    ("POST", "/projects/{key}/changes/{change_id}/edit", EDITORS, {"title": "x", "version": "2"}),
    ("POST", "/projects/{key}/changes/{change_id}/quick", set(), {"version": "2"}, 404),  # edited on its page only
    ("GET", "/projects/{key}/changes/{change_id}/row", CHANGE_READERS, None),
    ("GET", "/projects/{key}/changes/{change_id}/row-edit", set(), None, 404),
    ("POST", "/projects/{key}/changes/bulk", set(), {"pick": "{change_id}:1", "status": "x"}, 404),  # not from its list
    ("POST", "/projects/{key}/lessons/bulk", set(), {"pick": "{lesson_id}:1", "status": "x"}, 404),  # nor a lesson
    ("POST", "/projects/{key}/changes/{change_id}/move/{step}", EDITORS, {"version": "2"}),
    # lessons learned: the register's readers read them, its editors record them; edited on their own page only
    ("GET", "/projects/{key}/lessons", READERS, None),
    ("GET", "/projects/{key}/lessons/new", EDITORS, None),
    ("POST", "/projects/{key}/lessons", EDITORS, LESSON),
    ("GET", "/projects/{key}/lessons/{lesson_id}", READERS, None),
    ("GET", "/projects/{key}/lessons/{lesson_id}/edit", EDITORS, None),
    ("POST", "/projects/{key}/lessons/{lesson_id}/edit", EDITORS, LESSON | {"version": "1"}),
    ("GET", "/projects/{key}/lessons/{lesson_id}/row", READERS, None),
    ("GET", "/projects/{key}/lessons/{lesson_id}/row-edit", set(), None, 404),
    ("POST", "/projects/{key}/lessons/{lesson_id}/quick", set(), {"version": "1"}, 404),
    ("GET", "/projects/{key}/lessons/export?format=csv&category=testing", READERS, None),
    ("GET", "/projects/{key}/lessons/import", EDITORS, None),
    ("POST", "/projects/{key}/lessons/import", EDITORS, {"file": ("lessons.csv", LESSON_SHEET)}),
    ("GET", "/projects/{key}/lessons/import/{lesson_sheet}", EDITORS, None),
    ("GET", "/projects/{key}/lessons/import/{lesson_sheet}/preview?" + urlencode(LESSON_COLUMNS), EDITORS, None),
    ("POST", "/projects/{key}/lessons/import/{lesson_sheet}", EDITORS, LESSON_COLUMNS | {"seen": "{{}}"}),
    # meetings: the register's readers read the minutes (and their PDF), its editors record them, add their action
    # items, mail them and start the weekly one from the draft report; edited on their own page only
    ("GET", "/projects/{key}/meetings", READERS, None),
    ("GET", "/projects/{key}/meetings?meeting_type=steering&sort=-held", READERS, None),
    ("GET", "/projects/{key}/meetings/new", EDITORS, None),
    ("POST", "/projects/{key}/meetings", EDITORS, MEETING),
    ("GET", "/projects/{key}/meetings/{meeting_id}", READERS, None),
    ("GET", "/projects/{key}/meetings/{meeting_id}/minutes.pdf", READERS, None),
    ("GET", "/projects/{key}/meetings/{meeting_id}/edit", EDITORS, None),
    ("POST", "/projects/{key}/meetings/{meeting_id}/edit", EDITORS, MEETING | {"version": "1"}),
    ("POST", "/projects/{key}/meetings/{meeting_id}/actions", EDITORS, {"description": "Book the room"}),
    ("POST", "/projects/{key}/meetings/{meeting_id}/mail", EDITORS, {}),
    ("POST", "/projects/{key}/meetings/{meeting_id}/decisions", EDITORS, {"title": "Go ahead"}),
    ("POST", "/projects/{key}/meetings/from-report", EDITORS, {}),
    ("GET", "/projects/{key}/meetings/{meeting_id}/row", READERS, None),
    ("GET", "/projects/{key}/meetings/{meeting_id}/row-edit", set(), None, 404),
    ("POST", "/projects/{key}/meetings/{meeting_id}/quick", set(), {"version": "1"}, 404),
    ("POST", "/projects/{key}/meetings/bulk", set(), {"pick": "{meeting_id}:1", "title": "x"}, 404),
    ("GET", "/projects/{key}/meetings/export?format=csv&meeting_type=steering", READERS, None),
    ("GET", "/projects/{key}/meetings/import", EDITORS, None),
    ("POST", "/projects/{key}/meetings/import", EDITORS, {"file": ("meetings.csv", MEETING_SHEET)}),
    ("GET", "/projects/{key}/meetings/import/{meeting_sheet}", EDITORS, None),
    ("GET", "/projects/{key}/meetings/import/{meeting_sheet}/preview?" + urlencode(MEETING_COLUMNS), EDITORS, None),
    ("POST", "/projects/{key}/meetings/import/{meeting_sheet}", EDITORS, MEETING_COLUMNS | {"seen": "{{}}"}),
    # the decision log: the register's readers read it, its editors record; edited on its own page only
    ("GET", "/projects/{key}/decisions", READERS, None),
    ("GET", "/projects/{key}/decisions?q=x&since=2026-01-01&until=2026-12-31", READERS, None),
    ("GET", "/projects/{key}/decisions/new", EDITORS, None),
    ("POST", "/projects/{key}/decisions", EDITORS, DECISION),
    ("GET", "/projects/{key}/decisions/{logged_decision_id}", READERS, None),
    ("GET", "/projects/{key}/decisions/{logged_decision_id}/edit", EDITORS, None),
    ("POST", "/projects/{key}/decisions/{logged_decision_id}/edit", EDITORS, DECISION | {"version": "1"}),
    ("GET", "/projects/{key}/decisions/{logged_decision_id}/row", READERS, None),
    ("GET", "/projects/{key}/decisions/{logged_decision_id}/row-edit", set(), None, 404),
    ("POST", "/projects/{key}/decisions/{logged_decision_id}/quick", set(), {"version": "1"}, 404),
    ("POST", "/projects/{key}/decisions/bulk", set(), {"pick": "{logged_decision_id}:1"}, 404),
    ("GET", "/projects/{key}/decisions/export?format=csv", READERS, None),
    ("GET", "/projects/{key}/decisions/import", EDITORS, None),
    ("POST", "/projects/{key}/decisions/import", EDITORS, {"file": ("decisions.csv", DECISION_SHEET)}),
    ("GET", "/projects/{key}/decisions/import/{decision_sheet}", EDITORS, None),
    ("GET", "/projects/{key}/decisions/import/{decision_sheet}/preview?" + urlencode(DECISION_COLUMNS), EDITORS, None),
    ("POST", "/projects/{key}/decisions/import/{decision_sheet}", EDITORS, DECISION_COLUMNS | {"seen": "{{}}"}),
    # the merged decision log: every member, each seeing the sources they may read (a contractor: deliverables and
    # change requests)
    ("GET", "/projects/{key}/decision-log", MEMBERS, None),
    ("GET", "/projects/{key}/decision-log?source=change&since=2026-01-01&q=x", MEMBERS, None),
    ("GET", "/lessons", ALL, None),  # every project's lessons each reader may read: a contractor's list is empty
    ("GET", "/lessons?q=x&category=testing&project={key}", ALL, None),
    ("GET", "/projects/{key}/changes/export?format=csv", CHANGE_READERS, None),
    ("GET", "/projects/{key}/changes/import", EDITORS, None),
    ("POST", "/projects/{key}/changes/import", EDITORS, {"file": ("changes.csv", CHANGE_SHEET)}),
    ("GET", "/projects/{key}/changes/import/{change_sheet}", EDITORS, None),
    ("GET", "/projects/{key}/changes/import/{change_sheet}/preview?" + urlencode(CHANGE_COLUMNS), EDITORS, None),
    ("POST", "/projects/{key}/changes/import/{change_sheet}", EDITORS, CHANGE_COLUMNS | {"seen": "{{}}"}),
    # status reports: viewers read what is published, managers and staff see drafts, managers write and publish them
    ("GET", STATUS_PAGE, READERS, None),
    ("GET", STATUS_PAGE + "/draft?period_end={draft_end}", EDITORS, None),
    (
        "POST",
        STATUS_PAGE + "/draft",
        MANAGER,
        {"period_end": "{week2_end}", "number": "1", "version": "", "summary": "x"},
    ),
    ("POST", STATUS_PAGE + "/publish", MANAGER, {"period_end": "{week3_end}", "number": "1", "version": ""}),
    ("GET", STATUS_PAGE + "/{status_report_id}", READERS, None),
    ("GET", STATUS_PAGE + "/{draft_id}", set(), None, {"contractor": 403, "*": 404}),  # a draft is not published
    ("GET", STATUS_PAGE + "/{status_report_id}/report.pdf", READERS, None),
    ("GET", STATUS_PAGE + "/{status_report_id}/report.docx", READERS, None),
    ("GET", STATUS_PAGE + "/{status_report_id}/report.xlsx", READERS, None),
    ("GET", STATUS_PAGE + "/{status_report_id}/tables/{table}", READERS, None),
    ("GET", "/projects/{key}/scorecard", READERS, None),
    ("GET", "/portfolio", ALL, None),  # each reader's own projects: a contractor's list is empty
    ("GET", "/portfolio/timeline", ALL, None),  # a band per project each reader sees deliverables of
    ("GET", "/portfolio.pdf", ALL, None),
    ("GET", "/portfolio.xlsx", ALL, None),
    ("GET", "/projects/{key}/trends", READERS, None),
    ("GET", "/search?q=data", ALL, None),  # each reader finds only what their own projects and roles show them
    ("GET", "/projects/{key}/report-targets", MANAGING, None),
    ("POST", "/projects/{key}/report-targets", MANAGING, {"critical_risks_red": "2"}),
    ("POST", "/projects/{key}/report-targets/credits", MANAGING, CREDITS),
    ("GET", "/projects/{key}/scorecard/scorecard.xlsx", READERS, None),
    # service levels the contractor reports: it enters them, the State's readers read them, its managers verify
    ("GET", LEVELS_PAGE, LEVEL_READERS, None),
    ("POST", LEVELS_PAGE, CONTRACTOR, {"measure_id": "{measure_id}", "month": "{figure_month1}", "value": "99"}),
    ("POST", LEVELS_PAGE + "/import", CONTRACTOR, {"file": ("levels.csv", LEVELS_SHEET)}),
    ("POST", LEVELS_PAGE + "/measures", MANAGING, {"name": "P1 response", "target": "4"}),
    ("GET", LEVELS_PAGE + "/measures/{measure_id}", MANAGING, None),
    ("POST", LEVELS_PAGE + "/measures/{measure_id}", MANAGING, MEASURE | {"target": "99.9", "version": "1"}),
    ("POST", LEVELS_PAGE + "/measures/{removable_measure_id}/delete", MANAGING, {"version": "1"}),
    ("GET", LEVELS_PAGE + "/{figure_id}", LEVEL_READERS, None),
    ("POST", LEVELS_PAGE + "/{figure_id}", CONTRACTOR, {"value": "99.8", "version": "1"}),
    ("POST", LEVELS_PAGE + "/{figure_id}/verdict", MANAGER, {"verdict": "verify", "version": "1"}),
    ("GET", LEVELS_API, LEVEL_READERS, None),
    ("POST", LEVELS_API + "/measures", MANAGING, {"name": "P2 response", "target": 8, "higher_is_better": False}),
    ("PATCH", LEVELS_API + "/measures/{measure_id}", MANAGING, {"target": 99.8, "version": 2}),
    ("DELETE", LEVELS_API + "/measures/{api_removable_measure_id}?version=1", MANAGING, None),
    (
        "POST",
        LEVELS_API + "/figures",
        CONTRACTOR,
        {"measure_id": "{measure_id}", "month": "{figure_month2}", "value": 98},
    ),
    ("PATCH", LEVELS_API + "/figures/{figure_id}", CONTRACTOR, {"value": 99.6, "version": 2}),
    ("POST", LEVELS_API + "/figures/{figure_id}/verdict", MANAGER, {"verdict": "dispute", "reason": "x", "version": 2}),
    # saved reports: {report_id} is staff's shared risk report, {deliverables_report_id} the manager's shared
    # deliverable report (contractors too see it), {private_report_id} staff's private one
    ("GET", REPORT_PAGE, MEMBERS, None),
    ("GET", REPORT_PAGE + "/new", EDITORS, None),
    ("POST", REPORT_PAGE, EDITORS, BUILDER),
    ("POST", REPORT_PAGE + "/preview", EDITORS, BUILDER),
    ("GET", REPORT_PAGE + "/{report_id}", READERS, None),
    ("GET", REPORT_PAGE + "/{deliverables_report_id}", MEMBERS, None),
    ("GET", REPORT_PAGE + "/{private_report_id}", {"staff"}, None, 404),
    ("GET", REPORT_PAGE + "/{report_id}/export.csv", READERS, None),
    ("GET", REPORT_PAGE + "/{deliverables_report_id}/export.csv", MEMBERS, None),
    ("GET", REPORT_PAGE + "/{private_report_id}/export.csv", {"staff"}, None, 404),
    ("GET", REPORT_PAGE + "/{report_id}/export.xlsx", READERS, None),
    ("GET", REPORT_PAGE + "/{report_id}/edit", EDITORS, None),
    ("GET", REPORT_PAGE + "/{deliverables_report_id}/edit", MANAGER, None),
    ("GET", REPORT_PAGE + "/{private_report_id}/edit", {"staff"}, None, 404),
    ("POST", REPORT_PAGE + "/{report_id}/edit", EDITORS, BUILDER | {"shared": "true", "version": "1"}),
    (
        "POST",
        REPORT_PAGE + "/{deliverables_report_id}/edit",
        MANAGER,
        BUILDER | {"source": "deliverables", "previous_source": "deliverables", "shared": "true", "version": "1"},
    ),
    ("POST", REPORT_PAGE + "/{private_report_id}/edit", {"staff"}, BUILDER | {"version": "1"}, 404),
    ("POST", REPORT_PAGE + "/{report_id}/duplicate", EDITORS, {}),
    ("POST", REPORT_PAGE + "/{deliverables_report_id}/duplicate", EDITORS, {}),
    ("POST", REPORT_PAGE + "/{private_report_id}/duplicate", {"staff"}, {}, 404),
    ("POST", REPORT_PAGE + "/{removable_report_id}/delete", EDITORS, {"version": "1"}),
    # API: projects
    ("GET", "/api/v1/me", ALL, None),
    ("GET", "/api/v1/my-work", ALL, None),
    ("GET", "/api/v1/projects", ALL, None),
    ("POST", "/api/v1/projects", ADMIN, {"key": "NEW", "name": "New"}),
    ("GET", "/api/v1/projects/{key}", MEMBERS, None),
    ("PATCH", "/api/v1/projects/{key}", MANAGING, {"version": 1, "name": "Renamed"}),
    ("GET", "/api/v1/projects/{key}/members", MEMBERS, None),
    ("POST", "/api/v1/projects/{key}/members", MANAGING, {"user_id": "{outsider}", "role": "viewer"}),
    ("PATCH", "/api/v1/projects/{key}/members/{membership_id}", MANAGING, {"role": "staff", "version": 1}),
    ("DELETE", "/api/v1/projects/{key}/members/{membership_id}?version=2", MANAGING, None),
    ("GET", "/api/v1/projects/{key}/invitations", MANAGING, None),
    (
        "POST",
        "/api/v1/projects/{key}/invitations",
        MANAGING,
        {"email": "api@example.gov", "full_name": "A", "role": "staff"},
    ),
    ("POST", "/api/v1/projects/{key}/invitations/{api_invitation_id}/resend", MANAGING, {"version": 1}),
    ("POST", "/api/v1/projects/{key}/invitations/{api_invitation_id}/revoke", MANAGING, {"version": 2}),
    ("GET", "/api/v1/projects/{key}/audit", READERS, None),
    # API: deliverables
    ("GET", "/api/v1/projects/{key}/deliverables", MEMBERS, None),
    ("GET", "/api/v1/projects/{key}/deliverables/decisions", MEMBERS, None),
    ("GET", "/api/v1/projects/{key}/deliverables/holdback", MEMBERS, None),
    ("GET", "/api/v1/holdback", ALL, None),  # each reader's own projects
    ("POST", "/api/v1/projects/{key}/deliverables", MANAGER, {"code": "D-09", "title": "Another", "criteria": ["One"]}),
    ("GET", "/api/v1/deliverables/{deliverable_id}", MEMBERS, None),
    ("PATCH", "/api/v1/deliverables/{deliverable_id}", MANAGER, {"title": "Renamed", "version": 1}),
    ("GET", "/api/v1/deliverables/{deliverable_id}/submissions", MEMBERS, None),
    ("POST", "/api/v1/deliverables/{deliverable_id}/submissions", SUBMITTERS, PDF),
    ("GET", "/api/v1/deliverables/{deliverable_id}/files/{file_id}", MEMBERS, None),
    ("POST", "/api/v1/deliverables/{deliverable_id}/transition", MANAGER, {"action": "withdraw", "reason": "x"}),
    ("GET", "/api/v1/deliverables/{deliverable_id}/criteria", MEMBERS, None),
    ("GET", "/api/v1/deliverables/{deliverable_id}/reviewers", MEMBERS, None),
    ("POST", "/api/v1/deliverables/{deliverable_id}/reviewers", EDITORS, {"reviewer_id": "{manager}"}),
    # the row above added the reviewer this row removes
    ("DELETE", "/api/v1/deliverables/{deliverable_id}/reviewers/{manager}?version=1", EDITORS, None),
    ("POST", "/api/v1/deliverables/{planned_id}/criteria/agree", MANAGER, {}),
    ("POST", "/api/v1/deliverables/{planned_id}/criteria/acknowledge", CONTRACTOR, {}),
    ("GET", "/api/v1/deliverables/{conditional_id}/conditions", MEMBERS, None),
    (
        "PATCH",
        "/api/v1/deliverables/{conditional_id}/conditions/{condition_id}",
        MANAGER,
        {"due_date": "{condition_due}", "version": 1},
    ),
    ("POST", "/api/v1/deliverables/{conditional_id}/conditions/{condition_id}/met", MANAGER, {"evidence": "x"}),
    ("GET", "/api/v1/deliverables/{deliverable_id}/comments", MEMBERS, None),
    ("POST", "/api/v1/deliverables/{deliverable_id}/comments", EDITORS, {"text": "x", "severity": "minor"}),
    (
        "POST",
        "/api/v1/deliverables/{deliverable_id}/comments/{comment_id}",
        EDITORS,
        {"disposition": "resolved", "version": 1},
    ),
    (
        "POST",
        "/api/v1/deliverables/{deliverable_id}/criteria-results",
        EDITORS,
        [{"criterion_id": "{criterion_id}", "outcome": "met"}],
    ),
    ("POST", "/api/v1/deliverables/{deliverable_id}/decision", MANAGER, {"outcome": "rejected", "findings": "x"}),
    ("GET", "/api/v1/deliverables/{rejected_id}/records", MEMBERS, None),
    ("GET", "/api/v1/deliverables/{rejected_id}/records/{record_id}", MEMBERS, None),
    # API: register
    ("GET", "/api/v1/projects/{key}/risks", READERS, None),
    ("POST", "/api/v1/projects/{key}/risks", EDITORS, {"title": "x", "probability": 1, "impact": 1}),
    (
        "POST",
        "/api/v1/projects/{key}/risks/bulk",
        EDITORS,
        {"records": [{"id": "{risk_id}", "version": 1}], "changes": {"status": "monitoring"}},
    ),
    ("GET", "/api/v1/projects/{key}/risks/heatmap", READERS, None),
    ("GET", "/api/v1/projects/{key}/register-settings", READERS, None),
    (
        "PUT",
        "/api/v1/projects/{key}/register-settings",
        MANAGING,
        {
            f"{kind}_days_{level}": 9
            for kind in ("review", "escalate")
            for level in ("critical", "high", "medium", "low")
        },
    ),
    ("GET", "/api/v1/risks/{risk_id}", READERS, None),
    ("PATCH", "/api/v1/risks/{risk_id}", EDITORS, {"impact": 1, "version": 1}),
    ("GET", "/api/v1/risks/{risk_id}/history", READERS, None),
    ("POST", "/api/v1/risks/{risk_id}/review", EDITORS, {"version": 1}),
    ("GET", "/api/v1/risks/{risk_id}/actions", READERS, None),
    ("POST", "/api/v1/risks/{risk_id}/actions", EDITORS, {"description": "x", "plan": "mitigation"}),
    ("POST", "/api/v1/risks/{risk_id}/convert", EDITORS, {"version": 1}),
    ("GET", "/api/v1/projects/{key}/issues", READERS, None),
    ("POST", "/api/v1/projects/{key}/issues", EDITORS, {"title": "x"}),
    (
        "POST",
        "/api/v1/projects/{key}/issues/bulk",
        EDITORS,
        {"records": [{"id": "{issue_id}", "version": 1}], "changes": {"priority": "low"}},
    ),
    ("GET", "/api/v1/issues/{issue_id}", READERS, None),
    ("PATCH", "/api/v1/issues/{issue_id}", EDITORS, {"title": "x", "version": 1}),
    ("GET", "/api/v1/issues/{issue_id}/decisions", READERS, None),
    ("POST", "/api/v1/issues/{issue_id}/decisions", EDITORS, {"decision": "x", "decided_by": "y"}),
    ("GET", "/api/v1/issues/{issue_id}/actions", READERS, None),
    ("POST", "/api/v1/issues/{issue_id}/actions", EDITORS, {"description": "x"}),
    ("GET", "/api/v1/projects/{key}/changes", CHANGE_READERS, None),
    ("POST", "/api/v1/projects/{key}/changes", RAISERS, {"title": "x"}),
    ("GET", "/api/v1/changes/{change_id}", CHANGE_READERS, None),
    ("PATCH", "/api/v1/changes/{change_id}", EDITORS, {"title": "x", "version": 2}),
    ("POST", "/api/v1/changes/{change_id}/{step}", EDITORS, {"version": 2}),
    ("GET", "/api/v1/projects/{key}/decisions", READERS, None),
    ("POST", "/api/v1/projects/{key}/decisions", EDITORS, {"title": "x", "decided_by": "y"}),
    ("GET", "/api/v1/decisions/{logged_decision_id}", READERS, None),
    ("PATCH", "/api/v1/decisions/{logged_decision_id}", EDITORS, {"title": "x", "version": 2}),
    ("GET", "/api/v1/projects/{key}/decisions/export", READERS, None),
    (
        "POST",
        "/api/v1/projects/{key}/decisions/import",
        EDITORS,
        {"file": ("d.csv", DECISION_SHEET), "dry_run": "true"},
    ),
    ("GET", "/api/v1/projects/{key}/decision-log", MEMBERS, None),
    ("GET", "/api/v1/projects/{key}/lessons", READERS, None),
    ("POST", "/api/v1/projects/{key}/lessons", EDITORS, {"title": "x", "recommendation": "y"}),
    ("GET", "/api/v1/lessons/{lesson_id}", READERS, None),
    ("PATCH", "/api/v1/lessons/{lesson_id}", EDITORS, {"title": "x", "version": 2}),
    ("GET", "/api/v1/projects/{key}/lessons/export", READERS, None),
    ("POST", "/api/v1/projects/{key}/lessons/import", EDITORS, {"file": ("l.csv", LESSON_SHEET), "dry_run": "true"}),
    ("GET", "/api/v1/projects/{key}/meetings", READERS, None),
    ("POST", "/api/v1/projects/{key}/meetings", EDITORS, {"title": "x"}),
    ("GET", "/api/v1/meetings/{meeting_id}", READERS, None),
    ("PATCH", "/api/v1/meetings/{meeting_id}", EDITORS, {"title": "x", "version": 2}),
    ("GET", "/api/v1/meetings/{meeting_id}/actions", READERS, None),
    ("POST", "/api/v1/meetings/{meeting_id}/actions", EDITORS, {"description": "x"}),
    ("GET", "/api/v1/projects/{key}/meetings/export", READERS, None),
    ("POST", "/api/v1/projects/{key}/meetings/import", EDITORS, {"file": ("m.csv", MEETING_SHEET), "dry_run": "true"}),
    ("GET", "/api/v1/projects/{key}/changes/export", CHANGE_READERS, None),
    ("POST", "/api/v1/projects/{key}/changes/import", EDITORS, {"file": ("c.csv", CHANGE_SHEET), "dry_run": "true"}),
    ("GET", "/api/v1/action-items/{item_id}", READERS, None),
    ("PATCH", "/api/v1/action-items/{item_id}", EDITORS, {"done": True, "version": 1}),
    ("GET", "/api/v1/projects/{key}/risks/export?format=xlsx", READERS, None),
    ("GET", "/api/v1/projects/{key}/issues/export?priority=high", READERS, None),
    ("POST", "/api/v1/projects/{key}/risks/import", EDITORS, {"file": ("r.csv", RISK_SHEET.replace(b"90", b"91"))}),
    ("POST", "/api/v1/projects/{key}/issues/import", EDITORS, {"file": ("i.csv", ISSUE_SHEET), "dry_run": "true"}),
    # API: status reports
    ("GET", "/api/v1/projects/{key}/status-reports", READERS, None),
    ("GET", "/api/v1/projects/{key}/status-reports/draft?period_end={draft_end}", EDITORS, None),
    (
        "PUT",
        "/api/v1/projects/{key}/status-reports/draft",
        MANAGER,
        {"period_end": "{week4_end}", "number": 1, "summary": "x"},
    ),
    ("POST", "/api/v1/projects/{key}/status-reports", MANAGER, {"period_end": "{week5_end}", "number": 1}),
    ("GET", "/api/v1/status-reports/{status_report_id}", READERS, None),
    ("GET", "/api/v1/status-reports/{draft_id}", set(), None, {"contractor": 403, "*": 404}),
    ("POST", "/api/v1/status-reports/{draft_id}/publish", MANAGER, {"version": 1}),
    ("GET", "/api/v1/projects/{key}/scorecard", READERS, None),
    ("GET", "/api/v1/projects/{key}/report-targets", READERS, None),
    ("PUT", "/api/v1/projects/{key}/report-targets", MANAGING, {"critical_risks_red": 3, "review_turnaround_rate": 90}),
    ("GET", "/api/v1/portfolio", ALL, None),
    ("GET", "/api/v1/search?q=data", ALL, None),
    # API: saved reports (the project is in the body or the report's)
    ("GET", "/account/notifications", ALL, None),
    (
        "POST",
        "/account/notifications",
        ALL,
        {"kind_submitted": "digest", "digest_hour": "7", "version": "1"},
    ),
    ("GET", "/projects/{key}/notifications", MANAGER, None),
    ("POST", "/projects/{key}/notifications", MANAGER, {"kind_submitted": "digest"}),
    ("POST", "/projects/{key}/notifications/recipients", MANAGER, {"address": "sponsor@agency.gov"}),
    ("POST", "/projects/{key}/notifications/recipients/{report_recipient_id}/remove", MANAGER, {"version": "1"}),
    ("GET", "/watching?record=risks-{risk_id}", READERS, None, 404),  # a record one may not read is not there
    ("POST", "/watching", READERS, {"record": "risks-{risk_id}", "watch": "on"}, 404),
    ("GET", REPORT_PAGE + "/{report_id}/schedule", READERS, None),
    ("POST", REPORT_PAGE + "/{report_id}/schedule", EDITORS, {"every": "weekly", "recipient_ids": "{staff}"}),
    ("GET", "/admin/mail", ADMIN, None),
    ("GET", "/admin/organisation", ADMIN, None),
    ("POST", "/admin/organisation", ADMIN, {"name": "Agency", "logo": ("logo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)}),
    ("GET", "/admin/mail/{mail_id}", ADMIN, None),
    ("GET", "/api/v1/saved-reports", ALL, None),
    ("GET", "/api/v1/saved-reports?project={key}", MEMBERS, None),
    ("GET", "/api/v1/saved-reports/catalog", ALL, None),
    ("POST", "/api/v1/saved-reports", EDITORS, {"project": "{key}", "name": "x", "definition": RISKS_QUERY}),
    ("POST", "/api/v1/saved-reports/preview", EDITORS, {"project": "{key}", "definition": RISKS_QUERY}),
    ("GET", "/api/v1/saved-reports/{report_id}", READERS, None),
    ("GET", "/api/v1/saved-reports/{deliverables_report_id}", MEMBERS, None),
    ("GET", "/api/v1/saved-reports/{private_report_id}", {"staff"}, None, 404),
    ("GET", "/api/v1/saved-reports/{report_id}/run", READERS, None),
    ("GET", "/api/v1/saved-reports/{deliverables_report_id}/run", MEMBERS, None),
    ("GET", "/api/v1/saved-reports/{private_report_id}/run", {"staff"}, None, 404),
    ("PATCH", "/api/v1/saved-reports/{report_id}", EDITORS, {"name": "x", "version": 1}),
    ("PATCH", "/api/v1/saved-reports/{deliverables_report_id}", MANAGER, {"name": "x", "version": 1}),
    ("PATCH", "/api/v1/saved-reports/{private_report_id}", {"staff"}, {"name": "x", "version": 1}, 404),
    ("POST", "/api/v1/saved-reports/{report_id}/duplicate", EDITORS, None),
    ("POST", "/api/v1/saved-reports/{deliverables_report_id}/duplicate", EDITORS, None),
    ("POST", "/api/v1/saved-reports/{private_report_id}/duplicate", {"staff"}, None, 404),
    ("DELETE", "/api/v1/saved-reports/{report_id}?version=2", EDITORS, None),
    ("DELETE", "/api/v1/saved-reports/{deliverables_report_id}?version=2", MANAGER, None),
    # after the API's rows that use it
    ("POST", REPORT_PAGE + "/{private_report_id}/delete", {"staff"}, {"version": "1"}, 404),
    # webhooks
    ("GET", "/projects/{key}/webhooks", HOOKS, None),
    ("GET", "/projects/{key}/webhooks/new", HOOKS, None),
    ("POST", "/projects/{key}/webhooks", HOOKS, HOOK),
    ("GET", WEBHOOK_PAGE, HOOKS, None),
    ("POST", WEBHOOK_PAGE, HOOKS, HOOK | {"description": "Renamed", "version": "1"}),
    ("POST", WEBHOOK_PAGE + "/deliveries/{webhook_delivery_id}/redeliver", HOOKS, {}),
    ("GET", "/api/v1/projects/{key}/webhooks", HOOKS, None),
    ("POST", "/api/v1/projects/{key}/webhooks", HOOKS, {"url": HOOK["url"], "events": ["risk.created"]}),
    ("GET", "/api/v1/webhooks/{webhook_id}", HOOKS, None),
    ("PATCH", "/api/v1/webhooks/{webhook_id}", HOOKS, {"description": "x", "version": 2}),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries", HOOKS, None),
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{webhook_delivery_id}/redeliver", HOOKS, None),
    ("POST", "/api/v1/webhooks/{webhook_id}/secret?version=3", HOOKS, None),
    ("DELETE", "/api/v1/webhooks/{removable_webhook_id}?version=1", HOOKS, None),
    ("POST", WEBHOOK_PAGE + "/secret", HOOKS, {"version": "4"}),
    ("POST", WEBHOOK_PAGE + "/delete", HOOKS, {"version": "5"}),  # after every other row that uses it
    # archiving stays the admins' (last: the project is archived after it)
    ("PATCH", "/api/v1/projects/{key}?archive", ADMIN, {"version": 1, "archived": True}),
]

# Routes outside the matrix, and why.
# attachments, every register kind alike: read as the record, attached and removed by its editors (on the seeded
# change request, the State's, not by the contractor); rows appended, so each removal comes after the reads
ATTACHMENT = {"file": ("minutes.txt", b"agreed")}
ROUTES += [
    row
    for plural, name, readers in (
        ("risks", "risk", READERS),
        ("issues", "issue", READERS),
        ("changes", "change", CHANGE_READERS),
        ("lessons", "lesson", READERS),
        ("meetings", "meeting", READERS),
        ("decisions", "logged_decision", READERS),
    )
    for page in [f"/projects/{{key}}/{plural}/{{{name}_id}}/attachments"]
    for api in ["/api/v1" + page]
    for row in (
        ("POST", page, EDITORS, ATTACHMENT),
        ("GET", page + f"/{{{name}_attachment_id}}", readers, None),
        ("POST", page + f"/{{{name}_removable_attachment_id}}/remove", EDITORS, {}),
        ("GET", api, readers, None),
        ("POST", api, EDITORS, ATTACHMENT),
        ("GET", api + f"/{{{name}_attachment_id}}", readers, None),
        ("DELETE", api + f"/{{{name}_api_removable_attachment_id}}", EDITORS, None),
    )
]

EXCLUDED = {
    ("GET", "/healthz"): "public liveness probe",
    ("GET", "/static/{}"): "public assets",
    ("GET", "/vendor/{}"): "public assets",
    ("GET", "/login"): "the sign-in page (tests/test_auth.py)",
    ("POST", "/login"): "signing in (tests/test_auth.py)",
    ("POST", "/logout"): "signing out (tests/test_auth.py)",
    ("GET", "/login/code"): "the second step of signing in, after the password (tests/test_mfa.py)",
    ("POST", "/login/code"): "the second step of signing in, after the password (tests/test_mfa.py)",
    ("GET", "/login/enrol"): "setting up a required second factor, after the password (tests/test_mfa.py)",
    ("POST", "/login/enrol"): "setting up a required second factor, after the password (tests/test_mfa.py)",
    ("GET", "/login/oidc/{}"): "starting single sign-on, before anyone is signed in (tests/oidc/test_sign_in.py)",
    (
        "GET",
        "/login/oidc/{}/callback",
    ): "the provider's answer, before anyone is signed in (tests/oidc/test_sign_in.py)",
    ("GET", "/schema"): "public API documentation",
    ("GET", "/schema/swagger"): "public API documentation",
    ("GET", "/schema/{}"): "public API documentation",
    ("GET", "/schema/openapi.json"): "public API documentation",
    ("GET", "/schema/oauth2-redirect.html"): "public API documentation",
    ("GET", "/mail/unsubscribe/{}"): "the signed link in every message is the credential (tests/test_mail.py)",
    ("POST", "/mail/unsubscribe/{}"): "one-click unsubscribe from a mail client, signed link (tests/test_mail.py)",
    ("GET", "/calendars/{}"): "public: the feed's secret token is its credential (tests/calendars/test_feeds.py)",
    ("GET", "/invitations/{}"): "public: the invitation's link is its credential (tests/test_invitations.py)",
    ("POST", "/invitations/{}"): "public: the invitation's link is its credential (tests/test_invitations.py)",
}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])


def app_routes(app) -> set[tuple[str, str]]:
    return {
        (method, _shape(route.path))
        for route in app.routes
        for method in getattr(route, "methods", ())
        if method not in ("HEAD", "OPTIONS")
    }


def test_every_route_is_in_the_matrix_or_excluded_with_a_reason(app):
    rows = [(method, path) for method, path, *_ in ROUTES]
    assert len(rows) == len(set(rows)), "a row is in the table twice"
    table = {(method, _shape(path)) for method, path in rows}
    missing = app_routes(app) - table - set(EXCLUDED)
    assert not missing, f"add these routes to ROUTES in {__file__}: {sorted(missing)}"
    stale = (table | set(EXCLUDED)) - app_routes(app)
    assert not stale, f"no longer routes of the app: {sorted(stale)}"


def _fill(value, ids: dict):
    """Placeholders in paths and bodies; a body value that is only a placeholder keeps the id's type."""
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, str) and (whole := re.fullmatch(r"\{(\w+)\}", value)):
        return ids[whole.group(1)]
    return value.format(**ids) if isinstance(value, str) else value


def _call(b, method: str, path: str, body):
    files = {k: v for k, v in body.items() if isinstance(v, tuple)} if isinstance(body, dict) else None
    if files:
        body = {k: str(v) for k, v in body.items() if k not in files}
    if path.startswith("/api/"):
        if files:
            return b.api(method, path, data=body, files=files)
        return b.api(method, path, json=body) if body is not None else b.api(method, path, follow_redirects=False)
    if method == "GET":
        return b.client.get(path, follow_redirects=False)
    return b.post(path, body, files=files or None)


def _fingerprint(db, skip: tuple[str, ...] = ()) -> tuple:
    """Row counts of every table and the sum of every version column: any write moves one of them."""
    parts = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name in skip:
            continue
        parts.append(select(func.count()).select_from(table).scalar_subquery())
        if "version" in table.c:
            parts.append(select(func.coalesce(func.sum(table.c.version), 0)).scalar_subquery())
    return tuple(db.execute(select(*parts)).one())


def _denial(persona: str, path: str, body, override: int | dict[str, int] | None = None) -> int:
    # A non-member gets 404 for anything inside a project (its existence stays hidden), whether the path or the body
    # names it; a member without the right, or anyone on an admin page, gets 403.
    inside_project = "{key}" in path + repr(body) or re.match(
        r"/api/v1/(deliverables|risks|issues|changes|lessons|decisions|meetings|action-items|saved-reports|status-reports|webhooks)/",
        path,
    )
    usual = 404 if persona == "outsider" and inside_project else 403
    if isinstance(override, dict):
        return override.get(persona, override.get("*", usual))
    return override or usual


def _json_error(r) -> bool:
    """The API's error shape: {"status_code", "detail", "extra"}."""
    try:
        body = r.json()
    except ValueError:
        return False
    return body.get("status_code") == r.status_code and bool(body.get("detail"))


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_route_for_every_persona(as_user, seeded, db, persona):
    ids = seeded.ids | {name: seeded.world.ids[name] for name in ("manager", "staff", "outsider")}
    b = as_user(persona)
    wrong = []
    for method, template, allowed, body, *override in ROUTES:
        path, data = _fill(template, ids), _fill(body, ids)
        before = _fingerprint(db) if persona not in allowed else None
        r = _call(b, method, path, data)
        if persona is None:
            expected = "401" if path.startswith("/api/") else "redirect to /login"
            ok = (
                r.status_code == 401
                if path.startswith("/api/")
                else (r.status_code in (302, 303) and r.headers["location"].startswith("/login"))
            )
        elif persona in allowed and method == "GET":
            expected = "200 (or a redirect inside the app)"
            ok = r.status_code == 200 or (r.status_code == 303 and not r.headers["location"].startswith("/login"))
        elif persona in allowed:
            expected = "not refused"
            ok = r.status_code < 500 and r.status_code not in (401, 403, 404)
        else:
            expected = str(_denial(persona, template, body, *override))
            ok = r.status_code == _denial(persona, template, body, *override)
        if persona not in allowed and path.startswith("/api/"):
            ok = ok and _json_error(r)
        if persona not in allowed:
            db.expire_all()
            if _fingerprint(db) != before:
                wrong.append(f"{method} {path}: refused, yet something was written")
        if not ok:
            wrong.append(f"{method} {path}: expected {expected}, got {r.status_code} {r.text[:120]!r}")
    assert not wrong, f"{persona}:\n" + "\n".join(wrong)


def test_ui_offers_project_management_to_its_managers_and_the_rest_to_admins(as_user):
    admin, manager = as_user("admin"), as_user("manager")
    for who in (admin, manager):
        page = who.get("/projects/TST").text + who.get("/projects/TST/members").text
        assert "Edit settings" in page and "Add member" in page and "Invite someone by e-mail" in page
    for role in ("staff", "contractor", "viewer"):
        page = as_user(role).get("/projects/TST").text + as_user(role).get("/projects/TST/members").text
        assert "Edit settings" not in page and "Add member" not in page and "Remove" not in page
        assert "Invite someone" not in page
    assert "Archived" in admin.get("/projects/TST/edit").text
    assert "Archived" not in manager.get("/projects/TST/edit").text
    assert "New project" not in manager.get("/projects").text
    assert 'href="/admin/users"' not in manager.get("/").text


def test_bad_register_settings_are_shown_beside_the_field(as_user):
    values = {
        f"{kind}_days_{level}": "9"
        for kind in ("review", "escalate")
        for level in ("critical", "high", "medium", "low")
    }
    r = as_user("admin").post("/projects/TST/register-settings", values | {"review_days_low": "0"})
    assert r.status_code == 422 and 'id="f-review_days_low-error"' in r.text and 'value="9"' in r.text
