"""The hub's TLS certificate: issued from the demo PKI at the real time, kept apart from the
signing certificates, reused while it covers the moment and the hosts, re-issued otherwise."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from exchange.errors import PKIError
from exchange.pki import KeyStore
from exchange.pki.tls import RENEW_BEFORE, TLS_DAYS, server_certificate
from tests.conftest import TestPKI


def test_server_certificate_names_loopback_and_serves_only_tls(pki: TestPKI, pki_copy: KeyStore) -> None:
    files = server_certificate(pki_copy, hosts=["hub.example.vn"], at=pki.created)
    cert = files.certificate
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "hub.example.vn"}
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert cert.issuer == pki_copy.issuing_certificate().subject
    # the chain file holds the leaf then the issuing CA: a client with only the root verifies it
    assert files.cert_path.read_text().count("BEGIN CERTIFICATE") == 2
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


def test_refused_when_the_issuing_ca_is_not_valid_then(pki: TestPKI, pki_copy: KeyStore) -> None:
    ca = pki_copy.issuing_certificate()
    with pytest.raises(PKIError, match="TLS clients check the real time"):
        server_certificate(pki_copy, at=ca.not_valid_after_utc + timedelta(seconds=1))
