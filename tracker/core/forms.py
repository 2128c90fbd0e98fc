"""Form parsing: pydantic models validate submitted fields (page forms and API bodies); errors map to
{field: message}."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, ClassVar, TypeVar

from annotated_types import MaxLen
from litestar.exceptions import ClientException
from litestar.params import QueryParameter
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from tracker.core.errors import FormError
from tracker.core.messages import label_of, message_for
from tracker.core.text import control_problem

M = TypeVar("M", bound=BaseModel)


def _blank_to_none(v: Any) -> Any:
    if isinstance(v, str) and not v.strip():
        return None
    return v


OptionalDate = Annotated[date | None, BeforeValidator(_blank_to_none)]
OptionalInt = Annotated[int | None, BeforeValidator(_blank_to_none)]

# A DELETE names the version it read in the query (`?version=3`), as PATCH bodies name it in `version`.
ExpectedVersion = Annotated[int, QueryParameter(description="The version you read; a stale one answers 409")]


def form_version(data: Mapping[str, Any]) -> int:
    """The version the form was read at. Every change to a record names it, so a stale page cannot overwrite."""
    try:
        return int(data["version"])
    except (KeyError, TypeError, ValueError):
        raise ClientException(detail="This form is missing the version it was read at; reload the page.") from None


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
MULTILINE = frozenset(
    {
        "description",
        "contact_address",
        "criteria",
        "text",
        "response",
        "notes",
        "findings",
        "conditions",
        "reason",
        "evidence",
        "statement",
        "trigger",
        "mitigation_plan",
        "contingency_plan",
        "impact",
        "escalation_reason",
        "resolution",
        "rationale",
        "summary",
        "decisions",
        "context",  # a logged decision's
        "options",
        "choices",  # a custom field's, one a line
        "next_steps",
        "why_overall",
        "why_deliverables",
        "why_risks",
        "why_issues",
        "extra_holidays",
        "scope_impact",
        "recommendation",
        "agenda",
        "external_attendees",
    }
)


def _text_problem(label: str, value: Any, multiline: bool, limit: int | None = None) -> str | None:
    if isinstance(value, str):
        return control_problem(label, value, multiline, limit)
    if isinstance(value, Mapping):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set)):
        return next((p for v in value if (p := _text_problem(label, v, multiline))), None)
    return None


def _max_length(cls: type[BaseModel], name: str) -> int | None:
    field = cls.model_fields.get(name)
    return next((m.max_length for m in field.metadata if isinstance(m, MaxLen)), None) if field else None


def plain_text(cls: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
    """Every field of every form and API body, before its own checks: no control characters, and no text longer
    than the field's maximum or the ceiling for any text (core.text)."""
    name = info.field_name or ""
    if problem := _text_problem(label_of(cls, name), value, name in MULTILINE, _max_length(cls, name)):
        raise PydanticCustomError("control_character", problem)
    return value


def refuse_controls(data: Mapping[str, Any]) -> None:
    """The same rule for fields a view reads straight from the request: FormError with a message per field."""
    errors = {k: p for k, v in data.items() if (p := _text_problem(label_of(None, k), v, k in MULTILINE))}
    if errors:
        raise FormError(errors)


class Form(BaseModel):
    """A page's form. `labels` are its fields' labels as the page shows them (each domain's LABELS, which its history
    reads too): every message names a field by them."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")
    labels: ClassVar[Mapping[str, str]] = {}
    check_plain_text = field_validator("*", mode="before")(plain_text)


class ApiBody(BaseModel):
    """An API request body. Fields it does not declare are refused (and said so in OpenAPI:
    errors.ClosedBodiesSchemaPlugin)."""

    model_config = ConfigDict(extra="forbid")
    labels: ClassVar[Mapping[str, str]] = {}
    check_plain_text = field_validator("*", mode="before")(plain_text)


def _field_of(loc: tuple[Any, ...]) -> str:
    return str(loc[0]) if loc else "__all__"


def errors_of(exc: ValidationError, model: type[BaseModel] | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        field = _field_of(err["loc"])
        out.setdefault(field, message_for(err, label_of(model, field)))
    return out


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate form data or raise FormError with a message per field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FormError(errors_of(exc, model)) from exc


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
