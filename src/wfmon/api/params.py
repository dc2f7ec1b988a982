"""Query parameters shared by routes: names, times, cursors. Bad values are 422 problems
naming the parameter, like pydantic's own."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from fastapi.exceptions import RequestValidationError

from wfmon.config.base import parse_duration

# Any printable text, as in the config (shown escaped everywhere).
NAME_PATTERN = r"^[^\x00-\x1f\x7f]{1,120}$"
TIME_HELP = "An ISO 8601 time (UTC if no offset), or a duration back from now: 90m, 24h, 7d"
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def invalid(field: str, message: str) -> NoReturn:
    raise RequestValidationError(
        [{"loc": tuple(field.split(".")), "msg": message, "type": "value_error"}]
    )


def parse_time(text: str | None, field: str, now: datetime) -> datetime | None:
    """`2026-01-02T03:04:05Z`, `2026-01-02` (midnight UTC), or `24h` (now minus that)."""
    if text is None or text == "":
        return None
    value = text.strip()
    try:
        seconds = parse_duration(value)
    except ValueError:
        pass
    else:
        if seconds > (now - _EARLIEST).total_seconds():
            invalid(field, "that is before 1970")
        return now - timedelta(seconds=seconds)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        invalid(field, f"not a time or a duration: {TIME_HELP}")
    if when.tzinfo is None or when.utcoffset() is None:
        when = when.replace(tzinfo=UTC)
    try:
        when = when.astimezone(UTC)
    except (OverflowError, ValueError):
        invalid(field, "out of range")
    if not _EARLIEST <= when < _LATEST:
        invalid(field, "must be between 1970 and 2200")
    return when


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"before:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        last_id = int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        invalid("query.cursor", "not a cursor from a previous page")
    if kind != "before" or not 0 < last_id < 2**63:
        invalid("query.cursor", "not a cursor from a previous page")
    return last_id
