"""Certificates carried inside CMS structures (a signature's, a time-stamp token's): each
wholly decoded once and cached, and the signer's found by its SignerIdentifier."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from cryptography import x509

from exchange.pki.certificates import load_der_certificate

#: entries a per-verifier cache holds before it is emptied (bounds memory on long runs)
CACHE_LIMIT = 4096


def load_embedded(der: bytes, cache: dict[bytes, x509.Certificate]) -> x509.Certificate:
    """The certificate *der*, decoded in full (names, key, extensions, dates) and cached by its
    SHA-256; raises MalformedError when any part does not decode, so a corrupted certificate is
    a format failure at parse time, never a crash deep inside validation."""
    key = hashlib.sha256(der).digest()
    cert = cache.get(key)
    if cert is None:
        cert = load_der_certificate(der, source="an embedded certificate")
        if len(cache) > CACHE_LIMIT:
            cache.clear()
        cache[key] = cert
    return cert


@lru_cache(maxsize=256)
def _issuer_der(cert: x509.Certificate) -> bytes:
    return cert.issuer.public_bytes()


def find_signer(sid: tuple[str, Any, Any], certs: tuple[x509.Certificate, ...]) -> x509.Certificate | None:
    """The certificate of *certs* that *sid* names: ("issuer_and_serial_number", issuer DER,
    serial) or ("subject_key_identifier", key id, None); None when none does."""
    kind, identifier, serial = sid
    if kind == "issuer_and_serial_number":
        for cert in certs:
            if cert.serial_number == serial and _issuer_der(cert) == identifier:
                return cert
        # Equal names may be encoded differently: fall back to the serial alone (the signature
        # check that follows still has to pass with that certificate's key).
        return next((cert for cert in certs if cert.serial_number == serial), None)
    for cert in certs:
        try:
            if cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest == identifier:
                return cert
        except x509.ExtensionNotFound:
            continue
    return None
