"""A project's overview: the dashboard leadership opens first (DESIGN.md, key pages). The latest published RAG per
area beside the live draft's, the deliverable pipeline, the heat map, the top five risks with their trends, the
escalated issues, what falls due in the next two weeks (deliveries, reviews, conditions, change requests awaiting a
decision), the holdback and the scorecard's headline; the project page adds recent activity.

Every figure is the status report's own: the live draft of the current period (reports.service.build) for those who
read the register, and only its deliverable part for those who do not (the contractor), so the overview and the
report can never disagree. Each part carries the link to its list, already filtered."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from tracker import clocks
from tracker.audit import versions
from tracker.core import memo
from tracker.deliverables import decisions
from tracker.projects.calendar import project_today
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register.changes import service as changes
from tracker.register.changes.models import PENDING, ChangeRequest
from tracker.reports import service as reports
from tracker.reports.models import ReportStatus, StatusReport
from tracker.reports.periods import Period, week_ending

TOP_RISKS = 5
DEADLINES_SHOWN = 12  # a dashboard's share: the rest are a click away, on the filtered lists
SOON_DAYS = clocks.DELIVERY.soon_days  # "the next two weeks": the clocks' own horizon for what is upcoming


@dataclass(frozen=True)
class Deadline:
    on: date | None
    what: str  # "Delivery due", "Review due", "Condition due", "Decision awaited"…
    code: str
    title: str
    href: str
    owner: str | None = None
    overdue_days: int = 0  # > 0: already late by that many days


@dataclass(frozen=True)
class Published:
    id: int
    label: str
    areas: dict[str, str]  # area -> rag
    scorecard: list[dict[str, Any]]


@dataclass(frozen=True)
class Overview:
    period: Period  # the current (draft) period
    published: Published | None
    draft: dict[str, Any] | None  # the live report's content, for those who read the register
    pipeline: list[dict[str, Any]]
    deadlines: list[Deadline]  # the latest first, then the soonest: the first DEADLINES_SHOWN
    more_deadlines: int  # how many more there are, for the full lists
    ledger: decisions.Totals  # summed in SQL: the ledger's rows are a click away
    kept: tuple = ()  # the key it is kept under (tracker.core.memo): the page keeps its drawing under it too

    @property
    def areas(self) -> list[dict[str, Any]]:
        """Per area (overall first): label, the published RAG and the draft's."""
        if self.draft is None:
            return []
        was = self.published.areas if self.published else {}
        return [a | {"published": was.get(a["area"])} for a in self.draft["rag"]["areas"]]

    @property
    def scorecard(self) -> dict[str, Any] | None:
        """The headline of the latest published report's scorecard: how many service levels met of those measured."""
        if self.published is None:
            return None
        measured = [m for m in self.published.scorecard if m.get("met") is not None]
        return {
            "label": self.published.label,
            "met": sum(1 for m in measured if m["met"]),
            "measured": len(measured),
            "missed": [m["label"] for m in measured if not m["met"]],
        }


def _published(db: Session, project_id: int) -> Published | None:
    report_id = db.exec(
        select(StatusReport.id)
        .where(StatusReport.project_id == project_id, StatusReport.status == ReportStatus.PUBLISHED)
        .order_by(col(StatusReport.period_end).desc(), col(StatusReport.number).desc())
        .limit(1)
    ).first()
    if report_id is None:
        return None
    # A published version never changes (a correction is a new one): its figures are kept by its id alone.
    return memo.kept(("published", report_id), lambda: _headline(db, report_id))


def _headline(db: Session, report_id: int) -> Published:
    content = db.exec(select(StatusReport.content).where(StatusReport.id == report_id)).one()
    return Published(
        report_id,
        content["period"]["label"],
        {a["area"]: a["rag"] for a in content["rag"]["areas"]},
        content.get("scorecard", []),
    )


def _item_deadlines(key: str, part: dict[str, Any]) -> list[Deadline]:
    """The report's lists of late and upcoming deliverable clocks as one list of deadlines."""
    out = []
    for late, what in (
        ("deliveries", "Delivery overdue"),
        ("resubmissions", "Resubmission overdue"),
        ("reviews", "Review overdue"),
        ("conditions", "Condition overdue"),
    ):
        for x in part["overdue"][late]:
            out.append(
                Deadline(
                    date.fromisoformat(x["due"]) if x.get("due") else None,
                    what,
                    x["code"],
                    x["title"],
                    f"/projects/{key}/deliverables/{x['id']}",
                    x.get("owner"),
                    x["days"],
                )
            )
    for x in part["upcoming"]["deliverables"] + part["upcoming"]["reviews"]:
        out.append(
            Deadline(
                date.fromisoformat(x["due"]),
                f"{x['what']} due",
                x["code"],
                x["title"],
                f"/projects/{key}/deliverables/{x['id']}",
                x.get("owner"),
            )
        )
    return out


def _change_deadlines(db: Session, access: Access) -> list[Deadline]:
    """Change requests awaiting the State's decision that this reader may see, oldest submission first."""
    if not access.can(Perm.VIEW_CHANGES):
        return []
    found = db.exec(
        select(ChangeRequest)
        .where(
            ChangeRequest.project_id == access.project.id,
            col(ChangeRequest.status).in_(PENDING),
            changes.visible_clause(access),
        )
        .order_by(ChangeRequest.submitted_on, ChangeRequest.code)
    ).all()
    key = access.project.key
    return [
        Deadline(c.submitted_on, "Decision awaited", c.code, c.title, f"/projects/{key}/changes/{c.id}") for c in found
    ]


def _deliverable_part(db: Session, access: Access, period: Period) -> dict[str, Any]:
    """For readers of deliverables only: the report's deliverable figures, in the shape build() gives them."""
    d = reports.deliverable_figures(db, access.project, period)
    return {
        "pipeline": d["pipeline"],
        "overdue": {k: d[k] for k in ("reviews", "resubmissions", "deliveries", "conditions")},
        "upcoming": {"deliverables": d["upcoming"], "reviews": d["reviews_due"]},
    }


def overview(db: Session, access: Access) -> Overview:
    """Kept while the project's record stands, per what the reader's role lets them see and the project's day."""
    project = access.project
    key = ("overview", project.id, project.version, access.perms, project_today(project))
    key += versions.of(db, [project.id])
    return replace(memo.kept(key, lambda: _overview(db, access)), kept=key)


def _overview(db: Session, access: Access) -> Overview:
    project = access.project
    period = week_ending(project_today(project))
    reads_register = access.can(Perm.VIEW_REGISTER)
    draft = reports.build(db, project, period, reports.draft_for(db, project, period)) if reads_register else None
    part = draft if draft is not None else _deliverable_part(db, access, period)
    deadlines = _item_deadlines(project.key, part) + _change_deadlines(db, access)
    deadlines.sort(key=lambda d: (-d.overdue_days, d.on or date.min, d.code))
    if draft is not None:  # a copy: the report's own figures are shared (tracker.core.memo)
        draft = draft | {"top_risks": draft["top_risks"][:TOP_RISKS]}
    return Overview(
        period=period,
        published=_published(db, project.id) if reads_register else None,
        draft=draft,
        pipeline=part["pipeline"],
        deadlines=deadlines[:DEADLINES_SHOWN],
        more_deadlines=max(len(deadlines) - DEADLINES_SHOWN, 0),
        ledger=decisions.holdback_totals(db, [project.id])[project.id],
    )
