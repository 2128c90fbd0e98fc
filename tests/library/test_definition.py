"""The definition a saved report stores: every part checked against its source's catalog, one clear message per
wrong part, values normalised; nothing in it is ever SQL."""

from __future__ import annotations

from datetime import date

import pytest

from tests.library.conftest import definition
from tracker.core.errors import FormError
from tracker.library.sources import OPERATORS, SOURCES, Kind, parse_definition, resolve_date


def _errors(raw) -> dict[str, str]:
    with pytest.raises(FormError) as err:
        parse_definition(raw)
    return err.value.errors


def test_a_good_definition_comes_back_normalised():
    d = parse_definition(
        definition(
            "risks",
            ["code", "level"],
            [
                ("level", "in", ["critical", "high", "critical"]),
                ("raised_on", "before", " Today-30 "),
                ("score", "gte", "12"),
                ("owner", "equals", "me"),
                ("due_for_review", "equals", "true"),
                ("next_review_date", "between", ["2026-01-01", "2026-02-01"]),
                ("title", "contains", "  data "),
            ],
            sort=[("score", True)],
        )
    )
    assert [(f.field, f.op, f.value) for f in d.filters] == [
        ("level", "in", ["critical", "high"]),
        ("raised_on", "before", "today-30"),
        ("score", "gte", 12),
        ("owner", "equals", "me"),
        ("due_for_review", "equals", True),
        ("next_review_date", "between", ["2026-01-01", "2026-02-01"]),
        ("title", "contains", "data"),
    ]
    assert d.format == 1 and d.model_dump()["sort"] == [{"field": "score", "desc": True}]


@pytest.mark.parametrize(
    ("raw", "key", "says"),
    [
        (
            definition("budgets", ["code"]),
            "source",
            "deliverables, risks, issues, changes, lessons, decisions, meetings, actions",
        ),
        (definition("risks", []), "columns", "Choose at least one"),
        (definition("risks", ["code", "salary"]), "columns", "Risks have no column 'salary'"),
        (definition("risks", ["code", "code"]), "columns", "once"),
        (definition("risks", ["code"], [("salary", "equals", 1)]), "filters.0.field", "cannot be filtered by 'salary'"),
        (definition("issues", ["code"], [("age", "gte", 3)]), "filters.0.field", "cannot be filtered by 'age'"),
        (definition("risks", ["code"], [("title", "gte", 3)]), "filters.0.op", "contains, is, is empty"),
        (definition("risks", ["code"], [("score", "contains", "1")]), "filters.0.op", "is at least, is at most, is"),
        (definition("risks", ["code"], [("status", "in", ["open", "lost"])]), "filters.0.value", "Choose from: Open"),
        (definition("risks", ["code"], [("status", "in", [])]), "filters.0.value", "at least one"),
        (definition("risks", ["code"], [("status", "equals", ["open", "closed"])]), "filters.0.value", "one value"),
        (definition("risks", ["code"], [("level", "equals", "extreme")]), "filters.0.value", "Low, Medium, High"),
        (definition("risks", ["code"], [("raised_on", "before", "yesterday")]), "filters.0.value", "YYYY-MM-DD"),
        (definition("risks", ["code"], [("raised_on", "after", "2026-02-30")]), "filters.0.value", "YYYY-MM-DD"),
        (
            definition("risks", ["code"], [("raised_on", "between", ["2026-03-01", "2026-02-01"])]),
            "filters.0.value",
            "first date is after",
        ),
        (definition("risks", ["code"], [("raised_on", "between", "2026-03-01")]), "filters.0.value", "two dates"),
        (definition("risks", ["code"], [("score", "gte", "a lot")]), "filters.0.value", "Enter a number"),
        (definition("risks", ["code"], [("score", "gte", 2.5)]), "filters.0.value", "whole number"),
        (definition("risks", ["code"], [("score", "gte", True)]), "filters.0.value", "Enter a number"),
        (definition("risks", ["code"], [("owner", "equals", "boss")]), "filters.0.value", "Choose a person"),
        (definition("risks", ["code"], [("due_for_review", "equals", "maybe")]), "filters.0.value", "yes or no"),
        (definition("risks", ["code"], [("title", "contains", "")]), "filters.0.value", "Enter the text"),
        (definition("risks", ["code"], [("title", "contains", "x" * 201)]), "filters.0.value", "200 characters"),
        (definition("risks", ["code"], sort=[("statement; --", False)]), "sort.0.field", "cannot be sorted by"),
        (definition("issues", ["code"], sort=[("age", False)]), "sort.0.field", "cannot be sorted by 'age'"),
        (definition("risks", ["code"], page_size=1000), "page_size", "10, 25, 50, 100, 200"),
        (definition("risks", ["code"]) | {"sql": "DROP TABLE risk"}, "sql", "Unknown field"),
        (definition("risks", ["code"]) | {"format": 2}, "format", "format 1"),
        (definition("risks", ["code"] * 31), "columns", "At most 30"),
        ({"source": "risks"}, "columns", "required"),
    ],
)
def test_a_bad_part_is_named_with_a_clear_message(raw, key, says):
    errors = _errors(raw)
    assert says in errors[key], errors


def test_every_wrong_part_is_reported_at_once():
    errors = _errors(
        definition(
            "risks",
            ["code", "nope"],
            [("title", "contains", "x"), ("score", "before", 1), ("status", "in", ["gone"])],
            sort=[("nope", True)],
        )
    )
    assert set(errors) == {"columns", "filters.1.op", "filters.2.value", "sort.0.field"}


def test_a_numeric_column_with_decimals_takes_decimals():
    d = parse_definition(definition("deliverables", ["code"], [("payment_amount", "gte", "1500.50")]))
    assert d.filters[0].value == 1500.5


def test_every_kind_has_operators_and_every_field_a_known_kind():
    for source in SOURCES.values():
        for key, fld in source.fields.items():
            assert fld.kind in OPERATORS, key
            if fld.kind == Kind.CHOICE:
                assert fld.choices, key


def test_relative_dates_resolve_on_the_day_the_report_runs():
    today = date(2026, 11, 20)
    assert resolve_date("today", today) == today
    assert resolve_date("today-30", today) == date(2026, 10, 21)
    assert resolve_date("today+14", today) == date(2026, 12, 4)
    assert resolve_date("2026-01-02", today) == date(2026, 1, 2)
