"""Query parameters: times as ISO or as a duration back from now; opaque cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.exceptions import RequestValidationError

from wfmon.api.params import decode_cursor, encode_cursor, parse_time

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", NOW - timedelta(hours=24)),
        ("90m", NOW - timedelta(minutes=90)),
        ("2026-05-01T00:00:00Z", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01T02:00:00+02:00", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01", datetime(2026, 5, 1, tzinfo=UTC)),  # no offset: UTC
        ("", None),
        (None, None),
    ],
)
def test_times_parse_as_iso_or_durations(text: str | None, expected: datetime | None) -> None:
    assert parse_time(text, "query.since", NOW) == expected


@pytest.mark.parametrize(
    "text", ["soon", "1969-12-31T00:00:00Z", "9999-12-31T23:59:59-23:59", "100000d"]
)
def test_bad_times_are_validation_errors_naming_the_parameter(text: str) -> None:
    with pytest.raises(RequestValidationError) as error:
        parse_time(text, "query.since", NOW)
    assert error.value.errors()[0]["loc"] == ("query", "since")


def test_cursors_round_trip_and_forgeries_are_refused() -> None:
    assert decode_cursor(encode_cursor(12345)) == 12345
    assert decode_cursor(None) is None
    for bad in ("abc", encode_cursor(1)[:-2] + "!!", "YmVmb3JlOi0x"):  # the last: before:-1
        with pytest.raises(RequestValidationError):
            decode_cursor(bad)
