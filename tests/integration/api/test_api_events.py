"""Live events over SSE and WebSocket: from the bus, from another process, resumed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from api_support import PASSWORD, Harness, execution, now_utc, running_api
from support import Lab
from wfmon.api.settings import ApiSettings
from wfmon.storage import open_database
from wfmon.storage.event_log import EventLogRepository

WAIT_S = 5.0


async def frames(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """SSE frames as dicts: id, event, data (parsed), comment, retry."""
    frame: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if line == "":
            if frame:
                yield frame
            frame = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            frame[name] = json.loads(value) if name == "data" else value


async def next_frame(
    stream: AsyncIterator[dict[str, Any]], *, comments: bool = False
) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        async for frame in stream:
            if comments or "comment" not in frame:
                return frame
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(read(), WAIT_S)


async def open_events(
    client: httpx.AsyncClient, **params: Any
) -> tuple[httpx.Response, AsyncIterator[dict[str, Any]]]:
    headers = params.pop("headers", {})
    request = client.build_request("GET", "/api/v1/events", params=params, headers=headers)
    response = await client.send(request, stream=True)
    assert response.status_code == 200, await response.aread()
    assert response.headers["content-type"].startswith("text/event-stream")
    stream = frames(response)
    first = await next_frame(stream)
    assert first == {"retry": "2000"}  # sent once subscribed: nothing later is missed
    return response, stream


async def test_an_event_published_in_process_arrives_over_sse(api_both: Harness) -> None:
    response, stream = await open_events(api_both.reader())
    try:
        result = execution(now_utc(), duration_ms=42)
        [execution_id] = await api_both.record([result])
        await api_both.publish("execution.finished", {"id": execution_id}, result)
        frame = await next_frame(stream)
        assert frame["event"] == "execution.finished"
        assert int(frame["id"]) > 0
        data = frame["data"]
        assert data["id"] == execution_id
        assert data["workflow"] == "checkout"
        assert data["status"] == "succeeded"
        assert data["steps"] == [{"name": "home", "status": "succeeded", "duration_ms": 42.0}]
    finally:
        await response.aclose()


async def test_an_event_written_by_another_process_arrives_by_polling(api_both: Harness) -> None:
    response, stream = await open_events(api_both.reader())
    try:
        # What a daemon in another process does: a row in the event log, no wake-up here.
        [event_id] = await EventLogRepository(api_both.db).append(
            [("health.changed", {"name": "disk", "ok": False})], now_utc()
        )
        frame = await next_frame(stream)
        assert frame == {
            "id": str(event_id),
            "event": "health.changed",
            "data": {"name": "disk", "ok": False},
        }
    finally:
        await response.aclose()


async def test_a_client_resumes_after_its_last_event_id(api_both: Harness) -> None:
    log = EventLogRepository(api_both.db)
    ids = await log.append(
        [
            ("workflow.changed", {"n": 1}),
            ("workflow.changed", {"n": 2}),
            ("workflow.changed", {"n": 3}),
        ],
        now_utc(),
    )
    await api_both.services.hub.poll_once()
    response, stream = await open_events(api_both.reader(), headers={"Last-Event-ID": str(ids[0])})
    try:
        assert [(await next_frame(stream))["data"]["n"] for _ in range(2)] == [2, 3]
        await api_both.publish("workflow.changed", {"n": 4})
        assert (await next_frame(stream))["data"]["n"] == 4
    finally:
        await response.aclose()


async def test_a_client_may_ask_for_some_kinds_only(api: Harness) -> None:
    response, stream = await open_events(api.reader(), kind="alert.changed")
    try:
        await api.publish("workflow.changed", {"n": 1})
        await api.publish("alert.changed", {"alert_id": 7})
        frame = await next_frame(stream)
        assert frame["event"] == "alert.changed"
        assert frame["data"] == {"alert_id": 7}
    finally:
        await response.aclose()


async def test_a_bad_last_event_id_is_a_422(api: Harness) -> None:
    answer = await api.reader().get("/api/v1/events", headers={"Last-Event-ID": "x"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "header.last-event-id"


@pytest.fixture
async def chatty(tmp_path: Path, lab: Lab) -> AsyncIterator[Harness]:
    """An API whose live streams send heartbeats every 50 ms."""
    db = await open_database(f"sqlite:///{tmp_path / 'wfmon.db'}")
    try:
        settings = ApiSettings(event_poll_s=0.05, heartbeat_s=0.05)
        async with running_api(db, tmp_path, lab.base_url, settings) as harness:
            yield harness
    finally:
        await db.dispose()


async def test_sse_streams_carry_heartbeats(chatty: Harness) -> None:
    response, stream = await open_events(chatty.reader())
    try:
        assert await next_frame(stream, comments=True) == {"comment": "ping"}
    finally:
        await response.aclose()


def ws_url(api: Harness, query: str = "") -> str:
    return api.url.replace("http://", "ws://") + "/api/v1/ws" + query


async def test_the_same_events_arrive_over_websocket_and_resume(api_both: Harness) -> None:
    headers = {"Authorization": f"Bearer {api_both.read_token}"}
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(ws_url(api_both), headers=headers) as ws:
            await api_both.publish("alert.changed", {"alert_id": 1})
            message = json.loads(await asyncio.wait_for(ws.receive_str(), WAIT_S))
            assert message["kind"] == "alert.changed"
            assert message["data"] == {"alert_id": 1}
            first = message["id"]
        await api_both.publish("alert.changed", {"alert_id": 2})
        await api_both.services.hub.poll_once()
        query = f"?last_event_id={first}"
        async with session.ws_connect(ws_url(api_both, query), headers=headers) as ws:
            message = json.loads(await asyncio.wait_for(ws.receive_str(), WAIT_S))
            assert message["data"] == {"alert_id": 2}


async def test_websocket_needs_credentials_and_a_same_site_page(api: Harness) -> None:
    # unsafe=True: keep cookies of an IP address host (127.0.0.1).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(ws_url(api))
        assert refused.value.status == 403
        login = await session.post(
            api.url + "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}
        )
        assert login.status == 200
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(ws_url(api), headers={"Origin": "https://evil.example"})
        host = api.url.removeprefix("http://")
        async with session.ws_connect(ws_url(api), headers={"Origin": f"http://{host}"}) as ws:
            await api.publish("workflow.changed", {"n": 1})
            message = json.loads(await asyncio.wait_for(ws.receive_str(), WAIT_S))
            assert message["kind"] == "workflow.changed"


async def test_websocket_streams_carry_heartbeats(chatty: Harness) -> None:
    headers = {"Authorization": f"Bearer {chatty.read_token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(ws_url(chatty), headers=headers) as ws,
    ):
        message = json.loads(await asyncio.wait_for(ws.receive_str(), WAIT_S))
        assert message == {"kind": "ping"}
