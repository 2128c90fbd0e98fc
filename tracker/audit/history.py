"""How the audit trail reads: each event as a sentence ("Maria Rivera updated risk R-001") and each change as its
field's label, as the record's form shows it, with the values in the words its pages use. Audit knows no domain: each
domain registers its own nouns, verbs, labels and words beside its form (`register`), when its service module is
imported (tracker/domains.py imports them all)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tracker.audit.models import AuditEvent
from tracker.audit.service import EventRow, holds_person
from tracker.core.web import show_date, show_datetime


@dataclass(frozen=True)
class Terms:
    labels: dict[str, str]
    # field -> {stored value: word}, or a function of the value and the page's {user id: name}
    words: dict[str, Any] = field(default_factory=dict)


ACTION_WORDS = {"create": "created", "update": "updated", "delete": "deleted"}  # and each domain's own actions
ENTITY_WORDS: dict[str, str] = {}
# By action first (what an action item, a settings page or an import records on its risk's, issue's or project's
# trail), then by the kind of record.
TERMS: dict[str, Terms] = {}


def register(
    *,
    nouns: Mapping[str, str] | None = None,
    verbs: Mapping[str, str] | None = None,
    terms: Mapping[str, Terms] | None = None,
) -> None:
    """A domain's wording: the noun of each kind of record it writes (by table), the verb of each of its actions, and
    the terms its changes read with (by action or by table). Two domains may not word one key differently."""
    for table, new in ((ENTITY_WORDS, nouns), (ACTION_WORDS, verbs), (TERMS, terms)):
        for key, value in (new or {}).items():
            if table.setdefault(key, value) != value:
                raise ValueError(f"{key!r} is already worded {table[key]!r}")


Shown = str | list[str]


def describe(event: AuditEvent) -> str:
    """'created project', 'added member', ... for the history lists."""
    verb = ACTION_WORDS.get(event.action, event.action.replace("_", " "))
    return f"{verb} {ENTITY_WORDS.get(event.entity_type, event.entity_type.replace('_', ' '))}"


@dataclass(frozen=True)
class Line:
    label: str
    before: Shown
    after: Shown


def lines(row: EventRow) -> list[Line]:
    """The event's changes as its record's form would label them, in the words its pages use."""
    e = row.event
    terms = TERMS.get(e.action) or TERMS.get(e.entity_type) or Terms({})
    out = []
    for key, (before, after) in (e.changes or {}).items():
        base = re.sub(r" \d+$", "", key)  # "action 12", "criterion 3": numbered rows of one kind
        was, now = show(base, before, terms, row.names), show(base, after, terms, row.names)
        if was or now:
            out.append(Line(terms.labels.get(key) or terms.labels.get(base) or _label(key), was, now))
    return out


def _label(key: str) -> str:
    text = key.removesuffix("_id").replace("_", " ")
    return text[:1].upper() + text[1:]


def show(key: str, value: Any, terms: Terms, names: dict[int, str]) -> Shown:
    """A stored value in words: a person's name, a coded value's word, a date as pages show it, yes/no, a list."""
    words = terms.words.get(key)
    if value is None or value == "" or value == []:
        return ""
    if callable(words):
        return words(value, names)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if holds_person(key) and isinstance(value, int):
        return names.get(value, "a former user")
    if words is not None:
        return str(words.get(value, value))
    if isinstance(value, dict):  # e.g. a project holiday {"date": …, "name": …}
        return " ".join(_text(show(k, v, terms, names)) for k, v in value.items())
    if isinstance(value, list):  # codes on one line; sentences (criteria, holidays) one a line
        items = [_text(show(key, v, terms, names)) for v in value]
        return ", ".join(items) if not any(" " in i for i in items) else items
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return show_date(date.fromisoformat(value))
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+([+-]\d{2}:\d{2}|Z)?", value):
        return show_datetime(datetime.fromisoformat(value))
    return str(value)


def _text(shown: Shown) -> str:
    return shown if isinstance(shown, str) else "; ".join(shown)
