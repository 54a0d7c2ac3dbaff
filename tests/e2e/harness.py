"""A real hub process and its databases, for the end-to-end tests.

:func:`start_hub` runs ``python -m exchange hub serve`` on a free loopback port and waits for
``/api/health``; :meth:`RunningHub.stop` terminates it (then kills it) and checks it is gone.
:func:`fresh_database` gives each hub an empty database: a SQLite file, or a uniquely named
PostgreSQL database created on the server named by ``EXCHANGE_TEST_PG`` and dropped after.

People (every page and non-node API needs one): :meth:`RunningHub.add_person` creates an
account in the hub's database, :meth:`RunningHub.person_token` a bearer token for it,
:meth:`RunningHub.login` an ``httpx.Client`` logged in through the login form (a session
cookie, and its CSRF token as ``client.csrf``), and :meth:`RunningHub.auditor` a client with an
auditor's token (what ``register()`` uses). Bodies keep :meth:`RunningHub.client`/``token``.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from exchange.hub.auth import TokenService
from exchange.hub.people import Accounts, Passwords, Role
from exchange.hub.people.passwords import TEST_COST
from exchange.hub.store.db import make_engine
from exchange.hub.store.models import Document
from exchange.node import HubClient, RetryPolicy, hub_trust
from exchange.node.client import body_trust
from exchange.pki import Credential, KeyStore
from exchange.ports import free_port

PG_ENV = "EXCHANGE_TEST_PG"
#: the password every test person gets unless a test gives another
TEST_PASSWORD = "correct horse battery staple"
START_TIMEOUT = 60.0  # seconds: at load 15 on 2 cores a hub has taken more than 30 s to answer
STOP_TIMEOUT = 10.0


# -- databases -------------------------------------------------------------------------------


def postgres_admin_url() -> str:
    """The server to create test databases on; skips (or, under CI=true, fails) without one."""
    url = os.environ.get(PG_ENV, "").strip()
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{PG_ENV} is not set: under CI=true the PostgreSQL variant must run, not skip "
                    "(start one with: eval \"export $(.ci/start-postgres | tail -n 1)\")", pytrace=False)
    pytest.skip(f"no PostgreSQL: set {PG_ENV}=postgresql+psycopg://USER@HOST:PORT/DB (see .ci/start-postgres)")


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as a libpq connection URI (psycopg's own form)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_database(kind: str, directory: Path) -> Iterator[str]:
    """An empty database of *kind* (``sqlite`` or ``postgresql``), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'hub.db'}"
        return
    admin = postgres_admin_url()
    name = f"exchange_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(admin), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# -- the hub process -------------------------------------------------------------------------


@dataclass
class RunningHub:
    """A hub serving on ``url``, with the key directory and database it was started with."""

    url: str
    keys: Path
    data: Path
    db_url: str
    process: subprocess.Popen[bytes]
    log: Path
    credentials: dict[str, Credential] = field(default_factory=dict)
    people: set[str] = field(default_factory=set)
    people_tokens: dict[str, str] = field(default_factory=dict)
    mtls: bool = False

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """How clients check this hub: against the key folder's root when it serves HTTPS (with
        mutual TLS, presenting central-office's TLS client certificate)."""
        if self.mtls:
            return body_trust(self.url, KeyStore(self.keys), "central-office", at=datetime.now(UTC))
        return hub_trust(self.url, KeyStore(self.keys).root_path)

    # -- driving it ----------------------------------------------------------------------
    def cli(self, *args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``python -m exchange ARGS`` with EXCHANGE_HUB and EXCHANGE_KEYS naming this hub."""
        env = {**os.environ, "EXCHANGE_HUB": self.url, "EXCHANGE_KEYS": str(self.keys)}
        for name in ("EXCHANGE_DB", "EXCHANGE_DATA", "EXCHANGE_BODIES"):
            env.pop(name, None)
        done = subprocess.run([sys.executable, "-m", "exchange", *args], env=env, cwd=cwd, capture_output=True,
                              text=True, timeout=60)
        if check and done.returncode != 0:
            raise AssertionError(f"exchange {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def cli_json(self, *args: str, cwd: Path) -> Any:
        return json.loads(self.cli(*args, "--json", cwd=cwd).stdout)

    def credential(self, body_id: str) -> Credential:
        if body_id not in self.credentials:  # a key load costs ~30 ms: once per body
            self.credentials[body_id] = KeyStore(self.keys).credential(body_id)
        return self.credentials[body_id]

    def client(self, body_id: str, **kwargs: Any) -> HubClient:
        kwargs.setdefault("retry", RetryPolicy(attempts=2, backoff=0.05))
        kwargs.setdefault("verify", self.verify)
        return HubClient(self.url, credential=self.credential(body_id), **kwargs)

    def http(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, verify=self.verify)

    def token(self, body_id: str) -> str:
        with self.client(body_id) as client:
            return client.authenticate()

    def tokens(self) -> TokenService:
        """The hub's own token service (from its secret), to mint tokens a client never could."""
        return TokenService.from_file(self.data / "hub-secret")

    # -- people --------------------------------------------------------------------------
    @contextmanager
    def accounts(self) -> Iterator[Accounts]:
        """The hub's accounts, straight in its database (as ``exchange users`` does), hashing at
        the test cost the hub runs with (``--test-password-cost``)."""
        accounts = Accounts(make_engine(self.db_url), passwords=Passwords.at_cost(TEST_COST))
        try:
            yield accounts
        finally:
            accounts.engine.dispose()

    def add_person(self, name: str, role: str, *, body: str | None = None, password: str = TEST_PASSWORD) -> str:
        """A new account *name* with *role* (a clerk: of *body*); returns the name."""
        with self.accounts() as accounts:
            accounts.add(name=name, role=Role(role), body=body, password=password, at=datetime.now(UTC))
        self.people.add(name)
        return name

    def ensure_person(self, role: str, *, body: str | None = None) -> str:
        """The name of this hub's test person of *role* (and *body*), created on first use."""
        name = f"test-{role}" + (f"-{body}" if body else "")
        return name if name in self.people else self.add_person(name, role, body=body)

    def person_token(self, name: str) -> str:
        """A bearer token for *name* (as ``exchange users token NAME`` prints it)."""
        with self.accounts() as accounts:
            return accounts.issue_token(name, at=datetime.now(UTC)).secret

    def person(self, role: str, *, body: str | None = None) -> httpx.Client:
        """A client with a bearer token of a person of *role* (one account per role and body)."""
        name = self.ensure_person(role, body=body)
        if name not in self.people_tokens:
            self.people_tokens[name] = self.person_token(name)
        return self.http(self.people_tokens[name])

    def auditor(self) -> httpx.Client:
        return self.person("auditor")

    def login(self, name: str, password: str = TEST_PASSWORD) -> httpx.Client:
        """A client logged in through the login form: it holds the session cookie, and the
        session's CSRF token as ``client.csrf`` (for the forms it posts). Already open: close
        it (``client.close()``) rather than entering it with ``with``."""
        http = self.http()
        http.csrf = login_form(http, name, password)  # type: ignore[attr-defined]
        return http

    def register(self) -> list[dict[str, Any]]:
        with self.auditor() as http:
            return http.get("/api/register").json()["entries"]  # type: ignore[no-any-return]

    def document_rows(self) -> int:
        """Rows in the document table, read straight from the hub's database."""
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(Document)).scalar_one())
        finally:
            engine.dispose()

    def blob_files(self) -> list[Path]:
        return sorted(p for p in (self.data / "blobs").rglob("*") if p.is_file())

    # -- stopping it ---------------------------------------------------------------------
    def stop(self) -> None:
        """Terminate (SIGTERM, uvicorn's graceful shutdown), then kill; the process must be gone."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        assert self.process.returncode is not None, "the hub process did not exit"


def start_hub(*, keys: Path, data: Path, db_url: str, args: tuple[str, ...] = (), port: int | None = None
              ) -> RunningHub:
    """Start ``exchange hub serve`` on a free loopback port (or *port*, to restart a hub where
    its clients expect it); returns once /api/health answers."""
    data.mkdir(parents=True, exist_ok=True)
    log = data.parent / f"{data.name}.log"
    chosen = port
    for _ in range(3):  # a free port can be taken between choosing it and binding it
        port = chosen or free_port()
        command = [sys.executable, "-m", "exchange", "hub", "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--keys", str(keys), "--data", str(data), "--db", db_url, "--log-level", "warning",
                   "--test-password-cost", *args]  # argon2 at production cost: 0.2 s of CPU a login
        env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
        with log.open("ab") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        scheme = "https" if "--tls" in args else "http"
        hub = RunningHub(f"{scheme}://127.0.0.1:{port}", keys, data, db_url, process, log, mtls="--mtls" in args)
        if _wait_until_healthy(hub):
            return hub
        hub.stop()
        if "address already in use" not in log.read_text(errors="replace").lower():
            break
    raise AssertionError(f"the hub did not start:\n{log.read_text(errors='replace')}")


def _wait_until_healthy(hub: RunningHub) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(timeout=2, verify=hub.verify) as http:
        while time.monotonic() < deadline:
            if hub.process.poll() is not None:
                return False
            try:
                if http.get(f"{hub.url}/api/health").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    return False


def login_form(http: httpx.Client, name: str, password: str = TEST_PASSWORD) -> str:
    """Log *http* in as a browser would (GET the form, POST it with its CSRF value); returns the
    session's CSRF token, read from the overview page's logout form."""
    form = http.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    done = http.post("/login", data={"name": name, "password": password, "csrf": csrf.group(1), "next": "/"})
    assert done.status_code == 303, f"{done.status_code}: {done.text[:500]}"
    page = http.get("/")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    return token.group(1)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """*response* is a JSON error body with *status*, a stable ``code`` and a ``message``."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    return body  # type: ignore[no-any-return]
