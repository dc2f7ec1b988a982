"""Live events: Server-Sent Events at `/api/v1/events`, the same over WebSocket at
`/api/v1/ws`.

Kinds: execution.finished, alert.changed, health.changed, workflow.changed. Each event
has the event log's id; a client resumes after a disconnect with `Last-Event-ID` (SSE
does it by itself) or `?last_event_id=` (WebSocket, or a first SSE connection), and gets
the events it missed (kept a day) before the live ones. Heartbeats every
`heartbeat_s`: an SSE comment (`: ping`), a WebSocket message `{"kind": "ping"}`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, WebSocket
from fastapi.responses import Response
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.websockets import WebSocketDisconnect, WebSocketState

from wfmon.api.auth.deps import manual_auth
from wfmon.api.params import invalid
from wfmon.api.problems import PROBLEM_RESPONSES, ApiProblem
from wfmon.api.services import ApiServices

Kind = Literal["execution.finished", "alert.changed", "health.changed", "workflow.changed"]
PING = '{"kind":"ping"}'
SSE_RETRY = b"retry: 2000\n\n"
POLICY_VIOLATION = 1008
GOING_AWAY = 1001
TRY_AGAIN_LATER = 1013


class EventStream(Response):
    media_type = "text/event-stream"


def _last_id(header: str | None, query: int | None) -> int | None:
    if header is not None and header.strip():
        try:
            value = int(header.strip())
        except ValueError:
            invalid("header.last-event-id", "an event id is a whole number")
        if value < 0:
            invalid("header.last-event-id", "an event id is not negative")
        return value
    return query


def router(s: ApiServices) -> APIRouter:
    r = APIRouter(tags=["events"], responses=PROBLEM_RESPONSES)

    @r.get(
        "/events",
        response_class=EventStream,
        dependencies=[Depends(s.auth.require("read"))],
        summary="Live events as Server-Sent Events (resumable with Last-Event-ID)",
        responses={200: {"description": "text/event-stream: `id`, `event` (the kind), `data`"}},
    )
    async def events(
        kind: Annotated[list[Kind] | None, Query(description="Only these kinds")] = None,
        last_event_id: Annotated[
            int | None, Query(ge=0, lt=2**63, description="Resume after this id")
        ] = None,
        last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    ) -> EventSourceResponse:
        after = _last_id(last_event_id_header, last_event_id)
        stream = s.hub.open(after, kind)

        async def frames() -> AsyncIterator[bytes]:
            try:
                yield SSE_RETRY
                async for event in stream:
                    yield event.sse
            finally:
                stream.close()

        return EventSourceResponse(
            frames(),
            ping=s.settings.heartbeat_s,
            ping_message_factory=lambda: ServerSentEvent(comment="ping"),
            send_timeout=30,
        )

    @r.websocket("/ws")
    @manual_auth
    async def websocket(
        socket: WebSocket,
        kind: Annotated[list[Kind] | None, Query()] = None,
        last_event_id: Annotated[int | None, Query(ge=0, lt=2**63)] = None,
    ) -> None:
        try:
            principal = await s.auth.authenticate(socket)
        except ApiProblem:
            principal = None
        if principal is None:
            await socket.close(POLICY_VIOLATION, "authentication required")
            return
        if principal.kind == "session" and not _same_origin(socket):
            # A cookie arrives with any page's WebSocket: refuse other sites' pages.
            await socket.close(POLICY_VIOLATION, "cross-origin WebSocket refused")
            return
        stream = s.hub.open(last_event_id, kind)
        await socket.accept()
        lock = asyncio.Lock()

        async def send(text: str) -> None:
            async with lock:
                await socket.send_text(text)

        async def pump() -> int:
            async for event in stream:
                await send(event.message)
            return GOING_AWAY if s.hub.closed else TRY_AGAIN_LATER

        async def ping() -> int:
            while True:
                await s.clock.sleep(s.settings.heartbeat_s)
                await send(PING)

        async def receive() -> int:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    return 0

        tasks = [asyncio.create_task(job()) for job in (pump, ping, receive)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            stream.close()
        code = next((t.result() for t in done if not t.cancelled() and t.exception() is None), 0)
        if code and socket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await socket.close(code)

    return r


def _same_origin(socket: WebSocket) -> bool:
    origin = socket.headers.get("origin")
    if origin is None:
        return True  # not a browser
    host = socket.headers.get("host", "")
    return origin.split("://", 1)[-1].rstrip("/") == host
