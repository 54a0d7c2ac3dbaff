"""CMS envelopes (RFC 5652 EnvelopedData, RFC 5083 AuthEnvelopedData): encrypt to certificates.

We write AuthEnvelopedData with AES-256-GCM (RFC 5084): the content key is fresh for every
envelope and wrapped once per recipient certificate,

* RSA keys: KeyTransRecipientInfo, RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 3560);
* EC keys: KeyAgreeRecipientInfo, ephemeral-static ECDH, the X9.63 KDF with SHA-256 and
  AES-256 key wrap (``dhSinglePass-stdDH-sha256kdf-scheme``, RFC 5753 / RFC 8418's shape).

We read what ``openssl cms -encrypt`` writes as well: EnvelopedData with AES-CBC (128/192/256),
AuthEnvelopedData with AES-GCM, RSA PKCS #1 v1.5 or OAEP key transport, and ECDH with the
X9.63 KDF over SHA-1/224/256/384/512 and AES key wrap. Every structure is asn1crypto's; the two
RFC 5084/5753 structures asn1crypto lacks are declared below with its types.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from asn1crypto import algos, cms, core, keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from exchange.errors import DecryptionError, MalformedError
from exchange.pki.certificates import PrivateKey


class MalformedEnvelopeError(MalformedError):
    """Raised when bytes are not a CMS EnvelopedData or AuthEnvelopedData we can read."""

    code = "malformed-envelope"


class GCMParameters(core.Sequence):  # type: ignore[misc]  # asn1crypto has no type hints
    """RFC 5084 §3.2: ``GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }``."""

    _fields = [("aes_nonce", core.OctetString), ("aes_icvlen", core.Integer, {"default": 12})]


class EccCmsSharedInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto has no type hints
    """RFC 5753 §7.2: the KDF's SharedInfo (key-wrap algorithm, optional UKM, KEK length)."""

    _fields = [
        ("key_info", cms.KeyEncryptionAlgorithm),
        ("entity_u_info", core.OctetString, {"explicit": 0, "optional": True}),
        ("supp_pub_info", core.OctetString, {"explicit": 2}),
    ]


#: ECDH key-agreement schemes (RFC 5753, SEC 1): OID -> the X9.63 KDF's hash. Standard and
#: cofactor DH agree on the NIST curves (cofactor 1).
_ECDH_SCHEMES: dict[str, hashes.HashAlgorithm] = {
    "1.3.133.16.840.63.0.2": hashes.SHA1(), "1.3.132.1.11.0": hashes.SHA224(),
    "1.3.132.1.11.1": hashes.SHA256(), "1.3.132.1.11.2": hashes.SHA384(), "1.3.132.1.11.3": hashes.SHA512(),
    "1.3.133.16.840.63.0.3": hashes.SHA1(), "1.3.132.1.14.0": hashes.SHA224(),
    "1.3.132.1.14.1": hashes.SHA256(), "1.3.132.1.14.2": hashes.SHA384(), "1.3.132.1.14.3": hashes.SHA512(),
}
_ECDH_SHA256 = "1.3.132.1.11.1"
_WRAP_SIZES = {"aes128_wrap": 16, "aes192_wrap": 24, "aes256_wrap": 32}
_DIGESTS: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(), "sha224": hashes.SHA224(), "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(), "sha512": hashes.SHA512(),
}
_CONTENT_KEY_SIZE = 32  # AES-256
_GCM_NONCE_SIZE = 12
_GCM_TAG_SIZE = 16


@dataclass(frozen=True)
class Recipient:
    """Whom one RecipientInfo is for: the issuer (DER) and serial of an encryption
    certificate, or its subject key identifier."""

    issuer_der: bytes | None
    serial: int | None
    key_identifier: bytes | None
    kind: str  # "key transport (RSA-OAEP)", "key agreement (ECDH)", …

    def matches(self, certificate: x509.Certificate) -> bool:
        """Whether this recipient info names *certificate*: by issuer and serial, or by subject key
        identifier."""
        if self.serial is not None:
            # The issuer's encoding is copied from the certificate by every CMS writer we know.
            return certificate.serial_number == self.serial and certificate.issuer.public_bytes() == self.issuer_der
        try:
            ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        except x509.ExtensionNotFound:
            return False
        return ski.digest == self.key_identifier


@dataclass(frozen=True)
class Envelope:
    """A parsed envelope: which kind, the enclosed content type, its recipients, its cipher."""

    kind: str  # "enveloped_data" or "authenticated_enveloped_data"
    content_type: str  # of the encrypted content: "data", "signed_data", …
    cipher: str  # asn1crypto's name, e.g. "aes256_gcm"
    recipients: tuple[Recipient, ...]
    _info: cms.ContentInfo

    @classmethod
    def from_der(cls, data: bytes) -> Envelope:
        """Parse a DER (or BER) ContentInfo; raises MalformedEnvelopeError saying what is wrong."""
        if not data:
            raise MalformedEnvelopeError("the envelope is empty")
        try:
            info = cms.ContentInfo.load(bytes(data))
            kind = info["content_type"].native
            if kind not in ("enveloped_data", "authenticated_enveloped_data"):
                raise MalformedEnvelopeError(f"CMS content type is {kind}, not an envelope (enveloped data)")
            body = info["content"]
            eci = body["encrypted_content_info" if kind == "enveloped_data" else "auth_encrypted_content_info"]
            recipients = tuple(_recipient(ri) for ri in body["recipient_infos"])
            envelope = cls(kind, eci["content_type"].native, eci["content_encryption_algorithm"]["algorithm"].native,
                           tuple(r for group in recipients for r in group), info)
        except MalformedEnvelopeError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise MalformedEnvelopeError(f"not a valid CMS envelope: {exc}") from None
        if not envelope.recipients:
            raise MalformedEnvelopeError("the envelope has no recipient")
        return envelope

    def is_for(self, certificate: x509.Certificate) -> bool:
        """Whether any recipient of this envelope is *certificate*, i.e. its key may open it."""
        return any(r.matches(certificate) for r in self.recipients)

    def decrypt(self, certificate: x509.Certificate, key: PrivateKey) -> bytes:
        """The enclosed content, opened with *key* (whose certificate is *certificate*).

        Raises DecryptionError if no RecipientInfo names *certificate*, or if the content key
        does not unwrap or the content does not decrypt (wrong key, altered envelope).
        """
        body = self._info["content"]
        content_key = None
        try:
            # asn1crypto parses lazily: a malformed field surfaces here as ValueError & co.
            for ri in body["recipient_infos"]:
                content_key = _unwrap_for(ri, certificate, key)
                if content_key is not None:
                    break
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise MalformedEnvelopeError(f"cannot read the envelope's recipient infos: {exc}") from None
        if content_key is None:
            raise DecryptionError(f"the envelope is not addressed to the certificate {certificate.serial_number:x} "
                                  f"({certificate.subject.rfc4514_string()})", code="not-a-recipient")
        try:
            if self.kind == "enveloped_data":
                return _decrypt_cbc(body["encrypted_content_info"], content_key)
            return _decrypt_gcm(body, content_key)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise MalformedEnvelopeError(f"cannot read the encrypted content: {exc}") from None


def encrypt(content: bytes, recipients: Sequence[x509.Certificate], *, content_type: str = "data") -> bytes:
    """A DER AuthEnvelopedData (AES-256-GCM) of *content* for each certificate in *recipients*.

    *content_type* names what *content* is ("data", or "signed_data" for an inner
    SignedData). The caller chooses the recipients and checks their certificates first
    (:func:`exchange.pki.check_encryption_certificate`). Raises ValueError if there is none.
    """
    if not recipients:
        raise ValueError("an envelope needs at least one recipient")
    content_key = AESGCM.generate_key(bit_length=_CONTENT_KEY_SIZE * 8)
    nonce = os.urandom(_GCM_NONCE_SIZE)
    sealed = AESGCM(content_key).encrypt(nonce, bytes(content), None)
    ciphertext, tag = sealed[:-_GCM_TAG_SIZE], sealed[-_GCM_TAG_SIZE:]
    infos = [cms.RecipientInfo.load(_recipient_info(cert, content_key)) for cert in _unique(recipients)]
    body = cms.AuthEnvelopedData({
        "version": "v0",
        "recipient_infos": infos,
        "auth_encrypted_content_info": {
            "content_type": content_type,
            "content_encryption_algorithm": {
                "algorithm": "aes256_gcm",
                "parameters": GCMParameters({"aes_nonce": nonce, "aes_icvlen": _GCM_TAG_SIZE}),
            },
            "encrypted_content": ciphertext,
        },
        "mac": tag,
    })
    return bytes(cms.ContentInfo({"content_type": "authenticated_enveloped_data", "content": body}).dump())


def _unique(certificates: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    return list(dict.fromkeys(certificates))  # one RecipientInfo per certificate, in order


# -- recipient infos: writing -----------------------------------------------------------


# Building asn1crypto structures from dicts costs far more than the RSA or ECDH operation
# (several ms a recipient): the parts that are the same for every envelope to a certificate
# are encoded once (cached by certificate), and each RecipientInfo is assembled from those
# encodings, loaded back, so asn1crypto does not convert them again.


@lru_cache(maxsize=512)
def _issuer_and_serial(cert: x509.Certificate) -> bytes:
    """DER IssuerAndSerialNumber naming *cert* (its issuer's encoding copied as it is)."""
    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    return bytes(cms.IssuerAndSerialNumber({"issuer": parsed.issuer, "serial_number": parsed.serial_number}).dump())


@lru_cache(maxsize=1)
def _oaep_sha256() -> bytes:
    return bytes(cms.KeyEncryptionAlgorithm({"algorithm": "rsaes_oaep", "parameters": {
        "hash_algorithm": {"algorithm": "sha256"},
        "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
    }}).dump())


@lru_cache(maxsize=1)
def _ecdh_sha256_aes256_wrap() -> bytes:
    return bytes(cms.KeyEncryptionAlgorithm({"algorithm": _ECDH_SHA256, "parameters": _AES256_WRAP}).dump())


_AES256_WRAP = cms.KeyEncryptionAlgorithm({"algorithm": "aes256_wrap"})


def _recipient_info(cert: x509.Certificate, content_key: bytes) -> bytes:
    """The DER RecipientInfo wrapping *content_key* to *cert*."""
    public = cert.public_key()
    rid = cms.IssuerAndSerialNumber.load(_issuer_and_serial(cert))
    if isinstance(public, rsa.RSAPublicKey):
        wrapped = public.encrypt(content_key, _oaep(hashes.SHA256(), hashes.SHA256()))
        return bytes(cms.RecipientInfo({"ktri": cms.KeyTransRecipientInfo({
            "version": "v0",
            "rid": cms.RecipientIdentifier({"issuer_and_serial_number": rid}),
            "key_encryption_algorithm": cms.KeyEncryptionAlgorithm.load(_oaep_sha256()),
            "encrypted_key": wrapped,
        })}).dump())
    if isinstance(public, ec.EllipticCurvePublicKey):
        ephemeral = ec.generate_private_key(public.curve)
        shared = ephemeral.exchange(ec.ECDH(), public)
        kek = _kek(shared, _AES256_WRAP, ukm=None, hash_algorithm=hashes.SHA256())
        point = ephemeral.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        return bytes(cms.RecipientInfo({"kari": cms.KeyAgreeRecipientInfo({
            "version": "v3",
            # RFC 5753 §3.1.1: the ephemeral key, on the recipient's curve (parameters absent)
            "originator": {"originator_key": keys.PublicKeyInfo({
                "algorithm": keys.PublicKeyAlgorithm({"algorithm": "ec"}), "public_key": point})},
            "key_encryption_algorithm": cms.KeyEncryptionAlgorithm.load(_ecdh_sha256_aes256_wrap()),
            "recipient_encrypted_keys": [{
                "rid": cms.KeyAgreementRecipientIdentifier({"issuer_and_serial_number": rid}),
                "encrypted_key": aes_key_wrap(kek, content_key),
            }],
        })}).dump())
    raise ValueError(f"cannot encrypt to a {type(public).__name__} key")


def _oaep(digest: hashes.HashAlgorithm, mgf_digest: hashes.HashAlgorithm) -> asym_padding.OAEP:
    return asym_padding.OAEP(mgf=asym_padding.MGF1(mgf_digest), algorithm=digest, label=None)


def _kek(shared: bytes, wrap: cms.KeyEncryptionAlgorithm, *, ukm: bytes | None,
         hash_algorithm: hashes.HashAlgorithm) -> bytes:
    """RFC 5753 §3.1.2: the key-encryption key from the ECDH shared secret (X9.63 KDF)."""
    size = _WRAP_SIZES.get(wrap["algorithm"].native)
    if size is None:
        raise MalformedEnvelopeError(f"unsupported key wrap {wrap['algorithm'].native}")
    info: dict[str, object] = {"key_info": wrap, "supp_pub_info": (size * 8).to_bytes(4, "big")}
    if ukm is not None:
        info["entity_u_info"] = ukm
    return X963KDF(algorithm=hash_algorithm, length=size, sharedinfo=EccCmsSharedInfo(info).dump()).derive(shared)


# -- recipient infos: reading -----------------------------------------------------------


def _recipient(ri: cms.RecipientInfo) -> list[Recipient]:
    if ri.name == "ktri":
        rid = ri.chosen["rid"]
        algorithm = ri.chosen["key_encryption_algorithm"]["algorithm"].native
        kind = "key transport (RSA-OAEP)" if algorithm == "rsaes_oaep" else f"key transport ({algorithm})"
        return [_named(rid, kind)]
    if ri.name == "kari":
        return [_named(rek["rid"], "key agreement (ECDH)") for rek in ri.chosen["recipient_encrypted_keys"]]
    return []  # KEK and password recipients: never ours, skipped


def _named(rid: core.Choice, kind: str) -> Recipient:
    if rid.name == "issuer_and_serial_number":
        return Recipient(rid.chosen["issuer"].dump(), rid.chosen["serial_number"].native, None, kind)
    ski = rid.chosen.native
    if isinstance(ski, dict):  # KeyAgreeRecipientIdentifier's RecipientKeyIdentifier
        ski = ski.get("subject_key_identifier")
    return Recipient(None, None, ski, kind)


def _rid_matches(rid: core.Choice, certificate: x509.Certificate) -> bool:
    return _named(rid, "").matches(certificate)


def _unwrap_for(ri: cms.RecipientInfo, certificate: x509.Certificate, key: PrivateKey) -> bytes | None:
    """The content key from *ri* if it is for *certificate*; None if it is for someone else."""
    if ri.name == "ktri":
        info = ri.chosen
        if not _rid_matches(info["rid"], certificate):
            return None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise DecryptionError("the envelope uses RSA key transport but the key is not RSA")
        algorithm = info["key_encryption_algorithm"]
        try:
            return key.decrypt(info["encrypted_key"].native, _transport_padding(algorithm))
        except ValueError:
            raise DecryptionError("the content key does not decrypt with this key") from None
    if ri.name == "kari":
        info = ri.chosen
        for rek in info["recipient_encrypted_keys"]:
            if _rid_matches(rek["rid"], certificate):
                if not isinstance(key, ec.EllipticCurvePrivateKey):
                    raise DecryptionError("the envelope uses ECDH key agreement but the key is not EC")
                return _agree(info, rek["encrypted_key"].native, key)
    return None


def _transport_padding(algorithm: cms.KeyEncryptionAlgorithm) -> asym_padding.AsymmetricPadding:
    name = algorithm["algorithm"].native
    if name == "rsaes_pkcs1v15":
        return asym_padding.PKCS1v15()
    if name == "rsaes_oaep":
        params = algorithm["parameters"]
        digest = _DIGESTS.get(params["hash_algorithm"]["algorithm"].native)
        mgf = params["mask_gen_algorithm"]
        mgf_digest = _DIGESTS.get(mgf["parameters"]["algorithm"].native)
        if digest is None or mgf_digest is None or mgf["algorithm"].native != "mgf1":
            raise MalformedEnvelopeError("unsupported RSA-OAEP parameters")
        return _oaep(digest, mgf_digest)
    raise MalformedEnvelopeError(f"unsupported key transport algorithm {name}")


def _agree(info: cms.KeyAgreeRecipientInfo, wrapped: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    algorithm = info["key_encryption_algorithm"]
    scheme = algorithm["algorithm"].dotted
    hash_algorithm = _ECDH_SCHEMES.get(scheme)
    if hash_algorithm is None:
        raise MalformedEnvelopeError(f"unsupported key agreement scheme {scheme}")
    wrap = cms.KeyEncryptionAlgorithm.load(algorithm["parameters"].dump())
    originator = info["originator"]
    if originator.name != "originator_key":
        raise MalformedEnvelopeError("the key agreement names no ephemeral originator key")
    # The ephemeral key is on the recipient's curve (RFC 5753 §3.1.1): read its point only.
    point = originator.chosen["public_key"].native
    try:
        peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, bytes(point))
    except ValueError:
        raise MalformedEnvelopeError("the originator's ephemeral key is not a point on the curve") from None
    ukm = info["ukm"].native if info["ukm"].native is not None else None
    kek = _kek(key.exchange(ec.ECDH(), peer), wrap, ukm=ukm, hash_algorithm=hash_algorithm)
    try:
        return aes_key_unwrap(kek, wrapped)
    except InvalidUnwrap:
        raise DecryptionError("the content key does not unwrap with this key") from None


# -- content ----------------------------------------------------------------------------


def _encrypted_content(eci: cms.EncryptedContentInfo) -> bytes:
    content = eci["encrypted_content"]
    if content.native is None:
        raise MalformedEnvelopeError("the envelope carries no encrypted content (detached)")
    return bytes(content.native)


def _decrypt_cbc(eci: cms.EncryptedContentInfo, content_key: bytes) -> bytes:
    algorithm: algos.EncryptionAlgorithm = eci["content_encryption_algorithm"]
    name = algorithm["algorithm"].native
    if name not in ("aes128_cbc", "aes192_cbc", "aes256_cbc"):
        raise MalformedEnvelopeError(f"unsupported content encryption {name}: only AES is accepted "
                                     "(openssl cms -encrypt -aes256)")
    if len(content_key) != algorithm.key_length:
        raise DecryptionError("the content key has the wrong length: not this envelope's key")
    decryptor = Cipher(algorithms.AES(content_key), modes.CBC(algorithm.encryption_iv)).decryptor()
    padded = decryptor.update(_encrypted_content(eci)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise DecryptionError("the content does not decrypt: wrong key or altered envelope") from None


def _decrypt_gcm(body: cms.AuthEnvelopedData, content_key: bytes) -> bytes:
    eci = body["auth_encrypted_content_info"]
    algorithm = eci["content_encryption_algorithm"]
    name = algorithm["algorithm"].native
    if name not in ("aes128_gcm", "aes192_gcm", "aes256_gcm"):
        raise MalformedEnvelopeError(f"unsupported authenticated encryption {name}")
    params = GCMParameters.load(algorithm["parameters"].dump())
    tag = body["mac"].native
    if len(tag) != params["aes_icvlen"].native or len(tag) < 12:
        raise MalformedEnvelopeError("the authentication tag does not have the length the parameters state")
    aad = None
    if body["auth_attrs"].native is not None and len(body["auth_attrs"]):
        # RFC 5083 §2.2: authenticated attributes are authenticated as a DER SET OF (tag 0x31)
        aad = b"\x31" + body["auth_attrs"].dump()[1:]
    try:
        if len(tag) == _GCM_TAG_SIZE:
            return AESGCM(content_key).decrypt(params["aes_nonce"].native, _encrypted_content(eci) + tag, aad)
        decryptor = Cipher(algorithms.AES(content_key),
                           modes.GCM(params["aes_nonce"].native, tag, min_tag_length=len(tag))).decryptor()
        if aad:
            decryptor.authenticate_additional_data(aad)
        return decryptor.update(_encrypted_content(eci)) + decryptor.finalize()
    except InvalidTag:
        raise DecryptionError("the content does not authenticate: wrong key or altered envelope") from None
