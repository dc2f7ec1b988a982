"""The operator's commands through the CLI, on a real SQLite file: alerts list / ack /
resolve / history, silence add / list / expire, notify test / list / retry, and status."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from alert_support import Rig, load_config
from wfmon.cli import app as cli
from wfmon.clock import FakeClock
from wfmon.domain.alert import NotificationStatus
from wfmon.storage import OutboxRepository, open_database

CONFIG = """\
alerts:
  rules: [{{kind: consecutive_failures}}]
  heartbeat: {{enabled: false}}
  grouping: {{window: 0s}}
channels:
  - {{name: hook, kind: webhook, url: "{url}/hook"}}
workflows:
  - name: checkout
    schedule: "* * * * *"
    steps: [{{name: login, type: http, url: "https://shop.example/login"}}]
"""


class _Handler(BaseHTTPRequestHandler):
    codes: ClassVar[list[int]] = []  # what to answer next (a fresh list per test)
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        code = self.codes.pop(0) if self.codes else 200
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b'{"ok": true, "id": "rcv-7"}' if code == 200 else b"bad token")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"codes": [], "bodies": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def env(tmp_path: Path, hook: tuple[str, type[_Handler]]) -> dict[str, str]:
    """A database with one firing alert (notified), and its config file."""
    url = f"sqlite:///{tmp_path / 'wfmon.db'}"
    config = load_config(tmp_path, CONFIG.format(url=hook[0]))

    async def seed() -> None:
        db = await open_database(url)
        rig = await Rig.build(db, config, FakeClock(datetime.now(UTC) - timedelta(hours=1)))
        await rig.runs("checkout", "FF")
        await rig.close()
        await db.dispose()

    asyncio.run(seed())
    return {
        "WFMON_DATABASE_URL": url,
        "WFMON_CONFIG": str(tmp_path / "wfmon.yaml"),
        "COLUMNS": "200",
        "USER": "alice",
    }


def invoke(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env=env)


def test_list_ack_resolve_and_the_history_as_csv_and_json(env: dict[str, str]) -> None:
    listed = invoke(env, "alerts", "list", "--json")
    assert listed.exit_code == 0, listed.output
    [alert] = json.loads(listed.output)
    assert (alert["state"], alert["workflow"]) == ("firing", "checkout")

    acked = invoke(env, "alerts", "ack", str(alert["id"]), "--note", "on it")
    assert (acked.exit_code, "acknowledged" in acked.output) == (0, True)
    again = invoke(env, "alerts", "ack", str(alert["id"]))
    assert (again.exit_code, "already acknowledged" in again.output) == (0, True)
    resolved = invoke(env, "alerts", "resolve", str(alert["id"]), "--by", "bob", "--note", "fixed")
    assert (resolved.exit_code, "resolved" in resolved.output) == (0, True)
    assert invoke(env, "alerts", "ack", "999").exit_code == 1

    exported = invoke(env, "alerts", "history", "--format", "csv", "--since", "0")
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert [(r["event"], r["actor"], r["note"]) for r in rows] == [
        ("fired", "system", ""),
        ("acknowledged", "cli:alice", "on it"),
        ("resolved", "bob", "fixed"),
    ]
    assert rows[0]["execution_ids"]  # why: the executions that caused it
    as_json = json.loads(invoke(env, "alerts", "history", "--format", "json").output)
    assert [e["to_state"] for e in as_json] == ["firing", "acknowledged", "resolved"]


def test_silences_are_added_listed_and_expired(env: dict[str, str]) -> None:
    added = invoke(env, "silence", "add", "-w", "checkout", "--for", "2h", "-m", "deploying")
    assert added.exit_code == 0, added.output
    [silence] = json.loads(invoke(env, "silence", "list", "--json").output)
    assert (silence["workflows"], silence["active"], silence["author"]) == (
        ["checkout"],
        True,
        "cli:alice",
    )
    assert invoke(env, "silence", "expire", str(silence["id"])).exit_code == 0
    assert json.loads(invoke(env, "silence", "list", "--json").output) == []
    refused = invoke(env, "silence", "add", "--for", "1h", "-m", "x")
    assert refused.exit_code == 2  # no matcher: say what it covers, or --all


def test_notify_test_prints_the_receivers_answer(
    env: dict[str, str], hook: tuple[str, type[_Handler]]
) -> None:
    _, handler = hook
    sent = invoke(env, "notify", "test", "hook")
    assert sent.exit_code == 0, sent.output
    assert 'delivered: 200 {"ok": true, "id": "rcv-7"}' in sent.output
    assert json.loads(handler.bodies[-1])["test"] is True

    handler.codes.append(401)
    refused = invoke(env, "notify", "test", "hook")
    assert refused.exit_code == 1
    assert "not delivered (permanent: fix the channel): HTTP 401: bad token" in refused.output
    assert invoke(env, "notify", "test", "nope").exit_code == 2


def test_dead_notifications_show_in_status_and_can_be_retried(
    env: dict[str, str], hook: tuple[str, type[_Handler]]
) -> None:
    _, handler = hook
    handler.codes.append(403)
    flushed = invoke(env, "notify", "flush")
    assert "0 batch(es) sent, 1 dead" in flushed.output, flushed.output

    status = invoke(env, "status", "--json")
    data = json.loads(status.output)
    assert data["alerts"]["notifications"]["dead"] == 1
    assert [a["workflow"] for a in data["alerts"]["open"]] == ["checkout"]
    codes = {r["code"] for r in data["assessment"]["reasons"]}
    assert {"alerts_firing", "notifications_dead"} <= codes
    shown = invoke(env, "status")
    assert "Alerts" in shown.output
    assert "1 dead" in shown.output

    [dead] = json.loads(invoke(env, "notify", "list", "--status", "dead", "--json").output)
    assert dead["last_code"] == 403
    assert invoke(env, "notify", "retry", str(dead["id"])).exit_code == 0
    assert "1 batch(es) sent, 0 dead" in invoke(env, "notify", "flush").output

    async def statuses() -> list[NotificationStatus]:
        db = await open_database(env["WFMON_DATABASE_URL"], upgrade=False)
        try:
            return [n.status for n in await OutboxRepository(db).list()]
        finally:
            await db.dispose()

    assert asyncio.run(statuses()) == [NotificationStatus.SENT]
