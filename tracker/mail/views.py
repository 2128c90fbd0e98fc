"""Pages: what each person is told and how (/account/notifications), a project's defaults (managers), the signed
one-click unsubscribe link of every message (no sign-in: the link is the credential), and the admins' Outgoing mail
page with each message as it was (or would be) sent."""

from __future__ import annotations

import math
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.accounts.models import User
from tracker.accounts.views import admin_required
from tracker.core.errors import FormError, NotFound, StaleEdit
from tracker.core.forms import form_version, parse
from tracker.core.web import flash, redirect, render
from tracker.library import service as library
from tracker.mail import schedules, service
from tracker.mail.kinds import KINDS
from tracker.mail.models import MailStatus, OutgoingMail
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.register.common import as_list

Form = URLEncodedBody[dict[str, Any]]
MODES = service.MODE_WORDS
PAGE = 50


def _hour(data: dict[str, Any]) -> int:
    """The digest's hour; blank (or -1): no digest."""
    try:
        return int(data.get("digest_hour") or -1)
    except ValueError:
        raise FormError({"digest_hour": "Choose an hour from 0 to 23."}) from None


class NotificationPages(Controller):
    path = "/account/notifications"
    include_in_schema = False

    def page(self, request: Request, db: Session, status: int = 200, **extra: Any) -> Template:
        mine = service.settings_of(db, request.user.id)
        context = {
            "kinds": list(KINDS.values()),
            "modes": MODES,
            "chosen": {k: m.value for k, m in service.preferences(db, request.user.id).items()},
            "mine": mine,
            "zone": service.digest_zone(request.user),
            "zone_chosen": bool(request.user.timezone),
            "form": {},
            "errors": {},
        }
        return render(request, "notifications/preferences.html", status=status, **(context | extra))

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session]) -> Template:
        return self.page(request, db)

    @post("/", sync_to_thread=True)
    def save(self, request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
        try:
            version = form_version(data)
            values = service.parse_choices(data, allow_default=True)
            service.save_preferences(db, request.user, values, _hour(data), version)
        except FormError as exc:
            chosen = {k: data.get(f"kind_{k}", "default") for k in KINDS}
            return self.page(request, db, status=422, form=data, chosen=chosen, errors=exc.errors)
        except StaleEdit:
            return self.page(request, db, status=409, stale=True)
        flash(request, "Your mail preferences are saved.")
        return redirect("/account/notifications")


class ProjectNotificationPages(Controller):
    path = "/projects/{key:str}/notifications"
    include_in_schema = False

    def page(self, request: Request, db: Session, access: Any, status: int = 200, **extra: Any) -> Template:
        chosen = service.project_defaults(db, access.project.id)
        context = {
            "access": access,
            "project": access.project,
            "kinds": list(KINDS.values()),
            "modes": MODES,
            "chosen": {k.key: chosen.get(k.key, k.default).value for k in KINDS.values()},
            "errors": {},
            "recipients": service.report_recipients(db, access.project.id),
            "recipient_form": {},
            "recipient_errors": {},
        }
        return render(request, "notifications/project.html", status=status, **(context | extra))

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        return self.page(request, db, projects.get_for(db, request.user, key, Perm.MAIL_DEFAULTS))

    @post("/", sync_to_thread=True)
    def save(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.MAIL_DEFAULTS)
        try:
            values = service.parse_choices(data, allow_default=False)
        except FormError as exc:
            return self.page(request, db, access, status=422, errors=exc.errors)
        service.save_project_defaults(db, request.user, access, {k: v for k, v in values.items() if v})
        flash(request, "The project's mail defaults are saved.")
        return redirect(f"/projects/{access.project.key}/notifications")

    @post("/recipients", sync_to_thread=True)
    def add_recipient(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.MAIL_DEFAULTS)
        try:
            row = service.add_report_recipient(db, request.user, access, parse(service.RecipientForm, data))
        except FormError as exc:
            return self.page(request, db, access, status=422, recipient_form=data, recipient_errors=exc.errors)
        flash(request, f"{row.address} will receive each published status report.")
        return redirect(f"/projects/{access.project.key}/notifications#distribution")

    @post("/recipients/{recipient_id:int}/remove", sync_to_thread=True)
    def remove_recipient(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        recipient_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.MAIL_DEFAULTS)
        try:
            row = service.remove_report_recipient(db, request.user, access, recipient_id, form_version(data))
        except StaleEdit:
            return self.page(
                request, db, access, status=409, notice="That recipient was changed first; here is the list now."
            )
        flash(request, f"{row.address} will no longer receive status reports.")
        return redirect(f"/projects/{access.project.key}/notifications#distribution")


class UnsubscribePages(Controller):
    """RFC 8058: mail clients POST to the List-Unsubscribe address ("List-Unsubscribe=One-Click"); a person who
    opens the link is asked first, so a link scanner following it unsubscribes no one."""

    path = "/mail/unsubscribe/{token:str}"
    include_in_schema = False

    def page(self, request: Request, db: Session, token: str, done: bool) -> Template:
        user_id, kind = service.read_token(request.app.state.settings, token)
        label = KINDS[kind].label if kind in KINDS else "The daily digest"
        return render(request, "notifications/unsubscribe.html", token=token, label=label, done=done)

    @get("/", sync_to_thread=True)
    def ask(self, request: Request, db: NamedDependency[Session], token: FromPath[str]) -> Template:
        return self.page(request, db, token, done=False)

    @post("/", sync_to_thread=True, status_code=200)
    def confirm(self, request: Request, db: NamedDependency[Session], token: FromPath[str]) -> Template:
        service.unsubscribe(db, request.app.state.settings, token)
        return self.page(request, db, token, done=True)


class WatchPages(Controller):
    """Watching a record: the button on each record's page loads its state; without JavaScript, its link opens it
    here. Watchers are told of every change to the record, by their preference for "Something you watch changes"."""

    path = "/watching"
    include_in_schema = False

    def part(self, request: Request, db: Session, record: str, status: int = 200) -> Template:
        user = db.get(User, request.user.id)
        a = service.watched_record(db, user, record)
        on, count = service.watching(db, user.id, a.thread)
        template = "notifications/_watch.html" if request.headers.get("hx-request") else "notifications/watch.html"
        return render(request, template, status=status, about=a, record=a.thread, on=on, count=count)

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], record: FromQuery[str] = "") -> Template:
        return self.part(request, db, record)

    @post("/", sync_to_thread=True, status_code=200)
    def toggle(self, request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
        record, on = str(data.get("record", "")), data.get("watch") == "on"
        a = service.set_watching(db, db.get(User, request.user.id), record, on)
        if request.headers.get("hx-request"):
            return self.part(request, db, a.thread)
        flash(request, f"You are watching {a.code or a.title}." if on else f"You no longer watch {a.code or a.title}.")
        return redirect(a.path)


class SchedulePages(Controller):
    """A saved report's mailing: its page part (loaded into the report's page; a page of its own without
    JavaScript), and the form that sets or stops it."""

    path = "/projects/{key:str}/saved-reports/{report_id:int}/schedule"
    include_in_schema = False

    def part(
        self, request: Request, db: Session, key: str, report_id: int, status: int = 200, **extra: Any
    ) -> Template:
        access = projects.get_for(db, request.user, key)
        report = library.get_for(db, access, request.user, report_id)
        row = schedules.schedule_of(db, report.id)
        context = {
            "access": access,
            "project": access.project,
            "report": report,
            "schedule": row,
            "every": schedules.EVERY,
            "readers": schedules.readers(db, access, report),
            "can_change": access.can(Perm.BUILD_REPORTS) and library.can_change(access, request.user, report),
            "form": {},
            "errors": {},
        }
        htmx = request.headers.get("hx-request")
        template = "notifications/_schedule.html" if htmx else "notifications/schedule.html"
        return render(request, template, status=status, **(context | extra))

    @get("/", sync_to_thread=True)
    def show(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int]
    ) -> Template:
        return self.part(request, db, key, report_id)

    @post("/", sync_to_thread=True)
    def save(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.BUILD_REPORTS)
        report = library.get_for(db, access, request.user, report_id)
        version = int(data["version"]) if str(data.get("version", "")).isdigit() else None
        try:
            ids = [int(i) for i in as_list(data.get("recipient_ids"))]
        except ValueError:
            ids = [-1]
        try:
            schedules.save(db, request.user, access, report, str(data.get("every", "")), ids, version)
        except FormError as exc:
            return self.part(request, db, key, report_id, status=422, form=data, errors=exc.errors)
        except StaleEdit:
            return self.part(request, db, key, report_id, status=409, stale=True)
        if request.headers.get("hx-request"):
            return self.part(request, db, key, report_id, saved=True)
        flash(request, "The report's mailing is saved.")
        return redirect(f"/projects/{access.project.key}/saved-reports/{report.id}")


class OutgoingMailPages(Controller):
    path = "/admin/mail"
    guards = [admin_required]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(
        self, request: Request, db: NamedDependency[Session], status: FromQuery[str] = "", page: FromQuery[int] = 1
    ) -> Template:
        status = status if status in {s.value for s in MailStatus} else ""
        page = max(page, 1)
        rows, total = service.outgoing(db, status, PAGE, (page - 1) * PAGE)
        return render(
            request,
            "notifications/outgoing.html",
            section="admin",
            mails=rows,
            total=total,
            status=status,
            statuses=[s.value for s in MailStatus],
            page=page,
            pages=max(1, math.ceil(total / PAGE)),
            base_url=f"/admin/mail?status={status}",
            smtp=bool(request.app.state.settings.smtp_url),
        )

    @get("/{mail_id:int}", sync_to_thread=True)
    def message(self, request: Request, db: NamedDependency[Session], mail_id: FromPath[int]) -> Template:
        mail = db.get(OutgoingMail, mail_id)
        if mail is None:
            raise NotFound(detail="No such message.")
        return render(request, "notifications/message.html", section="admin", mail=mail)


handlers = [NotificationPages, ProjectNotificationPages, UnsubscribePages, WatchPages, SchedulePages, OutgoingMailPages]
