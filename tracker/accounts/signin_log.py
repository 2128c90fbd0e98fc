"""The sign-in log for admins: every attempt, filtered by person and outcome, paged; and its retention."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from tracker.accounts.models import SignIn
from tracker.core.clock import utcnow
from tracker.dispatch import service as dispatch

PAGE = 50


def search(db: Session, username: str = "", outcome: str = "", page: int = 1) -> tuple[list[SignIn], int]:
    """A page of attempts, newest first, and how many match: two queries whatever the page."""
    where = []
    if username:
        where.append(SignIn.username == username.strip().lower())
    if outcome:
        where.append(SignIn.outcome == outcome)
    total = db.exec(select(func.count()).select_from(SignIn).where(*where)).one()
    rows = db.exec(
        select(SignIn)
        .where(*where)
        .order_by(col(SignIn.at).desc(), col(SignIn.id).desc())
        .limit(PAGE)
        .offset((max(page, 1) - 1) * PAGE)
    ).all()
    return list(rows), total


@dispatch.job("sign-in-log-retention", every=timedelta(hours=6))
def forget_old(db: Session, ctx: dispatch.Context) -> str:
    """Rows older than TRACKER_SIGNIN_RETENTION_DAYS go (addresses and browsers are personal data); the audit trail
    keeps its sign-in events (who, when, how, from which address; no browser), as it keeps every event."""
    cutoff = utcnow() - timedelta(days=ctx.settings.signin_retention_days)
    gone = db.execute(delete(SignIn).where(col(SignIn.at) < cutoff)).rowcount
    db.commit()
    return f"{gone} sign-in(s) older than {ctx.settings.signin_retention_days} days deleted"
