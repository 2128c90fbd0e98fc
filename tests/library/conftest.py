"""Helpers shared by the library tests: definitions in a line, saving a report as a persona."""

from __future__ import annotations

from typing import Any

from tests.register.conftest import acting
from tracker.library import service
from tracker.library.sources import parse_definition


def definition(
    source: str, columns: list[str], filters: list[tuple] = (), sort: list[tuple] = (), page_size: int = 25
) -> dict[str, Any]:
    return {
        "source": source,
        "columns": columns,
        "page_size": page_size,
        "filters": [{"field": f, "op": op, "value": v} for f, op, v in filters],
        "sort": [{"field": f, "desc": d} for f, d in sort],
    }


def save(db, world, role: str, raw: dict[str, Any], name: str = "Report", shared: bool = False, description: str = ""):
    actor, access = acting(db, world, role)
    form = service.ReportForm(name=name, description=description, shared=shared)
    return service.create(db, actor, access, form, parse_definition(raw))


def run(db, world, role: str, raw: dict[str, Any], **kw):
    actor, access = acting(db, world, role)
    return service.run(db, access, actor, parse_definition(raw), **kw)
