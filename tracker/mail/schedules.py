"""Saved reports mailed on a schedule: weekly or monthly, as XLSX, to chosen members of the project, each receiving
the report as they may read it (their own rows for "me", nothing of a source their role does not see)."""

from __future__ import annotations

from datetime import date, timedelta
from email.utils import make_msgid
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal, principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.db import begin_write, commit
from tracker.core.errors import Forbidden, FormError, NotFound
from tracker.core.files import FileStore
from tracker.dispatch import service as dispatch
from tracker.library import service as library
from tracker.library.models import SavedReport
from tracker.library.sources import SOURCES
from tracker.mail import service as mail
from tracker.mail.models import MailStatus, OutgoingMail, ReportSchedule
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm, roles_with
from tracker.projects.service import Access, get_for
from tracker.settings import Settings

EVERY = {"weekly": "Every week", "monthly": "Every month"}
HOUR = 7  # the project's hour from which a due report goes out
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

history.register(
    verbs={"schedule": "changed the mailing of"},
    terms={"schedule": history.Terms({"every": "Mailed", "recipients": "Mailed to"}, {"every": EVERY})},
)


def schedule_of(db: Session, report_id: int) -> ReportSchedule | None:
    return db.exec(select(ReportSchedule).where(ReportSchedule.report_id == report_id)).first()


def readers(db: Session, access: Access, report: SavedReport) -> list[tuple[int, str]]:
    """The members who may receive the report: those whose role reads its source."""
    stmt = (
        select(User.id, User.full_name)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(
            Membership.project_id == access.project.id,
            col(Membership.role).in_(sorted(roles_with(SOURCES[report.source].perm))),
            col(User.is_active).is_(True),
        )
        .order_by(User.full_name)
    )
    return [(i, n) for i, n in db.exec(stmt)]


def save(
    db: Session,
    actor: Principal,
    access: Access,
    report: SavedReport,
    every: str,
    recipient_ids: list[int],
    version: int | None,
) -> ReportSchedule | None:
    """Schedule (or, with every="", stop) the report's mailing; whoever may change the report decides it."""
    access.require(Perm.BUILD_REPORTS)
    if not library.can_change(access, actor, report):
        raise Forbidden(detail="Only its owner, or a project manager when it is shared, schedules a saved report.")
    row = schedule_of(db, report.id)
    before = {"every": row.every if row else None, "recipients": sorted(row.recipient_ids) if row else None}
    if row is not None:
        row.check_seen(version, before)
    if every not in ("", *EVERY):
        raise FormError({"every": "Choose every week, every month, or not mailed."})
    allowed = dict(readers(db, access, report))
    if every and not recipient_ids:
        raise FormError({"recipient_ids": "Choose who receives it."})
    if any(r not in allowed for r in recipient_ids):
        raise FormError({"recipient_ids": "Choose members whose role may read this report's source."})
    if not every:
        if row is not None:
            db.delete(row)
        after = {"every": None, "recipients": None}
        row = None
    else:
        row = row or ReportSchedule(report_id=report.id, every=every, created_by_id=actor.id)
        row.every, row.recipient_ids = every, sorted(set(recipient_ids))
        db.add(row)
        after = {"every": every, "recipients": [allowed[r] for r in row.recipient_ids]}
    db.flush()
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if changes:
        audit.record(
            db,
            actor_id=actor.id,
            entity=report,
            project_id=access.project.id,
            label=report.name,
            action="schedule",
            changes=changes,
        )
    return row


def due(schedule: ReportSchedule, today: date) -> bool:
    last = schedule.last_sent_on
    if last is None:
        return True
    if schedule.every == "weekly":
        return today - last >= timedelta(days=7)
    return (today.year, today.month) != (last.year, last.month)


def _one(
    db: Session, settings: Settings, store: FileStore, schedule: ReportSchedule, project: Project, today: date
) -> int:
    report = db.get(SavedReport, schedule.report_id)
    sources = library.sources_of(db, project.id)
    definition = library.stored_definition(report, sources)[0] if report is not None else None
    if definition is None:
        return 0  # gone, or no longer valid: its page says why
    period = "week" if schedule.every == "weekly" else "month"
    link = f"{settings.base_url}/projects/{project.key}/saved-reports/{report.id}"
    sent = 0
    for user_id in schedule.recipient_ids:
        user = db.get(User, user_id)
        if user is None or not user.is_active:
            continue
        try:
            access = get_for(db, principal(user), project.key, SOURCES[report.source].perm)
        except (NotFound, Forbidden):
            continue  # no longer a member who may read it
        result = library.run(db, access, principal(user), definition)
        about = library.export_about(db, access, report, definition, f"{user.full_name} (mailed {period}ly)", result)
        with mail.for_recipient(user):  # its times (the "Generated at" too) as the recipient reads them
            sha, _ = store.put(library.to_xlsx(result, report, about))
        text, html = mail.render(
            "scheduled",
            user=user,
            report=report,
            project=project,
            total=result.total,
            period=period,
            link=link,
            preferences=f"{settings.base_url}/account/notifications",
            unsubscribe="",
        )
        message = OutgoingMail(
            key=f"schedule:{schedule.id}:{today.isoformat()}",
            kind="scheduled_report",
            user_id=user.id,
            project_id=project.id,
            to_address=user.email,
            subject=f"[{project.key}] {report.name}: this {period}'s report ({result.total} row"
            f"{'s' if result.total != 1 else ''})"[:300],
            text=text,
            html=html,
            message_id=make_msgid(f"schedule.{schedule.id}", domain=mail.domain_of(settings)),
            attachments=[
                {"name": f"{project.key}-{report.name[:60]}-{today.isoformat()}.xlsx", "sha256": sha, "type": XLSX}
            ],
        )
        written = mail.write(db, message)
        if written.status == MailStatus.QUEUED:
            mail.deliver(db, written, settings, store)
            sent += 1
    return sent


@dispatch.job("report-schedules", every=timedelta(hours=1))
def send_scheduled(db: Session, ctx: dispatch.Context) -> str:
    """Each scheduled report that is due on its project's calendar (from HOUR local time), once a week or month."""
    sent = 0
    rows = db.exec(
        select(ReportSchedule, Project)
        .join(SavedReport, col(SavedReport.id) == ReportSchedule.report_id)
        .join(Project, col(Project.id) == SavedReport.project_id)
    ).all()
    for schedule, project in rows:
        now = utcnow()
        today = project_today(project, now)
        local_hour = now.astimezone(ZoneInfo(project.timezone)).hour
        if local_hour < HOUR or not due(schedule, today):
            continue
        sent += _one(db, ctx.settings, ctx.store, schedule, project, today)
        db.rollback()
        begin_write(db)
        fresh = db.get(ReportSchedule, schedule.id)
        fresh.last_sent_on = today
        commit(db)
    return f"{sent} scheduled report(s)"
