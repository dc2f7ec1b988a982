"""`wfmon db upgrade`."""

from __future__ import annotations

import typer

from wfmon.cli.common import ConfigOption, console, run, settings
from wfmon.storage.db import open_database

app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@app.command()
def upgrade(config: ConfigOption = None) -> None:
    """Apply the database migrations (wfmon also does this on start)."""

    async def go() -> str:
        db = await open_database(settings(config).database_url, upgrade=False)
        try:
            await db.upgrade()
            return db.redacted_url
        finally:
            await db.dispose()

    url = run(go())
    console.print(f"database at {url} is up to date")
