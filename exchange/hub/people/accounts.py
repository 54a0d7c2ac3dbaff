"""People's accounts at the hub: add, list, disable, reset; log in with lock-out; sessions and
bearer tokens.

A session (the login cookie) and a token (``exchange users token``, for scripts) are the same
row: a random secret handed out once, of which only the SHA-256 is stored, so a copy of the
database opens no session. Disabling a person or resetting their password ends every session
and token they hold. Every method takes the time (*at*): the caller decides what "now" is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from exchange.domain.bodies import BodyRegistry
from exchange.errors import ConflictError, InputError, NotAuthenticatedError, NotFoundError
from exchange.hub.people.passwords import Passwords, check_new_password
from exchange.hub.people.roles import Role, Viewer
from exchange.hub.store.models import Account, AccountSession, as_stored

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
TOKEN_PREFIX = "xp_"  # a person's bearer token; a body's token never starts so


@dataclass(frozen=True)
class LoginPolicy:
    """Lock-out and lifetimes: *attempts* failed logins within *window* lock the account for
    *lockout*; a login session lasts *session_ttl*, a script's token *token_ttl* by default."""

    attempts: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    session_ttl: timedelta = timedelta(hours=8)
    token_ttl: timedelta = timedelta(days=90)


@dataclass(frozen=True)
class AccountInfo:
    """What may be shown of an account (never its hash)."""

    name: str
    role: Role
    body: str | None
    active: bool
    locked_until: datetime | None
    created_at: datetime

    def locked(self, *, at: datetime) -> bool:
        """Whether the account is locked out at *at* (too many failed logins, until
        ``locked_until``)."""
        return self.locked_until is not None and self.locked_until > at

    @classmethod
    def of(cls, row: Account) -> AccountInfo:
        """What may be shown of the stored *row* (its password hash left out)."""
        return cls(row.name, Role(row.role), row.body, row.active, row.locked_until, row.created_at)


@dataclass(frozen=True)
class Opened:
    """A new session or token: its secret (shown once) and the person it stands for."""

    secret: str
    viewer: Viewer
    expires: datetime


class Accounts:
    """The hub's people, in its database (*engine*). *bodies* checks a clerk's body."""

    def __init__(self, engine: Engine, *, bodies: BodyRegistry | None = None,
                 passwords: Passwords | None = None, policy: LoginPolicy | None = None) -> None:
        self.engine = engine
        self.bodies = bodies
        self.passwords = passwords or Passwords()
        self.policy = policy or LoginPolicy()

    # -- managing people ------------------------------------------------------------------
    def check(self, *, name: str, role: Role, body: str | None = None) -> tuple[str, str | None]:
        """The name (lower case) and body an account would get; InputError saying what is wrong."""
        return _check_name(name), self._check_body(role, body)

    def add(self, *, name: str, role: Role, password: str, at: datetime, body: str | None = None) -> AccountInfo:
        """A new active account; InputError for a bad name, body or password, ConflictError
        (``name-taken``) if the name exists."""
        name, body = self.check(name=name, role=role, body=body)
        row = Account(name=name, role=role.value, body=body, password_hash=self.passwords.hash(
            check_new_password(password)), created_at=as_stored(at))
        with Session(self.engine, expire_on_commit=False) as session:
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                raise ConflictError(f"there is already an account named {name!r}", code="name-taken") from None
            return AccountInfo.of(row)

    def list(self) -> list[AccountInfo]:
        """Every account, by name."""
        with Session(self.engine) as session:
            return [AccountInfo.of(row) for row in session.exec(select(Account).order_by(Account.name))]

    def get(self, name: str) -> AccountInfo:
        """The account named *name*; raises NotFoundError when there is none."""
        with Session(self.engine) as session:
            return AccountInfo.of(self._row(session, name))

    def set_active(self, name: str, active: bool) -> AccountInfo:
        """Enable or disable *name*; disabling ends its sessions and tokens."""
        with Session(self.engine, expire_on_commit=False) as session:
            row = self._row(session, name)
            row.active = active
            session.add(row)
            if not active:
                _revoke_all(session, row)
            session.commit()
            return AccountInfo.of(row)

    def reset(self, name: str, *, password: str) -> AccountInfo:
        """Set a new password: ends every session and token of *name* and lifts a lock-out."""
        digest = self.passwords.hash(check_new_password(password))
        with Session(self.engine, expire_on_commit=False) as session:
            row = self._row(session, name)
            row.password_hash, row.failures, row.locked_until, row.last_failure_at = digest, 0, None, None
            session.add(row)
            _revoke_all(session, row)
            session.commit()
            return AccountInfo.of(row)

    def issue_token(self, name: str, *, at: datetime, ttl: timedelta | None = None) -> Opened:
        """A bearer token for *name*'s scripts (``Authorization: Bearer …``); NotAuthenticatedError
        for a disabled account."""
        with Session(self.engine, expire_on_commit=False) as session:
            row = self._row(session, name)
            if not row.active:
                raise NotAuthenticatedError(f"the account {name!r} is disabled", code="account-disabled")
            return self._open(session, row, kind="token", at=at, ttl=ttl or self.policy.token_ttl)

    # -- logging in -----------------------------------------------------------------------
    def login(self, name: str, password: str, *, at: datetime) -> Opened:
        """A new login session for *name*, or NotAuthenticatedError saying why:
        ``bad-credentials`` (unknown name or wrong password: the same answer),
        ``account-locked`` (too many failures: wait), ``account-disabled``."""
        key = name.strip().lower()
        if not NAME.fullmatch(key):  # no such account can exist: a decoy check, the same answer
            self.passwords.matches(None, password)
            raise NotAuthenticatedError("wrong name or password", code="bad-credentials")
        with Session(self.engine, expire_on_commit=False) as session:
            row = session.exec(select(Account).where(Account.name == key)).first()
            if row is not None and row.locked_until is not None and row.locked_until > at:
                raise NotAuthenticatedError(
                    f"the account {row.name!r} is locked after {self.policy.attempts} failed logins; "
                    f"try again after {row.locked_until:%H:%M} UTC or ask an operator to reset it",
                    code="account-locked")
            matched = self.passwords.matches(row.password_hash if row else None, password)
            if row is None or not matched:
                if row is not None:
                    self._count_failure(session, row, at=at)
                raise NotAuthenticatedError("wrong name or password", code="bad-credentials")
            if not row.active:
                raise NotAuthenticatedError(f"the account {row.name!r} is disabled", code="account-disabled")
            row.failures, row.last_failure_at, row.locked_until = 0, None, None
            if self.passwords.needs_rehash(row.password_hash):
                row.password_hash = self.passwords.hash(password)
            session.add(row)
            # Housekeeping: expired sessions are of no use to anyone.
            session.exec(delete(AccountSession).where(col(AccountSession.expires_at) < as_stored(at)))
            return self._open(session, row, kind="session", at=at, ttl=self.policy.session_ttl)

    def _count_failure(self, session: Session, row: Account, *, at: datetime) -> None:
        # One UPDATE each, computed by the database, so concurrent wrong guesses all count.
        cutoff = as_stored(at - self.policy.window)
        session.exec(update(Account).where(col(Account.id) == row.id).values(
            failures=case((or_(col(Account.last_failure_at).is_(None),
                               col(Account.last_failure_at) < cutoff), 1),
                          else_=col(Account.failures) + 1),
            last_failure_at=as_stored(at)))
        session.exec(update(Account).where(col(Account.id) == row.id,
                                           col(Account.failures) >= self.policy.attempts)
                     .values(failures=0, locked_until=as_stored(at + self.policy.lockout)))
        session.commit()

    def viewer(self, secret: str, *, at: datetime) -> Viewer:
        """The person a session cookie or token stands for; NotAuthenticatedError
        (``session-expired``, ``not-logged-in``, ``account-disabled``) otherwise."""
        with Session(self.engine) as session:
            found = session.exec(select(AccountSession, Account)
                                 .join(Account, Account.id == AccountSession.account_id)  # type: ignore[arg-type]
                                 .where(AccountSession.id == _digest(secret))).first()
        if found is None or found[0].revoked:
            raise NotAuthenticatedError("not logged in (or logged out): log in again", code="not-logged-in")
        opened, account = found
        if opened.expires_at <= at:
            raise NotAuthenticatedError(f"the {opened.kind} has expired: log in again", code="session-expired")
        if not account.active:
            raise NotAuthenticatedError(f"the account {account.name!r} is disabled", code="account-disabled")
        return Viewer(account.name, Role(account.role), account.body, opened.kind, opened.csrf)

    def logout(self, secret: str) -> None:
        """End the session or token *secret* (nothing happens if it is unknown)."""
        with Session(self.engine) as session:
            session.exec(update(AccountSession).where(col(AccountSession.id) == _digest(secret))
                         .values(revoked=True))
            session.commit()

    # -- helpers --------------------------------------------------------------------------
    def _open(self, session: Session, row: Account, *, kind: str, at: datetime, ttl: timedelta) -> Opened:
        secret = (TOKEN_PREFIX if kind == "token" else "") + secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24) if kind == "session" else ""
        expires = as_stored(at + ttl)
        assert row.id is not None
        session.add(AccountSession(id=_digest(secret), account_id=row.id, kind=kind, csrf=csrf,
                                   created_at=as_stored(at), expires_at=expires))
        session.commit()
        return Opened(secret, Viewer(row.name, Role(row.role), row.body, kind, csrf), expires)

    def _row(self, session: Session, name: str) -> Account:
        key = name.strip().lower()
        row = session.exec(select(Account).where(Account.name == key)).first() if NAME.fullmatch(key) else None
        if row is None:
            raise NotFoundError(f"no account named {name!r}", code="unknown-account")
        return row

    def _check_body(self, role: Role, body: str | None) -> str | None:
        if role is Role.CLERK:
            if not body:
                raise InputError("a clerk belongs to one body: give --body ID", code="body-required")
            if self.bodies is not None:
                self.bodies.get(body)  # UnknownBodyError
            return body
        if body:
            raise InputError(f"only a clerk belongs to one body; a {role.value} sees every body",
                             code="body-not-allowed")
        return None


def _check_name(name: str) -> str:
    name = name.strip().lower()
    if not NAME.fullmatch(name):
        raise InputError(f"{name!r} is not a usable name: 2–64 of a-z, 0-9, '.', '_', '-', starting with a "
                         "letter or digit", code="invalid-name")
    return name


def _revoke_all(session: Session, row: Account) -> None:
    session.exec(update(AccountSession).where(col(AccountSession.account_id) == row.id)
                 .values(revoked=True))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
