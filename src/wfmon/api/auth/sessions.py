"""Login sessions: server-side rows behind a random cookie.

The cookie holds 256 random bits; the table holds only their SHA-256, so a leaked copy of
the database cannot be replayed as a login. A session ends at its absolute expiry, after
`idle_s` without use, at logout, or when the user's password changes (every session of
that user is deleted). A new session is created at every login, never reused, so a
session id planted before login (fixation) is worthless.

Cookie: `HttpOnly; SameSite=Strict; Path=/`, and `Secure` when the request came over
https (or always/never, by setting).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from starlette.requests import HTTPConnection
from starlette.responses import Response

from wfmon.api.auth import csrf
from wfmon.api.cache import TtlCache
from wfmon.api.settings import SecureCookies
from wfmon.clock import Clock
from wfmon.storage.accounts import SessionRecord, SessionRepository, UserRecord

COOKIE = "wfmon_session"
TOUCH_EVERY_S = 60.0  # last_seen_at is written at most this often per session

SessionState = Literal["valid", "expired", "idle"]


@dataclass(frozen=True)
class SessionPolicy:
    idle_s: float = 7200.0
    max_s: float = 86400.0
    secure: SecureCookies = "auto"


def session_state(record: SessionRecord, now: datetime, policy: SessionPolicy) -> SessionState:
    """Pure: is the session still good at `now`, and if not why."""
    if now >= record.expires_at:
        return "expired"
    if now - record.last_seen_at > timedelta(seconds=policy.idle_s):
        return "idle"
    return "valid"


def hash_id(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class NewSession:
    cookie_value: str
    csrf_token: str
    expires_at: datetime


class SessionManager:
    def __init__(
        self,
        repo: SessionRepository,
        clock: Clock,
        policy: SessionPolicy,
        cache_s: float = 5.0,
    ) -> None:
        self._repo = repo
        self._clock = clock
        self.policy = policy
        self._cache: TtlCache[str, SessionRecord] = TtlCache(clock, cache_s)

    async def start(self, user: UserRecord, ip: str | None, user_agent: str | None) -> NewSession:
        value = secrets.token_urlsafe(32)
        now = self._clock.now()
        new = NewSession(value, csrf.new_token(), now + timedelta(seconds=self.policy.max_s))
        await self._repo.create(
            id_hash=hash_id(value),
            user_id=user.id,
            csrf_token=new.csrf_token,
            now=now,
            expires_at=new.expires_at,
            ip=ip,
            user_agent=user_agent,
        )
        return new

    async def lookup(self, value: str) -> SessionRecord | None:
        """The live session behind a cookie value, or None."""
        if not value or len(value) > 200:
            return None
        key = hash_id(value)
        now = self._clock.now()
        record = self._cache.get(key)
        if record is None:
            record = await self._repo.get(key)
            if record is None:
                return None
        if session_state(record, now, self.policy) != "valid":
            self._cache.discard(key)
            return None
        if (now - record.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
            await self._repo.touch(key, now)
            record = replace(record, last_seen_at=now)
        self._cache.put(key, record)
        return record

    async def end(self, value: str) -> None:
        key = hash_id(value)
        self._cache.discard(key)
        await self._repo.delete(key)

    def forget_all(self) -> None:
        """Drop cached sessions (after a password change ended some)."""
        self._cache.clear()

    def secure(self, conn: HTTPConnection) -> bool:
        if self.policy.secure == "always":
            return True
        if self.policy.secure == "never":
            return False
        return conn.url.scheme in ("https", "wss")

    def set_cookie(self, response: Response, conn: HTTPConnection, new: NewSession) -> None:
        response.set_cookie(
            COOKIE,
            new.cookie_value,
            max_age=int(self.policy.max_s),
            path="/",
            secure=self.secure(conn),
            httponly=True,
            samesite="strict",
        )

    def clear_cookie(self, response: Response, conn: HTTPConnection) -> None:
        response.delete_cookie(
            COOKIE, path="/", secure=self.secure(conn), httponly=True, samesite="strict"
        )
