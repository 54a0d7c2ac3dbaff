"""The little DER the CMS code writes and walks by hand (X.690 §8.1, §10.1): lengths and TLVs.

Signing and time-stamping splice per-signature values into encodings asn1crypto made once;
verification re-tags the signed attributes and finds a time-stamp token's parts by walking its
TLVs (each part is then read with asn1crypto's own types); adding a token to a signature
re-wraps the SignerInfo's enclosing values. All of it needs only one-byte tags; the walker also
reads BER's indefinite lengths (``openssl cms -sign -stream`` writes them) and re-wraps with
definite ones, leaving every inner value's bytes as they were. A reader meeting anything else
raises ValueError, and callers fall back to asn1crypto's full parse.
"""

from __future__ import annotations


def der_length(length: int) -> bytes:
    """The length octets: short form below 128, else 0x80 | count, then the bytes big-endian."""
    if length < 0x80:
        return bytes((length,))
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def tlv(tag: int, contents: bytes) -> bytes:
    """One TLV with a one-byte *tag* (e.g. 0x30 SEQUENCE, 0x31 SET, 0x04 OCTET STRING)."""
    return bytes((tag,)) + der_length(len(contents)) + contents


def contents_of(der: bytes) -> bytes:
    """The contents of one TLV with a one-byte tag and a definite length (its header cut)."""
    first = der[1]
    start = 2 if first < 0x80 else 2 + (first & 0x7F)
    return der[start:]


def read_tlv(der: bytes, pos: int = 0) -> tuple[int, int, int, int]:
    """(tag, start of contents, end of contents, end of the value) of the TLV at *pos*: one-byte
    tags; definite lengths, or BER's indefinite length on a constructed value (its contents end
    at the end-of-contents octets ``00 00``). Raises ValueError for anything else."""
    if pos + 2 > len(der):
        raise ValueError("truncated DER value")
    tag, first = der[pos], der[pos + 1]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tags are not read here")
    start = pos + 2
    if first == 0x80:
        if not tag & 0x20:
            raise ValueError("an indefinite length on a primitive value")
        inner = start
        while der[inner:inner + 2] != b"\x00\x00":
            if inner >= len(der):
                raise ValueError("an indefinite length without its end-of-contents")
            inner = read_tlv(der, inner)[3]
        return tag, start, inner, inner + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count > 4:
            raise ValueError("an oversized DER length")
        length = int.from_bytes(der[start:start + count], "big")
        start += count
    end = start + length
    if end > len(der):
        raise ValueError("truncated DER value")
    return tag, start, end, end


def children(der: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, bytes]]:
    """The (tag, whole TLV) of each value laid end to end in ``der[start:end]`` (the contents
    of a SEQUENCE or SET)."""
    end = len(der) if end is None else end
    found = []
    pos = start
    while pos < end:
        tag, _, _, stop = read_tlv(der, pos)
        if stop > end:
            raise ValueError("a value overruns its container")
        found.append((tag, der[pos:stop]))
        pos = stop
    return found


def unwrap(der: bytes, tag: int) -> bytes:
    """The contents of the single TLV *der*, which must have *tag* and nothing after it."""
    found, start, end, stop = read_tlv(der)
    if found != tag or stop != len(der):
        raise ValueError(f"expected one value with tag {tag:#04x}, found {found:#04x}")
    return der[start:end]
