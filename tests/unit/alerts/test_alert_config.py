"""Alerting config: inherited rules with overrides, and mistakes reported at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from wfmon.alerts.config import rules_for
from wfmon.alerts.notifiers.base import resolve_env
from wfmon.config.loader import load
from wfmon.errors import NotifierError

CONFIG = """\
alerts:
  rules:
    - {kind: consecutive_failures, failures: 3}
    - {kind: latency, threshold: 2s}
  tags:
    payments:
      rules:
        - {kind: consecutive_failures, failures: 1, severity: critical}
        - {kind: failure_rate, failures: 2, window: 10m}
channels:
  - {name: oncall, kind: webhook, url: "http://127.0.0.1:9/hook", severities: [critical]}
silences:
  - {name: nightly, cron: "0 2 * * *", duration: 1h, timezone: Europe/Berlin, tags: [batch]}
workflows:
  - name: plain
    schedule: "*/5 * * * *"
    steps: [{name: a, type: http, url: "http://x/"}]
  - name: pay
    tags: [payments]
    schedule: "*/5 * * * *"
    alerts:
      rules:
        - {kind: latency, enabled: false}
        - {name: slow-pay, kind: latency, threshold: 1s, step: a}
    steps: [{name: a, type: http, url: "http://x/"}]
  - name: quiet
    schedule: "*/5 * * * *"
    alerts: {enabled: false}
    steps: [{name: a, type: http, url: "http://x/"}]
"""


def test_rules_are_inherited_then_overridden_by_tag_then_by_workflow(tmp_path: Path) -> None:
    path = tmp_path / "wfmon.yaml"
    path.write_text(CONFIG)
    result = load(path, environ={})
    assert not result.problems, result.problems
    by_name = {w.name: w for w in result.workflows}

    plain = {r.key: r for r in rules_for(result.alerts, by_name["plain"])}
    assert list(plain) == ["consecutive_failures", "latency"]
    assert plain["consecutive_failures"].failures == 3  # type: ignore[attr-defined]

    pay = {r.key: r for r in rules_for(result.alerts, by_name["pay"])}
    # the tag replaced consecutive_failures and added failure_rate; the workflow switched
    # the inherited latency off and added its own
    assert list(pay) == ["consecutive_failures", "failure_rate", "slow-pay"]
    assert pay["consecutive_failures"].failures == 1  # type: ignore[attr-defined]

    assert rules_for(result.alerts, by_name["quiet"]) == ()
    assert [c.name for c in result.channels] == ["oncall"]
    assert result.silences[0].duration == 3600


def test_without_alerts_config_every_workflow_gets_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "wfmon.yaml"
    path.write_text("workflows:" + CONFIG.split("workflows:")[1])
    result = load(path, environ={})
    kinds = [getattr(r, "kind", "") for r in rules_for(result.alerts, result.workflows[0])]
    assert kinds == ["consecutive_failures", "no_executions", "tls_expiry", "anomaly"]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        # an unknown rule kind, with a suggestion
        (
            "alerts:\n  rules:\n    - {kind: latncy, threshold: 1s}\n",
            "3:7: alerts.rules[0]: unknown rule kind 'latncy' (hint: did you mean 'latency'?)",
        ),
        # an unknown channel kind
        (
            "channels:\n  - {name: a, kind: slack, url: x}\n",
            "2:5: channels[0]: unknown channel kind 'slack'",
        ),
        # a typo'd key in a channel, with a suggestion
        (
            "channels:\n  - {name: a, kind: webhook, url: x, secrett: y}\n",
            "channels[0].secrett: unknown key 'secrett' (hint: did you mean 'secret'?)",
        ),
        # a silence without an end
        (
            "silences:\n  - {start: 2026-03-01T10:00:00Z, workflows: [a]}\n",
            "2:5: silences[0]: a one-off silence needs both start and end",
        ),
        # a bad cron in a silence
        (
            'silences:\n  - {cron: "0 2 * *", duration: 1h}\n',
            "silences[0].cron: cron expression '0 2 * *' has 4 fields",
        ),
        # a severity that does not exist
        (
            "alerts:\n  rules:\n    - {kind: anomaly, severity: urgent}\n",
            "alerts.rules[0].severity: Input should be 'critical', 'degraded', 'warning' or 'info'",
        ),
        # an enabled latency rule needs its threshold (a disabled one does not)
        (
            "alerts:\n  rules:\n    - {kind: latency}\n",
            "3:7: alerts.rules[0]: latency needs a threshold",
        ),
        # a secret that is not set
        (
            "channels:\n  - {name: a, kind: webhook, url: '${env:HOOK_URL}'}\n",
            "2:30: channels[0].url: environment variable HOOK_URL is not set",
        ),
        # two channels with one name
        (
            "channels:\n  - {name: a, kind: webhook, url: x}\n  - {name: a, kind: webhook, url: y}\n",
            "3:6: channels[1].name: duplicate channel name 'a'",
        ),
        # a rule about a step the workflow does not have
        (
            "workflows:\n  - name: w\n    schedule: '* * * * *'\n"
            "    alerts: {rules: [{kind: latency, threshold: 1s, step: pay}]}\n"
            "    steps: [{name: a, type: http, url: 'http://x/'}]\n",
            "4:53: workflows[0].alerts.rules[0].step: no step named 'pay' in this workflow",
        ),
    ],
)
def test_mistakes_come_out_with_file_line_and_hint(
    tmp_path: Path, snippet: str, expected: str
) -> None:
    path = tmp_path / "wfmon.yaml"
    path.write_text(snippet)
    problems = [str(p) for p in load(path, environ={}).problems]
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(f"{path}:") for p in problems)
    assert len(problems) == 1, problems  # one mistake, one line


def test_alerts_in_two_files_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("alerts: {remind_every: 1h}\n")
    (tmp_path / "b.yaml").write_text("alerts: {remind_every: 2h}\nchannels: []\n")
    problems = [str(p) for p in load(tmp_path, environ={}).problems]
    assert any("`alerts:` is set in more than one file" in p for p in problems)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://hooks/${env:TOKEN}", "https://hooks/t0k"),
        ("${env:MISSING:-fallback}", "fallback"),
        ("plain", "plain"),
    ],
)
def test_secrets_are_read_from_the_environment_at_send_time(text: str, expected: str) -> None:
    assert resolve_env(text, {"TOKEN": "t0k"}) == expected


def test_a_missing_secret_is_a_permanent_failure() -> None:
    with pytest.raises(NotifierError) as caught:
        resolve_env("${env:NOPE}", {})
    assert caught.value.permanent
