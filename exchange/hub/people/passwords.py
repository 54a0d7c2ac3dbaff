"""Passwords: argon2id hashes (argon2-cffi, RFC 9106's low-memory profile), and the rules a new
password must meet. A password itself is never stored nor logged."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from exchange.errors import InputError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; a bound keeps a hostile request cheap


def check_new_password(password: str) -> str:
    """*password* if it may be set; InputError (``weak-password``) saying why otherwise."""
    if len(password) < MIN_LENGTH:
        raise InputError(f"a password needs at least {MIN_LENGTH} characters", code="weak-password")
    if len(password) > MAX_LENGTH:
        raise InputError(f"a password has at most {MAX_LENGTH} characters", code="weak-password")
    if password.strip() != password or not password.isprintable():
        raise InputError("a password may not start or end with spaces or hold control characters",
                         code="weak-password")
    return password


def generate_password() -> str:
    """A random password for accounts a program creates (the demo's): 20 URL-safe characters."""
    return secrets.token_urlsafe(15)


class Passwords:
    """Hashes and checks passwords with argon2id; *hasher* chooses the cost (the default is
    argon2-cffi's, RFC 9106 low-memory: 3 passes over 64 MiB)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Checked against when the name is unknown, so that a wrong name costs as long as a
        # wrong password: response times must not tell which names exist.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        """The Argon2id hash of *password* (salted; what the account row stores)."""
        return self._hasher.hash(password)

    def matches(self, stored: str | None, password: str) -> bool:
        """Whether *password* is the one *stored* was made from (None: compared to a decoy)."""
        if len(password) > MAX_LENGTH:
            return False
        try:
            return bool(self._hasher.verify(stored if stored is not None else self._decoy, password)) \
                and stored is not None
        except (VerificationError, InvalidHashError, UnicodeError):  # UnicodeError: a lone surrogate
            return False

    def needs_rehash(self, stored: str) -> bool:
        """Whether *stored* was made with weaker parameters than this hasher's."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
