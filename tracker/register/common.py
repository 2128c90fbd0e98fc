"""What every register kind shares: codes (R-001, I-001, CR-001), owners, deliverable links, the register settings, and
the form helpers for repeated fields."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from pydantic import Field, field_validator
from sqlmodel import Session, SQLModel, col, delete, func, or_, select

from tracker.accounts.models import User
from tracker.core.db import sort_order
from tracker.core.errors import FormError, NotFound
from tracker.core.forms import Checkbox, Form, OptionalInt
from tracker.deliverables.models import Deliverable
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm, roles_with
from tracker.register.risks.models import RegisterSettings

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
OWNER_ROLES = sorted(roles_with(Perm.VIEW_REGISTER))  # those who can see the register can own its entries


def settings_for(db: Session, project_id: int) -> RegisterSettings:
    """The project's register settings, or the defaults when it never changed them."""
    return db.get(RegisterSettings, project_id) or RegisterSettings(project_id=project_id)


def next_code(db: Session, model: type[SQLModel], project_id: int, prefix: str) -> str:
    """The next free R-### / I-### after the highest number in use."""
    codes = db.exec(select(model.code).where(model.project_id == project_id, col(model.code).like(f"{prefix}-%")))
    numbers = [int(m.group(1)) for c in codes if (m := re.fullmatch(rf"{prefix}-(\d+)", c))]
    return f"{prefix}-{max(numbers, default=0) + 1:03d}"


def clean_code(v: str) -> str:
    if v and not CODE_PATTERN.match(v):
        raise ValueError("Use letters, digits, dot, dash or underscore, e.g. R-012")
    return v.upper()


def check_unique_code(db: Session, model: type[SQLModel], project: Project, code: str, exclude_id: int | None) -> None:
    taken = db.exec(select(model.id).where(model.project_id == project.id, model.code == code)).first()
    if taken is not None and taken != exclude_id:
        raise FormError({"code": f"{code} is already used in {project.key}."})


def check_owner(db: Session, project_id: int, user_id: int | None, field: str = "owner_id") -> None:
    if user_id is None:
        return
    role = db.exec(
        select(Membership.role).where(Membership.project_id == project_id, Membership.user_id == user_id)
    ).first()
    if role not in OWNER_ROLES:
        raise FormError({field: "Choose a member of this project who can see the register."})


def owners(db: Session, project_id: int) -> list[tuple[int, str]]:
    stmt = (
        select(User.id, User.full_name)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.project_id == project_id, col(Membership.role).in_(OWNER_ROLES))
        .order_by(User.full_name)
    )
    return [(i, n) for i, n in db.exec(stmt)]


def deliverable_choices(db: Session, project_id: int) -> list[tuple[int, str]]:
    stmt = select(Deliverable.id, Deliverable.code, Deliverable.title).where(Deliverable.project_id == project_id)
    return [(i, f"{code} · {title}") for i, code, title in db.exec(stmt.order_by(Deliverable.code))]


def check_deliverables(db: Session, project_id: int, ids: list[int]) -> dict[int, str]:
    """{id: code} of the given deliverables, all of which must belong to the project."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    found = dict(
        db.exec(
            select(Deliverable.id, Deliverable.code).where(
                col(Deliverable.id).in_(ids), Deliverable.project_id == project_id
            )
        ).all()
    )
    if len(found) != len(ids):
        raise FormError({"deliverable_ids": "Choose deliverables of this project."})
    return found


def linked_deliverables(
    db: Session, link: type[SQLModel], key: str, parent_ids: Iterable[int]
) -> dict[int, list[tuple[int, str]]]:
    """{parent id: [(deliverable id, code), ...]} for risks or issues, in one query."""
    parent_ids = list(parent_ids)
    out: dict[int, list[tuple[int, str]]] = {i: [] for i in parent_ids}
    if parent_ids:
        fk = getattr(link, key)
        rows = db.exec(
            select(fk, Deliverable.id, Deliverable.code)
            .join(Deliverable, col(Deliverable.id) == link.deliverable_id)
            .where(col(fk).in_(parent_ids))
            .order_by(Deliverable.code)
        )
        for parent, did, code in rows:
            out[parent].append((did, code))
    return out


def set_links(
    db: Session, link: type[SQLModel], key: str, parent_id: int, wanted: dict[int, str]
) -> list[list[str]] | None:
    """Make the parent's deliverable links exactly `wanted`; returns [before codes, after codes] if they changed."""
    before = linked_deliverables(db, link, key, [parent_id])[parent_id]
    if {d for d, _ in before} == set(wanted):
        return None
    db.exec(delete(link).where(getattr(link, key) == parent_id))
    for deliverable_id in wanted:
        db.add(link(**{key: parent_id, "deliverable_id": deliverable_id}))
    return [[c for _, c in before], sorted(wanted.values())]


def as_list(v: Any) -> Any:
    """A form's repeated field as a list: one value alone, or none, is a list too. Anything else is left to the
    field's own type check to refuse."""
    if v is None or v == "":
        return []
    if isinstance(v, (str, int)):
        return [v]
    if isinstance(v, (list, tuple)):
        return [x for x in v if x != ""]
    return v


# --- the filtered list ------------------------------------------------------------------------------------------


class ListQuery(Form):
    """The filters every register list has. A kind's query adds its own, names its statuses (and the word for a
    group of them, such as "active"), its sorts, and its default sort as the `sort` field's default."""

    statuses: ClassVar[Iterable[str]] = ()
    group: ClassVar[str] = ""
    sorts: ClassVar[dict[str, Any]] = {}

    status: str = ""
    owner: OptionalInt = None
    overdue: Checkbox = False
    q: str = Field(default="", max_length=100)
    sort: str = ""
    page: int = Field(default=1, ge=1, le=100_000)

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        if v and v != cls.group and v not in set(cls.statuses):
            raise ValueError("Choose a status from the list")
        return v

    @field_validator("sort")
    @classmethod
    def _sort(cls, v: str) -> str:
        return v if v.lstrip("-") in cls.sorts else cls.model_fields["sort"].default


def text_match(q: str, *columns: Any) -> Any:
    """The list's search box: the words anywhere in any of these columns, whatever their case."""
    like = f"%{q.lower()}%"
    return or_(*(func.lower(c).like(like) for c in columns))


def page_of(
    db: Session,
    model: type[SQLModel],
    stmt: Any,
    where: list[Any],
    sort: Any,
    page: int,
    limit: int | None,
    offset: int | None,
) -> tuple[list[Any], int]:
    """One page of a kind's filtered list and the count of the whole list: two queries whatever its size.
    `sort` is the kind's SORTS entry for the query's sort, a leading "-" meaning descending; limit=None: every row."""
    total = db.exec(select(func.count()).select_from(model).where(*where)).one()
    stmt = stmt.where(*where).order_by(*sort_order(sort[1], sort[0]))
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset if offset is not None else (page - 1) * limit)
    return list(db.exec(stmt)), total


def sort_of(sorts: dict[str, Any], key: str) -> tuple[bool, Any]:
    """(descending, the columns) of a list's sort key such as "-score"."""
    return key.startswith("-"), sorts[key.lstrip("-")]


def only_row(rows: list[Any], noun: str) -> Any:
    if not rows:
        raise NotFound(detail=f"No such {noun} in this project.")
    return rows[0]
