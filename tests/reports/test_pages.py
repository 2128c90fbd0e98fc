"""Status report pages: the draft and its published snapshot read the same, the manager's input, bad input beside
the field, stale edits, exports of every table, the portfolio and My work."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime

from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import select

from tests.register.conftest import acting, make_issue
from tracker.projects import service as projects
from tracker.projects.models import Membership, Project
from tracker.reports import documents
from tracker.reports import service as reports
from tracker.reports.models import StatusReport


def _article(html: str) -> str:
    match = re.search(r'<article id="report".*?</article>', html, re.S)
    assert match, "no report on the page"
    return match.group(0)


def _publish(b, record, **extra):
    page = b.get("/projects/TST/status-reports/draft")
    version = re.search(r'name="version" value="(\d*)"', page.text).group(1)
    data = {
        "period_start": record.week.start.isoformat(),
        "period_end": record.week.end.isoformat(),
        "number": "1",
        "version": version,
    } | extra
    return b.post("/projects/TST/status-reports/publish", data)


def test_a_draft_and_the_snapshot_published_from_it_read_the_same(as_user, record, db):
    manager = as_user("manager")
    saved = manager.post(
        "/projects/TST/status-reports/draft",
        {
            "period_end": record.week.end.isoformat(),
            "number": "1",
            "version": "",
            "summary": "Steady week",
            "rag_risks": "amber",
            "why_risks": "R-001 mitigation agreed with the sponsor",
        },
    )
    assert saved.status_code == 303
    draft = manager.get("/projects/TST/status-reports/draft")
    assert "Draft status report" in draft.text and "R-001 mitigation agreed with the sponsor" in draft.text
    r = _publish(manager, record)
    assert r.status_code == 303 and re.fullmatch(r"/projects/TST/status-reports/\d+", r.headers["location"])
    published = manager.get(r.headers["location"])
    assert published.status_code == 200 and "Version 1, published by Manager Person" in published.text
    assert _article(published.text) == _article(draft.text)
    report = db.exec(select(StatusReport)).one()
    assert report.content["narrative"]["summary"] == "Steady week" and report.status == "published"

    viewer = as_user("viewer")  # leadership reads the same snapshot
    assert _article(viewer.get(r.headers["location"]).text) == _article(draft.text)
    listing = viewer.get("/projects/TST/status-reports").text
    assert record.week.label in listing and "Manager Person" in listing and "This week's draft" not in listing


def test_overriding_a_rag_needs_a_rationale_beside_the_field(as_user, record):
    manager = as_user("manager")
    data = {
        "period_end": record.week.end.isoformat(),
        "number": "1",
        "version": "",
        "summary": "Kept",
        "rag_overall": "green",
    }
    r = manager.post("/projects/TST/status-reports/draft", data)
    assert r.status_code == 422
    assert 'id="f-why_overall-error"' in r.text and "Write why you override" in r.text
    assert ">Kept</textarea>" in r.text and '<option value="green" selected>' in r.text
    r = manager.post("/projects/TST/status-reports/draft", data | {"why_overall": "Sponsor accepts"}, htmx=True)
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="draft">')
    assert "Set by the manager (the rules give red)" in r.text


def test_bad_periods_are_answered_beside_the_field(as_user, record):
    manager = as_user("manager")
    cases = {
        "period_start=2026-03-10&period_end=2026-03-01": ("f-period_start-error", "starts after it ends"),
        "period_end=not-a-date": ("f-period_end-error", "YYYY-MM-DD"),
        "period_end=2099-01-01": ("f-period_end-error", "has not begun"),
        "period_start=2020-01-01&period_end=2026-01-01": ("f-period_end-error", "at most a year"),
        "period_start=2026-01-01": ("f-period_end-error", "last day too"),
    }
    for query, (field, message) in cases.items():
        r = manager.get(f"/projects/TST/status-reports/draft?{query}")
        assert r.status_code == 422 and f'id="{field}"' in r.text and message in r.text, query
        r = manager.get(f"/projects/TST/scorecard?{query}")
        assert r.status_code == 422 and f'id="{field}"' in r.text, query
        r = manager.api("GET", f"/api/v1/projects/TST/status-reports/draft?{query}")
        assert r.status_code == 422 and field.removeprefix("f-").removesuffix("-error") in r.json()["extra"], query


def test_a_stale_narrative_edit_answers_409_and_keeps_the_input(as_user, record):
    manager = as_user("manager")
    data = {"period_end": record.week.end.isoformat(), "number": "1", "version": ""}
    assert manager.post("/projects/TST/status-reports/draft", data | {"summary": "Mine first"}).status_code == 303
    r = manager.post("/projects/TST/status-reports/draft", data | {"summary": "Theirs, from an old page"})
    assert r.status_code == 409
    assert (
        "Someone else saved this record" in r.text and "Mine first" in r.text and "Theirs, from an old page" in r.text
    )
    assert 'name="version" value="1"' in r.text  # saving again now is a deliberate overwrite
    r = manager.post("/projects/TST/status-reports/publish", data | {"version": ""})
    assert r.status_code == 303 and r.headers["location"].endswith(
        f"/status-reports/draft?period_start={record.week.start}&period_end={record.week.end}"
    )


def test_every_table_exports_and_the_pdf_and_docx_carry_the_figures(as_user, record, db):
    manager = as_user("manager")
    location = _publish(manager, record).headers["location"]
    content = db.exec(select(StatusReport)).one().content
    book = load_workbook(io.BytesIO(manager.get(f"{location}/report.xlsx").content))
    assert book.sheetnames == [*(t.title[:31] for t in documents.TABLES), "Filters"]
    filters = {r[0]: r[1] for r in book["Filters"].iter_rows(min_row=2, values_only=True)}
    assert filters["Project"].startswith("TST") and filters["Generated by"] == "Manager Person"
    assert filters["Period"].startswith("Week ending") and filters["Version"] == 1
    history = book[documents.BY_NAME["rag-history"].title]
    assert history.freeze_panes == "A2" and history.auto_filter.ref.startswith("A1:B")
    assert isinstance(history["A2"].value, datetime) and history["A2"].number_format == "yyyy-mm-dd"  # a date
    top = book[documents.BY_NAME["top-risks"].title]
    assert [[c.value for c in row][:3] for row in top.iter_rows(min_row=2)] == [
        [x["code"], x["title"], x["score"]] for x in content["top_risks"]
    ]
    for t in documents.TABLES:
        r = manager.get(f"{location}/tables/{t.name}.csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[0] == t.headers and len(rows) - 1 == len(t.rows(content)), t.name
    assert manager.get(f"{location}/tables/nope.csv").status_code == 404
    pipeline = list(csv.reader(io.StringIO(manager.get(f"{location}/tables/pipeline.csv").content.decode("utf-8-sig"))))
    assert pipeline[1:] == [[s["label"], str(s["count"])] for s in content["pipeline"]]

    docx = manager.get(f"{location}/report.docx")
    assert docx.headers["content-disposition"].endswith('.docx"')
    xml = zipfile.ZipFile(io.BytesIO(docx.content)).read("word/document.xml").decode()
    assert "Top risks by score" in xml and "R-001" in xml and "Contractor scorecard" in xml
    word = Document(io.BytesIO(docx.content))
    pictures = list(word.inline_shapes)
    assert len(pictures) == len(documents.CHARTS)  # every chart, as an image with its description
    assert all(p._inline.docPr.get("descr") for p in pictures)
    assert all(
        zipfile.ZipFile(io.BytesIO(docx.content)).read(name).startswith(b"\x89PNG")
        for name in zipfile.ZipFile(io.BytesIO(docx.content)).namelist()
        if name.startswith("word/media/")
    )

    pdf = manager.get(f"{location}/report.pdf?paper=a4")
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    words = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    assert abs(float(reader.pages[0].mediabox.width) - 595) < 2  # A4
    for figure in ("Week ending", "R-001", "D-01", "I-001", "Red", "50%", "Contractor scorecard"):
        assert figure in words, figure


def test_the_portfolio_lists_every_readable_project_sorted_with_a_fixed_query_count(
    as_user, record, db, world, count_queries
):
    manager, access = acting(db, world, "manager")
    reports.publish(db, manager, access, record.week, 1, None)
    db.commit()
    viewer = as_user("viewer")
    page = viewer.get("/portfolio")
    assert page.status_code == 200 and "Test Programme" in page.text and "First report" in page.text
    assert f'href="/projects/TST/status-reports/{db.exec(select(StatusReport.id)).one()}"' in page.text
    assert "Other" not in page.text  # the viewer is not a member of OTH
    assert "No project whose status reports you may read" in as_user("contractor").get("/portfolio").text
    with count_queries() as few:
        viewer.get("/portfolio?sort=critical")
    admin = db.exec(select(Membership).where(Membership.user_id == world.ids["viewer"])).one()
    for n in range(6):  # six more projects the viewer reads, each with a published report
        project = Project(key=f"P{n}", name=f"Programme {n}")
        db.add(project)
        db.flush()
        db.add(Membership(project_id=project.id, user_id=admin.user_id, role="viewer"))
        db.add(Membership(project_id=project.id, user_id=world.ids["manager"], role="manager"))
        db.flush()
        m = acting(db, world, "manager")[0]
        a = projects.get_for(db, m, project.key)
        reports.publish(db, m, a, reports.period_of(project, reports.PeriodForm()), 1, None)
    db.commit()
    with count_queries() as many:
        page = viewer.get("/portfolio?sort=project")
    assert many.count == few.count
    assert re.findall(r'<span class="mono">(\w+)</span>', page.text) == [
        "P0",
        "P1",
        "P2",
        "P3",
        "P4",
        "P5",
        "TST",
    ]
    fragment = viewer.get("/portfolio?sort=-project", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<div id="portfolio-table">') and fragment.index("TST") < fragment.index("P5")


def test_my_work_lists_the_reports_a_manager_has_to_publish(as_user, record, db, world):
    manager = as_user("manager")
    page = manager.get("/").text
    assert "Status reports to publish" in page and record.week.label in page
    assert "Status reports to publish" not in as_user("staff").get("/").text
    m, access = acting(db, world, "manager")
    reports.publish(db, m, access, record.week, 1, None)
    reports.publish(db, m, access, record.week.previous(), 1, None)
    db.commit()
    assert "Status reports to publish" not in manager.get("/").text


def test_the_scorecard_page_shows_met_and_missed_and_a_chart_per_metric_over_13_periods(as_user, record):
    page = as_user("viewer").get(f"/projects/TST/scorecard?period_end={record.week.end}").text
    assert "Issues resolved within target" in page and "critical 5 days" in page
    assert page.count('class="chart slo-chart"') == 6 and "Missed" in page and "Met" in page
    assert page.count('<title id="slo-') == 6 and page.count('<desc id="slo-') == 6
    assert "Rolling 13 weeks" in page and "Contract to date" in page


def test_report_targets_override_the_defaults_per_project(as_user, db, record):
    admin = as_user("admin")
    form = admin.get("/projects/TST/report-targets").text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    r = admin.post(
        "/projects/TST/report-targets",
        {"version": version, "delivery_overdue_red_days": "30", "on_time_submission_rate": "150"},
    )
    assert r.status_code == 422 and 'id="f-on_time_submission_rate-error"' in r.text and 'value="30"' in r.text
    r = admin.post(
        "/projects/TST/report-targets",
        {
            "version": version,
            "delivery_overdue_red_days": "30",
            "on_time_submission_rate": "50",
            "issue_days_high": "20",
        },
    )
    assert r.status_code == 303
    db.expire_all()
    project = db.exec(select(Project).where(Project.key == "TST")).one()
    assert project.rag_thresholds == {"delivery_overdue_red_days": 30}
    assert project.slo_targets == {"on_time_submission_rate": 0.5, "issue_days_high": 20}
    draft = as_user("manager").get("/projects/TST/status-reports/draft").text
    assert "overdue by more than 30 days" in draft
    r = admin.post("/projects/TST/report-targets", {"version": version})  # stale
    assert r.status_code == 303 and db.get(Project, project.id).rag_thresholds == {"delivery_overdue_red_days": 30}


def test_report_links_show_only_to_those_who_may_read_reports(as_user):
    for persona in ("manager", "staff", "viewer"):
        page = as_user(persona).get("/projects/TST").text
        assert 'href="/projects/TST/status-reports"' in page and 'href="/projects/TST/scorecard"' in page, persona
    page = as_user("contractor").get("/projects/TST").text
    assert "/status-reports" not in page and 'href="/projects/TST/scorecard"' not in page
    assert 'href="/projects/TST/scorecard/reported"' in page  # the service levels the contractor reports itself
    assert 'href="/portfolio"' not in page  # the portfolio has no line for a contractor, so the menu leaves it out


def test_the_menu_offers_the_portfolio_and_lessons_only_to_those_they_have_a_line_for(as_user, record, db, world):
    manager, access = acting(db, world, "manager")
    report = reports.publish(db, manager, access, record.week, 1, None)
    db.commit()
    for persona in ("admin", "manager", "staff", "viewer", "outsider"):  # the outsider reads another project's
        menu = as_user(persona).get("/projects").text
        assert 'href="/portfolio"' in menu and 'href="/lessons"' in menu, persona
    menu = as_user("contractor").get("/projects").text
    assert 'href="/portfolio"' not in menu and 'href="/lessons"' not in menu
    # Typed in, the page shows a contractor none of its project's reports, figures or RAG.
    page = as_user("contractor").get("/portfolio")
    assert page.status_code == 200 and "No project whose status reports you may read" in page.text
    main = page.text.split('id="main"')[1]
    assert "TST" not in main and "Test Programme" not in main and f"/status-reports/{report.id}" not in main
    assert "<table" not in main and "Green" not in main and "Amber" not in main and "Red" not in main


def test_a_long_list_shows_its_first_rows_on_screen_and_every_row_on_request_and_in_the_snapshot(as_user, db, world):
    for n in range(30):
        make_issue(db, world, title=f"Raised this week number {n:02d}", priority="low")
    manager = as_user("manager")
    page = manager.get("/projects/TST/status-reports/draft").text
    article = _article(page)
    assert "New issues (30)" in article
    assert article.count("Raised this week number") == 25
    assert "The first 25 of 30 are shown." in article
    show_all = re.search(r'<a href="([^"]+)">Show all 30</a>', article).group(1).replace("&amp;", "&")
    full = _article(manager.get(show_all).text)
    assert full.count("Raised this week number") == 30 and "are shown" not in full
    content = reports.build(db, *_draft_inputs(db))
    assert len(content["new_issues"]) == 30  # the snapshot a publish stores keeps every row


def _draft_inputs(db):
    project = db.exec(select(Project).where(Project.key == "TST")).one()
    period = reports.period_of(project, reports.PeriodForm())
    return project, period, reports.draft_for(db, project, period)


def test_the_draft_names_its_week_with_capitalised_day_and_month_and_keeps_sentences_apart(as_user, world):
    page = as_user("manager").get("/projects/TST/status-reports/draft").text
    title = re.search(r"<title>([^<]*)</title>", page).group(1)
    assert re.fullmatch(
        r"TST draft status report, week ending [A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2} \d{4} · Tracker", title
    )
    assert (
        "Contractor: Acme Integrators. " in page and "Integrators.No" not in page and "Integrators.Trends" not in page
    )
