"""The dashboard's pages and files over HTTP: login, CSRF, CSP, escaping, caching."""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.requests import Request

from api_support import PASSWORD, XSS, Harness, running_api
from web_support import Seeded, add_alert
from wfmon.api.auth.deps import is_public, require
from wfmon.storage import open_database
from wfmon.web import pages
from wfmon.web.assets import PlotlyBundle
from wfmon.web.auth import viewer

Web = tuple[Harness, Seeded]


def page_paths(seeded: Seeded) -> list[str]:
    return [
        "/",
        "/executions",
        "/executions?status=failed&since=24h",
        f"/executions/{seeded.failed_run}",
        "/workflows/checkout",
        "/workflows/" + quote(XSS, safe=""),
        "/alerts",
        f"/alerts/{seeded.firing}",
        "/performance",
        "/performance?window=1h&workflow=" + quote(XSS),
    ]


class InlineCode(HTMLParser):
    """What a strict CSP would refuse: inline scripts, style attributes, event handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script":
            src = dict(attrs).get("src")
            if not src:
                self.found.append("<script> without src")
            else:
                self.scripts.append(src)
        if tag == "style":
            self.found.append("<style>")
        if "style" in names:
            self.found.append(f"style= on <{tag}>")
        self.found += [f"{name}= on <{tag}>" for name in names if name.startswith("on")]


class Ids(HTMLParser):
    """Each element's attributes by its id."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.attrs: dict[str, dict[str, str]] = {}
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if "id" in found:
            self.attrs[found["id"]] = found


async def logged_in(h: Harness, username: str = "alice") -> tuple[httpx.AsyncClient, str]:
    return await h.session(username)


async def test_every_page_sends_a_stranger_to_the_login_and_back(web: Web) -> None:
    h, seeded = web
    stranger = h.client()
    for path in page_paths(seeded):
        answer = await stranger.get(path)
        assert answer.status_code == 303, path
        where, _, params = path.partition("?")  # the path as decoded, the query as sent
        back = unquote(where) + ("?" + params if params else "")
        assert answer.headers["location"] == "/login?next=" + quote(back, safe=""), path
    form = await stranger.get("/login", params={"next": "/alerts?x=1"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    answer = await stranger.post(
        "/login",
        data={
            "username": "alice",
            "password": PASSWORD,
            "csrf_token": token[1],
            "next": "/alerts?x=1",
        },
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/alerts?x=1")
    assert (await stranger.get("/alerts?x=1")).status_code == 200


async def test_an_ended_session_is_sent_to_the_login_too(web: Web) -> None:
    h, _ = web
    client = h.client(cookies={"wfmon_session": "not-a-session"})
    answer = await client.get("/alerts")
    assert (answer.status_code, answer.headers["location"]) == (303, "/login?next=%2Falerts")


async def test_pages_have_a_strict_csp_and_no_inline_code(web: Web) -> None:
    h, seeded = web
    client, _ = await logged_in(h)
    for path in page_paths(seeded):
        answer = await client.get(path)
        assert answer.status_code == 200, path
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp, path
        assert answer.headers["cache-control"] == "no-store"
        parser = InlineCode()
        parser.feed(answer.text)
        assert parser.found == [], (path, parser.found)
        assert all(src.startswith("/ui/") for src in parser.scripts), (path, parser.scripts)


async def test_hostile_names_are_escaped_in_every_page(web: Web) -> None:
    h, seeded = web
    client, _ = await logged_in(h)
    for path in page_paths(seeded):
        text = (await client.get(path)).text
        assert "<script>alert" not in text, path
    overview = (await client.get("/")).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in overview
    assert f'href="/workflows/{quote(XSS, safe="")}"' in overview


async def test_plotly_is_served_gzipped_versioned_and_cached_for_a_year(web: Web) -> None:
    h, _ = web
    client, _ = await logged_in(h)
    performance = (await client.get("/performance")).text
    found = re.search(r'src="(/ui/vendor/plotly-[^"]+\.min\.js)"', performance)
    assert found is not None
    assert "plotly" not in (await client.get("/")).text  # only pages with charts load it
    bundle = PlotlyBundle()
    assert bundle.path is not None
    assert found[1] == bundle.url
    raw = httpx.AsyncClient(base_url=h.url, headers={"Accept-Encoding": "gzip"})
    async with raw:
        request = raw.build_request("GET", found[1])
        answer = await raw.send(request, stream=True)
        body = b"".join([chunk async for chunk in answer.aiter_raw()])  # as sent: gzipped
        await answer.aclose()
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["content-type"].startswith("text/javascript")
    assert len(body) < bundle.path.stat().st_size / 2
    assert gzip.decompress(body) == bundle.path.read_bytes()
    async with httpx.AsyncClient(base_url=h.url, headers={"Accept-Encoding": "identity"}) as c:
        plain = await c.get(found[1])
    assert "content-encoding" not in plain.headers
    assert plain.content == bundle.path.read_bytes()
    assert (await h.client().get("/ui/vendor/plotly-0.0.1.min.js")).status_code == 404


async def test_static_files_are_versioned_immutable_and_revalidated_otherwise(web: Web) -> None:
    h, _ = web
    client, _ = await logged_in(h)
    overview = (await client.get("/")).text
    found = re.search(r'src="(/ui/static/([0-9a-f]+)/js/app\.js)"', overview)
    assert found is not None
    stranger = h.client()  # the login page needs no credentials for them either
    current = await stranger.get(found[1])
    assert current.status_code == 200
    assert current.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert current.headers["content-type"] == "text/javascript; charset=utf-8"
    stale = await stranger.get(found[1].replace(found[2], "0" * 12))
    assert (stale.status_code, stale.headers["cache-control"]) == (200, "no-cache")
    again = await stranger.get(found[1], headers={"If-None-Match": current.headers["etag"]})
    assert again.status_code == 304
    for bad in ("js/nope.js", "..%2F__init__.py", "..%2F..%2Fpages.py", "templates/base.html"):
        assert (await stranger.get(f"/ui/static/{found[2]}/{bad}")).status_code == 404, bad
    icon = await stranger.get("/favicon.ico")
    assert icon.status_code == 301
    assert icon.headers["location"].endswith("/img/icon.svg")


async def test_forms_act_only_with_the_sessions_csrf_token(web: Web) -> None:
    h, _ = web
    alert_id = await add_alert(h.db, "firing", "form test")
    client, csrf = await logged_in(h)
    refused = await client.post(f"/alerts/{alert_id}/ack", data={"note": "x"})
    assert refused.status_code == 403
    wrong = await client.post(f"/alerts/{alert_id}/ack", data={"csrf_token": "nope"})
    assert wrong.status_code == 403
    viewer_client, viewer_csrf = await logged_in(h, "victor")
    read_only = await viewer_client.post(
        f"/alerts/{alert_id}/ack", data={"csrf_token": viewer_csrf}
    )
    assert read_only.status_code == 403
    done = await client.post(
        f"/alerts/{alert_id}/ack",
        data={"csrf_token": csrf, "note": "looking", "back": "//evil.example/"},
    )
    assert (done.status_code, done.headers["location"]) == (303, f"/alerts#alert-{alert_id}")
    stored = await h.services.alerts.get(alert_id)
    assert stored is not None
    assert stored.state.value == "acknowledged"
    history = await h.services.alerts.history(alert_id=alert_id)
    assert (history[-1].actor, history[-1].note) == ("user:alice", "looking")
    resolved = await client.post(
        f"/alerts/{alert_id}/resolve", data={"csrf_token": csrf, "back": "/alerts"}
    )
    assert (resolved.status_code, resolved.headers["location"]) == (303, "/alerts")


async def test_run_now_as_a_form_goes_to_the_new_execution(web: Web) -> None:
    h, _ = web
    client, csrf = await logged_in(h)
    answer = await client.post("/workflows/checkout/run", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert re.fullmatch(r"/executions/\d+", answer.headers["location"])
    assert (await client.get(answer.headers["location"])).status_code == 200
    unknown = await client.post("/workflows/nope/run", data={"csrf_token": csrf})
    assert unknown.status_code == 409
    assert "not a valid workflow" in unknown.text


async def test_missing_things_and_bad_filters_get_pages_not_errors(web: Web) -> None:
    h, _ = web
    client, _ = await logged_in(h)
    for path in ("/executions/999999", "/workflows/nope", "/alerts/999999"):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")
    bad = await client.get("/executions", params={"since": "last tuesday", "status": "boom"})
    assert bad.status_code == 200
    assert "Some filters were ignored" in bad.text
    assert "since:" in bad.text


async def test_the_executions_page_pages_with_cursors(web: Web) -> None:
    h, _ = web
    client, _ = await logged_in(h)
    first = (await client.get("/executions", params={"limit": 25})).text
    ids = [int(i) for i in re.findall(r'<tr class="run-row" data-id="(\d+)"', first)]
    assert len(ids) == 25
    assert ids == sorted(ids, reverse=True)
    older = re.search(r'rel="next" href="([^"]+)"', first)
    assert older is not None
    second = (await client.get(older[1].replace("&amp;", "&"))).text
    more = [int(i) for i in re.findall(r'<tr class="run-row" data-id="(\d+)"', second)]
    assert more
    assert max(more) < min(ids)


def _all(dependant: Any) -> list[Any]:
    found = []
    for dependency in dependant.dependencies:
        found.append(dependency)
        found += _all(dependency)
    return found


async def test_every_web_route_is_public_a_page_behind_login_or_a_guarded_form(web: Web) -> None:
    """Pages are `@manual_auth` for the API's route check: this is what makes that true."""
    h, _ = web
    kinds: dict[str, str] = {}
    for context in iter_route_contexts(pages.router(h.services).routes):
        route = context.original_route
        assert isinstance(route, APIRoute)
        calls = [d.call for d in _all(context.dependant)]
        path = context.path or ""
        if is_public(context.endpoint):
            kinds[path] = "public"
            assert path.startswith("/ui/") or path == "/favicon.ico"
        elif route.methods == {"GET"}:
            kinds[path] = "page"
            assert viewer in calls, path
        else:
            kinds[path] = "form"
            assert require("write") in calls, path
    assert kinds["/"] == "page"
    assert kinds["/alerts/{alert_id}/ack"] == "form"
    assert list(kinds.values()).count("page") == 7


def test_anomaly_marks_follow_the_analytics_route() -> None:
    app = FastAPI()
    scope = {"type": "http", "app": app, "method": "GET", "path": "/", "headers": []}
    assert not pages.has_route(Request(scope), pages.ANOMALIES)

    @app.get(pages.ANOMALIES)
    async def anomalies() -> list[object]:
        return []

    assert pages.has_route(Request(scope), pages.ANOMALIES)


INSIGHT_BOXES = {
    "/": {"incidents-box", "at-risk-box", "open-anomalies-box"},
    "/workflows/checkout": {"prediction-box", "open-anomalies-box"},
}


async def test_the_insights_panel_names_the_analytics_routes_it_reads(web: Web) -> None:
    h, _ = web
    client, _ = await logged_in(h)
    overview = Ids((await client.get("/")).text).attrs
    assert overview["insights"]["data-incidents"] == "/api/v1/incidents"
    assert overview["insights"]["data-predictions"] == "/api/v1/predictions"
    assert overview["insights"]["data-anomalies"] == "/api/v1/anomalies"
    workflow = Ids((await client.get("/workflows/" + quote(XSS, safe=""))).text).attrs
    assert workflow["insights"]["data-workflow"] == XSS
    assert workflow["insights"]["data-predictions"] == "/api/v1/predictions"
    assert workflow["insights"]["data-anomalies"] == "/api/v1/anomalies"
    for path, boxes in INSIGHT_BOXES.items():
        found = Ids((await client.get(path)).text).attrs
        assert boxes <= found.keys(), path
        for route in ("/api/v1/incidents", "/api/v1/predictions", "/api/v1/anomalies"):
            assert (await client.get(route)).status_code == 200, route  # what the panel reads


async def test_without_the_analytics_routes_there_is_no_insights_panel(tmp_path: Path) -> None:
    db = await open_database(f"sqlite:///{tmp_path / 'data' / 'wfmon.db'}")
    try:
        async with running_api(db, tmp_path, "http://127.0.0.1:9", analytics=False) as h:
            client, _ = await h.session()
            for path, boxes in INSIGHT_BOXES.items():
                answer = await client.get(path)
                assert answer.status_code == 200, path
                found = Ids(answer.text).attrs
                assert "insights" not in found, path
                assert not boxes & found.keys(), path
                assert "/api/v1/incidents" not in answer.text, path
                assert "/api/v1/predictions" not in answer.text, path
            performance = await client.get("/performance", params={"workflow": "checkout"})
            assert Ids(performance.text).attrs["perf"]["data-anomalies"] == ""
            assert (await client.get("/api/v1/predictions")).status_code == 404
    finally:
        await db.dispose()


def test_each_analytics_route_is_looked_for_on_its_own() -> None:
    app = FastAPI()
    scope = {"type": "http", "app": app, "method": "GET", "path": "/", "headers": []}
    assert not pages.AnalyticsRoutes.of(Request(scope)).mounted

    @app.get(pages.PREDICTIONS)
    async def predictions() -> list[object]:
        return []

    found = pages.AnalyticsRoutes.of(Request(scope))
    assert found == pages.AnalyticsRoutes(predictions=pages.PREDICTIONS)
    assert found.mounted
