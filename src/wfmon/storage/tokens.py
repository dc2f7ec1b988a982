"""API tokens, stored as SHA-256 hashes; the secret itself is shown once and never kept."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from wfmon.storage.db import Database
from wfmon.storage.records import Row
from wfmon.storage.tables_api import api_tokens

SCOPES = ("read", "write")


@dataclass(frozen=True)
class TokenRecord:
    id: int
    name: str
    prefix: str
    scope: str
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    @classmethod
    def from_row(cls, row: Row) -> TokenRecord:
        return cls(
            id=row["id"],
            name=row["name"],
            prefix=row["prefix"],
            scope=row["scope"],
            created_by=row["created_by"],
            created_at=row["created_at"],
            last_used_at=row["last_used_at"],
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
        )


class TokenRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        *,
        name: str,
        prefix: str,
        token_hash: str,
        scope: str,
        now: datetime,
        created_by: str | None = None,
        expires_at: datetime | None = None,
    ) -> TokenRecord:
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
        row = {
            "name": name,
            "prefix": prefix,
            "token_hash": token_hash,
            "scope": scope,
            "created_by": created_by,
            "created_at": now,
            "last_used_at": None,
            "expires_at": expires_at,
            "revoked_at": None,
        }
        async with self._db.write() as conn:
            found = (
                await conn.execute(sa.insert(api_tokens).returning(api_tokens), row)
            ).mappings()
            return TokenRecord.from_row(found.one())

    async def find(self, token_hash: str) -> TokenRecord | None:
        """The token with this hash, revoked or not (the caller checks `usable`)."""
        query = sa.select(api_tokens).where(api_tokens.c.token_hash == token_hash)
        async with self._db.read() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else TokenRecord.from_row(row)

    async def list(self, *, include_revoked: bool = False) -> builtins.list[TokenRecord]:
        query = sa.select(api_tokens).order_by(api_tokens.c.id)
        if not include_revoked:
            query = query.where(api_tokens.c.revoked_at.is_(None))
        async with self._db.read() as conn:
            return [TokenRecord.from_row(r) for r in (await conn.execute(query)).mappings()]

    async def revoke(self, prefix: str, now: datetime) -> bool:
        """Revoke by visible prefix; False if no such live token."""
        stmt = (
            sa.update(api_tokens)
            .where(api_tokens.c.prefix == prefix, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(api_tokens.c.id)
        )
        async with self._db.write() as conn:
            return bool((await conn.execute(stmt)).all())

    async def touch(self, token_id: int, now: datetime) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                sa.update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now)
            )
