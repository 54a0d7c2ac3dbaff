"""JSON from users, bounded: a size and a nesting depth checked before anything is built.

Python's parser recurses once per nesting level: a small text nested a few thousand levels
deep (``[[[[…]]]]``) raises ``RecursionError``, which is no ``ValueError`` and used to escape as
a crash. No message of this exchange nests more than a few levels, so :data:`MAX_DEPTH` is
generous; the depth is measured by one linear scan, without recursion.
"""

from __future__ import annotations

import json
from typing import Any

from exchange.errors import InputError, TooLargeError

MAX_DEPTH = 32
MAX_SIZE = 64 * 1024


def nesting_depth(text: str | bytes) -> int:
    """How deep arrays and objects nest in *text* (brackets inside strings do not count)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def check_json(text: str | bytes, *, what: str, max_size: int = MAX_SIZE, max_depth: int = MAX_DEPTH) -> None:
    """TooLargeError past *max_size* bytes, InputError (``invalid-json``) past *max_depth*."""
    size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(text)
    if size > max_size:
        raise TooLargeError(f"{what} is {size} bytes of JSON; at most {max_size} are accepted")
    if nesting_depth(text) > max_depth:
        raise InputError(f"{what} nests deeper than {max_depth} levels", code="invalid-json")


def loads(text: str | bytes, *, what: str, code: str = "invalid-json", max_size: int = MAX_SIZE,
          max_depth: int = MAX_DEPTH) -> Any:
    """Parse *text* after :func:`check_json`; InputError (*code*) naming *what* if it is not JSON."""
    check_json(text, what=what, max_size=max_size, max_depth=max_depth)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{what} is not valid JSON: {exc}", code=code) from None
