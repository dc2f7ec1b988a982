"""`wfmon serve` (the API alone), `wfmon user ...`, `wfmon token ...`, `wfmon rollups ...`."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Annotated, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from wfmon.api.auth import passwords
from wfmon.api.auth.tokens import TokenService
from wfmon.api.settings import ApiSettings
from wfmon.app import build_app
from wfmon.cli.common import EXIT_CONFIG, ConfigOption, console, err_console, run, settings
from wfmon.clock import SystemClock
from wfmon.config.base import parse_duration
from wfmon.logs import configure
from wfmon.storage import Database, open_database
from wfmon.storage.accounts import ROLES, UserRepository
from wfmon.storage.rollup_backfill import rebuild
from wfmon.storage.tokens import SCOPES, TokenRepository

T = TypeVar("T")

users_app = typer.Typer(
    help="Accounts that can log in to the API and dashboard.", no_args_is_help=True
)
tokens_app = typer.Typer(help="API tokens (Bearer), stored hashed.", no_args_is_help=True)
rollups_app = typer.Typer(help="Per-minute and per-hour aggregates.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="user")
    app.add_typer(tokens_app, name="token")
    app.add_typer(rollups_app, name="rollups")


def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Default $WFMON_API_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default $WFMON_API_PORT or 8080.")] = None,
    log_format: Annotated[str, typer.Option("--log-format", help="text or json.")] = "text",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the API alone against the daemon's database (live events come through it).

    `wfmon run` serves the API itself unless given --no-api: use this to serve it from
    another process or host. Stops on SIGTERM or SIGINT.
    """
    from wfmon.api.wiring import serve as serve_api  # FastAPI and uvicorn: only when serving

    configure(log_format, log_level)
    conf = settings(config)
    api_settings = ApiSettings.from_env(host=host, port=port)

    async def go() -> None:
        stop = asyncio.Event()
        with _stop_on_signals(stop):
            async with build_app(conf) as app:
                await serve_api(app, api_settings, stop)

    run(go())


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    added = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            added.append(sig)
    try:
        yield
    finally:
        for sig in added:
            loop.remove_signal_handler(sig)


def _with_db(config: ConfigOption, work: Callable[[Database], Awaitable[T]]) -> T:
    async def go() -> T:
        db = await open_database(settings(config).database_url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return run(go())


def _read_password(password_stdin: bool, generate: bool) -> tuple[str, bool]:
    """(password, generated). From stdin, generated, or asked for twice."""
    if generate:
        return passwords.generate_password(), True
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        passwords.check_strength(password)
    except passwords.WeakPassword as error:
        err_console.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_CONFIG) from error
    return password, False


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]
Generate = Annotated[bool, typer.Option("--generate", help="Make a random password, shown once.")]


@users_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Option(help="admin (read and write) or viewer (read).")] = "admin",
    password_stdin: PasswordStdin = False,
    generate: Generate = False,
    config: ConfigOption = None,
) -> None:
    """Create an account (asks for the password unless --password-stdin or --generate)."""
    if role not in ROLES:
        raise typer.BadParameter(f"use one of {', '.join(ROLES)}", param_hint="--role")
    if not 0 < len(username) <= 100 or not username.isprintable():
        raise typer.BadParameter("1 to 100 printable characters", param_hint="USERNAME")
    password, generated = _read_password(password_stdin, generate)

    async def work(db: Database) -> bool:
        hashed = await passwords.hash_async(password)
        created = await UserRepository(db).add(username, hashed, role, SystemClock().now())
        return created is not None

    if not _with_db(config, work):
        err_console.print(Text.assemble(("a user named ", "red"), username, (" exists", "red")))
        raise typer.Exit(EXIT_CONFIG)
    console.print(Text.assemble("created ", (username, "bold"), f" ({role})"))
    if generated:
        console.print(Text.assemble("password (shown once): ", (password, "bold")))


@users_app.command("list")
def user_list(config: ConfigOption = None) -> None:
    """List accounts."""
    found = _with_db(config, lambda db: UserRepository(db).list())
    table = Table(title_justify="left")
    for column in ("username", "role", "created", "password changed"):
        table.add_column(column)
    for user in found:
        table.add_row(
            Text(user.username),
            user.role,
            f"{user.created_at:%Y-%m-%d %H:%M}",
            f"{user.password_changed_at:%Y-%m-%d %H:%M}",
        )
    console.print(table if found else "no users yet")


@users_app.command("passwd")
def user_passwd(
    username: Annotated[str, typer.Argument(help="The login name.")],
    password_stdin: PasswordStdin = False,
    generate: Generate = False,
    config: ConfigOption = None,
) -> None:
    """Set a new password; every session of the user ends."""
    password, generated = _read_password(password_stdin, generate)

    async def work(db: Database) -> int | None:
        users = UserRepository(db)
        user = await users.get(username)
        if user is None:
            return None
        hashed = await passwords.hash_async(password)
        return await users.set_password(user.id, hashed, SystemClock().now())

    ended = _with_db(config, work)
    if ended is None:
        err_console.print(Text.assemble(("no user named ", "red"), username))
        raise typer.Exit(EXIT_CONFIG)
    console.print(
        Text.assemble("password changed for ", (username, "bold"), f"; {ended} session(s) ended")
    )
    if generated:
        console.print(Text.assemble("password (shown once): ", (password, "bold")))


@tokens_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="What the token is for (e.g. grafana).")],
    scope: Annotated[str, typer.Option(help="read, or write (also acts: run, ack...).")] = "read",
    expires: Annotated[
        str | None, typer.Option(help="Lifetime, e.g. 90d (default: until revoked).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    if scope not in SCOPES:
        raise typer.BadParameter(f"use one of {', '.join(SCOPES)}", param_hint="--scope")
    lifetime = None
    if expires is not None:
        try:
            lifetime = timedelta(seconds=parse_duration(expires))
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--expires") from error
    clock = SystemClock()

    async def work(db: Database) -> str:
        until = clock.now() + lifetime if lifetime is not None else None
        service = TokenService(TokenRepository(db), clock)
        new, _ = await service.create(name, scope, created_by="cli", expires_at=until)
        return new.token

    token = _with_db(config, work)
    console.print(Text.assemble(f"{scope} token ", (name, "bold"), " (shown once):"))
    print(token)


@tokens_app.command("list")
def token_list(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    config: ConfigOption = None,
) -> None:
    """List tokens by prefix (never the secret)."""
    found = _with_db(config, lambda db: TokenRepository(db).list(include_revoked=all_))
    table = Table(title_justify="left")
    for column in ("prefix", "name", "scope", "created", "last used", "expires", "revoked"):
        table.add_column(column)

    def when(value: object) -> str:
        return "" if value is None else f"{value:%Y-%m-%d %H:%M}"

    for token in found:
        table.add_row(
            token.prefix,
            Text(token.name),
            token.scope,
            when(token.created_at),
            when(token.last_used_at),
            when(token.expires_at),
            when(token.revoked_at),
        )
    console.print(table if found else "no tokens")


@tokens_app.command("revoke")
def token_revoke(
    prefix: Annotated[str, typer.Argument(help="The token's prefix, as `wfmon token list` shows.")],
    config: ConfigOption = None,
) -> None:
    """Revoke a token (an API process may accept it for a few more seconds)."""
    done = _with_db(config, lambda db: TokenRepository(db).revoke(prefix, SystemClock().now()))
    if not done:
        err_console.print(Text.assemble(("no live token ", "red"), prefix))
        raise typer.Exit(EXIT_CONFIG)
    console.print(Text.assemble("revoked ", (prefix, "bold")))


@rollups_app.command("rebuild")
def rollups_rebuild(
    since: Annotated[
        str | None,
        typer.Option(help="From this long ago (e.g. 7d); default: the oldest execution."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Recompute the rollups of whole hours from raw executions (after an upgrade, or to
    repair). Hours older than the raw retention are left alone."""
    clock = SystemClock()
    start = None
    if since is not None:
        try:
            start = clock.now() - timedelta(seconds=parse_duration(since))
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--since") from error

    async def work(db: Database) -> int:
        return await rebuild(db, since=start, until=clock.now())

    count = _with_db(config, work)
    console.print(f"rollups rebuilt from {count:,} execution(s)")
