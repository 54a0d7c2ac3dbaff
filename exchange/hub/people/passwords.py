"""Passwords: argon2id hashes (argon2-cffi, RFC 9106's low-memory profile), and the rules a new
password must meet. A password itself is never stored nor logged."""

from __future__ import annotations

import dataclasses
import functools
import secrets

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import ARGON2_VERSION

from exchange.errors import InputError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; a bound keeps a hostile request cheap

#: The hub's cost: RFC 9106's low-memory profile (argon2-cffi's default): argon2id, 3 passes
#: over 64 MiB, 4 lanes (about 0.2 s of CPU a hash).
PRODUCTION_COST: Parameters = profiles.RFC_9106_LOW_MEMORY
#: For test suites only (``hub serve --test-password-cost``): one pass over 64 KiB, one lane,
#: with the same salt and hash lengths. It guards nothing against a stolen database.
TEST_COST: Parameters = dataclasses.replace(PRODUCTION_COST, time_cost=1, memory_cost=64, parallelism=1)


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


def _decoy(cost: Parameters) -> str:
    """A hash of a password nobody knows, made with *cost* (once per process and cost: checking
    against it costs the same whichever random password it hides)."""
    return _decoy_of(*dataclasses.astuple(cost))


@functools.cache
def _decoy_of(*cost: object) -> str:
    return PasswordHasher.from_parameters(Parameters(*cost)).hash(secrets.token_urlsafe(16))  # type: ignore[arg-type]


def _cost_of(hasher: PasswordHasher) -> Parameters:
    return Parameters(type=hasher.type, version=ARGON2_VERSION, salt_len=hasher.salt_len, hash_len=hasher.hash_len,
                      time_cost=hasher.time_cost, memory_cost=hasher.memory_cost, parallelism=hasher.parallelism)


class Passwords:
    """Hashes and checks passwords with argon2id; *hasher* chooses the cost (the default is
    :data:`PRODUCTION_COST`, argon2-cffi's: RFC 9106 low-memory, 3 passes over 64 MiB)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher.from_parameters(PRODUCTION_COST)
        # Checked against when the name is unknown, so that a wrong name costs as long as a
        # wrong password: response times must not tell which names exist.
        self._decoy = _decoy(_cost_of(self._hasher))

    @classmethod
    def at_cost(cls, cost: Parameters) -> Passwords:
        """Passwords hashed with *cost* (:data:`PRODUCTION_COST`, or :data:`TEST_COST` in tests)."""
        return cls(PasswordHasher.from_parameters(cost))

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
