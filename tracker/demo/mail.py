"""Demo mail: the messages the last week of the demo's history would have sent, written as the mail handler writes
them and kept (the demo has no SMTP server), so a newcomer sees on Outgoing mail what would go out. The dispatcher's
own cursor starts after them, so nothing of the history is sent again."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.audit.models import AuditEvent
from tracker.core.clock import frozen_time, utcnow
from tracker.core.files import FileStore
from tracker.mail import service as mail
from tracker.mail.kinds import KINDS, about
from tracker.mail.models import MailStatus
from tracker.reports import documents
from tracker.settings import get_settings

DAYS = 7
PUBLISHED = "report_published:"


def load(db: Session, now: datetime | None = None) -> int:
    """Every message the last DAYS of events call for, kept; returns how many. The published reports' PDFs, most
    of the time this takes, are rendered first, on every core."""
    now, settings, count = now or utcnow(), get_settings(), 0
    store = FileStore.from_settings(settings)
    events = db.exec(select(AuditEvent).where(col(AuditEvent.at) >= now - timedelta(days=DAYS)).order_by(AuditEvent.id))
    wanted = [(event, mail.concerned(db, event)) for event in list(events)]
    reports = {e.id: mail.report_print(db, e.entity_id) for e, to in wanted if any(r.startswith(PUBLISHED) for r in to)}
    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pdfs = dict(zip(reports, pool.map(documents.print_pdf, [html for html, _ in reports.values()]), strict=True))
    for event, recipients in wanted:
        for recipient in recipients:
            if recipient.startswith(("digest:", "to:")):
                continue
            key, _, user_id = recipient.partition(":")
            user, a = db.get(User, int(user_id)), about(db, event)
            attachments = mail.pdf_attachment(store, reports[event.id][1], pdfs[event.id]) if event.id in pdfs else None
            with frozen_time(event.at):
                message = mail.event_mail(db, settings, store, event, KINDS[key], user, a, attachments=attachments)
            message.status, message.sent_at = MailStatus.KEPT.value, event.at
            db.add(message)
            count += 1
    db.flush()
    return count
