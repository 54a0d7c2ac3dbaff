"""The demo CA: the PKI it writes, the certificate profile, revocation and renewal."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from exchange.cms import Indication, Verifier, sign_detached
from exchange.errors import (
    ConflictError,
    InputError,
    PKIExistsError,
    PKINotFoundError,
    UnknownBodyError,
)
from exchange.pki import (
    CertificateStatus,
    KeyAlgorithm,
    KeyStore,
    RevocationReason,
    body_id_of,
    certificate_status,
    init_pki,
    reissue_crls,
    renew,
    revoke,
    revoke_certificate,
)
from exchange.pki.ca import BACKDATE, Validity
from exchange.pki.certificates import CRL_URL, load_private_key
from exchange.pki.revocation import crl_number, revoked_entries

if TYPE_CHECKING:
    from conftest import TestPKI


# -- what init writes ------------------------------------------------------------------------


def test_init_writes_roots_crl_hub_and_one_credential_per_body(pki: TestPKI) -> None:
    for name in (
        "root-ca.pem",
        "root-ca.key",
        "issuing-ca.pem",
        "issuing-ca.key",
        "crl.pem",
        "root-crl.pem",
        "hub.pem",
        "hub.key",
        "tsa.pem",
        "tsa.key",
        "pki.json",
    ):
        assert (pki.dir / name).is_file(), name
    assert pki.store.body_ids() == sorted(pki.bodies.ids())
    for body_id in pki.bodies.ids():
        assert pki.store.cert_path(body_id).is_file()
        assert pki.store.key_path(body_id).is_file()


def test_private_keys_are_readable_by_the_owner_only(pki: TestPKI) -> None:
    keys = sorted(pki.dir.rglob("*.key"))
    # root, issuing CA, hub (signing + encryption), TSA, and each body's signing and encryption keys
    assert len(keys) == 5 + 2 * len(pki.bodies)
    for path in keys:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in pki.dir.rglob("*.pem"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_manifest_records_algorithm_time_and_bodies_file(pki: TestPKI) -> None:
    manifest = pki.store.manifest()
    assert manifest["algorithm"] == "rsa2048"
    assert manifest["created"] == pki.created.isoformat().replace("+00:00", "Z")
    assert manifest["bodies_file"] == str(pki.bodies_file)
    assert manifest["validity_days"] == Validity().__dict__
    assert manifest["note"].startswith("DEMO")


def test_init_refuses_to_overwrite_an_existing_pki(pki_copy: KeyStore, pki: TestPKI) -> None:
    before = pki_copy.root_path.read_bytes()
    with pytest.raises(PKIExistsError, match="--force"):
        init_pki(pki_copy, pki.bodies, at=pki.created, algorithm=KeyAlgorithm.ECDSA_P256)
    assert pki_copy.root_path.read_bytes() == before


def test_init_with_force_replaces_the_whole_pki(pki_copy: KeyStore, pki: TestPKI) -> None:
    old_root = pki_copy.root()
    kept = [pki.bodies.get("ha-noi")]
    count = init_pki(pki_copy, kept, at=pki.created, algorithm=KeyAlgorithm.ECDSA_P256, force=True)
    assert count == 1
    assert pki_copy.root() != old_root
    # bodies of the old PKI do not survive under the new root
    assert pki_copy.body_ids() == ["ha-noi"]
    assert pki_copy.manifest()["algorithm"] == "ecdsa-p256"
    assert (
        pki_copy.path_validator()
        .validate(
            pki_copy.certificate("ha-noi"),
            at=pki.created,
            intermediates=pki_copy.credential("ha-noi").chain,
        )
        .ok
    )


def test_reading_a_missing_pki_says_how_to_create_one(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "nowhere")
    assert not store.exists()
    with pytest.raises(PKINotFoundError, match="exchange keys init"):
        store.root()


def test_unknown_body_has_no_certificate(pki: TestPKI) -> None:
    with pytest.raises(UnknownBodyError, match="no-such-body"):
        pki.store.credential("no-such-body")


# -- the certificate profile -----------------------------------------------------------------


def test_root_and_issuing_ca_form_a_two_level_hierarchy(pki: TestPKI) -> None:
    root = pki.store.root()
    issuing = pki.store.issuing_ca().certificate
    assert root.issuer == root.subject
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 1
    bc = issuing.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = issuing.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign


def test_body_certificate_names_the_body_in_vietnamese_utf8(pki: TestPKI) -> None:
    body = pki.bodies.get("nghe-an")
    cert = pki.store.certificate(body.id)
    assert body_id_of(cert) == "nghe-an"
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == body.name_vi
    # encoded as UTF8String, not squeezed into PrintableString or T61String
    subject = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)).subject
    kinds = {attr["type"].native: attr["value"].name for rdn in subject.chosen for attr in rdn}
    assert kinds["common_name"] == "utf8_string"
    assert kinds["organization_name"] == "utf8_string"
    assert kinds["user_id"] == "utf8_string"


def test_body_certificate_profile(pki: TestPKI) -> None:
    cert = pki.signer.certificate
    assert cert.issuer == pki.store.issuing_ca().certificate.subject
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert ku.value.digital_signature and ku.value.content_commitment
    assert not (ku.value.key_encipherment or ku.value.key_cert_sign or ku.value.crl_sign)
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [name.value for point in cdp for name in point.full_name or ()] == [CRL_URL]
    assert cert.not_valid_before_utc == pki.created - BACKDATE
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=Validity().body)
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    public_key = cert.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 2048


def test_hub_certificate_is_issued_by_the_issuing_ca(pki: TestPKI) -> None:
    hub = pki.store.hub_credential()
    assert body_id_of(hub.certificate) == "hub"
    hub.certificate.verify_directly_issued_by(pki.store.issuing_ca().certificate)


def test_ecdsa_p256_pki_signs_and_verifies(ecdsa_store: KeyStore, pki: TestPKI) -> None:
    credential = ecdsa_store.credential("ha-noi")
    key = credential.private_key
    assert isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
    assert isinstance(
        load_private_key(ecdsa_store.directory / "root-ca.key"), ec.EllipticCurvePrivateKey
    )
    signature = sign_detached(b"Cong van so 1", credential, at=pki.created)
    report = _verifier(ecdsa_store).verify(b"Cong van so 1", signature, at=pki.created)
    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert report.signature_algorithm == "sha256_ecdsa"
    assert report.revocation_checked


# -- revoke ----------------------------------------------------------------------------------


def test_revoke_adds_the_certificate_to_a_re_signed_crl(pki_copy: KeyStore, pki: TestPKI) -> None:
    before = pki_copy.crl()
    at = pki.created + timedelta(days=2)
    cert = revoke(pki_copy, "ha-noi", at=at, reason=RevocationReason.KEY_COMPROMISE)
    assert cert == pki_copy.certificate("ha-noi")
    crl = pki_copy.crl()
    assert crl_number(crl) == crl_number(before) + 1
    assert crl.is_signature_valid(pki_copy.issuing_ca().certificate.public_key())  # type: ignore[arg-type]
    assert crl.last_update_utc == at
    entries = {e.serial: e for e in revoked_entries(crl)}
    assert entries[cert.serial_number].revoked_at == at
    assert entries[cert.serial_number].reason is RevocationReason.KEY_COMPROMISE
    # earlier revocations are carried into the new CRL
    assert pki.revoked.certificate.serial_number in entries


def test_revoking_twice_is_a_conflict(pki_copy: KeyStore, pki: TestPKI) -> None:
    revoke(pki_copy, "da-nang", at=pki.created)
    with pytest.raises(ConflictError, match="already revoked"):
        revoke(pki_copy, "da-nang", at=pki.created + timedelta(hours=1))
    with pytest.raises(ConflictError):
        revoke(pki_copy, "revoked-body", at=pki.created)


def test_revoking_an_unknown_body_names_it(pki_copy: KeyStore, pki: TestPKI) -> None:
    with pytest.raises(UnknownBodyError, match="no-such-body"):
        revoke(pki_copy, "no-such-body", at=pki.created)


# -- renew -----------------------------------------------------------------------------------


def test_renew_issues_a_new_key_and_archives_the_old_certificate(
    pki_copy: KeyStore, pki: TestPKI
) -> None:
    body = pki.bodies.get("propaganda-commission")
    old = pki_copy.credential(body.id)
    at = pki.created + timedelta(days=100)
    new_cert = renew(pki_copy, body, at=at)
    new = pki_copy.credential(body.id)
    assert new.certificate == new_cert
    assert new_cert.serial_number != old.certificate.serial_number
    assert new_cert.public_key() != old.certificate.public_key()
    assert new_cert.not_valid_before_utc == at - BACKDATE
    assert body_id_of(new_cert) == body.id
    assert pki_copy.archived(body.id) == [old.certificate]
    assert stat.S_IMODE(pki_copy.key_path(body.id).stat().st_mode) == 0o600


def test_what_the_old_key_signed_stays_valid_after_renewal(
    pki_copy: KeyStore, pki: TestPKI
) -> None:
    body = pki.bodies.get("ha-noi")
    document = "Báo cáo 6 tháng".encode()
    old_signature = sign_detached(document, pki_copy.credential(body.id), at=pki.created)
    renew(pki_copy, body, at=pki.created + timedelta(days=1))
    new_signature = sign_detached(
        document, pki_copy.credential(body.id), at=pki.created + timedelta(days=2)
    )
    verifier = _verifier(pki_copy)
    for signature in (old_signature, new_signature):
        report = verifier.verify(document, signature, at=pki.created + timedelta(days=3))
        assert report.indication is Indication.TOTAL_PASSED, report.summary()
        assert report.signer is not None and report.signer.body_id == "ha-noi"


# -- status ----------------------------------------------------------------------------------


def test_status_valid_revoked_expired_not_yet_valid(pki: TestPKI) -> None:
    crl = pki.store.crl()
    at = pki.created
    assert certificate_status(pki.signer.certificate, crl, at=at) is CertificateStatus.VALID
    assert certificate_status(pki.expired.certificate, crl, at=at) is CertificateStatus.EXPIRED
    assert (
        certificate_status(pki.not_yet_valid.certificate, crl, at=at)
        is CertificateStatus.NOT_YET_VALID
    )
    revoked = pki.revoked.certificate
    assert (
        certificate_status(revoked, crl, at=pki.revoked_at - timedelta(seconds=1))
        is CertificateStatus.VALID
    )
    assert certificate_status(revoked, crl, at=pki.revoked_at) is CertificateStatus.REVOKED
    # revoked outranks expired
    after_expiry = revoked.not_valid_after_utc + timedelta(seconds=1)
    assert certificate_status(revoked, crl, at=after_expiry) is CertificateStatus.REVOKED


def test_status_turns_expired_one_second_after_not_after(pki: TestPKI) -> None:
    crl = pki.store.crl()
    cert = pki.signer.certificate
    end = cert.not_valid_after_utc
    assert certificate_status(cert, crl, at=end - timedelta(seconds=1)) is CertificateStatus.VALID
    assert certificate_status(cert, crl, at=end) is CertificateStatus.VALID
    assert certificate_status(cert, crl, at=end + timedelta(seconds=1)) is CertificateStatus.EXPIRED


def _verifier(store: KeyStore) -> Verifier:
    return Verifier(paths=store.path_validator())


# -- CRLs that must stay current -------------------------------------------------------------


def test_init_writes_both_crls_current_for_the_pkis_lifetime(pki: TestPKI) -> None:
    issuing, root = pki.store.crl(), pki.store.root_crl()
    assert root.issuer == pki.root.subject and issuing.issuer == pki.store.issuing_ca().certificate.subject
    assert root.next_update_utc - root.last_update_utc == timedelta(days=Validity.crl)
    assert pki.store.manifest()["validity_days"]["crl"] == Validity.crl == 7
    assert len(pki.store.crls()) == 2


def test_reissue_keeps_the_entries_and_moves_the_next_update(pki_copy: KeyStore, pki: TestPKI) -> None:
    before = pki_copy.crls()
    at = pki.created + timedelta(days=6)
    issuing, root = reissue_crls(pki_copy, at=at, days=30)
    assert [crl_number(c) for c in (issuing, root)] == [crl_number(c) + 1 for c in before]
    assert revoked_entries(issuing) == revoked_entries(before[0])
    assert issuing.last_update_utc == at and issuing.next_update_utc == at + timedelta(days=30)
    assert pki_copy.crls() == [issuing, root]
    again = reissue_crls(pki_copy, at=at + timedelta(days=1))  # the PKI's own lifetime
    assert again[0].next_update_utc == at + timedelta(days=1 + Validity.crl)


def test_a_revocation_re_signs_with_the_pkis_crl_lifetime(pki_copy: KeyStore, pki: TestPKI) -> None:
    manifest = pki_copy.manifest()
    manifest["validity_days"]["crl"] = 30
    pki_copy.write("pki.json", json.dumps(manifest).encode())
    revoke(pki_copy, "da-nang", at=pki.created)
    crl = pki_copy.crl()
    assert crl.next_update_utc - crl.last_update_utc == timedelta(days=30)


def test_the_root_revokes_the_issuing_ca_on_its_own_crl(pki_copy: KeyStore, pki: TestPKI) -> None:
    issuing = pki_copy.issuing_ca().certificate
    revoke_certificate(pki_copy, issuing, at=pki.created, reason=RevocationReason.KEY_COMPROMISE)
    assert [e.serial for e in revoked_entries(pki_copy.root_crl())] == [issuing.serial_number]
    assert issuing.serial_number not in {e.serial for e in revoked_entries(pki_copy.crl())}
    tsa = pki_copy.tsa_credential().certificate
    revoke_certificate(pki_copy, tsa, at=pki.created)
    assert tsa.serial_number in {e.serial for e in revoked_entries(pki_copy.crl())}
    with pytest.raises(InputError, match="not issued by this PKI"):
        revoke_certificate(pki_copy, pki.foreign.certificate, at=pki.created)


def test_distribution_points_name_the_hub_given_at_init(tmp_path: Path, pki: TestPKI) -> None:
    store = KeyStore(tmp_path / "keys")
    init_pki(store, [pki.bodies.get("nghe-an")], at=pki.created, algorithm=KeyAlgorithm.ECDSA_P256,
             hub_url="https://hub.example.vn:8443/")
    urls = {name: _crl_url(cert) for name, cert in (
        ("body", store.certificate("nghe-an")), ("hub", store.hub_credential().certificate),
        ("tsa", store.tsa_credential().certificate), ("issuing", store.issuing_ca().certificate))}
    assert urls == {"body": "https://hub.example.vn:8443/api/crl", "hub": "https://hub.example.vn:8443/api/crl",
                    "tsa": "https://hub.example.vn:8443/api/crl",
                    "issuing": "https://hub.example.vn:8443/api/crl/root"}
    renewed = renew(store, pki.bodies.get("nghe-an"), at=pki.created)
    assert _crl_url(renewed) == "https://hub.example.vn:8443/api/crl"


def _crl_url(cert: x509.Certificate) -> str:
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    return str(points[0].full_name[0].value)


def test_the_tsa_certificate_profile(pki: TestPKI) -> None:
    cert = pki.store.tsa_credential().certificate
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment and not ku.key_cert_sign
    assert body_id_of(cert) is None
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=Validity.tsa)
    assert Validity.tsa > Validity.body and Validity.tsa < Validity.issuing
