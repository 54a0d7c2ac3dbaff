"""What an audit found: every check, its outcome and why, per document and for the checkpoint.

Indications follow the signature reports (ETSI EN 319 102-1): TOTAL_FAILED when any check
failed, INDETERMINATE when none failed but one could not be decided (a signature whose
revocation status is unknown, say), TOTAL_PASSED otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exchange.cms import Indication, Outcome


@dataclass(frozen=True)
class AuditCheck:
    """One check: a name from the numbered list in exchange.audit.verify, its outcome, why."""

    name: str
    outcome: Outcome
    detail: str
    indeterminate: bool = False  # a check that could not decide (counts as INDETERMINATE)


def indication_of(checks: tuple[AuditCheck, ...] | list[AuditCheck]) -> Indication:
    """The verdict of *checks*: TOTAL_FAILED if one failed outright, else INDETERMINATE if one could
    not decide, else TOTAL_PASSED."""
    if any(c.outcome is Outcome.FAILED and not c.indeterminate for c in checks):
        return Indication.TOTAL_FAILED
    if any(c.indeterminate for c in checks):
        return Indication.INDETERMINATE
    return Indication.TOTAL_PASSED


@dataclass(frozen=True)
class Verdict:
    """The checks of one part of a bundle: ``checkpoint`` or a document id."""

    subject: str
    checks: tuple[AuditCheck, ...]

    @property
    def indication(self) -> Indication:
        """The verdict of its checks (:func:`indication_of`)."""
        return indication_of(self.checks)

    def failures(self) -> list[AuditCheck]:
        """The checks that failed, in order (indeterminate ones included)."""
        return [c for c in self.checks if c.outcome is Outcome.FAILED]

    def summary(self) -> str:
        """One line: the subject, its indication, and the first failed check's reason."""
        bad = self.failures()
        why = f" — {bad[0].name}: {bad[0].detail}" if bad else ""
        return f"{self.subject}: {self.indication.value}{why}"

    def to_dict(self) -> dict[str, Any]:
        """The verdict as JSON-able data: subject, indication, summary and every check (what ``audit
        verify --json`` prints)."""
        return {"subject": self.subject, "indication": self.indication.value, "summary": self.summary(),
                "checks": [{"name": c.name, "outcome": c.outcome.value, "detail": c.detail} for c in self.checks]}
