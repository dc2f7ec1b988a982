"""Users and their login sessions. Storage only: hashing and policy live in api/auth/."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from wfmon.storage.db import Database
from wfmon.storage.records import Row
from wfmon.storage.tables_api import sessions, users

ROLES = ("admin", "viewer")


@dataclass(frozen=True)
class UserRecord:
    id: int
    username: str
    password_hash: str
    role: str
    created_at: datetime
    password_changed_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> UserRecord:
        return cls(
            id=row["id"],
            username=row["username"],
            password_hash=row["password_hash"],
            role=row["role"],
            created_at=row["created_at"],
            password_changed_at=row["password_changed_at"],
        )


@dataclass(frozen=True)
class SessionRecord:
    """A session with what a request needs of its user."""

    id_hash: str
    user_id: int
    username: str
    role: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
        self._insert = (
            insert(users).on_conflict_do_nothing(index_elements=["username"]).returning(users)
        )

    async def add(
        self, username: str, password_hash: str, role: str, now: datetime
    ) -> UserRecord | None:
        """Create a user; None when the name is taken (atomic: two first runs at once
        create one admin)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        row = {
            "username": username,
            "password_hash": password_hash,
            "role": role,
            "created_at": now,
            "password_changed_at": now,
        }
        async with self._db.write() as conn:
            found = (await conn.execute(self._insert, row)).mappings().first()
        return None if found is None else UserRecord.from_row(found)

    async def get(self, username: str) -> UserRecord | None:
        return await self._one(sa.select(users).where(users.c.username == username))

    async def get_by_id(self, user_id: int) -> UserRecord | None:
        return await self._one(sa.select(users).where(users.c.id == user_id))

    async def list(self) -> builtins.list[UserRecord]:
        async with self._db.read() as conn:
            rows = (await conn.execute(sa.select(users).order_by(users.c.username))).mappings()
            return [UserRecord.from_row(r) for r in rows]

    async def count(self) -> int:
        async with self._db.read() as conn:
            query = sa.select(sa.func.count()).select_from(users)
            return int((await conn.execute(query)).scalar_one())

    async def set_password(self, user_id: int, password_hash: str, now: datetime) -> int:
        """Replace the password and end every session of the user, in one transaction;
        returns how many sessions were ended."""
        async with self._db.write() as conn:
            await conn.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(password_hash=password_hash, password_changed_at=now)
            )
            ended = await conn.execute(
                sa.delete(sessions)
                .where(sessions.c.user_id == user_id)
                .returning(sessions.c.id_hash)
            )
            return len(ended.all())

    async def _one(self, query: sa.Select[Any]) -> UserRecord | None:
        async with self._db.read() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else UserRecord.from_row(row)


class SessionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        *,
        id_hash: str,
        user_id: int,
        csrf_token: str,
        now: datetime,
        expires_at: datetime,
        ip: str | None,
        user_agent: str | None,
    ) -> None:
        row = {
            "id_hash": id_hash,
            "user_id": user_id,
            "csrf_token": csrf_token,
            "created_at": now,
            "last_seen_at": now,
            "expires_at": expires_at,
            "ip": ip,
            "user_agent": (user_agent or "")[:300] or None,
        }
        async with self._db.write() as conn:
            await conn.execute(sa.insert(sessions), row)

    async def get(self, id_hash: str) -> SessionRecord | None:
        query = (
            sa.select(
                sessions,
                users.c.username,
                users.c.role,
                users.c.password_changed_at,
            )
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.id_hash == id_hash)
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None or row["created_at"] < row["password_changed_at"]:
            return None
        return SessionRecord(
            id_hash=row["id_hash"],
            user_id=row["user_id"],
            username=row["username"],
            role=row["role"],
            csrf_token=row["csrf_token"],
            created_at=row["created_at"],
            last_seen_at=row["last_seen_at"],
            expires_at=row["expires_at"],
        )

    async def touch(self, id_hash: str, now: datetime) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                sa.update(sessions).where(sessions.c.id_hash == id_hash).values(last_seen_at=now)
            )

    async def delete(self, id_hash: str) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.delete(sessions)
                .where(sessions.c.id_hash == id_hash)
                .returning(sessions.c.id_hash)
            )
            return bool(result.all())

    async def delete_expired(self, now: datetime) -> int:
        """Delete sessions past their absolute expiry (idle ones are refused on use and
        go at their expiry too)."""
        stmt = sa.delete(sessions).where(sessions.c.expires_at <= now)
        async with self._db.write() as conn:
            return int((await conn.execute(stmt)).rowcount or 0)

    async def prune(self, now: datetime, idle_s: float) -> int:
        """Delete sessions past their absolute expiry or idle for longer than `idle_s`."""
        idle_since = now - timedelta(seconds=idle_s)
        stmt = (
            sa.delete(sessions)
            .where(sa.or_(sessions.c.expires_at <= now, sessions.c.last_seen_at < idle_since))
            .returning(sessions.c.id_hash)
        )
        async with self._db.write() as conn:
            return len((await conn.execute(stmt)).all())
