"""Who may call what: tokens, sessions, CSRF, throttling, the public routes."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI

from api_support import PASSWORD, Harness, running_api
from support import Lab
from wfmon.api.app import UnguardedRoute, check_routes
from wfmon.api.settings import ApiSettings
from wfmon.storage import open_database

PUBLIC = {"/healthz", "/readyz", "/login", "/status", "/api/v1/public/status"}
PLACEHOLDERS = {"name": "checkout", "execution_id": "1", "alert_id": "1", "silence_id": "1"}


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["title"]
    return body


def _operations(schema: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for path, item in schema["paths"].items():
        for method in item:
            found.append((method.upper(), re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS[m[1]], path)))
    return found


async def test_every_route_but_the_public_ones_answers_401_problem_json_without_credentials(
    api: Harness,
) -> None:
    schema = (await api.reader().get("/api/openapi.json")).json()
    anonymous = api.client()
    extra = [("GET", "/api/openapi.json"), ("GET", "/api/docs"), ("GET", "/metrics")]
    operations = [*_operations(schema), *extra, ("POST", "/logout")]
    checked = 0
    for method, path in operations:
        if path in PUBLIC or path.endswith("/auth/login"):
            continue
        body = _problem(await anonymous.request(method, path), 401)
        assert body["type"].endswith("/unauthenticated")
        checked += 1
    assert checked >= 20


async def test_public_routes_answer_without_credentials(api: Harness) -> None:
    anonymous = api.client()
    for path in ("/healthz", "/readyz", "/login", "/status", "/api/v1/public/status"):
        answer = await anonymous.get(path)
        assert answer.status_code == 200, (path, answer.text)


def test_an_app_with_an_unguarded_route_is_refused() -> None:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    router = APIRouter()

    @router.get("/leak")
    async def leak() -> dict[str, str]:
        return {}

    app.include_router(router)
    with pytest.raises(UnguardedRoute, match="/leak"):
        check_routes(app)


async def test_a_read_token_reads_but_cannot_act(api: Harness) -> None:
    reader = api.reader()
    assert (await reader.get("/api/v1/workflows")).status_code == 200
    body = _problem(await reader.post("/api/v1/workflows/checkout/run"), 403)
    assert "write" in body["detail"]


async def test_a_wrong_token_is_refused_even_beside_a_valid_session_cookie(api: Harness) -> None:
    client, _ = await api.session()
    answer = await client.get(
        "/api/v1/workflows", headers={"Authorization": "Bearer wfm_00000000_nope-nope-nope-nope"}
    )
    _problem(answer, 401)
    _problem(await client.get("/api/v1/workflows", headers={"Authorization": "Basic abc"}), 401)


async def test_a_revoked_token_stops_working(api: Harness) -> None:
    reader = api.reader()
    assert (await reader.get("/api/v1/overview")).status_code == 200
    prefix = "_".join(api.read_token.split("_")[:2])
    assert await api.services.tokens.revoke(prefix)
    _problem(await reader.get("/api/v1/overview"), 401)


async def test_login_sets_a_strict_http_only_session_cookie(api: Harness) -> None:
    client = api.client()
    answer = await client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["username"] == "alice"
    assert body["scope"] == "write"
    assert body["csrf_token"]
    header = answer.headers["set-cookie"]
    assert "HttpOnly" in header
    assert "SameSite=strict" in header or "SameSite=Strict" in header
    assert "Secure" not in header  # plain http on loopback, secure_cookies=auto
    cookie = SimpleCookie(header)["wfmon_session"]
    assert len(cookie.value) >= 40


async def test_cookies_are_secure_when_configured(tmp_path: Path, lab: Lab) -> None:
    db = await open_database(f"sqlite:///{tmp_path / 'wfmon.db'}")
    try:
        settings = ApiSettings(secure_cookies="always")
        async with running_api(db, tmp_path, lab.base_url, settings) as api:
            answer = await api.client().post(
                "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}
            )
            assert "Secure" in answer.headers["set-cookie"]
    finally:
        await db.dispose()


async def test_a_session_needs_its_csrf_token_for_unsafe_requests(api: Harness) -> None:
    client, csrf = await api.session()
    assert (await client.get("/api/v1/auth/session")).json()["csrf_token"] == csrf
    body = _problem(await client.post("/api/v1/silences", json={"comment": "x"}), 403)
    assert body["type"].endswith("/csrf")
    wrong = await client.post(
        "/api/v1/silences", json={"comment": "x"}, headers={"X-CSRF-Token": "nope"}
    )
    _problem(wrong, 403)
    right = await client.post(
        "/api/v1/silences",
        json={
            "comment": "deploy",
            "starts_at": "2026-01-01T00:00:00Z",
            "ends_at": "2026-01-01T01:00:00Z",
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert right.status_code == 201, right.text
    assert right.json()["author"] == "user:alice"


async def test_bearer_requests_need_no_csrf_token(api: Harness) -> None:
    answer = await api.writer().post(
        "/api/v1/silences",
        json={
            "comment": "ci",
            "starts_at": "2026-01-01T00:00:00Z",
            "ends_at": "2026-01-02T00:00:00Z",
        },
    )
    assert answer.status_code == 201
    assert answer.json()["author"] == "token:ci"


async def test_a_viewer_session_reads_but_cannot_act(api: Harness) -> None:
    client, csrf = await api.session("victor")
    assert (await client.get("/api/v1/workflows")).status_code == 200
    answer = await client.post("/api/v1/workflows/checkout/run", headers={"X-CSRF-Token": csrf})
    _problem(answer, 403)


async def test_wrong_passwords_are_refused_then_throttled(api: Harness) -> None:
    client = api.client()
    for _ in range(5):
        answer = await client.post(
            "/api/v1/auth/login", json={"username": "alice", "password": "wrong password"}
        )
        assert _problem(answer, 401)["detail"] == "wrong username or password"
    throttled = await client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}
    )
    _problem(throttled, 429)
    assert int(throttled.headers["retry-after"]) > 0
    # An unknown user gets the same answer as a wrong password.
    other = await client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
    assert _problem(other, 401)["detail"] == "wrong username or password"


async def test_logout_ends_the_session(api: Harness) -> None:
    client, csrf = await api.session()
    assert (
        await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    ).status_code == 204
    client.cookies.clear()
    _problem(await client.get("/api/v1/overview"), 401)


async def test_a_password_change_ends_every_other_session(api: Harness) -> None:
    first, csrf = await api.session()
    second, _ = await api.session()
    answer = await first.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a much better password"},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 200, answer.text
    _problem(await second.get("/api/v1/overview"), 401)
    assert (await first.get("/api/v1/overview")).status_code == 200  # renewed
    fresh = await api.client().post(
        "/api/v1/auth/login", json={"username": "alice", "password": "a much better password"}
    )
    assert fresh.status_code == 200


async def test_a_weak_new_password_is_a_422_naming_the_field(api: Harness) -> None:
    client, csrf = await api.session()
    answer = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers={"X-CSRF-Token": csrf},
    )
    body = _problem(answer, 422)
    assert body["errors"][0]["field"] == "body.new_password"


async def test_the_login_page_uses_a_csrf_cookie_and_redirects_after_login(api: Harness) -> None:
    client = api.client()
    page = await client.get("/login", params={"next": "/api/v1/overview"})
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    form = {
        "username": "alice",
        "password": PASSWORD,
        "csrf_token": token[1],
        "next": "/api/v1/overview",
    }
    answer = await client.post("/login", data=form)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/api/v1/overview"
    assert (await client.get("/api/v1/overview")).status_code == 200


async def test_the_login_form_is_refused_without_its_csrf_cookie(api: Harness) -> None:
    form = {"username": "alice", "password": PASSWORD, "csrf_token": "forged", "next": "/"}
    answer = await api.client().post("/login", data=form)
    assert answer.status_code == 403
    assert "wfmon_session" not in answer.headers.get("set-cookie", "")


async def test_the_login_page_never_redirects_off_site(api: Harness) -> None:
    page = await api.client().get("/login", params={"next": "//evil.example/x"})
    assert 'value="//evil.example' not in page.text
