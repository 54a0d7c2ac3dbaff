"""The hub's verdict on a signature it is given, apart from storing anything.

Validating a signed document or receipt, checking that its signer is the body that sent it,
and time-stamping it once accepted is CPU work that needs no database. :class:`ExchangeService`
runs :func:`judge` for each upload; the simulator runs the same function in its worker
processes, with a :class:`~exchange.hub.trust.Trust` built from the same keys, and hands the
:class:`Verdict` to the service, which uses it only if it concerns the very bytes, sender and
time it is recording (:meth:`Verdict.concerns`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from exchange.cms import Check, Outcome, ValidationReport
from exchange.hub.trust import Trust

#: why a signature was refused
INVALID = "invalid-signature"
SIGNER_MISMATCH = "signer-mismatch"


@dataclass(frozen=True)
class Verdict:
    """What the hub decided about one signature by *sender* at *at* over the content whose
    SHA-256 is *content_sha256*: the report, why it was refused (``""``: accepted), and the
    signature to store (with the hub's time-stamp token when accepted)."""

    sender: str
    at: datetime
    content_sha256: str
    received_sha256: str  # of the signature as it was received
    report: ValidationReport
    reason: str
    signature: bytes
    report_json: str  # the report as the hub stores it, encoded where the verdict was reached


    @property
    def accepted(self) -> bool:
        """The signature passed and its signer is the sender."""
        return not self.reason

    def concerns(self, *, sender: str, content_sha256: str, signature: bytes, at: datetime) -> bool:
        """Whether this verdict was reached on exactly these inputs."""
        return (self.sender == sender and self.at == at and self.content_sha256 == content_sha256
                and self.received_sha256 == hashlib.sha256(signature).hexdigest())


def judge(trust: Trust, *, sender: str, content: Path | bytes, signature: bytes, at: datetime,
          content_sha256: str | None = None) -> Verdict:
    """Validate *signature* over *content* at *at* with *trust*'s current CRLs; accept it if it
    passes and its signer is *sender*, and then add the hub's signature time-stamp (CAdES-B-T).

    *content_sha256* (hex), when the caller has just hashed *content*, spares hashing it again.
    Raises RevocationDataStaleError when the CRLs are not current at *at*: without them a
    revoked signer would pass.
    """
    if content_sha256 is None:
        content_sha256 = (hashlib.sha256(content).hexdigest() if isinstance(content, bytes)
                          else hashlib.sha256(content.read_bytes()).hexdigest())
    trust.require_current(at=at)
    report = trust.verifier().verify(content, signature, at=at, sha256=bytes.fromhex(content_sha256))
    signer = report.signer.body_id if report.signer else None
    received = hashlib.sha256(signature).hexdigest()
    if not report.passed:
        return Verdict(sender, at, content_sha256, received, report, INVALID, signature, report.to_json())
    if signer != sender:
        return Verdict(sender, at, content_sha256, received, report, SIGNER_MISMATCH, signature, report.to_json())
    # The token proves the signature existed when the hub accepted it, so it stays valid after
    # its signer's certificate expires or is revoked.
    stamped = trust.tsa().stamp(signature, at=at)
    check = Check("signature time-stamp", Outcome.PASSED, stamped.info.detail)
    report = replace(report, checks=(*report.checks, check), timestamp=stamped.info)
    return Verdict(sender, at, content_sha256, received, report, "", stamped.signature, report.to_json())
