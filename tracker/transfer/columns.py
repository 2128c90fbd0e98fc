"""The register kinds as spreadsheet columns, in one place: the header each column is exported under,
the headers PMOs commonly give it, how a cell becomes a form value and how a record becomes a cell. Import and
export both read these tables, so an exported register imports back unchanged."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from tracker.core.forms import Form
from tracker.core.web import label
from tracker.register.changes.models import Side
from tracker.register.issues.models import EscalationLevel, IssueStatus, Priority
from tracker.register.kinds import KINDS, Kind
from tracker.register.lessons.models import LessonCategory
from tracker.register.meetings.models import MeetingType
from tracker.register.risks import scoring
from tracker.register.risks.models import Category, Proximity, RiskStatus, Strategy

DATE_HELP = "A date: 2026-03-31, 3/31/2026 (month first), Mar 31, 2026, or an Excel date."
LINE_HELP = (
    "One per line: description | owner | due date | open, or done with the day it was done "
    "(“Call the vendor | Daniel Kim | 2026-03-31 | done 2026-03-20”). Only the description is required; "
    "write \\| for a bar inside a text."
)


@dataclass(frozen=True)
class Lookups:
    """What cells refer to by name, for one project: its register's possible owners and its deliverables and
    risks by code."""

    people: dict[str, set[int]]  # lower-cased username, email and full name -> user ids
    deliverables: dict[str, int]  # CODE -> id
    risks: dict[str, int]  # CODE -> id
    issues: dict[str, int] = field(default_factory=dict)  # CODE -> id
    changes: dict[str, int] = field(default_factory=dict)  # CODE -> id

    def person(self, text: str) -> int:
        ids = self.people.get(text.strip().lower(), set())
        if len(ids) > 1:
            raise ValueError(f"Several members are called “{text}”; give the username or email")
        if not ids:
            raise ValueError(
                f"“{text}” is not a member of this project who can see the register "
                "(give a username, email or full name)"
            )
        return next(iter(ids))


@dataclass(frozen=True)
class Extras:
    """What the cells of a set of records need beyond their rows, loaded once for all of them."""

    links: dict[int, list[tuple[int, str]]]  # record id -> [(deliverable id, code)]
    actions: dict[tuple[int, str], list[tuple[Any, str | None]]]  # (record id, plan) -> [(ActionItem, owner name)]
    decisions: dict[int, list[Any]]  # issue id -> IssueDecision, oldest first
    day: Callable[[datetime], date]  # a moment as the project's calendar day
    custom: Any = None  # the records' custom values (register/custom Values), when the register has custom fields


Reader = Callable[[str, Lookups], Any]
Writer = Callable[[Any, Extras], Any]


@dataclass(frozen=True)
class Column:
    key: str  # its name in a mapping (API, command line)
    header: str  # exported under this; the import matches it exactly
    aliases: tuple[str, ...]
    write: Writer  # register row -> cell
    read: Reader | None = None  # cell -> value (None: left unchanged); no reader: computed, never imported
    field: str | None = None  # the form field it fills; None: the importer applies it (action items, decisions)
    required: bool = False
    help: str = ""
    same: Callable[[Any, Any], bool] = operator.eq  # True: importing the cell changes nothing

    @property
    def computed(self) -> bool:
        return self.read is None


@dataclass(frozen=True)
class Register:
    """A register kind (its row of the kinds table) as spreadsheet columns."""

    spec: Kind
    columns: tuple[Column, ...]

    @property
    def kind(self) -> str:  # the URL segment: risks, issues
        return self.spec.plural

    @property
    def noun(self) -> str:
        return self.spec.name

    @property
    def form(self) -> type[Form]:
        return self.spec.form

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def find(self, key: str) -> Column | None:
        """The column of that key, or None for a key this register does not have (a mapping sent by hand)."""
        return next((c for c in self.columns if c.key == key), None)

    @property
    def importable(self) -> list[Column]:
        return [c for c in self.columns if not c.computed]

    @property
    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    def header_for(self, form_field: str) -> str:
        return next((c.header for c in self.columns if c.field == form_field), label(form_field))


# --- cells to values ------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def text(cell: str, look: Lookups) -> str:
    return cell


def choice(enum: type[StrEnum], synonyms: dict[str, str] | None = None) -> Reader:
    """A value by its value, its label or a common synonym ("In progress", "in_progress", "2 - High")."""
    known = {_norm(v.value): v.value for v in enum} | {_norm(k): v for k, v in (synonyms or {}).items()}

    def read(cell: str, look: Lookups) -> str | None:
        if not cell:
            return None
        key = _norm(cell)
        for candidate in (key, re.sub(r"^\d+_", "", key)):
            if candidate in known:
                return known[candidate]
        raise ValueError(f"Choose one of: {', '.join(label(v.value) for v in enum)}")

    return read


_GENERIC_SCALE = {"very low": 1, "low": 2, "medium": 3, "moderate": 3, "high": 4, "very high": 5}


def scale(words: dict[int, str], blank: Any = None) -> Reader:
    """1–5 as a number, a number with its word ("3 - Possible"), or the word alone."""
    named = {_norm(k): v for k, v in _GENERIC_SCALE.items()} | {_norm(w): n for n, w in words.items()}

    def read(cell: str, look: Lookups) -> Any:
        if not cell:
            return blank
        if match := re.fullmatch(r"(\d+)(?:\s*[-–:.)]?\s*\D.*)?", cell):
            return int(match.group(1))
        if (n := named.get(_norm(cell))) is not None:
            return n
        raise ValueError(f"Give 1 to 5 or one of: {', '.join(w.lower() for w in words.values())}")

    return read


_DATE_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%d-%b-%y")


def parse_date(cell: str) -> date:
    cell = cell.strip()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][\d:.]+)?", cell):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})", cell):  # US programmes write month first
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            return date(year, int(m[1]), int(m[2]))
        if re.fullmatch(r"\d{5}(?:\.0+)?", cell) and 20_000 <= float(cell) <= 80_000:  # an Excel serial day
            return date(1899, 12, 30) + timedelta(days=int(float(cell)))
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cell, fmt).date()
        except ValueError:
            continue
    raise ValueError("Enter a date as YYYY-MM-DD or MM/DD/YYYY")


def a_date(cell: str, look: Lookups) -> str:
    return parse_date(cell).isoformat() if cell else ""


def owner(cell: str, look: Lookups) -> int | str:
    return look.person(cell) if cell else ""


def people(cell: str, look: Lookups) -> list[int]:
    """Members by username, email or full name, separated by semicolons or one a line (names hold commas)."""
    names = [n.strip() for n in re.split(r"[;\n]+", cell) if n.strip()]
    return list(dict.fromkeys(look.person(n) for n in names))


def deliverables(cell: str, look: Lookups) -> list[int]:
    codes = [c.strip().upper() for c in re.split(r"[,;\n]+", cell) if c.strip()]
    missing = [c for c in codes if c not in look.deliverables]
    if missing:
        raise ValueError(f"No deliverable {', '.join(missing)} in this project")
    return [look.deliverables[c] for c in dict.fromkeys(codes)]


def came_from(key: str, header: str, aliases: tuple[str, ...], example: str) -> Column:
    """The issue, risk or change request (`key`) a decision came from, by its code; the row's `<key>_code`."""
    noun = header.lower()

    def read(cell: str, look: Lookups) -> int | None:
        code, codes = cell.strip().upper(), getattr(look, f"{key}s")
        if code and code not in codes:
            raise ValueError(f"No {noun} {code} in this project")
        return codes[code] if code else None

    def write(row: Any, x: Extras) -> str:
        return getattr(row, f"{key}_code") or ""

    return Column(
        key, header, aliases, write, read, f"{key}_id", help=f"A {noun} code of this project, e.g. {example}."
    )


def from_risk(cell: str, look: Lookups) -> int | None:
    if not cell:
        return None
    if cell.strip().upper() not in look.risks:
        raise ValueError(f"No risk {cell.strip().upper()} in this project; import the risk register first")
    return look.risks[cell.strip().upper()]


# Multi-line cells: one entry per line, its parts separated by " | "; a bar, a line break or a backslash inside
# a part is written \|, \n, \\ so that any text survives the round trip.


def join_line(parts: Iterable[str]) -> str:
    return " | ".join(
        p.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "\\n") for p in parts
    )


def split_line(line: str) -> list[str]:
    parts, buf, i = [], [], 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and line[i + 1 : i + 2] in ("\\", "|", "n"):
            buf.append("\n" if line[i + 1] == "n" else line[i + 1])
            i += 2
            continue
        if ch == "|":
            parts.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf).strip())
    return parts


def _lines(cell: str, width: int) -> Iterable[tuple[int, list[str]]]:
    for n, line in enumerate(cell.splitlines(), start=1):
        if line.strip():
            parts = split_line(line)
            if len(parts) > width:
                raise ValueError(f"Line {n} has more than {width} parts; write \\| for a bar inside a text")
            yield n, parts + [""] * (width - len(parts))


_DONE = re.compile(r"(?:done|complete|completed|closed|yes|x|✓)\b\s*(?:on\s+)?(.*)", re.IGNORECASE)


def action_items(cell: str, look: Lookups) -> list[dict[str, Any]]:
    items = []
    for n, (description, who, due, state) in _lines(cell, 4):
        try:
            done = _DONE.fullmatch(state)
            if not done and state.lower() not in ("", "open", "to do", "todo", "not started", "in progress"):
                raise ValueError(f"write open, or done with the day it was done, not “{state}”")
            items.append(
                {
                    "description": description,
                    "owner_id": owner(who, look),
                    "due_date": a_date(due, look),
                    "done": bool(done),
                    "done_on": a_date(done[1], look) if done else "",
                }
            )
        except ValueError as exc:
            raise ValueError(f"Line {n}: {exc}") from None
    return items


def decisions(cell: str, look: Lookups) -> list[dict[str, Any]]:
    entries = []
    for n, (decided_on, by, decision, rationale) in _lines(cell, 4):
        try:
            entries.append(
                {"decided_on": a_date(decided_on, look), "decided_by": by, "decision": decision, "rationale": rationale}
            )
        except ValueError as exc:
            raise ValueError(f"Line {n}: {exc}") from None
    return entries


def _items_present(key: Callable[[dict[str, Any]], tuple]) -> Callable[[list, list], bool]:
    """A list cell changes nothing when every entry in it is already recorded (imports add, never remove)."""
    return lambda new, old: {key(e) for e in new} <= {key(e) for e in old}


_same_actions = _items_present(lambda a: (a["description"].casefold(), a["owner_id"], a["due_date"], a["done"]))
_same_decisions = _items_present(lambda d: (d["decision"], d["decided_by"]))


# --- records to cells ------------------------------------------------------------------------------------------


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def write_actions(items: list[tuple[Any, str | None]], x: Extras) -> str:
    return "\n".join(
        join_line(
            [
                item.description,
                name or "",
                item.due_date.isoformat() if item.due_date else "",
                f"done {x.day(item.done_at).isoformat()}" if item.done_at else "open",
            ]
        )
        for item, name in items
    )


def write_decisions(entries: list[Any]) -> str:
    return "\n".join(join_line([d.decided_on.isoformat(), d.decided_by, d.decision, d.rationale]) for d in entries)


def _own(name: str) -> Writer:
    """The record's own field (any kind)."""
    return lambda row, x: getattr(row.record, name)


def own(key: str, header: str, aliases: tuple[str, ...], read: Reader = text, **kw: Any) -> Column:
    """A column that is the record's own field of the same name, read from its cell by `read`."""
    return Column(key, header, aliases, _own(key), read, key, **kw)


def chosen(
    key: str, header: str, aliases: tuple[str, ...], enum: type[StrEnum], synonyms: dict | None = None, **kw: Any
) -> Column:
    """A coded field: exported in words, imported by its value, its words or a common synonym."""
    return Column(key, header, aliases, _labelled(_own(key)), choice(enum, synonyms), key, **kw)


def code_column(header: str, aliases: tuple[str, ...], prefix: str, noun: str) -> Column:
    help = f"Blank: the next free {prefix}-number. A code already in the register updates that {noun}."
    return own("code", header, (*aliases, *ID_ALIASES), help=help)


def owner_column(alias: str) -> Column:
    """The record's owner, by name; imported from a member's username, email or full name."""
    help = "A member of the project: username, email or full name."
    return Column(
        "owner", "Owner", (alias, *OWNER_ALIASES), lambda row, x: row.owner_name or "", owner, "owner_id", help=help
    )


def _linked(row: Any, x: Extras) -> str:
    return ", ".join(code for _, code in x.links.get(row.record.id, []))


def linked_column(header: str) -> Column:
    """The deliverables a record concerns, by code."""
    help = "Deliverable codes of this project, separated by commas."
    return Column("deliverables", header, DELIVERABLE_ALIASES, _linked, deliverables, "deliverable_ids", help=help)


def _labelled(get: Writer, suffix: str = "") -> Writer:
    return lambda row, x: label(get(row, x)) + suffix


def _blank(get: Writer) -> Writer:
    return lambda row, x: "" if get(row, x) is None else get(row, x)


def custom_column(f: Any) -> Column:
    """A custom field (register/custom) as a column under its label: exported as a typed cell (a number, a date,
    a member's name, the choices separated by "; "), imported into the same value, named by its label or key."""

    def write(row: Any, x: Extras) -> Any:
        value = x.custom.get(row.record.id, f) if x.custom is not None else None
        if value is None:
            return ""
        if f.type == "user":
            return x.custom.names.get(value, "")
        if f.type == "choices":
            return "; ".join(value)
        return custom_cell(value)

    def read(cell: str, look: Lookups) -> Any:
        cell = cell.strip()
        if not cell:
            return None
        if f.type == "number":
            try:
                n = Decimal(cell.replace(",", ""))
            except InvalidOperation:
                raise ValueError("Give a number, such as 48 or 12.5") from None
            return f"{n.normalize():f}"
        if f.type == "date":
            return parse_date(cell).isoformat()
        if f.type == "user":
            return look.person(cell)
        if f.type in ("choice", "choices"):
            by_word = {c.lower(): c for c in f.choices}
            words = [w.strip() for w in re.split(r"[;\n]+", cell) if w.strip()] if f.type == "choices" else [cell]
            unknown = [w for w in words if w.lower() not in by_word]
            if unknown:
                raise ValueError(f"Choose from: {', '.join(f.choices)}")
            chosen_ = [by_word[w.lower()] for w in words]
            return chosen_ if f.type == "choices" else chosen_[0]
        return cell

    help = {"date": DATE_HELP, "user": "A member of the project: username, email or full name."}.get(f.type, f.help)
    if f.type in ("choice", "choices"):
        help = "One of: " + ", ".join(f.choices) + (" (several separated by ;)" if f.type == "choices" else "")
    return Column(f"cf_{f.key}", f.label, (f.key,), write, read, None, help=help)


def custom_cell(value: Any) -> Any:
    """A number as a number cell (an integer when whole), anything else as it is."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


ID_ALIASES = ("ID", "Ref", "Reference", "No", "Number", "Code")
OWNER_ALIASES = ("Owned by", "Assigned to", "Responsible", "Owner name", "Accountable")
RAISED_ALIASES = (
    "Date raised",
    "Raised",
    "Date identified",
    "Identified",
    "Identified on",
    "Date logged",
    "Logged",
    "Date opened",
    "Opened",
    "Date created",
    "Created",
)
DELIVERABLE_ALIASES = ("Linked deliverables", "Deliverable", "Related deliverables", "Deliverable codes")

RISK_STATUS_SYNONYMS = {
    "active": "open",
    "new": "open",
    "in mitigation": "mitigating",
    "mitigation": "mitigating",
    "monitor": "monitoring",
    "watch": "monitoring",
    "watching": "monitoring",
    "retired": "closed",
    "occurred": "realized",
    "happened": "realized",
    "realised": "realized",
    "became an issue": "realized",
}
CATEGORY_SYNONYMS = {
    "timeline": "schedule",
    "budget": "cost",
    "financial": "cost",
    "finance": "cost",
    "technology": "technical",
    "vendor": "contractor_performance",
    "contractor": "contractor_performance",
    "vendor performance": "contractor_performance",
    "privacy": "security",
    "cybersecurity": "security",
    "continuity": "business_continuity",
    "operations": "business_continuity",
    "staffing": "resources",
    "resourcing": "resources",
    "people": "resources",
    "requirements": "scope",
}
STRATEGY_SYNONYMS = {
    "reduce": "mitigate",
    "treat": "mitigate",
    "share": "transfer",
    "tolerate": "accept",
    "retain": "accept",
    "terminate": "avoid",
}
PROXIMITY_SYNONYMS = {
    "near term": "near",
    "short term": "near",
    "short": "near",
    "mid term": "mid",
    "medium term": "mid",
    "medium": "mid",
    "far term": "far",
    "long term": "far",
    "long": "far",
}

RISK_COLUMNS = (
    code_column("Risk ID", ("Risk ref", "Risk no", "Risk number"), "R", "risk"),
    own("title", "Title", ("Risk title", "Risk name", "Name", "Risk", "Summary", "Short description"), required=True),
    own(
        "statement",
        "Risk statement",
        ("Statement", "Description", "Risk description", "Details", "Cause and effect"),
        help="“If <condition>, then <consequence>.”",
    ),
    chosen("category", "Category", ("Risk category", "Type", "Risk type", "Area"), Category, CATEGORY_SYNONYMS),
    own(
        "probability",
        "Probability",
        ("Likelihood", "Prob", "Probability rating", "Likelihood rating", "Likelihood score"),
        scale(scoring.PROBABILITY_WORDS),
        required=True,
        help="1 to 5, or rare, unlikely, possible, likely, almost certain.",
    ),
    own(
        "impact",
        "Impact",
        ("Consequence", "Severity", "Impact rating", "Impact score"),
        scale(scoring.IMPACT_WORDS),
        required=True,
        help="1 to 5, or negligible, minor, moderate, major, severe.",
    ),
    Column("score", "Score", ("Risk score", "Rating", "Risk rating", "Exposure", "P x I"), lambda row, x: row.score),
    Column("level", "Level", ("Risk level", "RAG", "Severity level"), lambda row, x: label(row.level)),
    Column(
        "proximity",
        "Proximity",
        ("Timeframe", "Time frame", "Timing"),
        _labelled(_own("proximity"), " term"),
        choice(Proximity, PROXIMITY_SYNONYMS),
        "proximity",
    ),
    own("trigger", "Trigger", ("Risk trigger", "Triggers", "Early warning", "Warning signs", "Indicator")),
    owner_column("Risk owner"),
    chosen(
        "response",
        "Response strategy",
        ("Response", "Strategy", "Risk response", "Treatment", "Response type"),
        Strategy,
        STRATEGY_SYNONYMS,
    ),
    Column(
        "residual_probability",
        "Residual probability",
        ("Residual likelihood", "Target probability", "Target likelihood"),
        _blank(_own("residual_probability")),
        scale(scoring.PROBABILITY_WORDS, ""),
        "residual_probability",
    ),
    Column(
        "residual_impact",
        "Residual impact",
        ("Residual consequence", "Target impact"),
        _blank(_own("residual_impact")),
        scale(scoring.IMPACT_WORDS, ""),
        "residual_impact",
    ),
    own(
        "mitigation_plan", "Mitigation plan", ("Mitigation", "Mitigation strategy", "Risk mitigation", "Treatment plan")
    ),
    Column(
        "mitigation_actions",
        "Mitigation actions",
        ("Mitigation action items", "Mitigation tasks", "Actions"),
        lambda row, x: write_actions(x.actions.get((row.risk.id, "mitigation"), []), x),
        action_items,
        help=LINE_HELP,
        same=_same_actions,
    ),
    own("contingency_plan", "Contingency plan", ("Contingency", "Fallback", "Fallback plan", "Contingency strategy")),
    Column(
        "contingency_actions",
        "Contingency actions",
        ("Contingency action items", "Contingency tasks"),
        lambda row, x: write_actions(x.actions.get((row.risk.id, "contingency"), []), x),
        action_items,
        help=LINE_HELP,
        same=_same_actions,
    ),
    Column(
        "next_review_date",
        "Next review",
        ("Next review date", "Review date", "Review by", "Review due"),
        _blank(_own("next_review_date")),
        a_date,
        "next_review_date",
        help=DATE_HELP + " Blank: from the review cadence of the risk's level.",
    ),
    Column("due_for_review", "Due for review", ("Review overdue",), lambda row, x: _yes(row.due_for_review)),
    Column("overdue_actions", "Overdue actions", ("Overdue action items",), lambda row, x: row.overdue_actions),
    chosen("status", "Status", ("Risk status", "State"), RiskStatus, RISK_STATUS_SYNONYMS),
    own("raised_on", "Raised on", RAISED_ALIASES, a_date, help=DATE_HELP + " Blank: today."),
    linked_column("Deliverables"),
)

ISSUE_STATUS_SYNONYMS = {
    "new": "open",
    "active": "open",
    "wip": "in_progress",
    "in work": "in_progress",
    "working": "in_progress",
    "ongoing": "in_progress",
    "complete": "resolved",
    "completed": "resolved",
    "done": "resolved",
    "fixed": "resolved",
}
PRIORITY_SYNONYMS = {
    "urgent": "critical",
    "very high": "critical",
    "p1": "critical",
    "p2": "high",
    "p3": "medium",
    "normal": "medium",
    "moderate": "medium",
    "p4": "low",
}
ESCALATION_SYNONYMS = {
    "none": "project",
    "no": "project",
    "not escalated": "project",
    "team": "project",
    "exec": "executive",
    "executive sponsor": "sponsor",
    "steering committee": "executive",
}

ISSUE_COLUMNS = (
    code_column("Issue ID", ("Issue ref", "Issue no", "Issue number"), "I", "issue"),
    own(
        "title", "Title", ("Issue title", "Issue name", "Issue", "Name", "Summary", "Short description"), required=True
    ),
    own("description", "Description", ("Issue description", "Details", "Detail")),
    own("impact", "Impact", ("Impact description", "Effect", "Impact on project", "Consequence")),
    chosen(
        "priority",
        "Priority",
        ("Severity", "Urgency", "Issue priority"),
        Priority,
        PRIORITY_SYNONYMS,
        help="Critical, high, medium or low.",
    ),
    owner_column("Issue owner"),
    Column(
        "need_by",
        "Need by",
        (
            "Need by date",
            "Needed by",
            "Due date",
            "Due",
            "Target date",
            "Target resolution date",
            "Resolve by",
            "Decision needed by",
        ),
        _blank(_own("need_by")),
        a_date,
        "need_by",
        help=DATE_HELP,
    ),
    chosen("status", "Status", ("Issue status", "State"), IssueStatus, ISSUE_STATUS_SYNONYMS),
    chosen(
        "escalation_level",
        "Escalation level",
        ("Escalated to", "Escalation"),
        EscalationLevel,
        ESCALATION_SYNONYMS,
        help="Project (not escalated), executive or sponsor.",
    ),
    own("escalation_reason", "Escalation reason", ("Reason for escalation", "Why escalated")),
    own(
        "resolution",
        "Resolution",
        ("Resolution notes", "How resolved", "Outcome"),
        help="Required for a resolved or closed issue.",
    ),
    own("raised_on", "Raised on", RAISED_ALIASES, a_date, help=DATE_HELP + " Blank: today."),
    Column(
        "resolved_on",
        "Resolved on",
        ("Date resolved", "Resolved", "Closed on", "Date closed", "Resolution date"),
        _blank(_own("resolved_on")),
        a_date,
        "resolved_on",
        help=DATE_HELP + " Blank: today, when resolved.",
    ),
    Column("age", "Age (days)", ("Age", "Days open"), lambda row, x: row.age),
    Column("overdue", "Past need-by", ("Overdue",), lambda row, x: _yes(row.overdue)),
    Column(
        "needs_escalation", "Flagged for escalation", ("Needs escalation",), lambda row, x: _yes(row.needs_escalation)
    ),
    Column(
        "risk",
        "From risk",
        ("Risk ID", "Risk", "Related risk", "Source risk", "Risk ref"),
        lambda row, x: row.risk_code or "",
        from_risk,
        help="The code of the realized risk it came from.",
    ),
    linked_column("Deliverables"),
    Column(
        "actions",
        "Action items",
        ("Actions", "Next steps", "Action plan", "Tasks"),
        lambda row, x: write_actions(x.actions.get((row.issue.id, "issue"), []), x),
        action_items,
        help=LINE_HELP,
        same=_same_actions,
    ),
    Column(
        "decisions",
        "Decision log",
        ("Decisions", "Decision", "Decisions made"),
        lambda row, x: write_decisions(x.decisions.get(row.issue.id, [])),
        decisions,
        help="One per line: date | decided by | decision | rationale. Entries are added, never changed.",
        same=_same_decisions,
    ),
)

SIDE_SYNONYMS = {
    "the state": "state",
    "agency": "state",
    "client": "state",
    "customer": "state",
    "owner": "state",
    "the contractor": "contractor",
    "vendor": "contractor",
    "supplier": "contractor",
    "integrator": "contractor",
    "si": "contractor",
}

# A change request's status and decision are the workflow's: exported, never imported (an imported request is a draft).
CHANGE_COLUMNS = (
    code_column("CR ID", ("CR", "CR no", "CR number", "Change request", "Change ID", "CCR"), "CR", "draft"),
    own("title", "Title", ("Change title", "Name", "Summary", "Subject"), required=True),
    own("description", "Description", ("Change description", "Details")),
    own("reason", "Reason", ("Justification", "Rationale for change", "Why")),
    chosen(
        "requested_by",
        "Requested by",
        ("Requestor", "Requester", "Originator", "Raised by party"),
        Side,
        SIDE_SYNONYMS,
        help="State or contractor.",
    ),
    Column(
        "cost_impact",
        "Cost impact",
        ("Cost", "Cost change", "Price impact", "Amount", "Budget impact"),
        lambda row, x: str(row.record.cost_impact),
        text,
        "cost_impact",
        help="An amount, negative for a saving: 12500, -3000.50.",
    ),
    own(
        "schedule_impact",
        "Schedule impact (business days)",
        ("Schedule impact", "Schedule change", "Delay (days)", "Days"),
        help="Business days the affected deliverables move on approval; negative: earlier.",
    ),
    own("scope_impact", "Scope impact", ("Scope", "Scope change")),
    own("raised_on", "Raised on", RAISED_ALIASES, a_date, help=DATE_HELP),
    Column("status", "Status", ("CR status", "State"), _labelled(_own("status"))),
    Column("submitted_on", "Submitted on", ("Date submitted",), _blank(_own("submitted_on"))),
    Column("decided_on", "Decided on", ("Decision date", "Date decided"), _blank(_own("decided_on"))),
    Column("rationale", "Decision rationale", ("Decision", "Decision notes"), _own("rationale")),
    linked_column("Affected deliverables"),
)

LESSON_CATEGORY_SYNONYMS = {
    "timeline": "schedule",
    "budget": "cost",
    "financial": "cost",
    "vendor": "contractor_management",
    "vendor management": "contractor_management",
    "contractor": "contractor_management",
    "procurement": "contractor_management",
    "test": "testing",
    "uat": "testing",
    "technology": "technical",
    "architecture": "technical",
    "requirement": "requirements",
    "business requirements": "requirements",
    "oversight": "governance",
    "decision making": "governance",
}

LESSON_COLUMNS = (
    code_column("Lesson ID", ("Lesson ref", "Lesson no", "Lesson number", "LL ID"), "L", "lesson"),
    own("title", "What happened", ("Title", "Lesson", "Lesson title", "Summary", "Event", "Name"), required=True),
    own("description", "Description", ("Details", "Detail", "What happened (details)", "Situation", "Background")),
    own("impact", "Impact", ("Effect", "Consequence", "Impact on project", "Result")),
    own(
        "recommendation",
        "Recommendation",
        ("Recommendations", "Lesson learned", "Next time", "Action", "Recommended action", "What to do next time"),
        help="Required: what to do next time.",
    ),
    chosen(
        "category",
        "Category",
        ("Lesson category", "Area", "Knowledge area", "Type"),
        LessonCategory,
        LESSON_CATEGORY_SYNONYMS,
        help=", ".join(label(c.value) for c in LessonCategory) + ".",
    ),
    own("phase", "Phase", ("Project phase", "Stage", "Project stage", "Lifecycle phase")),
    owner_column("Lesson owner"),
    own(
        "recorded_on",
        "Recorded on",
        ("Date recorded", "Recorded", *RAISED_ALIASES),
        a_date,
        help=DATE_HELP + " Blank: today.",
    ),
    Column("recorded_by", "Recorded by", ("Author",), lambda row, x: row.recorded_by_name or ""),
    linked_column("Deliverables"),
)

RISKS = Register(KINDS["risks"], RISK_COLUMNS)
ISSUES = Register(KINDS["issues"], ISSUE_COLUMNS)
CHANGES = Register(KINDS["changes"], CHANGE_COLUMNS)
MEETING_TYPE_SYNONYMS = {
    "weekly": "weekly_status",
    "status": "weekly_status",
    "status meeting": "weekly_status",
    "weekly status meeting": "weekly_status",
    "steerco": "steering",
    "steering committee": "steering",
    "executive steering": "steering",
    "board": "steering",
    "design review": "review",
    "review meeting": "review",
    "walkthrough": "review",
}

MEETING_COLUMNS = (
    code_column("Meeting ID", ("Meeting ref", "Meeting no", "Meeting number", "Minutes ID"), "M", "meeting"),
    own("title", "Title", ("Meeting", "Meeting title", "Subject", "Name"), required=True),
    own("held_on", "Held on", ("Date", "Meeting date", "Held", "Date held"), a_date, help=DATE_HELP + " Blank: today."),
    chosen(
        "meeting_type",
        "Kind of meeting",
        ("Meeting type", "Type", "Kind"),
        MeetingType,
        MEETING_TYPE_SYNONYMS,
        help=", ".join(label(t.value) for t in MeetingType) + ".",
    ),
    Column(
        "attendees",
        "Members who attended",
        ("Attendees", "Attended", "Present", "Participants"),
        lambda row, x: "; ".join(n for _, n in row.attendees),
        people,
        "attendee_ids",
        help="Members of the project who can see the register: usernames, emails or full names, separated by ;.",
    ),
    own(
        "external_attendees",
        "Others who attended",
        ("External attendees", "Guests", "Others present", "External"),
        help="Names of people who are not members, one a line.",
    ),
    own("agenda", "Agenda", ("Agenda items", "Topics"), help="One item a line."),
    own("notes", "Notes", ("Minutes", "Discussion", "Summary")),
    Column(
        "owner",
        "Chair",
        ("Chaired by", "Chairperson", "Facilitator"),
        lambda row, x: row.owner_name or "",
        owner,
        "owner_id",
        help="A member of the project: username, email or full name.",
    ),
    Column("recorded_by", "Recorded by", ("Minute taker", "Author"), lambda row, x: row.recorded_by_name or ""),
    linked_column("Deliverables discussed"),
)

DECISION_COLUMNS = (
    code_column("Decision ID", ("Decision ref", "Decision no", "Decision number", "DL ID"), "D", "decision"),
    own("title", "Decision", ("Decision taken", "What was decided", "Title", "Summary", "Outcome"), required=True),
    own("context", "Context", ("Background", "Why", "Reason", "Situation", "Description")),
    own("options", "Options considered", ("Options", "Alternatives", "Alternatives considered")),
    own("decided_by", "Decided by", ("Decision maker", "Decided", "Approver", "Authority", "Body")),
    Column(
        "decided_by_member",
        "Decided by member",
        ("Decider", "Member"),
        lambda row, x: row.decided_by_name or "",
        owner,
        "decided_by_id",
        help="A member of the project: username, email or full name.",
    ),
    own(
        "decided_on", "Decided on", ("Decision date", "Date decided", "Date"), a_date, help=DATE_HELP + " Blank: today."
    ),
    came_from("issue", "Issue", ("From issue", "Issue ID", "Related issue"), "I-004"),
    came_from("risk", "Risk", ("From risk", "Risk ID", "Related risk"), "R-007"),
    came_from(
        "change",
        "Change request",
        ("From change request", "CR", "CR ID", "Change request ID", "Related change"),
        "CR-002",
    ),
    Column("recorded_by", "Recorded by", ("Author",), lambda row, x: row.recorded_by_name or ""),
    linked_column("Deliverables"),
)

LESSONS = Register(KINDS["lessons"], LESSON_COLUMNS)
DECISIONS = Register(KINDS["decisions"], DECISION_COLUMNS)
MEETINGS = Register(KINDS["meetings"], MEETING_COLUMNS)
REGISTERS = {r.kind: r for r in (RISKS, ISSUES, CHANGES, LESSONS, DECISIONS, MEETINGS)}
