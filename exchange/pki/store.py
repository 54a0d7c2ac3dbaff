"""The demo PKI on disk: where each certificate, key and the CRL live, and reading them.

Layout of a key directory (``keys/`` by default)::

    pki.json                 algorithm, creation time, bodies file used
    root-ca.pem  root-ca.key         self-signed root (the trust anchor auditors are given)
    issuing-ca.pem  issuing-ca.key   issues body, hub and TSA certificates, signs crl.pem
    crl.pem                  the issuing CA's current CRL (bodies, hub, TSA)
    root-crl.pem             the root's current CRL (the issuing CA)
    hub.pem  hub.key         the hub's own certificate
    tsa.pem  tsa.key         the hub's time-stamping authority (RFC 3161)
    bodies/ID.pem  bodies/ID.key     each body's current signing certificate and key
    bodies/archive/ID-SERIAL.pem     certificates replaced by ``keys renew``
    encryption/ID.pem  encryption/ID.key   each body's (and the hub's: ID ``hub``) encryption
                             certificate and key (keyEncipherment or keyAgreement)
    encryption/archive/ID-SERIAL.pem|.key  replaced encryption certificates and their keys
    tls/                     the TLS CA under the root, the hub's server and the clients' TLS certificates,
                             issued at the real time

Private keys are written with mode 0600 and are git-ignored.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from exchange.errors import InputFileError, PKINotFoundError, UnknownBodyError
from exchange.pki.certificates import (
    Credential,
    load_certificate_file,
    load_private_key,
    read_file,
)
from exchange.pki.path import PathValidator
from exchange.pki.revocation import load_crl


@dataclass(frozen=True)
class KeyStore:
    """A key directory. Construction does no I/O; readers raise PKINotFoundError if absent."""

    directory: Path

    @classmethod
    def at(cls, directory: str | Path) -> KeyStore:
        """The key store at *directory* (a path or a string); reads nothing yet."""
        return cls(Path(directory))

    # -- paths ----------------------------------------------------------------------------
    @property
    def root_path(self) -> Path:
        """``root-ca.pem``: the root CA's certificate, every verifier's trust anchor."""
        return self.directory / "root-ca.pem"

    @property
    def crl_path(self) -> Path:
        """``crl.pem``: the issuing CA's CRL, which lists revoked body, hub and TSA certificates."""
        return self.directory / "crl.pem"

    @property
    def root_crl_path(self) -> Path:
        """``root-crl.pem``: the root's CRL, which says whether the issuing CA itself is revoked."""
        return self.directory / "root-crl.pem"

    @property
    def crl_paths(self) -> list[Path]:
        """The CRL files this PKI has: the issuing CA's, then the root's (if present)."""
        return [p for p in (self.crl_path, self.root_crl_path) if p.is_file()]

    @property
    def tsa_path(self) -> Path:
        """``tsa.pem``: the time-stamping authority's certificate (absent in PKIs made before it)."""
        return self.directory / "tsa.pem"

    @property
    def issuing_path(self) -> Path:
        """``issuing-ca.pem``: the issuing CA's certificate, the intermediate every body chains
        through."""
        return self.directory / "issuing-ca.pem"

    @property
    def manifest_path(self) -> Path:
        """``pki.json``: what ``keys init`` made (key algorithm, creation time, validity periods)."""
        return self.directory / "pki.json"

    def cert_path(self, body_id: str) -> Path:
        """Where body *body_id*'s current signing certificate lives (``bodies/ID.pem``)."""
        return self.directory / "bodies" / f"{body_id}.pem"

    def key_path(self, body_id: str) -> Path:
        """Where body *body_id*'s signing key lives (``bodies/ID.key``, PKCS#8, unencrypted: a
        demo)."""
        return self.directory / "bodies" / f"{body_id}.key"

    @property
    def archive_dir(self) -> Path:
        """``bodies/archive/``: signing certificates replaced by a renewal, kept so old signatures
        still name them."""
        return self.directory / "bodies" / "archive"

    # -- encryption certificates (see exchange.pki.encryption) ---------------------------
    def encryption_cert_path(self, body_id: str) -> Path:
        """Where body *body_id*'s encryption certificate (for secret documents) lives."""
        return self.directory / "encryption" / f"{body_id}.pem"

    def encryption_key_path(self, body_id: str) -> Path:
        """Where body *body_id*'s encryption (decryption) key lives."""
        return self.directory / "encryption" / f"{body_id}.key"

    @property
    def encryption_archive_dir(self) -> Path:
        """``encryption/archive/``: encryption certificates replaced by a renewal, with their keys,
        so old envelopes still open."""
        return self.directory / "encryption" / "archive"

    def has_encryption(self, body_id: str) -> bool:
        """Whether body *body_id* has an encryption certificate (PKIs made before secret documents
        have none)."""
        return self.encryption_cert_path(body_id).is_file()

    def encryption_certificate(self, body_id: str) -> x509.Certificate:
        """The body's current encryption certificate; UnknownBodyError if it has none."""
        self.require()
        if not self.has_encryption(body_id):
            raise UnknownBodyError(f"no encryption certificate for {body_id!r} in {self.directory}/encryption/"
                                   " (a PKI made before encryption certificates existed: run keys init --force)")
        return load_certificate_file(self.encryption_cert_path(body_id))[0]

    def encryption_certificates(self, body_id: str) -> list[x509.Certificate]:
        """The body's current encryption certificate, then archived ones (no private key read)."""
        if not self.has_encryption(body_id):
            return []
        archived = sorted(self.encryption_archive_dir.glob(f"{body_id}-*.pem"),
                          key=lambda p: p.stat().st_mtime, reverse=True)
        return [self.encryption_certificate(body_id), *(load_certificate_file(p)[0] for p in archived)]

    def encryption_credentials(self, body_id: str) -> list[Credential]:
        """The body's encryption certificate and key, then archived ones (newest first): an
        envelope made to an earlier key still opens after a renewal."""
        current = [Credential(self.encryption_certificate(body_id),
                              load_private_key(self.encryption_key_path(body_id), generated_here=True))]
        archived = sorted(self.encryption_archive_dir.glob(f"{body_id}-*.pem"),
                          key=lambda p: p.stat().st_mtime, reverse=True)
        for pem in archived:
            key = pem.with_suffix(".key")
            if key.is_file():
                current.append(Credential(load_certificate_file(pem)[0],
                                          load_private_key(key, generated_here=True)))
        return current

    def exists(self) -> bool:
        """Whether a PKI is here: the root certificate and the manifest both exist."""
        return self.root_path.is_file() and self.manifest_path.is_file()

    def require(self) -> None:
        """Raise PKINotFoundError, saying how to create one, unless a PKI is here."""
        if not self.exists():
            raise PKINotFoundError(
                f"no demo PKI in {self.directory}/ (create one with: exchange keys init --dir {self.directory})"
            )

    # -- reading --------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        """The parsed ``pki.json``; raises PKINotFoundError without a PKI."""
        self.require()
        manifest: dict[str, Any] = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        return manifest

    def root(self) -> x509.Certificate:
        """The root CA's certificate; raises PKINotFoundError without a PKI."""
        self.require()
        return load_certificate_file(self.root_path)[0]

    def issuing_ca(self) -> Credential:
        """The issuing CA's credential (certificate, key, the root above it), as the CA uses it to
        issue and revoke."""
        self.require()
        cert = load_certificate_file(self.directory / "issuing-ca.pem")[0]
        key = load_private_key(self.directory / "issuing-ca.key", generated_here=True)
        return Credential(cert, key, (self.root(),))

    def root_credential(self) -> Credential:
        """The root CA's credential, which signs the issuing CA's certificate and the root's CRL."""
        return Credential(self.root(), load_private_key(self.directory / "root-ca.key", generated_here=True))

    def crl(self) -> x509.CertificateRevocationList:
        """The issuing CA's current CRL (``crl.pem``)."""
        return self.read_crl("crl.pem")

    def root_crl(self) -> x509.CertificateRevocationList:
        """The root's current CRL over the issuing CA (``root-crl.pem``)."""
        return self.read_crl("root-crl.pem")

    def crls(self) -> list[x509.CertificateRevocationList]:
        """Every CRL of this PKI: the issuing CA's and, if present, the root's."""
        self.require()
        return [load_crl(read_file(p), source=str(p)) for p in self.crl_paths]

    def read_crl(self, relative: str) -> x509.CertificateRevocationList:
        """The CRL at *relative* (e.g. ``crl.pem``) in this directory; raises MalformedError if it
        does not parse."""
        self.require()
        path = self.directory / relative
        return load_crl(read_file(path), source=str(path))

    def has_body(self, body_id: str) -> bool:
        """Whether body *body_id* has a signing certificate here."""
        return self.cert_path(body_id).is_file()

    def certificate(self, body_id: str) -> x509.Certificate:
        """Body *body_id*'s current signing certificate; raises UnknownBodyError when it has none."""
        self.require()
        if not self.has_body(body_id):
            raise UnknownBodyError(f"no certificate for body {body_id!r} in {self.directory}/bodies/")
        return load_certificate_file(self.cert_path(body_id))[0]

    def credential(self, body_id: str) -> Credential:
        """The body's current certificate, private key and the issuing CA above it."""
        cert = self.certificate(body_id)
        issuing = load_certificate_file(self.directory / "issuing-ca.pem")[0]
        return Credential(cert, load_private_key(self.key_path(body_id), generated_here=True), (issuing,))

    def issuing_certificate(self) -> x509.Certificate:
        """The issuing CA's certificate (no key): what paths from body certificates pass through."""
        self.require()
        return load_certificate_file(self.directory / "issuing-ca.pem")[0]

    def hub_credential(self) -> Credential:
        """The hub's credential (certificate, key, issuing CA and root): it signs receipts, sessions
        and checkpoints."""
        self.require()
        issuing = load_certificate_file(self.directory / "issuing-ca.pem")[0]
        return Credential(
            load_certificate_file(self.directory / "hub.pem")[0],
            load_private_key(self.directory / "hub.key", generated_here=True),
            (issuing,),
        )

    def has_tsa(self) -> bool:
        """Whether this PKI has a TSA certificate (``keys init`` makes one; older PKIs lack it)."""
        return self.tsa_path.is_file()

    def tsa_credential(self) -> Credential:
        """The time-stamping authority's certificate, key and the issuing CA above it.

        Raises PKINotFoundError for a key directory made before the TSA existed.
        """
        self.require()
        if not self.has_tsa():
            raise PKINotFoundError(
                f"no time-stamping authority in {self.directory}/ (no tsa.pem): this PKI predates it; "
                f"re-create it with: exchange keys init --force --dir {self.directory}")
        issuing = load_certificate_file(self.issuing_path)[0]
        return Credential(load_certificate_file(self.tsa_path)[0],
                          load_private_key(self.directory / "tsa.key", generated_here=True), (issuing,))

    def body_ids(self) -> list[str]:
        """The ids of every body with a signing certificate here, sorted."""
        return sorted(p.stem for p in (self.directory / "bodies").glob("*.pem"))

    def archived(self, body_id: str) -> list[x509.Certificate]:
        """Body *body_id*'s replaced signing certificates, oldest first (empty if never renewed)."""
        return [load_certificate_file(p)[0] for p in sorted(self.archive_dir.glob(f"{body_id}-*.pem"))]

    def path_validator(self, *, require_revocation: bool = True) -> PathValidator:
        """A validator trusting this PKI's root and enforcing its current CRLs."""
        return PathValidator(trust_anchors=[self.root()], crls=self.crls(),
                             require_revocation=require_revocation)

    # -- writing --------------------------------------------------------------------------
    def write(self, relative: str | Path, data: bytes, *, private: bool = False) -> Path:
        """Write atomically (temp file + rename); private files get mode 0600 from creation."""
        target = self.directory / relative
        for parent in (target.parent, *target.parent.parents):
            if parent.exists() and not parent.is_dir():
                raise InputFileError(f"{parent} is a file, not a key directory")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        except OSError as exc:
            raise InputFileError(f"cannot write in {target.parent}: {exc.strerror or exc}") from None
        try:
            os.fchmod(fd, 0o600 if private else 0o644)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

