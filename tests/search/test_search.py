"""Search: every kind found by its words, ranked, within what each role may see, kept current by the hook as records
change, with hostile queries answered calmly and the same few queries however many results there are."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import select

from tests.dbutil import IS_SQLITE
from tests.library.conftest import definition, save
from tests.register.conftest import acting
from tests.reports.conftest import plan
from tracker.deliverables.models import Comment, Deliverable, Submission
from tracker.library import service as library
from tracker.projects.models import Project
from tracker.register.actions.models import ActionItem
from tracker.register.changes.models import ChangeRequest
from tracker.register.decisions.models import LoggedDecision
from tracker.register.issues.models import Issue
from tracker.register.lessons.models import Lesson
from tracker.register.meetings.models import Meeting
from tracker.register.risks.models import Risk
from tracker.reports import service as reports
from tracker.reports.models import StatusReport
from tracker.reports.periods import Period
from tracker.search import index
from tracker.search.service import RULES, match_text, words

DAY = date(2026, 3, 2)


def _project_id(db, key: str = "TST") -> int:
    return db.exec(select(Project.id).where(Project.key == key)).one()


def seed(db, world, word: str = "zeppelin", key: str = "TST", n: int = 0) -> dict[str, int]:
    """One record of every kind in the project, each holding `word` in its text; returns their ids by kind."""
    pid = _project_id(db, key)
    d = (
        plan(db, world, f"D-{n:03d}", DAY, title=f"Conversion plan {n}", description=f"The {word} plan")
        if key == "TST"
        else Deliverable(project_id=pid, code=f"D-{n:03d}", title=f"Conversion plan {n}", description=f"The {word}")
    )
    risk = Risk(
        project_id=pid,
        code=f"R-{n:03d}",
        title=f"Vendor risk {n}",
        statement=f"If the {word} fails",
        probability=3,
        impact=3,
        raised_on=DAY,
    )
    issue = Issue(
        project_id=pid, code=f"I-{n:03d}", title=f"Outage {n}", description=f"The {word} is down", raised_on=DAY
    )
    state_draft = ChangeRequest(
        project_id=pid, code=f"CR-{n:03d}", title=f"State draft {n}", description=f"Add a {word}", raised_on=DAY
    )
    contractor_cr = ChangeRequest(
        project_id=pid,
        code=f"CR-{n + 500:03d}",
        title=f"Contractor change {n}",
        reason=f"The {word} grew",
        requested_by="contractor",
        raised_on=DAY,
    )
    published_here = key == "TST" and n == 0  # published as the app does, so its page opens
    report = StatusReport(
        project_id=pid,
        period_start=date(2026, 3, 2),
        period_end=date(2026, 3, 6),
        number=n + 1,
        status="draft" if published_here else "published",
        summary=f"The {word} flew on time",
        content=None if published_here else {},
    )
    lesson = Lesson(
        project_id=pid,
        code=f"L-{n:03d}",
        title=f"Late test data {n}",
        recommendation=f"Book the {word} early",
        recorded_on=DAY,
    )
    meeting = Meeting(project_id=pid, code=f"M-{n:03d}", title=f"Steering {n}", notes=f"The {word} landed", held_on=DAY)
    decision = LoggedDecision(
        project_id=pid, code=f"D-{n:03d}", title=f"Two waves {n}", context=f"The {word} is late", decided_on=DAY
    )
    db.add_all([d, risk, issue, state_draft, contractor_cr, report, lesson, decision, meeting])
    db.flush()
    if published_here:
        reports.publish(
            db, *acting(db, world, "manager"), Period(report.period_start, report.period_end), 1, report.version
        )
    sub = Submission(deliverable_id=d.id, number=1, submitted_by_id=world.ids["contractor"], review_due=DAY)
    action = ActionItem(project_id=pid, risk_id=risk.id, plan="mitigation", description=f"Inspect the {word}")
    db.add_all([sub, action])
    db.flush()
    comment = Comment(
        submission_id=sub.id, reviewer_id=world.ids["staff"], text=f"Section 3 omits the {word}", severity="major"
    )
    db.add(comment)
    db.commit()
    ids = {
        "deliverable": d.id,
        "comment": comment.id,
        "risk": risk.id,
        "issue": issue.id,
        "action": action.id,
        "report": report.id,
        "change": state_draft.id,
        "contractor_change": contractor_cr.id,
        "lesson": lesson.id,
        "meeting": meeting.id,
        "decision": decision.id,
    }
    if key == "TST":
        shared = save(db, world, "staff", definition("risks", ["code"]), f"Shared {word} list", shared=True)
        private = save(db, world, "staff", definition("risks", ["code"]), f"Private {word} list")
        db.commit()
        ids |= {"saved_report": shared.id, "private_report": private.id}
    return ids


def found(as_user, role: str, q: str, **params) -> list[dict]:
    r = as_user(role).get("/api/v1/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def kinds(hits: list[dict]) -> set[str]:
    return {h["kind"] for h in hits}


def test_a_manager_finds_every_kind_by_its_words(as_user, db, world):
    ids = seed(db, world)
    hits = found(as_user, "manager", "zeppelin")
    assert kinds(hits) == set(RULES)
    by_kind = {}
    for h in hits:
        by_kind.setdefault(h["kind"], []).append(h)
    assert by_kind["comment"][0]["url"] == f"/projects/TST/deliverables/{ids['deliverable']}#comment-{ids['comment']}"
    assert by_kind["comment"][0]["code"] == "D-000"
    assert by_kind["action"][0]["url"] == f"/projects/TST/risks/{ids['risk']}#mitigation-plan"
    assert by_kind["action"][0]["code"] == "R-000"
    assert {h["url"] for h in by_kind["change"]} == {
        f"/projects/TST/changes/{ids['change']}",
        f"/projects/TST/changes/{ids['contractor_change']}",
    }
    assert [h["url"] for h in by_kind["saved_report"]] == [f"/projects/TST/saved-reports/{ids['saved_report']}"]
    assert all("<mark>zeppelin</mark>" in h["snippet"] + h["title"] for h in hits)
    for h in hits:  # every link opens for the reader
        assert as_user("manager").get(h["url"].split("#")[0]).status_code == 200, h["url"]


def test_codes_titles_and_word_beginnings_are_found(as_user, db, world):
    seed(db, world)
    assert [h["code"] for h in found(as_user, "manager", "R-000", kind="risk")] == ["R-000"]
    assert kinds(found(as_user, "manager", "zepp")) == set(RULES)  # the last word is a prefix
    assert kinds(found(as_user, "manager", "vendor zeppel")) == {"risk"}  # every word must appear
    assert found(as_user, "manager", "zeppelins") != []  # English stems: zeppelins ~ zeppelin
    assert found(as_user, "manager", "dirigible") == []


def test_a_title_match_ranks_above_a_body_match(as_user, db, world):
    pid = _project_id(db)
    db.add_all(
        [
            Risk(
                project_id=pid,
                code="R-101",
                title="Staffing",
                statement="The gantry crane is late",
                probability=1,
                impact=1,
                raised_on=DAY,
            ),
            Risk(
                project_id=pid,
                code="R-102",
                title="Gantry crane failure",
                statement="Lifting stops",
                probability=1,
                impact=1,
                raised_on=DAY,
            ),
            Risk(
                project_id=pid,
                code="R-103",
                title="Budget",
                statement="Unrelated",
                probability=1,
                impact=1,
                raised_on=DAY,
            ),
        ]
    )
    db.commit()
    assert [h["code"] for h in found(as_user, "staff", "gantry crane")] == ["R-102", "R-101"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", set(RULES)),  # every project's register and shared saved reports; nobody's private one
        ("manager", set(RULES)),
        ("staff", set(RULES)),
        ("viewer", set(RULES)),
        ("contractor", {"deliverable", "comment", "change"}),  # no register, no risk-sourced saved report
        ("outsider", set()),
    ],
)
def test_each_role_finds_only_what_it_may_see(as_user, db, world, role, expected):
    ids = seed(db, world)
    hits = found(as_user, role, "zeppelin")
    assert kinds(hits) == expected
    urls = {h["url"] for h in hits}
    private = f"/projects/TST/saved-reports/{ids['private_report']}"
    assert (private in urls) == (role == "staff")  # only its owner finds a private saved report
    if role == "contractor":  # its own change request, never the State's draft
        assert urls & {f"/projects/TST/changes/{i}" for i in (ids["change"], ids["contractor_change"])} == {
            f"/projects/TST/changes/{ids['contractor_change']}"
        }


def test_the_contractor_finds_the_states_change_once_submitted(as_user, db, world):
    ids = seed(db, world)
    change = db.get(ChangeRequest, ids["change"])
    change.status = "submitted"
    db.commit()
    assert f"/projects/TST/changes/{ids['change']}" in {h["url"] for h in found(as_user, "contractor", "zeppelin")}


def test_a_non_member_finds_nothing_of_another_project(as_user, db, world):
    seed(db, world, "quokka")
    seed(db, world, "quokka", key="OTH", n=1)
    assert {h["project"] for h in found(as_user, "outsider", "quokka")} == {"OTH"}
    assert {h["project"] for h in found(as_user, "viewer", "quokka")} == {"TST"}
    assert found(as_user, "viewer", "quokka", project="OTH") == []  # naming the project does not open it


def test_kind_and_project_filters_and_paging(as_user, db, world):
    for n in range(25):
        seed(db, world, "walrus", n=n) if n == 0 else db.add(
            Risk(
                project_id=_project_id(db),
                code=f"R-{n + 200}",
                title=f"Walrus {n}",
                probability=1,
                impact=1,
                raised_on=DAY,
            )
        )
    db.commit()
    staff = as_user("staff")
    first = staff.get("/api/v1/search", params={"q": "walrus", "kind": "risk"}).json()
    assert first["total"] == 25 and first["pages"] == 2 and len(first["results"]) == 20
    assert first["by_kind"]["risk"] == 25 and first["by_kind"]["issue"] == 1
    second = staff.get("/api/v1/search", params={"q": "walrus", "kind": "risk", "page": 2}).json()
    assert len(second["results"]) == 5
    assert not {h["url"] for h in first["results"]} & {h["url"] for h in second["results"]}
    page = staff.get("/search", params={"q": "walrus", "kind": "risk"}).text
    assert "25 results" in page and 'rel="next"' in page and "kind=risk" in page
    assert found(as_user, "staff", "walrus", project="TST") != []
    assert found(as_user, "staff", "walrus", project="tst") != []


def test_the_index_follows_edits_and_deletes(as_user, db, world):
    ids = seed(db, world)
    risk = db.get(Risk, ids["risk"])
    risk.title, risk.statement = "Narwhal shortage", "None left"
    db.commit()
    assert "risk" not in kinds(found(as_user, "staff", "zeppelin"))
    assert [h["code"] for h in found(as_user, "staff", "narwhal")] == ["R-000"]
    actor, access = acting(db, world, "staff")
    report = db.get(library.SavedReport, ids["saved_report"])
    library.delete(db, actor, access, report, report.version)
    db.commit()
    assert f"/projects/TST/saved-reports/{ids['saved_report']}" not in {
        h["url"] for h in found(as_user, "staff", "zeppelin")
    }
    comment = db.get(Comment, ids["comment"])
    comment.response = "Added the ocelot"
    db.commit()
    assert kinds(found(as_user, "staff", "ocelot")) == {"comment"}


def test_a_rolled_back_change_leaves_the_index_as_it_was(as_user, db, world):
    ids = seed(db, world)
    risk = db.get(Risk, ids["risk"])
    risk.title = "Pangolin"
    db.flush()
    db.rollback()
    assert found(as_user, "staff", "pangolin") == []
    assert "risk" in kinds(found(as_user, "staff", "zeppelin"))


def test_reindex_rebuilds_what_the_hook_kept(db, world, conn):
    seed(db, world)
    seed(db, world, key="OTH", n=1)
    ix = index.table(conn.dialect.name)
    columns = [c for c in ix.c if c.key != "id"]

    def rows() -> list:
        return sorted(conn.execute(select(ix.c.id, *columns)).all())

    kept = rows()
    assert len(kept) == 24  # eleven records in each project (two change requests) and TST's two saved reports
    conn.execute(ix.delete())
    assert rows() == []
    index.reindex(conn)
    assert rows() == kept


HOSTILE = [
    '"',
    '""',
    "'",
    "*",
    "-",
    "zeppelin*",
    '"zeppelin',
    "zeppelin -vendor",
    "-zeppelin",
    "NOT zeppelin",
    "zeppelin AND OR NOT",
    "NEAR(zeppelin vendor, 2)",
    "(zeppelin",
    "zeppelin)",
    "title:zeppelin",
    "body : x",
    "{zeppelin}",
    "zeppelin^",
    "^zeppelin",
    "zeppelin + vendor",
    "a & b | !c",
    "zeppelin:*",
    "'zeppelin':*",
    "zeppelin <-> vendor",
    "\\",
    "%",
    "_",
    "naïve café",
    "日本語の検索",
    "🙂 zeppelin",
    "x" * 400,
    "zeppelin " + "y" * 480,
    "Ω " * 100,
    "rowid = 1",
    "search_index",
    "; DROP TABLE risk; --",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_never_fail(as_user, db, world, q):
    seed(db, world)
    manager = as_user("manager")
    page = manager.get("/search", params={"q": q})
    assert page.status_code == 200, page.text
    api = manager.get("/api/v1/search", params={"q": q})
    assert api.status_code == (200 if words(q) else 422), api.text
    if words(q) == ["zeppelin"]:
        assert api.json()["results"], q  # the words are still searched for


def test_the_query_text_is_only_quoted_words():
    assert words('NEAR("a b" c*) OR title:d-e') == ["near", "a", "b", "c", "or", "title", "d", "e"]
    assert match_text("sqlite", ["or", "x"]) == '"or" "x"*'
    assert match_text("postgresql", ["or", "x"]) == "'or' & 'x':*"


def test_matched_words_are_marked_and_everything_else_escaped(as_user, db, world):
    pid = _project_id(db)
    db.add(
        Risk(
            project_id=pid,
            code="R-300",
            title='<b onmouseover="x">Kestrel</b> & co',
            statement="\ue000<i>\ue001",
            probability=1,
            impact=1,
            raised_on=DAY,
        )
    )
    db.commit()
    page = as_user("staff").get("/search", params={"q": "kestrel"}).text
    assert "&lt;b onmouseover=&#34;x&#34;&gt;<mark>Kestrel</mark>&lt;/b&gt; &amp; co" in page
    assert "<b onmouseover" not in page and "<i>" not in page
    hit = found(as_user, "staff", "kestrel")[0]
    assert hit["title"].startswith("&lt;b") and "<mark>Kestrel</mark>" in hit["title"]


def test_an_empty_query_shows_help_and_the_api_asks_for_words(as_user, world):
    staff = as_user("staff")
    for q in ("", "   ", "--- ***"):
        page = staff.get("/search", params={"q": q})
        assert page.status_code == 200 and "Find anything you can see" in page.text
        r = staff.get("/api/v1/search", params={"q": q})
        assert r.status_code == 422 and "q" in r.json()["extra"]
    r = staff.get("/api/v1/search")
    assert r.status_code == 422 and "q" in r.json()["extra"]


def test_the_header_box_searches_from_every_page(as_user, world):
    page = as_user("viewer").get("/").text
    form = re.search(r'<form role="search" action="/search" method="get" class="site-search">.*?</form>', page, re.S)
    assert form and '<label for="site-search-q"' in form.group(0) and 'name="q"' in form.group(0)


def test_the_query_count_does_not_grow_with_the_results(as_user, db, world, count_queries):
    seed(db, world, "osprey")
    staff = as_user("staff")

    def count() -> tuple[int, int]:
        with count_queries() as page:
            assert staff.get("/search", params={"q": "osprey"}).status_code == 200
        with count_queries() as api:
            assert staff.get("/api/v1/search", params={"q": "osprey"}).status_code == 200
        return page.count, api.count

    few = count()
    for n in range(1, 30):
        seed(db, world, "osprey", n=n)
    many = count()
    assert many == few and few[0] <= 6, few  # with the data versions the ranking is kept under
    assert len(found(as_user, "staff", "osprey")) == 20


def test_the_hook_writes_only_when_indexed_words_change(db, world, count_queries):
    ids = seed(db, world)
    risk = db.get(Risk, ids["risk"])
    with count_queries() as c:
        risk.probability = 5
        db.commit()
    assert not any("search_index" in s for s in c.statements)
    with count_queries() as c:
        risk.trigger = "Rain"
        db.flush()
        risk.mitigation_plan = "Umbrellas"
        db.flush()
        assert not any("search_index" in s for s in c.statements)  # written as the session commits
        db.commit()
    # once for both flushes: the row out, the row in; then its action item's, which shows the risk's code (on SQLite
    # each with its project's row in search_index_scope)
    index_rows = [s for s in c.statements if "search_index" in s and "search_index_scope" not in s]
    assert len(index_rows) == 4
    assert sum("search_index_scope" in s for s in c.statements) == (4 if IS_SQLITE else 0)


def test_a_changed_code_reaches_the_comments_and_action_items_that_show_it(as_user, db, world):
    ids = seed(db, world)
    db.get(Deliverable, ids["deliverable"]).code = "D-777"
    db.get(Risk, ids["risk"]).code = "R-888"
    db.commit()
    codes = {h["kind"]: h["code"] for h in found(as_user, "staff", "zeppelin")}
    assert (codes["deliverable"], codes["comment"], codes["risk"], codes["action"]) == (
        "D-777",
        "D-777",
        "R-888",
        "R-888",
    )


def test_drafts_of_status_reports_are_not_found(as_user, db, world):
    db.add(
        StatusReport(
            project_id=_project_id(db), period_start=DAY, period_end=date(2026, 3, 6), summary="Heron sightings"
        )
    )
    db.commit()
    assert found(as_user, "manager", "heron") == []
    assert db.execute(text("SELECT count(*) FROM search_index")).scalar_one() == 0


def test_saved_reports_follow_the_librarys_rule(as_user, db, world):
    """Shared or one's own, of a source the role reads: a contractor finds a shared deliverables report, not a risk
    report; nobody but its owner finds a private one."""
    seed(db, world)
    save(db, world, "manager", definition("deliverables", ["code"]), "Zeppelin deliverables", shared=True)
    db.commit()
    names = {h["title"] for h in found(as_user, "contractor", "zeppelin", kind="saved_report")}
    assert names == {"<mark>Zeppelin</mark> deliverables"}
    names = {h["title"] for h in found(as_user, "manager", "zeppelin", kind="saved_report")}
    assert names == {"<mark>Zeppelin</mark> deliverables", "Shared <mark>zeppelin</mark> list"}
