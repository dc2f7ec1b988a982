"""Reading what a request carries (JSON fields, query and path numbers, the bearer token),
raising problem errors a client can act on instead of letting a KeyError become a 500."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from wfmon.demo.problems import BadRequest, Invalid, Unauthorized
from wfmon.demo.records import User
from wfmon.demo.state import SHOP


async def json_body(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body counts as `{}`."""
    if not request.can_read_body:
        return {}
    try:
        data = json.loads(await request.read() or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise Invalid(
            f"{name} must be a string",
            errors=[{"field": name, "message": "missing" if value is None else "not a string"}],
        )
    return value


def int_field(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    # bool is an int in Python, but `"quantity": true` is a client bug worth reporting.
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(
            f"{name} must be an integer",
            errors=[{"field": name, "message": "missing" if value is None else "not an integer"}],
        )
    return value


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"query parameter {name} must be an integer, not {raw!r}") from None
    if not low <= value <= high:
        raise Invalid(f"query parameter {name} must be between {low} and {high}")
    return value


def query_bool(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name, "").lower()
    if raw == "":
        return None
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise Invalid(f"query parameter {name} must be true or false, not {raw!r}")


def path_id(request: web.Request, name: str = "id") -> int:
    """The router only matches digits, so this cannot fail on a well-routed request."""
    return int(request.match_info[name])


def bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def session(request: web.Request) -> tuple[str, User]:
    """The bearer token and its user; 401 when either is missing."""
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("send Authorization: Bearer <token> from POST /api/auth/login")
    user = request.app[SHOP].store.user_for_token(token)
    if user is None:
        raise Unauthorized("the token is unknown or was logged out")
    return token, user


def current_user(request: web.Request) -> User:
    return session(request)[1]
