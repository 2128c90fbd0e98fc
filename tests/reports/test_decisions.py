"""The status report lists the period's decisions, whichever record keeps them (the decision log, deliverables,
change requests, issues), read through the merged decision log; its page, PDF and DOCX show them."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

from pypdf import PdfReader

from tests.register.conftest import acting, make_issue
from tracker.core.forms import parse
from tracker.register.changes import service as changes
from tracker.register.decisions import service as decisions
from tracker.register.issues import service as issues
from tracker.register.risks import scoring
from tracker.reports import documents
from tracker.reports import service as reports


def _decisions(db, world, record):
    """A decision of each kind the register keeps, in the period, and one logged before it."""
    staff, access = acting(db, world, "staff")
    form = {"title": "Two go-live waves", "decided_by": "Steering committee", "decided_on": str(record.week.start)}
    decisions.create(db, staff, access, parse(decisions.DecisionForm, form))
    before = {
        "title": "Keep the old portal",
        "decided_by": "Sponsor",
        "decided_on": str(record.week.start - timedelta(1)),
    }
    decisions.create(db, staff, access, parse(decisions.DecisionForm, before))
    issue = make_issue(db, world, code="I-090", title="Environment down")
    issues.add_decision(
        db, staff, access, issue, parse(issues.DecisionForm, {"decision": "Rent a cloud test bed", "decided_by": "PMO"})
    )
    change = changes.create(db, staff, access, parse(changes.ChangeForm, {"code": "CR-090", "title": "Extra wave"}))
    change.status, change.rationale, change.decided_on = "approved", "Within contingency", record.today
    change.decided_by_id = world.ids["manager"]
    db.commit()


def test_the_report_lists_the_periods_decisions_from_every_source(db, world, record):
    _decisions(db, world, record)
    c = reports.build(db, record.project, record.week, reports.draft_for(db, record.project, record.week))
    taken = {(x["source"], x["code"], x["outcome"]) for x in c["decisions_taken"]}
    assert ("decision", "D-001", "Two go-live waves") in taken
    assert ("issue", "I-090", "Rent a cloud test bed") in taken
    assert ("change", "CR-090", "Approved") in taken
    assert ("deliverable", "D-04", "Accepted (version 1)") in taken  # decided in the record's period
    assert ("deliverable", "D-05", "Rejected (version 1)") in taken
    assert not any(x["outcome"] == "Keep the old portal" for x in c["decisions_taken"])  # the week before
    days = [x["day"] for x in c["decisions_taken"]]
    assert days == sorted(days, reverse=True)


def test_the_draft_page_pdf_and_docx_show_the_decisions(as_user, db, world, record):
    _decisions(db, world, record)
    manager = as_user("manager")
    page = manager.get("/projects/TST/status-reports/draft").text
    assert "Decisions taken in the period" in page and "Rent a cloud test bed" in page
    assert 'href="/projects/TST/issues/' in page
    m, access = acting(db, world, "manager")
    published = reports.publish(db, m, access, record.week, 1, None)
    db.commit()
    location = f"/projects/TST/status-reports/{published.id}"
    docx = manager.get(f"{location}/report.docx")
    xml = zipfile.ZipFile(io.BytesIO(docx.content)).read("word/document.xml").decode()
    assert "Decisions taken in the period" in xml and "Two go-live waves" in xml and "Steering committee" in xml
    pdf = manager.get(f"{location}/report.pdf")
    words = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Decisions taken in the period" in words and "Rent a cloud test bed" in words
    csv = manager.get(f"{location}/tables/decisions.csv").content.decode("utf-8-sig")
    assert "CR-090" in csv and "Within" not in csv.split("\n")[0]


def test_a_report_published_before_the_decision_log_still_renders(db, record):
    content = reports.build(db, record.project, record.week, reports.draft_for(db, record.project, record.week))
    older = {k: v for k, v in content.items() if k != "decisions_taken"}  # a snapshot kept before the log
    assert documents.BY_NAME["decisions"].rows(older) == []
    assert documents.to_docx(older, "Version 1").startswith(b"PK")
    html = documents.render_print(older, scoring=scoring)
    assert "Top risks" in html and "Decisions taken in the period" not in html
