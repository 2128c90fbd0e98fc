"""A project's own RAG thresholds and service-level targets. Blank keeps the default from rag.THRESHOLDS,
scorecard.DEFAULT_TARGETS or scorecard.ISSUE_TARGET_DAYS; the values live on the project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.errors import FormError
from tracker.projects.models import Project
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.reports import rag, scorecard


@dataclass(frozen=True)
class Setting:
    name: str
    label: str
    default: float
    kind: str  # count | days | percent (a rate shown as a percentage) | number
    group: str  # thresholds | targets


FIELDS = [
    *(
        Setting(k, rag.THRESHOLD_LABELS[k], v, "days" if k.endswith("_days") else "count", "thresholds")
        for k, v in rag.THRESHOLDS.items()
    ),
    *(
        Setting(
            k,
            scorecard.METRICS[k][0] + (" (%)" if scorecard.METRICS[k][1] == "rate" else ""),
            v,
            "percent" if scorecard.METRICS[k][1] == "rate" else "number",
            "targets",
        )
        for k, v in scorecard.DEFAULT_TARGETS.items()
    ),
    *(
        Setting(f"issue_days_{p}", f"Days to resolve a {p} issue", d, "days", "targets")
        for p, d in scorecard.ISSUE_TARGET_DAYS.items()
    ),
]
LIMITS = {"count": (1, 1000), "days": (1, 365), "percent": (0, 100), "number": (1, 10)}
LABELS = {s.name: s.label for s in FIELDS}  # the targets page's, and the history's (audit/history.py)
history.register(
    verbs={"report_targets": "changed the RAG thresholds and targets of"},
    terms={"report_targets": history.Terms(LABELS)},
)


def _shown(s: Setting, value: float) -> float | int:
    return round(value * 100) if s.kind == "percent" else value if s.kind == "number" else int(value)


def form_values(project: Project) -> dict[str, Any]:
    own = (project.rag_thresholds or {}) | (project.slo_targets or {})
    return {s.name: _shown(s, own[s.name]) if s.name in own else "" for s in FIELDS} | {"version": project.version}


def parse(data: dict[str, Any]) -> tuple[dict[str, float], dict[str, float], int | None]:
    """(RAG thresholds, SLO targets, version seen) from the form; blank fields are left out (the default applies)."""
    thresholds: dict[str, float] = {}
    targets: dict[str, float] = {}
    errors = {}
    for s in FIELDS:
        raw = str(data.get(s.name) or "").strip()
        if not raw:
            continue
        low, high = LIMITS[s.kind]
        try:
            value = float(raw) if s.kind in ("percent", "number") else int(raw)
        except ValueError:
            errors[s.name] = "Enter a number, or leave it blank for the default."
            continue
        if not low <= value <= high:
            errors[s.name] = f"Enter a value from {low} to {high}, or leave it blank for the default."
            continue
        (thresholds if s.group == "thresholds" else targets)[s.name] = value / 100 if s.kind == "percent" else value
    if errors:
        raise FormError(errors)
    version = str(data.get("version") or "")
    return thresholds, targets, int(version) if version.isdigit() else None


def update(db: Session, actor: Principal, access: Access, data: dict[str, Any]) -> Project:
    access.require(Perm.MANAGE)
    project = access.project
    thresholds, targets, version = parse(data)
    before = form_values(project)
    project.check_seen(version, {k: v for k, v in before.items() if k != "version"})
    project.rag_thresholds, project.slo_targets = thresholds, targets
    changes = audit.diff(
        {k: v for k, v in before.items() if k != "version"},
        {k: v for k, v in form_values(project).items() if k != "version"},
    )
    if changes:
        audit.record(
            db,
            actor_id=actor.id,
            entity=project,
            project_id=project.id,
            label=project.key,
            action="report_targets",
            changes=changes,
        )
    db.flush()
    return project
