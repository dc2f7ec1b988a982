"""Retention cutoffs: a pure function of the policy and `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wfmon.journal import RetentionPolicy

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_defaults_keep_raw_rows_30_days_and_hourly_rollups_400() -> None:
    cut = RetentionPolicy().cutoffs(NOW)
    assert cut.executions == NOW - timedelta(days=30)
    assert cut.minute_rollups == cut.executions
    assert cut.hour_rollups == NOW - timedelta(days=400)
    assert cut.events == NOW - timedelta(hours=24)
    assert cut.sessions == NOW


def test_the_environment_overrides_the_defaults() -> None:
    policy = RetentionPolicy.from_env(
        {"WFMON_RETENTION_DAYS": "7", "WFMON_RETENTION_ROLLUP_DAYS": "90",
         "WFMON_RETENTION_MINUTE_ROLLUP_DAYS": "2"}
    )  # fmt: skip
    cut = policy.cutoffs(NOW)
    assert cut.executions == NOW - timedelta(days=7)
    assert cut.minute_rollups == NOW - timedelta(days=2)
    assert cut.hour_rollups == NOW - timedelta(days=90)


@pytest.mark.parametrize("env", [{"WFMON_RETENTION_DAYS": "many"}, {"WFMON_RETENTION_DAYS": "-1"}])
def test_bad_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"WFMON_RETENTION_DAYS|executions_days"):
        RetentionPolicy.from_env(env)
