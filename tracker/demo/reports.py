"""Demo status reports: each project's weekly report published by its manager on each of the last WEEKS Fridays,
at the time it would have been published, so each snapshot holds the record as it stood then, and trends, RAG
history and the portfolio show from the first run. This week's report is left to publish. Runs after the demo's
deliverable and register histories; no PDF is made here (a report's PDF is rendered when downloaded)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal, principal
from tracker.core.clock import frozen_time, utcnow
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project, Role
from tracker.projects.permissions import Perm
from tracker.reports import service
from tracker.reports.periods import Period, week_ending

WEEKS = 6
OVERRIDE = ("CWS", 3)  # weeks ago: the manager holds the overall RAG with a rationale
CORRECTED = ("UIM", 2)  # weeks ago: a correction (version 2) published the Monday after


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def narrative(c: dict) -> dict[str, str]:
    """What a manager would write from the week's figures."""
    accepted = c["accomplishments"]["accepted"]
    late = c["overdue"]["reviews"] + c["overdue"]["resubmissions"] + c["overdue"]["deliveries"]
    summary = [
        f"{_plural(len(accepted), 'deliverable')} accepted this week"
        + (f" ({', '.join(x['code'] for x in accepted)})." if accepted else ".")
    ]
    if late:
        worst = max(late, key=lambda x: x["days"])
        summary.append(
            f"{_plural(len(late), 'deliverable clock')} overdue; the longest is {worst['code']} "
            f"({worst['title']}), {_plural(worst['days'], 'day')} late."
        )
    else:
        summary.append("No review, resubmission or delivery is overdue.")
    counts = c["counts"]
    summary.append(
        f"{_plural(counts['risks_open'], 'open risk')}, {counts['critical_risks']} of them critical; "
        f"{_plural(counts['issues_open'], 'unresolved issue')}."
    )
    decisions = [f"{x['code']}: {x['title']} ({x['why'].lower()})." for x in c["escalations"][:2]]
    upcoming = c["upcoming"]["deliverables"] + c["upcoming"]["reviews"]
    steps = [f"{x['what']} {x['due']}: {x['code']} {x['title']}." for x in upcoming[:3]]
    return {
        "summary": " ".join(summary),
        "decisions": "\n".join(decisions) or "None this week.",
        "next_steps": "\n".join(steps) or "Continue the current reviews.",
    }


def _publish(
    db: Session, actor: Principal, access: projects.Access, period: Period, overrides: dict | None = None
) -> None:
    draft = service.draft_for(db, access.project, period)
    values = narrative(service.build(db, access.project, period, draft)) | {
        "number": draft.number,
        "version": service.seen_version(draft),
    }
    for area, (rag, why) in (overrides or {}).items():
        values |= {f"rag_{area}": rag, f"why_{area}": why}
    form = service.DraftForm.model_validate(values)
    saved = service.save_draft(db, actor, access, period, form)
    service.publish(db, actor, access, period, saved.number, saved.version)


def load(db: Session, now: datetime | None = None) -> int:
    """Publish the demo's reports; returns how many."""
    now = now or utcnow()
    count = 0
    for project in db.exec(select(Project).order_by(Project.key)).all():
        manager = db.exec(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project.id, Membership.role == Role.MANAGER)
            .order_by(User.id)
        ).first()
        if manager is None:
            continue
        actor = principal(manager)
        access = projects.get_for(db, actor, project.key, Perm.PUBLISH)
        zone = ZoneInfo(project.timezone)
        period = week_ending(project_today(project, now))
        for ago in range(WEEKS, 0, -1):
            week = Period(period.start - timedelta(weeks=ago), period.end - timedelta(weeks=ago))
            with frozen_time(datetime.combine(week.end, time(16, 30), zone)):
                overrides = None
                if (project.key, ago) == OVERRIDE:
                    computed = service.build(db, project, week, service.draft_for(db, project, week))["rag"]["areas"][0]
                    held = "amber" if computed["computed"] != "amber" else "red"
                    overrides = {
                        "overall": (
                            held,
                            "Held by the manager: the steering committee agreed the recovery "
                            "plan for the late items on Tuesday, and the contractor has added "
                            "two reviewers to clear them by month end.",
                        )
                    }
                _publish(db, actor, access, week, overrides)
                count += 1
            if (project.key, ago) == CORRECTED:
                with frozen_time(datetime.combine(week.end + timedelta(days=3), time(9, 15), zone)):
                    _publish(db, actor, access, week)  # the figures as the week closed, and the summary redone
                    count += 1
    db.flush()
    return count
