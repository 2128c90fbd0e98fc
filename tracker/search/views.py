"""The search page (GET /search, the header's box) and its JSON twin (GET /api/v1/search): the same service."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from pydantic import BaseModel, Field
from sqlmodel import Session

from tracker.core.errors import FormError
from tracker.core.forms import parse
from tracker.core.web import render
from tracker.library import service as library
from tracker.search import service
from tracker.search.service import RULES, SearchQuery


def _query(request: Request) -> SearchQuery:
    return parse(SearchQuery, {k: v for k, v in request.query_params.items() if k in SearchQuery.model_fields})


@get("/search", sync_to_thread=True, include_in_schema=False)
def search_page(request: Request, db: NamedDependency[Session]) -> Template:
    query = _query(request)
    accesses = library.all_accesses(db, request.user)
    results = service.search(db, request.user, accesses, query)
    base = {k: v for k, v in query.model_dump().items() if v and k != "page"}
    return render(
        request,
        "search/index.html",
        block="search_results",
        query=query,
        results=results,
        kinds=RULES,
        projects=[a.project for a in accesses],
        base_url=f"/search?{urlencode(base)}",
        kind_url=lambda kind: "/search?" + urlencode({k: v for k, v in base.items() if k != "kind"} | {"kind": kind}),
    )


class HitOut(BaseModel):
    kind: str = Field(
        examples=["risk"], description="deliverable, comment, risk, issue, change, action, report, saved_report"
    )
    label: str = Field(examples=["Risk"])
    project: str = Field(examples=["CWS"])
    code: str = Field(examples=["R-012"], description="The record's code (a comment or action item: its parent's)")
    title: str = Field(description="HTML: the title, escaped, with the matched words in <mark>")
    snippet: str = Field(description="HTML: a passage of the text, escaped, with the matched words in <mark>")
    url: str = Field(description="The record's page")


class SearchOut(BaseModel):
    q: str
    words: list[str] = Field(description="The words searched for, as read from q (the last matched as a prefix)")
    total: int
    by_kind: dict[str, int] = Field(description="Matches per kind, whatever `kind` filters")
    page: int
    pages: int
    results: list[HitOut]


@get("/api/v1/search", sync_to_thread=True, tags=["search"], summary="Find records by words across your projects")
def search_api(
    request: Request,
    db: NamedDependency[Session],
    q: FromQuery[str | None] = None,
    kind: FromQuery[str | None] = None,
    project: FromQuery[str | None] = None,
    page: FromQuery[int] = 1,
) -> SearchOut:
    """Deliverables, review comments, risks, issues, change requests, action items, published status reports and
    saved reports whose words match `q`, best first, 20 a page — only those you may see. `kind` and `project` (a
    key) narrow them. Any text is accepted: its words are searched for, never its syntax."""
    query = parse(SearchQuery, {"q": q or "", "kind": kind or "", "project": project or "", "page": page})
    if not service.words(query.q):
        raise FormError({"q": "Type one or more words to search for."})
    results = service.search(db, request.user, library.all_accesses(db, request.user), query)
    return SearchOut(
        q=query.q,
        words=results.words,
        total=results.total,
        by_kind=results.by_kind,
        page=results.page,
        pages=results.pages,
        results=[
            HitOut(
                kind=h.kind,
                label=h.label,
                project=h.project_key,
                code=h.code,
                title=h.title,
                snippet=h.snippet,
                url=h.url,
            )
            for h in results.hits
        ],
    )


handlers = [search_page, search_api]
