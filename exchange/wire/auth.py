"""A body's login (``/api/auth``): ask for a challenge, return it signed, get a bearer token."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

__all__ = ["Challenge", "ChallengeRequest", "Token", "TokenRequest"]


class ChallengeRequest(BaseModel):
    """Asks for a challenge to sign as *body*."""

    body: str


class Challenge(BaseModel):
    """The text *body* must sign (detached CMS) to prove it holds its key."""

    body: str
    challenge: str


class TokenRequest(BaseModel):
    """The challenge, signed."""

    challenge: str
    signature: str  # base64 DER detached CMS over the challenge text (UTF-8)


class Token(BaseModel):
    """A short-lived bearer token for *body*, valid until *expires*."""

    token: str
    body: str
    expires: datetime
