"""Bulk edit, written once for every kind of the kinds table: the rows a member ticked in a register list, each with
the version it was read at, given the same new owner, status, priority or next review date. One transaction, each
record changed through its kind's own update (its rules, its one audit event), a row changed by someone else since
the list was read reported and left alone, and a row its kind's rules refuse reported with the reason and left alone
too. The pages (register/pages.py) and the API (register/api.py) both call `apply`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from tracker.accounts.service import Principal
from tracker.core.errors import FormError, NotFound
from tracker.core.forms import parse
from tracker.projects.service import Access
from tracker.register import common
from tracker.register.custom import service as custom
from tracker.register.kinds import Kind

MAX_ROWS = 200  # a register page shows 25; a bulk edit of more is refused rather than left half read
UNASSIGNED = "none"  # the owner choice that clears the owner ("" leaves it as it is)
PICK = re.compile(r"^(\d{1,18}):(\d{1,18})$")  # a ticked row: "record id:version read"


@dataclass
class Outcome:
    changed: list[str] = field(default_factory=list)  # codes, in code order
    unchanged: list[str] = field(default_factory=list)  # already so: nothing to record
    stale: list[str] = field(default_factory=list)  # changed by someone else since the list was read: left alone
    refused: list[tuple[str, str]] = field(default_factory=list)  # (code, why): the kind's rules said no

    def as_json(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "unchanged": self.unchanged,
            "stale": self.stale,
            "refused": [{"code": c, "error": e} for c, e in self.refused],
        }


def picks(values: list[str]) -> dict[int, int]:
    """The ticked rows of a list's form ("id:version" each) as {id: version}."""
    out: dict[int, int] = {}
    for v in values:
        m = PICK.match(str(v))
        if not m:
            raise FormError({"pick": "A selected row could not be read; load the list again."})
        out[int(m[1])] = int(m[2])
    return out


def chosen(kind: Kind, data: dict[str, Any]) -> dict[str, Any]:
    """The fields the member chose to set (blank: leave as it is), as the kind's form takes them."""
    out = {}
    for name in kind.bulk:
        value = data.get(name)
        if value in (None, ""):
            continue
        out[name] = None if name == "owner_id" and value == UNASSIGNED else value
    return out


def apply(
    db: Session,
    actor: Principal,
    access: Access,
    kind: Kind,
    rows: dict[int, int],
    values: dict[str, Any],
    custom_values: dict[int, Any] | None = None,
    name: Any = None,
) -> Outcome:
    """Set `values` and `custom_values` (custom fields by id, register/custom; errors named by `name`) on the records
    `rows` ({id: version read}) of the access's project, in the caller's transaction."""
    custom_values = custom_values or {}
    if not rows:
        raise FormError({"pick": f"Select at least one {kind.noun} in the list."})
    if len(rows) > MAX_ROWS:
        raise FormError({"pick": f"Select at most {MAX_ROWS} rows at a time."})
    if not values and not custom_values:
        raise FormError({"bulk": "Choose at least one change to make."})
    access.require(kind.edit)
    model = kind.model
    records = list(
        db.exec(
            select(model)
            .where(col(model.id).in_(list(rows)), model.project_id == access.project.id)
            .order_by(col(model.code))
        )
    )
    if len(records) != len(rows):
        raise NotFound(detail=f"Some of the selected rows are not {kind.plural} of {access.project.key}.")
    if "owner_id" in values:
        common.check_owner(db, access.project.id, _int(values["owner_id"]))
    _check_values(kind, db, records[0], values)
    fields = custom.definitions(db, access.project.id, kind.entity)
    custom.clean(db, access.project.id, fields, custom_values, partial=True, name=name)
    outcome = Outcome()
    for record in records:
        if record.version != rows[record.id]:
            outcome.stale.append(record.code)
            continue
        form_values = kind.service.form_values(db, record) | values
        before = record.version
        try:
            with db.begin_nested():
                custom.save(db, actor, access, kind, record, form_values, custom_values, True, fields, name)
        except FormError as exc:
            db.refresh(record)
            outcome.refused.append((record.code, " ".join(exc.errors.values())))
            continue
        except StaleDataError:  # written by another transaction between our read and our write
            outcome.stale.append(record.code)
            continue
        (outcome.changed if record.version != before else outcome.unchanged).append(record.code)
    return outcome


def _check_values(kind: Kind, db: Session, record: Any, values: dict[str, Any]) -> None:
    """The chosen values themselves (a status the kind has, a date): refused beside their fields before any row is
    touched, so one bad choice is not repeated once per row."""
    try:
        parse(kind.form, kind.service.form_values(db, record) | values)
    except FormError as exc:
        wrong = {k: v for k, v in exc.errors.items() if k in values}
        if wrong:
            raise FormError(wrong) from None


def _int(value: Any) -> int | None:
    try:
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        raise FormError({"owner_id": "Choose a member of this project who can see the register."}) from None
