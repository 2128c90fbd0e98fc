"""A status report's content as documents: every table of it (CSV each, one XLSX with a sheet per table), a DOCX
for those who paste it into their own template, and a PDF that prints on A4 or Letter (WeasyPrint)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment

from tracker.core import exports
from tracker.core.web import make_environment
from tracker.settings import ROOT

if TYPE_CHECKING:  # WeasyPrint is imported where a report is printed
    from weasyprint import CSS

PAPER = {"letter": "letter", "a4": "A4"}
TREND_WORDS = {"up": "Up", "down": "Down", "same": "Unchanged", "new": "New"}


def metric(value: float | None, unit: str) -> str:
    """A scorecard value or target as people read it: 83% or 1.50; — when there was nothing to measure."""
    if value is None:
        return "—"
    return f"{value:.0%}" if unit == "rate" else f"{value:.2f}"


def day(value: str | None, fmt: str = "%b %-d, %Y") -> str:
    """An ISO date from the content as a date people read."""
    return date.fromisoformat(value).strftime(fmt) if value else "—"


FILTERS = {"isodate": day, "metric": metric}  # the report templates' own, beside core's


def _yes(value: bool | None) -> str:
    return "—" if value is None else ("Met" if value else "Missed")


def _label(value: str | None) -> str:
    return str(value).replace("_", " ").capitalize() if value else "—"


@dataclass(frozen=True)
class Table:
    name: str  # in the CSV's URL and file name
    title: str
    headers: list[str]
    rows: Callable[[dict], list[list[Any]]]


_DELIVERABLE = ["Code", "Title", "Due", "Days overdue", "Review lead"]


def _late(items: list[dict]) -> list[list[Any]]:
    return [[x["code"], x["title"], x["due"], x["days"], x["owner"] or ""] for x in items]


def _risk(items: list[dict]) -> list[list[Any]]:
    return [
        [x["code"], x["title"], x["score"], _label(x["level"]), _label(x["status"]), x["owner"] or ""] for x in items
    ]


def _issue(items: list[dict]) -> list[list[Any]]:
    return [
        [x["code"], x["title"], _label(x["priority"]), _label(x["status"]), x["raised_on"], x["owner"] or ""]
        for x in items
    ]


TABLES = [
    Table(
        "rag",
        "RAG by area",
        ["Area", "RAG", "Computed by the rules", "Overridden", "Rationale"],
        lambda c: [
            [a["label"], _label(a["rag"]), _label(a["computed"]), "Yes" if a["overridden"] else "No", a["rationale"]]
            for a in c["rag"]["areas"]
        ],
    ),
    Table(
        "rag-rules",
        "RAG rules",
        ["Area", "Turns", "Rule", "Applies", "Because of"],
        lambda c: [
            [_label(r["area"]), _label(r["rag"]), r["text"], "Yes" if r["fired"] else "No", "; ".join(r["reasons"])]
            for r in c["rag"]["rules"]
        ],
    ),
    Table(
        "accepted",
        "Deliverables accepted in the period",
        ["Code", "Title", "Version", "Decision", "On"],
        lambda c: [
            [x["code"], x["title"], x["version"], x["outcome"], x["on"]] for x in c["accomplishments"]["accepted"]
        ],
    ),
    Table(
        "issues-resolved",
        "Issues resolved in the period",
        ["Code", "Title", "Priority", "Raised on", "Resolved on", "Days to resolve"],
        lambda c: [
            [x["code"], x["title"], _label(x["priority"]), x["raised_on"], x["resolved_on"], x["age"]]
            for x in c["accomplishments"]["issues_resolved"]
        ],
    ),
    Table(
        "risks-closed",
        "Risks closed in the period",
        ["Code", "Title", "Score", "Level", "Status", "Owner"],
        lambda c: _risk(c["accomplishments"]["risks_closed"]),
    ),
    Table(
        "upcoming",
        "Deliverables due in the next two weeks",
        ["Code", "Title", "What", "Due", "Review lead"],
        lambda c: [
            [x["code"], x["title"], x["what"], x["due"], x["owner"] or ""] for x in c["upcoming"]["deliverables"]
        ],
    ),
    Table(
        "reviews-due",
        "State reviews due in the next two weeks",
        ["Code", "Title", "What", "Due", "Review lead"],
        lambda c: [[x["code"], x["title"], x["what"], x["due"], x["owner"] or ""] for x in c["upcoming"]["reviews"]],
    ),
    Table(
        "pipeline",
        "Deliverable pipeline",
        ["State", "Deliverables"],
        lambda c: [[s["label"], s["count"]] for s in c["pipeline"]],
    ),
    Table("overdue-reviews", "Overdue state reviews", _DELIVERABLE, lambda c: _late(c["overdue"]["reviews"])),
    Table(
        "overdue-resubmissions", "Overdue resubmissions", _DELIVERABLE, lambda c: _late(c["overdue"]["resubmissions"])
    ),
    Table("overdue-deliveries", "Overdue deliveries", _DELIVERABLE, lambda c: _late(c["overdue"]["deliveries"])),
    Table(
        "overdue-conditions",
        "Overdue conditions of acceptance",
        ["Code", "Condition", "Due", "Days overdue", "Owner"],
        lambda c: _late(c["overdue"].get("conditions", [])),
    ),  # reports published before conditions were tracked
    Table(
        "top-risks",
        "Top risks by score",
        [
            "Code",
            "Title",
            "Score",
            "Level",
            "Status",
            "Owner",
            "Score in the previous report",
            "Trend",
            "Open mitigation actions",
        ],
        lambda c: [
            _risk([x])[0]
            + [x["previous"] if x["previous"] is not None else "", TREND_WORDS[x["trend"]], x["mitigations"]]
            for x in c["top_risks"]
        ],
    ),
    Table(
        "heat-map",
        "Open risks by probability and impact",
        ["Probability", "Impact", "Risks"],
        lambda c: [[p, i, n] for p, i, n in c["heat_map"]],
    ),
    Table(
        "new-risks",
        "New risks in the period",
        ["Code", "Title", "Score", "Level", "Status", "Owner"],
        lambda c: _risk(c["new_risks"]),
    ),
    Table(
        "new-issues",
        "New issues in the period",
        ["Code", "Title", "Priority", "Status", "Raised on", "Owner"],
        lambda c: _issue(c["new_issues"]),
    ),
    Table(
        "escalations",
        "Issues needing escalation",
        ["Code", "Title", "Priority", "Status", "Raised on", "Owner", "Age (days)", "Why"],
        lambda c: [_issue([x])[0] + [x["age"], x["why"]] for x in c["escalations"]],
    ),
    *(
        Table(
            f"changes-{key}",
            title,
            [
                "Code",
                "Title",
                "Requested by",
                "Status",
                "Cost impact",
                "Schedule impact (business days)",
                "Deliverables",
            ],
            lambda c, key=key: [
                [
                    x["code"],
                    x["title"],
                    _label(x["requested_by"]),
                    _label(x["status"]),
                    x["cost_impact"],
                    x["schedule_impact"],
                    ", ".join(x["deliverables"]),
                ]
                for x in c.get("changes", {}).get(key, [])
            ],
        )
        for key, title in (("approved", "Changes approved this period"), ("awaiting", "Changes awaiting decision"))
    ),
    Table(
        "issue-ages",
        "Unresolved issues by age",
        ["Age", "Issues"],
        lambda c: [[a["label"], a["count"]] for a in c["issue_ages"]],
    ),
    Table(
        "overdue-actions",
        "Overdue action items",
        ["Of", "Action", "Owner", "Due", "Days overdue"],
        lambda c: [
            [x["parent"], x["description"], x["owner"] or "", x["due"], x["days"]] for x in c["overdue_actions"]
        ],
    ),
    Table(
        "scorecard",
        "Contractor scorecard",
        ["Measure", "Value", "Target", "Result", "Counted from", "How"],
        lambda c: [
            [
                m["label"],
                metric(m["value"], m["unit"]),
                metric(m["target"], m["unit"]),
                _yes(m["met"]),
                m["count"],
                m["explanation"],
            ]
            for m in c["scorecard"]
        ],
    ),
    Table(
        "rag-history",
        "Overall RAG, last 12 periods",
        ["Period ending", "RAG"],
        lambda c: [[h["period_end"], _label(h["rag"]) if h["rag"] else "No report"] for h in c["rag_history"]],
    ),
]
BY_NAME = {t.name: t for t in TABLES}


def filename(content: dict, number: int, ext: str, table: str = "") -> str:
    return (
        f"{content['project']['key']}-status-{content['period']['end']}-v{number}{'-' + table if table else ''}.{ext}"
    )


def to_csv(content: dict, name: str) -> bytes:
    t = BY_NAME[name]
    return exports.to_csv(t.headers, t.rows(content))


def to_xlsx(content: dict) -> bytes:
    return exports.to_xlsx_sheets((t.title, t.headers, t.rows(content)) for t in TABLES)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(value: Any) -> str:
    """Word's XML refuses control characters, and a PDF font has no glyph for them."""
    return _CONTROL.sub("", "" if value is None else str(value))


def to_docx(content: dict, meta: str) -> bytes:
    import docx
    from docx.shared import Mm, Pt

    p, period = content["project"], content["period"]
    document = docx.Document()
    document.core_properties.title = _x(f"{p['key']} status report, {period['label']}")
    document.styles["Normal"].font.size = Pt(10)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(215.9), Mm(279.4)  # Letter, as the PDF by default
    section.left_margin = section.right_margin = Mm(18)
    section.footer.paragraphs[0].text = _x(meta)
    document.add_heading(_x(f"{p['name']} ({p['key']}): status report"), level=1)
    document.add_paragraph(_x(f"{period['label']} · as of {day(period['as_of'])} · {meta}"))
    for title, text in (("Summary", "summary"), ("Key decisions needed", "decisions"), ("Next steps", "next_steps")):
        document.add_heading(title, level=2)
        document.add_paragraph(_x(content["narrative"][text] or "—"))
    for t in TABLES:
        document.add_heading(t.title, level=2)
        rows = t.rows(content)
        if not rows:
            document.add_paragraph("None.")
            continue
        table = document.add_table(rows=1, cols=len(t.headers), style="Table Grid")
        for cell, text in zip(table.rows[0].cells, t.headers, strict=True):
            cell.paragraphs[0].add_run(_x(text)).bold = True
        for row in rows:
            for cell, value in zip(table.add_row().cells, row, strict=True):
                cell.text = _x(value)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def meta_line(row: Any) -> str:
    """Version, publisher and date of a published report (a reports.service.ReportRow)."""
    r = row.report
    text = f"Version {r.number}, published by {row.publisher or 'unknown'} on {r.published_at:%b %-d, %Y %H:%M} UTC"
    return text + (" · superseded by a later version" if row.superseded else "")


@cache
def _environment() -> Environment:
    return make_environment(FILTERS)


def render_print(content: dict, **context: Any) -> str:
    """The standalone page WeasyPrint turns into the PDF: the same report body as the pages."""
    return _environment().get_template("reports/print.html").render(c=content, pdf=True, **context)


@cache
def _stylesheet() -> CSS:
    from weasyprint import CSS

    return CSS(string=(ROOT / "static" / "report.css").read_text())


def to_pdf(html: str, paper: str = "letter") -> bytes:
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    # Nothing is fetched: the report is self-contained, so no text in it can make the renderer reach out.
    page = CSS(string=f"@page {{ size: {PAPER.get(paper, 'letter')}; margin: 14mm 14mm 16mm; }}")
    return HTML(string=_x(html), url_fetcher=URLFetcher(allowed_protocols=())).write_pdf(
        stylesheets=[_stylesheet(), page], pdf_tags=True
    )
