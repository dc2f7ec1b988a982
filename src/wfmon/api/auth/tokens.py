"""API tokens: `wfm_<8 hex>_<43 random>`, stored as SHA-256; scopes read | write.

The visible prefix (`wfm_1a2b3c4d`) names a token in lists and in `wfmon token revoke`;
the whole token is shown once, at creation. A token is looked up by its hash (no
comparison of secrets happens in Python: the database compares two hashes of a 256-bit
secret, so timing says nothing useful). Verified tokens are cached for a few seconds.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from wfmon.api.cache import TtlCache
from wfmon.clock import Clock
from wfmon.storage.tokens import TokenRecord, TokenRepository

PREFIX = "wfm_"
TOUCH_EVERY_S = 300.0


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once
    prefix: str
    token_hash: str


def new_token() -> NewToken:
    visible = PREFIX + secrets.token_hex(4)
    token = f"{visible}_{secrets.token_urlsafe(32)}"
    return NewToken(token, visible, token_hash(token))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(text: str) -> bool:
    return text.startswith(PREFIX) and 20 < len(text) < 200


class TokenService:
    def __init__(self, repo: TokenRepository, clock: Clock, cache_s: float = 5.0) -> None:
        self._repo = repo
        self._clock = clock
        self._cache: TtlCache[str, TokenRecord] = TtlCache(clock, cache_s)

    async def create(
        self,
        name: str,
        scope: str,
        *,
        created_by: str | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[NewToken, TokenRecord]:
        new = new_token()
        record = await self._repo.add(
            name=name,
            prefix=new.prefix,
            token_hash=new.token_hash,
            scope=scope,
            now=self._clock.now(),
            created_by=created_by,
            expires_at=expires_at,
        )
        return new, record

    async def verify(self, token: str) -> TokenRecord | None:
        """The usable token record for `token`, or None."""
        if not looks_like_token(token):
            return None
        key = token_hash(token)
        now = self._clock.now()
        record = self._cache.get(key)
        if record is None:
            record = await self._repo.find(key)
            if record is None:
                return None
        if not record.usable(now):
            self._cache.discard(key)
            return None
        last = record.last_used_at
        if last is None or (now - last).total_seconds() >= TOUCH_EVERY_S:
            await self._repo.touch(record.id, now)
            record = replace(record, last_used_at=now)
        self._cache.put(key, record)
        return record

    async def revoke(self, prefix: str) -> bool:
        self._cache.clear()
        return await self._repo.revoke(prefix, self._clock.now())
