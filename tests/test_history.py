"""The audit trail reads as prose on every page that shows it: one event of each kind the app writes, written through
the services, shows people by name, fields by the labels their forms give them and values in display words, with no
ids, dicts, lists or Python reprs; and the names cost one query per page, whatever the number of events."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from types import SimpleNamespace

import pyotp
import pytest
from sqlmodel import select

from tests.conftest import PASSWORD, agree_criteria, make_settings, tst_today
from tests.library.conftest import definition, save
from tests.register.conftest import acting, make_issue, make_risk
from tests.reports.conftest import submit
from tracker.accounts import mfa, signin
from tracker.accounts import service as accounts
from tracker.accounts.models import User
from tracker.audit import history
from tracker.audit import service as audit
from tracker.audit.history import ACTION_WORDS, ENTITY_WORDS
from tracker.audit.models import AuditEvent
from tracker.calendars import service as calendars
from tracker.core.clock import utcnow as clock_now
from tracker.core.db import commit
from tracker.core.files import FileStore, Upload
from tracker.core.forms import parse
from tracker.core.spreadsheet import read_table
from tracker.core.web import make_environment
from tracker.deliverables import conditions, decisions, planning, reviews
from tracker.deliverables import service as deliverables
from tracker.deliverables.models import Condition
from tracker.library import service as library
from tracker.library.sources import parse_definition
from tracker.mail import schedules
from tracker.mail import service as mail
from tracker.mail.models import Mode
from tracker.projects import invitations, organisation
from tracker.projects import service as projects
from tracker.register import common
from tracker.register.actions import service as actions
from tracker.register.attachments import service as attachments
from tracker.register.changes import service as changes
from tracker.register.changes.workflow import Move
from tracker.register.custom import service as custom
from tracker.register.decisions import service as logged_decisions
from tracker.register.issues import service as issues
from tracker.register.kinds import KINDS
from tracker.register.lessons import service as lessons
from tracker.register.meetings import service as meetings
from tracker.register.risks import service as risks
from tracker.reports import credits, levels, targets
from tracker.reports import service as reports
from tracker.sso import protocol as sso_protocol
from tracker.sso import providers as sso_providers
from tracker.sso import service as sso
from tracker.transfer import service as transfer
from tracker.transfer.columns import ISSUES, RISKS
from tracker.webhooks import service as webhooks
from tracker.webhooks.kinds import DISABLE_AFTER

PNG = base64.b64decode(  # one white pixel: a logo the letters render
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
)


@pytest.fixture
def store(tmp_path) -> FileStore:
    return FileStore(tmp_path / "files", 10 * 1024 * 1024)


def _timeline(html: str) -> str:
    found = re.findall(r'<ol class="timeline">.*?</ol>', html, re.S)  # no list inside it is an <ol>
    assert found, "the page shows no history"
    return "".join(found)


def _plain(html: str) -> str:
    """The timeline as its reader sees it: the text, without tags (list items apart), spaces collapsed."""
    text = re.sub(r"<[^>]+>", "", re.sub(r"</?(li|ul|ol)\b[^>]*>", " ", html))
    return re.sub(r"\s+", " ", text).replace("&#39;", "'").replace("&amp;", "&")


def _everything(db, world, store, clock) -> dict[str, int]:
    """One event of every kind, each written by the service that writes it in the app."""
    ids = world.ids
    admin = accounts.principal(db.get(User, ids["admin"]))
    manager, m_access = acting(db, world, "manager")
    staff, s_access = acting(db, world, "staff")
    contractor, c_access = acting(db, world, "contractor")
    today = tst_today()

    # People and the project.
    user = accounts.create_user(
        db,
        admin,
        parse(
            accounts.UserForm,
            {"username": "nnewbie", "full_name": "Nora Newbie", "email": "nora@example.gov", "password": PASSWORD},
        ),
    )
    accounts.update_user(
        db,
        admin,
        user,
        parse(
            accounts.UserForm,
            {
                "username": "nnewbie",
                "full_name": "Nora Newbie",
                "email": "nora@example.gov",
                "organization": "DGS",
                "is_admin": "true",
                "password": "a-new-long-password",
            },
        ),
    )
    accounts.change_password(
        db,
        user,
        accounts.PasswordForm(current_password="a-new-long-password", new_password=PASSWORD, confirm_password=PASSWORD),
    )
    accounts.sign_out_everywhere(db, user)
    token, _ = accounts.create_token(db, accounts.principal(user), "Nightly export")
    accounts.revoke_token(db, accounts.principal(user), token.id)
    # Signing in and out, multi-factor authentication and the sign-in policy.
    browser = SimpleNamespace(
        client=SimpleNamespace(host="192.0.2.1"),
        headers={"user-agent": "Firefox"},
        session={"uid": user.id, "epoch": user.session_epoch},
        clear_session=lambda: None,
    )
    signed_in = signin.record(db, browser, user.username, user, signin.Method.PASSWORD_MFA, signin.Outcome.SIGNED_IN)
    refused = signin.record(db, browser, "nobody", None, signin.Method.PASSWORD, signin.Outcome.UNKNOWN_USER)
    signin.sign_out(browser, db)
    keys = mfa.Keys.from_settings(make_settings("sqlite://"))
    secret = keys.secrets.decrypt(mfa.start(db, user, keys).secret.encode()).decode()
    recovery = mfa.confirm(db, user, pyotp.TOTP(secret).at(clock_now()), keys)
    assert mfa.check(db, user, recovery[0], keys) == mfa.Check.RECOVERY
    mfa.regenerate_codes(db, user, keys)
    mfa.disable(db, admin, user)
    for rule in ("admins", "nobody"):  # and back, so the pages below sign in with a password alone
        sso.save_policy(db, admin, parse(sso.PolicyForm, {"local_passwords": "true", "mfa_required": rule}))
    feed = calendars.reset(db, make_settings("sqlite://"), accounts.principal(user), None, None)
    calendars.reset(db, make_settings("sqlite://"), accounts.principal(user), None, feed.version)
    admin_access = projects.get_for(db, admin, "TST", projects.Perm.MANAGE)
    project = admin_access.project
    # The organisation heading every letter: named with a logo, then renamed with another.
    organisation.save(db, admin, organisation.OrganisationForm(name="Dept of Examples"), PNG, store, "seal.png")
    renamed = organisation.OrganisationForm(name="Department of Examples")
    organisation.save(db, admin, renamed, PNG + b"\0", store, "seal-2027.png")  # the letters render it

    # Single sign-on: a provider set up and changed, a group mapped (and one unmapped), the password policy, and
    # sign-ins that make an account (with its groups applied), link one, match one, and refuse one.
    provider_form = {"key": "agency", "name": "Agency ID", "issuer": "https://login.agency.gov", "client_id": "t"}
    provider = sso_providers.create(
        db, admin, parse(sso_providers.ProviderForm, provider_form | {"client_secret": "s3cret-value"})
    )
    sso_providers.update(
        db,
        admin,
        provider,
        parse(
            sso_providers.ProviderForm,
            provider_form | {"allowed_domains": "agency.gov", "client_secret": "n3w-secret-value", "version": "1"},
        ),
    )
    for group, grant, project_id in (
        ("pmo", "admin", None),
        ("tst", "viewer", project.id),
        ("old", "staff", project.id),
    ):
        form = {"provider_id": provider.id, "group_name": group, "grant": grant, "project_id": project_id}
        mapping = sso.add_mapping(db, admin, parse(sso.MappingForm, form))
    sso.delete_mapping(db, admin, mapping.id)
    spare_form = {"key": "spare", "name": "Spare ID", "issuer": "https://login.spare.gov", "client_id": "t"}
    spare = sso_providers.create(
        db, admin, parse(sso_providers.ProviderForm, spare_form | {"client_secret": "s3cret-one"})
    )
    form = {"provider_id": spare.id, "group_name": "spare-pmo", "grant": "admin", "project_id": None}
    sso.add_mapping(db, admin, parse(sso.MappingForm, form))
    sso_providers.delete(db, admin, spare, 1)  # nobody signs in with it: it goes, and its mapping with it
    sso.save_policy(db, admin, parse(sso.PolicyForm, {"local_passwords": "false", "break_glass_ids": [ids["admin"]]}))
    sso.save_policy(db, admin, parse(sso.PolicyForm, {"local_passwords": "true", "break_glass_ids": [ids["admin"]]}))
    config = sso_providers.Config("agency", "Agency ID", "", "t", "", frozenset({"agency.gov"}), "groups")
    person = {"email_verified": True, "groups": ["pmo", "tst"], "name": "Sam Single"}
    sso.sign_in(db, config, provider, person | {"sub": "s-1", "email": "sam@agency.gov"})
    sam = sso.sign_in(db, config, provider, person | {"sub": "s-1", "email": "sam@agency.gov"})
    by_sso = signin.record(db, browser, sam.username, sam, signin.Method.OIDC, signin.Outcome.SIGNED_IN, "Agency ID")
    sso.sign_in(db, config, provider, {"sub": "s-2", "email": "staff@example.gov", "email_verified": True})
    with pytest.raises(sso_protocol.Refused):
        sso.sign_in(db, config, provider, {"sub": "s-3", "email": "eve@elsewhere.org", "email_verified": True})

    def settings(policy: str) -> projects.ProjectForm:
        return parse(
            projects.ProjectForm,
            {
                "key": "TST",
                "name": project.name,
                "contractor": project.contractor,
                "holiday_calendar": "US",
                "start_date": "2026-01-05",
                "review_days": "12",
                "deemed_policy": policy,
                "deemed_days": "20",
                "extra_holidays": "2026-12-24 Christmas Eve closure\n2026-12-31 New Year's Eve closure",
            },
        )

    projects.update_project(db, admin, admin_access, settings("deemed"))
    membership = projects.add_member(db, admin, admin_access, projects.MemberForm(user_id=user.id, role="viewer"))
    projects.change_role(db, admin, admin_access, membership.id, projects.RoleForm(role="staff"))
    projects.remove_member(db, admin, admin_access, membership.id, membership.version)
    risks.update_settings(
        db,
        admin,
        admin_access,
        parse(
            risks.SettingsForm,
            {
                f: "5" if f == "review_days_critical" else getattr(common.settings_for(db, project.id), f)
                for f in risks.SETTING_FIELDS
            },
        ),
    )
    targets.update(db, admin, admin_access, {"critical_risks_red": "4", "first_pass_acceptance_rate": "75"})
    # Service levels the contractor reports: a measure, a figure disputed, corrected and verified; a credit table.
    uptime = levels.add_measure(
        db, admin, admin_access, parse(levels.MeasureForm, {"name": "Uptime", "unit": "%", "target": "99.5"})
    )
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    figure = levels.report(
        db, contractor, c_access, parse(levels.FigureForm, {"measure_id": uptime.id, "month": month, "value": "99.1"})
    )
    levels.decide(db, manager, m_access, figure, parse(levels.VerdictForm, {"verdict": "dispute", "reason": "Log?"}), 1)
    levels.correct(db, contractor, c_access, figure, parse(levels.CorrectionForm, {"value": "99.6"}), 2)
    levels.decide(db, manager, m_access, figure, parse(levels.VerdictForm, {"verdict": "verify"}), 3)
    rule = {"credit-0-metric": f"reported-{uptime.id}", "credit-0-comparison": "below", "credit-0-threshold": "99.5"}
    credits.update(db, admin, admin_access, rule | {"credit-0-percent": "2"}, credits.choices([uptime]))
    p1 = {"name": "P1 response", "unit": "hours", "target": "4", "higher_is_better": "false"}
    response = levels.add_measure(db, admin, admin_access, parse(levels.MeasureForm, p1))
    levels.edit_measure(db, manager, m_access, response, parse(levels.MeasureForm, p1 | {"target": "6"}), 1)
    levels.remove_measure(db, manager, m_access, response, response.version)
    d5 = planning.create(
        db,
        manager,
        m_access,
        parse(
            planning.DeliverableForm,
            {"code": "D-05", "title": "Interface Specification", "criteria": "Lists every interface"},
        ),
    )
    agree_criteria(db, world, d5)
    submit(db, world, d5, store)  # submitted while the project deems acceptance after its days of silence
    projects.update_project(db, admin, admin_access, settings("never"))  # D-03 below escalates instead

    # A deliverable through rejection, resubmission, conditional acceptance and its conditions.
    d1 = planning.create(
        db,
        manager,
        m_access,
        parse(
            planning.DeliverableForm,
            {
                "code": "D-01",
                "title": "Data Conversion Plan",
                "type": "data_conversion",
                "owner_id": str(ids["staff"]),
                "due_date": (today + timedelta(days=20)).isoformat(),
                "payment_amount": "180000",
                "holdback_pct": "10",
                "criteria": "Maps every legacy field\nNames an owner for each data fix",
            },
        ),
    )
    planning.update(
        db,
        manager,
        m_access,
        d1,
        parse(
            planning.DeliverableForm,
            {
                "code": "D-01",
                "title": "Data Conversion Plan",
                "type": "data_conversion",
                "owner_id": str(ids["manager"]),
                "due_date": (today + timedelta(days=25)).isoformat(),
                "payment_amount": "185000.50",
                "holdback_pct": "10",
                "criteria": "Maps every legacy field\nNames an owner for each data fix\nPlans two mock conversions",
            },
        ),
    )
    agree_criteria(db, world, d1)
    submit(db, world, d1, store)
    reviews.start_review(db, manager, m_access, d1, [ids["staff"], ids["manager"]])
    reviews.remove_reviewer(db, manager, m_access, d1, ids["manager"], 1)
    comment = reviews.add_comment(
        db,
        staff,
        s_access,
        d1,
        reviews.CommentForm(location="p. 4", text="The county extracts are not sized.", severity="major"),
    )
    reviews.respond(db, contractor, c_access, comment.id, "Sized in version 2.")
    reviews.set_disposition(db, staff, s_access, comment.id, "accepted_as_is")
    for c in planning.active_criteria(db, d1.id):
        reviews.record_result(db, staff, s_access, d1, c.id, "not_met" if c.position == 1 else "met")
    decisions.decide(
        db,
        manager,
        m_access,
        d1,
        parse(decisions.DecisionForm, {"outcome": "rejected", "findings": "Criterion 1 is not met."}),
        store=store,
    )
    submit(db, world, d1, store)
    reviews.start_review(db, manager, m_access, d1)
    for c in planning.active_criteria(db, d1.id):
        reviews.record_result(db, staff, s_access, d1, c.id, "met")
    decisions.decide(
        db,
        manager,
        m_access,
        d1,
        parse(
            decisions.DecisionForm,
            {
                "outcome": "conditionally_accepted",
                "conditions": "Fix the typos",
                "conditions_owner_id": str(ids["contractor"]),
                "conditions_due": (today + timedelta(days=10)).isoformat(),
            },
        ),
        store=store,
    )
    condition = db.exec(select(Condition).where(Condition.deliverable_id == d1.id)).one()
    conditions.update(
        db,
        manager,
        m_access,
        d1,
        condition.id,
        conditions.ConditionForm(due_date=today + timedelta(days=14), owner_id=ids["staff"]),
    )
    decisions.conditions_met(db, manager, m_access, d1, "Typos fixed in version 2.1", store=store)

    # Criteria changed after agreement, before and after a submission; a withdrawal.
    d2 = planning.create(
        db,
        manager,
        m_access,
        parse(planning.DeliverableForm, {"code": "D-02", "title": "Training Plan", "criteria": "Covers every county"}),
    )
    agree_criteria(db, world, d2)
    planning.set_criteria(db, manager, m_access, d2, ["Covers every county", "Names the trainers"])
    agree_criteria(db, world, d2)
    submit(db, world, d2, store)
    planning.set_criteria(db, manager, m_access, d2, ["Covers every county and tribe", "Names the trainers"])
    decisions.withdraw(db, manager, m_access, d2, "Moved to Release 3 under CR-118.")

    # The register: a risk with its plan, converted into an issue with its decision log.
    risk = make_risk(
        db,
        world,
        owner_id=str(ids["staff"]),
        residual_probability="2",
        residual_impact="3",
        deliverable_ids=[str(d1.id)],
        next_review_date=(today + timedelta(days=30)).isoformat(),
    )
    risks.update(
        db,
        staff,
        s_access,
        risk,
        parse(
            risks.RiskForm,
            risks.form_values(db, risk)
            | {
                "owner_id": str(ids["manager"]),
                "probability": "4",
                "status": "mitigating",
                "deliverable_ids": [str(d2.id)],
            },
        ),
    )
    risks.mark_reviewed(db, staff, s_access, risk, risk.version)
    item = actions.add(
        db,
        staff,
        s_access,
        risk,
        parse(
            actions.ActionForm,
            {
                "description": "Profile the pilot counties",
                "plan": "mitigation",
                "owner_id": str(ids["staff"]),
                "due_date": (today + timedelta(days=7)).isoformat(),
            },
        ),
    )
    actions.set_done(db, staff, s_access, item, True, item.version)
    letter = Upload("Vendor letter.pdf", "application/pdf", b"%PDF-1.4 letter")
    attached = attachments.attach(db, staff, s_access, KINDS["risks"], risk, letter, store)
    attachments.remove(db, staff, s_access, KINDS["risks"], risk, attached.id)
    issue = issues.convert(db, staff, s_access, risk)
    issues.update(
        db,
        staff,
        s_access,
        issue,
        parse(
            issues.IssueForm,
            issues.form_values(db, issue)
            | {
                "status": "escalated",
                "escalation_level": "executive",
                "escalation_reason": "Needs the CIO",
                "priority": "critical",
                "need_by": (today + timedelta(days=5)).isoformat(),
            },
        ),
    )
    issues.add_decision(
        db,
        staff,
        s_access,
        issue,
        parse(issues.DecisionForm, {"decision": "Fund a data steward", "decided_by": "Steering committee"}),
    )
    step = actions.add(
        db,
        staff,
        s_access,
        issue,
        parse(actions.ActionForm, {"description": "Hire the steward", "owner_id": str(ids["viewer"])}),
    )
    actions.update(
        db,
        staff,
        s_access,
        step,
        parse(
            actions.ActionForm,
            {"description": "Hire the steward", "owner_id": str(ids["staff"]), "version": step.version},
        ),
    )
    make_issue(db, world, owner_id=str(ids["staff"]))
    lesson = lessons.create(
        db,
        staff,
        s_access,
        parse(
            lessons.LessonForm,
            {"title": "UAT before masking", "recommendation": "Mask first", "category": "testing", "phase": "UAT"},
        ),
    )
    lessons.update(
        db,
        staff,
        s_access,
        lesson,
        parse(
            lessons.LessonForm,
            lessons.form_values(db, lesson) | {"category": "contractor_management", "owner_id": str(ids["manager"])},
        ),
    )
    meeting = meetings.create(
        db,
        staff,
        s_access,
        parse(
            meetings.MeetingForm,
            {
                "title": "Steering",
                "meeting_type": "steering",
                "attendee_ids": [str(ids["manager"])],
                "agenda": "Budget",
            },
        ),
    )
    meetings.update(
        db,
        staff,
        s_access,
        meeting,
        parse(meetings.MeetingForm, meetings.form_values(db, meeting) | {"attendee_ids": [str(ids["staff"])]}),
    )
    actions.add(db, staff, s_access, meeting, parse(actions.ActionForm, {"description": "Book the UAT room"}))
    meetings.mail_minutes(db, staff, s_access, meeting)
    logged = logged_decisions.create(
        db,
        staff,
        s_access,
        parse(
            logged_decisions.DecisionForm,
            {"title": "Two go-live waves", "decided_by": "Steering committee", "options": "One wave; two waves"},
        ),
    )
    logged_decisions.update(
        db,
        staff,
        s_access,
        logged,
        parse(
            logged_decisions.DecisionForm,
            logged_decisions.form_values(db, logged)
            | {"decided_by_id": str(ids["manager"]), "risk_id": str(risk.id), "title": "Go live in two waves"},
        ),
    )
    # a custom field, defined and changed by a manager, and a lesson's value of it on the lesson's own trail
    funding = parse(
        custom.FieldForm, {"kind": "lessons", "label": "Funding source", "type": "choice", "choices": ["Federal"]}
    )
    field = custom.define(db, manager, m_access, funding)
    custom.change(
        db,
        manager,
        m_access,
        field,
        parse(custom.FieldForm, funding.model_dump() | {"choices": ["Federal", "State"], "required": True}),
    )
    custom.save(
        db, staff, s_access, KINDS["lessons"], lesson, lessons.form_values(db, lesson), {field.id: "State"}, True
    )
    plan = transfer.build_plan(
        db,
        s_access,
        RISKS,
        read_table("pmo.csv", b"Title,Probability,Impact,Owner\nVendor late,4,4,staff@example.gov\n"),
        {0: "title", 1: "probability", 2: "impact", 3: "owner"},
    )
    transfer.run(db, staff, s_access, plan, filename="pmo.csv")
    plan = transfer.build_plan(
        db,
        s_access,
        ISSUES,
        read_table("issues.csv", b"Title,Priority\nBadge printer down,low\n"),
        {0: "title", 1: "priority"},
    )
    transfer.run(db, staff, s_access, plan, filename="issues.csv")

    # A saved report, changed and deleted; a status report saved and published.
    raw = definition(
        "risks",
        ["code", "title", "owner"],
        [("owner", "equals", ids["staff"]), ("status", "in", ["open", "mitigating"])],
    )
    report = save(db, world, "manager", raw, name="My open risks", shared=True)
    library.update(
        db,
        manager,
        m_access,
        report,
        library.ReportForm(name="Staff open risks", shared=True),
        parse_definition(definition("risks", ["code", "title"], [("level", "in", ["critical"])])),
    )
    library.delete(db, manager, m_access, save(db, world, "manager", raw, name="Scratch"), 1)
    week = reports.period_of(project, reports.PeriodForm())
    draft = reports.save_draft(
        db,
        manager,
        m_access,
        week,
        parse(
            reports.DraftForm,
            {"number": 1, "summary": "Steady", "rag_risks": "amber", "why_risks": "R-001 is being mitigated"},
        ),
    )
    reports.publish(db, manager, m_access, week, 1, draft.version)

    # An outright acceptance.
    d4 = planning.create(
        db,
        manager,
        m_access,
        parse(planning.DeliverableForm, {"code": "D-04", "title": "Hosting Plan", "criteria": "Names the data centre"}),
    )
    agree_criteria(db, world, d4)
    submit(db, world, d4, store)
    reviews.start_review(db, manager, m_access, d4)
    for c in planning.active_criteria(db, d4.id):
        reviews.record_result(db, staff, s_access, d4, c.id, "not_applicable")
    decisions.decide(db, manager, m_access, d4, parse(decisions.DecisionForm, {"outcome": "accepted"}), store=store)

    # A change request, approved: it moves its deliverable and changes its payment.
    d6 = planning.create(
        db,
        manager,
        m_access,
        parse(
            planning.DeliverableForm,
            {
                "code": "D-06",
                "title": "Training Plan",
                "criteria": "Names every audience",
                "due_date": (today + timedelta(days=40)).isoformat(),
                "payment_amount": "20000",
            },
        ),
    )
    change = changes.create(
        db,
        staff,
        s_access,
        parse(
            changes.ChangeForm,
            {"title": "Two more sessions", "cost_impact": "1000", "schedule_impact": "2", "deliverable_ids": [d6.id]},
        ),
    )
    for step, who, access, rationale in (
        (Move.SUBMIT, staff, s_access, ""),
        (Move.START_REVIEW, staff, s_access, ""),
        (Move.APPROVE, manager, m_access, "Worth it"),
    ):
        changes.move(
            db,
            who,
            access,
            change,
            step,
            parse(changes.DecisionForm, {"version": change.version, "rationale": rationale}),
        )

    # Invitations by e-mail: one sent, sent again and revoked; one accepted, making an account and a member.
    keys = make_settings("sqlite://")
    invite = {"email": "dana@agency.gov", "full_name": "Dana Sponsor", "role": "viewer"}
    asked = invitations.invite(db, keys, manager, m_access, parse(invitations.InviteForm, invite)).invitation
    invitations.resend(db, keys, manager, m_access, asked.id, asked.version)
    invitations.revoke(db, manager, m_access, asked.id, asked.version)
    invite = {"email": "erin@contractor.com", "full_name": "Erin", "role": "contractor"}
    asked = invitations.invite(db, keys, manager, m_access, parse(invitations.InviteForm, invite)).invitation
    accepted = {"full_name": "Erin Okafor", "username": "eokafor", "password": PASSWORD, "confirm_password": PASSWORD}
    invitations.accept(db, asked, project, parse(invitations.AcceptForm, accepted))

    # A manager's mail defaults for the project.
    mail.save_project_defaults(db, manager, m_access, {"submitted": Mode.DIGEST})
    weekly = save(db, world, "manager", raw, name="Weekly risks", shared=True)
    schedules.save(db, manager, m_access, weekly, "weekly", [ids["staff"]], None)
    sponsor = mail.add_report_recipient(
        db, manager, m_access, parse(mail.RecipientForm, {"name": "Dana Sponsor", "address": "dana@agency.gov"})
    )
    mail.remove_report_recipient(db, manager, m_access, sponsor.id, sponsor.version)

    # The contract clock: an overdue review escalated, then a deemed acceptance.
    d3 = planning.create(
        db,
        manager,
        m_access,
        parse(
            planning.DeliverableForm,
            {"code": "D-03", "title": "Test Strategy", "criteria": "Covers every interface"},
        ),
    )
    agree_criteria(db, world, d3)
    submit(db, world, d3, store)
    clock.advance(days=30)
    assert "TST D-03" in deliverables.run_clocks(db, store).escalated
    deliverables.deem_accept(db, project, d5, store)

    # A webhook: made, changed, a new secret, turned off by its failures, deleted.
    form = parse(webhooks.WebhookForm, {"url": "https://hooks.example.com/a?token=s3cret", "events": "risk.created"})
    hook = webhooks.create(db, manager, m_access, form, allow_private=True)
    db.flush()
    form = parse(
        webhooks.WebhookForm,
        {"url": "https://hooks.example.com/b", "events": ["risk.created", "issue.escalated"], "version": hook.version},
    )
    webhooks.update_webhook(db, manager, m_access, hook, form, allow_private=True)
    webhooks.rotate_secret(db, manager, m_access, hook, hook.version)
    failed = webhooks.Attempt(False, 500, "", "Answered 500", 10)
    for _ in range(DISABLE_AFTER):
        webhooks.log_attempt(
            db, hook.id, db.exec(select(AuditEvent.id)).first(), "risk.created", "msg_1", False, failed
        )
    db.refresh(hook)
    webhooks.delete(db, manager, m_access, hook, hook.version)
    db.flush()
    return {
        "risk": risk.id,
        "issue": issue.id,
        "d1": d1.id,
        "user": user.id,
        "token": token.id,
        "sign_ins": [signed_in.id, refused.id, by_sso.id],
        "feed": feed.id,
        "today": today,
    }


@pytest.fixture
def everything(db, world, store, clock) -> dict[str, int]:
    ids = _everything(db, world, store, clock)
    commit(db)  # with the letters the decisions leave to be rendered after it
    return ids


def test_every_kind_of_event_the_app_writes_reads_as_prose(db, world, everything):
    events = db.exec(select(AuditEvent)).all()
    assert {e.action for e in events} == set(ACTION_WORDS), "every action has its words, and this test writes it"
    assert {e.entity_type for e in events} == set(ENTITY_WORDS)
    admin = acting(db, world, "admin")[0]
    rows = [
        row
        for key in ("TST", "OTH")
        for row in audit.for_project(db, projects.get_for(db, admin, key).project.id, limit=1000)
    ]
    rows += [row for u in db.exec(select(User)) for row in audit.for_entity(db, "app_user", u.id)]
    rows += audit.for_entity(db, "api_token", everything["token"])
    rows += [row for i in everything["sign_ins"] for row in audit.for_entity(db, "sign_in", i)]
    rows += audit.for_entity(db, "account_policy", 1)
    rows += audit.for_entity(db, "calendar_feed", everything["feed"])
    providers_ever = {e.entity_id for e in events if e.entity_type == "oidc_provider"}
    rows += [row for p in sorted(providers_ever) for row in audit.for_entity(db, "oidc_provider", p)]
    mapped = {e.entity_id for e in events if e.entity_type == "oidc_group_mapping"}
    rows += [row for m in sorted(mapped) for row in audit.for_entity(db, "oidc_group_mapping", m)]
    rows += audit.for_entity(db, "sign_in_policy", sso.POLICY_ID)
    rows += audit.for_entity(db, "organisation", organisation.ROW_ID)
    assert len(rows) == len(events)
    html = (
        make_environment({"audit_describe": history.describe, "audit_lines": history.lines})
        .get_template("audit/_events.html")
        .render(history=rows, show_project=True)
    )
    for bad in ("_id", "{", "}", "[", "]", "None", "(hidden)", "(reset)"):
        assert bad not in html, (bad, html[max(0, html.find(bad) - 300) : html.find(bad) + 100])
    text = _plain(html)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "dates read as the pages show them"
    for words in (
        # deliverables: labels of the plan form, people, money, dates and the workflow's words
        "created deliverable D-01",
        "Review lead: Staff Person → Manager Person",
        "Payment amount: $180,000.00 → $185,000.50",
        "Holdback %: 10%",
        f"Contractual due date: {everything['today'] + timedelta(days=20):%-d %b %Y}",
        "Type: Data conversion",
        "Acceptance criteria:",
        "Plans two mock conversions",
        "started the review of deliverable D-01",
        "Status: Submitted → In review",
        "Reviewer: Staff Person",
        "took a reviewer off deliverable D-01 Reviewer: Manager Person",
        "Severity: Major",
        "Disposition: Open → Accepted as is",
        "Criterion 1: Not met",
        "Decision: Conditionally accepted",
        "Criteria version: 1 → 2",
        "Criteria agreement: version 1 agreed → withdrawn",
        "Condition 1 owner: Contractor Person → Staff Person",
        "recorded the State's agreement to the criteria of deliverable D-02",
        "Escalated: review due ",
        "Decision: Deemed accepted",
        "disputed reported figure Uptime",
        "Status: Awaiting verification → Disputed",
        "Value: 99.1 → 99.6",
        "verified reported figure Uptime",
        "Service credits: none → Uptime (reported by the contractor) below 99.5 → 2% of the invoiced amount",
        "changed reported measure P1 response Target: 4 → 6",
        "removed reported measure P1 response",
        "Higher is better: no",
        "escalated the overdue review of deliverable D-03",
        "Version: 1 → 2",
        "Reason for withdrawal: Moved to Release 3",
        # the register
        "Owner: Staff Person → Manager Person",
        "Probability: 3 Possible → 4 Likely",
        "Residual probability: 2 Unlikely",
        "Residual impact: 3 Moderate",
        "Status: Open → Mitigating",
        "Category: Schedule",
        "Proximity: Mid term",
        "Deliverables: D-01 → D-02",
        "Next review:",
        "created lesson L-001",
        "created decision D-001",
        "Options considered: One wave; two waves",
        "Decided by (member): Manager Person",
        "Risk: R-001",
        "Decision: Two go-live waves → Go live in two waves",
        "created custom field Lesson: Funding source",
        "Choices: Federal → Federal, State",
        "Funding source: State",
        "Category: Testing → Contractor management",
        "Owner: Manager Person",
        "Phase: UAT",
        "created meeting M-001",
        "Kind of meeting: Steering",
        "Members who attended: Manager Person → Staff Person",
        "added an action item to meeting M-001",
        "Plan: Meeting",
        "mailed the minutes of meeting M-001",
        "converted into an issue risk R-001",
        "Issue: I-001",
        "added an action item to risk R-001",
        "attached a file to risk R-001",
        "removed a file from risk R-001",
        "File: Vendor letter.pdf",
        "Size: 15 bytes",
        "Action item: Profile the pilot counties",
        "Plan: Mitigation",
        "Done: no → yes",
        "Escalation level: Project → Executive",
        "Priority: High → Critical",
        "From risk: R-001",
        "Decided by: Steering committee",
        "imported risks into project TST",
        "File: pmo.csv",
        "Created: 1",
        # change requests, and what an approval does to a deliverable
        "created change request CR-001",
        "Cost impact: $1,000.00",
        "approved change request CR-001",
        "Decision rationale: Worth it",
        "applied a change request to deliverable D-06",
        "Change request: CR-001",
        "Payment amount: $20,000.00 → $21,000.00",
        "Requested by: The State",
        # the project, its people and its settings
        "changed the mail defaults of project TST",
        "A deliverable you review is submitted: In the daily digest",
        "added a status report recipient to project TST",
        "changed the mailing of saved report Weekly risks",
        "Mailed: Every week",
        "Mailed to: Staff Person",
        "Status report recipient: Dana Sponsor (dana@agency.gov)",
        "Project holidays: 24 Dec 2026 Christmas Eve closure 31 Dec 2026 New Year's Eve closure",
        "Deemed-acceptance policy: Never → Deemed",
        "State review days: 10 → 12",
        "Role: Viewer → Staff",
        "added member Nora Newbie",
        "sent invitation dana@agency.gov",
        "Name: Dana Sponsor",
        "sent again invitation dana@agency.gov",
        "Link works until:",
        "revoked invitation dana@agency.gov Status: Waiting → Revoked",
        "accepted invitation erin@contractor.com Status: Waiting → Accepted Account: Erin Okafor",
        "Erin Okafor joined by invitation as member Erin Okafor Role: Contractor",
        "Days between reviews, critical risks: 7 → 5",
        "Red: open critical risks, at least: 4",
        "First-pass acceptance rate (%): 75",
        # the organisation: its logo by file name, size and sha256, never its bytes
        "updated organisation Dept of Examples Name: Dept of Examples Logo: seal.png (70 bytes, sha256 ",
        "updated organisation Department of Examples Name: Dept of Examples → Department of Examples",
        ") → seal-2027.png (71 bytes, sha256 ",
        # single sign-on
        "joined through single sign-on as user sam",
        "was made admin by a group mapping: user sam Admin: no → yes Group: pmo",
        "was added through a group mapping as member Sam Single Role: Viewer Group: tst",
        "linked a single sign-on identity to user staff",
        "signed in to account sam How: Single sign-on (OIDC) From: 192.0.2.1 Provider: Agency ID",
        "was refused a sign-in by sign-in provider Agency ID Reason: There is no account for eve@elsewhere.org",
        "created group mapping pmo Provider: Agency ID Grants: Admin",
        "deleted group mapping old Provider: Agency ID → (empty) Grants: Staff in TST → (empty)",
        "Password sign-in for everyone: yes → no Break-glass admins: admin",
        "updated sign-in provider Agency ID Allowed e-mail domains: agency.gov",
        "Client secret: changed",
        "deleted sign-in provider Spare ID",
        "Key: spare → (empty)",
        "Group mappings: spare-pmo → (empty)",
        # saved and status reports
        "Source: Risks",
        "Filter: Owner is Staff Person",
        "Filter: Status is one of Open, Mitigating",
        "Shared: yes",
        "Risks RAG: Amber",
        "Summary: Steady",
        "published status report",
        # people
        "Admin: no → yes",
        "Password: reset",
        "changed the password of user nnewbie",
        "signed out every session of user nnewbie",
        "revoked API token Nightly export",
        "signed in to account nnewbie",
        "How: Password and authenticator code",
        "From: 192.0.2.1",
        "refused a sign-in to account nobody",
        "Reason: Unknown user",
        "signed out user nnewbie",
        "turned on multi-factor authentication for user nnewbie",
        "used a recovery code of user nnewbie",
        "Recovery codes left: 10 → 9",
        "made new recovery codes for user nnewbie",
        "turned off multi-factor authentication for user nnewbie",
        "Multi-factor authentication required of: Nobody: each person chooses → Admins",
        # webhooks: the host, never the URL (it may carry a token)
        "created webhook hooks.example.com",
        "Events: risk.created",
        "Payload URL: changed",
        "made a new secret for webhook hooks.example.com",
        "turned off after repeated failures webhook hooks.example.com",
        "Failed attempts in a row: 10",
        "deleted webhook hooks.example.com",
        "created calendar feed My work",
        "reset the address of calendar feed My work",
    ):
        assert words in text, (words, text)


def test_each_record_page_shows_its_history_in_prose_and_names_people(as_user, db, world, everything):
    manager = as_user("manager")
    pages = {
        f"/projects/TST/risks/{everything['risk']}": ("Owner: Staff Person → Manager Person", "Impact: 4 Major"),
        f"/projects/TST/issues/{everything['issue']}": (
            "Owner: Manager Person",
            "Escalation level: Project → Executive",
        ),
        f"/projects/TST/deliverables/{everything['d1']}": (
            "Review lead: Staff Person → Manager Person",
            "Status: Submitted → In review",
            "Reviewer: Staff Person",
        ),
        "/projects/TST": ("Decision: Deemed accepted",),
        "/": ("Decision: Deemed accepted",),
    }
    for page in range(1, 4):
        pages[f"/projects/TST/history?page={page}"] = ()
    seen = ""
    for url, expected in pages.items():
        r = manager.get(url)
        assert r.status_code == 200, url
        timeline = _timeline(r.text)
        seen += _plain(timeline)
        for words in expected:
            assert words in _plain(timeline), (url, words, _plain(timeline))
        for bad in ("_id", "{", "[", "None"):
            assert bad not in timeline, (url, bad)
    assert "Project holidays: 24 Dec 2026 Christmas Eve closure" in seen and "Filter: Owner is Staff Person" in seen
    admin = as_user("admin").get(f"/admin/users/{everything['user']}")
    assert "Admin: no → yes" in _plain(_timeline(admin.text))


def test_names_in_the_history_cost_one_query_whatever_the_number_of_events(as_user, db, world, count_queries):
    risk = make_risk(db, world, owner_id=str(world.ids["staff"]))
    staff, access = acting(db, world, "staff")
    owners = [world.ids[r] for r in ("manager", "viewer", "staff")]

    def edits(n: int) -> None:
        for i in range(n):
            risks.update(
                db,
                staff,
                access,
                risk,
                parse(
                    risks.RiskForm, risks.form_values(db, risk) | {"owner_id": str(owners[i % 3]), "title": f"Edit {i}"}
                ),
            )
        db.commit()

    edits(2)
    viewer = as_user("viewer")
    counts = []
    for more in (0, 40):
        edits(more)
        for url in (f"/projects/TST/risks/{risk.id}", "/projects/TST/history", "/projects/TST"):
            with count_queries() as c:
                page = viewer.get(url)
            assert page.status_code == 200 and "Owner: Staff Person → Manager Person" in _plain(page.text), url
            counts.append(c.count)
    assert counts[:3] == counts[3:], counts
