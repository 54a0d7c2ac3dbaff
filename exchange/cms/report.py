"""The validation report: what was checked, what failed, and why, in ETSI EN 319 102-1 terms.

A report is frozen and self-describing: the same object is printed by the CLI, returned as
JSON by the hub, and stored with every document the hub accepts or refuses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from exchange.clock import utc_iso
from exchange.domain.indication import Indication

__all__ = ["CertificateInfo", "Check", "Indication", "Outcome", "SignerInfo", "SubIndication",
           "TimestampInfo", "ValidationReport", "iso"]

#: UTC ISO-8601 with a ``Z``, the one time format of reports
iso = utc_iso


class SubIndication(StrEnum):
    """ETSI EN 319 102-1 sub-indications used here (clause 5.1.3)."""

    # TOTAL_FAILED
    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    NOT_YET_VALID = "NOT_YET_VALID"
    EXPIRED = "EXPIRED"
    # INDETERMINATE
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    TRY_LATER = "TRY_LATER"

    @property
    def explanation(self) -> str:
        """One sentence for a person saying what this sub-indication means (the CLI and pages show
        it)."""
        return _EXPLANATIONS[self]


_EXPLANATIONS = {
    SubIndication.FORMAT_FAILURE: "the signature is not a well-formed CMS SignedData",
    SubIndication.HASH_FAILURE: "the document was altered after it was signed",
    SubIndication.SIG_CRYPTO_FAILURE: "the signature value does not verify with the signer's key",
    SubIndication.REVOKED: "the signer's certificate was revoked before the signature is proven to exist "
    "(its signing time, or its time-stamp)",
    SubIndication.NOT_YET_VALID: "the signer's certificate was not yet valid",
    SubIndication.EXPIRED: "the signer's certificate had expired when the document was signed "
    "(or before its time-stamp)",
    SubIndication.NO_SIGNING_CERTIFICATE_FOUND: "the signer's certificate is not in the signature",
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: "the signer's certificate does not chain to a trusted root",
    SubIndication.REVOKED_NO_POE: "the signer's certificate was revoked after the signing time, "
    "and nothing proves the signature existed before",
    SubIndication.OUT_OF_BOUNDS_NO_POE: "the signer's certificate has expired at validation time, "
    "and no time-stamp proves the signature existed before",
    SubIndication.CHAIN_CONSTRAINTS_FAILURE: "a certificate in the chain is not allowed to do what it did "
    "(for example a CA's key signing a document)",
    SubIndication.SIG_CONSTRAINTS_FAILURE: "the signature lacks what the validation policy requires",
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: "the signature uses an algorithm the policy no longer accepts",
    SubIndication.TRY_LATER: "revocation status could not be established: no CRL, or none still current "
    "(its next update is past)",
}


class Outcome(StrEnum):
    """How one check of a report ended: passed, failed, or skipped (not performed, e.g. revocation
    with no CRL given)."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    """One numbered step of validation and what it found."""

    name: str
    outcome: Outcome
    detail: str


@dataclass(frozen=True)
class CertificateInfo:
    """A certificate of the chain as the report shows it: subject, issuer, hex serial, validity (ISO
    8601) and SHA-256 fingerprint."""

    subject: str
    issuer: str
    serial: str
    not_before: str
    not_after: str
    sha256: str


@dataclass(frozen=True)
class TimestampInfo:
    """A signature time-stamp token (RFC 3161) found on the signature, and what it proves."""

    time: str  # the token's genTime, UTC ISO-8601
    tsa: str | None  # the TSA's common name (None: its certificate was not found)
    serial: str  # the token's serial number, hex
    policy: str  # the TSA's policy OID
    passed: bool  # a valid proof of existence of the signature at ``time``
    detail: str


@dataclass(frozen=True)
class SignerInfo:
    """Who signed: the body id from the certificate (if any), its name and certificate."""

    body_id: str | None
    name: str
    certificate: CertificateInfo


@dataclass(frozen=True)
class ValidationReport:
    """The result of validating one detached CMS signature over one document."""

    indication: Indication
    sub_indication: SubIndication | None
    validation_time: str
    checks: tuple[Check, ...]
    signer: SignerInfo | None = None
    signing_time: str | None = None
    document_sha256: str | None = None
    digest_algorithm: str | None = None
    signature_algorithm: str | None = None
    chain: tuple[CertificateInfo, ...] = ()
    revocation_checked: bool = False
    warnings: tuple[str, ...] = field(default=())
    #: the signature time-stamp used as proof of existence (or the first one found, if none is valid)
    timestamp: TimestampInfo | None = None

    @property
    def passed(self) -> bool:
        """Whether the indication is TOTAL_PASSED."""
        return self.indication is Indication.TOTAL_PASSED

    @property
    def reason(self) -> str:
        """The failed check's own words (or the sub-indication's explanation)."""
        for check in self.checks:
            if check.outcome is Outcome.FAILED:
                return check.detail
        return self.sub_indication.explanation if self.sub_indication else "all checks passed"

    def summary(self) -> str:
        """One line: the indication, why, and who signed."""
        who = f" — signed by {self.signer.body_id or self.signer.name}" if self.signer else ""
        if self.passed:
            stamped = f", time-stamped {self.timestamp.time}" if self.timestamp and self.timestamp.passed else ""
            return f"TOTAL_PASSED{who} at {self.signing_time or 'unknown time'}{stamped}"
        sub = self.sub_indication.value if self.sub_indication else "?"
        return f"{self.indication.value} / {sub}: {self.reason}{who}"

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-able data, with its one-line ``summary`` added (what the API
        returns)."""
        data: dict[str, Any] = _plain(self)
        data["summary"] = self.summary()
        return data

    def to_json(self, **kwargs: Any) -> str:
        """The report as JSON text (``to_dict``); *kwargs* go to ``json.dumps`` (e.g. ``indent``)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """Rebuild a report stored as JSON (e.g. by the hub)."""
        signer = data.get("signer")
        return cls(
            indication=Indication(data["indication"]),
            sub_indication=SubIndication(data["sub_indication"]) if data.get("sub_indication") else None,
            validation_time=data["validation_time"],
            checks=tuple(Check(c["name"], Outcome(c["outcome"]), c["detail"]) for c in data.get("checks", ())),
            signer=SignerInfo(signer["body_id"], signer["name"], CertificateInfo(**signer["certificate"]))
            if signer
            else None,
            signing_time=data.get("signing_time"),
            document_sha256=data.get("document_sha256"),
            digest_algorithm=data.get("digest_algorithm"),
            signature_algorithm=data.get("signature_algorithm"),
            chain=tuple(CertificateInfo(**c) for c in data.get("chain", ())),
            revocation_checked=bool(data.get("revocation_checked", False)),
            warnings=tuple(data.get("warnings", ())),
            timestamp=TimestampInfo(**data["timestamp"]) if data.get("timestamp") else None,
        )



def _plain(value: Any) -> Any:
    """``dataclasses.asdict`` for the report's own types, without its deep copies (every value
    here is immutable): the hub stores a report with every document and receipt."""
    kind = type(value)
    if kind is Check:  # the most frequent by far: a dozen per report
        return {"name": value.name, "outcome": value.outcome, "detail": value.detail}
    if kind is tuple:
        return tuple([_plain(item) for item in value])
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    names = _FIELDS.get(kind)
    if names is None:
        return value
    return {name: _plain(getattr(value, name)) for name in names}


_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls))
    for cls in (Check, CertificateInfo, SignerInfo, TimestampInfo, ValidationReport)}
