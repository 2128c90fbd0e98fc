"""What validation says, in plain words: each field named by the label its form shows, each kind of error as a
sentence that says what to do. Page forms (core.forms) and the API's error bodies (core.errors) both speak it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from tracker.core.text import too_long

# Field names whose words are not the label their forms show. A form whose label differs again gives its field a
# title (Field(title=...)), which comes first. Every message names a field by its label, never by its name.
LABELS = {
    "owner_id": "Owner",
    "conditions_owner_id": "Conditions owner",
    "reviewer_id": "Reviewer",
    "reviewer_ids": "Reviewers",
    "user_id": "Person",
    "criterion_id": "Criterion",
    "deliverable_ids": "Linked deliverables",
    "holdback_pct": "Holdback %",
    "payment_amount": "Payment amount ($)",
    "next_review_date": "Next review",
    "deemed_days": "Deemed after (business days)",
    "deemed_policy": "Deemed-acceptance policy",
    "review_days": "State review days",
    "resubmit_days": "Contractor resubmission days",
    "holiday_calendar": "Official calendar",
    "extra_holidays": "Project holidays",
    "timezone": "Time zone",
    "period_start": "First day",
    "period_end": "Last day",
    "page_size": "Rows per page",
    "is_active": "Active",
    "is_admin": "Admin",
    "confirm_password": "Repeat the new password",
    "decided_on": "Date",
    "q": "Search",
    "desc": "Order",
    "op": "Condition",
    "rag": "RAG status",
    "only_valid": "Import only the valid rows",
    "dry_run": "Check without importing",
    "version": "Version seen",
    "email": "Email",
    "url": "Address",
}


def label_of(model: type[BaseModel] | None, name: str) -> str:
    """A field's name as its form shows it: the field's title, its form's labels, the LABELS entry, or its name in
    words."""
    field = model.model_fields.get(name) if model else None
    if field is not None and field.title:
        return field.title
    if name in (own := getattr(model, "labels", {})):
        return own[name]
    if name in LABELS:
        return LABELS[name]
    words = name.removesuffix("_ids").removesuffix("_id").replace("_", " ").strip() or name
    return words[:1].upper() + words[1:] if words else "This field"


# What each kind of validation error says, in plain words: {label} is the field as its form shows it, the other
# names come from the error's context. Messages our own validators raise (value_error) are already sentences.
_DATE = "{label} must be a date, written YYYY-MM-DD."
_WHOLE = "{label} must be a whole number."
_NUMBER = "{label} must be a number, such as 1250.50."
_MESSAGES = {
    "missing": "{label} is required.",
    "string_too_short": "{label} is required.",
    "string_type": "{label} must be text.",
    "string_unicode": "{label} must be text.",
    "string_pattern_mismatch": "{label} is not in the form it needs: see the hint beside it.",
    "int_parsing": _WHOLE,
    "int_type": _WHOLE,
    "int_from_float": _WHOLE,
    "int_parsing_size": "{label} is far too large a number.",
    "float_parsing": _NUMBER,
    "float_type": _NUMBER,
    "finite_number": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_type": _NUMBER,
    "decimal_max_digits": "{label} has more digits than it can hold.",
    "decimal_max_places": "{label} can have at most {decimal_places} digits after the point.",
    "decimal_whole_digits": "{label} has more digits than it can hold.",
    "greater_than": "{label} must be more than {gt}.",
    "greater_than_equal": "{label} must be at least {ge}.",
    "less_than": "{label} must be less than {lt}.",
    "less_than_equal": "{label} must be at most {le}.",
    "enum": "{label} must be one of {expected}.",
    "literal_error": "{label} must be {expected}.",
    "date_parsing": _DATE,
    "date_type": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_parsing": _DATE,
    "datetime_type": _DATE,
    "date_future": "{label} must be a date in the future.",
    "date_past": "{label} must be a date in the past.",
    "bool_parsing": "{label} must be yes or no (true or false).",
    "bool_type": "{label} must be yes or no (true or false).",
    "list_type": "{label} must be a list.",
    "tuple_type": "{label} must be a list.",
    "set_type": "{label} must be a list.",
    "iterable_type": "{label} must be a list.",
    "too_long": "{label} can hold at most {max_length} items.",
    "too_short": "{label} needs at least {min_length} items.",
    "dict_type": "{label} must be an object of named values.",
    "model_type": "{label} must be an object of named values.",
    "model_attributes_type": "{label} must be an object of named values.",
    "json_invalid": "{label} is not valid JSON.",
    "json_type": "{label} is not valid JSON.",
    "none_required": "{label} must be empty.",
}


def _context(ctx: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in ctx.items():
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            value = f"{value:,}"
        out[key] = value
    return out


def _named(label: str, sentence: str) -> str:
    """Our validators' own sentences, led by the field's label unless they name it already."""
    sentence = sentence if sentence.endswith(".") else sentence + "."
    if sentence.lower().startswith(label.lower()):
        return sentence
    first = sentence[:1] if sentence[1:2].isupper() else sentence[:1].lower()  # keep "RAG", lower "Use"
    return f"{label}: {first}{sentence[1:]}"


def message_for(err: Mapping[str, Any], label: str) -> str:
    """One validation error as a sentence that names the field by its label and says what to do."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "string_too_long":
        return too_long(label, len(err["input"]), ctx["max_length"])
    if kind == "string_too_short" and ctx.get("min_length", 1) > 1:
        return f"{label} needs at least {ctx['min_length']} characters."
    if kind == "extra_forbidden":  # a field no form has: its own name is all it has
        return f"“{'.'.join(str(part) for part in err['loc'])}” is not a field of this request: remove it."
    if kind == "value_error":
        if "email address" in err["msg"]:
            return f"{label} must be an e-mail address, such as name@agency.gov."
        return _named(label, err["msg"].removeprefix("Value error, "))
    if kind not in _MESSAGES:  # our own custom errors (control characters, …) are sentences naming the field
        return err["msg"]
    return _MESSAGES[kind].format(label=label, **_context(ctx))


# Litestar checks query and path parameters with msgspec, whose messages name types: what each type asks for.
_EXPECTED = {
    "int": _WHOLE,
    "float": _NUMBER,
    "decimal": _NUMBER,
    "bool": _MESSAGES["bool_parsing"],
    "str": _MESSAGES["string_type"],
    "array": _MESSAGES["list_type"],
    "object": _MESSAGES["dict_type"],
    "date": _DATE,
    "datetime": _DATE,
}
_MSGSPEC_TYPE = re.compile(r"Expected `(\w+)")


def parameter_message(message: str, label: str) -> str:
    """A msgspec message about one query or path parameter, as a sentence naming it."""
    if "date" in message.lower() and "RFC3339" in message:
        return _DATE.format(label=label)
    if (m := _MSGSPEC_TYPE.match(message)) and m[1] in _EXPECTED:
        return _EXPECTED[m[1]].format(label=label)
    return f"{label} is not valid."
