"""Certification path building and validation (RFC 5280, reduced to what a signature needs).

The validator is given its trust anchors and revocation data (nothing is global), builds
the path leaf → issuing CA → root from the certificates it is offered, and checks each link
at a validation time that is always a parameter. Paths it has built once are remembered, so
a hub validating thousands of documents from the same 80 signers does not rebuild them.

What the leaf may do depends on its :class:`KeyPurpose`: a document or receipt signer must be an
end-entity certificate allowing digitalSignature or nonRepudiation (never a CA, never a
time-stamping key); a time-stamp token's signer must be a TSA certificate (id-kp-timeStamping,
critical). A CRL is evidence only until its ``nextUpdate``: past it, the revocation status is
unknown (REVOCATION_UNKNOWN, ETSI's TRY_LATER), even if the certificate is not listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from exchange.clock import utc_iso
from exchange.pki.certificates import common_name_of, load_certificate_file, read_file
from exchange.pki.revocation import RevocationIndex, RevokedEntry, load_crl

_MAX_DEPTH = 6
_E = TypeVar("_E", bound=x509.ExtensionType)
_CACHE_LIMIT = 8192


class KeyPurpose(StrEnum):
    """What the leaf certificate is validated for."""

    SIGNATURE = "signature"  # documents, receipts, authentication challenges
    ENCRYPTION = "encryption"  # envelopes: keyEncipherment (RSA) or keyAgreement (ECDH)
    TIMESTAMPING = "timestamping"  # RFC 3161 time-stamp tokens


class PathStatus(StrEnum):
    """Why a certificate path was or was not valid at the validation time (``valid`` or what failed
    first)."""

    VALID = "valid"
    NO_CHAIN = "no_chain"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    CONSTRAINTS = "constraints"
    REVOCATION_UNKNOWN = "revocation_unknown"


@dataclass(frozen=True)
class PathCheck:
    """One step of path validation: its name, outcome (None = not performed) and why."""

    name: str
    passed: bool | None
    detail: str


@dataclass(frozen=True)
class PathResult:
    """What path validation found; ``status`` is the first failure, or VALID."""

    status: PathStatus
    path: tuple[x509.Certificate, ...]
    checks: tuple[PathCheck, ...]
    detail: str
    revocation: RevokedEntry | None = None
    revocation_checked: bool = False

    @property
    def ok(self) -> bool:
        """Whether the path is valid: every check passed at the validation time."""
        return self.status is PathStatus.VALID


@dataclass
class _Outcome:
    checks: list[PathCheck] = field(default_factory=list)
    status: PathStatus = PathStatus.VALID
    detail: str = "certificate path valid"

    def add(self, name: str, passed: bool | None, detail: str, failure: PathStatus | None = None) -> None:
        self.checks.append(PathCheck(name, passed, detail))
        if passed is False and failure is not None and self.status is PathStatus.VALID:
            self.status, self.detail = failure, detail


@dataclass(frozen=True)
class _KnownPath:
    """A built path and what validation derives from it alone, whatever the time or CRLs."""

    path: tuple[x509.Certificate, ...]
    names: tuple[str, ...]
    chain: str
    problems: dict[KeyPurpose, tuple[str, ...]]

    @classmethod
    def of(cls, path: tuple[x509.Certificate, ...]) -> _KnownPath:
        names = tuple(common_name_of(c) for c in path)
        problems = {purpose: tuple(_constraint_problems(path, purpose)) for purpose in KeyPurpose}
        return cls(path, names, " → ".join(names), problems)

    def problems_for(self, purpose: KeyPurpose) -> tuple[str, ...]:
        """The constraint problems of the CA certificates and of the leaf for *purpose*."""
        return self.problems[purpose]


class PathValidator:
    """Validates a certificate up to one of *trust_anchors*, enforcing any CRL it is given.

    ``require_revocation``: with it, a leaf for which no CRL of its issuer is known makes the
    result REVOCATION_UNKNOWN; without it, the check is reported as not performed.
    """

    def __init__(
        self,
        *,
        trust_anchors: Sequence[x509.Certificate],
        crls: Iterable[x509.CertificateRevocationList] = (),
        require_revocation: bool = False,
    ) -> None:
        if not trust_anchors:
            raise ValueError("at least one trust anchor is required")
        self.trust_anchors = tuple(trust_anchors)
        self._anchor_fps = {_fp(a) for a in self.trust_anchors}
        self.revocation = RevocationIndex(crls)
        self.require_revocation = require_revocation
        # leaf -> its verified path; certificates compare and hash by their DER encoding
        self._paths: dict[x509.Certificate, _KnownPath] = {}

    @classmethod
    def from_files(
        cls, ca_file: str | Path, *, crl_files: Iterable[str | Path] = (), require_revocation: bool = False
    ) -> PathValidator:
        """Trust anchors from a PEM/DER file; CRLs from PEM/DER files."""
        anchors = load_certificate_file(ca_file)
        crls = [load_crl(read_file(p), source=str(p)) for p in crl_files]
        return cls(trust_anchors=anchors, crls=crls, require_revocation=require_revocation)

    def with_crls(self, crls: Iterable[x509.CertificateRevocationList]) -> PathValidator:
        """A validator with the same anchors (and path cache) but other revocation data."""
        other = PathValidator(
            trust_anchors=self.trust_anchors, crls=crls, require_revocation=self.require_revocation
        )
        other._paths = self._paths
        return other

    # -- path building --------------------------------------------------------------------

    def build_path(
        self, leaf: x509.Certificate, intermediates: Iterable[x509.Certificate] = ()
    ) -> tuple[x509.Certificate, ...] | None:
        """leaf … anchor, each link's signature verified; None when no path reaches an anchor."""
        known = self._known_path(leaf, intermediates)
        return known.path if known is not None else None

    def _known_path(
        self, leaf: x509.Certificate, intermediates: Iterable[x509.Certificate]
    ) -> _KnownPath | None:
        cached = self._paths.get(leaf)
        if cached is not None:
            return cached
        pool = list(intermediates) + list(self.trust_anchors)
        path = [leaf]
        current = leaf
        while _fp(current) not in self._anchor_fps:
            if len(path) > _MAX_DEPTH:
                return None
            issuer = next((c for c in pool if c is not current and _issued(current, c)), None)
            if issuer is None:
                return None
            path.append(issuer)
            current = issuer
        result = _KnownPath.of(tuple(path))
        if len(self._paths) >= _CACHE_LIMIT:
            self._paths.clear()
        self._paths[leaf] = result
        return result

    # -- validation -----------------------------------------------------------------------

    def validate(
        self,
        leaf: x509.Certificate,
        *,
        at: datetime,
        intermediates: Iterable[x509.Certificate] = (),
        purpose: KeyPurpose = KeyPurpose.SIGNATURE,
    ) -> PathResult:
        """Check *leaf* at time *at*: chain, validity, CA and key-usage constraints for
        *purpose* (signing; encryption: keyEncipherment for RSA, keyAgreement for ECDH;
        time-stamping), and the revocation of every certificate below the anchor."""
        out = _Outcome()
        # 1. chain: every signature up to a trust anchor
        known = self._known_path(leaf, intermediates)
        if known is None:
            out.add("chain", False, f"no path from {common_name_of(leaf)!r} to a trusted root",
                    PathStatus.NO_CHAIN)
            return PathResult(out.status, (leaf,), tuple(out.checks), out.detail)
        path, names = known.path, known.names
        out.add("chain", True, known.chain)

        # 2. validity period of every certificate at the validation time
        for cert, name in zip(path, names, strict=True):
            if at < cert.not_valid_before_utc:
                out.add("validity", False, f"{name!r} is not valid before {utc_iso(cert.not_valid_before_utc)}",
                        PathStatus.NOT_YET_VALID)
            elif at > cert.not_valid_after_utc:
                out.add("validity", False, f"{name!r} expired at {utc_iso(cert.not_valid_after_utc)}",
                        PathStatus.EXPIRED)
        if out.status is PathStatus.VALID:
            out.add("validity", True, f"all {len(path)} certificates valid at {utc_iso(at)}")

        # 3. constraints: CA flags and path length above, what the leaf may do for *purpose*
        problems = known.problems_for(purpose)
        out.add("constraints", not problems, "; ".join(problems) or _ALLOWED[purpose],
                PathStatus.CONSTRAINTS)

        # 4. revocation of every non-anchor certificate, from its issuer's newest CRL
        revoked: RevokedEntry | None = None
        checked = False
        for depth, (cert, issuer) in enumerate(pairwise(path)):
            covered, entry, crl = self.revocation.lookup(cert, issuer)
            name, issuer_name = names[depth], names[depth + 1]
            if not covered:
                if self.require_revocation:
                    out.add("revocation", False, f"no CRL from {issuer_name!r} to check {name!r}",
                            PathStatus.REVOCATION_UNKNOWN)
                else:
                    out.add("revocation", None,
                            f"{name!r} not checked: no CRL from {issuer_name!r} was supplied")
                continue
            if entry is not None and entry.revoked_at <= at:
                # A listed revocation is proof whatever the CRL's age.
                checked = checked or depth == 0
                revoked = revoked or entry
                out.add("revocation", False,
                        f"{name!r} (serial {cert.serial_number:x}) revoked at {utc_iso(entry.revoked_at)}, "
                        f"reason {entry.reason.value}", PathStatus.REVOKED)
                continue
            assert crl is not None
            next_update = crl.next_update_utc
            if next_update is not None and next_update < at:
                out.add("revocation", False,
                        f"the newest CRL from {issuer_name!r} (issued {utc_iso(crl.last_update_utc)}) was due "
                        f"to be replaced at {utc_iso(next_update)}, before {utc_iso(at)}: no current "
                        f"revocation data for {name!r}", PathStatus.REVOCATION_UNKNOWN)
                continue
            if depth == 0:
                checked = True
            out.add("revocation", True, f"{name!r} not on the CRL of {utc_iso(crl.last_update_utc)}"
                    + (f" (current until {utc_iso(crl.next_update_utc)})" if crl.next_update_utc else ""))
        return PathResult(out.status, path, tuple(out.checks), out.detail, revoked, checked)


_ALLOWED = {
    KeyPurpose.SIGNATURE: "CA certificates may sign certificates; the signer is an end-entity certificate "
                          "allowing digital signature",
    KeyPurpose.ENCRYPTION: "CA certificates may sign certificates; leaf allows key encipherment or agreement",
    KeyPurpose.TIMESTAMPING: "CA certificates may sign certificates; the signer is a time-stamping "
                             "authority (id-kp-timeStamping, critical)",
}


def _fp(cert: x509.Certificate) -> bytes:
    return cert.fingerprint(hashes.SHA256())


def _issued(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    if child.issuer != issuer.subject:
        return False
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _constraint_problems(path: tuple[x509.Certificate, ...], purpose: KeyPurpose) -> list[str]:
    problems: list[str] = []
    for depth, cert in enumerate(path):
        name = common_name_of(cert)
        for ext in cert.extensions:
            if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension):
                problems.append(f"{name!r} has an unknown critical extension {ext.oid.dotted_string}")
        ku = _ext(cert, x509.KeyUsage)
        bc = _ext(cert, x509.BasicConstraints)
        if depth == 0:
            problems.extend(_leaf_problems(cert, name, purpose, ku, bc))
            continue
        if bc is None or not bc.ca:
            problems.append(f"{name!r} is not a CA certificate but issued {common_name_of(path[depth - 1])!r}")
        elif bc.path_length is not None and depth - 1 > bc.path_length:
            problems.append(f"{name!r} path length constraint {bc.path_length} exceeded")
        if ku is not None and not ku.key_cert_sign:
            problems.append(f"{name!r} key usage lacks keyCertSign")
    return problems


def _leaf_problems(cert: x509.Certificate, name: str, purpose: KeyPurpose, ku: x509.KeyUsage | None,
                   bc: x509.BasicConstraints | None) -> list[str]:
    """What the end of the path may not do for *purpose* (RFC 5280 §4.2.1.3, §4.2.1.9,
    §4.2.1.12; RFC 3161 §2.3)."""
    problems = []
    if bc is not None and bc.ca:
        use = {KeyPurpose.SIGNATURE: "not documents", KeyPurpose.ENCRYPTION: "it receives no envelopes",
               KeyPurpose.TIMESTAMPING: "not time-stamps"}[purpose]
        problems.append(f"{name!r} is a CA certificate: a CA's key signs certificates and CRLs, {use}")
    if purpose is KeyPurpose.ENCRYPTION:
        if ku is not None and not (ku.key_encipherment or ku.key_agreement):
            problems.append(f"{name!r} key usage allows neither keyEncipherment nor keyAgreement")
        return problems
    if ku is not None and not (ku.digital_signature or ku.content_commitment):
        problems.append(f"{name!r} key usage allows neither digitalSignature nor contentCommitment")
    try:
        eku: x509.Extension[x509.ExtendedKeyUsage] | None = \
            cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        eku = None
    stamping = eku is not None and ExtendedKeyUsageOID.TIME_STAMPING in eku.value
    if purpose is KeyPurpose.SIGNATURE and stamping:
        problems.append(f"{name!r} is a time-stamping authority's certificate (id-kp-timeStamping): "
                        "its key signs time-stamp tokens only")
    elif purpose is KeyPurpose.TIMESTAMPING:
        if not stamping:
            problems.append(f"{name!r} is not a time-stamping certificate (no extended key usage "
                            "id-kp-timeStamping)")
        elif eku is not None and not eku.critical:
            problems.append(f"{name!r} extended key usage id-kp-timeStamping is not critical "
                            "(RFC 3161 §2.3)")
    return problems


def _ext(cert: x509.Certificate, kind: type[_E]) -> _E | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None

