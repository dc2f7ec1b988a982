"""Server-rendered pages of the API itself: the login form, the public status page and
the API docs. Jinja2 with autoescaping on: a workflow named `<script>...` is text.

The dashboard pages (a later task) use the same session login: they send people to
`/login?next=/their/page`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from wfmon.api.auth import csrf
from wfmon.api.auth.deps import public
from wfmon.api.auth.sessions import COOKIE
from wfmon.api.problems import ApiProblem
from wfmon.api.public_status import public_status
from wfmon.api.routes.auth import client_address, login_user
from wfmon.api.schemas import PublicStatusOut
from wfmon.api.services import ApiServices

HOME = "/"  # where a login lands without `next`: the dashboard (wfmon.web)


def operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation of an OpenAPI document, as the docs page lists them."""
    out = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            if not isinstance(op, dict):
                continue
            out.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary") or "",
                    "description": op.get("description") or "",
                    "parameters": [
                        {
                            "name": p.get("name", ""),
                            "in": p.get("in", ""),
                            "required": bool(p.get("required")),
                            "description": p.get("description") or "",
                        }
                        for p in op.get("parameters", [])
                    ],
                    "responses": sorted(op.get("responses", {})),
                    "tag": (op.get("tags") or ["api"])[0],
                }
            )
    return sorted(out, key=lambda o: (o["tag"], o["path"], o["method"]))


def templates() -> Environment:
    return Environment(
        loader=PackageLoader("wfmon.api", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//evil.example` or `https://...`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    return target


def router(s: ApiServices) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    env = templates()

    def page(name: str, code: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**values), status_code=code)

    def login_page(
        request: Request, next_: str, *, error: str = "", username: str = "", status: int = 200
    ) -> HTMLResponse:
        token = csrf.new_token()
        response = page(
            "login.html", status, csrf_token=token, next=next_, error=error, username=username
        )
        response.set_cookie(
            csrf.LOGIN_COOKIE,
            token,
            max_age=3600,
            path="/login",
            secure=s.sessions.secure(request),
            httponly=True,
            samesite="strict",
        )
        return response

    @r.get("/login")
    @public
    async def login_form(
        request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
    ) -> HTMLResponse:
        return login_page(request, safe_next(next))

    @r.post("/login")
    @public
    async def login_submit(
        request: Request,
        username: Annotated[str, Form(max_length=100)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        csrf_token: Annotated[str, Form(max_length=200)] = "",
        next: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        target = safe_next(next)
        if not csrf.matches(request.cookies.get(csrf.LOGIN_COOKIE), csrf_token):
            return login_page(
                request, target, error="The form expired: please try again.", status=403
            )
        try:
            user = await login_user(s, request, username, password)
        except ApiProblem as problem:
            error = (
                "Too many failed attempts: wait a few minutes."
                if problem.status == 429
                else "Wrong username or password."
            )
            return login_page(
                request, target, error=error, username=username, status=problem.status
            )
        new = await s.sessions.start(
            user, client_address(request), request.headers.get("user-agent")
        )
        response = RedirectResponse(target, status_code=303)
        s.sessions.set_cookie(response, request, new)
        response.delete_cookie(csrf.LOGIN_COOKIE, path="/login")
        return response

    @r.post("/logout", dependencies=[Depends(s.auth.require("read"))])
    async def logout_form(request: Request) -> RedirectResponse:
        cookie = request.cookies.get(COOKIE)
        if cookie:
            await s.sessions.end(cookie)
        response = RedirectResponse("/login", status_code=303)
        s.sessions.clear_cookie(response, request)
        return response

    @r.get("/api/docs", dependencies=[Depends(s.auth.require("read"))])
    async def docs(request: Request) -> HTMLResponse:
        # Rendered here from the OpenAPI document, not by Swagger UI from a CDN: the
        # reference must work offline and under the site's strict CSP.
        return page("docs.html", operations=operations(request.app.openapi()))

    if s.settings.public_status:

        async def status_data() -> PublicStatusOut:
            overview, _ = await s.overview()
            return await public_status(overview, s.workflows, s.rollups)

        @r.get("/status")
        @public
        async def status_page() -> HTMLResponse:
            return page("status.html", data=await status_data())

        @r.get(
            "/api/v1/public/status",
            response_model=PublicStatusOut,
            include_in_schema=True,
            tags=["public"],
            summary="Public workflows' state and uptime (when WFMON_PUBLIC_STATUS is on)",
        )
        @public
        async def status_json() -> PublicStatusOut:
            return await status_data()

    return r
