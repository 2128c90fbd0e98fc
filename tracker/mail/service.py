"""Mail: the dispatcher's `mail` handler turns each event of the trail into one message per person concerned (by the
kinds table, mail/kinds.py, and each person's preferences), the `mail-digest` job sends each person's daily digest,
and the transport sends over SMTP, or keeps the message here when no server is configured. Every message is written
once under (key, address) before it is sent, so a second dispatcher finds it written and does not send it again."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import re
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from pydantic import EmailStr
from pydantic import Field as PydField
from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal, principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.audit.history import ACTION_WORDS
from tracker.audit.models import AuditEvent
from tracker.core.calendar import business_days_between
from tracker.core.clock import deadline_state, utcnow
from tracker.core.db import begin_write, commit
from tracker.core.errors import FormError, NotFound
from tracker.core.files import FileStore
from tracker.core.forms import Form
from tracker.core.web import make_environment, show_date, viewing, zone_for
from tracker.deliverables.models import Decision, GeneratedRecord
from tracker.dispatch import service as dispatch
from tracker.dispatch.models import DispatchEffect
from tracker.home import service as home
from tracker.mail.kinds import KINDS, About, EventKind, about, kinds_of, may_read
from tracker.mail.models import MailPreference, MailSettings, MailStatus, Mode, OutgoingMail, ReportRecipient, Watch
from tracker.projects.calendar import project_holidays
from tracker.projects.models import Project
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register.kinds import KINDS as REGISTER
from tracker.register.meetings import service as meetings
from tracker.register.meetings.models import Meeting
from tracker.register.risks import scoring
from tracker.reports import documents
from tracker.reports import service as reports
from tracker.reports.models import StatusReport
from tracker.settings import Settings

log = logging.getLogger("tracker.mail")
history.register(
    verbs={
        "mail_defaults": "changed the mail defaults of",
        "add_report_recipient": "added a status report recipient to",
        "remove_report_recipient": "removed a status report recipient from",
    },
    terms={
        "add_report_recipient": history.Terms({"report_recipient": "Status report recipient"}),
        "remove_report_recipient": history.Terms({"report_recipient": "Status report recipient"}),
        "mail_defaults": history.Terms(
            {k.label: k.label for k in KINDS.values()},
            dict.fromkeys((k.label for k in KINDS.values()), lambda v, _: dict(MODE_WORDS).get(v, v)),
        ),
    },
)
HANDLER = "mail"
MODE_WORDS = [
    (Mode.IMMEDIATE.value, "Immediately"),
    (Mode.DIGEST.value, "In the daily digest"),
    (Mode.OFF.value, "Off"),
]
DIGEST_EVERY = timedelta(minutes=15)  # how often the digest job looks for people whose hour has come
_env = make_environment()


# --- preferences ---------------------------------------------------------------------------------------------------


def mode_for(db: Session, user_id: int, project_id: int, kind: EventKind) -> Mode:
    """The person's own choice, else the project's default, else the kind's."""
    rows = db.exec(
        select(MailPreference).where(
            MailPreference.kind == kind.key,
            or_(
                and_(MailPreference.user_id == user_id, col(MailPreference.project_id).is_(None)),
                and_(col(MailPreference.user_id).is_(None), MailPreference.project_id == project_id),
            ),
        )
    ).all()
    own = next((r.mode for r in rows if r.user_id == user_id), None)
    default = next((r.mode for r in rows if r.user_id is None), None)
    return Mode(own or default or kind.default)


def _rows(db: Session, user_id: int | None, project_id: int | None) -> list[MailPreference]:
    """The choices of one person (project None) or one project's defaults (user None)."""
    stmt = select(MailPreference).where(
        col(MailPreference.user_id).is_(None) if user_id is None else MailPreference.user_id == user_id,
        col(MailPreference.project_id).is_(None) if project_id is None else MailPreference.project_id == project_id,
    )
    return list(db.exec(stmt))


def _choices(db: Session, user_id: int | None, project_id: int | None) -> dict[str, Mode]:
    return {r.kind: Mode(r.mode) for r in _rows(db, user_id, project_id)}


def preferences(db: Session, user_id: int) -> dict[str, Mode]:
    """Every kind's mode as the person chose it (None where they left it to the project's default)."""
    return _choices(db, user_id, None)


def project_defaults(db: Session, project_id: int) -> dict[str, Mode]:
    return _choices(db, None, project_id)


def _store(db: Session, user_id: int | None, project_id: int | None, values: dict[str, Mode | None]) -> list[str]:
    """Write the choices (None: leave it to the default); the kinds whose choice changed."""
    current = {r.kind: r for r in _rows(db, user_id, project_id)}
    changed = []
    for key, mode in values.items():
        row = current.get(key)
        if mode is None and row is not None:
            db.delete(row)
        elif mode is not None and row is None:
            db.add(MailPreference(user_id=user_id, project_id=project_id, kind=key, mode=mode.value))
        elif mode is not None and row is not None and row.mode != mode:
            row.mode = mode.value
        else:
            continue
        changed.append(key)
    db.flush()
    return changed


def parse_choices(data: dict[str, Any], allow_default: bool) -> dict[str, Mode | None]:
    """The preferences form: one field per kind, a mode (or "default", on a person's own page)."""
    out: dict[str, Mode | None] = {}
    errors = {}
    for key in KINDS:
        value = data.get(f"kind_{key}", "default" if allow_default else KINDS[key].default.value)
        if allow_default and value == "default":
            out[key] = None
            continue
        try:
            out[key] = Mode(value)
        except ValueError:
            errors[f"kind_{key}"] = "Choose immediately, in the daily digest, or off."
    if errors:
        raise FormError(errors)
    return out


def settings_of(db: Session, user_id: int) -> MailSettings:
    return db.get(MailSettings, user_id) or MailSettings(user_id=user_id)


def save_preferences(
    db: Session, actor: Principal, values: dict[str, Mode | None], hour: int, version: int | None
) -> None:
    """A person's own choices and their digest's hour (in their profile's time zone: `digest_zone`)."""
    if not -1 <= hour <= 23:
        raise FormError({"digest_hour": "Choose an hour from 0 to 23, or leave it blank for no digest."})
    mine = settings_of(db, actor.id)
    mine.check_seen(version if db.get(MailSettings, actor.id) else None, {"digest_hour": mine.digest_hour})
    mine.digest_hour = hour
    db.add(mine)
    _store(db, actor.id, None, values)
    db.flush()


def save_project_defaults(db: Session, actor: Principal, access: Access, values: dict[str, Mode]) -> None:
    access.require(Perm.MAIL_DEFAULTS)
    changed = _store(db, None, access.project.id, dict(values))
    if changed:
        _project_event(db, actor, access, "mail_defaults", {KINDS[k].label: [None, values[k].value] for k in changed})


# --- status report distribution ---------------------------------------------------------------------------------


class RecipientForm(Form):
    name: str = PydField(default="", max_length=120)
    address: EmailStr


RecipientForm.labels = {"name": "Name", "address": "E-mail address"}


def report_recipients(db: Session, project_id: int) -> list[ReportRecipient]:
    stmt = select(ReportRecipient).where(ReportRecipient.project_id == project_id)
    return list(db.exec(stmt.order_by(ReportRecipient.name, ReportRecipient.address)))


def add_report_recipient(db: Session, actor: Principal, access: Access, form: RecipientForm) -> ReportRecipient:
    access.require(Perm.MAIL_DEFAULTS)
    address = str(form.address).lower()
    taken = db.exec(
        select(ReportRecipient.id).where(
            ReportRecipient.project_id == access.project.id, ReportRecipient.address == address
        )
    ).first()
    if taken is not None:
        raise FormError({"address": f"{address} already receives {access.project.key}'s status reports."})
    row = ReportRecipient(project_id=access.project.id, name=form.name, address=address)
    db.add(row)
    db.flush()
    named = f"{form.name} ({address})" if form.name else address
    _project_event(db, actor, access, "add_report_recipient", {"report_recipient": [None, named]})
    return row


def remove_report_recipient(
    db: Session, actor: Principal, access: Access, recipient_id: int, version: int
) -> ReportRecipient:
    access.require(Perm.MAIL_DEFAULTS)
    row = db.get(ReportRecipient, recipient_id)
    if row is None or row.project_id != access.project.id:
        raise NotFound(detail="No such recipient in this project.")
    row.check_seen(version, {"address": row.address, "name": row.name})
    db.delete(row)
    db.flush()
    named = f"{row.name} ({row.address})" if row.name else row.address
    _project_event(db, actor, access, "remove_report_recipient", {"report_recipient": [named, None]})
    return row


def _project_event(db: Session, actor: Principal, access: Access, action: str, changes: dict[str, Any]) -> None:
    """An event on the project's own trail (its mail defaults, its distribution list)."""
    audit.record(
        db,
        actor_id=actor.id,
        entity=access.project,
        project_id=access.project.id,
        label=access.project.key,
        action=action,
        changes=changes,
    )


# --- watching ------------------------------------------------------------------------------------------------------

THREAD_ENTITY = {"deliverable": "deliverable"} | {k.plural: k.entity for k in REGISTER.values()}  # a thread's record
WATCHED = re.compile(rf"^({'|'.join(THREAD_ENTITY)})-(\d{{1,12}})$")


def watched_record(db: Session, user: User, record: str) -> About:
    """The record a watch names ("risks-12"), if this person may read it; 404 otherwise."""
    match = WATCHED.match(record or "")
    event = AuditEvent(entity_type=THREAD_ENTITY[match[1]], entity_id=int(match[2]), action="") if match else None
    a = about(db, event) if event else None
    if a is None or may_read(db, user, KINDS["watched"], a) is None:
        raise NotFound(detail="No such record.")
    return a


def watching(db: Session, user_id: int, record: str) -> tuple[bool, int]:
    """(whether this person watches the record, how many do)."""
    rows = db.exec(select(Watch.user_id).where(Watch.record == record)).all()
    return user_id in rows, len(rows)


def set_watching(db: Session, user: User, record: str, on: bool) -> About:
    a = watched_record(db, user, record)
    row = db.exec(select(Watch).where(Watch.user_id == user.id, Watch.record == a.thread)).first()
    if on and row is None:
        db.add(Watch(user_id=user.id, record=a.thread))
    elif not on and row is not None:
        db.delete(row)
    db.flush()
    return a


# --- unsubscribe links -------------------------------------------------------------------------------------------


def _sign(settings: Settings, payload: str) -> str:
    return hmac.new(settings.derived_key("unsubscribe"), payload.encode(), hashlib.sha256).hexdigest()[:32]


def unsubscribe_token(settings: Settings, user_id: int, kind: str) -> str:
    payload = base64.urlsafe_b64encode(f"{user_id}:{kind}".encode()).decode().rstrip("=")
    return f"{payload}.{_sign(settings, payload)}"


def read_token(settings: Settings, token: str) -> tuple[int, str]:
    """(user id, kind) of a signed unsubscribe link; 404 for anything else."""
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(signature, _sign(settings, payload)):
        raise NotFound(detail="This unsubscribe link is not valid.")
    try:
        user_id, kind = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode().split(":", 1)
        return int(user_id), kind
    except ValueError:
        raise NotFound(detail="This unsubscribe link is not valid.") from None


def unsubscribe(db: Session, settings: Settings, token: str) -> tuple[User, str]:
    user_id, kind = read_token(settings, token)
    user = db.get(User, user_id)
    if user is None or (kind not in KINDS and kind != "digest"):
        raise NotFound(detail="This unsubscribe link is not valid.")
    if kind == "digest":
        mine = settings_of(db, user_id)
        mine.digest_hour = -1  # no digest
        db.add(mine)
    else:
        _store(db, user_id, None, {kind: Mode.OFF})
    db.flush()
    return user, kind


# --- messages ------------------------------------------------------------------------------------------------------


def domain_of(settings: Settings) -> str:
    return urlsplit(settings.base_url).hostname or "localhost"


def write(db: Session, mail: OutgoingMail) -> OutgoingMail:
    """The message, written once under (key, address): the row already there when another process wrote it. The
    caller's reads end here (it has nothing pending), so on SQLite the write lock is taken before the row is looked
    for, not by upgrading a read that another writer may have overtaken."""
    if db.in_transaction():
        db.commit()
    begin_write(db)
    existing = db.exec(
        select(OutgoingMail).where(OutgoingMail.key == mail.key, OutgoingMail.to_address == mail.to_address)
    ).first()
    if existing is not None:
        db.commit()
        return existing
    db.add(mail)
    try:
        commit(db)
    except IntegrityError:
        db.rollback()
        return db.exec(
            select(OutgoingMail).where(OutgoingMail.key == mail.key, OutgoingMail.to_address == mail.to_address)
        ).one()
    return mail


def reveal(text: str, secret: tuple[str, str] | None) -> str:
    """The text with a secret (an invitation's link) put in place of the words that stand for it in the kept copy."""
    return text.replace(*secret) if secret else text


def build(
    mail: OutgoingMail, settings: Settings, store: FileStore, to_name: str, secret: tuple[str, str] | None = None
) -> EmailMessage:
    """The MIME message: plain text and HTML, the attachments, threading and one-click unsubscribe headers."""
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = formataddr((to_name, mail.to_address))
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = (mail.created_at or utcnow()).strftime("%a, %d %b %Y %H:%M:%S +0000")
    if mail.thread:
        msg["In-Reply-To"] = mail.thread
        msg["References"] = mail.thread
    if mail.user_id is not None:
        link = f"{settings.base_url}/mail/unsubscribe/{unsubscribe_token(settings, mail.user_id, mail.kind)}"
        msg["List-Unsubscribe"] = f"<{link}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(reveal(mail.text, secret))
    msg.add_alternative(reveal(mail.html, secret), subtype="html")
    for a in mail.attachments:
        maintype, _, subtype = a["type"].partition("/")
        with store.open(a["sha256"]) as f:
            msg.add_attachment(f.read(), maintype=maintype, subtype=subtype, filename=a["name"])
    return msg


class Refused(Exception):
    """The server refused the message for good (a bad address): not tried again."""


def transport(settings: Settings, msg: EmailMessage) -> None:
    """Send over SMTP as TRACKER_SMTP_URL says: smtp:// (plain, or STARTTLS when the server offers it is not
    assumed), smtp+starttls://, smtps://; user and password from the URL."""
    url = urlsplit(settings.smtp_url)
    secure = url.scheme == "smtps"
    port = url.port or (465 if secure else 587 if url.scheme == "smtp+starttls" else 25)
    context = ssl.create_default_context()
    client = smtplib.SMTP_SSL(url.hostname, port, context=context, timeout=30) if secure else None
    client = client or smtplib.SMTP(url.hostname, port, timeout=30)
    try:
        if url.scheme == "smtp+starttls":
            client.starttls(context=context)
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise Refused(str(exc)) from exc
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise Refused(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        raise
    finally:
        with contextlib.suppress(smtplib.SMTPException):
            client.quit()


def deliver(
    db: Session, mail: OutgoingMail, settings: Settings, store: FileStore, secret: tuple[str, str] | None = None
) -> None:
    """Send a written message once: kept when no server is configured; a refusal marks it failed (other mail goes
    on); any other failure is counted and raised, so the dispatcher tries again later, and marks it failed after
    its last try. `secret`: (the words that stand for it in the stored copy, the secret itself), put in the message
    as it is sent, so the stored copy never holds it; without a server the stored copy is how the message reaches its
    reader, so it is put in there."""
    if mail.status != MailStatus.QUEUED:
        return
    if not settings.smtp_url:
        mail.text, mail.html = reveal(mail.text, secret), reveal(mail.html, secret)
        _finish(db, mail, MailStatus.KEPT)
        return
    user = db.get(User, mail.user_id) if mail.user_id else None
    try:
        transport(settings, build(mail, settings, store, user.full_name if user else "", secret))
    except Refused as exc:
        _finish(db, mail, MailStatus.FAILED, str(exc))
        return
    except Exception as exc:
        mail.attempts += 1
        last = mail.attempts >= dispatch.MAX_ATTEMPTS
        _finish(db, mail, MailStatus.FAILED if last else MailStatus.QUEUED, f"{type(exc).__name__}: {exc}")
        raise
    _finish(db, mail, MailStatus.SENT)


def _finish(db: Session, mail: OutgoingMail, status: MailStatus, error: str = "") -> None:
    begin_write(db)
    mail.status, mail.error = status.value, error[:2000]
    if status in (MailStatus.SENT, MailStatus.KEPT):
        mail.sent_at = utcnow()
    db.add(mail)
    commit(db)


def for_recipient(user: User | None) -> contextlib.AbstractContextManager[None]:
    """Times and dates as the recipient reads them (core.web): their zone and format; an address outside the
    project has none, so the project's zone."""
    return viewing(user.timezone, user.date_format) if user else viewing()


def render(template: str, **context: Any) -> tuple[str, str]:
    """(text, html) of templates/mail/{template}.txt and .html, for the recipient `user` (None: an address)."""
    with for_recipient(context.get("user")):
        return (
            _env.get_template(f"mail/{template}.txt").render(**context),
            _env.get_template(f"mail/{template}.html").render(**context),
        )


def report_print(db: Session, report_id: int) -> tuple[str, str]:
    """A published report's printable HTML and its PDF's file name."""
    report = db.get(StatusReport, report_id)
    html = documents.render_print(report.content, meta=documents.meta_line(reports.row_of(db, report)), scoring=scoring)
    return html, documents.filename(report.content, report.number, "pdf")


def pdf_attachment(store: FileStore, name: str, pdf: bytes) -> list[dict[str, str]]:
    sha, _ = store.put(pdf)
    return [{"name": name, "sha256": sha, "type": "application/pdf"}]


def _printed_once(
    db: Session, event: AuditEvent, kind: EventKind, store: FileStore, printed: Any
) -> list[dict[str, str]]:
    """A PDF rendered once for every recipient of the event (the first message written keeps it); the handler
    renders it before it writes, so no write waits on it. `printed()` gives (pdf, name)."""
    earlier = db.exec(
        select(OutgoingMail.attachments).where(OutgoingMail.key == f"event:{event.id}:{kind.key}")
    ).first()
    if earlier:
        return earlier
    pdf, name = printed()
    return pdf_attachment(store, name, pdf)


def _report_pdf(db: Session, event: AuditEvent) -> tuple[bytes, str]:
    """The published report as its PDF."""
    html, name = report_print(db, event.entity_id)
    return documents.to_pdf(html), name


def _attachments(db: Session, event: AuditEvent, kind: EventKind, store: FileStore) -> list[dict[str, str]]:
    """A decision's letter, in PDF, when it has been rendered; a published report's PDF; a meeting's minutes."""
    if kind.key == "report_published":
        return _printed_once(db, event, kind, store, lambda: _report_pdf(db, event))
    if kind.key == "minutes_mailed":
        meeting = db.get(Meeting, event.entity_id)
        return _printed_once(db, event, kind, store, lambda: meetings.minutes_pdf(db, meeting))
    if kind.key != "decided":
        return []
    decision = db.exec(
        select(Decision).where(Decision.deliverable_id == event.entity_id).order_by(col(Decision.id).desc())
    ).first()
    if decision is None:
        return []
    letters = db.exec(
        select(GeneratedRecord).where(GeneratedRecord.decision_id == decision.id, GeneratedRecord.format == "pdf")
    ).all()
    return [{"name": r.filename, "sha256": r.sha256, "type": "application/pdf"} for r in letters]


def who_and_verb(db: Session, event: AuditEvent) -> tuple[str, str]:
    """Who did it (the contract clock when no one) and the trail's word for what they did."""
    actor = db.get(User, event.actor_id) if event.actor_id else None
    verb = ACTION_WORDS.get(event.action, event.action.replace("_", " "))
    return (actor.full_name if actor else "The contract clock"), verb


def headline_of(kind: EventKind, a: About, who: str, verb: str) -> str:
    """The kind's headline for an event: {title}, {code}, {verb} (the trail's word) and {actor} filled in."""
    return kind.headline.format(title=a.title, code=a.code or a.title, verb=verb, actor=who)


def event_mail(
    db: Session,
    settings: Settings,
    store: FileStore,
    event: AuditEvent,
    kind: EventKind,
    user: User | None,
    a: About,
    address: str = "",
    attachments: list[dict[str, str]] | None = None,
) -> OutgoingMail:
    """The message of an event for a person (or, for a published report, an address outside the project).
    `attachments`: given when they were rendered ahead (the demo renders its reports' PDFs on every core)."""
    who, verb = who_and_verb(db, event)
    headline = headline_of(kind, a, who, verb)
    code = f" {a.code}" if a.code else ""
    subject = f"[{a.project.key}{code}] {headline}"[:300]
    link = f"{settings.base_url}{a.path}"
    unsubscribe = (
        f"{settings.base_url}/mail/unsubscribe/{unsubscribe_token(settings, user.id, kind.key)}" if user else ""
    )
    text, html = render(
        "event",
        project=a.project,  # its zone, for a recipient without one
        user=user,
        name=user.full_name if user else "",
        kind=kind,
        about=a,
        event=event,
        actor=who,
        verb=verb,
        headline=headline,
        link=link,
        preferences=f"{settings.base_url}/account/notifications" if user else "",
        unsubscribe=unsubscribe,
    )
    domain = domain_of(settings)
    return OutgoingMail(
        key=f"event:{event.id}:{kind.key}",
        kind=kind.key,
        user_id=user.id if user else None,
        project_id=a.project.id,
        to_address=user.email if user else address,
        subject=subject,
        text=text,
        html=html,
        message_id=make_msgid(f"event{event.id}.{kind.key}", domain=domain),
        thread=f"<{a.thread}@{domain}>",
        attachments=_attachments(db, event, kind, store) if attachments is None else attachments,
    )


# --- the dispatcher's handler ------------------------------------------------------------------------------------


def concerned(db: Session, event: AuditEvent) -> list[str]:
    """Everyone this event is told to, as "kind:user id" (immediately) or "digest:kind:user id" (in the digest):
    the kinds it is, the people each names, less whoever did it, less whoever may no longer read the record or
    chose not to be told."""
    kinds = kinds_of(event)
    a = about(db, event) if kinds else None
    if a is None:
        return []
    out, told = [], {event.actor_id}  # each person once an event, by the first kind that names them
    for kind in kinds:
        for user_id in sorted(kind.recipients(db, event, a) - told):
            user = db.get(User, user_id)
            if user is None or not user.email or may_read(db, user, kind, a) is None:
                continue
            told.add(user_id)
            mode = mode_for(db, user_id, a.project.id, kind)
            if mode == Mode.IMMEDIATE:
                out.append(f"{kind.key}:{user_id}")
            elif mode == Mode.DIGEST:
                out.append(f"digest:{kind.key}:{user_id}")
        if kind.key == "report_published":  # and the project's distribution list
            out.extend(f"to:{r.address}" for r in report_recipients(db, a.project.id))
    return out


@dispatch.handler(HANDLER, recipients=concerned)
def tell(db: Session, event: AuditEvent, recipient: str, ctx: dispatch.Context) -> None:
    if recipient.startswith("digest:"):
        return  # the effect's row is the digest's note of it (mail-digest reads it)
    if recipient.startswith("to:"):  # a published report to its distribution list
        a = about(db, event)
        if a is not None:
            kind = KINDS["report_published"]
            mail = event_mail(db, ctx.settings, ctx.store, event, kind, None, a, recipient.removeprefix("to:"))
            deliver(db, write(db, mail), ctx.settings, ctx.store)
        return
    key, _, user_id = recipient.partition(":")
    kind, user = KINDS[key], db.get(User, int(user_id))
    a = about(db, event)
    if a is None or user is None or may_read(db, user, kind, a) is None:
        db.rollback()
        return  # the record is gone, or the person may no longer read it
    mail = write(db, event_mail(db, ctx.settings, ctx.store, event, kind, user, a))
    deliver(db, mail, ctx.settings, ctx.store)


# --- the daily digest ------------------------------------------------------------------------------------------------


def _digest_events(db: Session, user_id: int, since: datetime) -> list[tuple[AuditEvent, EventKind]]:
    stmt = (
        select(DispatchEffect.recipient, AuditEvent)
        .join(AuditEvent, col(AuditEvent.id) == DispatchEffect.event_id)
        .where(
            DispatchEffect.handler == HANDLER,
            col(DispatchEffect.recipient).like(f"digest:%:{user_id}"),
            col(DispatchEffect.created_at) >= since,
        )
        .order_by(AuditEvent.id)
    )
    return [(e, KINDS[r.split(":")[1]]) for r, e in db.exec(stmt) if r.split(":")[1] in KINDS]


def digest_for(db: Session, settings: Settings, user: User, since: datetime, day: str) -> OutgoingMail | None:
    """The person's My work and the events they chose to read in the digest, as one message; None when empty."""
    sections = [s for s in home.my_work(db, principal(user)) if s.items]
    events = []
    for event, kind in _digest_events(db, user.id, since):
        a = about(db, event)
        if a is not None and may_read(db, user, kind, a) is not None:
            events.append({"about": a, "headline": headline_of(kind, a, *who_and_verb(db, event))})
    if not sections and not events:
        return None
    text, html = render(
        "digest",
        user=user,
        sections=sections,
        events=events,
        base=settings.base_url,
        preferences=f"{settings.base_url}/account/notifications",
        unsubscribe=f"{settings.base_url}/mail/unsubscribe/{unsubscribe_token(settings, user.id, 'digest')}",
    )
    waiting = sum(len(s.items) for s in sections)
    return OutgoingMail(
        key=f"digest:{day}",
        kind="digest",
        user_id=user.id,
        to_address=user.email,
        subject=f"Your day: {waiting} item{'s' if waiting != 1 else ''} waiting, {len(events)} update"
        f"{'s' if len(events) != 1 else ''}",
        text=text,
        html=html,
        message_id=make_msgid(f"digest.{day}.{user.id}", domain=domain_of(settings)),
    )


def digest_zone(user: User | Principal) -> str:
    """The zone a person's digest hour is read in: the one their pages read in away from a project (their profile's,
    else UTC), so that one choice, on the profile, sets both."""
    return zone_for(user.timezone)


@dispatch.job("mail-digest", every=DIGEST_EVERY)
def send_digests(db: Session, ctx: dispatch.Context) -> str:
    """Each person whose digest hour has come in their profile's time zone, once a day, skipped when there is
    nothing."""
    now, sent = utcnow(), 0
    people = db.exec(select(User).where(col(User.is_active).is_(True), User.email != "")).all()
    stored = {s.user_id: s for s in db.exec(select(MailSettings))}
    db.rollback()
    for user in people:
        mine = stored.get(user.id) or MailSettings(user_id=user.id)
        local = now.astimezone(ZoneInfo(digest_zone(user)))
        if mine.digest_hour < 0 or local.hour < mine.digest_hour or mine.last_digest_on == local.date():
            continue
        since = now - timedelta(days=1)
        mail = digest_for(db, ctx.settings, user, since, local.date().isoformat())
        db.rollback()
        begin_write(db)
        row = db.get(MailSettings, user.id) or MailSettings(user_id=user.id)
        row.last_digest_on = local.date()
        db.add(row)
        commit(db)
        if mail is not None:
            deliver(db, write(db, mail), ctx.settings, ctx.store)
            sent += 1
    return f"{sent} digest(s)"


# --- reminders -------------------------------------------------------------------------------------------------------

REMINDERS_EVERY = timedelta(hours=1)
SOON_BUSINESS_DAYS = 2  # a reminder comes this many business days before a due date, and again once it has passed
# The My work sections whose items are reminded, with the words of the reminder (home/service.py SECTIONS)
REMINDED = {
    "reviews": "Your review of {title}",
    "lead_reviews": "The review you lead of {title}",
    "to_submit": "{title}, due from you",
    "resubmissions": "The resubmission of {title}",
    "conditions": "A condition of {code}",
    "risk_reviews": "The review of risk {title}",
    "actions": "Your action item: {title}",
}


def reminder_state(item: Any, project: Any) -> str | None:
    """ "overdue", "due" (within SOON_BUSINESS_DAYS business days on the project's calendar) or None."""
    if item.due is None:
        return None
    if deadline_state(item.due, item.today) == "overdue":  # the one overdue rule (core/clock.py)
        return "overdue"
    holidays = project_holidays(project, item.today, days=30)
    return "due" if business_days_between(item.today, item.due, holidays) <= SOON_BUSINESS_DAYS else None


def reminders_for(db: Session, settings: Settings, user: User) -> list[OutgoingMail]:
    """The reminders this person has not had yet: one per item of their My work and state (due, then overdue)."""
    with for_recipient(user):
        return _reminders_for(db, settings, user)


def _reminders_for(db: Session, settings: Settings, user: User) -> list[OutgoingMail]:
    out, projects_by_key, seen = [], {}, set()
    for section in home.my_work(db, principal(user)):
        words = REMINDED.get(section.key)
        for item in section.items if words else ():
            project = projects_by_key.setdefault(
                item.project_key, db.exec(select(Project).where(Project.key == item.project_key)).one()
            )
            state = reminder_state(item, project)
            page = item.url.split("#")[0]  # the record's page, whichever part of it the section points at
            key = f"reminder:{page}:{item.title[:30]}:{item.due.isoformat() if item.due else ''}:{state}"[:120]
            if state is None or key in seen:  # one reminder a record, whichever sections list it
                continue
            seen.add(key)
            what = words.format(title=item.title, code=item.code)
            when = f"was due {show_date(item.due)}" if state == "overdue" else f"is due {show_date(item.due)}"
            subject = f"[{item.project_key} {item.code}] {what} {'is overdue' if state == 'overdue' else 'is due soon'}"
            text, html = render(
                "reminder",
                user=user,
                item=item,
                what=what,
                when=when,
                state=state,
                link=f"{settings.base_url}{item.url}",
                preferences=f"{settings.base_url}/account/notifications",
                unsubscribe=f"{settings.base_url}/mail/unsubscribe/{unsubscribe_token(settings, user.id, 'reminders')}",
            )
            domain = domain_of(settings)
            out.append(
                OutgoingMail(
                    key=key,
                    kind="reminders",
                    user_id=user.id,
                    project_id=project.id,
                    to_address=user.email,
                    subject=subject[:300],
                    text=text,
                    html=html,
                    message_id=make_msgid(f"reminder.{user.id}", domain=domain),
                    thread=f"<{item.url.strip('/').replace('/', '-')}@{domain}>",
                )
            )
    return out


@dispatch.job("mail-reminders", every=REMINDERS_EVERY)
def send_reminders(db: Session, ctx: dispatch.Context) -> str:
    """For each person who wants them, each deadline of their My work once when it comes within two business days
    and once when it passes: written once under its key, so a later run sends nothing twice."""
    sent = 0
    people = db.exec(select(User).where(col(User.is_active).is_(True), User.email != "")).all()
    for user in people:
        if preferences(db, user.id).get("reminders", KINDS["reminders"].default) != Mode.IMMEDIATE:
            continue
        for mail in reminders_for(db, ctx.settings, user):
            written = write(db, mail)
            if written.status == MailStatus.QUEUED:
                deliver(db, written, ctx.settings, ctx.store)
                sent += 1
    return f"{sent} reminder(s)"


# --- the outgoing mail page ------------------------------------------------------------------------------------------


def outgoing(db: Session, status: str = "", limit: int = 100, offset: int = 0) -> tuple[list[OutgoingMail], int]:
    where = [OutgoingMail.status == status] if status else []
    total = db.exec(select(func.count()).select_from(OutgoingMail).where(*where)).one()
    rows = db.exec(
        select(OutgoingMail).where(*where).order_by(col(OutgoingMail.id).desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total
