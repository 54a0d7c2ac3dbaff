"""Trust: the hub's root and CRL, re-read from disk when ``exchange keys revoke`` rewrites it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from exchange.cms import SubIndication, sign_detached
from exchange.errors import PKINotFoundError
from exchange.hub.trust import Trust
from exchange.pki import KeyStore, revoke


def test_a_revocation_is_seen_at_the_next_reload_without_a_restart(pki, pki_copy):
    trust = Trust(pki_copy, reload_interval=0.0)
    serial = pki_copy.certificate("nghe-an").serial_number
    at = pki.created + timedelta(minutes=10)
    content = b"signed before the revocation was known"
    signature = sign_detached(content, pki_copy.credential("nghe-an"), at=at)
    assert not trust.is_revoked(serial, at=at)
    assert trust.verifier().verify(content, signature, at=at).passed

    revoke(pki_copy, "nghe-an", at=at - timedelta(minutes=1))

    assert trust.is_revoked(serial, at=at)
    assert not trust.is_revoked(serial, at=at - timedelta(minutes=1, seconds=1))  # not before its date
    report = trust.verifier().verify(content, signature, at=at)
    assert report.sub_indication is SubIndication.REVOKED


def test_the_crl_is_checked_at_most_once_per_interval(pki, pki_copy):
    trust = Trust(pki_copy, reload_interval=60.0)
    serial = pki_copy.certificate("nghe-an").serial_number
    at = pki.created + timedelta(minutes=10)
    revoke(pki_copy, "nghe-an", at=at - timedelta(minutes=1))
    assert not trust.is_revoked(serial, at=at)  # not re-read yet: one stat per interval
    trust.reload_interval = 0.0
    assert trust.is_revoked(serial, at=at)


def test_a_missing_crl_keeps_the_last_one_known(pki, pki_copy):
    trust = Trust(pki_copy, reload_interval=0.0)
    pki_copy.crl_path.unlink()
    time.sleep(0.01)
    listed = pki.revoked.certificate.serial_number
    assert trust.is_revoked(listed, at=pki.revoked_at + timedelta(seconds=1))


def test_a_hub_without_a_pki_refuses_to_start(tmp_path):
    with pytest.raises(PKINotFoundError):
        Trust(KeyStore(tmp_path / "nothing"))
