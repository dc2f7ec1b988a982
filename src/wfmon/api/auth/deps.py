"""Who is asking: the `require(scope)` dependency every protected route uses.

A request is authenticated by a Bearer token (`Authorization: Bearer wfm_...`) or, failing
that, by the session cookie. Scopes: `read` (every GET) and `write` (running a workflow,
acknowledging an alert...). A session of an `admin` has write, of a `viewer` read. An
unsafe request authenticated by the cookie must carry the session's CSRF token.

Routes without `require` must be marked `@public` (or `@manual_auth` when they check
credentials themselves, like the WebSocket); `create_api` refuses to build an app with a
route that is neither (see `check_routes`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPBearer
from starlette.requests import HTTPConnection

from wfmon.api.auth import csrf
from wfmon.api.auth.sessions import COOKIE, SessionManager
from wfmon.api.auth.tokens import TokenService
from wfmon.api.problems import ApiProblem
from wfmon.storage.accounts import SessionRecord

Scope = Literal["read", "write"]
F = TypeVar("F", bound=Callable[..., Any])

_PUBLIC = "__wfmon_public__"
_MANUAL = "__wfmon_manual_auth__"
_REQUIRE = "__wfmon_require__"

# Declared for OpenAPI (and tools such as schemathesis); parsing is ours.
bearer_scheme = HTTPBearer(auto_error=False, description="An API token: `wfmon token create`")
cookie_scheme = APIKeyCookie(name=COOKIE, auto_error=False, description="A login session")


@dataclass(frozen=True)
class Principal:
    kind: Literal["session", "token"]
    name: str  # the username, or the token's name
    scope: Scope
    session: SessionRecord | None = None
    token_prefix: str | None = None

    @property
    def actor(self) -> str:
        """How audit trails name who did something: `user:alice`, `token:grafana`."""
        return f"user:{self.name}" if self.kind == "session" else f"token:{self.name}"


def public(fn: F) -> F:
    """Mark a route that needs no credentials (health probes, login, public status)."""
    setattr(fn, _PUBLIC, True)
    return fn


def manual_auth(fn: F) -> F:
    """Mark a route that authenticates inside (the WebSocket)."""
    setattr(fn, _MANUAL, True)
    return fn


def is_public(fn: Any) -> bool:
    return bool(getattr(fn, _PUBLIC, False))


def is_manual(fn: Any) -> bool:
    return bool(getattr(fn, _MANUAL, False))


def is_guard(fn: Any) -> bool:
    return bool(getattr(fn, _REQUIRE, False))


def unauthorized(detail: str = "log in, or send an API token as a Bearer token") -> ApiProblem:
    return ApiProblem(
        401,
        detail,
        kind="unauthenticated",
        headers={"WWW-Authenticate": 'Bearer realm="wfmon"'},
    )


class Authenticator:
    def __init__(self, sessions: SessionManager, tokens: TokenService) -> None:
        self.sessions = sessions
        self.tokens = tokens

    async def authenticate(self, conn: HTTPConnection) -> Principal | None:
        """The principal behind a request or WebSocket; None without credentials.

        Raises a 401 for credentials that are present but wrong: a bad token is not
        silently replaced by a cookie that happens to be there too.
        """
        header = conn.headers.get("authorization")
        if header is not None:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise unauthorized("the Authorization header must be `Bearer <token>`")
            record = await self.tokens.verify(value.strip())
            if record is None:
                raise unauthorized("the token is unknown, revoked or expired")
            scope: Scope = "write" if record.scope == "write" else "read"
            return Principal("token", record.name, scope, token_prefix=record.prefix)
        cookie = conn.cookies.get(COOKIE)
        if cookie:
            session = await self.sessions.lookup(cookie)
            if session is None:
                raise unauthorized("the session has ended: log in again")
            scope = "write" if session.role == "admin" else "read"
            return Principal("session", session.username, scope, session=session)
        return None

    def require(self, scope: Scope) -> Callable[..., Awaitable[Principal]]:
        """The dependency for `scope` (the same module-level function for every app)."""
        return require(scope)

    async def check(self, request: Request, scope: Scope) -> Principal:
        """The principal, if it may act with `scope` (401/403 otherwise)."""
        principal = await self.authenticate(request)
        if principal is None:
            raise unauthorized()
        if scope == "write" and principal.scope != "write":
            raise ApiProblem(
                403, "this needs the write scope (an admin, or a write token)", kind="forbidden"
            )
        if principal.kind == "session" and request.method not in csrf.SAFE_METHODS:
            await check_csrf(request, principal)
        return principal


def authenticator_of(conn: HTTPConnection) -> Authenticator:
    found = getattr(conn.app.state, "authenticator", None)
    assert isinstance(found, Authenticator), "create_api sets app.state.authenticator"
    return found


# Module-level on purpose: FastAPI resolves `Annotated[..., Depends(x)]` through the
# module's globals (annotations are strings here), so a dependency made inside a function
# would silently become a query parameter. `check_routes` catches that kind of mistake.
async def read_principal(
    request: Request,
    _bearer: Annotated[Any, Security(bearer_scheme)],
    _cookie: Annotated[Any, Security(cookie_scheme)],
) -> Principal:
    return await authenticator_of(request).check(request, "read")


async def write_principal(
    request: Request,
    _bearer: Annotated[Any, Security(bearer_scheme)],
    _cookie: Annotated[Any, Security(cookie_scheme)],
) -> Principal:
    return await authenticator_of(request).check(request, "write")


setattr(read_principal, _REQUIRE, "read")
setattr(write_principal, _REQUIRE, "write")

Reader = Annotated[Principal, Depends(read_principal)]
Writer = Annotated[Principal, Depends(write_principal)]


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """The dependency that admits `scope`: for `dependencies=[Depends(require("read"))]`."""
    return write_principal if scope == "write" else read_principal


async def check_csrf(request: Request, principal: Principal) -> None:
    assert principal.session is not None
    presented = request.headers.get(csrf.HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        field = form.get(csrf.FORM_FIELD)
        presented = field if isinstance(field, str) else None
    if not csrf.matches(principal.session.csrf_token, presented):
        raise ApiProblem(
            403,
            f"missing or wrong CSRF token: send the session's token in {csrf.HEADER}",
            kind="csrf",
        )
