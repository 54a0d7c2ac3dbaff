"""Document content as signed and verified: bytes, a file or a stream, hashed in chunks.

Hashing streams in 1 MiB chunks so a 50 MiB document never sits in memory whole.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

from exchange.errors import InputFileError

Content = bytes | bytearray | memoryview | str | Path | BinaryIO
CHUNK = 1 << 20

#: digest algorithms accepted in signatures, by asn1crypto name
DIGESTS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def digest(content: Content, algorithm: str = "sha256") -> bytes:
    """The digest of *content* under *algorithm* (sha256, sha384 or sha512)."""
    return digests(content, (algorithm,))[algorithm]


def digests(content: Content, algorithms: tuple[str, ...]) -> dict[str, bytes]:
    """Several digests of *content* in one pass (e.g. the signature's and the SHA-256 id)."""
    hashers = {name: DIGESTS[name]() for name in dict.fromkeys(algorithms)}
    if isinstance(content, bytes | bytearray | memoryview):
        for h in hashers.values():
            h.update(content)
    elif isinstance(content, str | Path):
        path = Path(content)
        if path.is_dir():
            raise InputFileError(f"{path} is a directory, not a file")
        try:
            with path.open("rb") as stream:
                _feed(stream, hashers)
        except FileNotFoundError:
            raise InputFileError(f"no such file: {path}") from None
        except OSError as exc:
            raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    else:
        _feed(content, hashers)
    return {name: h.digest() for name, h in hashers.items()}


def _feed(stream: BinaryIO, hashers: dict) -> None:  # type: ignore[type-arg]
    while chunk := stream.read(CHUNK):
        for h in hashers.values():
            h.update(chunk)
