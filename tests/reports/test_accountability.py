"""Contractor accountability: the scorecard's period, rolling and contract-to-date figures, service credits (Decimal, to
the cent) and the service levels the contractor reports, verified or disputed by the State."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, select

from tests.register.conftest import acting
from tests.reports.test_scorecard import WEEK, _history, at
from tracker.audit.models import AuditEvent
from tracker.core.db import make_engine
from tracker.core.forms import parse
from tracker.deliverables.models import Decision, Deliverable, Submission
from tracker.deliverables.records import approved_for_payment
from tracker.projects import service as projects
from tracker.projects.models import Project
from tracker.reports import credits, levels, scorecard
from tracker.reports.models import FigureStatus, ServiceFigure, ServiceMeasure, StatusReport
from tracker.reports.periods import Period

PAGE = "/projects/TST/scorecard/reported"
API = "/api/v1/projects/TST/service-levels"


def _month(n: int = 1) -> str:
    """The month n months before the one TST's today is in, as YYYY-MM."""
    day = date(2026, 3, 11).replace(day=1)  # the pinned clock's month (tests/conftest.py)
    for _ in range(n):
        day = (day - timedelta(days=1)).replace(day=1)
    return f"{day:%Y-%m}"


def _measure(db, world, name="Uptime", target="99.5", higher=True):
    admin, access = acting(db, world, "admin")
    form = {"name": name, "unit": "%", "target": target, "higher_is_better": "true" if higher else "false"}
    return levels.add_measure(db, admin, access, parse(levels.MeasureForm, form))


def _figure(db, world, measure, month, value):
    form = {"measure_id": measure.id, "month": month, "value": value}
    return levels.report(db, *acting(db, world, "contractor"), parse(levels.FigureForm, form))


# --- periods, rolling 13 weeks, contract to date ---------------------------------------------------------------


def test_the_last_complete_period_is_the_week_before_the_one_today_is_in(db, world, clock):
    project = acting(db, world, "manager")[1].project
    clock.set(at(date(2026, 11, 20)))  # a Friday: its week is not over
    assert scorecard.last_complete(project) == Period(date(2026, 11, 7), date(2026, 11, 13))
    clock.set(at(date(2026, 11, 21)))  # the Saturday after: the week ending yesterday is complete
    assert scorecard.last_complete(project) == WEEK.__class__(date(2026, 11, 14), date(2026, 11, 20))


def test_the_page_opens_on_the_last_complete_week_and_the_chooser_still_works(as_user, db, world):
    viewer = as_user("viewer")
    project = acting(db, world, "manager")[1].project
    last = scorecard.last_complete(project)
    page = viewer.get("/projects/TST/scorecard").text
    assert f"Contractor scorecard: {last.label}" in page
    chosen = last.previous()
    assert (
        f"Contractor scorecard: {chosen.label}" in viewer.get(f"/projects/TST/scorecard?period_end={chosen.end}").text
    )
    bad = viewer.get("/projects/TST/scorecard?period_start=2026-03-01")
    assert bad.status_code == 422 and 'id="f-period_end-error"' in bad.text


def test_rolling_13_weeks_and_contract_to_date_count_every_event_of_their_span(db, world):
    project = _history(db, world)
    project.start_date = date(2026, 10, 1)  # the contract began before the history, whatever day the suite runs on
    db.commit()
    card = scorecard.card(db, project, WEEK)
    metric = {m.key: m for m in card.metrics}["on_time_submission_rate"]
    # Submissions with a due date: D-1 on time (12 Nov), D-2 late, D-3 v1 on its day (2 Nov), D-3 v2 on time.
    assert (metric.value, metric.count) == (0.5, 2)
    assert (metric.rolling.value, metric.rolling.count) == (0.75, 4)
    assert (metric.to_date.value, metric.to_date.count) == (0.75, 4) and metric.to_date.met is False
    assert card.rolling == Period(date(2026, 8, 22), WEEK.end) and len(card.periods) == 13
    first = {m.key: m for m in card.metrics}["first_pass_acceptance_rate"]
    assert (first.rolling.value, first.rolling.count) == (1 / 3, 3)  # D-1 accepted; D-3, D-4 rejected on v1
    # A week before anything happened: nothing this period, nothing to date either.
    empty = {m.key: m for m in scorecard.scorecard(db, project, Period(date(2026, 10, 3), date(2026, 10, 9)))}
    assert empty["on_time_submission_rate"].to_date.value is None
    # The contract's start bounds contract to date: starting after D-3's first version leaves three submissions.
    project.start_date = date(2026, 11, 5)
    later = {m.key: m for m in scorecard.scorecard(db, project, WEEK)}["on_time_submission_rate"]
    assert (later.to_date.value, later.to_date.count) == (2 / 3, 3)


# --- service credits -----------------------------------------------------------------------------------------


def test_the_amount_a_decision_approves_for_payment():
    pay, pct = Decimal("100000.00"), Decimal("12.5")
    assert approved_for_payment(pay, pct, "accepted", 0) == Decimal("100000.00")
    assert approved_for_payment(pay, pct, "deemed_accepted", 0) == Decimal("100000.00")
    assert approved_for_payment(pay, pct, "conditionally_accepted", 0) == Decimal("87500.00")
    assert approved_for_payment(pay, pct, "accepted", 7) == Decimal("12500.00")  # conditions met: the holdback
    assert approved_for_payment(pay, pct, "rejected", 0) == Decimal("0.00")
    assert approved_for_payment(None, pct, "accepted", 0) == Decimal("0.00")


def test_credits_are_a_percent_of_the_invoiced_amount_to_the_cent_and_capped():
    table = credits.CreditTable(
        [
            credits.Rule("review_turnaround_rate", "below", Decimal("90"), Decimal("2")),
            credits.Rule("submissions_per_accepted", "above", Decimal("1.5"), Decimal("1.25")),
            credits.Rule("reported-1", "below", Decimal("99.5"), Decimal("3")),
        ],
        None,
    )
    values = {
        "review_turnaround_rate": (Decimal("66.67"), ""),
        "submissions_per_accepted": (Decimal("1.5"), ""),  # at the threshold: not above it
        "reported-1": (None, "awaiting verification: no credit until verified"),
    }
    c = credits.compute(table, WEEK, Decimal("12345.67"), values, {})
    assert [x.applies for x in c.lines] == [True, False, False]
    assert c.lines[0].amount == Decimal("246.91")  # 246.9134 → 246.91
    assert c.total == Decimal("246.91") and not c.capped
    assert credits.credit_of(Decimal("0.50"), Decimal("5")) == Decimal("0.03")  # 0.025 rounds half up
    values["submissions_per_accepted"] = (Decimal("1.51"), "")
    capped = credits.compute(credits.CreditTable(table.rules, Decimal("3")), WEEK, Decimal("10000"), values, {})
    assert [x.amount for x in capped.lines] == [Decimal("200.00"), Decimal("125.00"), Decimal("0.00")]
    assert capped.total == Decimal("300.00") and capped.capped  # 325.00 capped at 3% of 10,000


def test_the_invoiced_amount_sums_the_periods_acceptances_in_one_query(db, world, count_queries):
    project = _history(db, world)
    d1, d3 = (db.exec(select(Deliverable).where(Deliverable.code == c)).one() for c in ("D-1", "D-3"))
    d1.payment_amount, d1.holdback_pct = Decimal("1000.00"), Decimal("10")
    d3.payment_amount, d3.holdback_pct = Decimal("2500.50"), None
    db.flush()
    earlier = WEEK.previous()
    with count_queries() as counted:
        amounts = credits.invoiced(db, project, [earlier, WEEK])
    assert counted.count == 1
    assert amounts == {earlier: Decimal("0.00"), WEEK: Decimal("3500.50")}  # D-1 and D-3 accepted; D-4 rejected
    # A conditional acceptance of D-2 pays the payment less its holdback.
    d2 = db.exec(select(Deliverable).where(Deliverable.code == "D-2")).one()
    d2.payment_amount, d2.holdback_pct = Decimal("333.33"), Decimal("15")
    sub = db.exec(select(Submission).where(Submission.deliverable_id == d2.id)).one()
    db.add(
        Decision(deliverable_id=d2.id, submission_id=sub.id, outcome="conditionally_accepted", decided_at=at(WEEK.end))
    )
    db.flush()
    assert credits.invoiced(db, project, [WEEK])[WEEK] == Decimal("3500.50") + Decimal("283.33")


def test_managers_edit_the_credit_table_with_errors_beside_the_field(as_user, db, world):
    admin = as_user("admin")
    form = admin.get("/projects/TST/report-targets").text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    bad = {"version": version, "credit-0-metric": "review_turnaround_rate", "credit-0-comparison": "below"}
    r = admin.post(
        "/projects/TST/report-targets/credits", bad | {"credit-0-threshold": "ninety", "credit-0-percent": "2"}
    )
    assert r.status_code == 422 and 'id="f-credit-0-threshold-error"' in r.text and 'value="ninety"' in r.text
    r = admin.post(
        "/projects/TST/report-targets/credits", bad | {"credit-0-threshold": "90", "credit-0-percent": "200"}
    )
    assert r.status_code == 422 and 'id="f-credit-0-percent-error"' in r.text
    good = bad | {"credit-0-threshold": "90", "credit-0-percent": "2", "cap": "10"}
    assert admin.post("/projects/TST/report-targets/credits", good).status_code == 303
    project = acting(db, world, "manager")[1].project
    db.refresh(project)
    assert project.service_credits == {
        "rules": [{"metric": "review_turnaround_rate", "comparison": "below", "threshold": "90", "percent": "2"}],
        "cap": "10",
    }
    stale = admin.post("/projects/TST/report-targets/credits", good | {"credit-0-percent": "3"})
    assert stale.status_code == 409 and "Someone else changed" in stale.text
    assert as_user("staff").post("/projects/TST/report-targets/credits", good).status_code == 403
    fresh = good | {"version": str(project.version), "credit-0-percent": "3"}
    assert as_user("manager").post("/projects/TST/report-targets/credits", fresh).status_code == 303


def test_credits_show_on_the_scorecard_in_the_status_report_and_its_exports(as_user, db, world, record):
    project = record.project
    d4 = db.get(Deliverable, record.ids["D-04"])  # accepted this week
    d4.payment_amount, d4.holdback_pct = Decimal("40000.00"), Decimal("10")
    project.service_credits = {
        "rules": [{"metric": "on_time_submission_rate", "comparison": "below", "threshold": "90", "percent": "2.5"}],
        "cap": None,
    }
    db.commit()
    q = f"period_end={record.week.end}"
    page = as_user("viewer").get(f"/projects/TST/scorecard?{q}").text
    assert "$40,000.00" in page and "$1,000.00" in page  # 2.5% of 40,000: on time 1 of 2 this week
    manager = as_user("manager")
    assert manager.post("/projects/TST/status-reports/publish", {"period_end": str(record.week.end), "number": "1"})
    report = db.exec(select(StatusReport).where(StatusReport.status == "published")).one()
    assert report.content["credits"]["invoiced"] == "40000.00" and report.content["credits"]["total"] == "1000.00"
    shown = manager.get(f"/projects/TST/status-reports/{report.id}").text
    assert "Service credits" in shown and "$1,000.00" in shown
    book = load_workbook(io.BytesIO(manager.get(f"/projects/TST/status-reports/{report.id}/report.xlsx").content))
    sheet = book["Service credits"]
    assert [c.value for c in sheet[2]][4] == 1000  # a typed number
    docx = manager.get(f"/projects/TST/status-reports/{report.id}/report.docx")
    assert docx.status_code == 200
    pdf = manager.get(f"/projects/TST/status-reports/{report.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # the portfolio carries the latest report's credits: on its page, in its API and in its workbook
    row = re.search(r'<tr>\s*<th scope="row"><a href="/projects/TST">.*?</tr>', manager.get("/portfolio").text, re.S)
    assert row and "$1,000.00" in row.group(0)
    (line,) = [x for x in manager.get("/api/v1/portfolio").json() if x["project_key"] == "TST"]
    assert Decimal(line["service_credits"]) == Decimal("1000.00")
    book = load_workbook(io.BytesIO(manager.get("/portfolio.xlsx").content))
    sheet = book["Portfolio"]
    header, *lines = [[c.value for c in r] for r in sheet.iter_rows() if r[0].value]
    by_key = {r[0]: r for r in lines}
    assert by_key["TST"][header.index("Service credits (latest report)")] == 1000


def test_the_scorecard_exports_typed_numbers_with_a_frozen_header_and_filters(as_user, record):
    r = as_user("viewer").get(f"/projects/TST/scorecard/scorecard.xlsx?period_end={record.week.end}")
    assert r.status_code == 200 and r.headers["content-disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(r.content))
    sheet = book["Scorecard"]
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref.startswith("A2:")
    header = [c.value for c in sheet[2]]
    assert header[:4] == ["Measure", "Target is", "Target", "This period: Value"]
    first = {row[0].value: row for row in sheet.iter_rows(min_row=3)}["First-pass acceptance rate (%)"]
    assert first[2].value == 70 and first[3].value == 50  # percent, as numbers
    assert set(book.sheetnames) >= {"Trend", "Credits per period", "Credit rules", "Reported by the contractor"}


def test_the_scorecard_page_costs_a_fixed_number_of_queries(as_user, db, world, record, count_queries):
    measure = _measure(db, world)
    for n in range(1, 4):
        _figure(db, world, measure, _month(n), "99.9")
    db.commit()
    viewer = as_user("viewer")
    viewer.get("/projects/TST/scorecard")  # warm
    with count_queries() as few:
        assert viewer.get(f"/projects/TST/scorecard?period_end={record.week.end}").status_code == 200
    for n in range(4, 7):
        _figure(db, world, _measure(db, world, f"Measure {n}"), _month(n), "1")
    db.commit()
    with count_queries() as more:
        viewer.get(f"/projects/TST/scorecard?period_end={record.week.end}")
    # the signed-in user, whether the menu offers the portfolio, the project, where the contract began, five of
    # events, measures, figures, invoiced amounts
    assert few.count == more.count == 13  # with the data version the figures are kept on


# --- reported service levels -----------------------------------------------------------------------------------


def test_the_contractor_enters_a_figure_and_bad_input_is_shown_beside_the_field(as_user, db, world):
    measure = _measure(db, world)
    db.commit()
    contractor = as_user("contractor")
    page = contractor.get(PAGE)
    assert page.status_code == 200 and "Report a month" in page.text and "Verify" not in page.text
    r = contractor.post(PAGE, {"measure_id": str(measure.id), "month": _month(), "value": "lots"})
    assert r.status_code == 422 and 'id="f-value-error"' in r.text and 'value="lots"' in r.text
    r = contractor.post(PAGE, {"measure_id": str(measure.id), "month": "2099-01", "value": "99"})
    assert r.status_code == 422 and 'id="f-month-error"' in r.text
    r = contractor.post(PAGE, {"measure_id": str(measure.id), "month": "March", "value": "99"})
    assert r.status_code == 422 and 'id="f-month-error"' in r.text
    assert contractor.post(PAGE, {"measure_id": str(measure.id), "month": _month(), "value": "99.2"}).status_code == 303
    again = contractor.post(PAGE, {"measure_id": str(measure.id), "month": _month(), "value": "99.3"})
    assert again.status_code == 422 and "already reported" in again.text
    figure = db.exec(select(ServiceFigure)).one()
    assert (figure.value, figure.status, figure.revision) == (Decimal("99.2"), FigureStatus.PENDING, 1)


def test_an_import_adds_every_row_or_lists_each_rows_error(as_user, db, world):
    _measure(db, world)
    _measure(db, world, "P1 response", "4", higher=False)
    db.commit()
    contractor = as_user("contractor")
    bad = f"Measure,Month,Value,Note\nUptime,{_month(1)},99.9,ok\nNope,{_month(1)},1,\nP1 response,{_month(2)},fast,\n"
    r = contractor.post(f"{PAGE}/import", files={"file": ("levels.csv", bad.encode())})
    assert r.status_code == 422 and "Row 3: No measure named" in r.text and "Row 4:" in r.text
    assert db.exec(select(ServiceFigure)).all() == []  # nothing imported
    r = contractor.post(f"{PAGE}/import", files={"file": ("levels.csv", b"Name,Colour\nx,y\n")})
    assert r.status_code == 422 and "no column for" in r.text
    good = f"Service level,Reporting month,Actual\nUptime,{_month(1)},99.9\nP1 response,{_month(2)},3.5\n"
    assert contractor.post(f"{PAGE}/import", files={"file": ("levels.csv", good.encode())}).status_code == 303
    assert len(db.exec(select(ServiceFigure)).all()) == 2


def test_the_state_disputes_the_contractor_corrects_and_the_state_verifies_on_the_record(as_user, db, world):
    measure = _measure(db, world)
    figure = _figure(db, world, measure, _month(), "99.1")
    db.commit()
    url = f"{PAGE}/{figure.id}"
    manager, contractor = as_user("manager"), as_user("contractor")
    assert manager.post(f"{url}/verdict", {"verdict": "dispute", "reason": "", "version": "1"}).status_code == 422
    assert (
        manager.post(f"{url}/verdict", {"verdict": "dispute", "reason": "Outage logs?", "version": "1"}).status_code
        == 303
    )
    stale = manager.post(f"{url}/verdict", {"verdict": "verify", "version": "1"})
    assert stale.status_code == 409 and "Someone else saved this record" in stale.text
    assert contractor.post(url, {"value": "99.6", "notes": "Logs attached", "version": "2"}).status_code == 303
    old = contractor.post(url, {"value": "99.7", "version": "2"})  # from a page read before the correction
    assert old.status_code == 409 and 'value="99.7"' in old.text
    assert manager.post(f"{url}/verdict", {"verdict": "verify", "version": "3"}).status_code == 303
    db.refresh(figure)
    assert (figure.status, figure.value, figure.revision) == ("verified", Decimal("99.6"), 2)
    settled = contractor.post(url, {"value": "99.9", "version": str(figure.version)})
    assert settled.status_code == 409
    history = as_user("viewer").get("/projects/TST/history").text
    assert "disputed reported figure" in history and "verified reported figure" in history
    assert "corrected reported figure" in history
    assert as_user("staff").post(f"{url}/verdict", {"verdict": "verify", "version": "4"}).status_code == 403


def test_reported_measures_feed_the_scorecard_with_their_status_and_verified_ones_earn_credits(as_user, db, world):
    measure = _measure(db, world)
    month = date.fromisoformat(_month() + "-01")
    figure = _figure(db, world, measure, _month(), "98.0")
    project = acting(db, world, "manager")[1].project
    project.service_credits = {
        "rules": [{"metric": f"reported-{measure.id}", "comparison": "below", "threshold": "99.5", "percent": "1"}]
    }
    db.commit()
    end = levels.month_end(month)
    period = f"period_start={end - timedelta(days=6)}&period_end={end}"
    viewer = as_user("viewer")
    page = viewer.get(f"/projects/TST/scorecard?{period}").text
    assert "Reported by the contractor" in page and "Awaiting verification" in page
    assert "no credit until verified" in page
    manager, m_access = acting(db, world, "manager")
    levels.decide(db, manager, m_access, figure, parse(levels.VerdictForm, {"verdict": "verify"}), figure.version)
    db.commit()
    page = viewer.get(f"/projects/TST/scorecard?{period}").text
    assert "Verified" in page and "no credit until verified" not in page
    card = viewer.api("GET", f"/api/v1/projects/TST/scorecard?{period}").json()
    assert card["credits"]["lines"][0]["applies"] is True and card["metrics"][0]["rolling"]["count"] >= 0


def test_the_api_reports_corrects_and_decides_with_409_and_422(as_user, db, world):
    measure = _measure(db, world)
    db.commit()
    contractor, manager = as_user("contractor"), as_user("manager")
    r = contractor.api("POST", f"{API}/figures", json={"measure_id": measure.id, "month": "soon", "value": 1})
    assert r.status_code in (400, 422) and "month" in r.text
    r = contractor.api("POST", f"{API}/figures", json={"measure_id": measure.id, "month": _month(), "value": 99.2})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    figure = r.json()
    r = manager.api("POST", f"{API}/figures/{figure['id']}/verdict", json={"verdict": "dispute", "version": 1})
    assert r.status_code in (400, 422)  # a dispute says why
    r = manager.api(
        "POST", f"{API}/figures/{figure['id']}/verdict", json={"verdict": "dispute", "reason": "Why?", "version": 1}
    )
    assert r.status_code == 201 and r.json()["status"] == "disputed"
    r = contractor.api("PATCH", f"{API}/figures/{figure['id']}", json={"value": 99.6, "version": 1})
    assert r.status_code == 409
    r = contractor.api("PATCH", f"{API}/figures/{figure['id']}", json={"value": 99.6, "version": 2})
    assert r.status_code == 200 and r.json()["revision"] == 2 and r.json()["status"] == "pending"
    listing = as_user("viewer").api("GET", API).json()
    assert listing["measures"][0]["name"] == "Uptime" and listing["figures"][0]["value"] in ("99.6", "99.6000", 99.6)
    assert manager.api("PATCH", f"{API}/figures/{figure['id']}", json={"value": 1, "version": 3}).status_code == 403


# --- changing and removing a measure --------------------------------------------------------------------------


def _credit(db, world, measure, comparison="below", threshold="99.5"):
    """A service-credit rule naming the measure."""
    project = acting(db, world, "manager")[1].project
    rule = {"metric": f"{credits.REPORTED}{measure.id}", "comparison": comparison, "threshold": threshold}
    project.service_credits = {"rules": [rule | {"percent": "2"}]}
    db.add(project)


def _text(html: str) -> str:
    """A page as its reader sees it: the text without tags (list items apart), spaces collapsed."""
    text = re.sub(r"<[^>]+>", "", re.sub(r"</?(li|ul|ol)\b[^>]*>", " ", html))
    return re.sub(r"\s+", " ", text).replace("&#39;", "'").replace("&amp;", "&")


MEASURE = {"name": "System uptime", "unit": "%", "target": "99", "higher_is_better": "true"}


def test_a_manager_edits_a_measure_and_every_month_is_judged_against_the_new_target(as_user, db, world, count_queries):
    measure = _measure(db, world)
    _figure(db, world, measure, _month(2), "99.2")
    db.commit()
    manager = as_user("manager")
    url = f"{PAGE}/measures/{measure.id}"
    listing = manager.get(PAGE).text
    assert f'href="{url}"' in listing and "Missed" in listing and "Met<" not in listing
    page = manager.get(url)
    assert page.status_code == 200 and 'value="99.5"' in page.text and 'name="version" value="1"' in page.text
    assert "applies to every month" in page.text and "1 figure is on the record" in page.text
    assert "Remove this measure" not in page.text  # figures rest on it
    with count_queries() as first:
        manager.get(url)
    r = manager.post(url, MEASURE | {"version": "1"})
    assert r.status_code == 303 and r.headers["location"] == PAGE
    db.refresh(measure)
    assert (measure.name, measure.target, measure.higher_is_better, measure.version) == (
        "System uptime",
        Decimal("99"),
        True,
        2,
    )
    listing = manager.get(PAGE).text
    assert "at least 99<" in listing and "Met<" in listing and "Missed" not in listing  # the month judged again
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "edit_measure")).one()
    assert event.changes == {"name": ["Uptime", "System uptime"], "target": ["99.5", "99"]}
    assert manager.post(url, MEASURE | {"unit": "percent", "version": "2"}).status_code == 303
    with count_queries() as later:
        page = manager.get(url)
    assert first.count == later.count  # however long its history
    text = _text(page.text)
    assert "changed reported measure System uptime" in text and "Target: 99.5 → 99" in text
    assert "added reported measure Uptime" in text and "Unit: % → percent" in text
    history = _text(as_user("viewer").get("/projects/TST/history").text)
    assert "changed reported measure System uptime" in history
    same = manager.post(url, MEASURE | {"unit": "percent", "version": "3"})  # nothing changed: nothing recorded
    assert (
        same.status_code == 303
        and len(db.exec(select(AuditEvent).where(AuditEvent.action == "edit_measure")).all()) == 2
    )


def test_a_measure_edit_is_refused_beside_the_field_and_a_stale_one_shows_what_changed(as_user, db, world):
    measure = _measure(db, world)
    _measure(db, world, "P1 response", "4", higher=False)
    db.commit()
    manager = as_user("manager")
    url = f"{PAGE}/measures/{measure.id}"
    r = manager.post(url, MEASURE | {"name": "p1 RESPONSE", "version": "1"})
    assert r.status_code == 422 and 'id="f-name-error"' in r.text and "already has a measure of that name" in r.text
    assert 'value="p1 RESPONSE"' in r.text
    r = manager.post(url, MEASURE | {"target": "lots", "version": "1"})
    assert r.status_code == 422 and 'id="f-target-error"' in r.text and 'value="lots"' in r.text
    r = manager.post(url, MEASURE | {"target": "", "version": "1"})
    assert r.status_code == 422 and 'id="f-target-error"' in r.text
    assert manager.post(url, MEASURE | {"name": "Uptime", "version": "1"}).status_code == 303  # its own name
    stale = manager.post(url, MEASURE | {"name": "Uptime", "target": "98", "version": "1"})  # read before that save
    assert stale.status_code == 409 and "Someone else saved this record" in stale.text
    assert "Target: now <q>99</q>" in stale.text and 'value="98"' in stale.text
    assert 'name="version" value="2"' in stale.text  # saving again is a deliberate overwrite
    assert manager.post(url, MEASURE | {"name": "Uptime", "target": "98", "version": "2"}).status_code == 303
    db.refresh(measure)
    assert measure.target == Decimal("98")


def test_only_the_projects_managers_change_or_remove_a_measure_and_only_their_projects(as_user, db, world):
    measure = _measure(db, world)
    admin = acting(db, world, "admin")[0]
    theirs = levels.add_measure(db, admin, projects.get_for(db, admin, "OTH"), parse(levels.MeasureForm, MEASURE))
    db.commit()
    url = f"{PAGE}/measures/{measure.id}"
    for role in ("staff", "contractor", "viewer"):
        b = as_user(role)
        assert f'href="{url}"' not in b.get(PAGE).text
        assert b.get(url).status_code == 403
        assert b.post(url, MEASURE | {"version": "1"}).status_code == 403
        assert b.post(f"{url}/delete", {"version": "1"}).status_code == 403
        assert b.api("PATCH", f"{API}/measures/{measure.id}", json={"target": 1, "version": 1}).status_code == 403
        assert b.api("DELETE", f"{API}/measures/{measure.id}?version=1").status_code == 403
    b = as_user("outsider")  # manages OTH, not TST
    assert b.get(url).status_code == 404 and b.post(f"{url}/delete", {"version": "1"}).status_code == 404
    manager = as_user("manager")
    elsewhere = f"{PAGE}/measures/{theirs.id}"
    assert manager.get(elsewhere).status_code == 404
    assert manager.post(elsewhere, MEASURE | {"version": "1"}).status_code == 404
    assert manager.post(f"{elsewhere}/delete", {"version": "1"}).status_code == 404
    assert manager.api("PATCH", f"{API}/measures/{theirs.id}", json={"target": 1, "version": 1}).status_code == 404
    assert manager.api("DELETE", f"{API}/measures/{theirs.id}?version=1").status_code == 404
    db.expire_all()
    assert (db.get(ServiceMeasure, measure.id).version, db.get(ServiceMeasure, theirs.id).version) == (1, 1)


def test_a_measure_is_removed_only_when_no_figure_and_no_credit_rule_rests_on_it(as_user, db, world):
    spare = _measure(db, world, "Spare")
    reported = _measure(db, world)
    for n in (1, 2):
        _figure(db, world, reported, _month(n), "99.9")
    credited = _measure(db, world, "P1 response", "4", higher=False)
    _credit(db, world, credited, "above", "4")
    db.commit()
    spare_url = f"{PAGE}/measures/{spare.id}"
    manager = as_user("manager")
    r = manager.post(f"{PAGE}/measures/{reported.id}/delete", {"version": "1"})
    assert r.status_code == 409 and "Uptime cannot be removed: 2 figures are on the record" in r.text
    r = manager.post(f"{PAGE}/measures/{credited.id}/delete", {"version": "1"})
    assert r.status_code == 409 and "The service credits name it" in r.text
    assert "P1 response (reported by the contractor) above 4 → 2% of the invoiced amount" in r.text
    assert "Remove this measure" not in r.text and 'id="f-target"' in r.text  # still its page, with its form
    assert r.text.count('href="/projects/TST/report-targets#credits"') == 2  # where the rule is taken out
    assert "Remove this measure" in manager.get(spare_url).text
    stale = manager.post(f"{spare_url}/delete", {"version": "7"})
    assert stale.status_code == 409 and "changed after you loaded it, so it was not removed" in stale.text
    r = manager.post(f"{spare_url}/delete", {"version": "1"}, follow_redirects=True)
    assert r.status_code == 200 and "Measure removed: Spare." in r.text
    db.expire_all()
    assert {m.name for m in db.exec(select(ServiceMeasure))} == {"Uptime", "P1 response"}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "remove_measure")).one()
    assert event.entity_label == "Spare" and event.changes["target"] == ["99.5", None]
    history = _text(as_user("viewer").get("/projects/TST/history").text)
    assert "removed reported measure Spare" in history
    assert manager.get(spare_url).status_code == 404


def test_the_api_changes_and_removes_a_measure_with_409_422_and_404(as_user, db, world):
    measure = _measure(db, world)
    _figure(db, world, measure, _month(), "99.1")
    credited = _measure(db, world, "P1 response", "4", higher=False)
    _credit(db, world, credited, "above", "4")
    spare = _measure(db, world, "Spare")
    db.commit()
    manager = as_user("manager")
    r = manager.api("PATCH", f"{API}/measures/{measure.id}", json={"target": 99, "version": 1})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], Decimal(str(r.json()["target"])), r.json()["version"]) == ("Uptime", Decimal("99"), 2)
    r = manager.api("PATCH", f"{API}/measures/{measure.id}", json={"unit": "hours", "version": 1})
    assert r.status_code == 409 and r.json()["extra"]["current"]["target"] == "99"
    r = manager.api("PATCH", f"{API}/measures/{measure.id}", json={"name": "p1 response", "version": 2})
    assert r.status_code == 422 and "already has a measure" in r.json()["extra"]["name"]
    r = manager.api("PATCH", f"{API}/measures/{measure.id}", json={"target": 1e12, "version": 2})
    assert r.status_code == 422 and "target" in r.json()["extra"]
    r = manager.api("PATCH", f"{API}/measures/{measure.id}", json={"name": "", "version": 2})
    assert r.status_code in (400, 422) and r.json()["status_code"] == r.status_code
    r = manager.api("PATCH", f"{API}/measures/{measure.id}", json={"higher_is_better": False, "version": 2})
    assert r.status_code == 200 and r.json()["higher_is_better"] is False and r.json()["target"] in ("99", 99)
    assert manager.api("PATCH", f"{API}/measures/999999", json={"target": 1, "version": 1}).status_code == 404
    r = manager.api("DELETE", f"{API}/measures/{measure.id}?version=3")
    assert r.status_code == 409 and "1 figure is on the record" in r.json()["detail"]
    r = manager.api("DELETE", f"{API}/measures/{credited.id}?version=1")
    assert r.status_code == 409 and "P1 response (reported by the contractor) above 4" in r.json()["detail"]
    assert manager.api("DELETE", f"{API}/measures/{spare.id}?version=2").status_code == 409  # stale
    assert manager.api("DELETE", f"{API}/measures/{spare.id}").status_code == 400  # a delete names its version
    assert manager.api("DELETE", f"{API}/measures/{spare.id}?version=1").status_code == 204
    assert manager.api("DELETE", f"{API}/measures/{spare.id}?version=1").status_code == 404
    names = [m["name"] for m in as_user("viewer").api("GET", API).json()["measures"]]
    assert names == ["P1 response", "Uptime"]


def test_the_demo_has_a_credit_table_and_months_of_reported_figures_per_project(demo_template):
    engine = make_engine(demo_template.url)
    try:
        with Session(engine) as db:
            for project in db.exec(select(Project)).all():
                assert len(project.service_credits["rules"]) >= 3, project.key
                statuses = dict(
                    db.exec(
                        select(ServiceFigure.status, func.count())
                        .where(ServiceFigure.project_id == project.id)
                        .group_by(ServiceFigure.status)
                    ).all()
                )
                assert statuses["verified"] >= 6 and statuses["disputed"] == 1 and statuses["pending"] == 1, statuses
                months = db.exec(
                    select(func.count(func.distinct(ServiceFigure.month))).where(ServiceFigure.project_id == project.id)
                ).one()
                assert 3 <= months <= 6
    finally:
        engine.dispose()
