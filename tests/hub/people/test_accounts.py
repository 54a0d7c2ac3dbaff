"""Accounts: roles and bodies, argon2id hashes, login with lock-out (a second either side of
every window), sessions and tokens that end when they expire, on logout, on disable and reset."""

from __future__ import annotations

import base64
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from sqlmodel import Session, select

from exchange.errors import (
    ConflictError,
    InputError,
    NotAuthenticatedError,
    NotFoundError,
    UnknownBodyError,
)
from exchange.hub import HubSettings
from exchange.hub.people import Accounts, Passwords, Role
from exchange.hub.people.passwords import PRODUCTION_COST
from exchange.hub.store.models import Account

from hub.people.conftest import PASSWORD, T0

SECOND = timedelta(seconds=1)
REPO = Path(__file__).resolve().parents[3]


def add(accounts: Accounts, name: str = "lan", role: Role = Role.AUDITOR, body: str | None = None) -> None:
    accounts.add(name=name, role=role, body=body, password=PASSWORD, at=T0)


def test_people_are_added_with_a_role_and_a_clerk_with_its_body(accounts: Accounts) -> None:
    add(accounts, "Lan", Role.AUDITOR)
    add(accounts, "minh", Role.CLERK, body="nghe-an")
    assert [(a.name, a.role, a.body, a.active) for a in accounts.list()] == [
        ("lan", Role.AUDITOR, None, True), ("minh", Role.CLERK, "nghe-an", True)]
    with pytest.raises(ConflictError) as taken:
        add(accounts, "LAN")
    assert taken.value.code == "name-taken"


@pytest.mark.parametrize(("name", "role", "body", "code"), [
    ("clerk", Role.CLERK, None, "body-required"),
    ("auditor", Role.AUDITOR, "nghe-an", "body-not-allowed"),
    ("x", Role.AUDITOR, None, "invalid-name"),
    ("a b", Role.AUDITOR, None, "invalid-name"),
    ("../etc", Role.AUDITOR, None, "invalid-name"),
])
def test_an_account_that_makes_no_sense_is_refused_with_the_reason(accounts: Accounts, name: str, role: Role,
                                                                   body: str | None, code: str) -> None:
    with pytest.raises(InputError) as refused:
        accounts.add(name=name, role=role, body=body, password=PASSWORD, at=T0)
    assert refused.value.code == code
    assert accounts.list() == []


def test_a_clerk_of_an_unknown_body_and_weak_passwords_are_refused(accounts: Accounts) -> None:
    with pytest.raises(UnknownBodyError):
        accounts.add(name="minh", role=Role.CLERK, body="atlantis", password=PASSWORD, at=T0)
    for weak in ("short", " leading space is bad", "x" * 1025, "tab\tinside password"):
        with pytest.raises(InputError) as refused:
            accounts.add(name="minh", role=Role.AUDITOR, password=weak, at=T0)
        assert refused.value.code == "weak-password"


def test_only_an_argon2id_hash_is_stored_never_the_password(accounts: Accounts, tmp_path: Path) -> None:
    """At the production cost, the one the README states (the ``accounts`` fixture hashes at the
    test cost, as every test hub does; a hub is built with the production cost by default)."""
    assert "argon2id hashes (RFC 9106's low-memory profile: 3 passes over 64 MiB, 4 lanes)" in \
        " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert HubSettings(keys_dir=tmp_path, data_dir=tmp_path).password_cost == PRODUCTION_COST
    accounts = Accounts(accounts.engine, bodies=accounts.bodies)  # the default: production
    add(accounts)
    with Session(accounts.engine) as session:
        stored = session.exec(select(Account.password_hash)).one()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    raw = sqlite3.connect(accounts.engine.url.database).execute("select * from account").fetchall()
    assert PASSWORD not in repr(raw)


def _phc(stored: str) -> tuple[dict[str, int], bytes, bytes]:
    _, _, _, params, salt, digest = stored.split("$")
    values = {k: int(v) for k, v in (p.split("=") for p in params.split(","))}
    decode = lambda text: base64.b64decode(text + "=" * (-len(text) % 4))  # noqa: E731
    return values, decode(salt), decode(digest)


def test_our_hashes_agree_with_another_argon2id_implementation_both_ways() -> None:
    """argon2-cffi (the reference C code) against cryptography's Argon2id (OpenSSL's)."""
    passwords = Passwords()
    params, salt, digest = _phc(passwords.hash(PASSWORD))
    theirs = Argon2id(salt=salt, length=len(digest), iterations=params["t"], lanes=params["p"],
                      memory_cost=params["m"]).derive(PASSWORD.encode())
    assert theirs == digest
    # …and a hash made by the other implementation is accepted by ours (and only its password).
    salt = b"sixteen byte slt"
    made = Argon2id(salt=salt, length=32, iterations=2, lanes=1, memory_cost=19456).derive(PASSWORD.encode())
    b64 = lambda data: base64.b64encode(data).decode().rstrip("=")  # noqa: E731
    encoded = f"$argon2id$v=19$m=19456,t=2,p=1${b64(salt)}${b64(made)}"
    assert passwords.matches(encoded, PASSWORD)
    assert not passwords.matches(encoded, PASSWORD + "!")
    assert passwords.needs_rehash(encoded)  # weaker than ours: rehashed at the next login


def test_a_login_opens_a_session_and_a_wrong_name_or_password_says_the_same(accounts: Accounts) -> None:
    add(accounts, "minh", Role.CLERK, body="nghe-an")
    opened = accounts.login("Minh", PASSWORD, at=T0)
    viewer = accounts.viewer(opened.secret, at=T0)
    assert (viewer.name, viewer.role, viewer.body, viewer.via) == ("minh", Role.CLERK, "nghe-an", "session")
    assert viewer.csrf and len(viewer.csrf) >= 32
    for name, password in (("minh", "wrong password!"), ("nobody", PASSWORD)):
        with pytest.raises(NotAuthenticatedError) as refused:
            accounts.login(name, password, at=T0)
        assert (refused.value.code, refused.value.message) == ("bad-credentials", "wrong name or password")


def test_five_failures_lock_the_account_until_the_lockout_ends(accounts: Accounts) -> None:
    add(accounts)
    policy = accounts.policy
    for i in range(policy.attempts - 1):
        with pytest.raises(NotAuthenticatedError):
            accounts.login("lan", "wrong password!", at=T0 + i * SECOND)
    accounts.login("lan", PASSWORD, at=T0 + 10 * SECOND)  # four failures do not lock; success resets
    last = T0 + 20 * SECOND
    for i in range(policy.attempts):
        with pytest.raises(NotAuthenticatedError) as refused:
            accounts.login("lan", "wrong password!", at=last - (policy.attempts - 1 - i) * SECOND)
        assert refused.value.code == "bad-credentials"
    # Locked: even the right password is refused until the lock-out ends…
    for at in (last + SECOND, last + policy.lockout - SECOND):
        with pytest.raises(NotAuthenticatedError) as locked:
            accounts.login("lan", PASSWORD, at=at)
        assert locked.value.code == "account-locked"
    assert accounts.get("lan").locked(at=last + policy.lockout - SECOND)
    # …and from then on the right password works again.
    accounts.login("lan", PASSWORD, at=last + policy.lockout + SECOND)
    assert not accounts.get("lan").locked(at=last + policy.lockout + SECOND)


def test_failures_further_apart_than_the_window_do_not_add_up(accounts: Accounts) -> None:
    add(accounts)
    window, attempts = accounts.policy.window, accounts.policy.attempts
    for i in range(attempts - 1):
        with pytest.raises(NotAuthenticatedError):
            accounts.login("lan", "wrong password!", at=T0 + i * SECOND)
    # The last failure counted was at T0 + (attempts - 2) s; one a second after the window: count restarts.
    late = T0 + (attempts - 2) * SECOND + window + SECOND
    with pytest.raises(NotAuthenticatedError) as refused:
        accounts.login("lan", "wrong password!", at=late)
    assert refused.value.code == "bad-credentials"
    accounts.login("lan", PASSWORD, at=late + SECOND)  # not locked
    # Within the window they do: the fifth, a second before the window closes, locks.
    for i in range(attempts - 1):
        with pytest.raises(NotAuthenticatedError):
            accounts.login("lan", "wrong password!", at=late + 2 * SECOND + i * SECOND)
    with pytest.raises(NotAuthenticatedError):
        accounts.login("lan", "wrong password!", at=late + 2 * SECOND + window - SECOND)
    with pytest.raises(NotAuthenticatedError) as locked:
        accounts.login("lan", PASSWORD, at=late + 2 * SECOND + window)
    assert locked.value.code == "account-locked"


def test_a_session_ends_when_it_expires_or_on_logout(accounts: Accounts) -> None:
    add(accounts)
    opened = accounts.login("lan", PASSWORD, at=T0)
    assert opened.expires == T0 + accounts.policy.session_ttl
    accounts.viewer(opened.secret, at=opened.expires - SECOND)
    with pytest.raises(NotAuthenticatedError) as expired:
        accounts.viewer(opened.secret, at=opened.expires + SECOND)
    assert expired.value.code == "session-expired"
    accounts.logout(opened.secret)
    with pytest.raises(NotAuthenticatedError) as out:
        accounts.viewer(opened.secret, at=T0)
    assert out.value.code == "not-logged-in"
    with pytest.raises(NotAuthenticatedError):
        accounts.viewer("xp_made-up", at=T0)


def test_a_token_is_for_scripts_and_disable_or_reset_end_everything(accounts: Accounts) -> None:
    add(accounts)
    token = accounts.issue_token("lan", at=T0, ttl=timedelta(days=30))
    assert token.secret.startswith("xp_") and token.viewer.via == "token" and token.viewer.csrf == ""
    accounts.viewer(token.secret, at=T0 + timedelta(days=30) - SECOND)
    with pytest.raises(NotAuthenticatedError):
        accounts.viewer(token.secret, at=T0 + timedelta(days=30) + SECOND)

    session, token = accounts.login("lan", PASSWORD, at=T0), accounts.issue_token("lan", at=T0)
    accounts.set_active("lan", False)
    for secret in (session.secret, token.secret):
        with pytest.raises(NotAuthenticatedError) as ended:
            accounts.viewer(secret, at=T0)
        assert ended.value.code == "not-logged-in"
    with pytest.raises(NotAuthenticatedError) as disabled:
        accounts.login("lan", PASSWORD, at=T0)
    assert disabled.value.code == "account-disabled"
    with pytest.raises(NotAuthenticatedError):
        accounts.issue_token("lan", at=T0)

    accounts.set_active("lan", True)
    session = accounts.login("lan", PASSWORD, at=T0)
    accounts.reset("lan", password="a new password, long enough")
    with pytest.raises(NotAuthenticatedError):
        accounts.viewer(session.secret, at=T0)
    with pytest.raises(NotAuthenticatedError):
        accounts.login("lan", PASSWORD, at=T0)
    accounts.login("lan", "a new password, long enough", at=T0)


def test_a_reset_lifts_a_lockout_and_unknown_names_are_not_found(accounts: Accounts) -> None:
    add(accounts)
    for i in range(accounts.policy.attempts):
        with pytest.raises(NotAuthenticatedError):
            accounts.login("lan", "wrong password!", at=T0 + i * SECOND)
    accounts.reset("lan", password="a new password, long enough")
    accounts.login("lan", "a new password, long enough", at=T0 + 10 * SECOND)
    for call in (lambda: accounts.reset("nobody", password=PASSWORD), lambda: accounts.set_active("nobody", False),
                 lambda: accounts.issue_token("nobody", at=T0)):
        with pytest.raises(NotFoundError) as missing:
            call()
        assert missing.value.code == "unknown-account"
