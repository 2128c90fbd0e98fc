"""The dispatcher's `invitations` handler: the message that carries an invitation's link to its address, written after
the invitation committed, once per sending (the invitation, and each time a manager sends it again)."""

from __future__ import annotations

from email.utils import make_msgid

from sqlmodel import Session, col, func, select

from tracker.accounts.models import User
from tracker.audit.models import AuditEvent
from tracker.dispatch import service as dispatch
from tracker.mail.models import OutgoingMail
from tracker.mail.service import deliver, domain_of, render, write
from tracker.projects import invitations
from tracker.projects.models import ROLE_LABELS, Invitation, Project

HANDLER = "invitations"
# What the stored copy of the message says in place of the link: only the message sent holds it (mail.service.reveal).
LINK_KEPT_AS = "[the invitation link: in the message sent, never stored]"


def addressee(db: Session, event: AuditEvent) -> list[str]:
    if event.entity_type != "invitation" or event.action not in invitations.SENT:
        return []
    invitation = db.get(Invitation, event.entity_id)
    return [invitation.email] if invitation is not None else []


@dispatch.handler(HANDLER, recipients=addressee)
def send(db: Session, event: AuditEvent, recipient: str, ctx: dispatch.Context) -> None:
    invitation = db.get(Invitation, event.entity_id)
    latest = db.exec(
        select(func.max(AuditEvent.id)).where(
            AuditEvent.entity_type == "invitation",
            AuditEvent.entity_id == event.entity_id,
            col(AuditEvent.action).in_(invitations.SENT),
        )
    ).one()
    link = invitations.link(ctx.settings, invitation) if invitation is not None else None
    if link is None or latest != event.id or invitations.state_of(invitation) != invitations.State.PENDING:
        db.rollback()
        return  # used, revoked, expired, or sent again since: that later sending's message carries the link
    project = db.get(Project, invitation.project_id)
    inviter = db.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    who = inviter.full_name if inviter else f"The managers of {project.key}"
    text, html = render(
        "invitation",
        project=project,
        invitation=invitation,
        who=who,
        role=ROLE_LABELS.get(invitation.role, invitation.role),
        link=LINK_KEPT_AS,
    )
    mail = OutgoingMail(
        key=f"invitation:{event.id}",
        kind="invitation",
        project_id=project.id,
        to_address=invitation.email,
        subject=f"[{project.key}] {who} invites you to {project.name}"[:300],
        text=text,
        html=html,
        message_id=make_msgid(f"invitation{event.id}", domain=domain_of(ctx.settings)),
    )
    deliver(db, write(db, mail), ctx.settings, ctx.store, secret=(LINK_KEPT_AS, link))
