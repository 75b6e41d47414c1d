"""What every command shares: finding the desk and turning errors into one clear line."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from sdesk.config import (
    ConfigError,
    MissingConfig,
    Settings,
    default_config_path,
    default_database,
    given_config,
    load_settings,
)
from sdesk.core.desk import Desk
from sdesk.core.errors import DeskError
from sdesk.store.engine import open_store
from sdesk.store.failures import (
    DISK_FULL_ERRNOS,
    BadDatabaseUrl,
    DeskBusy,
    DiskFull,
    StoreError,
    disk_full,
    translate,
)
from sdesk.store.private import private_dir

# Exit statuses (sysexits.h where one fits; README "Exit statuses"): 1 a desk or config error
# the message explains, 2 a usage error (Typer's own, a malformed --db / database_url and a
# --config / SDESK_CONFIG file that is not there, so every "you typed it wrong" is one status),
# 74 EX_IOERR disk full, 75 EX_TEMPFAIL the desk stayed busy (try again later), 70 EX_SOFTWARE
# internal error (a bug), 130 interrupted.
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_DISK_FULL = 74
EXIT_BUSY = 75
EXIT_INTERRUPTED = 130

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="PATH_OR_URL",
        help="Desk database: a SQLite path or SQLAlchemy URL (env SDESK_DATABASE_URL).",
        show_default=False,
    ),
]

ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        metavar="PATH",
        help="Config file (env SDESK_CONFIG; default: config.toml in your config dir).",
        show_default=False,
    ),
]


@dataclass
class State:
    db: str | None = None
    agent: str | None = None
    config: str | None = None


class CliError(Exception):
    """Raised by commands for a one-line error and exit status ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 1) -> NoReturn:
    raise CliError(message, code)


def config_file(ctx: typer.Context | None, config: str | None = None) -> Path:
    """The config file a command reads: ``--config`` after the command name, or before it,
    else ``SDESK_CONFIG``, else the default. One named that is missing is a usage error."""
    if not config:
        state = ctx.find_object(State) if ctx is not None else None
        config = state.config if state is not None else None
    return given_config(config) or default_config_path()


def settings_for(ctx: typer.Context | None, config: str | None = None) -> Settings:
    return load_settings(config_file(ctx, config))


def resolve_db(
    ctx: typer.Context | None,
    db: str | None,
    settings: Settings | None = None,
    *,
    make_dir: bool = True,
) -> str:
    """The desk a command works on: ``--db`` after the command, or before it, else the config's
    ``database_url``, else the default in the data dir (made unless ``make_dir`` is false: a
    command that only looks, like ``sdesk doctor``, leaves no trace)."""
    if db:
        return db
    state = ctx.find_object(State) if ctx is not None else None
    if state is not None and state.db:
        return state.db
    settings = settings or settings_for(ctx)
    if settings.database_url:
        return settings.database_url
    path = Path(default_database())
    if make_dir:
        private_dir(path.parent)  # the default data dir: the user's alone (0700) when made here
    return str(path)


def missing_desk(db: str) -> Path | None:
    """The SQLite file ``db`` names when it does not exist yet (opening it would create a
    desk), else None; a server database (PostgreSQL) is never "missing" here."""
    if "://" in db:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(db)
        except (ArgumentError, ValueError):
            return None  # open_store names what is wrong with it
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        path = Path(url.database)
    else:
        path = Path(db).expanduser()
    return None if path.exists() else path


def open_desk(ctx: typer.Context | None, db: str | None, config: str | None = None) -> Desk:
    settings = settings_for(ctx, config)
    store = open_store(
        resolve_db(ctx, db, settings), busy_timeout=settings.database.busy_timeout_seconds
    )
    return Desk(store, settings)


def run_guarded(app: Callable[..., Any]) -> int:
    """Run the Typer app; known errors become ``sdesk: error: ...`` and an exit status.

    Typer itself turns usage errors into a usage line and exit 2, and ``typer.Exit`` into its
    code (via SystemExit, which passes through here).
    """
    try:
        app()
    except CliError as exc:
        _say(str(exc))
        return exc.code
    except (BadDatabaseUrl, MissingConfig) as exc:
        _say(str(exc))
        return EXIT_USAGE
    except DiskFull as exc:
        _say(str(exc))
        return EXIT_DISK_FULL
    except DeskBusy as exc:
        _say(str(exc))
        return EXIT_BUSY
    except (DeskError, StoreError, ConfigError) as exc:
        _say(str(exc))
        return 1
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        if exc.errno in DISK_FULL_ERRNOS:  # a file outside the store: an export, a blob
            where = os.fsdecode(exc.filename) if exc.filename else "a file sdesk was writing"
            _say(str(disk_full(where)))
            return EXIT_DISK_FULL
        return _internal(exc)
    except Exception as exc:  # last resort: one line, details only with SDESK_DEBUG=1
        failure = translate(exc, None, None)  # a full disk or a lock met outside Store.write
        if isinstance(failure, DiskFull):
            _say(str(failure))
            return EXIT_DISK_FULL
        if isinstance(failure, DeskBusy):
            _say(str(failure))
            return EXIT_BUSY
        return _internal(exc)
    return 0


def _internal(exc: BaseException) -> int:
    _say(f"internal error: {exc!r} (run with SDESK_DEBUG=1 for details)")
    return EXIT_INTERNAL


def _say(message: str) -> None:
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"sdesk: error: {first}", file=sys.stderr)
