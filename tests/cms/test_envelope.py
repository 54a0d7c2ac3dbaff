"""CMS envelopes and the triple wrap, checked against ``openssl cms`` both ways."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from exchange.cms import Indication, SubIndication
from exchange.cms.envelope import Envelope, MalformedEnvelopeError, encrypt
from exchange.cms.sealed import open_sealed, seal
from exchange.errors import DecryptionError
from exchange.pki import KeyStore
from tests.conftest import TestPKI

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not on PATH")

SECRET = "Mật — Kế hoạch bảo vệ: MARKER-7f3a\r\n".encode() + bytes(range(256))


def openssl(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, input=stdin, check=False)


@pytest.fixture(params=["rsa", "ecdsa"])
def store(request: pytest.FixtureRequest, pki: TestPKI, ecdsa_store: KeyStore) -> KeyStore:
    return pki.store if request.param == "rsa" else ecdsa_store


def _openssl_decrypt(store: KeyStore, body_id: str, envelope: Path) -> subprocess.CompletedProcess[bytes]:
    return openssl("cms", "-decrypt", "-binary", "-inform", "DER", "-in", envelope,
                   "-recip", store.encryption_cert_path(body_id), "-inkey", store.encryption_key_path(body_id))


def test_openssl_decrypts_our_envelope_for_each_recipient(store: KeyStore, tmp_path: Path) -> None:
    envelope = tmp_path / "doc.p7m"
    envelope.write_bytes(encrypt(SECRET, [store.encryption_certificate("central-office"),
                                          store.encryption_certificate("nghe-an")]))
    for body_id in ("central-office", "nghe-an"):
        result = _openssl_decrypt(store, body_id, envelope)
        assert result.returncode == 0, result.stderr
        assert result.stdout == SECRET
    outsider = _openssl_decrypt(store, "ha-noi", envelope)
    assert outsider.returncode != 0 and SECRET not in outsider.stdout


@pytest.mark.parametrize("cipher", ["-aes256", "-aes-256-gcm", "-aes128"])
def test_we_decrypt_openssl_envelopes(store: KeyStore, tmp_path: Path, cipher: str) -> None:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(SECRET)
    out = tmp_path / "o.p7m"
    made = openssl("cms", "-encrypt", "-binary", cipher, "-in", plain, "-outform", "DER", "-out", out,
                   store.encryption_cert_path("ha-noi"))
    assert made.returncode == 0, made.stderr
    credential = store.encryption_credentials("ha-noi")[0]
    assert Envelope.from_der(out.read_bytes()).decrypt(credential.certificate, credential.private_key) == SECRET


def test_we_decrypt_openssl_rsa_oaep(pki: TestPKI, tmp_path: Path) -> None:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(SECRET)
    out = tmp_path / "o.p7m"
    made = openssl("cms", "-encrypt", "-binary", "-aes256", "-in", plain, "-outform", "DER", "-out", out,
                   "-recip", pki.store.encryption_cert_path("ha-noi"), "-keyopt", "rsa_padding_mode:oaep")
    assert made.returncode == 0, made.stderr
    envelope = Envelope.from_der(out.read_bytes())
    assert envelope.recipients[0].kind == "key transport (RSA-OAEP)"
    credential = pki.store.encryption_credentials("ha-noi")[0]
    assert envelope.decrypt(credential.certificate, credential.private_key) == SECRET


def test_altered_ciphertext_does_not_open(pki: TestPKI) -> None:
    data = bytearray(encrypt(SECRET, [pki.store.encryption_certificate("ha-noi")]))
    data[-40] ^= 0x01  # inside the ciphertext, just before the tag
    credential = pki.store.encryption_credentials("ha-noi")[0]
    with pytest.raises(DecryptionError, match="does not authenticate"):
        Envelope.from_der(bytes(data)).decrypt(credential.certificate, credential.private_key)


def test_non_recipient_cannot_open(pki: TestPKI) -> None:
    envelope = Envelope.from_der(encrypt(SECRET, [pki.store.encryption_certificate("ha-noi")]))
    other = pki.store.encryption_credentials("da-nang")[0]
    with pytest.raises(DecryptionError) as caught:
        envelope.decrypt(other.certificate, other.private_key)
    assert caught.value.code == "not-a-recipient"


@pytest.mark.parametrize("data", [b"", b"not cms at all", b"\x30\x03\x02\x01\x00"])
def test_malformed_envelope_raises_at_parse(data: bytes) -> None:
    with pytest.raises(MalformedEnvelopeError):
        Envelope.from_der(data)


def test_a_signature_is_not_an_envelope(pki: TestPKI) -> None:
    from exchange.cms import sign_detached

    with pytest.raises(MalformedEnvelopeError, match="not an envelope"):
        Envelope.from_der(sign_detached(b"x", pki.signer, at=pki.created))


# -- the triple wrap ------------------------------------------------------------------------


def _seal(store: KeyStore, pki: TestPKI):
    return seal(SECRET, sender=store.credential("nghe-an"),
                recipients=[store.encryption_certificate("central-office")],
                sender_encryption=store.encryption_certificate("nghe-an"), at=pki.created)


def test_recipient_and_sender_open_and_verify_the_inner_signature(store: KeyStore, pki: TestPKI) -> None:
    sealed = _seal(store, pki)
    verifier = pki.verifier(crls=store.crls(), trust_anchors=[store.root()])
    for reader in ("central-office", "nghe-an"):
        opened = open_sealed(sealed.envelope, credentials=store.encryption_credentials(reader),
                             verifier=verifier, at=pki.created)
        assert opened.content == SECRET
        assert opened.report is not None and opened.report.indication is Indication.TOTAL_PASSED
        assert opened.report.signer is not None and opened.report.signer.body_id == "nghe-an"
    # the outer signature verifies over the envelope alone: what the hub checks
    outer = verifier.verify(sealed.envelope, sealed.outer_signature, at=pki.created)
    assert outer.passed and outer.signer is not None and outer.signer.body_id == "nghe-an"
    assert b"MARKER-7f3a" not in sealed.envelope and b"MARKER-7f3a" not in sealed.outer_signature


def test_a_third_body_cannot_open(pki: TestPKI) -> None:
    sealed = _seal(pki.store, pki)
    with pytest.raises(DecryptionError) as caught:
        open_sealed(sealed.envelope, credentials=pki.store.encryption_credentials("ha-noi"),
                    verifier=pki.verifier(), at=pki.created)
    assert caught.value.code == "not-a-recipient"


def test_envelope_altered_in_transit_fails_the_outer_signature(pki: TestPKI) -> None:
    sealed = _seal(pki.store, pki)
    altered = sealed.envelope[:-1] + bytes([sealed.envelope[-1] ^ 1])
    report = pki.verifier().verify(altered, sealed.outer_signature, at=pki.created)
    assert report.sub_indication is SubIndication.HASH_FAILURE


def test_openssl_opens_all_three_layers(store: KeyStore, pki: TestPKI, tmp_path: Path) -> None:
    sealed = _seal(store, pki)
    envelope, outer = tmp_path / "doc.p7m", tmp_path / "doc.p7m.p7s"
    envelope.write_bytes(sealed.envelope)
    outer.write_bytes(sealed.outer_signature)
    checked = openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", outer, "-content", envelope,
                      "-CAfile", store.root_path, "-purpose", "any", "-out", "/dev/null")
    assert checked.returncode == 0, checked.stderr
    inner = _openssl_decrypt(store, "central-office", envelope)
    assert inner.returncode == 0, inner.stderr
    plain = openssl("cms", "-verify", "-binary", "-inform", "DER", "-CAfile", store.root_path, "-purpose", "any",
                    stdin=inner.stdout)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == SECRET


def test_we_open_openssl_sign_then_encrypt(pki: TestPKI, tmp_path: Path) -> None:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(SECRET)
    signed = openssl("cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-in", plain,
                     "-signer", pki.store.cert_path("ha-noi"), "-inkey", pki.store.key_path("ha-noi"),
                     "-certfile", pki.store.directory / "issuing-ca.pem")
    assert signed.returncode == 0, signed.stderr
    out = tmp_path / "o.p7m"
    made = openssl("cms", "-encrypt", "-binary", "-aes256", "-inform", "DER", "-outform", "DER", "-out", out,
                   pki.store.encryption_cert_path("central-office"), stdin=signed.stdout)
    assert made.returncode == 0, made.stderr
    opened = open_sealed(out.read_bytes(), credentials=pki.store.encryption_credentials("central-office"),
                         verifier=pki.verifier(), at=pki.created)
    assert opened.content == SECRET
    assert opened.report is not None and opened.report.passed
    assert opened.report.signer is not None and opened.report.signer.body_id == "ha-noi"


def test_damaged_envelopes_raise_only_project_errors(pki: TestPKI) -> None:
    """Every single-byte change of an envelope (its structure included) is refused with a
    project error when parsed or opened: never a traceback from deeper down."""
    good = encrypt(b"short secret", [pki.store.encryption_certificate("ha-noi")])
    credential = pki.store.encryption_credentials("ha-noi")[0]
    for index in range(0, len(good), 3):
        damaged = bytearray(good)
        damaged[index] ^= 0x55
        try:
            Envelope.from_der(bytes(damaged)).decrypt(credential.certificate, credential.private_key)
        except (MalformedEnvelopeError, DecryptionError):
            continue
