"""``exchange users`` as a subprocess against a hub's database: add with a password from stdin,
list, disable and enable, reset, token; every mistake one line and a status."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange.cli.app import main
from exchange.hub.people import Accounts, Role
from exchange.hub.store.db import make_engine
from tests.cli.conftest import Run

PASSWORD = "correct horse battery staple"


def users(run: Run, data: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    extra = ("--password-stdin",) if password is not None else ()
    return run("users", *args, *extra, "--data", data, input=password)


def test_an_operator_manages_people_from_the_command_line(run: Run, tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    data.mkdir()
    done = users(run, data, "add", "Lan", "--role", "auditor", password=PASSWORD + "\n")
    assert (done.returncode, done.stdout) == (0, "added lan: auditor\n"), done.stderr
    done = run("users", "add", "minh", "--role", "clerk", "--body", "nghe-an", "--password-stdin", "--data", data,
               "--keys", pki.dir, input=PASSWORD)
    assert done.stdout == "added minh: clerk of nghe-an\n", done.stderr
    listed = json.loads(users(run, data, "list", "--json").stdout)
    assert [(p["name"], p["role"], p["body"], p["active"]) for p in listed] == [
        ("lan", "auditor", None, True), ("minh", "clerk", "nghe-an", True)]

    token = users(run, data, "token", "lan", "--days", "7")
    assert token.returncode == 0 and token.stdout.startswith("xp_") and "valid until" in token.stderr
    accounts = Accounts(make_engine(f"sqlite:///{data / 'hub.db'}"))
    try:
        assert accounts.viewer(token.stdout.strip(), at=datetime.now(UTC)).name == "lan"
        assert users(run, data, "disable", "lan").stdout == "disabled lan\n"
        assert not accounts.get("lan").active
        assert users(run, data, "enable", "lan").returncode == 0
        assert users(run, data, "reset", "lan", password="another long password\n").returncode == 0
        accounts.login("lan", "another long password", at=datetime.now(UTC))
    finally:
        accounts.engine.dispose()
    assert "lan" in users(run, data, "list").stdout


@pytest.mark.parametrize(("args", "password", "words", "status"), [
    (("add", "x", "--role", "auditor"), PASSWORD, "not a usable name", 2),
    (("add", "minh", "--role", "king"), PASSWORD, "unknown role 'king'", 2),
    (("add", "minh", "--role", "clerk"), PASSWORD, "a clerk belongs to one body", 2),
    (("add", "minh", "--role", "clerk", "--body", "atlantis"), PASSWORD, "unknown body id 'atlantis'", 2),
    (("add", "minh", "--role", "auditor"), "short", "at least 12 characters", 2),
    (("add", "minh", "--role", "auditor"), "", "nothing on standard input", 2),
    (("add", "lan", "--role", "auditor"), PASSWORD, "already an account named 'lan'", 1),
    (("add", "minh", "--role", "auditor"), None, "use --password-stdin", 2),
    (("token", "nobody"), None, "no account named 'nobody'", 1),
    (("disable", "nobody"), None, "no account named 'nobody'", 1),
    (("list", "--data", "nowhere"), None, "no hub data directory nowhere", 2),
])
def test_mistakes_are_one_line_and_a_status(args: tuple[str, ...], password: str | None, words: str, status: int,
                                            people_data: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The same edge as ``python -m exchange`` (main), in-process: no start-up cost per case."""
    monkeypatch.chdir(people_data.parent)
    for name in ("EXCHANGE_DB", "EXCHANGE_DATA", "EXCHANGE_KEYS", "EXCHANGE_BODIES"):
        monkeypatch.delenv(name, raising=False)
    extra = ("--password-stdin",) if password is not None else ()
    data = () if "--data" in args else ("--data", str(people_data))
    monkeypatch.setattr("sys.argv", ["exchange", "users", *args, *extra, *data])
    monkeypatch.setattr("sys.stdin", io.StringIO(password or ""))
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == status, err
    assert err.startswith("error: ") and err.count("\n") == 1 and words in err, err


@pytest.fixture(scope="module")
def people_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hub data directory whose database holds one account, lan."""
    data = tmp_path_factory.mktemp("people") / "data"
    data.mkdir()
    accounts = Accounts(make_engine(f"sqlite:///{data / 'hub.db'}"))
    try:
        accounts.add(name="lan", role=Role.AUDITOR, password=PASSWORD, at=datetime.now(UTC))
    finally:
        accounts.engine.dispose()
    return data
