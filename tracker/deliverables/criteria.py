"""The Deliverable Expectation Document: the acceptance criteria in versions, and the agreement of each version (a
manager for the State, then the contractor's acknowledgment) that a submission waits for.

Until the first submission the criteria are edited in place, and an agreement already recorded is withdrawn by a
change. After it, a change to an agreed (or judged) version makes the next version; the newest version is edited in
place while nobody has agreed it or decided against it. Every change bumps the deliverable's own version, so an edit
made from a stale page answers 409."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, FormError
from tracker.core.web import show_date
from tracker.deliverables.models import CriteriaVersion, Criterion, Decision, Deliverable
from tracker.deliverables.workflow import FINAL
from tracker.projects.permissions import Perm
from tracker.projects.service import Access

MAX_CRITERIA = 100
MAX_TEXT = 2000


def parse(text: str) -> list[str]:
    """One criterion per line; blank lines ignored; leading list markers ("1.", "-", "*") dropped."""
    out = []
    for line in (text or "").splitlines():
        line = re.sub(r"^\s*(?:\d+[.)]|[-*•])\s+", "", line).strip()
        if line:
            out.append(line)
    return out


def problem(texts: list[str]) -> str | None:
    """Why this list of criteria cannot be the DED, or None."""
    if len(texts) > MAX_CRITERIA:
        return f"At most {MAX_CRITERIA} criteria."
    seen: dict[str, int] = {}
    for n, text in enumerate(texts, start=1):
        if len(text) > MAX_TEXT:
            return f"Criterion {n} is longer than {MAX_TEXT} characters."
        key = " ".join(text.split()).casefold()
        if key in seen:
            return f"Criterion {n} repeats criterion {seen[key]} (“{text}”): each criterion is listed once."
        seen[key] = n
    return None


def current(db: Session, deliverable_id: int) -> CriteriaVersion:
    version = db.exec(
        select(CriteriaVersion)
        .where(CriteriaVersion.deliverable_id == deliverable_id)
        .order_by(col(CriteriaVersion.number).desc())
        .limit(1)
    ).first()
    if version is None:  # every deliverable gets version 1 when planned
        raise Conflict(detail="This deliverable has no acceptance criteria version.")
    return version


def start(db: Session, deliverable: Deliverable, criteria: list[Criterion]) -> CriteriaVersion:
    version = CriteriaVersion(deliverable_id=deliverable.id, number=1, criterion_ids=[c.id for c in criteria])
    db.add(version)
    return version


def criteria_of(db: Session, version: CriteriaVersion) -> list[Criterion]:
    """The criteria of one version, in its order, whatever changed since."""
    by_id = {c.id: c for c in db.exec(select(Criterion).where(col(Criterion.id).in_(version.criterion_ids)))}
    return [by_id[i] for i in version.criterion_ids if i in by_id]


def _judged(db: Session, version: CriteriaVersion) -> bool:
    return (
        db.exec(
            select(Decision.id)
            .where(Decision.deliverable_id == version.deliverable_id, Decision.criteria_version == version.number)
            .limit(1)
        ).first()
        is not None
    )


def record_change(
    db: Session, deliverable: Deliverable, criteria: list[Criterion], bump: bool = True
) -> tuple[CriteriaVersion, dict]:
    """Write the new list into the current version or the next one; returns it with the audit changes to add.
    `bump` moves the deliverable's version (unless the same save already moved it)."""
    version = current(db, deliverable.id)
    ids = [c.id for c in criteria]
    changes: dict = {}
    if deliverable.current_version > 0 and (version.agreed_at is not None or _judged(db, version)):
        version = CriteriaVersion(deliverable_id=deliverable.id, number=version.number + 1, criterion_ids=ids)
        db.add(version)
        changes["criteria version"] = [version.number - 1, version.number]
    else:
        if version.agreed_at is not None:
            changes["criteria agreement"] = [f"version {version.number} agreed", "withdrawn: the criteria changed"]
        version.criterion_ids = ids
        version.agreed_at = version.agreed_by_id = version.acknowledged_at = version.acknowledged_by_id = None
    if bump:
        deliverable.updated_at = utcnow()  # the deliverable's version moves with its criteria
    return version, changes


# Each side of the agreement as data: who may record it, the version's columns it fills, and its audit action.
SIDES = {
    "agree": (Perm.DECIDE, "agreed", "agree_criteria"),
    "acknowledge": (Perm.ACKNOWLEDGE, "acknowledged", "acknowledge_criteria"),
}


def _record_side(
    db: Session, actor: Principal, access: Access, deliverable: Deliverable, seen: int | None, side: str
) -> CriteriaVersion:
    perm, column, action = SIDES[side]
    access.require(perm)
    deliverable.check_seen(seen, {"status": deliverable.status})
    if deliverable.status in FINAL:
        raise Conflict(detail="The criteria of a closed deliverable are on the record as they were.")
    version = current(db, deliverable.id)
    if not version.criterion_ids:
        raise FormError({"criteria": "Add at least one acceptance criterion before recording the agreement."})
    if side == "acknowledge" and version.agreed_at is None:
        raise Conflict(detail=f"Criteria version {version.number} has not been agreed by the State yet.")
    if getattr(version, f"{column}_at") is not None:
        raise Conflict(detail=f"Criteria version {version.number} is already {column}.")
    setattr(version, f"{column}_at", utcnow())
    setattr(version, f"{column}_by_id", actor.id)
    deliverable.updated_at = utcnow()  # the deliverable's version moves: a page showing the old state is stale
    audit.record(
        db,
        actor_id=actor.id,
        entity=deliverable,
        project_id=deliverable.project_id,
        label=deliverable.code,
        action=action,
        changes={"criteria version": [None, version.number]},
    )
    db.flush()
    return version


def agree(
    db: Session, actor: Principal, access: Access, deliverable: Deliverable, seen: int | None = None
) -> CriteriaVersion:
    """A manager records the State's agreement to the current version."""
    return _record_side(db, actor, access, deliverable, seen, "agree")


def acknowledge(
    db: Session, actor: Principal, access: Access, deliverable: Deliverable, seen: int | None = None
) -> CriteriaVersion:
    """The contractor acknowledges the version the State agreed."""
    return _record_side(db, actor, access, deliverable, seen, "acknowledge")


def agreement_missing(version: CriteriaVersion) -> str | None:
    """What the version still needs before a submission, or None."""
    if not version.criterion_ids:
        return "The deliverable has no acceptance criteria yet: a manager adds them and records the agreement."
    if version.agreed_at is None:
        return f"Criteria version {version.number} is not agreed yet: a manager records the State's agreement."
    if version.acknowledged_at is None:
        return f"Criteria version {version.number} is agreed but the contractor has not acknowledged it yet."
    return None


@dataclass(frozen=True)
class Agreement:
    version: CriteriaVersion
    agreed_by: str | None
    acknowledged_by: str | None

    @property
    def agreed(self) -> bool:
        return self.version.agreed_at is not None

    @property
    def complete(self) -> bool:
        return agreement_missing(self.version) is None

    def describe(self, zone: str) -> str:
        """'version 2, agreed Mar 3, 2026 by …; acknowledged Mar 4, 2026 by …', days on the project's calendar."""
        v = self.version

        def day(at: datetime) -> str:
            return show_date(at, zone)

        if v.agreed_at is None:
            return f"version {v.number}, not agreed yet"
        agreed = f"agreed {day(v.agreed_at)}" + (f" by {self.agreed_by}" if self.agreed_by else "")
        if v.acknowledged_at is None:
            return f"version {v.number}, {agreed}; not acknowledged by the contractor yet"
        return f"version {v.number}, {agreed}; acknowledged {day(v.acknowledged_at)}" + (
            f" by {self.acknowledged_by}" if self.acknowledged_by else ""
        )


def agreement(db: Session, version: CriteriaVersion) -> Agreement:
    ids = [i for i in (version.agreed_by_id, version.acknowledged_by_id) if i]
    names = dict(db.exec(select(User.id, User.full_name).where(col(User.id).in_(ids))).all()) if ids else {}
    return Agreement(version, names.get(version.agreed_by_id), names.get(version.acknowledged_by_id))


def judged(db: Session, deliverable_id: int, number: int) -> Agreement | None:
    """A version by its number, with who agreed and acknowledged it, in one query."""
    agreed_by, acknowledged_by = User.__table__.alias("agreed_by"), User.__table__.alias("acknowledged_by")
    row = db.exec(
        select(CriteriaVersion, agreed_by.c.full_name, acknowledged_by.c.full_name)
        .outerjoin(agreed_by, agreed_by.c.id == CriteriaVersion.agreed_by_id)
        .outerjoin(acknowledged_by, acknowledged_by.c.id == CriteriaVersion.acknowledged_by_id)
        .where(CriteriaVersion.deliverable_id == deliverable_id, CriteriaVersion.number == number)
    ).first()
    return Agreement(*row) if row else None
