"""Invitations by e-mail, end to end: a manager invites, the dispatcher mails the link through a real SMTP server after
the commit (the stored copy never holds it), the invitee makes an account from the link once and lands in the project
in the role chosen; a used, expired, revoked or superseded link gets a clear page; bad input is answered beside its
field; someone who has an account is added at once; the API does the same with versions."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlmodel import Session, SQLModel, func, select

from tests.conftest import PASSWORD, _session, make_settings, make_world
from tests.dbutil import IS_SQLITE, fresh_database
from tests.register.conftest import acting
from tracker.accounts import service as accounts
from tracker.accounts.models import SignIn, User
from tracker.audit.models import AuditEvent
from tracker.cli import migrate_database
from tracker.core.clock import utcnow
from tracker.core.db import make_engine
from tracker.core.errors import FormError
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.dispatch import service as dispatch
from tracker.mail import invitations as invitation_mail
from tracker.mail.models import MailStatus, OutgoingMail
from tracker.projects import invitations
from tracker.projects.models import Invitation, Membership, Project
from tracker.sso import service as sso

# The dispatcher's sessions here share the test's connection, on which a write cannot be made to begin anew.
pytestmark = pytest.mark.filterwarnings("ignore:Connection is already established:sqlalchemy.exc.SAWarning")

BASE = "https://tracker.example.gov"
ERIN = {"email": "Erin@Contractor.com", "full_name": "Erin Okafor", "role": "contractor"}
ACCOUNT = {"full_name": "Erin Okafor", "username": "eokafor", "password": PASSWORD, "confirm_password": PASSWORD}


def dispatcher(conn, database_url: str, tmp_path: Path, smtp_url: str = "") -> dispatch.Dispatcher:
    """The invitations handler only, on the test's own connection (its commits are savepoints)."""
    settings = make_settings(database_url, smtp_url=smtp_url, base_url=BASE)
    ctx = dispatch.Context(settings, FileStore(tmp_path / "files", 1024 * 1024))
    handlers = {invitation_mail.HANDLER: dispatch.HANDLERS[invitation_mail.HANDLER]}
    d = dispatch.Dispatcher(lambda: _session(conn), ctx, handlers, {})
    d.once()  # its cursor starts at the end of the trail: what happens from now on is sent
    return d


def path_in(text: str) -> str:
    found = re.search(re.escape(BASE) + r"(/invitations/\S+)", text)
    assert found, text
    return found.group(1)


def _invite(db, world, app, **overrides):
    manager, access = acting(db, world, "manager")
    form = parse(invitations.InviteForm, ERIN | overrides)
    invitation = invitations.invite(db, app.state.settings, manager, access, form).invitation
    db.commit()
    return invitation


def _link_path(app, invitation) -> str:
    return "/invitations/" + invitations.link(app.state.settings, invitation).rsplit("/invitations/", 1)[1]


def test_the_invitation_is_mailed_after_the_commit_and_its_link_makes_an_account_once(
    db, conn, world, database_url, tmp_path, inbox, as_user
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager = as_user("manager")
    r = manager.post("/projects/TST/invitations", ERIN)
    assert r.status_code == 303 and r.headers["location"] == "/projects/TST/invitations"
    assert "Invitation sent to erin@contractor.com" in manager.get("/projects/TST/invitations").text
    assert inbox.messages == []  # nothing is sent inside the request
    d.once()
    d.once()  # a second pass sends nothing twice
    (msg,) = inbox.to("erin@contractor.com")
    assert msg["Subject"] == "[TST] Manager Person invites you to Test Programme"
    assert "List-Unsubscribe" not in msg
    text, html = msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()
    path = path_in(text)
    assert f'href="{BASE}{path}"' in html and "as Contractor" in text and "works once" in text
    stored = db.exec(select(OutgoingMail)).one()
    token = path.rsplit("/", 1)[1]
    assert stored.status == MailStatus.SENT and stored.kind == "invitation"
    assert token not in stored.text + stored.html and invitation_mail.LINK_KEPT_AS in stored.text
    invitation = db.exec(select(Invitation)).one()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()  # only its hash is kept
    for table in SQLModel.metadata.sorted_tables:
        assert token[4:24] not in repr(db.execute(sa_select(table)).all()), table.name

    invitee = as_user(None)
    page = invitee.get(path)
    assert page.status_code == 200 and "Join TST" in page.text and "erin@contractor.com" in page.text
    assert 'value="Erin Okafor"' in page.text and "as <strong>Contractor</strong>" in page.text

    r = invitee.post(path, ACCOUNT)
    assert r.status_code == 303 and r.headers["location"] == "/projects/TST"
    home = invitee.get("/projects/TST")
    assert home.status_code == 200 and "Welcome, Erin Okafor" in home.text
    user = db.exec(select(User).where(User.username == "eokafor")).one()
    assert user.email == "erin@contractor.com" and not user.is_admin
    membership = db.exec(select(Membership).where(Membership.user_id == user.id)).one()
    assert membership.role == "contractor"
    db.refresh(invitation)
    assert invitation.accepted_at is not None and invitation.user_id == user.id
    assert as_user(None).login("eokafor").status_code == 303  # the password chosen signs in

    again = as_user(None)
    used = again.get(path)
    assert used.status_code == 410 and "used already" in used.text
    r = again.post(path, ACCOUNT | {"username": "eokafor2"})
    assert r.status_code == 410 and db.exec(select(User).where(User.username == "eokafor2")).first() is None
    history = manager.get("/projects/TST/history").text
    assert "sent invitation" in history and "accepted invitation" in history and "joined by invitation as" in history
    assert "No invitation is waiting" in manager.get("/projects/TST/invitations").text


def test_bad_account_details_are_answered_beside_their_fields_and_kept(db, world, app, as_user):
    invitation = _invite(db, world, app)
    path = _link_path(app, invitation)
    invitee = as_user(None)
    bad = {"full_name": "", "username": "x y", "password": "short", "confirm_password": "short"}
    r = invitee.post(path, bad)
    assert r.status_code == 422
    for field in ("full_name", "username", "password"):
        assert f'id="f-{field}-error"' in r.text, field
    assert 'value="x y"' in r.text and 'value="short"' not in r.text  # the input kept, never a password
    assert "at least 10 characters" in r.text
    r = invitee.post(path, ACCOUNT | {"confirm_password": PASSWORD + "!"})
    assert r.status_code == 422 and 'id="f-confirm_password-error"' in r.text and "differ" in r.text
    r = invitee.post(path, ACCOUNT | {"username": "staff"})
    assert r.status_code == 422 and 'id="f-username-error"' in r.text and "taken" in r.text
    assert db.exec(select(User).where(User.email == "erin@contractor.com")).first() is None
    assert invitee.post(path, ACCOUNT).status_code == 303  # the link still works after bad tries


def test_an_expired_link_gets_a_clear_page_and_sending_it_again_gives_a_new_one(db, world, app, as_user, clock):
    invitation = _invite(db, world, app)
    old = _link_path(app, invitation)
    clock.advance(days=invitations.EXPIRES_AFTER.days, minutes=1)
    invitee = as_user(None)
    r = invitee.get(old)
    assert r.status_code == 410 and "expired" in r.text
    assert invitee.post(old, ACCOUNT).status_code == 410
    manager = as_user("manager")
    page = manager.get("/projects/TST/invitations").text
    assert "Expired" in page and "erin@contractor.com" in page
    r = manager.post(f"/projects/TST/invitations/{invitation.id}/resend", {"version": str(invitation.version)})
    assert r.status_code == 303
    db.refresh(invitation)
    new = _link_path(app, invitation)
    assert new != old
    assert invitee.get(old).status_code == 404  # the link sent before opens nothing now
    assert invitee.get(new).status_code == 200
    assert invitee.post(new, ACCOUNT).status_code == 303


def test_a_revoked_link_gets_a_clear_page_and_no_mail_goes_out(
    db, conn, world, app, database_url, tmp_path, inbox, as_user
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager = as_user("manager")
    manager.post("/projects/TST/invitations", ERIN)
    invitation = db.exec(select(Invitation)).one()
    r = manager.post(f"/projects/TST/invitations/{invitation.id}/revoke", {"version": "1"})
    assert r.status_code == 303
    d.once()
    assert inbox.messages == []  # revoked before the dispatcher came to it
    page = as_user(None).get(_link_path(app, invitation))
    assert page.status_code == 410 and "withdrawn" in page.text
    r = manager.post(f"/projects/TST/invitations/{invitation.id}/revoke", {"version": "2"}, follow_redirects=True)
    assert "revoked already" in r.text  # said, not done twice
    assert as_user(None).get("/invitations/inv_not-a-real-token").status_code == 404


def test_sending_again_before_the_dispatcher_runs_mails_the_newest_link_once(
    db, conn, world, database_url, tmp_path, inbox, as_user
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    manager = as_user("manager")
    manager.post("/projects/TST/invitations", ERIN)
    invitation = db.exec(select(Invitation)).one()
    manager.post(f"/projects/TST/invitations/{invitation.id}/resend", {"version": "1"})
    d.once()
    (msg,) = inbox.to("erin@contractor.com")
    path = path_in(msg.get_body(("plain",)).get_content())
    assert as_user(None).get(path).status_code == 200
    manager.post(f"/projects/TST/invitations/{invitation.id}/resend", {"version": "2"})
    d.once()
    assert len(inbox.to("erin@contractor.com")) == 2
    assert as_user(None).get(path).status_code == 404  # the first message's link is spent


def test_without_a_server_the_kept_message_holds_the_link_for_the_outgoing_mail_page(
    db, conn, world, database_url, tmp_path, as_user
):
    d = dispatcher(conn, database_url, tmp_path)
    as_user("manager").post("/projects/TST/invitations", ERIN)
    d.once()
    kept = db.exec(select(OutgoingMail)).one()
    assert kept.status == MailStatus.KEPT and invitation_mail.LINK_KEPT_AS not in kept.text
    page = as_user("admin").get(f"/admin/mail/{kept.id}").text
    assert f"{BASE}/invitations/inv_" in page


def test_someone_with_an_account_is_added_at_once(db, world, as_user):
    manager = as_user("manager")
    r = manager.post("/projects/TST/invitations", {"email": "OUTSIDER@example.gov", "full_name": "x", "role": "viewer"})
    assert r.status_code == 303 and r.headers["location"] == "/projects/TST#members"
    assert "Outsider Person has an account already: added to TST as Viewer" in manager.get("/projects/TST").text
    tst = db.exec(select(Project.id).where(Project.key == "TST")).one()
    membership = db.exec(
        select(Membership).where(Membership.user_id == world.ids["outsider"], Membership.project_id == tst)
    )
    assert membership.one().role == "viewer"
    assert db.exec(select(Invitation)).first() is None
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "add_member")).all()[-1]
    assert event.actor_id == world.ids["manager"] and event.entity_label == "Outsider Person"


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (ERIN | {"email": "not-an-address"}, "email", "e-mail address"),
        (ERIN | {"full_name": ""}, "full_name", "Name"),
        (ERIN | {"role": "admin"}, "role", "Role"),
        (ERIN | {"email": "staff@example.gov"}, "email", "already a member"),
    ],
)
def test_bad_invitations_are_answered_beside_their_fields(as_user, data, field, words):
    r = as_user("manager").post("/projects/TST/invitations", data)
    assert r.status_code == 422 and f'id="f-{field}-error"' in r.text
    error = re.search(rf'id="f-{field}-error" class="field-error">([^<]*)<', r.text).group(1)
    assert words.lower() in error.lower(), error
    if field != "email":
        assert 'value="Erin@Contractor.com"' in r.text  # the input kept


def test_an_address_already_invited_is_sent_again_rather_than_twice(db, world, app, as_user):
    _invite(db, world, app)
    r = as_user("manager").post("/projects/TST/invitations", ERIN | {"email": "erin@CONTRACTOR.com"})
    assert r.status_code == 422 and "send it again" in r.text
    assert len(db.exec(select(Invitation)).all()) == 1


def test_the_api_invites_sends_again_and_revokes_naming_versions(db, world, as_user):
    manager = as_user("manager")
    r = manager.api("POST", "/api/v1/projects/TST/invitations", json=ERIN)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["outcome"] == "invited" and body["member"] is None
    invited = body["invitation"]
    assert invited["email"] == "erin@contractor.com" and invited["state"] == "pending" and invited["version"] == 1
    assert invited["invited_by"] == "Manager Person"
    listed = manager.api("GET", "/api/v1/projects/TST/invitations").json()
    assert [i["id"] for i in listed] == [invited["id"]]
    url = f"/api/v1/projects/TST/invitations/{invited['id']}"
    stale = manager.api("POST", f"{url}/resend", json={"version": 7})
    assert stale.status_code == 409 and stale.json()["status_code"] == 409
    again = manager.api("POST", f"{url}/resend", json={"version": 1})
    assert again.status_code == 200 and again.json()["version"] == 2
    assert again.json()["expires_at"] >= invited["expires_at"]
    revoked = manager.api("POST", f"{url}/revoke", json={"version": 2})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    twice = manager.api("POST", f"{url}/revoke", json={"version": 3})
    assert twice.status_code == 409 and "revoked already" in twice.json()["detail"]
    assert manager.api("GET", "/api/v1/projects/TST/invitations").json() == []

    added = manager.api("POST", "/api/v1/projects/TST/invitations", json=ERIN | {"email": "outsider@example.gov"})
    assert added.status_code == 201 and added.json()["outcome"] == "added"
    assert added.json()["member"]["username"] == "outsider" and added.json()["member"]["role"] == "contractor"
    bad = manager.api("POST", "/api/v1/projects/TST/invitations", json=ERIN | {"email": "nope"})
    assert bad.status_code == 422 and "email" in bad.json()["extra"]
    unknown = manager.api("POST", "/api/v1/projects/TST/invitations", json=ERIN | {"admin": True})
    assert unknown.status_code == 400


def test_the_invitations_page_costs_the_same_queries_for_one_invitation_or_many(db, world, app, as_user, count_queries):
    manager = as_user("manager")
    _invite(db, world, app)
    with count_queries() as one:
        assert manager.get("/projects/TST/invitations").status_code == 200
    for n in range(5):
        _invite(db, world, app, email=f"person{n}@example.org")
    with count_queries() as many:
        page = manager.get("/projects/TST/invitations")
    assert page.text.count('<tr id="invitation-') == 6
    assert many.count == one.count


def test_where_password_sign_in_is_off_the_invitee_makes_no_password_and_signs_in_by_single_sign_on(
    db, world, app, as_user
):
    admin = accounts.principal(db.get(User, world.ids["admin"]))
    sso.save_policy(db, admin, sso.PolicyForm(local_passwords=False, break_glass_ids=[admin.id]))
    invitation = _invite(db, world, app)
    path = _link_path(app, invitation)
    invitee = as_user(None)
    page = invitee.get(path)
    assert page.status_code == 200 and "password sign-in is off here" in page.text
    assert 'name="password"' not in page.text
    r = invitee.post(path, {"full_name": "Erin Okafor", "username": "eokafor"})
    assert r.status_code == 303 and r.headers["location"] == "/login"  # the link is no way around the policy
    assert "Sign in with single sign-on, using erin@contractor.com" in invitee.get("/login").text
    assert invitee.get("/projects/TST", follow_redirects=False).status_code == 302
    user = db.exec(select(User).where(User.username == "eokafor")).one()
    assert _membership_role(db, user.id) == "contractor"


def _membership_role(db, user_id: int) -> str:
    return db.exec(select(Membership.role).where(Membership.user_id == user_id)).one()


def test_the_invitees_first_sign_in_is_on_the_sign_in_log(db, world, app, as_user):
    invitation = _invite(db, world, app)
    assert as_user(None).post(_link_path(app, invitation), ACCOUNT).status_code == 303
    row = db.exec(select(SignIn).where(SignIn.username == "eokafor")).one()
    assert (row.method, row.outcome) == ("invitation", "signed_in")


def test_where_everyone_needs_a_second_factor_the_invitee_sets_one_up_before_landing(db, world, app, as_user):
    admin = accounts.principal(db.get(User, world.ids["admin"]))
    sso.save_policy(db, admin, sso.PolicyForm(mfa_required="everyone"))
    invitation = _invite(db, world, app)
    invitee = as_user(None)
    r = invitee.post(_link_path(app, invitation), ACCOUNT)
    assert r.status_code == 303 and r.headers["location"] == "/login/enrol"
    assert invitee.get("/projects/TST", follow_redirects=False).headers["location"].startswith("/login")
    page = invitee.get("/login/enrol")
    assert page.status_code == 200 and "Set up your second factor" in page.text
    secret = re.search(r'id="mfa-secret"[^>]*>([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    r = invitee.post("/login/enrol", {"code": pyotp.TOTP(secret).at(utcnow())})
    assert r.status_code == 200 and "Save these recovery codes now" in r.text
    assert invitee.get("/projects/TST").status_code == 200


@pytest.mark.skipif(IS_SQLITE, reason="SQLite's write requests take the write lock as they begin: invitations queue")
def test_two_managers_inviting_one_address_at_once_make_one_invitation(tmp_path):
    """On a database of its own, as two requests would each have their connection and commit for real: the second
    waits for the first's commit, then finds its invitation."""
    with fresh_database(tmp_path) as url:
        migrate_database(url)
        engine = make_engine(url)
        try:
            settings = make_settings(url, base_url=BASE)
            with Session(engine) as db:
                world = make_world(db)
                db.commit()
            first, second = Session(engine), Session(engine)
            manager, access = acting(first, world, "manager")
            invitations.invite(first, settings, manager, access, parse(invitations.InviteForm, ERIN))  # not committed
            outcome: list[str] = []

            def meanwhile() -> None:
                other, other_access = acting(second, world, "manager")
                try:
                    invitations.invite(second, settings, other, other_access, parse(invitations.InviteForm, ERIN))
                    second.commit()
                    outcome.append("invited twice")
                except FormError as exc:
                    outcome.append(exc.errors["email"])

            thread = threading.Thread(target=meanwhile)
            thread.start()
            waiting = (
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            for _ in range(2000):  # until the second invitation waits for the first (or, unguarded, is made)
                with engine.connect() as conn:
                    if conn.execute(text(waiting)).scalar() or not thread.is_alive():
                        break
                time.sleep(0.005)
            first.commit()
            thread.join()
            assert outcome == ["This address has an invitation already: send it again from the list below."]
            with Session(engine) as db:
                assert db.exec(select(func.count()).select_from(Invitation)).one() == 1
            first.close()
            second.close()
        finally:
            engine.dispose()
