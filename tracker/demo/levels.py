"""Demo service levels: each project's service-credit table, and the levels its contractor reports each month (system
uptime, P1 ticket response) for the last MONTHS months, entered early the next month and verified by the State's
manager a few days later; the latest month's response time is disputed and its uptime still awaits verification.
Runs before the demo's status reports, so the published ones carry the credits and the reported levels."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.clock import frozen_time, utcnow
from tracker.core.forms import parse
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project, Role
from tracker.projects.service import Access
from tracker.reports import credits, levels

MONTHS = 4  # all within the demo's history: the projects began 18 weeks ago
MEASURES = (  # name, unit, target, higher is better, the month's figure by months ago (1 = last month)
    ("System uptime", "%", "99.5", True, ("99.62", "99.81", "99.20", "99.91", "99.74")),
    ("P1 ticket response", "hours", "4", False, ("5.5", "3.2", "2.8", "4.6", "3.9")),
)
# The credit table of every demo project: contractor failures earn the State a share of the period's invoiced amount.
RULES = (
    ("on_time_submission_rate", "below", "85", "1.5"),
    ("first_pass_acceptance_rate", "below", "60", "1"),
    ("reported-System uptime", "below", "99.5", "3"),
    ("reported-P1 ticket response", "above", "4", "2"),
)
CAP = "10"


def _member(db: Session, project: Project, role: Role) -> User | None:
    return db.exec(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project.id, Membership.role == role)
        .order_by(User.id)
    ).first()


def load(db: Session, now: datetime | None = None) -> int:
    """Returns how many figures were reported."""
    now = now or utcnow()
    admin = db.exec(select(User).where(User.is_admin).order_by(User.id)).first()
    count = 0
    for n, project in enumerate(db.exec(select(Project).order_by(Project.key)).all()):
        manager, contractor = _member(db, project, Role.MANAGER), _member(db, project, Role.CONTRACTOR)
        if admin is None or manager is None or contractor is None:
            continue
        zone = ZoneInfo(project.timezone)
        a = principal(admin)
        a_access = Access(project, None, True, projects.perms_for(None, True))
        m, c = principal(manager), principal(contractor)
        m_access, c_access = projects.get_for(db, m, project.key), projects.get_for(db, c, project.key)
        this_month = project_today(project, now).replace(day=1)
        with frozen_time(now - timedelta(weeks=18) + timedelta(days=1)):  # set up as the project began
            made = {
                name: levels.add_measure(
                    db,
                    a,
                    a_access,
                    parse(
                        levels.MeasureForm,
                        {"name": name, "unit": unit, "target": target, "higher_is_better": str(higher).lower()},
                    ),
                )
                for name, unit, target, higher, _ in MEASURES
            }
            form = {"version": project.version, "cap": CAP}
            for i, (metric, comparison, threshold, percent) in enumerate(RULES):
                if metric.startswith("reported-"):
                    metric = f"reported-{made[metric.removeprefix('reported-')].id}"
                form |= {
                    f"credit-{i}-metric": metric,
                    f"credit-{i}-comparison": comparison,
                    f"credit-{i}-threshold": threshold,
                    f"credit-{i}-percent": percent,
                }
            credits.update(db, a, a_access, form, credits.choices(list(made.values())))
        month = this_month
        if datetime.combine(this_month + timedelta(days=3), time(10), zone) > now:  # last month's not in yet
            month = (month - timedelta(days=1)).replace(day=1)
        for ago in range(1, MONTHS + 1):
            month = (month - timedelta(days=1)).replace(day=1)
            for name, *_, values in MEASURES:
                value = values[(ago - 1 + n) % len(values)]
                entered = datetime.combine(_next_month(month) + timedelta(days=3), time(10), zone)
                if entered > now:
                    continue
                with frozen_time(entered):
                    figure = levels.report(
                        db,
                        c,
                        c_access,
                        parse(levels.FigureForm, {"measure_id": made[name].id, "month": month, "value": value}),
                    )
                    count += 1
                if ago == 1 and name == "System uptime":
                    continue  # the latest uptime awaits verification
                verdict = {"verdict": "verify"}
                if ago == 1:
                    verdict = {
                        "verdict": "dispute",
                        "reason": "Two P1 tickets in the service desk export were answered after 6 hours; the "
                        "figure should include them. Please correct it with the ticket list.",
                    }
                decided = min(entered + timedelta(days=4), now - timedelta(hours=1))
                with frozen_time(decided):
                    levels.decide(db, m, m_access, figure, parse(levels.VerdictForm, verdict), figure.version)
    db.flush()
    return count


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)
