"""Import headers are matched by a column's name or one of its documented aliases only, ignoring case, spacing and
punctuation; nothing is guessed, and the preview (page, API dry run) lists the columns it did not recognise."""

from __future__ import annotations

from tests.transfer.test_pages import _mapping, _upload, store  # noqa: F401  (store is a fixture)
from tracker.transfer import service as transfer
from tracker.transfer.columns import ISSUES, RISKS

SHEET = b"Risk ID,a,Title,Probability,Impact,Notes,Score\nR-060,x,Vendor late,2,3,keep,6\n"


def test_only_names_and_documented_aliases_match_whatever_their_case_spacing_and_punctuation():
    headers = ["a", "Notes", "likelihood", "risk-owner", " Impact ", "Risk #", "Titel", "Comments"]
    assert transfer.auto_mapping(RISKS, headers) == {2: "probability", 3: "owner", 4: "impact", 5: "code"}
    assert transfer.auto_mapping(RISKS, ["Risk  TITLE", "Risk_Statement"]) == {0: "title", 1: "statement"}
    assert transfer.auto_mapping(ISSUES, ["a", "b", "Notes", "Issue"]) == {3: "title"}


def test_the_dry_run_lists_the_columns_it_did_not_recognise(as_user, store):  # noqa: F811
    staff = as_user("staff")
    r = staff.api(
        "POST",
        "/api/v1/projects/TST/risks/import",
        data={"dry_run": "true"},
        files={"file": ("r.csv", SHEET, "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert r.json()["unrecognised"] == ["a", "Notes"]  # Score is known: computed, never imported
    assert r.json()["columns"]["a"] is None and r.json()["rows"][0]["title"] == "Vendor late"
    url = _upload(staff, SHEET).headers["location"]
    mapping = _mapping(staff.get(url).text)
    assert mapping["column-1"] == "" and mapping["column-5"] == ""
    preview = staff.get(f"{url}/preview", params=mapping).text
    assert "Columns not recognised, so not imported: “a”, “Notes”." in preview
