"""Errors as RFC 7807 problem details (`application/problem+json`).

Every error the API returns has the same shape: `type`, `title`, `status`, `detail`, and
for invalid input `errors`, one entry per field with its path (`query.limit`,
`body.password`). Unexpected errors become a 500 that says nothing about the internals;
the traceback goes to the log with event `api.error`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://wfmon.dev/problems/"


class FieldProblem(BaseModel):
    field: str  # e.g. "query.limit"
    message: str
    type: str


class Problem(BaseModel):
    """RFC 7807 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = None


class ApiProblem(Exception):
    """Raised by routes: becomes a problem response with this status and detail."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.title = title
        self.headers = dict(headers or {})


def _problem_schema() -> dict[str, Any]:
    return {"schema": {"$ref": "#/components/schemas/Problem"}}


# For `responses=` on routers: every error is documented as problem JSON.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": Problem,
        "description": "A problem with the request (RFC 7807)",
        "content": {PROBLEM_JSON: _problem_schema()},
    },
    500: {
        "model": Problem,
        "description": "An unexpected error (RFC 7807, without internals)",
        "content": {PROBLEM_JSON: _problem_schema()},
    },
}


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    kind: str | None = None,
    instance: str | None = None,
    errors: Sequence[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = Problem(
        type=TYPE_BASE + kind if kind else "about:blank",
        title=title or _title(status),
        status=status,
        detail=detail,
        instance=instance,
        errors=list(errors) if errors is not None else None,
    )
    content = orjson.dumps(body.model_dump(exclude_none=True))
    return Response(content, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def field_path(loc: Sequence[Any]) -> str:
    """("query", "limit") -> "query.limit"; list indexes as [0]."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "request"


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail == _title(exc.status_code):
        detail = None
    return problem_response(exc.status_code, detail, instance=request.url.path, headers=exc.headers)


async def _on_api_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return problem_response(
        exc.status,
        exc.detail,
        title=exc.title,
        kind=exc.kind,
        instance=request.url.path,
        headers=exc.headers,
    )


async def _on_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldProblem(
            field=field_path(error.get("loc", ())),
            message=str(error.get("msg", "invalid")),
            type=str(error.get("type", "value_error")),
        )
        for error in exc.errors()
    ]
    fields = ", ".join(e.field for e in errors)
    return problem_response(
        422,
        f"invalid input: {fields}" if fields else "invalid input",
        kind="invalid-input",
        instance=request.url.path,
        errors=errors,
    )


def internal_error() -> Response:
    return problem_response(500, "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_invalid)
    app.add_exception_handler(ApiProblem, _on_api_problem)
