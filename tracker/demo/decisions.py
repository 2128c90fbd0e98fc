"""Demo decision log: what each project's steering committee, sponsor and managers decided, recorded through the
service on the day it was, some settling an issue, a risk or a change request of the demo register, so the merged
decision log and the weekly report's decisions have something beside the deliverable and change decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from tracker.accounts.service import Principal
from tracker.demo.lessons import linked, record
from tracker.projects.models import Project
from tracker.register.changes.models import ChangeRequest
from tracker.register.decisions import service as decisions
from tracker.register.issues.models import Issue
from tracker.register.risks.models import Risk


@dataclass(frozen=True)
class Spec:
    title: str  # the decision, in one line
    context: str
    options: str
    decided_by: str  # the body or person, in words
    by: str  # username of whoever records it
    ago: int  # days ago it was taken
    member: str = ""  # username of the member who decided, if one did
    issue: str = ""  # the title of the issue, risk or change request it settles
    risk: str = ""
    change: str = ""
    deliverables: tuple[str, ...] = ()


SPECS = {
    "CWS": (
        Spec(
            "Go live in two county waves instead of one",
            "Conversion rehearsals left rural counties' records unmatched, and county trainers are away in summer.",
            "One statewide go-live in June; two waves (pilot counties in June, the rest in September); postpone "
            "everything to September.",
            "Steering committee",
            "mrivera",
            45,
            risk="County trainers away during the summer rollout",
            deliverables=("D-03",),
        ),
        Spec(
            "Fund a second data-conversion rehearsal from contingency",
            "The first rehearsal left 3% of case records unmatched; the cut-over plan assumes a clean run.",
            "Accept the unmatched records and fix them after go-live; pay for a second rehearsal; ask the counties "
            "to clean the records by hand.",
            "Steering committee",
            "mrivera",
            27,
            member="mrivera",
            change="Add a second data-conversion rehearsal",
            risk="County legacy data too dirty to convert",
        ),
        Spec(
            "Confirm wave 1 pilot counties by phone, not by letter",
            "Only two of five pilot counties had returned the participation letter; extracts must be scheduled.",
            "Wait for the letters; let the sponsor call the county directors; pick other counties.",
            "Project sponsor",
            "pokafor",
            8,
            issue="Pilot counties not confirmed for wave 1",
        ),
    ),
    "UIM": (
        Spec(
            "Keep manual identity review as a fallback during a claims surge",
            "The identity proofing vendor cannot guarantee capacity above twice the normal weekly claims.",
            "Buy surge capacity from the vendor; add a manual review queue staffed from the call centre; "
            "accept the backlog.",
            "Programme board",
            "jchen",
            33,
            member="jchen",
            risk="Identity proofing cannot scale to a claims surge",
            issue="3,200 claims waiting for identity verification",
        ),
        Spec(
            "Remediate the claimant portal before the accessibility review",
            "The pre-assessment found 41 WCAG failures, 9 of them blocking screen-reader users from filing.",
            "Ask for a waiver; remediate only the blockers; remediate every finding before the review.",
            "Steering committee",
            "rpatel",
            19,
            change="Accessibility remediation of the claimant portal",
            risk="Claimant portal fails the accessibility review",
        ),
    ),
    "DMV": (
        Spec(
            "Issue county API credentials from the State's gateway",
            "County tax offices waited weeks for credentials from the contractor's own portal.",
            "Keep Keystone's portal; issue them from the State's API gateway; give every county one shared key.",
            "IT security officer",
            "pokafor",
            14,
            member="pokafor",
            issue="County API credentials not issued",
            risk="County tax offices cannot call the new interface",
        ),
        Spec(
            "Purge card numbers from logs before the PCI assessment",
            "Card numbers were found in the application logs of the fee collection service.",
            "Mask them going forward only; purge and mask; move fee collection to the payment gateway's hosted page.",
            "Project sponsor",
            "snguyen",
            6,
            issue="Card numbers found in application logs",
            risk="Fee collection fails the PCI DSS assessment",
        ),
    ),
}


def _id(db: Session, model: type, project_id: int, title: str) -> int | None:
    if not title:
        return None
    return db.exec(select(model.id).where(model.project_id == project_id, model.title == title)).first()


def _form(db: Session, project: Project, spec: Spec, people: dict[str, Principal]) -> dict[str, Any]:
    return {
        "title": spec.title,
        "context": spec.context,
        "options": spec.options,
        "decided_by": spec.decided_by,
        "decided_by_id": people[spec.member].id if spec.member else None,
        "issue_id": _id(db, Issue, project.id, spec.issue),
        "risk_id": _id(db, Risk, project.id, spec.risk),
        "change_id": _id(db, ChangeRequest, project.id, spec.change),
        "deliverable_ids": linked(db, project.id, spec.deliverables),
    }


def load(db: Session, now: datetime | None = None) -> int:
    """Each project's logged decisions, recorded on the days they were taken; returns how many."""
    return record(db, SPECS, now, _form, decisions.create, decisions.DecisionForm, hour=16)
