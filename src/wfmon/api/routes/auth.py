"""Session login for the API and pages: `/api/v1/auth/*`.

Login answers with the session cookie and its CSRF token; every later unsafe request
from the browser sends that token in `X-CSRF-Token`. Failed logins are throttled per
(address, username) and per address (429 with Retry-After).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from wfmon.api.auth import passwords
from wfmon.api.auth.deps import Reader, public
from wfmon.api.auth.sessions import COOKIE
from wfmon.api.params import invalid
from wfmon.api.problems import PROBLEM_RESPONSES, ApiProblem
from wfmon.api.schemas import LoginIn, PasswordChangeIn, SessionOut
from wfmon.api.services import ApiServices
from wfmon.storage.accounts import UserRecord

WRONG = "wrong username or password"


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


async def login_user(s: ApiServices, request: Request, username: str, password: str) -> UserRecord:
    """Check credentials under the throttle; the user, or a 401/429 problem."""
    address = client_address(request)
    now = s.clock.now()
    verdict = s.throttle.check(address, username, now)
    if not verdict.allowed:
        raise ApiProblem(
            429,
            "too many failed logins; wait before trying again",
            kind="login-throttled",
            headers={"Retry-After": str(int(verdict.retry_after_s + 0.999))},
        )
    user = await s.users.get(username)
    ok = await passwords.verify_async(password, user.password_hash if user else None)
    if user is None or not ok:
        s.throttle.failed(address, username, now)
        raise ApiProblem(401, WRONG, kind="login-failed")
    s.throttle.succeeded(address, username)
    return user


def router(s: ApiServices) -> APIRouter:
    r = APIRouter(prefix="/auth", tags=["auth"], responses=PROBLEM_RESPONSES)

    @r.post("/login", response_model=SessionOut, summary="Log in: sets the session cookie")
    @public
    async def login(body: LoginIn, request: Request, response: Response) -> SessionOut:
        user = await login_user(s, request, body.username, body.password)
        new = await s.sessions.start(
            user, client_address(request), request.headers.get("user-agent")
        )
        s.sessions.set_cookie(response, request, new)
        return SessionOut(
            username=user.username,
            role=user.role,
            scope="write" if user.role == "admin" else "read",
            auth="session",
            csrf_token=new.csrf_token,
            expires_at=new.expires_at,
        )

    @r.post("/logout", status_code=204, summary="End this session")
    async def logout(request: Request, response: Response, who: Reader) -> Response:
        cookie = request.cookies.get(COOKIE)
        if who.kind == "session" and cookie:
            await s.sessions.end(cookie)
        answer = Response(status_code=204)
        s.sessions.clear_cookie(answer, request)
        return answer

    @r.get("/session", response_model=SessionOut, summary="Who is logged in, and the CSRF token")
    async def session(who: Reader) -> SessionOut:
        record = who.session
        return SessionOut(
            username=who.name,
            role=record.role if record is not None else None,
            scope=who.scope,
            auth=who.kind,
            csrf_token=record.csrf_token if record is not None else None,
            expires_at=record.expires_at if record is not None else None,
        )

    @r.post(
        "/password",
        response_model=SessionOut,
        summary="Change your password: every session of yours ends, this one is renewed",
    )
    async def change_password(
        body: PasswordChangeIn,
        request: Request,
        response: Response,
        who: Reader,
    ) -> SessionOut:
        if who.kind != "session" or who.session is None:
            raise ApiProblem(403, "log in with a password to change it", kind="forbidden")
        user = await login_user(s, request, who.name, body.current_password)
        try:
            passwords.check_strength(body.new_password)
        except passwords.WeakPassword as error:
            invalid("body.new_password", str(error))
        await s.users.set_password(
            user.id, await passwords.hash_async(body.new_password), s.clock.now()
        )
        s.sessions.forget_all()
        new = await s.sessions.start(
            user, client_address(request), request.headers.get("user-agent")
        )
        s.sessions.set_cookie(response, request, new)
        return SessionOut(
            username=user.username,
            role=user.role,
            scope=who.scope,
            auth="session",
            csrf_token=new.csrf_token,
            expires_at=new.expires_at,
        )

    return r
