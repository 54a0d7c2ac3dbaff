"""Text a user gives: refused when no database can store it faithfully.

JSON can carry a lone surrogate (``"\\ud800"``) and a NUL (``"\\u0000"``). Neither is text: a
lone surrogate cannot be encoded as UTF-8 (SQLite and every HTTP answer fail on it), and
PostgreSQL refuses NUL in any text column. Both are refused where text enters, naming the
field, so the two databases behave alike and nothing stored differs from what was sent.
"""

from __future__ import annotations

import re

from exchange.errors import InputError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: str) -> str | None:
    """Why *value* cannot be stored ("a NUL character", "a lone surrogate …"), or None."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    char = found.group()
    return "a NUL character" if char == "\x00" else f"a lone surrogate (U+{ord(char):04X}), not a character"


def checked_text(value: str, *, what: str) -> str:
    """*value*, or InputError (code ``invalid-text``) if it holds a NUL or a lone surrogate."""
    reason = unstorable(value)
    if reason is not None:
        raise InputError(f"{what} contains {reason}", code="invalid-text")
    return value


def printable(value: str) -> str:
    """*value* safe to put in an answer: lone surrogates replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", value)


def safe_filename(name: object, *, limit: int = 255) -> str | None:
    """A file name from someone else (a client's upload, the hub's record) made safe to show and to
    join to a directory: its last path part only (``/`` or ``\\``), control characters removed,
    no leading dots (no hidden or ``..`` name), at most *limit* characters; None if nothing is left."""
    base = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return cleaned[:limit] or None
