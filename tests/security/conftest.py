"""A database of its own for the hardening tests, seeded once with one row behind every kind of path id (a
deliverable under review with a file, comment and criteria; a rejected one with its records; a risk, an issue,
action items, a spare member, a manager's API token; saved reports shared with the project and private; this week's
published status report and last week's saved draft). Each test still runs in a rolled-back transaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from tests.conftest import PASSWORD, SharedApp, World, agree_criteria, make_settings, make_world
from tests.dbutil import fresh_database
from tracker.cli import migrate_database
from tracker.core.db import commit, make_engine

# Register sheets to import. An upload is named by its sha256 and found only in the session of whoever uploaded it,
# so the matrix's upload rows come before the rows of the import's later steps.
RISK_SHEET = b"Risk ID,Title,Probability,Impact\nR-090,Imported,2,3\n"
ISSUE_SHEET = b"Issue ID,Title,Priority\nI-090,Imported,low\n"
CHANGE_SHEET = b"CR ID,Title,Cost impact\nCR-090,Imported,100\n"
LESSON_SHEET = b"Lesson ID,What happened,Recommendation\nL-090,Imported,Test earlier\n"
MEETING_SHEET = b"Meeting ID,Title,Agenda\nM-090,Imported,Budget\n"
DECISION_SHEET = b"Decision ID,Decision,Decided by\nD-090,Imported,Board\n"
LEVELS_SHEET = b"Measure,Month,Value\nUptime,2025-11,99.7\n"  # months before the pinned clock's (tests/conftest.py)


@dataclass
class Seeded:
    url: str
    engine: Engine
    world: World
    ids: dict[str, int | str]  # path parameter name -> a value that exists
    uploads: Path
    token: str  # the manager's API token


def seed(db: Session, world: World, uploads: Path) -> tuple[dict[str, int | str], str]:
    from tests.library.conftest import definition, save
    from tests.register.conftest import acting, make_issue, make_risk
    from tracker.accounts import service as accounts
    from tracker.core.files import FileStore
    from tracker.core.forms import parse
    from tracker.deliverables import conditions, decisions, planning, records, reviews, submissions
    from tracker.mail import service as mail
    from tracker.mail.models import OutgoingMail
    from tracker.projects import invitations
    from tracker.projects import service as projects
    from tracker.projects.calendar import project_today
    from tracker.register.actions import service as actions
    from tracker.register.attachments import service as attachments
    from tracker.register.changes import service as changes
    from tracker.register.changes.workflow import Move
    from tracker.register.custom import service as custom
    from tracker.register.decisions import service as logged_decisions
    from tracker.register.kinds import KINDS
    from tracker.register.lessons import service as lessons
    from tracker.register.meetings import service as meetings
    from tracker.reports import levels
    from tracker.reports import service as reports
    from tracker.sso import providers as sso_providers
    from tracker.sso import service as sso
    from tracker.webhooks import service as webhooks

    store = FileStore(uploads, 1024 * 1024)
    admin, admin_access = acting(db, world, "admin")
    spares = []  # two viewers whose memberships may be changed and removed (one by page, one by API)
    for name in ("spare", "spare2"):
        user = accounts.create_user(
            db,
            None,
            parse(
                accounts.UserForm,
                {"username": name, "full_name": f"{name} Person", "email": f"{name}@example.gov", "password": PASSWORD},
            ),
        )
        spares.append(
            projects.add_member(
                db,
                admin,
                projects.get_for(db, admin, "TST", projects.Perm.MANAGE),
                projects.MemberForm(user_id=user.id, role="viewer"),
            )
        )
    manager, m_access = acting(db, world, "manager")
    contractor, c_access = acting(db, world, "contractor")
    staff, s_access = acting(db, world, "staff")

    def plan(code: str, agreed: bool = True):
        d = planning.create(
            db,
            manager,
            m_access,
            parse(
                planning.DeliverableForm,
                {
                    "code": code,
                    "title": f"Plan {code}",
                    "criteria": "Covers every interface\nTraceable",
                    "payment_amount": "1000",
                    "holdback_pct": "10",
                },
            ),
        )
        if agreed:
            agree_criteria(db, world, d)
        return d

    reviewed = plan("D-01")
    submissions.submit(db, contractor, c_access, reviewed, "", [submissions.Upload("v1.pdf", "", b"%PDF-1")], store)
    reviews.start_review(db, manager, m_access, reviewed, [world.ids["staff"]])
    comment = reviews.add_comment(
        db,
        staff,
        s_access,
        reviewed,
        parse(reviews.CommentForm, {"text": "Section 4 is missing", "severity": "major"}),
    )
    rejected = plan("D-02")
    submissions.submit(db, contractor, c_access, rejected, "", [submissions.Upload("v1.pdf", "", b"%PDF-2")], store)
    reviews.start_review(db, manager, m_access, rejected)
    decision = decisions.decide(
        db,
        manager,
        m_access,
        rejected,
        parse(decisions.DecisionForm, {"outcome": "rejected", "findings": "Incomplete"}),
        store=store,
    )
    planned = plan("D-03", agreed=False)  # its criteria wait for the agreement
    conditional = plan("D-04")
    submissions.submit(db, contractor, c_access, conditional, "", [submissions.Upload("v1.pdf", "", b"%PDF-4")], store)
    reviews.start_review(db, manager, m_access, conditional)
    decisions.decide(
        db,
        manager,
        m_access,
        conditional,
        parse(
            decisions.DecisionForm,
            {
                "outcome": "conditionally_accepted",
                "conditions": "Fix the typos\nAdd the index",
                "conditions_due": (project_today(m_access.project) + timedelta(days=20)).isoformat(),
            },
        ),
        store=store,
    )
    risk, issue = make_risk(db, world), make_issue(db, world)
    # a State change request, submitted: the contractor sees it, the State's staff start its review
    change = changes.create(db, staff, s_access, parse(changes.ChangeForm, {"title": "More training"}))
    changes.move(db, staff, s_access, change, Move.SUBMIT, parse(changes.DecisionForm, {"version": 1}))
    lesson = lessons.create(db, staff, s_access, parse(lessons.LessonForm, {"title": "x", "recommendation": "y"}))
    meeting = meetings.create(
        db, staff, s_access, parse(meetings.MeetingForm, {"title": "x", "attendee_ids": [str(world.ids["viewer"])]})
    )
    funding = {"kind": "risks", "label": "Funding source", "type": "choice", "choices": ["Federal", "State"]}
    custom_field = custom.define(db, manager, m_access, parse(custom.FieldForm, funding))
    attached = {  # on each kind's record: one to read, one the page removes, one the API removes
        f"{KINDS[plural].name}_{use}attachment_id": attachments.attach(
            db, staff, s_access, KINDS[plural], record, submissions.Upload("note.txt", "text/plain", b"n"), store
        ).id
        for plural, record in (
            ("risks", risk),
            ("issues", issue),
            ("changes", change),
            ("lessons", lesson),
            ("meetings", meeting),
        )
        for use in ("", "removable_", "api_removable_")
    }
    # a logged decision ("decision_id" is a deliverable's acceptance decision here)
    logged = logged_decisions.create(
        db, staff, s_access, parse(logged_decisions.DecisionForm, {"title": "x", "decided_by": "y"})
    )
    attached |= {
        f"logged_decision_{use}attachment_id": attachments.attach(
            db, staff, s_access, KINDS["decisions"], logged, submissions.Upload("note.txt", "text/plain", b"n"), store
        ).id
        for use in ("", "removable_", "api_removable_")
    }
    item = actions.add(db, staff, s_access, risk, parse(actions.ActionForm, {"description": "a", "plan": "mitigation"}))
    actions.add(db, staff, s_access, issue, parse(actions.ActionForm, {"description": "b"}))
    risks = definition("risks", ["code", "level"])
    shared = save(db, world, "staff", risks, "Shared risks", shared=True)  # staff's: its owner and managers change it
    removable = save(db, world, "staff", risks, "Old risks", shared=True)
    private = save(db, world, "staff", risks, "Staff's own")
    late = save(db, world, "manager", definition("deliverables", ["code"]), "Late", shared=True)  # contractors see it
    week = reports.period_of(m_access.project, reports.PeriodForm())
    published = reports.publish(db, manager, m_access, week, 1, None)
    draft = reports.save_draft(db, manager, m_access, week.previous(), parse(reports.DraftForm, {"number": 1}))
    token, secret = accounts.create_token(db, manager, "fuzzing")
    message = OutgoingMail(
        key="event:0:submitted",
        kind="submitted",
        to_address="staff@example.gov",
        subject="s",
        text="t",
        html="<p>h</p>",
        message_id="<m@example.gov>",
    )
    db.add(message)
    external = mail.add_report_recipient(
        db, manager, m_access, parse(mail.RecipientForm, {"name": "Sponsor", "address": "dana@agency.gov"})
    )
    hook_form = parse(webhooks.WebhookForm, {"url": "https://93.184.215.14/hook", "events": "risk.created"})
    hook = webhooks.create(db, manager, m_access, hook_form, allow_private=False)
    removable_hook = webhooks.create(db, manager, m_access, hook_form, allow_private=False)
    db.flush()
    sent = webhooks.Attempt(True, 200, "ok", "", 12)
    webhooks.log_attempt(db, hook.id, published_event(db), "status_report.published", "msg_1_1", False, sent)
    measure = levels.add_measure(
        db,
        admin,
        admin_access,
        parse(levels.MeasureForm, {"name": "Uptime", "target": "99.5", "higher_is_better": "1"}),
    )
    spare_measures = [  # nothing rests on them: one removed by the page, one by the API
        levels.add_measure(db, admin, admin_access, parse(levels.MeasureForm, {"name": name, "target": "1"}))
        for name in ("Spare measure", "Spare API measure")
    ]
    months = [project_today(m_access.project).replace(day=1) - timedelta(days=1 + 31 * n) for n in range(3)]
    figure = levels.report(
        db,
        contractor,
        c_access,
        parse(levels.FigureForm, {"measure_id": measure.id, "month": months[0], "value": "99"}),
    )
    provider = sso_providers.create(
        db,
        admin,
        parse(
            sso_providers.ProviderForm,
            {"key": "agency", "name": "Agency", "issuer": "https://login.example.gov", "client_id": "tracker"}
            | {"client_secret": "s3cret-s3cret"},
        ),
    )
    mapping = sso.add_mapping(
        db, admin, parse(sso.MappingForm, {"provider_id": provider.id, "group_name": "pmo", "grant": "admin"})
    )
    spare_provider = sso_providers.create(  # nobody signs in with it: removable
        db,
        admin,
        parse(
            sso_providers.ProviderForm,
            {"key": "spare", "name": "Spare", "issuer": "https://login.example.gov", "client_id": "spare"}
            | {"client_secret": "s3cret-s3cret"},
        ),
    )
    invited = [
        invitations.invite(
            db,
            make_settings("sqlite://"),
            manager,
            m_access,
            parse(invitations.InviteForm, {"email": f"{name}@elsewhere.gov", "full_name": name, "role": "viewer"}),
        ).invitation
        for name in ("invitee", "api-invitee")
    ]
    commit(db)  # and the decisions' letters, rendered after it
    ids = {
        "invitation_id": invited[0].id,
        "api_invitation_id": invited[1].id,
        "key": "TST",
        "deliverable_id": reviewed.id,
        "file_id": submissions.submissions_of(db, reviewed.id)[0][2][0].id,
        "comment_id": comment.id,
        "criterion_id": planning.active_criteria(db, reviewed.id)[0].id,
        "rejected_id": rejected.id,
        "decision_id": decision.id,
        "planned_id": planned.id,
        "conditional_id": conditional.id,
        "condition_id": conditions.open_of(db, conditional.id)[0].id,
        "condition_due": (project_today(m_access.project) + timedelta(days=30)).isoformat(),
        "kind": "rejection_letter",
        "record_id": records.records_of(db, decision.id)[0].id,
        "risk_id": risk.id,
        **attached,
        "attachment_id": attached[
            "risk_attachment_id"
        ],  # the API's path names it so (tests/security/test_api_schema.py)
        "issue_id": issue.id,
        "change_id": change.id,
        "lesson_id": lesson.id,
        "meeting_id": meeting.id,
        "meeting_sheet": sha256(MEETING_SHEET).hexdigest(),
        "logged_decision_id": logged.id,
        "custom_field_id": custom_field.id,
        "mail_id": message.id,
        "report_recipient_id": external.id,
        "step": "start_review",
        "item_id": item.id,
        "membership_id": spares[0].id,
        "removable_id": spares[1].id,
        "user_id": spares[0].user_id,
        "token_id": token.id,
        "provider_id": provider.id,
        "removable_provider_id": spare_provider.id,
        "group_mapping_id": mapping.id,
        "webhook_id": hook.id,
        "removable_webhook_id": removable_hook.id,
        "webhook_delivery_id": webhooks.deliveries(db, hook)[0].id,
        "report_id": shared.id,
        "removable_report_id": removable.id,
        "private_report_id": private.id,
        "deliverables_report_id": late.id,
        "status_report_id": published.id,
        "draft_id": draft.id,
        "draft_end": week.previous().end.isoformat(),
        "measure_id": measure.id,
        "removable_measure_id": spare_measures[0].id,
        "api_removable_measure_id": spare_measures[1].id,
        "figure_id": figure.id,
        **{f"figure_month{n}": f"{months[n]:%Y-%m}" for n in (1, 2)},
        "table": "top-risks.csv",
        "risk_sheet": sha256(RISK_SHEET).hexdigest(),
        "issue_sheet": sha256(ISSUE_SHEET).hexdigest(),
        "change_sheet": sha256(CHANGE_SHEET).hexdigest(),
        "lesson_sheet": sha256(LESSON_SHEET).hexdigest(),
        "decision_sheet": sha256(DECISION_SHEET).hexdigest(),
        # periods of nothing yet, one for each write that starts a draft or publishes one
        **{f"week{n}_end": (week.end - timedelta(weeks=n)).isoformat() for n in (2, 3, 4, 5)},
    }
    return ids, secret


def published_event(db: Session) -> int:
    from sqlmodel import select

    from tracker.audit.models import AuditEvent

    return db.exec(select(AuditEvent.id).order_by(AuditEvent.id.desc())).first()


@pytest.fixture(scope="package")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    with fresh_database(tmp_path_factory.mktemp("seeded")) as url:
        migrate_database(url)
        engine = make_engine(url)
        uploads = tmp_path_factory.mktemp("uploads")
        with Session(engine, expire_on_commit=False) as db:
            world = make_world(db)
            ids, token = seed(db, world, uploads)
        yield Seeded(url, engine, world, ids, uploads, token)
        engine.dispose()


# The shared fixtures (db, app, as_user) run on the seeded database instead of the session's empty one.


@pytest.fixture
def conn(seeded: Seeded) -> Iterator[Connection]:
    connection = seeded.engine.connect()
    outer = connection.begin()
    yield connection
    outer.rollback()
    connection.close()


@pytest.fixture
def world(seeded: Seeded) -> World:
    return seeded.world


@pytest.fixture(scope="package")
def shared_app(seeded: Seeded) -> SharedApp:
    return SharedApp(make_settings(seeded.url, upload_dir=seeded.uploads, login_max_failures=10_000))
