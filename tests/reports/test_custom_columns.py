"""The status report's risk and issue tables carry the register's custom fields that its lists show as columns, each
value as it stood at the report's moment (read back from the record's trail), on the page and in the spreadsheet."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from tests.register.conftest import make_issue, make_risk
from tests.register.test_custom_fields import define, set_values
from tracker.core.clock import frozen_time, utcnow
from tracker.reports import documents
from tracker.reports import service as reports
from tracker.reports.periods import Period


def _content(db, record, week: Period) -> dict:
    return reports.build(db, record.project, week, reports.draft_for(db, record.project, week))


def test_risk_and_issue_tables_carry_custom_columns_as_the_values_stood(as_user, db, world, record, count_queries):
    funding = define(db, world, choices=["Federal", "State"])
    areas = define(db, world, label="Areas", type="choices", choices=["Finance", "HR", "IT"])
    define(db, world, label="Ticket ref", type="text", in_list=False)  # a filter only: not a column
    hours = define(db, world, kind="issues", label="Vendor SLA hours", type="number")
    with frozen_time(utcnow() - timedelta(days=8)):  # last week
        risk = make_risk(db, world, code="R-090", title="Grant lapses", probability="5", impact="5")
        set_values(db, world, risk, {funding.id: "State", areas.id: ["IT", "Finance"]})
    issue = make_issue(db, world, code="I-090", title="Vendor slow")
    set_values(db, world, issue, {hours.id: "4.5"}, kind="issues")
    set_values(db, world, risk, {funding.id: "Federal"})  # this week
    db.commit()

    now = _content(db, record, record.week)
    assert now["custom"]["risks"] == [
        {"label": "Funding source", "type": "choice"},
        {"label": "Areas", "type": "choices"},
    ]
    top = next(x for x in now["top_risks"] if x["code"] == "R-090")
    assert top["custom"] == {"Funding source": "Federal", "Areas": "Finance, IT"}
    new_issue = next(x for x in now["new_issues"] if x["code"] == "I-090")
    assert new_issue["custom"] == {"Vendor SLA hours": "4.5"}

    last_week = Period(record.week.start - timedelta(days=7), record.week.end - timedelta(days=7))
    then = _content(db, record, last_week)
    assert next(x for x in then["top_risks"] if x["code"] == "R-090")["custom"]["Funding source"] == "State"

    book = load_workbook(io.BytesIO(documents.to_xlsx(now)))
    top_sheet = next(ws for ws in book.worksheets if ws.title.startswith("Top risks"))
    rows = list(top_sheet.iter_rows(values_only=True))
    head = next(r for r in rows if r and r[0] == "Code")
    row = next(r for r in rows if r and r[0] == "R-090")
    assert dict(zip(head, row, strict=True))["Funding source"] == "Federal"
    new_sheet = next(ws for ws in book.worksheets if ws.title.startswith("New issues"))
    rows = list(new_sheet.iter_rows(values_only=True))
    head, row = next(r for r in rows if r and r[0] == "Code"), next(r for r in rows if r and r[0] == "I-090")
    hours_cell = dict(zip(head, row, strict=True))["Vendor SLA hours"]
    assert isinstance(hours_cell, (int, float)) and hours_cell == 4.5  # a number, not text

    page = as_user("manager").get("/projects/TST/status-reports/draft").text
    top_table = page[page.index('id="risks-h"') :]
    assert '<th scope="col">Funding source</th>' in top_table and "Finance, IT" in top_table
    assert "Ticket ref" not in top_table

    db.commit()  # both counts in a fresh transaction (each reads the data versions once)
    with count_queries() as few:
        _content(db, record, record.week)
    for n in range(30):
        more = make_risk(db, world, code=f"R-1{n:02d}", title="More", probability="4", impact="4")
        set_values(db, world, more, {funding.id: "State", areas.id: ["HR"]})
        set_values(db, world, make_issue(db, world, code=f"I-1{n:02d}", title="More"), {hours.id: "2"}, kind="issues")
    db.commit()
    with count_queries() as many:
        _content(db, record, record.week)
    assert many.count == few.count  # the values of every record in one query per register
