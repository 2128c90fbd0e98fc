"""A status report's content as documents: every table of it (CSV each, one XLSX with a sheet per table), a DOCX
for those who paste it into their own template, and a PDF that prints on A4 or Letter (WeasyPrint)."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment

from tracker.core import exports, memo, renderer
from tracker.core.web import make_environment, show_date, show_datetime, show_month
from tracker.register.risks import scoring
from tracker.settings import ROOT

if TYPE_CHECKING:  # WeasyPrint is imported where a report is printed
    from weasyprint import CSS

PAPER = {"letter": "letter", "a4": "A4", "landscape": "letter landscape"}
LANDSCAPE = "landscape"
TREND_WORDS = {"up": "Up", "down": "Down", "same": "Unchanged", "new": "New"}


def metric(value: float | None, unit: str) -> str:
    """A scorecard value or target as people read it: 83% or 1.50; — when there was nothing to measure."""
    if value is None:
        return "—"
    return f"{value:.0%}" if unit == "rate" else f"{value:.2f}"


def figure(value: float | None, digits: int = 0) -> str:
    """A chart's figure as its table and description read: a whole number, or one decimal; — for none."""
    if value is None:
        return "—"
    return f"{value:.1f}" if digits else str(int(value))


def day(value: str | None, *, weekday: bool = False, short: bool = False) -> str:
    """An ISO date from the content as a date people read (core.web.show_date)."""
    return show_date(date.fromisoformat(value), weekday=weekday, short=short) if value else "—"


def month(value: str | None) -> str:
    """An ISO month ("2026-11" or a day in it) from the content as a month people read (core.web.show_month)."""
    return show_month(date.fromisoformat(f"{value[:7]}-01"), short=True) if value else "—"


FILTERS = {
    "isodate": day,
    "isomonth": month,
    "metric": metric,
    "figure": figure,
}  # the report templates' own, beside core's


def _yes(value: bool | None) -> str:
    return "—" if value is None else ("Met" if value else "Missed")


def _number(value: str | None) -> Decimal | str:
    """An amount or figure the snapshot keeps as text, back as a number for a typed spreadsheet cell."""
    return Decimal(value) if value not in (None, "") else ""


def _label(value: str | None) -> str:
    return str(value).replace("_", " ").capitalize() if value else "—"


@dataclass(frozen=True)
class Table:
    name: str  # in the CSV's URL and file name
    title: str
    headers: list[str]
    rows: Callable[[dict], list[list[Any]]]
    custom: str = ""  # "risks" or "issues": the register whose custom columns follow the table's own

    def heads(self, content: dict) -> list[str]:
        return self.headers + [c["label"] for c in _custom(content, self.custom)]


def _custom(content: dict, register: str) -> list[dict]:
    """The custom fields a report's register tables carry as columns (none in reports published before them)."""
    return content.get("custom", {}).get(register, []) if register else []


def _registered(
    name: str, title: str, headers: list[str], register: str, items: Callable[[dict], list[dict]], row: Callable
) -> Table:
    """A table of risks or issues: the row's own cells, then its custom values in the register's column order."""

    def rows(c: dict) -> list[list[Any]]:
        columns = _custom(c, register)
        return [row(x) + [_typed(col, x.get("custom", {}).get(col["label"])) for col in columns] for x in items(c)]

    return Table(name, title, headers, rows, register)


def _typed(column: dict, value: Any) -> Any:
    """A custom value as a typed spreadsheet cell: a number field's as a number, a date field's as a date."""
    if value in (None, ""):
        return ""
    if column["type"] == "number":
        return _number(value)
    if column["type"] == "date":
        return date.fromisoformat(value)
    return value


_DELIVERABLE = ["Code", "Title", "Due", "Days overdue", "Review lead"]


def _late(items: list[dict]) -> list[list[Any]]:
    return [[x["code"], x["title"], x["due"], x["days"], x["owner"] or ""] for x in items]


_RISK = ["Code", "Title", "Score", "Level", "Status", "Owner"]
_ISSUE = ["Code", "Title", "Priority", "Status", "Raised on", "Owner"]


def _risk(x: dict) -> list[Any]:
    return [x["code"], x["title"], x["score"], _label(x["level"]), _label(x["status"]), x["owner"] or ""]


def _issue(x: dict) -> list[Any]:
    return [x["code"], x["title"], _label(x["priority"]), _label(x["status"]), x["raised_on"], x["owner"] or ""]


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
    _registered(
        "issues-resolved",
        "Issues resolved in the period",
        ["Code", "Title", "Priority", "Raised on", "Resolved on", "Days to resolve"],
        "issues",
        lambda c: c["accomplishments"]["issues_resolved"],
        lambda x: [x["code"], x["title"], _label(x["priority"]), x["raised_on"], x["resolved_on"], x["age"]],
    ),
    _registered(
        "risks-closed",
        "Risks closed in the period",
        _RISK,
        "risks",
        lambda c: c["accomplishments"]["risks_closed"],
        _risk,
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
    _registered(
        "top-risks",
        "Top risks by score",
        [
            *_RISK,
            "Score in the previous report",
            "Trend",
            "Open mitigation actions",
        ],
        "risks",
        lambda c: c["top_risks"],
        lambda x: (
            _risk(x) + [x["previous"] if x["previous"] is not None else "", TREND_WORDS[x["trend"]], x["mitigations"]]
        ),
    ),
    Table(
        "heat-map",
        "Open risks by probability and impact",
        ["Probability", "Impact", "Risks"],
        lambda c: [[p, i, n] for p, i, n in c["heat_map"]],
    ),
    _registered("new-risks", "New risks in the period", _RISK, "risks", lambda c: c["new_risks"], _risk),
    _registered("new-issues", "New issues in the period", _ISSUE, "issues", lambda c: c["new_issues"], _issue),
    _registered(
        "escalations",
        "Issues needing escalation",
        [*_ISSUE, "Age (days)", "Why"],
        "issues",
        lambda c: c["escalations"],
        lambda x: _issue(x) + [x["age"], x["why"]],
    ),
    Table(
        "decisions",
        "Decisions taken in the period",
        ["Date", "Source", "Code", "Decision", "Decided by"],
        lambda c: [
            [x["day"], x["source_label"], x["code"], x["outcome"], x["decided_by"]]
            for x in c.get("decisions_taken", [])  # reports published before the decision log
        ],
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
        "reported-levels",
        "Reported service levels",
        ["Measure", "Unit", "Target", "Month", "Value", "Result", "Verification"],
        lambda c: [
            [
                r["measure"],
                r["unit"],
                ("≥ " if r["higher"] else "≤ ") + r["target"],
                r["month"] or "",
                _number(r["value"]),
                _yes(r["met"]) if r["met"] is not None else "Not reported",
                r["status_label"],
            ]
            for r in c.get("reported") or []  # reports published before the contractor reported levels
        ],
    ),
    Table(
        "service-credits",
        "Service credits",
        [
            "Rule",
            "Value",
            "Applies",
            "Invoiced in the period",
            "Credit",
            "Credits due in the period (after any cap)",
            "Note",
        ],
        lambda c: [
            [
                x["rule"],
                x["value"],
                "Yes" if x["applies"] else "No",
                _number(c["credits"]["invoiced"]),
                _number(x["amount"]),
                _number(c["credits"]["total"]),
                x["note"],
            ]
            for x in (c.get("credits") or {}).get("lines", [])
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


def _pct(value: float | None, unit: str) -> float | None:
    """A rate as a percentage number (a typed cell), a number as it is."""
    return None if value is None else round(value * 100, 2) if unit == "rate" else round(value, 2)


def scorecard_xlsx(project: Any, period: Any, s: dict) -> bytes:
    """The scorecard page as a workbook: typed numbers (rates in percent), a frozen header and filters on each sheet."""
    metrics, periods = s["metrics"], s["weeks"]
    unit = {m.key: " (%)" if m.unit == "rate" else "" for m in metrics}
    figures = [
        [
            m.label + unit[m.key],
            "at least" if m.higher else "at most",
            _pct(m.target, m.unit),
            *(
                x
                for f in (m, m.rolling, m.to_date)
                for x in (_pct(f.value, m.unit), f.count, _yes(f.met) if f.value is not None else "Nothing to measure")
            ),
        ]
        for m in metrics
    ]
    trend = [[p.end, *(_pct(m.trend[i], m.unit) for m in metrics)] for i, p in enumerate(periods)]
    per_period = [
        [c.period.start, c.period.end, c.invoiced, c.total, "Yes" if c.capped else "No"] for c in s["credits"]
    ]
    lines = [
        [c.period.end, x.text, x.value, "Yes" if x.applies else "No", x.amount, x.note]
        for c in s["credits"]
        for x in c.lines
    ]
    reported = [
        [r.measure.name, r.measure.unit, "at least" if r.measure.higher_is_better else "at most", r.measure.target]
        + [x.figure.month, x.figure.value, x.status_label, "Met" if x.met else "Missed", x.figure.revision]
        for r in s["reported"]
        for x in r.recent
    ]
    result = ("Value", "Counted from", "Result")
    return exports.to_xlsx_sheets(
        [
            (
                "Scorecard",
                [
                    "Measure",
                    "Target is",
                    "Target",
                    *(
                        f"{span}: {h}"
                        for span in ("This period", "Rolling 13 weeks", "Contract to date")
                        for h in result
                    ),
                ],
                figures,
            ),
            ("Trend", ["Period ending", *(m.label + unit[m.key] for m in metrics)], trend),
            ("Credits per period", ["Period start", "Period end", "Invoiced", "Credits", "Capped"], per_period),
            ("Credit rules", ["Period end", "Rule", "Value", "Applies", "Credit", "Note"], lines),
            (
                "Reported by the contractor",
                ["Measure", "Unit", "Target is", "Target", "Month", "Value", "Status", "Result", "Revision"],
                reported,
            ),
        ],
        heading=f"{project.key} contractor scorecard, {period.label}",
    )


def filename(content: dict, number: int, ext: str, table: str = "") -> str:
    return (
        f"{content['project']['key']}-status-{content['period']['end']}-v{number}{'-' + table if table else ''}.{ext}"
    )


def to_csv(content: dict, name: str) -> bytes:
    t = BY_NAME[name]
    return exports.to_csv(t.heads(content), t.rows(content))


def to_xlsx(content: dict, number: int = 1, by: str = "") -> bytes:
    p, period = content["project"], content["period"]
    about = exports.About(
        by,
        [
            ("Project", f"{p['key']} · {p['name']}"),
            ("Period", f"{period['label']} ({period['start']} to {period['end']})"),
            ("Version", number),
            ("Figures as of", period["as_of"]),
        ],
        p.get("timezone"),
    )
    return exports.to_xlsx_sheets(((t.title, t.heads(content), t.rows(content)) for t in TABLES), about=about)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(value: Any) -> str:
    """Word's XML refuses control characters, and a PDF font has no glyph for them."""
    return _CONTROL.sub("", "" if value is None else str(value))


# The report's charts, as the page draws them (templates/reports/_charts.html): (macro, its data, the heading).
CHARTS = [
    ("pipeline", "pipeline", "Deliverable pipeline"),
    ("heat_map", "heat_map", "Risk heat map"),
    ("ages", "issue_ages", "Open issues by age"),
    ("history", "rag_history", "Overall RAG, last 12 periods"),
]
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def chart_pngs(content: dict) -> list[tuple[str, str, bytes]]:
    """(heading, the chart's description, PNG) of each chart: its SVG, drawn by the page's own macro, rendered with
    resvg (a wheel with no system libraries), at twice its size so it prints sharp."""
    import resvg_py

    env = _environment()
    out = []
    for macro, key, heading in CHARTS:
        if content.get(key) is None:
            continue
        html = env.from_string(
            f'{{% from "reports/_charts.html" import {macro} with context %}}{{{{ {macro}(data, "docx-{macro}", true) }}}}'
        ).render(data=content[key], scoring=scoring)
        svg = _SVG.search(html)
        if svg is None:
            continue
        desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg[0], re.S)
        png = resvg_py.svg_to_bytes(svg_string=svg[0], zoom=2, background="#ffffff")
        out.append((heading, html_text(desc[1]) if desc else heading, bytes(png)))
    return out


def html_text(fragment: str) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


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
    document.add_heading("Charts", level=2)
    for heading, desc, png in chart_pngs(content):
        document.add_heading(_x(heading), level=3)
        document.add_picture(io.BytesIO(png), width=Mm(150))
        shape = document.inline_shapes[-1]
        shape._inline.docPr.set("descr", _x(desc))  # the alternative text Word reads aloud
        document.add_paragraph(_x(desc))
    for t in TABLES:
        document.add_heading(t.title, level=2)
        rows = t.rows(content)
        if not rows:
            document.add_paragraph("None.")
            continue
        heads = t.heads(content)
        table = document.add_table(rows=1, cols=len(heads), style="Table Grid")
        for cell, text in zip(table.rows[0].cells, heads, strict=True):
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
    text = f"Version {r.number}, published by {row.publisher or 'unknown'} on {show_datetime(r.published_at)}"
    return text + (" · superseded by a later version" if row.superseded else "")


@cache
def _environment() -> Environment:
    return make_environment(FILTERS)


def render_page(template: str, **context: Any) -> str:
    """A standalone printable page of another domain (a meeting's minutes), with the report's filters."""
    return _environment().get_template(template).render(pdf=True, **context)


def render_print(content: dict, **context: Any) -> str:
    """The standalone page WeasyPrint turns into the PDF: the same report body as the pages."""
    return _environment().get_template("reports/print.html").render(c=content, pdf=True, **context)


@cache
def _stylesheet() -> CSS:
    from weasyprint import CSS

    return CSS(string=(ROOT / "static" / "report.css").read_text())


def to_pdf(html: str, paper: str = "letter") -> bytes:
    """The printed page. A PDF is a function of its HTML and paper alone, so it is kept under their digest
    (tracker.core.memo): a pack downloaded again while nothing in it changed is not set again (seconds for the
    portfolio), and any change to what it shows is a new digest, so a kept PDF is never stale. Printed in the
    rendering process (tracker.core.renderer), so WeasyPrint's libraries and layout never weigh on a server's."""
    key = ("pdf", paper, hashlib.sha256(html.encode()).digest())
    return memo.kept(key, lambda: renderer.run(print_pdf, html, paper))


def print_pdf(html: str, paper: str = "letter") -> bytes:
    """The PDF printed here and now, in the calling process (`to_pdf` prints in the rendering process)."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    # Nothing is fetched: the report is self-contained, so no text in it can make the renderer reach out.
    margin = "10mm" if paper == LANDSCAPE else "14mm 14mm 16mm"
    page = CSS(string=f"@page {{ size: {PAPER.get(paper, 'letter')}; margin: {margin}; }}")
    return HTML(string=_x(html), url_fetcher=URLFetcher(allowed_protocols=())).write_pdf(
        stylesheets=[_stylesheet(), page], pdf_tags=True
    )


# --- the portfolio --------------------------------------------------------------------------------------------


def render_portfolio(view: Any, q: dict[str, str]) -> str:
    """The portfolio's one printable page (a reports.service.Portfolio), filtered and sorted as on screen."""
    filters = " · ".join(f"{k.capitalize()}: {q[k]}" for k in ("sponsor", "contractor") if q.get(k))
    today = view.rag_weeks[-1].day if view.rag_weeks else None
    return (
        _environment()
        .get_template("reports/portfolio_print.html")
        .render(p=view, sort=q.get("sort") or "-rag", filters="", filters_text=filters, today=today)
    )


def portfolio_filename(view: Any, ext: str) -> str:
    today = view.rag_weeks[-1].day if view.rag_weeks else ""
    return f"portfolio-{today}.{ext}"


PORTFOLIO_HEADERS = [
    "Project",
    "Name",
    "Sponsor",
    "Contractor",
    "Overall RAG",
    "Deliverables RAG",
    "Risks RAG",
    "Issues RAG",
    "Trend",
    "Critical risks",
    "Escalations",
    "Overdue deliverables",
    "Contract value",
    "Holdback withheld",
    "Holdback released",
    "Service credits (latest report)",
    "Service levels met",
    "Service levels measured",
    "Latest report",
]


def _count(r: Any, key: str) -> int | None:
    return r.counts.get(key) if r.report_id else None


def portfolio_xlsx(view: Any, about: exports.About | None = None) -> bytes:
    """The table with typed numbers (counts as integers, money as money), the RAG history, risk exposure by week
    and the acceptance curve, a sheet each; `about` says who asked and with which filters."""
    rows = [
        [
            r.project.key,
            r.project.name,
            r.project.sponsor,
            r.project.contractor,
            _label(r.rag),
            *(_label(r.areas.get(a)) for a in ("deliverables", "risks", "issues")),
            _label(r.trend),
            _count(r, "critical_risks"),
            _count(r, "escalations"),
            _count(r, "deliverables_overdue"),
            r.money.payment,
            r.money.withheld,
            r.money.released,
            r.credits,
            r.slo_met if r.slo_measured else None,
            r.slo_measured or None,
            r.period or "No report",
        ]
        for r in view.rows
    ]
    weeks = [str(w.period.end) for w in view.rag_weeks]
    history = [[r.project.key, *(_label(v) if v else "No report" for v in r.history)] for r in view.rows]
    exposure = [[w.period.end, *(view.exposure[r.project.id][n] for r in view.rows)] for n, w in enumerate(view.weeks)]
    c = view.curve
    curve = [[d, c.planned[n], c.accepted[n] if d <= c.today else None] for n, d in enumerate(c.days)]
    return exports.to_xlsx_sheets(
        [
            ("Portfolio", PORTFOLIO_HEADERS, rows),
            ("RAG history", ["Project", *weeks], history),
            ("Risk exposure", ["Week ending", *(r.project.key for r in view.rows)], exposure),
            ("Accepted vs planned", ["Day", "Planned to date", "Accepted to date"], curve),
        ],
        about=about,
    )
