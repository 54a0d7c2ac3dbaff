"""Certification path building and validation (RFC 5280, reduced to what a signature needs).

The validator is given its trust anchors and revocation data (nothing is global), builds
the path leaf → issuing CA → root from the certificates it is offered, and checks each link
at a validation time that is always a parameter. Paths it has built once are remembered, so
a hub validating thousands of documents from the same 80 signers does not rebuild them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

from exchange.pki.certificates import common_name_of, load_certificate_file, read_file
from exchange.pki.revocation import RevocationIndex, RevokedEntry, load_crl

_MAX_DEPTH = 6
_E = TypeVar("_E", bound=x509.ExtensionType)
_CACHE_LIMIT = 8192


class KeyPurpose(StrEnum):
    """What the leaf certificate is checked for: signing (the default) or encryption."""

    SIGNATURE = "signature"
    ENCRYPTION = "encryption"


class PathStatus(StrEnum):
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
    problems: tuple[str, ...]  # of the CA certificates and unknown critical extensions
    leaf_usage: x509.KeyUsage | None

    @classmethod
    def of(cls, path: tuple[x509.Certificate, ...]) -> _KnownPath:
        names = tuple(common_name_of(c) for c in path)
        return cls(path, names, " → ".join(names), tuple(_constraint_problems(path)),
                   _ext(path[0], x509.KeyUsage))

    def problems_for(self, purpose: KeyPurpose) -> tuple[str, ...]:
        """The constraint problems, with the leaf's key usage checked for *purpose*."""
        ku, name = self.leaf_usage, self.names[0]
        if ku is None:
            return self.problems
        if purpose is KeyPurpose.SIGNATURE and not (ku.digital_signature or ku.content_commitment):
            return (f"{name!r} key usage allows neither digitalSignature nor contentCommitment", *self.problems)
        if purpose is KeyPurpose.ENCRYPTION and not (ku.key_encipherment or ku.key_agreement):
            return (f"{name!r} key usage allows neither keyEncipherment nor keyAgreement", *self.problems)
        return self.problems


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
        """Check *leaf* at time *at*: chain, validity, CA and key-usage constraints, revocation.

        *purpose* says which key usage the leaf needs: signing, or encryption (keyEncipherment
        for RSA, keyAgreement for ECDH).
        """
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
                out.add("validity", False, f"{name!r} is not valid before {_iso(cert.not_valid_before_utc)}",
                        PathStatus.NOT_YET_VALID)
            elif at > cert.not_valid_after_utc:
                out.add("validity", False, f"{name!r} expired at {_iso(cert.not_valid_after_utc)}",
                        PathStatus.EXPIRED)
        if out.status is PathStatus.VALID:
            out.add("validity", True, f"all {len(path)} certificates valid at {_iso(at)}")

        # 3. constraints: CA flags and path length above, the purpose's key usage on the leaf
        problems = known.problems_for(purpose)
        allows = "digital signature" if purpose is KeyPurpose.SIGNATURE else "key encipherment or agreement"
        out.add("constraints", not problems, "; ".join(problems) or
                f"CA certificates may sign certificates; leaf allows {allows}",
                PathStatus.CONSTRAINTS)

        # 4. revocation of every non-anchor certificate, from its issuer's CRL
        revoked: RevokedEntry | None = None
        checked = False
        for depth, (cert, issuer) in enumerate(pairwise(path)):
            covered, entry, crl = self.revocation.lookup(cert, issuer)
            name, issuer_name = names[depth], names[depth + 1]
            if not covered:
                if depth == 0:
                    if self.require_revocation:
                        out.add("revocation", False, f"no CRL from {issuer_name!r} to check {name!r}",
                                PathStatus.REVOCATION_UNKNOWN)
                    else:
                        out.add("revocation", None, f"not checked: no CRL from {issuer_name!r} was supplied")
                continue
            if depth == 0:
                checked = True
            if entry is not None and entry.revoked_at <= at:
                if depth == 0:
                    revoked = entry
                out.add("revocation", False,
                        f"{name!r} (serial {cert.serial_number:x}) revoked at {_iso(entry.revoked_at)}, "
                        f"reason {entry.reason.value}", PathStatus.REVOKED)
            else:
                issued = _iso(crl.last_update_utc) if crl is not None else "?"
                out.add("revocation", True, f"{name!r} not on the CRL of {issued}")
        return PathResult(out.status, path, tuple(out.checks), out.detail, revoked, checked)


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


def _constraint_problems(path: tuple[x509.Certificate, ...]) -> list[str]:
    problems: list[str] = []
    for depth, cert in enumerate(path):
        name = common_name_of(cert)
        for ext in cert.extensions:
            if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension):
                problems.append(f"{name!r} has an unknown critical extension {ext.oid.dotted_string}")
        ku = _ext(cert, x509.KeyUsage)
        if depth == 0:
            continue  # the leaf's key usage depends on the purpose: see _KnownPath.problems_for
        bc = _ext(cert, x509.BasicConstraints)
        if bc is None or not bc.ca:
            problems.append(f"{name!r} is not a CA certificate but issued {common_name_of(path[depth - 1])!r}")
        elif bc.path_length is not None and depth - 1 > bc.path_length:
            problems.append(f"{name!r} path length constraint {bc.path_length} exceeded")
        if ku is not None and not ku.key_cert_sign:
            problems.append(f"{name!r} key usage lacks keyCertSign")
    return problems


def _ext(cert: x509.Certificate, kind: type[_E]) -> _E | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
