"""Calendar feeds: one secret address per person (their My work) and per person and project."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class CalendarFeed(Versioned, SQLModel, table=True):
    __tablename__ = "calendar_feed"
    __table_args__ = (
        UniqueConstraint("user_id", "project_id"),
        # NULLs differ in a unique constraint: this keeps a person to one My work feed, which a reset must reach.
        Index(
            "ix_calendar_feed_one_personal",
            "user_id",
            unique=True,
            sqlite_where=text("project_id IS NULL"),
            postgresql_where=text("project_id IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")  # indexed by the unique (user_id, project_id)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)  # None: the person's My work
    # The address's token is an HMAC of the salt under the server's key: the page can show it again, while the
    # database alone (a backup, a leak) holds no working address, only the token's sha256 to find the feed by.
    salt: str = Field(max_length=32)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    reset_at: datetime | None = None
    version: int = version_field()
