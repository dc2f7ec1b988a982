"""The admin API: switch faults at run time and reset the shop, behind `X-Admin-Token`.

Faults never apply here, so an operator can always undo what they switched on.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import ClassVar

from aiohttp import web

from wfmon.demo.faults import FaultPlanError, parse_plan
from wfmon.demo.inputs import json_body
from wfmon.demo.problems import Invalid, Unauthorized
from wfmon.demo.state import SHOP

ADMIN_HEADER = "X-Admin-Token"


class AdminUnauthorized(Unauthorized):
    # An admin token is not a bearer token: no WWW-Authenticate challenge to follow.
    headers: ClassVar[Mapping[str, str]] = {}


def _require_admin(request: web.Request) -> None:
    expected = request.app[SHOP].admin_token
    given = request.headers.get(ADMIN_HEADER, "")
    # An empty configured token switches the admin API off rather than letting anyone in.
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise AdminUnauthorized(f"send the admin token in the {ADMIN_HEADER} header")


async def get_faults(request: web.Request) -> web.Response:
    _require_admin(request)
    return web.json_response(request.app[SHOP].faults.to_json())


async def put_faults(request: web.Request) -> web.Response:
    """Replace the plan. A GET, edit, PUT round trip keeps `degrade_since`; leaving it out
    starts the degradation now."""
    _require_admin(request)
    body = await json_body(request)
    try:
        plan = parse_plan(body)
    except FaultPlanError as exc:
        raise Invalid(f"the fault plan is invalid: {exc}") from None
    return web.json_response(request.app[SHOP].set_faults(plan).to_json())


async def delete_faults(request: web.Request) -> web.Response:
    _require_admin(request)
    request.app[SHOP].clear_faults()
    return web.Response(status=204)


async def reset(request: web.Request) -> web.Response:
    """Fresh data and the faults the shop was started with, as after a restart."""
    _require_admin(request)
    request.app[SHOP].reset()
    return web.Response(status=204)
