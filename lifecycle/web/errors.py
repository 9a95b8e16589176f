"""Errors as a page, an htmx fragment or a JSON error object, by who asked."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from lifecycle.bounds import OutOfCalendar, unstorable_text
from lifecycle.web.htmx import is_fragment, render

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Changed by someone else",
    413: "Upload too large",
    422: "Please check the form",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


class AppError(Exception):
    """An error the user can understand; views and services raise it, handlers render it."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra or {}

    @property
    def code(self) -> str:
        return CODES.get(self.status, "error")


class NotFound(AppError):
    status = 404

    def __init__(self, message: str = "No such record.") -> None:
        super().__init__(message)


class Forbidden(AppError):
    status = 403

    def __init__(self, message: str = "Your role does not allow this.") -> None:
        super().__init__(message)


class Conflict(AppError):
    status = 409


class ValidationFailed(AppError):
    status = 422

    def __init__(
        self, fields: dict[str, str], message: str = "Some fields need attention."
    ) -> None:
        super().__init__(message, fields=fields)


_MESSAGES = {
    "missing": "is required",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing_size": "must be a whole number",
    "decimal_parsing": "must be an amount like 1234.50",
    "decimal_type": "must be an amount like 1234.50",
    "decimal_max_places": "can have at most {decimal_places} decimals",
    "decimal_max_digits": "is too large",
    "decimal_whole_digits": "is too large",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_type": "must be a date (YYYY-MM-DD)",
    "datetime_parsing": "must be a date and time",
    "bool_parsing": "must be yes or no",
    "bool_type": "must be yes or no",
    "string_too_long": "must be at most {max_length} characters",
    "string_too_short": "must be at least {min_length} characters",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "list_type": "must be a list",
    "string_type": "must be text",
    "string_unicode": "is not valid text",
    "int_type": "must be a whole number",
    "extra_forbidden": "is not a known field",
}


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Turn pydantic's errors into one plain sentence per field."""
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
        kind = err.get("type", "")
        ctx = err.get("ctx") or {}
        if kind == "value_error":
            message = str(ctx.get("error", err.get("msg", "is not valid")))
            # model-level checks name their field as "field: message"
            if not loc and ": " in message:
                name, _, message = message.partition(": ")
                loc = [name]
        elif kind == "string_too_short" and ctx.get("min_length") == 1:
            message = "is required"
        elif kind == "enum" or kind == "literal_error":
            message = "must be one of: " + str(ctx.get("expected", "")).replace("'", "")
        elif kind in _MESSAGES:
            message = _MESSAGES[kind].format(**{k: str(v) for k, v in ctx.items()})
        else:
            message = str(err.get("msg", "is not valid"))
        key = ".".join(loc) or "__all__"
        out.setdefault(key, message)
    return out


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(
    status: int,
    message: str,
    *,
    fields: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    if wants_json():
        body: dict[str, Any] = {
            "code": CODES.get(status, "error"),
            "message": message,
        }
        if fields:
            body["fields"] = fields
        if extra:
            body.update(extra)
        response = jsonify({"error": body})
        response.status_code = status
        return response
    block = "content" if is_fragment() else None
    return render(
        "errors/error.html",
        block,
        status=status,
        status_code=status,
        title=TITLES.get(status, "Error"),
        message=message,
        fields=fields or {},
    )


def refuse_unstorable_text() -> None:
    """A query or form value no database can compare or store is a 422, whatever the
    view does with it (a search, a filter, a login)."""
    fields = {
        # a multipart part whose name the parser could not read has none
        (name if name is not None else "form"): problem
        for values in (request.args, request.form)
        for name, value in values.items(multi=True)
        if (
            problem := (
                "has a field without a readable name"
                if name is None
                else unstorable_text(name) or unstorable_text(value or "")
            )
        )
    }
    if fields:
        raise ValidationFailed(fields)


def init_app(app: Flask) -> None:
    app.before_request(refuse_unstorable_text)

    @app.errorhandler(AppError)
    def _app_error(exc: AppError) -> Response:
        return error_response(
            exc.status, exc.message, fields=exc.fields, extra=exc.extra
        )

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        return error_response(
            422, "Some fields need attention.", fields=field_errors(exc)
        )

    @app.errorhandler(OutOfCalendar)
    def _out_of_calendar(exc: OutOfCalendar) -> Response:
        return error_response(422, OutOfCalendar.message)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Response:
        return error_response(
            400,
            "Your form expired or came from another site. Reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = exc.description or TITLES.get(status, "Error")
        if status == 404:
            message = "We could not find that page or record."
        elif status == 429:
            message = "Too many attempts. Please wait a minute and try again."
        response = error_response(status, message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(
            500,
            "Something went wrong on our side. It has been logged; please try again.",
        )
