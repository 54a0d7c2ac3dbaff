"""``exchange users``: the people who use the hub's pages and read API, in the hub's database.

Bodies log in with their certificates; people with a name and password (argon2id-hashed) on
the login page, or with a bearer token from ``users token`` in scripts.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from exchange.cli.common import BodiesOpt, JsonOpt, KeysOpt, parse_time, registry, settings
from exchange.errors import InputError

if TYPE_CHECKING:
    from exchange.hub.people import Accounts

app = typer.Typer(help="People at the hub: operators, auditors, trainers and clerks (not bodies).",
                  no_args_is_help=True)

DbOpt = Annotated[str | None, typer.Option("--db", help="the hub's database URL [env EXCHANGE_DB; SQLite in --data]")]
DataOpt = Annotated[Path | None, typer.Option("--data", help="the hub's data directory [env EXCHANGE_DATA, default data]")]
StdinOpt = Annotated[bool, typer.Option("--password-stdin", help="read the password from the first line of stdin")]


def _accounts(db: str | None, data: Path | None, keys: Path | None = None, bodies: Path | None = None,
              *, check_bodies: bool = False) -> Accounts:
    from exchange.hub.people import Accounts
    from exchange.hub.store.db import make_engine

    cfg = settings(db_url=db, data_dir=data, keys_dir=keys, bodies_file=bodies)
    url = cfg.db_url or f"sqlite:///{cfg.data_dir / 'hub.db'}"
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).parent.is_dir():
        raise InputError(f"no hub data directory {cfg.data_dir}: give --data DIR or --db URL")
    return Accounts(make_engine(url), bodies=registry(cfg) if check_bodies else None)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InputError("--password-stdin: nothing on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for a password: use --password-stdin")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="the person's login name (a-z, 0-9, . _ -)")],
    role: Annotated[str, typer.Option("--role", help="operator, auditor, trainer or clerk")],
    body: Annotated[str | None, typer.Option("--body", help="a clerk's body id")] = None,
    password_stdin: StdinOpt = False,
    db: DbOpt = None, data: DataOpt = None, keys: KeysOpt = None, bodies: BodiesOpt = None,
) -> None:
    """Add a person with a role (a clerk: of one body); the password is asked for twice."""
    from exchange.hub.people import Role

    chosen = Role.parse(role)
    accounts = _accounts(db, data, keys, bodies, check_bodies=body is not None)
    try:
        accounts.check(name=name, role=chosen, body=body)  # before asking for a password
        info = accounts.add(name=name, role=chosen, body=body, password=_password(password_stdin), at=parse_time(None))
    finally:
        accounts.engine.dispose()
    typer.echo(f"added {info.name}: {info.role.value}{' of ' + info.body if info.body else ''}")


@app.command("list")
def list_(db: DbOpt = None, data: DataOpt = None, json_out: JsonOpt = False) -> None:
    """The accounts: name, role, body, state."""
    accounts = _accounts(db, data)
    try:
        found = accounts.list()
    finally:
        accounts.engine.dispose()
    at = parse_time(None)
    if json_out:
        typer.echo(json.dumps([{"name": a.name, "role": a.role.value, "body": a.body, "active": a.active,
                                "locked": a.locked(at=at), "created_at": a.created_at.isoformat()}
                               for a in found], indent=2))
        return
    if not found:
        typer.echo("no accounts yet: exchange users add NAME --role operator")
    for a in found:
        state = "disabled" if not a.active else ("locked" if a.locked(at=at) else "active")
        typer.echo(f"{a.name:<24} {a.role.value:<9} {a.body or '-':<28} {state}")


@app.command("disable")
def disable(name: str, db: DbOpt = None, data: DataOpt = None) -> None:
    """Disable an account: it can no longer log in, and its sessions and tokens end now."""
    _change(db, data, "DISABLE", name)


@app.command("enable")
def enable(name: str, db: DbOpt = None, data: DataOpt = None) -> None:
    """Enable a disabled account again."""
    _change(db, data, "ENABLE", name)


@app.command("reset")
def reset(name: str, password_stdin: StdinOpt = False, db: DbOpt = None, data: DataOpt = None) -> None:
    """Set a new password: ends the account's sessions and tokens and lifts a lock-out."""
    _change(db, data, "RESET", name, password=_password(password_stdin))


def _change(db: str | None, data: Path | None, action: Literal["DISABLE", "ENABLE", "RESET"], name: str, *,
            password: str | None = None) -> None:
    """The people page's change (:func:`exchange.hub.people.change_account`), from the terminal;
    *action* names an AccountAction (imported late: ``exchange users`` starts without the hub)."""
    from exchange.hub.people import AccountAction, change_account

    accounts = _accounts(db, data)
    try:
        change = change_account(accounts, AccountAction[action], name, password=password)
    finally:
        accounts.engine.dispose()
    typer.echo(change.done)


@app.command("token")
def token(
    name: str,
    days: Annotated[int, typer.Option("--days", min=1, max=366, help="how long the token lasts")] = 90,
    db: DbOpt = None, data: DataOpt = None,
) -> None:
    """Print a bearer token for NAME's scripts (curl -H "Authorization: Bearer …", report --token).

    Only its hash is kept: it is shown once. Disabling the account or a new password ends it.
    """
    accounts = _accounts(db, data)
    try:
        opened = accounts.issue_token(name, at=parse_time(None), ttl=timedelta(days=days))
    finally:
        accounts.engine.dispose()
    typer.echo(opened.secret)
    typer.echo(f"token for {opened.viewer.name} ({opened.viewer.role.value}), valid until "
               f"{opened.expires:%Y-%m-%d %H:%M} UTC", err=True)
