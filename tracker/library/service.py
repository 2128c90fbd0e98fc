"""Saved report rules: who sees, runs, builds and changes which report; saving, duplicating and deleting with
audit events; the library listing; and running a definition as one counted, paged SELECT under the reader's
permissions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from sqlmodel import Session, and_, col, func, or_, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core import exports
from tracker.core.clock import utcnow
from tracker.core.errors import Forbidden, FormError, NotFound
from tracker.core.forms import Checkbox, Form, parse
from tracker.core.web import zone_for
from tracker.library.models import SavedReport
from tracker.library.sources import (
    SOURCES,
    Ctx,
    Definition,
    SortDef,
    Source,
    describe,
    ordering,
    parse_definition,
    where_clause,
    with_custom,
)
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.models import Project
from tracker.projects.permissions import Perm, perms_for
from tracker.projects.service import Access
from tracker.register import common
from tracker.register.custom import service as custom
from tracker.register.kinds import KINDS

FIELDS = ("name", "description", "shared", "definition")
# The report form's labels; the history (audit/history.py) reads a saved report's changes with them and its
# definition in words.
LABELS = {
    "name": "Name",
    "description": "Description",
    "shared": "Shared",
    "definition": "Definition",
    "copied_from": "Copied from",
}


def in_words(raw: Any, people: dict[int, str]) -> list[str]:
    """A stored definition as a reader would say it: what it reports on, shows, filters and sorts by."""
    try:
        d = parse_definition(raw)
    except FormError:
        return ["a definition that no longer validates"]
    source = SOURCES[d.source]
    return [
        f"Source: {source.label}",
        "Columns: " + ", ".join(source.fields[c].label for c in d.columns),
        *(f"Filter: {f}" for f in describe(source, d, people)),
        *(f"Sort: {source.fields[s.field].label}{', descending' if s.desc else ''}" for s in d.sort),
        f"Rows per page: {d.page_size}",
    ]


WORDS = {"definition": in_words}
history.register(nouns={"saved_report": "saved report"}, terms={"saved_report": history.Terms(LABELS, WORDS)})


class ReportForm(Form):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    shared: Checkbox = False
    version: int | None = None


def sources_of(db: Session, project_id: int) -> dict[str, Source]:
    """The sources as a project's reports see them: each register kind's with the project's custom fields of the
    kind (register/custom), in one query."""
    fields = custom.definitions(db, project_id)
    return {
        key: with_custom(s, [f for f in fields if key in KINDS and f.entity == KINDS[key].entity])
        for key, s in SOURCES.items()
    }


def parse_report(
    data: dict[str, Any], definition: Any, sources: dict[str, Source] | None = None
) -> tuple[ReportForm, Definition]:
    """The name, description and sharing, and the definition (against the project's `sources`): every message of
    both at once."""
    errors: dict[str, str] = {}
    form = definition_ = None
    try:
        form = parse(ReportForm, data)
    except FormError as exc:
        errors |= exc.errors
    try:
        definition_ = parse_definition(definition, sources)
    except FormError as exc:
        errors |= exc.errors
    if errors:
        raise FormError(errors)
    return form, definition_


def sources_for(access: Access) -> list[Source]:
    """The sources whose rows this member may see: contractors see deliverables only."""
    return [s for s in SOURCES.values() if access.can(s.perm)]


def can_change(access: Access, user: Principal, report: SavedReport) -> bool:
    """Its owner while they may still build reports, or a project manager when it is shared."""
    return (report.owner_id == user.id and access.can(Perm.BUILD_REPORTS)) or (
        report.shared and access.can(Perm.CURATE_REPORTS)
    )


def stored_definition(
    report: SavedReport, sources: dict[str, Source] | None = None
) -> tuple[Definition | None, dict[str, str]]:
    """The report's definition, or the problems that keep it from running now (say a field was removed)."""
    try:
        return parse_definition(report.definition, sources), {}
    except FormError as exc:
        return None, exc.errors


# --- loading ----------------------------------------------------------------------------------------------------


def _visible(access: Access, user: Principal, report: SavedReport) -> None:
    if report.project_id != access.project.id or not (report.shared or report.owner_id == user.id):
        raise NotFound(detail="No such saved report.")
    source = SOURCES.get(report.source)
    if source is None or not access.can(source.perm):
        raise Forbidden(detail="Your role in this project does not let you see what this report lists.")


def get_for(db: Session, access: Access, user: Principal, report_id: int) -> SavedReport:
    """A report of this project that `user` may read: 404 when private to someone else, 403 when their role
    may not see its source."""
    report = db.get(SavedReport, report_id)
    if report is None:
        raise NotFound(detail="No such saved report.")
    _visible(access, user, report)
    return report


def load_for(db: Session, user: Principal, report_id: int) -> tuple[Access, SavedReport]:
    """A report by id alone (the API): its project is loaded for `user` as well."""
    row = db.exec(
        select(SavedReport, Project.key)
        .join(Project, col(Project.id) == SavedReport.project_id)
        .where(SavedReport.id == report_id)
    ).first()
    if row is None:
        raise NotFound(detail="No such saved report.")
    report, key = row
    try:
        access = projects.get_for(db, user, key)
    except NotFound:
        raise NotFound(detail="No such saved report.") from None
    _visible(access, user, report)
    return access, report


# --- the library --------------------------------------------------------------------------------------------------


class LibraryQuery(Form):
    q: str = Field(default="", max_length=100)
    source: str = ""
    whose: str = ""  # "mine", "shared" or both

    def model_post_init(self, _: Any) -> None:
        if self.source not in SOURCES:
            self.source = ""
        if self.whose not in ("mine", "shared"):
            self.whose = ""


@dataclass(frozen=True)
class ReportRow:
    report: SavedReport
    project_key: str
    owner_name: str
    mine: bool
    source_label: str


def readable_clause(user: Principal, accesses: Iterable[Access]) -> Any:
    """The saved reports `user` may read in these projects: their own and the shared ones, of the sources their role
    sees (None when there are no projects). Search reads it too."""
    projects_by_sources: dict[tuple[str, ...], list[int]] = {}
    for a in accesses:  # projects whose reader sees the same sources share one term: a short clause to build and test
        projects_by_sources.setdefault(tuple(s.key for s in sources_for(a)), []).append(a.project.id)
    if not projects_by_sources:
        return None
    scopes = [
        and_(col(SavedReport.project_id).in_(ids), col(SavedReport.source).in_(keys))
        for keys, ids in projects_by_sources.items()
    ]
    return and_(or_(*scopes), or_(SavedReport.owner_id == user.id, SavedReport.shared))


def library(
    db: Session, user: Principal, accesses: Iterable[Access], query: LibraryQuery, limit: int = 500
) -> list[ReportRow]:
    """The reports `user` may read in these projects, in one query, by project and name."""
    readable = readable_clause(user, accesses)
    if readable is None:
        return []
    where: list[Any] = [readable]
    if query.whose == "mine":
        where.append(SavedReport.owner_id == user.id)
    elif query.whose == "shared":
        where.append(SavedReport.shared)
    if query.source:
        where.append(SavedReport.source == query.source)
    if query.q:
        like = f"%{query.q.lower()}%"
        where.append(or_(func.lower(SavedReport.name).like(like), func.lower(SavedReport.description).like(like)))
    stmt = (
        select(SavedReport, Project.key, User.full_name)
        .join(Project, col(Project.id) == SavedReport.project_id)
        .join(User, col(User.id) == SavedReport.owner_id)
        .where(*where)
        .order_by(Project.key, func.lower(SavedReport.name), SavedReport.id)
        .limit(limit)
    )
    return [ReportRow(r, key, owner, r.owner_id == user.id, SOURCES[r.source].label) for r, key, owner in db.exec(stmt)]


def all_accesses(db: Session, user: Principal) -> list[Access]:
    """An Access for every project `user` sees, in one query (the API's library spans them all)."""
    return [
        Access(row.project, row.role, user.is_admin, perms_for(row.role, user.is_admin))
        for row in projects.visible_projects(db, user)
    ]


# --- saving -----------------------------------------------------------------------------------------------------


def _check_source(access: Access, definition: Definition) -> None:
    if not access.can(SOURCES[definition.source].perm):
        raise FormError({"source": "Your role in this project does not see that source."})


def create(
    db: Session,
    actor: Principal,
    access: Access,
    form: ReportForm,
    definition: Definition,
    copied_from: SavedReport | None = None,
) -> SavedReport:
    access.require(Perm.BUILD_REPORTS)
    _check_source(access, definition)
    report = SavedReport(
        project_id=access.project.id,
        owner_id=actor.id,
        name=form.name,
        description=form.description,
        shared=form.shared,
        source=definition.source,
        definition=definition.model_dump(mode="json"),
    )
    db.add(report)
    db.flush()
    changes = {f: [None, v] for f, v in audit.snapshot(report, FIELDS).items() if v not in (None, "")}
    if copied_from is not None:
        changes["copied_from"] = [None, copied_from.name]
    audit.record(
        db,
        actor_id=actor.id,
        entity=report,
        project_id=access.project.id,
        label=report.name,
        action="create",
        changes=changes,
    )
    return report


def update(
    db: Session, actor: Principal, access: Access, report: SavedReport, form: ReportForm, definition: Definition
) -> SavedReport:
    access.require(Perm.BUILD_REPORTS)
    if not can_change(access, actor, report):
        raise Forbidden(detail="Only its owner, or a project manager when it is shared, changes a saved report.")
    report.check_seen(form.version, audit.snapshot(report, FIELDS))
    _check_source(access, definition)
    before = audit.snapshot(report, FIELDS)
    report.name, report.description, report.shared = form.name, form.description, form.shared
    report.source, report.definition = definition.source, definition.model_dump(mode="json")
    if changes := audit.diff(before, audit.snapshot(report, FIELDS)):
        report.updated_at = utcnow()
        audit.record(
            db,
            actor_id=actor.id,
            entity=report,
            project_id=access.project.id,
            label=report.name,
            action="update",
            changes=changes,
        )
    db.flush()
    return report


def duplicate(db: Session, actor: Principal, access: Access, report: SavedReport) -> SavedReport:
    """A private copy for `actor` to change as they like."""
    definition, problems = stored_definition(report, sources_of(db, access.project.id))
    if definition is None:
        raise FormError(problems, "This report's definition no longer validates; edit it before copying it.")
    form = ReportForm(name=f"Copy of {report.name}"[:200], description=report.description, shared=False)
    return create(db, actor, access, form, definition, copied_from=report)


def delete(db: Session, actor: Principal, access: Access, report: SavedReport, expected_version: int) -> None:
    if not can_change(access, actor, report):
        raise Forbidden(detail="Only its owner, or a project manager when it is shared, deletes a saved report.")
    report.check_seen(
        expected_version,
        {"name": report.name},
        f"“{report.name}” was changed after you loaded it, so it was not deleted. "
        "Check it as it is now and delete it again if you still mean to.",
    )
    audit.record(
        db,
        actor_id=actor.id,
        entity=report,
        project_id=access.project.id,
        label=report.name,
        action="delete",
        changes={f: [v, None] for f, v in audit.snapshot(report, FIELDS).items()},
    )
    db.delete(report)
    db.flush()


# --- running ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    keys: list[str]
    headers: list[str]
    rows: list[list[Any]]  # cells as the table, CSV and XLSX show them; moments aware, in `zone`
    links: list[str]  # each row's record page
    total: int
    moments: list[bool]  # per column: a moment (shown with its zone), not a day or a value
    zone: str  # the zone the reader reads times in, which the moments are in

    def export_headers(self) -> list[str]:
        """An export's headers, each moment's naming the zone its cells are in: "Updated (Europe/London)"."""
        return [f"{h} ({self.zone})" if m else h for h, m in zip(self.headers, self.moments, strict=True)]


def run(
    db: Session, access: Access, reader: Principal, definition: Definition, limit: int | None = None, offset: int = 0
) -> Result:
    """The report as `reader` may see it: only this project's rows, only a source their role sees, "me" is them.
    Three queries (the project's custom fields, count and page) whatever the number of rows; limit=None: every row
    (exports)."""
    source = sources_of(db, access.project.id)[definition.source]
    access.require(source.perm)
    project = access.project
    settings = common.settings_for(db, project.id) if source.key == "issues" else None
    # The zones come with the reader and the project, already loaded: no query, whatever the rows.
    ctx = Ctx(
        project_today(project), reader.id, settings, zone_for(reader.timezone, project.timezone), project.timezone
    )
    fields = [source.fields[c] for c in definition.columns]
    where = [
        source.model.project_id == project.id,
        *(where_clause(source.fields[f.field], f, ctx) for f in definition.filters),
    ]
    exprs, spans = list(source.link), []
    for fld in fields:
        value = fld.value(ctx)
        parts = value if isinstance(value, tuple) else (value,)
        spans.append((len(exprs), len(parts)))
        exprs.extend(p.label(f"c{len(exprs) + n}") for n, p in enumerate(parts))
    sorts = definition.sort or [_default_sort(source)]
    order = [o for s in sorts for o in ordering(source.fields[s.field], s.desc, ctx)]
    total = db.exec(source.joins(select(func.count()).select_from(source.model)).where(*where)).one()
    stmt = source.joins(select(*exprs).select_from(source.model)).where(*where).order_by(*order, source.model.id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    rows, links = [], []
    n_link = len(source.link)
    for row in db.exec(stmt):
        links.append(source.href(project.key, tuple(row[:n_link])))
        rows.append(
            [
                fld.show(row[start] if width == 1 else tuple(row[start : start + width]), ctx)
                for fld, (start, width) in zip(fields, spans, strict=True)
            ]
        )
    moments = [f.moment for f in fields]
    return Result(list(definition.columns), [f.label for f in fields], rows, links, total, moments, ctx.zone)


def _default_sort(source: Source) -> SortDef:
    key, descending = source.sort
    return SortDef(field=key, desc=descending)


def people_of(db: Session, project_id: int) -> list[tuple[int, str]]:
    """The project's members as (id, name), by name: a person filter's choices and words."""
    return projects.member_names(db, project_id)


def export_about(
    db: Session, access: Access, report: SavedReport, definition: Any, by: str, result: Result
) -> exports.About:
    """A saved report's workbook says which project, report and filters it holds, and for whom it was made; its
    times read in the zone the result's are in."""
    p = access.project
    filters = describe(sources_of(db, p.id)[report.source], definition, dict(people_of(db, p.id))) or ["None"]
    return exports.About(
        by,
        [("Project", f"{p.key} · {p.name}"), ("Report", report.name), *(("Filter", f) for f in filters)],
        result.zone,
    )


def to_csv(result: Result) -> bytes:
    return exports.to_csv(result.export_headers(), result.rows, zone=result.zone)


def to_xlsx(result: Result, report: SavedReport, about: exports.About) -> bytes:
    return exports.to_xlsx(result.export_headers(), result.rows, title=report.name, heading=report.name, about=about)
