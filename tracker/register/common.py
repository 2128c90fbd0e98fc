"""What every register kind shares: codes (R-001, I-001, CR-001), owners, deliverable links, the register settings, and
the form helpers for repeated fields."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator
from sqlmodel import Session, SQLModel, col, delete, func, or_, select

from tracker.accounts.models import User
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.db import sort_order
from tracker.core.errors import FormError, NotFound
from tracker.core.forms import Checkbox, Form, OptionalInt
from tracker.deliverables.models import Deliverable
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm, roles_with
from tracker.register.risks.models import RegisterSettings

PAGE_SIZE = 25  # rows a register list shows a page
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
OWNER_ROLES = sorted(roles_with(Perm.VIEW_REGISTER))  # those who can see the register can own its entries
# The session's changes to custom values (register/custom), by (the kind's table, record id or None when new): what
# the record's create or update event records besides the kind's own fields, set just before its service is called.
CUSTOM_CHANGES = "custom_changes"


def custom_changes(db: Session, record: Any, new: bool = False) -> dict[str, Any]:
    return db.info.get(CUSTOM_CHANGES, {}).pop((record.__tablename__, None if new else record.id), {})


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


def link_key(link: type[SQLModel]) -> str:
    """The link table's column naming its record: risk_id, issue_id, change_id."""
    return next(c.name for c in link.__table__.primary_key.columns if c.name != "deliverable_id")


def check_form(
    db: Session, model: type[SQLModel], project: Project, form: RecordForm, prefix: str, record: Any = None
) -> tuple[str, dict[int, str]]:
    """What every kind checks of its form: the code (blank: the record's, or the next free one) unique in the
    project, and {id: code} of the deliverables, all of the project."""
    code = form.code or (record.code if record is not None else next_code(db, model, project.id, prefix))
    check_unique_code(db, model, project, code, record.id if record is not None else None)
    return code, check_deliverables(db, project.id, form.deliverable_ids)


def form_values(db: Session, record: Any, fields: tuple[str, ...], link: type[SQLModel]) -> dict[str, Any]:
    """A stored record as its edit form (and the API's PATCH) starts from: its fields, its deliverables, its version."""
    links = linked_deliverables(db, link, link_key(link), [record.id])[record.id]
    return audit.snapshot(record, fields) | {"deliverable_ids": [d for d, _ in links], "version": record.version}


def record_event(db: Session, actor: Any, record: Any, action: str, changes: dict[str, Any]) -> None:
    audit.record(
        db,
        actor_id=actor.id,
        entity=record,
        project_id=record.project_id,
        label=record.code,
        action=action,
        changes=changes,
    )


def created(
    db: Session,
    actor: Any,
    record: Any,
    fields: tuple[str, ...],
    link: type[SQLModel],
    links: dict[int, str],
    extra: dict[str, Any] | None = None,
) -> None:
    """A new record stored with its deliverable links, and its "create" event: every field given, its deliverables
    and what the kind adds (`extra`)."""
    db.add(record)
    db.flush()
    set_links(db, link, link_key(link), record.id, links)
    changes = {f: [None, v] for f, v in audit.snapshot(record, fields).items() if v not in (None, "")}
    if links:
        changes["deliverables"] = [None, sorted(links.values())]
    changes |= custom_changes(db, record, new=True)
    record_event(db, actor, record, "create", changes | (extra or {}))
    db.flush()


def edited(
    db: Session,
    record: Any,
    fields: tuple[str, ...],
    link: type[SQLModel],
    links: dict[int, str],
    apply: Callable[[], None],
) -> dict[str, Any]:
    """An edit in one UPDATE, so the version moves by one: the links made `links`, then `apply` sets the fields;
    returns what changed (and stamps the record's updated_at when anything did)."""
    before = audit.snapshot(record, fields)
    with db.no_autoflush:
        link_change = set_links(db, link, link_key(link), record.id, links)
        apply()
        changes = audit.diff(before, audit.snapshot(record, fields))
        if link_change:
            changes["deliverables"] = link_change
        changes |= custom_changes(db, record)
        if changes:
            record.updated_at = utcnow()
    return changes


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


class RecordForm(Form):
    """What every register record's form has: its code (blank: the next free one), its title, the deliverables it
    concerns, and the version it was read at. A kind's form adds its own fields."""

    code: str = Field(default="", max_length=20)
    title: str = Field(min_length=1, max_length=200)
    deliverable_ids: list[int] = Field(default_factory=list, max_length=200)
    version: int | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        return clean_code(v)

    @field_validator("deliverable_ids", mode="before")
    @classmethod
    def _list(cls, v: Any) -> Any:
        return as_list(v)


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
    # What the list's custom-field filters add (register/custom), never read from the request
    _extra_where: list[Any] = PrivateAttr(default_factory=list)

    @property
    def extra_where(self) -> list[Any]:
        return self._extra_where

    @field_validator("*", mode="before")
    @classmethod
    def _blank(cls, v: Any, info: ValidationInfo) -> Any:
        """A filter left blank is no filter (a kind's own filters default to None)."""
        return None if v == "" and cls.model_fields[info.field_name].default is None else v

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


@dataclass(frozen=True)
class Part:
    """Which rows of a filtered list to read: a page (limit, offset), every row (limit=None), or one record."""

    limit: int | None = PAGE_SIZE
    offset: int | None = None
    record_id: int | None = None


EVERY = Part(limit=None)


def list_where(
    model: type[SQLModel], access: Any, query: ListQuery, part: Part, group: Iterable[str], text: tuple
) -> list:
    """The filters every kind's list has: the project, one record, the status or the kind's group of statuses, and
    the search box over the kind's text columns. The kind adds its own."""
    where: list[Any] = [model.project_id == access.project.id]
    if part.record_id is not None:
        where.append(model.id == part.record_id)
    if query.status and query.status == query.group:
        where.append(col(model.status).in_(list(group)))
    elif query.status:
        where.append(model.status == query.status)
    if query.q:
        where.append(text_match(query.q, *text))
    return where + query.extra_where


def text_match(q: str, *columns: Any) -> Any:
    """The list's search box: the words anywhere in any of these columns, whatever their case."""
    like = f"%{q.lower()}%"
    return or_(*(func.lower(c).like(like) for c in columns))


def page_of(
    db: Session, model: type[SQLModel], stmt: Any, where: list[Any], query: ListQuery, part: Part
) -> tuple[list[Any], int]:
    """One page of a kind's filtered list and the count of the whole list: two queries whatever its size, sorted by
    the kind's SORTS entry for the query's sort (a leading "-" meaning descending). One record (a record's page, a
    row answered alone) is its own count."""
    descending, columns = sort_of(query.sorts, query.sort)
    stmt = stmt.where(*where).order_by(*sort_order(columns, descending))
    if part.record_id is not None:
        rows = list(db.exec(stmt))
        return rows, len(rows)
    total = db.exec(select(func.count()).select_from(model).where(*where)).one()
    if part.limit is not None:
        offset = part.offset if part.offset is not None else (query.page - 1) * part.limit
        stmt = stmt.limit(part.limit).offset(offset)
    return list(db.exec(stmt)), total


def sort_of(sorts: dict[str, Any], key: str) -> tuple[bool, Any]:
    """(descending, the columns) of a list's sort key such as "-score"."""
    return key.startswith("-"), sorts[key.lstrip("-")]


def only_row(rows: list[Any], noun: str) -> Any:
    if not rows:
        raise NotFound(detail=f"No such {noun} in this project.")
    return rows[0]
