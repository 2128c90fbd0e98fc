"""My work: everything that needs the signed-in user now, across their projects, each with its clock. The page and
GET /api/v1/my-work read the same sections, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from tracker import clocks
from tracker.accounts.service import Principal
from tracker.audit import versions
from tracker.core import memo
from tracker.core.clock import today_in
from tracker.core.work import WorkItem
from tracker.deliverables import work as deliverables
from tracker.projects.service import visible_project_zones
from tracker.register.actions import service as actions
from tracker.register.changes import service as changes
from tracker.register.issues import service as issues
from tracker.register.risks import service as risks
from tracker.register.risks.scoring import LEVEL_LABELS
from tracker.reports import service as reports


def _actions(db: Session, user: Principal) -> list[WorkItem]:
    return [
        WorkItem(
            "actions",
            a.project_key,
            a.parent_code,
            a.item.description,
            f"/projects/{a.project_key}/{a.parent_kind}/{a.parent_id}",
            clocks.ACTION.due(a.item),
            a.today,
            {"mitigation": "mitigation plan", "contingency": "contingency plan"}.get(a.item.plan, "issue action"),
            ref=f"action-{a.item.id}",
        )
        for a in actions.mine(db, user)
    ]


def _risk_reviews(db: Session, user: Principal) -> list[WorkItem]:
    return [
        WorkItem(
            "risk_reviews",
            r.project_key,
            r.risk.code,
            r.risk.title,
            f"/projects/{r.project_key}/risks/{r.risk.id}",
            clocks.RISK_REVIEW.due(r.risk),
            r.today,
            f"{LEVEL_LABELS[r.level]} risk, review due",
        )
        for r in risks.my_reviews_due(db, user)
    ]


def _flagged(db: Session, user: Principal) -> list[WorkItem]:
    return [
        WorkItem(
            "flagged",
            f.project_key,
            f.issue.code,
            f.issue.title,
            f"/projects/{f.project_key}/issues/{f.issue.id}",
            None,
            f.today,
            f"{f.issue.priority} priority, unresolved {f.age} days (allowed {f.allowed})",
        )
        for f in issues.flagged_for_manager(db, user)
    ]


def _to_publish(db: Session, user: Principal) -> list[WorkItem]:
    return [
        WorkItem(
            "to_publish",
            t.project_key,
            t.period.label,
            f"{t.project_key} status report",
            f"/projects/{t.project_key}/status-reports/draft?{reports.period_params(t.period)}",
            t.period.end,
            t.today,
            "draft to review and publish",
        )
        for t in reports.to_publish(db, user)
    ]


def _changes(section: str, found: list[changes.Waiting]) -> list[WorkItem]:
    return [
        WorkItem(
            section,
            w.project_key,
            w.change.code,
            w.change.title,
            f"/projects/{w.project_key}/changes/{w.change.id}",
            None,
            w.today,
            changes.summary(w.change),
        )
        for w in found
    ]


def _changes_to_decide(db: Session, user: Principal) -> list[WorkItem]:
    return _changes("changes_to_decide", changes.awaiting_decision(db, user))


def _change_drafts(db: Session, user: Principal) -> list[WorkItem]:
    return _changes("change_drafts", changes.my_drafts(db, user))


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    items: list[WorkItem]


# The sections in the order a person works through them: (key, heading, where its items come from).
SECTIONS: list[tuple[str, str, Callable[[Session, Principal], list[WorkItem]]]] = [
    ("clocks", "Contract clocks needing a decision", deliverables.contract_clocks),
    ("lead_reviews", "Reviews you lead", deliverables.lead_reviews),
    ("reviews", "Reviews assigned to you", deliverables.my_reviews),
    ("dispositions", "Comments awaiting your disposition", deliverables.awaiting_disposition),
    ("conditions", "Conditions due", deliverables.conditions_due),
    ("criteria", "Acceptance criteria to agree", deliverables.criteria_to_agree),
    ("changes_to_decide", "Change requests awaiting your decision", _changes_to_decide),
    ("to_publish", "Status reports to publish", _to_publish),
    ("resubmissions", "Resubmissions you are waiting for", deliverables.waiting_resubmission),
    ("to_submit", "Deliverables due from you", deliverables.due_from_contractor),
    ("responses", "Comments awaiting your response", deliverables.awaiting_response),
    ("actions", "Your action items", _actions),
    ("risk_reviews", "Risks due for review", _risk_reviews),
    ("flagged", "Issues flagged for escalation", _flagged),
    ("change_drafts", "Your draft change requests", _change_drafts),
]


@dataclass(frozen=True)
class Work:
    """Every section, and the memo key they are kept under: the page keeps its drawing of them under it too."""

    sections: list[Section]
    kept: tuple


def kept_work(db: Session, user: Principal) -> Work:
    """Every section, empty ones included (the API lists them all; the page shows those with something in them).
    Kept while the record of every project the user belongs to stands, and their days (tracker.core.memo)."""
    zones = visible_project_zones(db, user)
    days = tuple(sorted({today_in(zone) for zone in zones.values()}))
    key = ("my work", user.id, user.is_admin, days) + versions.of(db, zones)
    return Work(
        memo.kept(key, lambda: [Section(name, title, source(db, user)) for name, title, source in SECTIONS]), key
    )


def my_work(db: Session, user: Principal) -> list[Section]:
    return kept_work(db, user).sections
