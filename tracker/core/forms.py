"""Form parsing: pydantic models validate submitted fields (page forms and API bodies); errors map to
{field: message}."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from tracker.core.errors import FormError
from tracker.core.text import control_problem

M = TypeVar("M", bound=BaseModel)


def _blank_to_none(v: Any) -> Any:
    if isinstance(v, str) and not v.strip():
        return None
    return v


OptionalDate = Annotated[date | None, BeforeValidator(_blank_to_none)]
OptionalInt = Annotated[int | None, BeforeValidator(_blank_to_none)]


def _checkbox(v: Any) -> Any:
    if isinstance(v, list):  # hidden "false" + checkbox "true"
        v = v[-1]
    if v in (None, "", "0", "false", "off", False):
        return False
    if v in ("1", "true", "on", "yes", True):
        return True
    return v


Checkbox = Annotated[bool, BeforeValidator(_checkbox)]


# The fields whose text runs over several lines (a textarea on their page): only they keep tabs and line breaks.
MULTILINE = frozenset({
    "description", "criteria", "text", "response", "notes", "findings", "conditions", "reason", "evidence",
    "statement", "trigger", "mitigation_plan", "contingency_plan", "impact", "escalation_reason", "resolution",
    "rationale", "summary", "decisions", "next_steps", "why_overall", "why_deliverables", "why_risks", "why_issues",
    "extra_holidays",
})  # fmt: skip


def label_of(model: type[BaseModel] | None, name: str) -> str:
    """A field's name as its form shows it: the field's title, or its name in words."""
    field = model.model_fields.get(name) if model else None
    return (field.title if field else None) or name.replace("_", " ").capitalize()


def _text_problem(label: str, value: Any, multiline: bool) -> str | None:
    if isinstance(value, str):
        return control_problem(label, value, multiline)
    if isinstance(value, Mapping):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set)):
        return next((p for v in value if (p := _text_problem(label, v, multiline))), None)
    return None


def plain_text(cls: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
    """Every field of every form and API body, before its own checks: no control characters (core.text)."""
    name = info.field_name or ""
    if problem := _text_problem(label_of(cls, name), value, name in MULTILINE):
        raise PydanticCustomError("control_character", problem)
    return value


def refuse_controls(data: Mapping[str, Any]) -> None:
    """The same rule for fields a view reads straight from the request: FormError with a message per field."""
    errors = {k: p for k, v in data.items() if (p := _text_problem(label_of(None, k), v, k in MULTILINE))}
    if errors:
        raise FormError(errors)


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")
    check_plain_text = field_validator("*", mode="before")(plain_text)


class ApiBody(BaseModel):
    """An API request body. Fields it does not declare are refused (and said so in OpenAPI:
    errors.ClosedBodiesSchemaPlugin)."""

    model_config = ConfigDict(extra="forbid")
    check_plain_text = field_validator("*", mode="before")(plain_text)


_MESSAGES = {
    "missing": "This field is required.",
    "string_too_short": "This field is required.",
    "int_parsing": "Enter a whole number.",
    "date_from_datetime_parsing": "Enter a date as YYYY-MM-DD.",
    "date_parsing": "Enter a date as YYYY-MM-DD.",
    "date_from_datetime_inexact": "Enter a date as YYYY-MM-DD.",
    "bool_parsing": "Choose yes or no.",
}


def errors_of(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "__all__"
        msg = _MESSAGES.get(err["type"])
        if err["type"] == "string_too_short" and err.get("ctx", {}).get("min_length", 1) > 1:
            msg = None
        if msg is None:
            msg = err["msg"].removeprefix("Value error, ")
            msg = msg[0].upper() + msg[1:] if msg else "Invalid value."
            if not msg.endswith("."):
                msg += "."
        out.setdefault(field, msg)
    return out


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate form data or raise FormError with a message per field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FormError(errors_of(exc)) from exc


def stale_fields(current: dict[str, Any], submitted: dict[str, Any]) -> dict[str, Any]:
    """The fields whose saved value now differs from what this user submitted."""

    def norm(v: Any) -> str:
        if isinstance(v, bool) or v in ("true", "false"):
            return str(v).lower()
        if isinstance(v, list) and v and isinstance(v[0], dict):
            return "\n".join(f"{h['date']} {h['name']}" for h in v)
        return "" if v is None else str(v).strip()

    out = {}
    for field, value in current.items():
        sub = submitted.get(field)
        if isinstance(sub, list):
            sub = sub[-1]
        if sub is not None and norm(sub) != norm(value):
            out[field] = norm(value)
    return out
