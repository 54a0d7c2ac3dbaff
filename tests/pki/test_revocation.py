"""CRLs: building, reading back, and believing only those the right issuer signed."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from exchange.errors import MalformedError
from exchange.pki import RevocationIndex, RevocationReason, RevokedEntry, build_crl, load_crl
from exchange.pki.revocation import crl_number, crl_pem, revoked_entries

if TYPE_CHECKING:
    from conftest import TestPKI


def test_entries_and_reasons_survive_a_round_trip(pki: TestPKI) -> None:
    at = pki.created
    entries = [
        RevokedEntry(0x1234, at - timedelta(days=1), RevocationReason.KEY_COMPROMISE),
        RevokedEntry(0x5678, at - timedelta(hours=2)),
        RevokedEntry(0x9ABC, at, RevocationReason.CESSATION_OF_OPERATION),
    ]
    crl = load_crl(crl_pem(build_crl(pki.store.issuing_ca(), entries, at=at, number=7)))
    assert sorted(revoked_entries(crl), key=lambda e: e.serial) == entries
    assert crl_number(crl) == 7
    assert crl.last_update_utc == at
    assert crl.next_update_utc == at + timedelta(days=7)


def test_unspecified_reason_is_left_out_of_the_entry(pki: TestPKI) -> None:
    # RFC 5280 §5.3.1: the reason code extension SHOULD be absent rather than "unspecified"
    crl = build_crl(pki.store.issuing_ca(), [RevokedEntry(1, pki.created)], at=pki.created)
    with pytest.raises(x509.ExtensionNotFound):
        crl[0].extensions.get_extension_for_class(x509.CRLReason)


@pytest.mark.parametrize("reason", list(RevocationReason))
def test_every_reason_maps_to_an_rfc5280_flag(reason: RevocationReason) -> None:
    assert reason.flag.name == reason.value


def test_the_pki_crl_lists_the_revoked_actor(pki: TestPKI) -> None:
    # the signing certificate, and the encryption certificate revoked with it
    signing, encryption = revoked_entries(pki.store.crl())
    assert signing.serial == pki.revoked.certificate.serial_number
    assert encryption.serial == pki.store.encryption_certificate(pki.revoked.certificate.subject.get_attributes_for_oid(
        NameOID.USER_ID)[0].value).serial_number
    assert signing.revoked_at == encryption.revoked_at == pki.revoked_at


def test_load_crl_reads_pem_and_der(pki: TestPKI) -> None:
    crl = pki.store.crl()
    assert load_crl(crl.public_bytes(serialization.Encoding.DER)) == crl
    assert load_crl(crl.public_bytes(serialization.Encoding.PEM)) == crl


@pytest.mark.parametrize(
    "data", [b"", b"not a crl", b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"]
)
def test_load_crl_rejects_what_is_not_a_crl(data: bytes) -> None:
    with pytest.raises(MalformedError, match="crl.pem is not a CRL"):
        load_crl(data, source="crl.pem")


def test_index_answers_from_the_issuers_crl(pki: TestPKI) -> None:
    issuing = pki.store.issuing_ca().certificate
    index = RevocationIndex([pki.store.crl()])
    assert index
    covered, entry, crl = index.lookup(pki.revoked.certificate, issuing)
    assert covered and entry is not None and entry.revoked_at == pki.revoked_at
    assert crl == pki.store.crl()
    covered, entry, _ = index.lookup(pki.signer.certificate, issuing)
    assert covered and entry is None


def test_index_ignores_a_crl_signed_by_another_ca(pki: TestPKI) -> None:
    # The foreign issuing CA carries the very same name as ours: only the signature differs.
    issuing = pki.store.issuing_ca().certificate
    assert pki.foreign_issuing.certificate.subject == issuing.subject
    forged = build_crl(
        pki.foreign_issuing,
        [RevokedEntry(pki.signer.certificate.serial_number, pki.created)],
        at=pki.created,
    )
    index = RevocationIndex([forged])
    assert index.crls_for(issuing) == []
    assert index.lookup(pki.signer.certificate, issuing) == (False, None, None)


def test_index_ignores_a_crl_that_names_another_issuer(pki: TestPKI) -> None:
    root = pki.store.root()
    index = RevocationIndex([pki.store.crl()])
    assert index.crls_for(root) == []


def test_newest_crl_is_authoritative_and_older_ones_add_history(pki: TestPKI) -> None:
    issuing_credential = pki.store.issuing_ca()
    issuing = issuing_credential.certificate
    at = pki.created
    older = build_crl(
        issuing_credential,
        [RevokedEntry(pki.signer.certificate.serial_number, at)],
        at=at,
        number=1,
    )
    newer = build_crl(issuing_credential, [], at=at + timedelta(days=1), number=2)
    index = RevocationIndex([older, newer])
    covered, entry, crl = index.lookup(pki.signer.certificate, issuing)
    assert covered and entry is not None and crl == older
    covered, entry, crl = index.lookup(pki.store.certificate("ha-noi"), issuing)
    assert covered and entry is None and crl == newer


def test_an_empty_index_is_false() -> None:
    assert not RevocationIndex()
