"""The hub's TLS certificate: issued from the demo PKI at the real time, kept apart from the
signing certificates, reused while it covers the moment and the hosts, re-issued otherwise."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from exchange.errors import PKIError
from exchange.pki import KeyStore, Validity, init_pki, load_certificate_file
from exchange.pki.tls import (
    RENEW_BEFORE,
    TLS_CA_DAYS,
    TLS_DAYS,
    client_certificate,
    server_certificate,
)
from tests.conftest import TestPKI


def test_server_certificate_names_loopback_and_serves_only_tls(pki: TestPKI, pki_copy: KeyStore) -> None:
    files = server_certificate(pki_copy, hosts=["hub.example.vn"], at=pki.created)
    cert = files.certificate
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "hub.example.vn"}
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    # issued by the TLS CA under the root; the chain file holds the leaf then that CA, so a
    # client with only the root verifies it
    chain = load_certificate_file(files.cert_path)
    assert chain[0] == cert and len(chain) == 2
    assert cert.issuer == chain[1].subject and chain[1].issuer == pki_copy.root().subject
    cert.verify_directly_issued_by(chain[1])
    chain[1].verify_directly_issued_by(pki_copy.root())
    assert cert.not_valid_before_utc <= pki.created < cert.not_valid_after_utc


def test_reused_while_valid_reissued_near_expiry_or_for_a_new_host(pki: TestPKI, pki_copy: KeyStore) -> None:
    first = server_certificate(pki_copy, at=pki.created).certificate
    assert server_certificate(pki_copy, at=pki.created + timedelta(days=1)).certificate == first
    last_day = first.not_valid_after_utc - RENEW_BEFORE
    assert server_certificate(pki_copy, at=last_day).certificate == first
    renewed = server_certificate(pki_copy, at=last_day + timedelta(seconds=1)).certificate
    assert renewed != first and renewed.not_valid_before_utc > first.not_valid_before_utc
    assert server_certificate(pki_copy, hosts=["10.0.0.7"], at=last_day).certificate not in (first, renewed)


def test_issued_on_the_time_it_is_given_not_the_pkis(pki: TestPKI, pki_copy: KeyStore) -> None:
    later = pki.created + timedelta(days=400)
    cert = server_certificate(pki_copy, at=later).certificate
    assert cert.not_valid_before_utc <= later < cert.not_valid_after_utc
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=TLS_DAYS)


def test_refused_when_the_root_is_not_valid_long_enough(pki: TestPKI, pki_copy: KeyStore) -> None:
    root = pki_copy.root()
    last = root.not_valid_after_utc - timedelta(days=TLS_CA_DAYS)
    assert server_certificate(pki_copy, at=last).certificate.not_valid_before_utc <= last
    shutil.rmtree(pki_copy.directory / "tls")  # nothing to reuse: a TLS CA must be issued
    with pytest.raises(PKIError, match="TLS clients check the real time"):
        server_certificate(pki_copy, at=last + timedelta(seconds=1))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not on PATH")
def test_a_pki_made_in_2015_still_serves_tls_now(pki: TestPKI, tmp_path: Path) -> None:
    """A demo PKI on a simulated 2015 clock: its issuing CA expired in 2020, its root lives on.
    TLS needs only the root: the TLS CA and certificates are issued at the real time."""
    store = KeyStore(tmp_path / "keys")
    init_pki(store, [pki.bodies.get("ha-noi")], at=datetime(2015, 1, 5, tzinfo=UTC),
             validity=Validity(root=7300, issuing=1825, body=730, hub=730))
    assert store.issuing_certificate().not_valid_after_utc < pki.created
    files = server_certificate(store, at=pki.created)
    client = client_certificate(store, "ha-noi", at=pki.created)
    for leaf in (files.cert_path, client.cert_path):
        checked = subprocess.run(["openssl", "verify", "-CAfile", str(store.root_path), "-untrusted", str(leaf),
                                  str(leaf)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
