"""The CA's history: a certificate revoked and then renewed is still in it, with both dates."""

from __future__ import annotations

from datetime import timedelta

from exchange.pki import KeyStore, RevocationReason, renew, revoke
from exchange.pki.history import issued, revocations


def test_a_revoked_then_renewed_certificate_stays_in_the_history(pki, pki_copy: KeyStore) -> None:  # type: ignore[no-untyped-def]
    body = pki.bodies.get("nghe-an")
    revoked_at = pki.created + timedelta(days=2, hours=3)
    renewed_at = pki.created + timedelta(days=5)
    old = revoke(pki_copy, "nghe-an", at=revoked_at, reason=RevocationReason.KEY_COMPROMISE)
    new = renew(pki_copy, body, at=renewed_at)

    mine = [c for c in issued(pki_copy) if c.body_id == "nghe-an"]
    assert [(c.serial, c.current) for c in mine] == [(old.serial_number, False), (new.serial_number, True)]

    found = revocations(pki_copy)
    nghe_an = [r for r in found if r.body_id == "nghe-an"]
    assert len(nghe_an) == 1
    item = nghe_an[0]
    assert (item.serial, item.revoked_at, item.reason) == (old.serial_number, revoked_at,
                                                            RevocationReason.KEY_COMPROMISE)
    assert (item.renewed_serial, item.renewed_at) == (new.serial_number, new.not_valid_before_utc)
    # the current certificate alone would have shown nothing revoked
    assert pki_copy.crl().get_revoked_certificate_by_serial_number(new.serial_number) is None
    # a window that ends before the revocation leaves it out; one that holds it keeps it
    assert all(r.body_id != "nghe-an" for r in revocations(pki_copy, end=revoked_at))
    assert [r.serial for r in revocations(pki_copy, start=revoked_at) if r.body_id == "nghe-an"] == [
        old.serial_number]
