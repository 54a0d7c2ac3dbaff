"""What every command shares: settings from options, time parsing, the error edge."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from exchange.config import Settings
from exchange.domain.bodies import BodyRegistry
from exchange.domain.moments import parse_moment
from exchange.errors import ExchangeError, InputError

KeysOpt = Annotated[Path | None, typer.Option("--keys", "--dir", help="key directory [env EXCHANGE_KEYS, default keys]")]
BodiesOpt = Annotated[Path | None, typer.Option("--bodies", help="bodies file [env EXCHANGE_BODIES]")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]
CaOpt = Annotated[Path | None, typer.Option(
    "--ca", help="root the hub's TLS certificate must chain to (https hubs) [KEYS/root-ca.pem]")]

#: Exit statuses shared by every command (verify adds 1 = TOTAL_FAILED, 3 = INDETERMINATE).
EXIT_USAGE = 2
EXIT_ERROR = 1


def settings(**overrides: Any) -> Settings:
    """The command's settings: defaults, then ``EXCHANGE_*`` variables, then the options given
    (*overrides*, None ignored)."""
    return Settings.from_env(**overrides)


def registry(cfg: Settings) -> BodyRegistry:
    """The bodies of *cfg*'s bodies file; raises BodiesFileError when it is malformed."""
    return BodyRegistry.from_toml(cfg.resolved_bodies_file())


def known_body(cfg: Settings, body_id: str) -> str:
    """*body_id* if it names a configured body; else UnknownBodyError."""
    registry(cfg).get(body_id)
    return body_id


def parse_time(text: str | None) -> datetime:
    """An ISO-8601 time (naive means UTC); None means now. The only place "now" is read."""
    if text is None:
        return datetime.now(UTC)
    return parse_moment(text, what="--at")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: MESSAGE`` on stderr and exit with *code* (2, a usage error, by default): how a
    command refuses in one line."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def run_guarded(entry: Callable[[], Any]) -> None:
    """The CLI's one error edge: a project error becomes one line on stderr and an exit status."""
    try:
        entry()
    except InputError as exc:
        _print_error(exc)
        sys.exit(EXIT_USAGE)
    except ExchangeError as exc:
        _print_error(exc)
        sys.exit(EXIT_ERROR)
    except OSError as exc:
        # The file system refused (a file where a folder is needed, no permission, disk
        # full): the user's environment, said in one line like any usage error.
        where = f": {exc.filename}" if exc.filename else ""
        sys.stderr.write(f"error: {exc.strerror or exc}{where}\n")
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        sys.exit(130)


def _print_error(exc: ExchangeError) -> None:
    message = str(exc).splitlines()[0] if str(exc) else exc.code
    sys.stderr.write(f"error: {message}\n")


