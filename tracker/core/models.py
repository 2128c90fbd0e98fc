"""Column helpers shared by the domain models."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import declared_attr
from sqlmodel import Field

from tracker.core.errors import StaleEdit


def version_field() -> Any:
    return Field(default=1, sa_column_kwargs={"nullable": False, "server_default": "1"})


class Versioned:
    """Optimistic locking: UPDATE ... WHERE version = :seen, so a stale write raises StaleDataError (409)."""

    def check_seen(self, seen: int | None, current: dict[str, Any], detail: str | None = None) -> None:
        """Refuse an edit made from an older copy than the stored one (409, with the stored values)."""
        if seen is not None and seen != self.version:
            raise StaleEdit(current, detail)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}
