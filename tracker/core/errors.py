"""Domain errors and the handlers that turn any failure into a clear page or a JSON body, never a bare 500."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from litestar import Litestar, MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ServiceUnavailableException,
    ValidationException,
)
from litestar.plugins.pydantic import PydanticSchemaPlugin
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError

from tracker.core.messages import label_of, message_for, parameter_message

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition

log = logging.getLogger("tracker")


class AppError(HTTPException):
    status_code = 400


class NotFound(AppError):
    status_code = 404


class Forbidden(AppError):
    status_code = 403


class Conflict(AppError):
    status_code = 409


class TooLarge(AppError):
    status_code = 413


class FormError(AppError):
    """Field-level validation failure: {field: message}. Pages re-render the form; the API answers 422."""

    status_code = 422

    def __init__(self, errors: dict[str, str], detail: str = "Some fields need attention.") -> None:
        super().__init__(detail=detail, extra=errors)
        self.errors = errors


class StaleEdit(Conflict):
    """Someone saved the record after this user loaded it."""

    def __init__(self, current: dict[str, Any] | None = None, detail: str | None = None) -> None:
        super().__init__(
            detail=detail
            or "This record was changed by someone else after you loaded it. Reload it and apply your change again.",
            extra={"current": current or {}},
        )
        self.current = current or {}


API_ERRORS = [ValidationException, NotAuthorizedException, Forbidden, NotFound, Conflict, TooLarge, FormError]


def document_api_errors(app: Litestar) -> None:
    """Every API operation may answer these, each as JSON {status_code, detail, extra}: say so in the OpenAPI
    schema, so clients (and schemathesis) know every status they can get."""
    for route in app.routes:
        if route.path.startswith("/api/"):
            for handler in getattr(route, "route_handlers", []):
                handler.raises = API_ERRORS


class ClosedBodiesSchemaPlugin(PydanticSchemaPlugin):
    """API bodies refuse fields they do not declare (pydantic extra="forbid"): say so where their OpenAPI schema is
    made (additionalProperties: false), so clients and generated examples send only what is accepted."""

    @classmethod
    def for_pydantic_model(cls, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().for_pydantic_model(field_definition, schema_creator)
        if field_definition.annotation.model_config.get("extra") == "forbid":
            schema.additional_properties = False
        return schema


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or (
        "application/json" in request.headers.get("accept", "") and "text/html" not in request.headers.get("accept", "")
    )


def _json(status: int, detail: str, extra: Any = None, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content={"status_code": status, "detail": detail, "extra": extra if extra is not None else {}},
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


TITLES = {
    400: "Bad request",
    401: "Sign in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Check your input",
    429: "Too many requests",
    500: "Something went wrong",
}


def _page(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return Template(
        template_name="errors/error.html",
        context={"status": status, "title": TITLES.get(status, "Error"), "detail": detail},
        status_code=status,
        headers=headers,
    )


def _body_model(request: Request) -> Any:
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    return data.annotation if data is not None and isinstance(data.annotation, type) else None


def _plain(request: Request, exc: ValidationException, extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Litestar's validation messages (pydantic's for bodies, msgspec's for parameters) as sentences naming each field
    by its label. Keys and sources are kept: a client reads which field, a person reads what to do."""
    cause = exc.__cause__
    if isinstance(getattr(cause, "errors", None), list):  # a body checked by its pydantic model
        model = _body_model(request)
        out = []
        for err in cause.errors:  # type: ignore[union-attr]
            loc = [str(part) for part in err.get("loc", ())]
            if not loc:
                out.append({"message": "The request body must be a JSON object of named values."})
                continue
            out.append({"key": ".".join(loc), "message": message_for(err, label_of(model, loc[0]))})
        return out
    return [
        {**e, "message": parameter_message(str(e.get("message", "")), label_of(None, str(e.get("key", ""))))}
        if e.get("key")
        else {**e, "message": "The request is not valid."}
        for e in extra
    ]


def handle_exception(request: Request, exc: Exception) -> Response:
    if isinstance(exc, StaleDataError):
        exc = StaleEdit()
    elif isinstance(exc, IntegrityError):
        exc = Conflict(detail="That change conflicts with existing data (a duplicate or a missing reference).")
    elif isinstance(exc, DataError) and "NUL" in str(exc.orig):
        # Forms, API bodies and addresses refuse NUL, naming the field; this is for text that came some other way.
        exc = AppError(detail="The request holds a NUL character (U+0000), which cannot be stored; remove it.")
    elif isinstance(exc, (OverflowError, DataError)):
        # An id or amount beyond what the database column holds (SQLite: OverflowError; PostgreSQL: DataError).
        exc = AppError(detail="A number in the request is out of range.")
    elif isinstance(exc, PoolTimeout):
        # Every database connection stayed busy for the pool's whole wait: the server is overloaded, not broken.
        log.warning("no database connection free for %s %s", request.method, request.url.path)
        exc = ServiceUnavailableException(
            detail="The server is busy; try again in a moment.", headers={"Retry-After": "5"}
        )

    if isinstance(exc, NotAuthorizedException) and not wants_json(request):
        if request.headers.get("hx-request"):
            return Response(content="", status_code=204, headers={"HX-Redirect": "/login"})
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return Redirect(path="/login", query_params={"next": target} if request.method == "GET" else None)

    headers = None
    if isinstance(exc, HTTPException):
        headers = exc.headers  # e.g. Allow on a 405
        status = exc.status_code
        detail = exc.detail or TITLES.get(status, "Error")
        extra = exc.extra
        if isinstance(exc, ValidationException) and isinstance(extra, list):
            # Litestar's own body and parameter validation: the same plain words as the forms, in the same structure.
            detail, extra = "Some fields need attention.", {"errors": _plain(request, exc, extra)}
        elif detail.startswith("JSON is malformed"):
            detail = "The request body is not valid JSON; check its brackets, quotes and commas."
        if status == 403 and "CSRF" in detail:
            detail = "Your form expired or came from another site. Reload the page and try again."
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        status, detail, extra = (
            HTTP_500_INTERNAL_SERVER_ERROR,
            "An unexpected error occurred; it has been logged.",
            None,
        )

    if wants_json(request):
        return _json(status, detail, extra, headers)
    return _page(request, status, detail, headers)
