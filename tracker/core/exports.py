"""CSV and XLSX tables for download. Cells that a spreadsheet would run as a formula are neutralised, control
characters are left out, and sheet titles are made legal."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from tracker.core.text import strip_controls

CSV = "text/csv"  # Litestar adds "; charset=utf-8" to every text type itself: saying it here would say it twice
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NOT_IN_SHEET_TITLES = re.compile(r"[\\/?*:\[\]]")


def safe_cell(value: Any) -> Any:
    """Text starting like a formula gets a leading apostrophe, so Excel and LibreOffice show it as text. Control
    characters are dropped: XLSX cannot hold them, and text stored before input refused them must still export."""
    if isinstance(value, str):
        value = strip_controls(value)
        if value.startswith(_FORMULA_START):
            return "'" + value
    return value


def sheet_title(name: str, taken: set[str]) -> str:
    """A title Excel accepts for a sheet named `name`, unique among `taken` (lower case; the title is added): at most
    31 characters, none of / \\ ? * : [ ], not blank, no apostrophe at either end."""
    base = " ".join(_NOT_IN_SHEET_TITLES.sub(" ", strip_controls(name)).split())[:31].strip(" '") or "Sheet"
    title, n = base, 1
    while title.lower() in taken:
        n += 1
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)].rstrip() + suffix
    taken.add(title.lower())
    return title


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in headers])
    for row in rows:
        writer.writerow([safe_cell(_plain(v)) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def to_xlsx(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet1", heading: str | None = None
) -> bytes:
    """One sheet. A `heading` is a first row above the table: the whole name, which a sheet title may not hold."""
    return to_xlsx_sheets([(title, headers, rows)], heading=heading)


def to_xlsx_sheets(
    sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]], heading: str | None = None
) -> bytes:
    """One workbook, a sheet per (title, headers, rows)."""
    from openpyxl import Workbook  # imported when first used: most requests never export

    wb = Workbook()
    wb.remove(wb.active)
    taken = {"history"}  # Excel keeps that sheet name for itself
    for title, headers, rows in sheets:
        _fill(wb.create_sheet(sheet_title(title, taken)), headers, rows, heading)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _fill(ws: Any, headers: Sequence[str], rows: Iterable[Sequence[Any]], heading: str | None) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    if heading is not None:
        ws.append([safe_cell(heading)])
        ws["A1"].font, ws["A1"].data_type = Font(bold=True, size=13), "s"
    ws.append([safe_cell(h) for h in headers])
    top = ws.max_row  # the header row
    for cell in ws[top]:
        cell.font = Font(bold=True)
    widths = [len(h) for h in headers]
    for row in rows:
        values = [safe_cell(_plain(v)) for v in row]
        ws.append(values)
        widths = [max(w, min(60, len(str(v)))) for w, v in zip(widths, values, strict=False)]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width + 2
    for row in ws.iter_rows(min_row=top + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    ws.freeze_panes = f"A{top + 1}"
