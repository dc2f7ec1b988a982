"""Session validity: absolute and idle expiry, decided from `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wfmon.api.auth.sessions import SessionPolicy, hash_id, session_state
from wfmon.storage.accounts import SessionRecord

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = SessionPolicy(idle_s=3600, max_s=86400)


def record(last_seen_min: float, expires_min: float) -> SessionRecord:
    return SessionRecord(
        id_hash="h",
        user_id=1,
        username="alice",
        role="admin",
        csrf_token="c",
        created_at=T0,
        last_seen_at=T0 + timedelta(minutes=last_seen_min),
        expires_at=T0 + timedelta(minutes=expires_min),
    )


@pytest.mark.parametrize(
    ("now_min", "last_seen_min", "expected"),
    [
        (30, 0, "valid"),
        (60, 0, "valid"),  # exactly the idle limit
        (61, 0, "idle"),
        (120, 100, "valid"),  # used recently
        (1440, 1439, "expired"),  # the absolute limit wins over recent use
    ],
)
def test_a_session_ends_when_idle_or_at_its_absolute_expiry(
    now_min: float, last_seen_min: float, expected: str
) -> None:
    now = T0 + timedelta(minutes=now_min)
    assert session_state(record(last_seen_min, 1440), now, POLICY) == expected


def test_only_the_hash_of_a_cookie_is_stored() -> None:
    assert hash_id("cookie") != "cookie"
    assert len(hash_id("cookie")) == 64
