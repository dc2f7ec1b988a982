"""Errors the shop answers with, as RFC 7807 problem documents.

The store and the handlers raise `ShopError`s; one middleware turns every one of them (and the
router's own 404/405) into `application/problem+json`, so a monitor sees a single error shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from aiohttp import web

PROBLEM_BASE = "https://farmers-market.example/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class ShopError(Exception):
    """An expected failure with an HTTP status, a short title and a human detail."""

    status = 500
    slug = "internal-error"
    title = "Internal Server Error"
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(ShopError):
    status, slug, title = 400, "bad-request", "Bad Request"


class Unauthorized(ShopError):
    status, slug, title = 401, "unauthorized", "Unauthorized"
    headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": 'Bearer realm="farmers-market"'}


class Forbidden(ShopError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(ShopError):
    status, slug, title = 404, "not-found", "Not Found"


class Conflict(ShopError):
    status, slug, title = 409, "conflict", "Conflict"


class Invalid(ShopError):
    """The request was well-formed JSON but its values are not acceptable."""

    status, slug, title = 422, "validation-error", "Unprocessable Content"


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    instance: str | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A problem+json response; `extra` adds RFC 7807 extension members."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update(extra or {})
    return web.json_response(
        body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers
    )


def error_response(error: ShopError, instance: str | None = None) -> web.Response:
    return problem_response(
        error.status,
        error.title,
        error.detail,
        slug=error.slug,
        instance=instance,
        extra=error.extra,
        headers=error.headers,
    )
