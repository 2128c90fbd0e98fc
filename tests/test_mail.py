"""Mail through a real SMTP server (aiosmtpd, tests/smtp.py): the events of the trail reach the people concerned, and
only them, once, with the record linked, text and HTML parts, threading headers, the decision letter attached and a
one-click unsubscribe that works; with no server configured the messages are kept for the Outgoing mail page; every
kind of event is told only to roles that may read its record; preferences and the digest."""

from __future__ import annotations

import dataclasses
import io
import threading
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from tests.conftest import _session, agree_criteria, at_noon, make_settings, make_world, tst_today
from tests.dbutil import fresh_database
from tests.library.conftest import definition, save
from tests.register.conftest import acting, make_issue, make_risk
from tracker.accounts.models import User
from tracker.audit import service as audit
from tracker.audit.models import AuditEvent
from tracker.cli import migrate_database
from tracker.core.clock import utcnow
from tracker.core.db import make_engine, session_factory_for
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.deliverables import decisions, planning, records, reviews, submissions
from tracker.deliverables import service as deliverables
from tracker.deliverables.models import ReviewAssignment
from tracker.dispatch import service as dispatch
from tracker.mail import kinds as mail_kinds
from tracker.mail import service as mail
from tracker.mail.models import MailSettings, MailStatus, Mode, OutgoingMail
from tracker.projects.permissions import ADMIN_PERMS, ROLE_PERMS, Perm
from tracker.register.changes import service as changes
from tracker.register.changes.workflow import Move
from tracker.register.issues import service as issues
from tracker.register.risks import service as risks
from tracker.reports import service as reports
from tracker.webhooks import service as webhooks

# The dispatcher's sessions here share the test's connection, on which a write cannot be made to begin anew.
pytestmark = pytest.mark.filterwarnings("ignore:Connection is already established:sqlalchemy.exc.SAWarning")


def dispatcher(conn, database_url: str, tmp_path: Path, smtp_url: str = "") -> dispatch.Dispatcher:
    """The mail handler and digest job only, on the test's own connection (its commits are savepoints)."""
    settings = make_settings(database_url, smtp_url=smtp_url, base_url="https://tracker.example.gov")
    ctx = dispatch.Context(settings, FileStore(tmp_path / "files", 10 * 1024 * 1024))
    handlers = {mail.HANDLER: dispatch.HANDLERS[mail.HANDLER]}
    d = dispatch.Dispatcher(lambda: _session(conn), ctx, handlers, {})
    d.once()  # its cursor starts at the end of the trail: what happens from now on is told
    return d


def _plan(db, world, manager, m_access, code="D-01"):
    d = planning.create(
        db,
        manager,
        m_access,
        parse(
            planning.DeliverableForm,
            {
                "code": code,
                "title": "Project Management Plan",
                "criteria": "Has a schedule",
                "owner_id": world.ids["staff"],
            },
        ),
    )
    agree_criteria(db, world, d)
    return d


def _submit(db, world, d, store):
    contractor, c_access = acting(db, world, "contractor")
    submissions.submit(db, contractor, c_access, d, "", [submissions.Upload("v1.pdf", "", b"%PDF-1.4 plan")], store)


def test_a_submission_reaches_its_review_lead_once_with_the_record_linked(
    db, conn, world, database_url, tmp_path, inbox
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager, m_access = acting(db, world, "manager")
    deliverable = _plan(db, world, manager, m_access)
    db.commit()
    _submit(db, world, deliverable, d.ctx.store)
    db.commit()
    d.once()
    d.once()  # a second pass sends nothing twice
    (msg,) = inbox.to("staff@example.gov")
    assert msg["Subject"] == "[TST D-01] Project Management Plan submitted for review"
    assert inbox.to("contractor@example.gov") == []  # whoever did it is not told
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    link = f"https://tracker.example.gov/projects/TST/deliverables/{deliverable.id}"
    assert link in text and f'href="{link}"' in html and "Contractor Person submitted D-01" in text
    assert msg["Message-ID"].endswith("@tracker.example.gov>")
    assert msg["References"] == msg["In-Reply-To"] == f"<deliverable-{deliverable.id}@tracker.example.gov>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Unsubscribe"].startswith("<https://tracker.example.gov/mail/unsubscribe/")
    stored = db.exec(select(OutgoingMail)).one()
    assert stored.status == MailStatus.SENT and stored.sent_at is not None


def test_the_link_opens_the_record_for_its_recipient_and_for_no_one_else(
    db, conn, world, database_url, tmp_path, inbox, as_user
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager, m_access = acting(db, world, "manager")
    deliverable = _plan(db, world, manager, m_access)
    _submit(db, world, deliverable, d.ctx.store)
    db.commit()
    d.once()
    (msg,) = inbox.to("staff@example.gov")
    path = msg.get_body(("plain",)).get_content().split("https://tracker.example.gov", 1)[1].split()[0]
    assert as_user("staff").get(path).status_code == 200
    assert as_user("outsider").get(path).status_code == 404


def test_a_decision_reaches_the_contractor_with_its_letter(db, conn, world, database_url, tmp_path, inbox):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager, m_access = acting(db, world, "manager")
    deliverable = _plan(db, world, manager, m_access)
    _submit(db, world, deliverable, d.ctx.store)
    reviews.start_review(db, manager, m_access, deliverable)
    form = parse(decisions.DecisionForm, {"outcome": "rejected", "findings": "Section 3 is missing"})
    decisions.decide(db, manager, m_access, deliverable, form, store=d.ctx.store)
    db.commit()
    records.generate_missing(db, d.ctx.store)
    db.commit()
    d.once()
    (msg,) = inbox.to("contractor@example.gov")
    assert msg["Subject"] == "[TST D-01] Project Management Plan rejected"
    attached = {a.get_filename(): a for a in msg.iter_attachments()}
    letter = next(a for name, a in attached.items() if "rejection" in name.lower())
    assert letter.get_content_type() == "application/pdf" and letter.get_content().startswith(b"%PDF")
    assert inbox.to("viewer@example.gov") == []


def test_a_refused_address_is_failed_for_good_and_holds_up_no_one_else(db, conn, world, database_url, tmp_path, inbox):
    inbox.refuse.add("staff@example.gov")
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    staff, s_access = acting(db, world, "staff")
    change = changes.create(db, staff, s_access, parse(changes.ChangeForm, {"title": "More training"}))
    changes.move(db, staff, s_access, change, Move.SUBMIT, parse(changes.DecisionForm, {"version": 1}))
    db.commit()
    d.once()
    (msg,) = inbox.to("manager@example.gov")
    assert msg["Subject"] == f"[TST {change.code}] Change request awaiting decision: More training"
    manager, m_access = acting(db, world, "manager")
    changes.move(db, manager, m_access, change, Move.START_REVIEW, parse(changes.DecisionForm, {"version": 2}))
    changes.move(
        db, manager, m_access, change, Move.APPROVE, parse(changes.DecisionForm, {"version": 3, "rationale": "Yes"})
    )
    db.commit()
    d.once()
    refused = db.exec(select(OutgoingMail).where(OutgoingMail.to_address == "staff@example.gov")).one()
    assert refused.status == MailStatus.FAILED and "550" in refused.error
    d.once()
    assert len(inbox.messages) == 1  # not tried again


def test_with_no_smtp_server_the_mail_is_kept_for_the_outgoing_mail_page(
    db, conn, world, database_url, tmp_path, as_user
):
    d = dispatcher(conn, database_url, tmp_path)
    manager, m_access = acting(db, world, "manager")
    deliverable = _plan(db, world, manager, m_access)
    _submit(db, world, deliverable, d.ctx.store)
    db.commit()
    d.once()
    kept = db.exec(select(OutgoingMail)).one()
    assert kept.status == MailStatus.KEPT
    page = as_user("admin").get("/admin/mail").text
    assert "No SMTP server is configured" in page and "[TST D-01] Project Management Plan submitted" in page
    one = as_user("admin").get(f"/admin/mail/{kept.id}").text
    assert "Contractor Person submitted D-01" in one and "srcdoc=" in one
    for role in ("manager", "staff", "contractor"):
        assert as_user(role).get("/admin/mail").status_code == 403


def test_one_click_unsubscribe_stops_that_kind_of_mail(db, conn, world, database_url, tmp_path, inbox, client):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager, m_access = acting(db, world, "manager")
    first = _plan(db, world, manager, m_access)
    _submit(db, world, first, d.ctx.store)
    db.commit()
    d.once()
    (msg,) = inbox.to("staff@example.gov")
    path = msg["List-Unsubscribe"].strip("<>").removeprefix("https://tracker.example.gov")
    assert "Unsubscribe?" in client.get(path).text  # opening the link asks first
    assert mail.preferences(db, world.ids["staff"]) == {}
    r = client.post(path, data={"List-Unsubscribe": "One-Click"})  # as a mail client does: no cookie, no token
    assert r.status_code == 200 and "no longer be told" in r.text
    assert mail.preferences(db, world.ids["staff"]) == {"submitted": Mode.OFF}
    second = _plan(db, world, manager, m_access, code="D-02")
    _submit(db, world, second, d.ctx.store)
    db.commit()
    d.once()
    assert len(inbox.to("staff@example.gov")) == 1
    assert client.post(path[:-3] + "abc").status_code == 404  # a forged link


@pytest.mark.parametrize("kind", list(mail_kinds.KINDS.values()), ids=lambda k: k.key)
def test_every_kind_is_told_only_to_roles_that_may_read_its_record(db, world, kind, monkeypatch):
    """Whoever a kind names, a member whose role lacks the kind's permission is never told: here each kind names
    every member of the project."""
    every = {world.ids[r] for r in ("manager", "staff", "contractor", "viewer", "admin", "outsider")}
    naming_everyone = dataclasses.replace(kind, recipients=lambda db, event, a: every)
    event, about = _an_event_of(db, world, kind)
    monkeypatch.setattr(mail, "kinds_of", lambda e: [naming_everyone])
    monkeypatch.setattr(mail, "about", lambda db, e: about)
    told = {int(r.split(":")[-1]) for r in mail.concerned(db, event)}
    perm = kind.perm or about.perm  # the kind's own, or what reading the record takes
    allowed = {world.ids[r.value] for r, perms in ROLE_PERMS.items() if perm in perms}
    allowed |= {world.ids["admin"]} if perm in ADMIN_PERMS else set()  # admins read every project
    assert told == allowed - {event.actor_id}
    assert world.ids["outsider"] not in told


def _an_event_of(db, world, kind):
    """An event of the kind, about a submitted change request of TST (which every role may see)."""
    manager, m_access = acting(db, world, "manager")
    record = changes.create(db, manager, m_access, parse(changes.ChangeForm, {"title": "x"}))
    changes.move(db, manager, m_access, record, Move.SUBMIT, parse(changes.DecisionForm, {"version": 1}))
    about = mail_kinds.About(m_access.project, record.code, record.title, "/", "t", record, Perm.VIEW_CHANGES)
    action = kind.actions[0] if kind.actions else "update"
    event = AuditEvent(entity_type=kind.entity, entity_id=record.id, action=action, changes={}, actor_id=None)
    return event, about


def test_preferences_and_project_defaults_decide_how_each_person_is_told(db, world, as_user):
    staff = as_user("staff")
    page = staff.get("/account/notifications").text
    assert "A deliverable you review is submitted" in page and "As the project sets it" in page
    manager = as_user("manager")
    assert manager.post("/projects/TST/notifications", {"kind_submitted": "digest"}).status_code == 303
    kind = mail_kinds.KINDS["submitted"]
    project_id = acting(db, world, "manager")[1].project.id
    assert mail.mode_for(db, world.ids["staff"], project_id, kind) == Mode.DIGEST
    r = staff.post("/account/notifications", {"kind_submitted": "immediate", "digest_hour": "8", "version": "1"})
    assert r.status_code == 303
    assert mail.mode_for(db, world.ids["staff"], project_id, kind) == Mode.IMMEDIATE
    assert db.get(MailSettings, world.ids["staff"]).digest_hour == 8
    bad = staff.post("/account/notifications", {"kind_submitted": "loud", "digest_hour": "9", "version": "2"})
    assert bad.status_code == 422 and 'id="f-kind_submitted-error"' in bad.text
    bad = staff.post("/account/notifications", {"kind_submitted": "off", "digest_hour": "30", "version": "2"})
    assert bad.status_code == 422 and 'value="30"' in bad.text and 'id="f-digest_hour-error"' in bad.text
    fresh = {"kind_submitted": "immediate", "digest_hour": "9", "version": "1"}
    assert staff.post("/account/notifications", fresh).status_code == 303  # now at version 2
    stale = staff.post("/account/notifications", {"kind_submitted": "off", "digest_hour": "9", "version": "1"})
    assert stale.status_code == 409 and "changed in another window" in stale.text
    assert mail.mode_for(db, world.ids["staff"], project_id, kind) == Mode.IMMEDIATE
    assert staff.get("/projects/TST/notifications").status_code == 403


def test_the_digest_brings_my_work_and_the_chosen_updates_once_a_day(
    db, conn, world, database_url, tmp_path, inbox, clock
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager, m_access = acting(db, world, "manager")
    deliverable = _plan(db, world, manager, m_access)
    mail._store(db, world.ids["staff"], None, {"submitted": Mode.DIGEST})
    _submit(db, world, deliverable, d.ctx.store)
    db.commit()
    d.once()
    assert inbox.to("staff@example.gov") == []  # not on its own: in the digest
    job = dispatch.Dispatcher(d.session_factory, d.ctx, {}, {"mail-digest": dispatch.JOBS["mail-digest"]})
    clock.set(at_noon(tst_today()))  # past 7 in UTC, the zone of someone who chose none on their profile
    job.once()
    (digest,) = inbox.to("staff@example.gov")
    text = digest.get_body(("plain",)).get_content()
    assert "Reviews you lead" in text and "D-01" in text and "Since yesterday" in text
    clock.advance(minutes=30)
    job.once()
    assert len(inbox.to("staff@example.gov")) == 1  # once a day
    assert inbox.to("viewer@example.gov") == []  # nothing waits for them: skipped


def test_the_digest_page_names_the_profile_zone_the_hour_is_read_in_and_asks_for_no_other(db, world, as_user):
    staff = as_user("staff")
    page = staff.get("/account/notifications").text
    assert "in your time zone (UTC: you have chosen none), set on" in page and 'href="/profile#prefs-h"' in page
    assert 'name="timezone"' not in page
    assert staff.post("/profile/preferences", {"title": "", "timezone": "Pacific/Auckland"}).status_code == 303
    page = staff.get("/account/notifications").text
    assert "in your time zone (Pacific/Auckland), set on" in page and "Hour it comes (0–23, Pacific/Auckland)" in page


def test_the_digest_comes_at_its_hour_in_the_profiles_time_zone(db, conn, world, database_url, tmp_path, inbox, clock):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager, m_access = acting(db, world, "manager")
    mail._store(db, world.ids["staff"], None, {"submitted": Mode.DIGEST})
    _submit(db, world, _plan(db, world, manager, m_access), d.ctx.store)  # the staff member's review to lead
    db.get(User, world.ids["staff"]).timezone = "Pacific/Auckland"
    db.commit()
    d.once()
    job = dispatch.Dispatcher(d.session_factory, d.ctx, {}, {"mail-digest": dispatch.JOBS["mail-digest"]})
    auckland = ZoneInfo("Pacific/Auckland")
    now = utcnow().astimezone(auckland)
    before_seven = datetime.combine(now.date(), time(6, 40), auckland)
    if before_seven <= now:  # the clock only goes forward
        before_seven = datetime.combine(now.date() + timedelta(days=1), time(6, 40), auckland)
    clock.set(before_seven)  # 6:40 in Auckland: not yet, whatever the hour in UTC or New York
    job.once()
    assert inbox.to("staff@example.gov") == []
    clock.advance(minutes=20)  # 7:00 in Auckland, the default hour (the job looks every 15 minutes)
    job.once()
    (digest,) = inbox.to("staff@example.gov")
    assert "D-01" in digest.get_body(("plain",)).get_content()
    assert db.get(MailSettings, world.ids["staff"]).last_digest_on == before_seven.date()  # Auckland's day


def test_two_dispatchers_at_once_send_each_message_exactly_once(tmp_path, inbox):
    """On a database of its own, as two server processes would each have their engine and commit for real."""
    with fresh_database(tmp_path) as url:
        migrate_database(url)
        engines = [make_engine(url), make_engine(url)]
        try:
            settings = make_settings(url, smtp_url=inbox.url, base_url="https://tracker.example.gov")
            ctx = dispatch.Context(settings, FileStore(tmp_path / "files", 10 * 1024 * 1024))
            handlers = {mail.HANDLER: dispatch.HANDLERS[mail.HANDLER]}
            first, second = (
                dispatch.Dispatcher(session_factory_for(e), ctx, handlers, {}, holder=h)
                for e, h in zip(engines, ("one", "two"), strict=True)
            )
            first.once()  # the cursor, at the end of the (empty) trail
            with Session(engines[0]) as db:
                world = make_world(db)
                staff, s_access = acting(db, world, "staff")
                for n in range(6):
                    change = changes.create(db, staff, s_access, parse(changes.ChangeForm, {"title": f"Change {n}"}))
                    changes.move(db, staff, s_access, change, Move.SUBMIT, parse(changes.DecisionForm, {"version": 1}))
                db.commit()
            start = threading.Barrier(2)

            def run(d: dispatch.Dispatcher) -> None:
                start.wait()
                for _ in range(5):
                    d.once()

            threads = [threading.Thread(target=run, args=(d,)) for d in (first, second)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            subjects = sorted(m["Subject"] for m in inbox.to("manager@example.gov"))
            assert subjects == sorted(
                f"[TST CR-00{n + 1}] Change request awaiting decision: Change {n}" for n in range(6)
            )
        finally:
            for e in engines:
                e.dispose()


def test_a_published_report_reaches_its_readers_and_the_distribution_list_with_its_pdf(
    db, conn, world, database_url, tmp_path, inbox, as_user
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager = as_user("manager")
    r = manager.post(
        "/projects/TST/notifications/recipients", {"name": "Dana Sponsor", "address": "Sponsor@Agency.gov"}
    )
    assert r.status_code == 303
    again = manager.post("/projects/TST/notifications/recipients", {"address": "sponsor@agency.gov"})
    assert again.status_code == 422 and "already receives" in again.text
    bad = manager.post("/projects/TST/notifications/recipients", {"name": "Kept", "address": "not-an-address"})
    assert bad.status_code == 422 and 'value="Kept"' in bad.text
    user, access = acting(db, world, "manager")
    week = reports.period_of(access.project, reports.PeriodForm())
    draft = reports.save_draft(
        db, user, access, week, parse(reports.DraftForm, {"number": 1, "summary": "Steady week."})
    )
    reports.publish(db, user, access, week, 1, draft.version)
    db.commit()
    d.once()
    for address in ("staff@example.gov", "viewer@example.gov", "sponsor@agency.gov"):
        (msg,) = inbox.to(address)
        assert msg["Subject"].startswith("[TST] Status report, week ending") and "Steady week." in str(msg)
        (pdf,) = list(msg.iter_attachments())
        assert pdf.get_content_type() == "application/pdf" and pdf.get_content().startswith(b"%PDF")
    assert inbox.to("contractor@example.gov") == []  # contractors see no status report
    assert "List-Unsubscribe" not in inbox.to("sponsor@agency.gov")[0]  # the managers keep that list
    assert len({m["Message-ID"] for m in inbox.messages}) == len(inbox.messages)
    assert as_user("staff").post("/projects/TST/notifications/recipients", {"address": "x@y.gov"}).status_code == 403


def test_watchers_are_told_of_changes_and_mentions_reach_who_may_read(
    db, conn, world, database_url, tmp_path, inbox, as_user
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    risk = make_risk(db, world)
    manager, m_access = acting(db, world, "manager")
    deliverable = _plan(db, world, manager, m_access)
    db.commit()
    viewer = as_user("viewer")
    page = viewer.get(f"/watching?record=risks-{risk.id}", headers={"HX-Request": "true"}).text
    assert ">Watch<" in page and "0 watching" in page
    r = viewer.post("/watching", {"record": f"risks-{risk.id}", "watch": "on"}, htmx=True)
    assert r.status_code == 200 and "Watching" in r.text and "1 watching" in r.text
    assert as_user("contractor").post("/watching", {"record": f"risks-{risk.id}", "watch": "on"}).status_code == 404
    assert viewer.post("/watching", {"record": "risks-99999", "watch": "on"}).status_code == 404
    assert (
        as_user("staff").post("/watching", {"record": f"deliverable-{deliverable.id}", "watch": "on"}).status_code
        == 303
    )

    staff, s_access = acting(db, world, "staff")
    risks.update(db, staff, s_access, risk, parse(risks.RiskForm, risks.form_values(db, risk) | {"impact": "5"}))
    description = {"statement": "If @viewer and @contractor miss this, then it slips"}
    risks.update(db, manager, m_access, risk, parse(risks.RiskForm, risks.form_values(db, risk) | description))
    _submit(db, world, deliverable, d.ctx.store)  # staff leads its review and watches it: told once
    comment = parse(reviews.CommentForm, {"text": "Section 2: @viewer can you confirm?", "severity": "minor"})
    db.commit()
    d.once()
    reviews.start_review(db, manager, m_access, deliverable)
    reviews.add_comment(db, staff, s_access, deliverable, comment)
    db.commit()
    d.once()
    told = sorted(m["Subject"] for m in inbox.to("viewer@example.gov"))
    assert told == sorted(
        [
            f"[TST {risk.code}] Staff Person updated {risk.code}",  # the staff's change, as a watcher
            f"[TST {risk.code}] You are mentioned on {risk.title}",  # mentioned in the manager's change
            "[TST D-01] You are mentioned on Project Management Plan",
        ]
    )
    assert [m for m in inbox.to("contractor@example.gov") if "mentioned" in m["Subject"]] == []  # may not read risks
    lead = sorted(m["Subject"] for m in inbox.to("staff@example.gov"))  # who leads its review and watches it
    assert lead == [
        "[TST D-01] Manager Person started the review of D-01",
        "[TST D-01] Project Management Plan submitted for review",  # once, not again as its watcher
    ]


def test_a_webhook_turned_off_after_failures_is_told_to_whoever_made_it(db, conn, world, database_url, tmp_path, inbox):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager, m_access = acting(db, world, "manager")
    form = parse(webhooks.WebhookForm, {"url": "https://93.184.215.14/hook", "events": "risk.created"})
    hook = webhooks.create(db, manager, m_access, form, allow_private=False)
    db.commit()
    d.once()
    audit.record(
        db,
        actor_id=None,
        entity=hook,
        project_id=hook.project_id,
        label="93.184.215.14",
        action="disable",
        changes={"active": [True, False]},
    )
    db.commit()
    d.once()
    (msg,) = inbox.to("manager@example.gov")
    assert msg["Subject"] == "[TST] Webhook to 93.184.215.14 turned off after repeated failures"
    assert f"/projects/TST/webhooks/{hook.id}" in msg.get_body(("plain",)).get_content()
    assert [m["To"] for m in inbox.messages] == [msg["To"]]


def test_a_review_coming_due_is_reminded_once_and_once_more_when_it_is_overdue(
    db, conn, world, database_url, tmp_path, inbox, clock
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager, m_access = acting(db, world, "manager")
    deliverable = _plan(db, world, manager, m_access)
    _submit(db, world, deliverable, d.ctx.store)
    reviews.start_review(db, manager, m_access, deliverable, [world.ids["staff"]])
    db.commit()
    due = db.exec(select(ReviewAssignment.due_date).where(ReviewAssignment.reviewer_id == world.ids["staff"])).one()
    job = dispatch.Dispatcher(d.session_factory, d.ctx, {}, {"mail-reminders": dispatch.JOBS["mail-reminders"]})
    job.once()
    assert not [m for m in inbox.to("staff@example.gov") if "due soon" in m["Subject"]]  # not yet: days away
    clock.set(at_noon(due - timedelta(days=1)))
    job.once()
    clock.advance(hours=2)
    job.once()
    soon = [m["Subject"] for m in inbox.to("staff@example.gov") if "due soon" in m["Subject"]]
    assert soon == ["[TST D-01] The review you lead of Project Management Plan is due soon"]  # once, as its lead
    clock.set(at_noon(due + timedelta(days=1)))
    job.once()
    late = [m["Subject"] for m in inbox.to("staff@example.gov") if "overdue" in m["Subject"]]
    assert late == ["[TST D-01] The review you lead of Project Management Plan is overdue"]
    mail._store(db, world.ids["staff"], None, {"reminders": Mode.OFF})
    db.commit()
    clock.set(at_noon(due + timedelta(days=3)))
    before = len(inbox.messages)
    job.once()
    assert len(inbox.to("staff@example.gov")) == len([m for m in inbox.messages[:before] if "staff@" in m["To"]])


def test_a_saved_report_mailed_weekly_reaches_each_recipient_as_they_may_read_it(
    db, conn, world, database_url, tmp_path, inbox, as_user, clock
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    make_risk(db, world)
    columns = ["code", "title", "owner", "updated_at"]
    report = save(db, world, "staff", definition("risks", columns), "Open risks", shared=True)
    db.get(User, world.ids["viewer"]).timezone = "Asia/Tokyo"
    db.commit()
    staff, path = as_user("staff"), f"/projects/TST/saved-reports/{report.id}/schedule"
    assert "Not mailed" in staff.get(path, headers={"HX-Request": "true"}).text
    bad = staff.post(path, {"every": "weekly", "recipient_ids": str(world.ids["contractor"])})
    assert bad.status_code == 422 and "whose role may read" in bad.text
    none = staff.post(path, {"every": "weekly"})
    assert none.status_code == 422 and "Choose who receives it" in none.text
    ok = staff.post(path, {"every": "weekly", "recipient_ids": [str(world.ids["viewer"]), str(world.ids["manager"])]})
    assert ok.status_code == 303
    assert (
        as_user("viewer").post(path, {"every": "monthly", "recipient_ids": str(world.ids["viewer"])}).status_code == 403
    )
    stale = staff.post(path, {"every": "monthly", "recipient_ids": str(world.ids["viewer"]), "version": "0"})
    assert stale.status_code == 409
    job = dispatch.Dispatcher(d.session_factory, d.ctx, {}, {"report-schedules": dispatch.JOBS["report-schedules"]})
    clock.set(at_noon(tst_today()))
    job.once()
    for address, zone, abbreviation in (
        ("viewer@example.gov", "Asia/Tokyo", "JST"),  # as each reads times: their own zone, else the project's
        ("manager@example.gov", "America/Los_Angeles", "P"),
    ):
        (msg,) = inbox.to(address)
        assert msg["Subject"] == "[TST] Open risks: this week's report (1 row)"
        (sheet,) = list(msg.iter_attachments())
        assert sheet.get_filename().endswith(".xlsx") and sheet.get_content()[:2] == b"PK"
        book = load_workbook(io.BytesIO(sheet.get_content()))
        assert book.active["D2"].value == f"Updated ({zone})" and book.active["D3"].is_date
        about = dict(book["Filters"].iter_rows(min_row=2, values_only=True))
        assert about["Times in"] == zone and f" {abbreviation}" in about["Generated at"]
    clock.advance(hours=3)
    job.once()  # not again this week
    assert len(inbox.messages) == 2
    clock.set(at_noon(tst_today() + timedelta(days=7)))
    job.once()
    assert len(inbox.messages) == 4


def test_an_overdue_review_and_an_escalated_issue_reach_their_people_once(
    db, conn, world, database_url, tmp_path, inbox, clock
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager, m_access = acting(db, world, "manager")
    deliverable = _plan(db, world, manager, m_access)
    _submit(db, world, deliverable, d.ctx.store)
    issue = make_issue(db, world, owner_id=str(world.ids["staff"]))
    db.commit()
    clock.advance(days=30)
    assert "TST D-01" in deliverables.run_clocks(db, d.ctx.store).escalated
    staff, s_access = acting(db, world, "staff")
    escalate = {"status": "escalated", "escalation_level": "executive", "escalation_reason": "Budget"}
    issues.update(db, staff, s_access, issue, parse(issues.IssueForm, issues.form_values(db, issue) | escalate))
    db.commit()
    d.once()
    d.once()
    overdue = "[TST D-01] The review of Project Management Plan is overdue"
    assert [m["Subject"] for m in inbox.to("manager@example.gov")].count(overdue) == 1
    assert [m["Subject"] for m in inbox.to("staff@example.gov")] == [
        "[TST D-01] Project Management Plan submitted for review",
        overdue,
    ]
    escalated = [m for m in inbox.to("manager@example.gov") if "Issue escalated" in m["Subject"]]
    assert len(escalated) == 1 and f"/projects/TST/issues/{issue.id}" in escalated[0].get_body(("plain",)).get_content()
    for someone in ("contractor@example.gov", "viewer@example.gov"):
        assert not [m for m in inbox.to(someone) if "overdue" in m["Subject"] or "escalated" in m["Subject"]]
