"""data: every deliverable's criteria become version 1 of its DED; each conditional acceptance's conditions become
tracked conditions

Deliverables already submitted count as agreed at their first submission (who agreed was not recorded before this
step existed, so agreed_by stays empty). Conditions were one text with one due date: each line becomes a condition
with that date, met when a later decision closed the conditional acceptance.

Revision ID: 8c3f0d2b6a17
Revises: 79695918da2e
Create Date: 2026-12-06 01:00:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c3f0d2b6a17"
down_revision: str | None = "79695918da2e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _table(name: str, **columns: sa.types.TypeEngine) -> sa.TableClause:
    return sa.table(name, *(sa.column(n, t) for n, t in columns.items()))


# Typed, so dates and times read and write as Python values on SQLite as on PostgreSQL.
I, D, T, S = sa.Integer(), sa.Date(), sa.DateTime(), sa.String()  # noqa: E741
deliverable = _table("deliverable", id=I, created_at=T)
submission = _table("submission", deliverable_id=I, submitted_at=T)
criterion = _table("criterion", id=I, deliverable_id=I, position=I, retired_at=T)
decision = _table(
    "decision",
    id=I,
    deliverable_id=I,
    outcome=S,
    conditions=S,
    conditions_due=D,
    closes_id=I,
    decided_at=T,
    decided_by_id=I,
    findings=S,
)
criteria_version = _table(
    "criteria_version",
    deliverable_id=I,
    number=I,
    criterion_ids=sa.JSON(),
    created_at=T,
    agreed_at=T,
    acknowledged_at=T,
)
condition = _table(
    "condition",
    deliverable_id=I,
    decision_id=I,
    position=I,
    text=S,
    due_date=D,
    met_at=T,
    met_by_id=I,
    evidence=S,
    created_at=T,
    version=I,
)


def upgrade() -> None:
    conn = op.get_bind()
    first = dict(
        conn.execute(
            sa.select(submission.c.deliverable_id, sa.func.min(submission.c.submitted_at)).group_by(
                submission.c.deliverable_id
            )
        ).all()
    )
    criteria: dict[int, list[int]] = {}
    for deliverable_id, criterion_id in conn.execute(
        sa.select(criterion.c.deliverable_id, criterion.c.id)
        .where(criterion.c.retired_at.is_(None))
        .order_by(criterion.c.deliverable_id, criterion.c.position, criterion.c.id)
    ):
        criteria.setdefault(deliverable_id, []).append(criterion_id)
    rows = [
        {
            "deliverable_id": d,
            "number": 1,
            "criterion_ids": criteria.get(d, []),
            "created_at": created,
            "agreed_at": first.get(d),
            "acknowledged_at": first.get(d),
        }
        for d, created in conn.execute(sa.select(deliverable.c.id, deliverable.c.created_at).order_by(deliverable.c.id))
    ]
    if rows:
        conn.execute(criteria_version.insert(), rows)
    closing = {
        closes: (at, by, findings)
        for closes, at, by, findings in conn.execute(
            sa.select(decision.c.closes_id, decision.c.decided_at, decision.c.decided_by_id, decision.c.findings).where(
                decision.c.closes_id != 0
            )
        )
    }
    rows = []
    for decision_id, deliverable_id, text, due, decided_at in conn.execute(
        sa.select(
            decision.c.id,
            decision.c.deliverable_id,
            decision.c.conditions,
            decision.c.conditions_due,
            decision.c.decided_at,
        )
        .where(decision.c.outcome == "conditionally_accepted")
        .order_by(decision.c.id)
    ):
        lines = [re.sub(r"^\s*(?:\d+[.)]|[-*•])\s+", "", line).strip() for line in (text or "").splitlines()]
        lines = [line for line in lines if line] or ["(conditions not listed)"]
        met_at, met_by, findings = closing.get(decision_id, (None, None, ""))
        for position, line in enumerate(lines, start=1):
            rows.append(
                {
                    "deliverable_id": deliverable_id,
                    "decision_id": decision_id,
                    "position": position,
                    "text": line[:2000],
                    "due_date": due or decided_at.date(),
                    "met_at": met_at,
                    "met_by_id": met_by,
                    "created_at": decided_at,
                    "version": 1,
                    "evidence": (findings or "Confirmed when the conditional acceptance was closed.")[:4000]
                    if met_at
                    else "",
                }
            )
    if rows:
        conn.execute(condition.insert(), rows)


def downgrade() -> None:
    op.execute("DELETE FROM condition")
    op.execute("DELETE FROM criteria_version")
