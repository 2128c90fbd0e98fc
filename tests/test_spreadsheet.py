"""Reading register spreadsheets: CSV and XLSX, row numbers as the user sees them, header matching."""

from __future__ import annotations

import pytest

from tracker.core import exports
from tracker.core.errors import FormError
from tracker.core.spreadsheet import match_headers, read_table

FIELDS = {
    "code": ["Risk ID", "ID", "Ref"],
    "title": ["Risk title", "Name"],
    "probability": ["Likelihood", "Prob"],
    "impact": ["Consequence"],
    "mitigation": ["Mitigation plan", "Response"],
    "owner": ["Risk owner"],
}


def test_csv_with_a_bom_semicolons_and_blank_rows_keeps_spreadsheet_row_numbers():
    data = "\ufeffRisk ID;Title\n\nR-1;Vendor late\nR-2;Key staff leave\n".encode()
    sheet = read_table("register.csv", data)
    assert sheet.headers == ["Risk ID", "Title"]
    assert sheet.rows == [(3, ["R-1", "Vendor late"]), (4, ["R-2", "Key staff leave"])]


def test_cp1252_csv_is_read():
    sheet = read_table("r.csv", "ID,Title\nR-1,Caf\xe9 closes\n".encode("cp1252"))
    assert sheet.rows[0][1] == ["R-1", "Café closes"]


def test_our_own_xlsx_export_reads_back_exactly_including_formula_like_text():
    body = exports.to_xlsx(["Risk ID", "Title"], [["R-1", '=HYPERLINK("x")'], ["R-2", "-5% budget"]])
    sheet = read_table("export.xlsx", body)
    assert sheet.rows == [(2, ["R-1", '=HYPERLINK("x")']), (3, ["R-2", "-5% budget"])]
    csv_body = exports.to_csv(["Risk ID", "Title"], [["R-1", "@SUM(A1)"]])
    assert read_table("export.csv", csv_body).rows == [(2, ["R-1", "@SUM(A1)"])]


def test_sheet_titles_are_made_legal_short_and_unique_whatever_the_names():
    import io

    from openpyxl import load_workbook

    long = "Deliverables due in the next two weeks and after"
    names = [long, long + " (again)", "a/b\\c?d*e:f[g]h", "", "[]", "history", "History"]
    body = exports.to_xlsx_sheets((name, ["Code"], [["R-1"]]) for name in names)
    *titles, filters = load_workbook(io.BytesIO(body)).sheetnames
    assert filters == "Filters"
    assert len(titles) == len(names) and len({t.lower() for t in titles}) == len(titles), titles
    assert all(0 < len(t) <= 31 and not set(t) & set("/\\?*:[]") and t.strip("'") == t for t in titles), titles
    assert titles[0] == long[:31] and titles[2] == "a b c d e f g h"


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("register.pdf", b"%PDF", "Excel workbook (.xlsx) or a CSV"),
        ("register.xlsx", b"not a zip", "not a readable Excel workbook"),
        ("empty.csv", b"\n\n", "no rows"),
    ],
)
def test_unreadable_files_get_a_clear_message(name, data, message):
    with pytest.raises(FormError) as exc:
        read_table(name, data)
    assert message in exc.value.errors["file"]


def test_common_headers_match_by_name_or_alias_each_field_once():
    headers = ["Risk ID", "Risk Title", " LIKELIHOOD ", "Impact", "Mitigation Plan", "Owner", "Notes", "ID"]
    assert match_headers(headers, FIELDS) == {
        0: "code",
        1: "title",
        2: "probability",
        3: "impact",
        4: "mitigation",
        5: "owner",
    }


def test_a_hash_sign_reads_as_number():
    assert match_headers(["Risk #", "Risk"], {"code": ["Risk no"], "title": ["Risk"]}) == {0: "code", 1: "title"}
