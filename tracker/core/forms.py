"""Form parsing: pydantic models validate submitted fields; errors map to {field: message}."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from tracker.core.errors import FormError

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


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


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
