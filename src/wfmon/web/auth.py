"""Who is looking at a page: the API's session (or token), or a trip to the login form.

A page request without valid credentials is sent to `/login?next=<this page>` (the API's
login form, which returns there after logging in) instead of getting a 401 document. The
page routes are marked `@manual_auth` for the API's route check because they authenticate
here, through the `viewer` dependency every one of them takes as `who: Seen` (a test in
tests/integration/web checks that for every GET route of the dashboard).

Unsafe requests never come through here: forms post to routes guarded by the API's own
`require("write")`, which checks the session's CSRF token (`csrf_token` form field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from wfmon.api.auth.deps import Principal, authenticator_of
from wfmon.api.problems import ApiProblem

LOGIN = "/login"


def login_url(request: Request) -> str:
    """`/login?next=...` back to this page, query string included."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return f"{LOGIN}?next={quote(target, safe='')}"


@dataclass(frozen=True)
class Viewer:
    name: str
    can_write: bool
    csrf_token: str  # "" for a token (a browser session always has one)

    @classmethod
    def of(cls, principal: Principal) -> Viewer:
        token = principal.session.csrf_token if principal.session is not None else ""
        return cls(principal.name, principal.scope == "write", token)


async def viewer(request: Request) -> Viewer:
    try:
        principal = await authenticator_of(request).authenticate(request)
    except ApiProblem:  # an ended session or a bad token: log in again
        principal = None
    if principal is None:
        raise ApiProblem(
            303,
            "log in to see this page",
            kind="login-required",
            headers={"Location": login_url(request)},
        )
    return Viewer.of(principal)


Seen = Annotated[Viewer, Depends(viewer)]
