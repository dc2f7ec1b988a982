"""Every registered channel kind through the same cases, against real local receivers:
an HTTP server on loopback (webhook, and Apprise's json:// URLs) and a minimal SMTP
responder (email). A new kind adds its receiver setup to `SETUPS`; the first test fails
until it does."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from pydantic import TypeAdapter

from alert_support import Receiver, receiver
from wfmon.alerts.config import ChannelSpec
from wfmon.alerts.messages import Message, MessageRenderer, NoticeItem
from wfmon.alerts.notifiers import CHANNEL_KINDS, ChannelBase, Delivery, SendContext
from wfmon.clock import SystemClock
from wfmon.domain.alert import AlertState, EventKind, Severity
from wfmon.errors import NotifierError

SECRET = "tok-SECRET-123"
ITEM = NoticeItem(
    event_id=1,
    event=EventKind.FIRED,
    reason="failed_in_a_row",
    message="failed 2 runs in a row",
    at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    actor="system",
    alert_id=3,
    dedup_key="consecutive_failures:checkout",
    rule="consecutive_failures",
    kind="consecutive_failures",
    severity=Severity.CRITICAL,
    state=AlertState.FIRING,
    summary="failed 2 runs in a row",
    workflow="checkout",
    facts={"step": "login", "expected": "== 200", "actual": 503},
)


def message() -> Message:
    return MessageRenderer().render(delivery_id="41-1", channel="c", group_key="g", items=[ITEM])


# -- a minimal SMTP server ------------------------------------------------------------------


@dataclass
class Smtp:
    port: int = 0
    messages: list[bytes] = field(default_factory=list)
    rcpt_code: int = 250  # 550: no such mailbox (permanent), 451: try later (transient)


async def _smtp_session(
    box: Smtp, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    def say(line: str) -> None:
        writer.write(line.encode() + b"\r\n")

    say("220 localhost ESMTP wfmon-test")
    while line := await reader.readline():
        verb = line.decode(errors="replace").strip().upper()
        if verb.startswith(("EHLO", "HELO")):
            say("250-localhost")
            say("250 8BITMIME")
        elif verb.startswith("RCPT"):
            say(f"{box.rcpt_code} " + ("OK" if box.rcpt_code == 250 else "refused"))
        elif verb == "DATA":
            say("354 go ahead")
            data = b""
            while (chunk := await reader.readline()) not in (b".\r\n", b""):
                data += chunk
            box.messages.append(data)
            say("250 2.0.0 queued as TEST42")
        elif verb == "QUIT":
            say("221 bye")
            await writer.drain()
            break
        else:  # MAIL, RSET, NOOP
            say("250 OK")
        await writer.drain()
    writer.close()


@asynccontextmanager
async def smtp_server() -> AsyncIterator[Smtp]:
    box = Smtp()
    server = await asyncio.start_server(lambda r, w: _smtp_session(box, r, w), "127.0.0.1", 0)
    box.port = server.sockets[0].getsockname()[1]
    try:
        yield box
    finally:
        server.close()


# -- one setup per kind: (channel config, make the receiver refuse, what it received) ------------


@dataclass
class Setup:
    config: dict[str, Any]
    refuse: Callable[[str], None]  # "permanent" | "transient" | "accept"
    received: Callable[[], list[str]]  # what arrived, as text


def _http_refusal(recv: Receiver) -> Callable[[str], None]:
    codes = {"accept": 200, "permanent": 401, "transient": 503}

    def refuse(mode: str) -> None:
        recv.respond = lambda _got: codes[mode]

    return refuse


@asynccontextmanager
async def webhook_setup() -> AsyncIterator[Setup]:
    async with receiver() as recv:
        config = {"kind": "webhook", "url": f"{recv.url}/hook", "secret": "${env:TOKEN}"}
        yield Setup(config, _http_refusal(recv), lambda: [r.body.decode() for r in recv.requests])


@asynccontextmanager
async def apprise_setup() -> AsyncIterator[Setup]:
    async with receiver() as recv:
        host = recv.url.removeprefix("http://")
        config = {"kind": "apprise", "url": f"json://{host}/apprise?token=${{env:TOKEN}}"}
        yield Setup(config, _http_refusal(recv), lambda: [r.body.decode() for r in recv.requests])


@asynccontextmanager
async def email_setup() -> AsyncIterator[Setup]:
    async with smtp_server() as smtp:
        config = {
            "kind": "email",
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": "none",
            "from": "wfmon@example.test",
            "to": ["oncall@example.test"],
        }

        def refuse(mode: str) -> None:
            smtp.rcpt_code = {"accept": 250, "permanent": 550, "transient": 451}[mode]

        yield Setup(config, refuse, lambda: [m.decode(errors="replace") for m in smtp.messages])


SETUPS = {"webhook": webhook_setup, "apprise": apprise_setup, "email": email_setup}


def test_every_registered_kind_has_a_contract_setup() -> None:
    assert set(SETUPS) == set(CHANNEL_KINDS)


def channel(config: dict[str, Any]) -> ChannelBase:
    built: ChannelBase = TypeAdapter(ChannelSpec).validate_python({"name": "c", **config})
    return built


async def send(ch: ChannelBase) -> Delivery:
    async with aiohttp.ClientSession() as session:
        ctx = SendContext(session, {"TOKEN": SECRET}, SystemClock(), timeout_s=10)
        return await ch.send(message(), ctx)


@pytest.fixture(params=sorted(SETUPS))
async def setup(request: pytest.FixtureRequest) -> AsyncIterator[Setup]:
    async with SETUPS[request.param]() as built:
        yield built


async def test_an_accepted_message_arrives_with_its_content(setup: Setup) -> None:
    delivery = await send(channel(setup.config))

    assert isinstance(delivery, Delivery)
    [text] = setup.received()
    assert "checkout" in text
    assert "failed 2 runs in a row" in text
    assert SECRET not in delivery.answer


@pytest.mark.parametrize(("mode", "permanent"), [("permanent", True), ("transient", False)])
async def test_a_refusal_says_whether_a_retry_can_help(
    setup: Setup, mode: str, permanent: bool
) -> None:
    setup.refuse(mode)
    with pytest.raises(NotifierError) as caught:
        await send(channel(setup.config))
    assert caught.value.permanent is permanent
    assert SECRET not in str(caught.value)


async def test_an_unreachable_receiver_is_transient(setup: Setup) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = dict(setup.config)
    if config["kind"] == "email":
        config["port"] = port
    else:
        config["url"] = f"{'json' if config['kind'] == 'apprise' else 'http'}://127.0.0.1:{port}/x"
    with pytest.raises(NotifierError) as caught:
        await send(channel(config))
    assert not caught.value.permanent
