"""Searching the index: the reader's words made into a safe query, matched within what their roles let them see,
ranked (bm25 on SQLite, ts_rank on PostgreSQL) and paged, with the matched words marked in titles and snippets."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from pydantic import Field
from sqlalchemy import (
    BigInteger,
    Integer,
    and_,
    case,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlmodel import Session, col

from tracker.accounts.service import Principal
from tracker.audit import versions
from tracker.core import memo
from tracker.core.forms import Form
from tracker.library import service as library
from tracker.library.models import SavedReport
from tracker.projects.models import Project
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register.changes import service as changes
from tracker.register.changes.models import ChangeRequest
from tracker.register.kinds import KINDS as REGISTER
from tracker.search import index
from tracker.search.index import MARK_END, MARK_START

PER_PAGE = 20
MAX_WORDS = 12
MAX_WORD = 64
WORD = re.compile(r"[^\W_]+")  # letters and digits of any script; everything else separates words


@dataclass(frozen=True)
class Rule:
    """Who finds a kind's records: `perm` in the record's project, then `narrow` (a clause on the record's own
    columns) when the kind's service narrows it per record. Saved reports follow the library's rule instead."""

    label: str
    perm: Perm | None
    narrow: Callable[[Access], Any] | None = None


RULES: dict[str, Rule] = {
    "deliverable": Rule("Deliverable", Perm.VIEW),
    # The deliverable page shows its comment log to everyone who may see the deliverable.
    "comment": Rule("Review comment", Perm.VIEW),
    "risk": Rule(REGISTER["risks"].label, REGISTER["risks"].view),
    "issue": Rule(REGISTER["issues"].label, REGISTER["issues"].view),
    "change": Rule(REGISTER["changes"].label, REGISTER["changes"].view, changes.visible_clause),
    "action": Rule("Action item", Perm.VIEW_REGISTER),
    "report": Rule("Status report", Perm.VIEW_REGISTER),
    "lesson": Rule(REGISTER["lessons"].label, REGISTER["lessons"].view),
    "meeting": Rule(REGISTER["meetings"].label, REGISTER["meetings"].view),
    "decision": Rule(REGISTER["decisions"].label, REGISTER["decisions"].view),
    "saved_report": Rule("Saved report", None),  # library.readable_clause
}


NUMBER = {d.kind: d.number for d in index.DOCUMENTS}  # a row's kind as its id tells it (index.kind_number)
KIND = {n: kind for kind, n in NUMBER.items()}


class SearchQuery(Form):
    q: str = ""  # the address limits its length (core/security.py); only its first MAX_WORDS words are read
    kind: str = ""
    project: str = ""
    page: int = Field(default=1, ge=1, le=10_000)

    def model_post_init(self, _: Any) -> None:
        if self.kind not in RULES:
            self.kind = ""
        self.project = self.project.upper()


def words(q: str) -> list[str]:
    """The reader's words, without any syntax: quotes, operators, parentheses and colons only separate words."""
    return [w[:MAX_WORD].lower() for w in WORD.findall(q)][:MAX_WORDS]


def match_text(dialect: str, terms: list[str]) -> str:
    """A query the engine cannot misread: every word quoted (so AND, OR, NEAR are words), all required, the last
    a prefix (the reader may not have finished typing it). Words hold only letters and digits."""
    if dialect == "sqlite":
        return " ".join(f'"{w}"' for w in terms) + "*"
    return " & ".join(f"'{w}'" for w in terms) + ":*"


def marked(text: str) -> Markup:
    """The engine's marks around matched words as <mark>, everything else escaped."""
    return Markup(str(escape(text)).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


@dataclass(frozen=True)
class Hit:
    kind: str
    label: str
    project_key: str
    code: str
    title: Markup
    snippet: Markup
    url: str


@dataclass
class Results:
    words: list[str]
    hits: list[Hit] = field(default_factory=list)
    by_kind: dict[str, int] = field(default_factory=dict)  # every kind's count, whatever the kind filter
    total: int = 0  # of the kind filtered
    page: int = 1
    pages: int = 0


def _scope(user: Principal, accesses: list[Access], kind: Any, project_id: Any) -> Any:
    """The index rows this reader may find: per project, the kinds their role reads (projects whose members hold
    the same permissions share one term), narrowed per record where the kind's service says so."""
    groups: dict[frozenset[Perm], list[Access]] = defaultdict(list)
    for a in accesses:
        groups[a.perms].append(a)
    terms = []
    for group in groups.values():
        first = group[0]
        kinds = [
            and_(kind == NUMBER[name], rule.narrow(first)) if rule.narrow else kind == NUMBER[name]
            for name, rule in RULES.items()
            if rule.perm is not None and first.can(rule.perm)
        ]
        if kinds:
            terms.append(and_(project_id.in_([a.project.id for a in group]), or_(*kinds)))
    readable = library.readable_clause(user, accesses)
    if readable is not None:
        terms.append(and_(kind == NUMBER["saved_report"], readable))
    return or_(*terms) if terms else false()


def search(db: Session, user: Principal, accesses: Iterable[Access], query: SearchQuery) -> Results:
    """The page of results, kept while the records of the reader's projects stand (tracker.core.memo): the same
    words asked again, or the next page's count, cost no ranking. The key names the reader (what they may see) and
    the data versions of every project searched, so a change is found by the very next search."""
    terms = words(query.q)
    accesses = [a for a in accesses if not query.project or a.project.key == query.project]
    if not terms or not accesses:
        return Results(terms, page=query.page)
    scope = tuple(sorted((a.project.id, a.role, a.perms) for a in accesses))
    key = ("search", user.id, user.is_admin, scope, tuple(terms), query.kind, query.page)
    return memo.kept(
        key + versions.of(db, [a.project.id for a in accesses]), lambda: _search(db, user, accesses, query, terms)
    )


def _search(db: Session, user: Principal, accesses: list[Access], query: SearchQuery, terms: list[str]) -> Results:
    """One query counts the matches per kind, one ranks them and reads the page: the same two whatever the number of
    results. Only the page's rows are read whole (titles marked, snippets cut); the ranking and the counts read
    each match's id, its rank and its project, never its text."""
    found = Results(terms, page=query.page)
    dialect = db.get_bind().dialect.name
    ix = index.table(dialect)
    text = match_text(dialect, terms)
    if dialect == "sqlite":
        fts = literal_column("search_index")
        match = fts.op("MATCH")(text)
        order = func.bm25(fts, 0, 0, 0, 10.0, 5.0, 1.0, 0)  # lower is better
        title = func.highlight(fts, 4, MARK_START, MARK_END)
        snippet = func.snippet(fts, 5, MARK_START, MARK_END, "…", 24)
        scope = index.scope_table()
        source, project_id = ix.join(scope, scope.c.id == ix.c.id), scope.c.project_id
    else:
        config = literal_column("'english'::regconfig")
        tsquery = func.to_tsquery(config, text)
        doc = literal_column("search_index.doc")
        match = doc.op("@@")(tsquery)
        order = -func.ts_rank(doc, tsquery)  # lower is better, as bm25
        marks = f"StartSel={MARK_START}, StopSel={MARK_END}"
        title = func.ts_headline(config, ix.c.title, tsquery, f"HighlightAll=true, {marks}")
        snippet = func.ts_headline(config, ix.c.body, tsquery, f"{marks}, MaxWords=30, MinWords=12")
        source, project_id = ix, ix.c.project_id
    kind, record = index.kind_number(ix), index.record_id(ix)
    # A kind's own table is joined for its rows alone: any other row looks up no id at all.
    rows = source.outerjoin(ChangeRequest, col(ChangeRequest.id) == case((kind == NUMBER["change"], record))).outerjoin(
        SavedReport, col(SavedReport.id) == case((kind == NUMBER["saved_report"], record))
    )
    # The matches are read once, as ids, kinds and ranks: counted per kind, and the page's ids taken in rank order.
    matches = (
        select(ix.c.id, kind.label("kind"), order.label("rank"))
        .select_from(rows)
        .where(match, _scope(user, accesses, kind, project_id))
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )
    m = matches.c
    page = (
        select(m.id)
        .where(m.kind == NUMBER[query.kind] if query.kind else true())
        .order_by(m.rank, m.id)
        .limit(PER_PAGE)
        .offset((query.page - 1) * PER_PAGE)
        .subquery("page")
    )
    both = union_all(
        select(m.kind, func.count(), literal(None, BigInteger)).group_by(m.kind),
        select(literal(None, Integer), literal(None, Integer), page.c.id),
    )
    ids, counts = [], {}
    for number, n, row_id in db.execute(both):
        if row_id is None:
            counts[KIND[number]] = n
        else:
            ids.append(row_id)
    found.by_kind = dict(sorted(counts.items()))
    found.total = found.by_kind.get(query.kind, 0) if query.kind else sum(found.by_kind.values())
    found.pages = -(-found.total // PER_PAGE)
    if not ids:
        return found
    on_page = ix.c.id.in_(ids)
    if dialect == "sqlite":
        # highlight() and snippet() read the row's own match, so the page's rows are found among the matches once:
        # `id + 0` keeps FTS5 from starting the match over for each id (the prefix's words merged each time).
        on_page = and_(match, (ix.c.id + 0).in_(ids))
    marked_rows = (
        select(ix.c.id, ix.c.kind, ix.c.code, title, snippet, ix.c.path, Project.key)
        .join(Project, col(Project.id) == ix.c.project_id)
        .where(on_page)
    )
    place = {row_id: n for n, row_id in enumerate(ids)}
    page_rows = sorted(db.execute(marked_rows).all(), key=lambda r: place[r[0]])
    found.hits = [
        Hit(kind, RULES[kind].label, key, code, marked(t or ""), marked(s or ""), f"/projects/{key}/{path}")
        for _, kind, code, t, s, path, key in page_rows
    ]
    return found
