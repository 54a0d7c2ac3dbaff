"""Who is who at the hub: a node proves its identity with its certificate's private key.

1. ``POST /api/auth/challenge {"body": ID}`` returns a challenge: a random nonce bound to the
   body and an expiry, MACed by the hub (stateless, so any worker can check it).
2. The node signs the challenge text with its key (a detached CMS signature, the same format
   as documents) and sends it to ``POST /api/auth/token``.
3. The hub validates that signature like any document (chain to the root, CRL, key usage),
   checks the signer's certificate names that body, and returns a short-lived bearer token
   bound to the body and the certificate's serial.
4. Every request's token is checked against the *current* CRL, so a revocation ends a
   session within seconds. No passwords, no shared secrets with nodes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from exchange.errors import NotAuthenticatedError

CHALLENGE_TTL = timedelta(minutes=2)
TOKEN_TTL = timedelta(minutes=15)


@dataclass(frozen=True)
class Principal:
    """An authenticated body: its id, the serial of the certificate it proved, token expiry."""

    body_id: str
    serial: int
    expires: datetime


class TokenService:
    """Issues and checks challenges and bearer tokens, MACed with the hub's secret."""

    def __init__(self, secret: bytes, *, token_ttl: timedelta = TOKEN_TTL,
                 challenge_ttl: timedelta = CHALLENGE_TTL) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 bytes")
        self._secret = secret
        self.token_ttl = token_ttl
        self.challenge_ttl = challenge_ttl

    @classmethod
    def from_file(cls, path: Path, **kwargs: timedelta) -> TokenService:
        """Read the secret from *path*, creating it (mode 0600) on first start."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(32))
        secret = path.read_bytes()
        if len(secret) < 32:  # a concurrent worker is still writing it
            time.sleep(0.2)
            secret = path.read_bytes()
        return cls(secret, **kwargs)

    # -- challenges -----------------------------------------------------------------------
    def challenge(self, body_id: str, *, at: datetime) -> str:
        """A sealed challenge for body *body_id* to sign (login step 1): random, and valid for
        ``challenge_ttl`` from *at*."""
        return self._seal({"typ": "challenge", "sub": body_id, "nonce": secrets.token_urlsafe(24),
                           "exp": int((at + self.challenge_ttl).timestamp())})

    def check_challenge(self, text: str, *, at: datetime) -> str:
        """The body id a genuine, unexpired challenge was issued for."""
        claims = self._open(text, "challenge", at=at)
        return str(claims["sub"])

    # -- tokens ---------------------------------------------------------------------------
    def issue(self, body_id: str, serial: int, *, at: datetime) -> tuple[str, datetime]:
        """A bearer token for *body_id*, bound to the *serial* of the certificate it proved, and
        when it expires."""
        expires = at + self.token_ttl
        token = self._seal({"typ": "token", "sub": body_id, "ser": f"{serial:x}", "exp": int(expires.timestamp())})
        return token, expires

    def check(self, token: str, *, at: datetime) -> Principal:
        """The body a bearer *token* names; NotAuthenticatedError when the hub did not issue it
        or it expired at *at*."""
        claims = self._open(token, "token", at=at)
        return Principal(str(claims["sub"]), int(str(claims["ser"]), 16),
                         datetime.fromtimestamp(int(str(claims["exp"])), tz=at.tzinfo))

    # -- sealing --------------------------------------------------------------------------
    def _seal(self, claims: dict[str, object]) -> str:
        body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        mac = _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())
        return f"{body}.{mac}"

    def _open(self, text: str, kind: str, *, at: datetime) -> dict[str, object]:
        try:
            body, mac = text.split(".")
            expected = _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())
            if not hmac.compare_digest(mac, expected):
                raise ValueError
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, TypeError):
            raise NotAuthenticatedError(f"the {kind} is not one this hub issued", code=f"invalid-{kind}") from None
        if claims.get("typ") != kind:
            raise NotAuthenticatedError(f"not a {kind}", code=f"invalid-{kind}")
        if int(claims.get("exp", 0)) < at.timestamp():
            raise NotAuthenticatedError(f"the {kind} has expired; authenticate again", code=f"{kind}-expired")
        return claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
