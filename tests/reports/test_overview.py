"""A project's overview: the dashboard's parts read the status report's own figures, each links to its list already
filtered, what a reader may not see is not there, and its cost does not grow with the record."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.register.conftest import acting, make_risk
from tests.reports.conftest import plan
from tracker.reports import service as reports


def _section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


def test_the_overview_shows_the_reports_figures_each_linked_to_its_filtered_list(as_user, record, db, world):
    manager, access = acting(db, world, "manager")
    reports.publish(db, manager, access, record.week.previous(), 1, None)
    db.commit()
    page = as_user("manager").get("/projects/TST")
    assert page.status_code == 200
    html = page.text

    rag = _section(html, "dash-rag-h")
    assert "Published" in rag and record.week.previous().label in rag and "Draft" in rag
    published, draft = re.search(r'<th scope="row">Overall</th>\s*<td>(.*?)</td><td>(.*?)</td>', rag).groups()
    assert 'class="rag rag-' in published and 'class="rag rag-red"' in draft and "Red" in draft  # the live figures

    pipeline = _section(html, "dash-pipe-h")
    assert 'href="/projects/TST/deliverables?status=accepted">Accepted: 1</a>' in pipeline
    assert 'href="/projects/TST/deliverables?status=planned">Planned: 2</a>' in pipeline

    due = _section(html, "dash-due-h")
    rows = re.findall(
        r"<tr[^>]*>\s*<td class=\"when\">(.*?)</td>\s*<td>(.*?)</td>\s*<td><a href=\"([^\"]+)\"", due, re.S
    )
    whats = [(re.sub(r"<[^>]+>", "", when).strip(), what) for when, what, _ in rows]
    assert whats[0][1] == "Delivery overdue" and whats[0][0].endswith("days late")  # D-01, the latest first
    assert ("Review overdue" in [w for _, w in whats]) and any(w.endswith("due") for _, w in whats)
    assert f"/projects/TST/deliverables/{record.ids['D-02']}" in [href for *_, href in rows]  # due within two weeks
    assert f"/projects/TST/deliverables/{record.ids['D-06']}" not in due  # withdrawn: no deadline
    assert 'href="/projects/TST/deliverables?overdue=1"' in due

    risks = _section(html, "dash-risks-h")
    codes = re.findall(r'class="mono">(R-\d+)</a>', risks)
    assert codes[:2] == ["R-001", "R-002"] and len(codes) <= 5 and "R-005" not in codes  # closed: not open
    assert 'href="/projects/TST/risks?sort=-score"' in risks
    assert "New" in risks or "Unchanged" in risks or "Up from" in risks  # a trend against the published report

    escalated = _section(html, "dash-esc-h")
    assert "I-003" in escalated and "Escalated to executive" in escalated and "I-002" in escalated
    assert 'href="/projects/TST/issues?status=escalated"' in escalated

    heat = _section(html, "dash-heat-h")
    assert "<svg" in heat and 'href="/projects/TST/risks"' in heat

    money = _section(html, "dash-hold-h")
    assert "Contract value" in money and "Holdback withheld" in money and 'href="/projects/TST/holdback"' in money

    score = _section(html, "dash-slo-h")
    assert "service levels met" in score or "Nothing measured" in score
    assert 'href="/projects/TST/scorecard"' in score
    assert "Recent history" in html and "Members" in html  # the project's own parts stay below


def test_the_contractor_sees_deliverables_money_and_deadlines_but_nothing_of_the_register(as_user, record):
    html = as_user("contractor").get("/projects/TST").text
    assert "dash-pipe-h" in html and "dash-due-h" in html and "dash-hold-h" in html
    for hidden in ("dash-rag-h", "dash-heat-h", "dash-risks-h", "dash-esc-h", "dash-slo-h", "R-001", "I-003"):
        assert hidden not in html
    assert "/risks" not in html and "/issues" not in html


def test_a_viewer_reads_the_dashboard_and_a_stranger_gets_404(as_user, record):
    assert "dash-risks-h" in as_user("viewer").get("/projects/TST").text
    assert as_user("viewer").get("/projects/OTH").status_code == 404


def test_the_overview_costs_the_same_whatever_the_size_of_the_record(as_user, record, db, world, count_queries):
    manager = as_user("manager")
    manager.get("/projects/TST")
    with count_queries() as few:
        assert manager.get("/projects/TST").status_code == 200
    for n in range(8):
        make_risk(db, world, code=f"R-1{n:02}", title=f"More {n}", probability="4", impact="4")
        plan(db, world, f"D-2{n}", record.today + timedelta(days=n + 1))
    db.commit()
    with count_queries() as many:
        page = manager.get("/projects/TST")
    assert many.count == few.count
    assert len(re.findall(r'class="mono">(R-\d+)</a>', _section(page.text, "dash-risks-h"))) == 5
