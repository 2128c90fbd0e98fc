"""Reading the registers PMOs keep in spreadsheets: a CSV or XLSX upload becomes a header row and data rows,
and each header is matched to one of our fields by its name or a documented alias. Validation of the rows
belongs to the domain that imports them."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from tracker.core.errors import FormError
from tracker.core.exports import _FORMULA_START, FILTERS_SHEET

MAX_ROWS = 5000
MAX_COLUMNS = 100


@dataclass(frozen=True)
class Sheet:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (the row number the user sees in their spreadsheet, cells as text)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    # Our own exports neutralise formula-like text with an apostrophe; a round trip gives the text back.
    if text.startswith("'") and text[1:2] and text[1] in _FORMULA_START:
        return text[1:]
    return text


def _csv_rows(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(io.StringIO(text), dialect))


def _xlsx_rows(data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook  # imported when first used: most requests never import a file

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FormError({"file": f"This is not a readable Excel workbook ({type(exc).__name__})."}) from None
    try:
        # The register is the sheet with the most rows (workbooks often carry a cover or a legend sheet), never the
        # "Filters" sheet our own exports add (core.exports).
        sheets = [ws for ws in workbook.worksheets if ws.title != FILTERS_SHEET] or workbook.worksheets
        sheet = max(sheets, key=lambda ws: ws.max_row or 0)
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row[:MAX_COLUMNS]))
            if len(rows) > MAX_ROWS + 20:
                break
        return rows
    finally:
        workbook.close()


def read_table(filename: str, data: bytes) -> Sheet:
    """The first non-empty row is the header; blank rows are skipped; row numbers are the spreadsheet's."""
    name = (filename or "").lower()
    if name.endswith(".csv") or name.endswith(".txt"):
        raw = _csv_rows(data)
    elif name.endswith((".xlsx", ".xlsm")):
        raw = _xlsx_rows(data)
    else:
        raise FormError({"file": "Upload the register as an Excel workbook (.xlsx) or a CSV file."})
    numbered = [(i, [_text(v) for v in row]) for i, row in enumerate(raw, start=1)]
    numbered = [(i, row) for i, row in numbered if any(row)]
    if not numbered:
        raise FormError({"file": "The file has no rows."})
    (_, headers), body = numbered[0], numbered[1:]
    if len(body) > MAX_ROWS:
        raise FormError({"file": f"At most {MAX_ROWS:,} rows per import; split the file."})
    width = len(headers)
    return Sheet(headers, [(i, (row + [""] * width)[:width]) for i, row in body])


def _norm(header: str) -> str:
    """Case, spacing and punctuation aside: "Risk  Owner", "risk-owner" and "RISK_OWNER" are one name. "#" reads as
    "no": "Risk #" is the risk number, not the risk."""
    return re.sub(r"[^a-z0-9]+", " ", header.lower().replace("#", " no ")).strip()


def match_headers(headers: Sequence[str], fields: Mapping[str, Sequence[str]]) -> dict[int, str]:
    """Column index → field, from `fields` = {field: [its label and documented aliases]}: a header matches only a
    name in that list (see _norm), never a guess; each field comes from its first column."""
    aliases = {_norm(a): f for f, names in fields.items() for a in (f, *names)}
    mapping: dict[int, str] = {}
    for i, h in enumerate(headers):
        field = aliases.get(_norm(h))
        if field and field not in mapping.values():
            mapping[i] = field
    return mapping
