"""Alembic environment for wfmon.

wfmon runs migrations itself (`Database.upgrade()`, `wfmon db upgrade`) and hands this file
an open connection through `config.attributes["connection"]`: no alembic.ini, and the
migration shares the caller's transaction and its PostgreSQL advisory lock.

To write a migration, autogenerate it against a database at the current head:

    from alembic import command
    from wfmon.storage.db import alembic_config
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", "sqlite:///dev.db")
    command.revision(config, message="add x", autogenerate=True, rev_id="0002")

then review it and make it self-contained (no imports from tables.py). `render_as_batch`
keeps ALTERs working on SQLite, which recreates the table instead.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context

from wfmon.storage.db import VERSION_TABLE, create_engine
from wfmon.storage.tables import metadata


def _run_with(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database with -x url=sqlite:///path or postgresql://...")
    return url


async def _run_with_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run_with)
    finally:
        await engine.dispose()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
    elif context.is_offline_mode():
        context.configure(
            url=_url(), target_metadata=metadata, version_table=VERSION_TABLE, literal_binds=True
        )
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_with_url(_url()))


main()
