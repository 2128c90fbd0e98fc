"""Trends and the portfolio: risk exposure reconstructed from the score history and the trail, issue ageing, RAG
over time, the acceptance curve and the holdback totals on a record built through the services (clock pinned);
the pages, their sorting, filters, exports, permissions and query counts."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.register.conftest import acting, make_risk
from tests.reports.conftest import decide, plan, submit
from tracker.core.clock import frozen_time, utcnow
from tracker.core.forms import parse
from tracker.deliverables import decisions
from tracker.projects import service as projects
from tracker.projects.models import Membership, Project
from tracker.register.risks import service as risks
from tracker.reports import service as reports
from tracker.reports import trends


def _weeks(record, n=26):
    return trends.weeks(record.project.timezone, record.today, n)


def _reassess(db, world, risk, **changes):
    actor, access = acting(db, world, "staff")
    values = risks.form_values(db, risk) | {k: str(v) for k, v in changes.items()}
    risks.update(db, actor, access, risk, parse(risks.RiskForm, values))


def test_risk_exposure_is_each_weeks_open_scores_from_the_score_history_and_status_changes(db, world, record):
    base = trends.risk_exposure(db, [record.project.id], _weeks(record))[record.project.id]
    assert base[-1] == 25 + 20 + 12 + 4 + 6  # the record's open risks now (R-005 is closed)
    with frozen_time(utcnow() - timedelta(days=28)):
        risk = make_risk(
            db,
            world,
            code="R-050",
            title="Moving",
            probability="2",
            impact="3",
            raised_on=str(record.today - timedelta(days=28)),
        )
    with frozen_time(utcnow() - timedelta(days=14)):
        _reassess(db, world, risk, probability=4, impact=5)
    with frozen_time(utcnow() - timedelta(days=7)):
        _reassess(db, world, risk, status="closed")
    db.commit()
    after = trends.risk_exposure(db, [record.project.id], _weeks(record))[record.project.id]
    added = [a - b for a, b in zip(after, base, strict=True)]
    # Raised on Wednesday four weeks ago at 6, 20 from two weeks ago, closed last Wednesday: each week read at its
    # Friday's end, the week under way at the end of today.
    assert added == [0] * 21 + [6, 6, 20, 0, 0]


def test_issue_ageing_buckets_by_priority_now_and_the_weekly_median(db, record):
    ages = trends.issue_ages(db, [record.project.id], record.today)
    assert ages == {
        "critical": [1, 0, 0, 0, 0, 0],  # raised yesterday
        "high": [0, 0, 1, 0, 0, 0],  # 20 days
        "medium": [1, 0, 0, 0, 0, 0],  # escalated, raised today; the resolved one is not open
        "low": [1, 0, 0, 0, 0, 0],
    }
    median = trends.median_open_age(db, [record.project.id], _weeks(record))
    assert median["all"][-1] == 0.5  # open now: 0, 0, 1 and 20 days
    assert (
        median["high"][-1] == 20
        and median["high"][-2] == median["high"][-1] - (record.today - _weeks(record)[-2].day).days
    )
    assert median["critical"][:-1] == [None] * 25  # raised only yesterday


def test_rag_history_reads_each_weeks_latest_published_version_per_area(db, world, record):
    manager, access = acting(db, world, "manager")
    reports.publish(db, manager, access, record.week.previous(), 1, None)
    reports.publish(db, manager, access, record.week, 1, None)
    db.commit()
    ws = _weeks(record, 13)
    rags = trends.rag_history(db, [record.project.id], ws)[record.project.id]
    assert rags[:-2] == [{"overall": None, "deliverables": None, "risks": None, "issues": None}] * 11
    assert (
        rags[-1]["overall"] == "red"
        and rags[-1]["risks"] == "red"
        and set(rags[-1])
        == {
            "overall",
            "deliverables",
            "risks",
            "issues",
        }
    )
    assert rags[-2]["overall"] is not None


def test_the_acceptance_curve_counts_planned_by_due_date_and_accepted_by_decision_day(db, record):
    curve = trends.acceptance_curve(db, [record.project.id], record.today)
    assert curve.total == 5  # six planned, one withdrawn
    assert curve.planned == sorted(curve.planned) and curve.planned[-1] == 5
    assert curve.accepted[-1] == 1 and record.today in curve.days  # D-04, accepted today
    assert curve.days[0] == record.today - timedelta(days=30)


def test_holdback_totals_summed_in_sql_agree_with_the_ledger(db, world, record, store):
    money = {"payment_amount": "100000.00", "holdback_pct": "10"}
    accepted = plan(db, world, "D-21", record.today + timedelta(days=3), **money)
    submit(db, world, accepted, store)
    decide(db, world, accepted, store, "accepted")
    plan(db, world, "D-22", record.today + timedelta(days=9), payment_amount="2500.55", holdback_pct="15")
    withdrawn = plan(db, world, "D-23", record.today + timedelta(days=9), **money)
    decisions.withdraw(db, *acting(db, world, "manager"), withdrawn, "Out of scope")
    totals = decisions.holdback_totals(db, [record.project.id])[record.project.id]
    ledger = decisions.holdback_ledger(db, record.project.id)
    assert totals.payment == ledger.payment == Decimal("102500.55")
    assert totals.released == ledger.released == Decimal("10000.00")
    assert totals.withheld == ledger.withheld == Decimal("0.00")
    assert totals.paid == ledger.paid == Decimal("100000.00")


# --- the pages ----------------------------------------------------------------------------------------------------


def _more_projects(db, world, n, **fields):
    """n more projects the viewer reads, each with a published report."""
    for i in range(n):
        project = Project(key=f"P{i}", name=f"Programme {i}", **fields)
        db.add(project)
        db.flush()
        db.add(Membership(project_id=project.id, user_id=world.ids["viewer"], role="viewer"))
        db.add(Membership(project_id=project.id, user_id=world.ids["manager"], role="manager"))
        db.flush()
        m = acting(db, world, "manager")[0]
        reports.publish(
            db, m, projects.get_for(db, m, project.key), reports.period_of(project, reports.PeriodForm()), 1, None
        )
    db.commit()


@pytest.fixture
def published(db, world, record):
    manager, access = acting(db, world, "manager")
    reports.publish(db, manager, access, record.week.previous(), 1, None)
    reports.publish(db, manager, access, record.week, 1, None)
    project = access.project
    project.sponsor, project.contractor = "Department of Health", "Acme Integrators LLC"
    db.add(project)
    db.commit()
    return record


def test_the_portfolio_row_shows_labelled_rags_trend_history_money_and_the_scorecard_headline(as_user, published):
    page = as_user("viewer").get("/portfolio").text
    row = re.search(r'<tr>\s*<th scope="row"><a href="/projects/TST">.*?</tr>', page, re.S).group(0)
    assert row.count('class="rag rag-') == 4 and 'aria-hidden="true">✖</span> Red' in row  # word and shape
    assert re.search(r"(Better|Worse|Same)</td>", row)
    assert re.search(r"\d+ of \d+ service levels met", row)
    strip = re.search(r'<svg[^>]*class="rag-strip".*?</svg>', row, re.S).group(0)
    assert strip.count("<rect") == 13 and strip.count(">–</text>") == 11 and strip.count(">R</text>") >= 1
    assert '<div class="table-scroll" role="region" aria-label="Portfolio, one row per project" tabindex="0">' in page
    assert "Risk exposure per project, last 26 weeks" in page and "Deliverables accepted against planned" in page
    assert page.count("<title") >= 3 and 'href="/portfolio.pdf?sort=-rag"' in page


def test_every_column_sorts_both_ways_and_says_so(as_user, published, db, world):
    _more_projects(db, world, 2)
    viewer = as_user("viewer")
    for key in reports.PORTFOLIO_SORTS:
        for sort in (key, f"-{key}"):
            page = viewer.get(f"/portfolio?sort={sort}")
            assert page.status_code == 200
            heads = re.findall(r'<th scope="col"[^>]*aria-sort="(\w+)"', page.text)
            assert heads == ["descending" if sort.startswith("-") else "ascending"], sort
    keys = lambda text: re.findall(r'<a href="/projects/(\w+)"><span class="mono">', text)  # noqa: E731
    assert keys(viewer.get("/portfolio?sort=project").text) == ["P0", "P1", "TST"]
    assert keys(viewer.get("/portfolio?sort=-project").text) == ["TST", "P1", "P0"]
    assert keys(viewer.get("/portfolio?sort=-critical").text)[0] == "TST"


def test_the_filters_keep_their_values_and_narrow_rows_charts_and_exports(as_user, published, db, world):
    _more_projects(db, world, 2, sponsor="Treasury", contractor="Other Co")
    viewer = as_user("viewer")
    page = viewer.get("/portfolio?sponsor=Treasury&sort=project").text
    assert "<option selected>Treasury</option>" in page and "Department of Health</option>" in page
    assert 'href="/projects/TST"' not in page and 'href="/projects/P0"' in page
    assert 'href="/portfolio?sort=-critical&amp;sponsor=Treasury"' in page  # the sort links keep the filter
    page = viewer.get("/portfolio?contractor=Acme+Integrators+LLC").text
    assert re.findall(r'<a href="/projects/(\w+)"><span class="mono">', page) == ["TST"]
    assert "No project matches these filters" in viewer.get("/portfolio?sponsor=Nobody").text
    book = load_workbook(io.BytesIO(viewer.get("/portfolio.xlsx?sponsor=Treasury").content))
    assert [r[0].value for r in book["Portfolio"].iter_rows(min_row=2)] == ["P0", "P1"]
    rows = as_user("viewer").api("GET", "/api/v1/portfolio?contractor=Acme+Integrators+LLC").json()
    assert [r["project_key"] for r in rows] == ["TST"] and rows[0]["sponsor"] == "Department of Health"


def test_the_portfolio_costs_the_same_queries_for_one_project_or_many(as_user, published, db, world, count_queries):
    viewer = as_user("viewer")
    viewer.get("/portfolio")
    with count_queries() as few:
        viewer.get("/portfolio?sort=contract")
    _more_projects(db, world, 5)
    with count_queries() as many:
        page = viewer.get("/portfolio?sort=contract")
    assert page.status_code == 200 and "P4" in page.text
    assert many.count == few.count <= 14


def test_the_xlsx_export_has_typed_numbers_a_frozen_header_and_a_filter(as_user, published):
    r = as_user("viewer").get("/portfolio.xlsx")
    assert r.status_code == 200 and r.headers["content-disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["Portfolio", "RAG history", "Risk exposure", "Accepted vs planned", "Filters"]
    sheet = book["Portfolio"]
    headers = [c.value for c in sheet[1]]
    row = dict(zip(headers, [c.value for c in sheet[2]], strict=True))
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:S{sheet.max_row}"
    assert row["Project"] == "TST" and row["Overall RAG"] == "Red" and isinstance(row["Critical risks"], int)
    assert isinstance(row["Contract value"], int | float) and row["Service levels measured"] > 0
    assert (
        isinstance(book["Risk exposure"]["A2"].value, datetime)
        and book["Risk exposure"]["A2"].number_format != "General"
    )
    assert book["Risk exposure"].max_row == 27 and book["RAG history"].max_column == 14


def test_the_pdf_export_is_one_landscape_page(as_user, published):
    r = as_user("viewer").get("/portfolio.pdf")
    assert r.status_code == 200 and r.content[:5] == b"%PDF-"
    pdf = PdfReader(io.BytesIO(r.content))
    box = pdf.pages[0].mediabox
    assert len(pdf.pages) == 1 and box.width > box.height
    assert "TST" in pdf.pages[0].extract_text()


def test_each_role_reads_only_its_projects_trends_and_portfolio(as_user, published):
    for role in ("manager", "staff", "viewer", "admin"):
        assert as_user(role).get("/projects/TST/trends").status_code == 200, role
    assert as_user("contractor").get("/projects/TST/trends").status_code == 403
    assert as_user("outsider").get("/projects/TST/trends").status_code == 404
    assert "No project whose status reports you may read" in as_user("contractor").get("/portfolio").text
    for role in ("contractor", "outsider"):  # the outsider reads another project only
        assert 'href="/projects/TST"' not in as_user(role).get("/portfolio").text
        book = load_workbook(io.BytesIO(as_user(role).get("/portfolio.xlsx").content))
        assert "TST" not in [r[0].value for r in book["Portfolio"].iter_rows(min_row=2)]


def test_the_trends_page_draws_each_chart_with_its_table_and_the_header_links_to_it(
    as_user, published, db, count_queries
):
    viewer = as_user("viewer")
    viewer.get("/projects/TST/trends")
    with count_queries() as q:
        page = viewer.get("/projects/TST/trends").text
    assert q.count <= 12
    assert page.count('role="img"') == 4 and page.count("<desc") == 4
    for title in (
        "Risk exposure, last 26 weeks",
        "Open issues by age and priority",
        "Median age of open issues",
        "RAG by area over the last 13 weeks",
    ):
        assert title in page
    assert 'href="/projects/TST/trends"' in page and page.count('class="table-scroll" role="region"') == 4
    assert "Exposure 67</text>" in page  # the line is named, with its value, at its end
    assert "High: 0–7 days 0, 8–14 days 0, 15–30 days 1," in page  # the bars' description, as drawn
    assert page.count("<rect") >= 4 * 13 + 4 * 6  # the RAG grid's cells and a bar per priority and bucket
    assert ">R</text>" in page and '<th scope="row">Overall</th>' not in page


def test_the_api_gives_the_new_columns(as_user, published):
    row = as_user("viewer").api("GET", "/api/v1/portfolio").json()[0]
    assert len(row["rag_history"]) == 13 and row["rag_history"][-1] == "red"
    assert row["contract_value"] is not None and row["scorecard"].endswith("service levels met")
    assert row["areas"]["risks"] == "red"
