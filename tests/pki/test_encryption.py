"""Encryption certificates: issued beside signing ones, revoked and renewed with them, and
never encrypted to when revoked, expired, untrusted or not meant for encryption."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from exchange.domain.bodies import BodyRegistry
from exchange.errors import UnusableCertificateError
from exchange.pki import (
    KeyStore,
    PathStatus,
    PathValidator,
    check_encryption_certificate,
    renew,
    revoke,
)
from exchange.pki.encryption import HUB_ID, issue_encryption_certificate
from tests.conftest import REVOKED_BODY, TestPKI


def _usage(cert: x509.Certificate) -> x509.KeyUsage:
    return cert.extensions.get_extension_for_class(x509.KeyUsage).value


def test_every_body_and_the_hub_has_an_rsa_key_encipherment_certificate(pki: TestPKI) -> None:
    for body_id in [*pki.store.body_ids(), HUB_ID]:
        cert = pki.store.encryption_certificate(body_id)
        assert isinstance(cert.public_key(), rsa.RSAPublicKey)
        usage = _usage(cert)
        assert usage.key_encipherment and not usage.digital_signature and not usage.content_commitment
        # a key pair of its own, not the signing key again
        if body_id != HUB_ID:
            assert cert.public_key() != pki.store.certificate(body_id).public_key()


def test_ec_keys_get_key_agreement(ecdsa_store: KeyStore) -> None:
    cert = ecdsa_store.encryption_certificate("nghe-an")
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert _usage(cert).key_agreement and not _usage(cert).key_encipherment


def _check(pki: TestPKI, store: KeyStore, body_id: str, cert: x509.Certificate, at_offset: timedelta,
           paths: PathValidator | None = None):
    return check_encryption_certificate(cert, paths=paths or store.path_validator(), body_id=body_id,
                                        at=pki.created + at_offset, intermediates=[store.issuing_certificate()])


def test_a_valid_encryption_certificate_passes(pki: TestPKI) -> None:
    result = _check(pki, pki.store, "central-office", pki.store.encryption_certificate("central-office"),
                    timedelta(0))
    assert result.status is PathStatus.VALID


def test_revoked_encryption_certificate_refused_from_its_revocation_on(pki: TestPKI) -> None:
    cert = pki.store.encryption_certificate(REVOKED_BODY["id"])
    before = pki.revoked_at - pki.created - timedelta(seconds=1)
    assert _check(pki, pki.store, REVOKED_BODY["id"], cert, before).status is PathStatus.VALID
    with pytest.raises(UnusableCertificateError, match="revoked") as caught:
        _check(pki, pki.store, REVOKED_BODY["id"], cert, before + timedelta(seconds=1))
    assert caught.value.detail["status"] == "revoked"


def test_expired_encryption_certificate_refused_a_second_after_not_after(pki: TestPKI) -> None:
    cert = pki.store.encryption_certificate("ha-noi")
    end = cert.not_valid_after_utc - pki.created
    # the CA kept publishing its CRLs until then
    paths = PathValidator(trust_anchors=[pki.root], crls=pki.crls_at(cert.not_valid_after_utc - timedelta(days=1)),
                          require_revocation=True)
    assert _check(pki, pki.store, "ha-noi", cert, end, paths).status is PathStatus.VALID
    with pytest.raises(UnusableCertificateError, match="expired"):
        _check(pki, pki.store, "ha-noi", cert, end + timedelta(seconds=1), paths)


def test_a_signing_certificate_is_not_encrypted_to(pki: TestPKI) -> None:
    with pytest.raises(UnusableCertificateError, match="keyEncipherment nor keyAgreement"):
        _check(pki, pki.store, "ha-noi", pki.store.certificate("ha-noi"), timedelta(0))


def test_certificate_of_another_body_refused(pki: TestPKI) -> None:
    with pytest.raises(UnusableCertificateError, match="names da-nang"):
        _check(pki, pki.store, "ha-noi", pki.store.encryption_certificate("da-nang"), timedelta(0))


def test_foreign_encryption_certificate_refused(pki: TestPKI) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = issue_encryption_certificate(key, issuer=pki.foreign_issuing, body_id="ha-noi", name_vi="Giả mạo",
                                        not_before=pki.created - timedelta(minutes=5))
    with pytest.raises(UnusableCertificateError, match="no chain"):
        _check(pki, pki.store, "ha-noi", cert, timedelta(0))


def test_revoke_takes_the_encryption_certificate_with_it(pki: TestPKI, pki_copy: KeyStore) -> None:
    enc = pki_copy.encryption_certificate("nghe-an")
    revoke(pki_copy, "nghe-an", at=pki.created + timedelta(minutes=1))
    assert pki_copy.crl().get_revoked_certificate_by_serial_number(enc.serial_number) is not None


def test_renew_issues_a_new_encryption_key_and_keeps_the_old_one_readable(pki: TestPKI, pki_copy: KeyStore) -> None:
    old = pki_copy.encryption_certificate("nghe-an")
    registry = BodyRegistry.from_toml(pki.bodies_file)
    renew(pki_copy, registry.get("nghe-an"), at=pki.created + timedelta(minutes=1))
    new = pki_copy.encryption_certificate("nghe-an")
    assert new.serial_number != old.serial_number and new.public_key() != old.public_key()
    credentials = pki_copy.encryption_credentials("nghe-an")
    assert [c.certificate for c in credentials] == [new, old]
