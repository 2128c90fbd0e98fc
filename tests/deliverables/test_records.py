"""Decision records: each outcome's letters and sign-off as PDF and DOCX, stored once with their sha256,
readable back, escaped on the page, and shown only to those who may see the deliverable."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import docx
import pytest
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from tests.conftest import tst_today
from tests.deliverables.test_service import _as, _plan
from tracker.audit.models import AuditEvent
from tracker.core.db import commit
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.deliverables import decisions, planning, records, reviews, service, submissions
from tracker.deliverables.decisions import DecisionForm
from tracker.deliverables.models import Decision, GeneratedRecord
from tracker.deliverables.reviews import CommentForm
from tracker.deliverables.submissions import Upload
from tracker.deliverables.workflow import Action

HOSTILE = "<script>alert(1)</script> =cmd|' /C calc'!A0"


@pytest.fixture
def store(app, uploads):
    """The app's own file store, so pages serve what the service stored."""
    return FileStore.from_settings(app.state.settings)


def _in_review(db, world, store, n_criteria=3, n_comments=3):
    d = _plan(
        db,
        world,
        criteria="\n".join(
            ["Covers every interface", "Traceable to requirements", "Reviewed by security"][:n_criteria]
            + [f"Extra criterion {i}" for i in range(3, n_criteria)]
        ),
    )
    contractor, c_access = _as(db, world, "contractor")
    submissions.submit(db, contractor, c_access, d, "", [Upload("v1.pdf", "application/pdf", b"v1")], store)
    staff, access = _as(db, world, "staff")
    reviews.start_review(db, staff, access, d)
    for i in range(n_comments):
        severity = ("critical", "major", "minor")[i % 3]
        c = reviews.add_comment(
            db,
            staff,
            access,
            d,
            parse(CommentForm, {"location": f"§{i + 1}", "text": f"Comment number {i + 1}", "severity": severity}),
        )
        if severity == "critical":
            reviews.set_disposition(db, staff, access, c.id, "resolved")
        elif severity == "minor":
            reviews.set_disposition(db, staff, access, c.id, "deferred")
    outcomes = ["met", "not_met", "not_applicable"]
    for i, c in enumerate(planning.active_criteria(db, d.id)):
        reviews.record_result(db, staff, access, d, c.id, outcomes[i % 3], f"Evidence {i + 1}")
    return d


def _decide(db, world, store, d, **values) -> Decision:
    manager, access = _as(db, world, "manager")
    decision = decisions.decide(db, manager, access, d, parse(DecisionForm, values), store=store)
    commit(db)  # the records are rendered after the decision commits
    return decision


def _deem(db, d, store) -> Decision:
    """What the deemed-acceptance clock records: no one decided."""
    service.transition(db, None, None, d, Action.DEEM_ACCEPT)
    decision = Decision(
        deliverable_id=d.id,
        submission_id=service.current_submission(db, d).id,
        outcome="deemed_accepted",
        decided_by_id=None,
    )
    db.add(decision)
    db.flush()
    records.generate_after_commit(db, decision, store)
    commit(db)
    return decision


def _stored(db, decision) -> dict[tuple[str, str], GeneratedRecord]:
    return {(r.kind, r.format): r for r in records.records_of(db, decision.id)}


def _pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def _docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    parts += [p.text for p in document.sections[0].header.paragraphs]
    return " ".join(" ".join(parts).split())


def _read(store, record) -> bytes:
    return store.path_for(record.sha256).read_bytes()


FUTURE = (tst_today() + timedelta(days=30)).isoformat()


@pytest.mark.parametrize(
    ("outcome", "values", "letter"),
    [
        ("accepted", {}, "acceptance_letter"),
        ("rejected", {"findings": "Section 3 is incomplete"}, "rejection_letter"),
        ("conditionally_accepted", {"conditions": "Fix the index", "conditions_due": FUTURE}, "conditional_notice"),
    ],
)
def test_each_decision_produces_its_letter_and_a_signoff_in_pdf_and_docx(db, world, store, outcome, values, letter):
    d = _in_review(db, world, store, n_comments=0)
    if outcome == "accepted":
        staff, access = _as(db, world, "staff")
        for c in planning.active_criteria(db, d.id):
            reviews.record_result(db, staff, access, d, c.id, "met")
    decision = _decide(db, world, store, d, outcome=outcome, **values)
    stored = _stored(db, decision)
    assert sorted(stored) == sorted((k, f) for k in (letter, "signoff") for f in ("pdf", "docx"))
    for (kind, fmt), r in stored.items():
        data = _read(store, r)
        assert hashlib.sha256(data).hexdigest() == r.sha256 and len(data) == r.size
        assert r.filename == f"TST-D-07-v1-decision-{decision.id}-{kind.replace('_', '-')}.{fmt}"
        assert data.startswith(b"%PDF" if fmt == "pdf" else b"PK")
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "generate_records")).one()
    assert event.actor_id == world.ids["manager"]
    assert sorted(event.changes) == sorted(r.filename for r in stored.values())


def test_deemed_acceptance_and_conditions_met_produce_acceptance_letters(db, world, store, count_queries):
    deemed = _deem(db, _in_review(db, world, store), store)
    assert sorted(k for k, f in _stored(db, deemed) if f == "pdf") == ["acceptance_letter", "signoff"]
    letter = _pdf_text(_read(store, _stored(db, deemed)["acceptance_letter", "pdf"]))
    assert "deemed accepted under the contract's deemed-acceptance terms" in letter
    assert "Manager Person" not in letter

    d = _plan(db, world, code="D-08")
    contractor, c_access = _as(db, world, "contractor")
    submissions.submit(db, contractor, c_access, d, "", [Upload("v1.pdf", "", b"v1")], store)
    staff, s_access = _as(db, world, "staff")
    reviews.start_review(db, staff, s_access, d)
    _decide(db, world, store, d, outcome="conditionally_accepted", conditions="Fix typos", conditions_due=FUTURE)
    manager, access = _as(db, world, "manager")
    closing = decisions.conditions_met(db, manager, access, d, "Typos fixed in v1.1", store=store)
    commit(db)
    stored = _stored(db, closing)
    assert sorted(stored) == [
        ("acceptance_letter", "docx"),
        ("acceptance_letter", "pdf"),
        ("signoff", "docx"),
        ("signoff", "pdf"),
    ]
    text = _pdf_text(_read(store, stored["acceptance_letter", "pdf"]))
    assert "Accepted: conditions met" in text and "Typos fixed in v1.1" in text
    assert "$12,500.00, the holdback" in text  # the holdback released now that the conditions are met

    deliverable_id = d.id
    db.expire_all()
    with count_queries() as q:  # what the deliverable page lists, both decisions, in one query
        groups = records.for_deliverable(db, deliverable_id)
        kinds = [(g.decision.outcome, [k for k, _, _ in g.kinds]) for g in groups]
    assert q.count == 1
    assert kinds == [
        ("accepted", ["acceptance_letter", "signoff"]),
        ("conditionally_accepted", ["conditional_notice", "signoff"]),
    ]


def test_the_pdf_and_docx_carry_the_whole_decision(db, world, store):
    d = _in_review(db, world, store)
    decision = _decide(db, world, store, d, outcome="rejected", findings="Interface 7 is missing.\nNo trace matrix.")
    stored = _stored(db, decision)
    for fmt, read in (("pdf", _pdf_text), ("docx", _docx_text)):
        for kind in ("rejection_letter", "signoff"):
            text = read(_read(store, stored[kind, fmt]))
            for expected in (
                "Test Programme",
                "Acme Integrators",
                "D-07",
                "System Design Document",
                "version 1",
                "Covers every interface",
                "Met",
                "Traceable to requirements",
                "Not met",
                "Reviewed by security",
                "Not applicable",
                "Evidence 2",
                "Rejected",
                "Manager Person",
                "Interface 7 is missing.",
                "No trace matrix.",
                "Comment number 2",
                "$125,000.00",
            ):
                assert expected in text, (fmt, kind, expected)
        summary = read(_read(store, stored["rejection_letter", fmt]))
        # severity × disposition: critical resolved, major open, minor deferred, one each
        assert "Critical 0 1 0 0 1" in summary and "Major 1 0 0 0 1" in summary and "Minor 0 0 0 1 1" in summary
        assert "Total 1 1 0 1 3" in summary
        assert "Signatures" in read(_read(store, stored["signoff", fmt]))
        assert "Signatures" not in summary


def test_a_conditional_notice_lists_the_conditions_and_their_due_date(db, world, store):
    d = _in_review(db, world, store)
    due = tst_today() + timedelta(days=30)
    decision = _decide(
        db,
        world,
        store,
        d,
        outcome="conditionally_accepted",
        conditions="Add the index by section",
        conditions_due=due.isoformat(),
    )
    stored = _stored(db, decision)
    for body in (
        _pdf_text(_read(store, stored["conditional_notice", "pdf"])),
        _docx_text(_read(store, stored["conditional_notice", "docx"])),
    ):
        assert "Add the index by section" in body and due.strftime("%-d %b %Y") in body
        assert "withheld until the conditions are met" in body and "$112,500.00" in body


def test_records_are_generated_once_and_never_again(db, world, store):
    d = _in_review(db, world, store)
    decision = _decide(db, world, store, d, outcome="rejected", findings="No")
    first = records.records_of(db, decision.id)
    assert records.generate(db, decision.id, store) == first
    assert len(db.exec(select(GeneratedRecord)).all()) == 4
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "generate_records")).all()) == 1


def test_the_database_itself_refuses_to_change_or_delete_a_decision_or_its_records(db, world, store):
    """A dispute is settled from these rows: not even a script may edit them. The refusal is an integrity error,
    which a request that hit it by mistake answers with a 409, not a 500."""
    d = _in_review(db, world, store)
    decision = _decide(db, world, store, d, outcome="rejected", findings="No")
    record = records.records_of(db, decision.id)[0]
    for table, row_id, column in (("decision", decision.id, "findings"), ("generated_record", record.id, "sha256")):
        for statement in (f"UPDATE {table} SET {column} = 'x' WHERE id = :id", f"DELETE FROM {table} WHERE id = :id"):
            with pytest.raises(IntegrityError, match=f"{table} is immutable"), db.begin_nested():
                db.execute(text(statement), {"id": row_id})


def test_hostile_text_is_escaped_on_the_page_and_literal_in_the_files(db, world, store, as_user):
    d = _in_review(db, world, store)
    # Input refuses control characters now; a comment stored before that still reaches the letters, without them.
    db.execute(text("UPDATE comment SET text = :t WHERE text = 'Comment number 2'"), {"t": "Comment\x0b number 2"})
    decision = _decide(db, world, store, d, outcome="rejected", findings=HOSTILE)
    page = as_user("contractor").get(f"/projects/TST/deliverables/{d.id}/decisions/{decision.id}/rejection_letter")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    stored = _stored(db, decision)
    for text_of, fmt in ((_pdf_text, "pdf"), (_docx_text, "docx")):
        shown = text_of(_read(store, stored["rejection_letter", fmt]))
        assert HOSTILE in shown and "Comment number 2" in shown and "\x0b" not in shown, fmt


def test_downloads_are_the_stored_bytes_with_their_sha256(db, world, store, as_user):
    d = _in_review(db, world, store)
    decision = _decide(db, world, store, d, outcome="rejected", findings="No")
    viewer = as_user("viewer")
    listed = viewer.api("GET", f"/api/v1/deliverables/{d.id}/records").json()
    assert [(r["kind"], r["format"]) for r in listed] == [
        ("rejection_letter", "pdf"),
        ("rejection_letter", "docx"),
        ("signoff", "pdf"),
        ("signoff", "docx"),
    ]
    assert {r["decision_id"] for r in listed} == {decision.id}
    for r in listed:
        for url in (r["download_url"], f"/projects/TST/deliverables/{d.id}/records/{r['id']}"):
            got = viewer.get(url)
            assert got.status_code == 200, url
            assert hashlib.sha256(got.content).hexdigest() == r["sha256"] and len(got.content) == r["size"]
            assert got.headers["etag"] == f'"{r["sha256"]}"'
            disposition = got.headers["content-disposition"]
            assert disposition.startswith("attachment;") and r["filename"] in disposition
            assert got.headers["content-type"].startswith(records.MEDIA_TYPES[r["format"]])


@pytest.mark.parametrize("role", ["manager", "staff", "contractor", "viewer", "admin", "outsider"])
def test_everyone_who_sees_the_deliverable_gets_its_records_and_outsiders_get_404(db, world, store, as_user, role):
    d = _in_review(db, world, store)
    decision = _decide(db, world, store, d, outcome="rejected", findings="Findings for the contractor")
    record = records.records_of(db, decision.id)[0]
    b = as_user(role)
    base = f"/projects/TST/deliverables/{d.id}"
    urls = [
        f"{base}/decisions/{decision.id}/rejection_letter",
        f"{base}/decisions/{decision.id}/signoff",
        f"{base}/records/{record.id}",
        f"/api/v1/deliverables/{d.id}/records",
        f"/api/v1/deliverables/{d.id}/records/{record.id}",
    ]
    expected = 404 if role == "outsider" else 200
    assert [b.get(url).status_code for url in urls] == [expected] * len(urls)
    if role != "outsider":
        detail = b.get(base).text
        assert "Decision records" in detail and f'href="{base}/decisions/{decision.id}/rejection_letter"' in detail
        assert record.sha256[:12] in detail and record.sha256[12:] in detail  # full value for assistive tech


def test_records_of_other_decisions_kinds_or_deliverables_are_404(db, world, store, as_user):
    d = _in_review(db, world, store)
    decision = _decide(db, world, store, d, outcome="rejected", findings="No")
    other = _plan(db, world, code="D-99")
    db.commit()
    record = records.records_of(db, decision.id)[0]
    manager = as_user("manager")
    for url in (
        f"/projects/TST/deliverables/{d.id}/decisions/{decision.id}/acceptance_letter",
        f"/projects/TST/deliverables/{d.id}/decisions/{decision.id}/bogus",
        f"/projects/TST/deliverables/{d.id}/decisions/999999/signoff",
        f"/projects/TST/deliverables/{other.id}/decisions/{decision.id}/signoff",
        f"/projects/TST/deliverables/{other.id}/records/{record.id}",
        f"/projects/TST/deliverables/{d.id}/records/999999",
        f"/api/v1/deliverables/{other.id}/records/{record.id}",
    ):
        assert manager.get(url).status_code == 404, url
    assert manager.api("GET", f"/api/v1/deliverables/{other.id}/records").json() == []


def test_gathering_a_decision_takes_five_queries_whatever_its_size(db, world, store, count_queries):
    small = _decide(
        db, world, store, _in_review(db, world, store, n_criteria=1, n_comments=1), outcome="rejected", findings="No"
    )
    large_d = _plan(db, world, code="D-50", criteria="\n".join(f"Criterion {i}" for i in range(40)))
    contractor, c_access = _as(db, world, "contractor")
    submissions.submit(db, contractor, c_access, large_d, "", [Upload("v1.pdf", "", b"v1")], store)
    staff, access = _as(db, world, "staff")
    reviews.start_review(db, staff, access, large_d)
    for i in range(60):
        reviews.add_comment(db, staff, access, large_d, parse(CommentForm, {"text": f"c{i}", "severity": "major"}))
    large = _decide(db, world, store, large_d, outcome="rejected", findings="No")
    ids = small.id, large.id
    db.expire_all()
    with count_queries() as few:
        g = records.gather(db, ids[0])
    with count_queries() as many:
        big = records.gather(db, ids[1])
    assert len(g.criteria) == 1 and len(big.criteria) == 40 and len(big.open_comments) == 60
    assert few.count == many.count == 5


def test_a_decision_made_on_the_page_shows_its_letters_being_prepared_then_the_letters(db, world, store, as_user):
    d = _in_review(db, world, store)
    db.commit()
    manager = as_user("manager")
    base = f"/projects/TST/deliverables/{d.id}"
    r = manager.post(
        f"{base}/decision",
        {"outcome": "rejected", "findings": "Section 3 is incomplete", "version": str(d.version)},
        htmx=True,
    )
    assert r.status_code == 200
    # The region came back before the letters were rendered (after the decision's commit): it says so, and asks again.
    assert "Preparing the letters of the decision of" in r.text
    assert f'hx-get="{base}/records"' in r.text
    again = manager.get(f"{base}/records", headers={"HX-Request": "true"})
    assert again.status_code == 200 and "Preparing the letters" not in again.text and "hx-get" not in again.text
    assert "Rejection letter" in again.text and 'PDF<span class="sr-only"> of the rejection letter' in again.text
    plain = manager.get(f"{base}/records", follow_redirects=False)  # without JS: the record page, at the region
    assert plain.status_code == 303 and plain.headers["location"] == f"{base}#records-section"


def test_letters_a_stopped_process_left_unrendered_are_made_by_the_clock(db, world, store):
    d = _in_review(db, world, store)
    manager, access = _as(db, world, "manager")
    decision = decisions.decide(
        db, manager, access, d, parse(DecisionForm, {"outcome": "rejected", "findings": "No"}), store=store
    )
    db.commit()  # committed, then the process stopped: the work left for after the commit never ran
    db.info.pop("after_commit", None)
    assert records.records_of(db, decision.id) == []
    assert records.generate_missing(db, store) == [decision.id]
    assert sorted(r.kind for r in records.records_of(db, decision.id)) == ["rejection_letter"] * 2 + ["signoff"] * 2
    assert records.generate_missing(db, store) == []


def test_a_long_unbroken_word_wraps_in_both_formats(db, world, store):
    word = "https://example.gov/" + "x" * 3000
    d = _in_review(db, world, store, n_comments=0)
    decision = _decide(db, world, store, d, outcome="rejected", findings=word)
    stored = _stored(db, decision)
    pdf = PdfReader(io.BytesIO(_read(store, stored["rejection_letter", "pdf"])))
    lines = [line for page in pdf.pages for line in page.extract_text().splitlines()]
    assert max(len(line) for line in lines) < 200  # wrapped within the page, not one 3,000-character line
    assert "\n".join(lines).count("x") >= 3000  # and nothing of it lost
    document = docx.Document(io.BytesIO(_read(store, stored["rejection_letter", "docx"])))
    findings = next(p.text for p in document.paragraphs if p.text.replace("\u200b", "").startswith("https://example"))
    assert findings.replace("\u200b", "") == word and "\u200b" in findings  # a place to wrap, and nothing lost
