"""Custom fields of register records: a project's managers define them per kind (`CustomField`), and each value a
record holds is a typed row of `CustomValue`.

Why typed value rows rather than JSON on the record: a list filters by these fields ("Funding source is Federal",
"SLA hours above 48"), and that must stay indexed on SQLite and PostgreSQL alike. With JSON, each field would need
its own expression index (`(json_extract(custom, '$.f12'))`, `((custom->>'f12')::numeric)`), that is DDL run when a
manager adds a field, outside the migrations that own the schema, and different on each database. A value table
needs five ordinary indexes, made once: every filter is an EXISTS on (field_id, the typed column), and a list's values
for a page of records are one query on (field_id, record_id)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.models import Versioned, version_field


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    CHOICES = "choices"  # several of the choices
    USER = "user"  # a member of the project


class CustomField(Versioned, SQLModel, table=True):
    __tablename__ = "custom_field"
    __table_args__ = (
        UniqueConstraint("project_id", "entity", "key", name="uq_custom_field_key"),
        Index("ix_custom_field_project_entity", "project_id", "entity", "position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    entity: str = Field(max_length=60)  # the kind's table: "risk", "issue", "change_request", "lesson"
    key: str = Field(max_length=40)  # what the API and spreadsheets may name it by, besides its label
    label: str = Field(max_length=80)
    type: str = Field(max_length=20)  # FieldType
    choices: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    required: bool = False
    help: str = Field(default="", max_length=300)
    position: int = 0
    in_list: bool = True  # a column of the kind's list (every field is a filter of it)
    retired: bool = False  # hidden from forms, lists and filters; its values are kept
    version: int = version_field()

    @property
    def options(self) -> list[tuple[str, str]]:
        """Its choices as a select offers them."""
        return [(c, c) for c in self.choices]


class CustomValue(SQLModel, table=True):
    """One value of one field on one record; a multiple choice has one row per choice. Exactly one typed column is
    set, by the field's type (a choice is text)."""

    __tablename__ = "custom_value"
    __table_args__ = (
        Index("ix_custom_value_record", "field_id", "record_id"),
        Index("ix_custom_value_text", "field_id", "text_value"),
        Index("ix_custom_value_number", "field_id", "number_value"),
        Index("ix_custom_value_date", "field_id", "date_value"),
        Index("ix_custom_value_user", "field_id", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    field_id: int = Field(foreign_key="custom_field.id")
    record_id: int
    text_value: str | None = Field(default=None, max_length=500)
    number_value: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 4), nullable=True))
    date_value: date | None = None
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
