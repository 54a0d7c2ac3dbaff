"""Proposed adjustments: what the figures say should be done, by whom, for which measure.

Section E.2 of the decision asks the Central Party Office's six-monthly report to propose
adjustments to the programme. :func:`propose` draws them from a computed
:class:`~exchange.metrics.MeasuresReport` (and the half-year's revocations) by fixed rules a
reader can check against the tables of the same report; nothing here is a new figure.

The rules, one proposal each when they apply:

- **K1, paper** — bodies that missed K1 on what they sent and sent at least a quarter of it on
  paper: connect them to the exchange and send electronically.
- **K1, unsigned** — such bodies with unsigned electronic documents: sign every document.
- **K1, refused** — bodies with documents refused at the hub: check certificates and signing
  software (the refusals' reasons are in the register).
- **K1 verified** — recipients that confirmed fewer signatures than they received valid ones:
  verify every signature on receipt.
- **K2** — bodies that signed only occasionally, or sent but never signed, or sent nothing.
- **K2, rule** — when no body could meet the regular-use rule for want of weeks.
- **K3** — bodies that missed K3: scan and enter documents from outside agencies.
- **Certificates** — bodies whose certificate was revoked in the period: review key custody.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from exchange.metrics import BodyMeasures, MeasuresReport, UseStatus
from exchange.pki.history import Revocation

#: at most this many bodies are named in one proposal (the rest are counted)
NAMED = 8


@dataclass(frozen=True, slots=True)
class Proposal:
    """One adjustment: the measure it serves, the bodies concerned (ids), the action, why."""

    measure: str  # K1, K1 verified, K2, K3, certificates
    bodies: tuple[str, ...]
    action: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        """The proposal as JSON-able data: measure, bodies, action and reason."""
        return {"measure": self.measure, "bodies": list(self.bodies), "action": self.action,
                "reason": self.reason}


def _names(rows: Iterable[BodyMeasures]) -> tuple[str, ...]:
    return tuple(row.body.id for row in rows)


def propose(report: MeasuresReport, *, revocations: Iterable[Revocation] = ()) -> tuple[Proposal, ...]:
    """The adjustments the figures of *report* call for, in the order of the rules above."""
    proposals: list[Proposal] = []
    behind = [row for row in report.ranked_bodies() if row.sent.met is False]
    paper = [r for r in behind if r.sent_channels.paper * 4 >= r.sent_channels.total > 0]
    if paper:
        proposals.append(Proposal(
            "K1", _names(paper), "connect to the exchange and send documents electronically, not on paper",
            "each missed K1 and sent a quarter or more of its documents on paper"))
    unsigned = [r for r in behind if r.sent_channels.unsigned]
    if unsigned:
        proposals.append(Proposal(
            "K1", _names(unsigned), "sign every electronic document with the body's certificate",
            "each missed K1 and sent electronic documents without a signature"))
    refused = sorted((r for r in report.bodies if r.sent_channels.signed_invalid),
                     key=lambda r: (-r.sent_channels.signed_invalid, r.body.id))
    if refused:
        proposals.append(Proposal(
            "K1", _names(refused), "check the signing certificates and software before sending",
            "the hub refused signed documents of each (invalid signature: altered in transit, revoked or "
            "expired certificate); the register gives each reason"))
    unverified = sorted((r for r in report.bodies
                         if r.received_verified.numerator < r.received.numerator),
                        key=lambda r: (r.received_verified.numerator - r.received.numerator, r.body.id))
    if unverified:
        proposals.append(Proposal(
            "K1 verified", _names(unverified), "verify the signature of every document received and say so "
            "in the signed receipt", "each received validly signed documents whose signature it did not confirm"))
    occasional = [r for r in report.bodies if r.use.status is UseStatus.OCCASIONAL]
    if occasional and report.k2.met is not True:
        proposals.append(Proposal(
            "K2", _names(occasional), "sign documents every week, not occasionally",
            f"each signed in too few weeks for the rule ({report.profile.regular_use.describe()})"))
    never = [r for r in report.bodies if r.use.status is UseStatus.NO_SIGNATURES]
    if never:
        proposals.append(Proposal(
            "K2", _names(never), "issue signing certificates and train the clerks to use them",
            "each sent documents, none with a valid signature"))
    silent = [r for r in report.bodies if r.use.status is UseStatus.NO_TRAFFIC]
    if silent and report.k1.has_data:
        proposals.append(Proposal(
            "K2", _names(silent), "connect to the exchange: register every document sent, electronic or paper",
            "none registered a document in the period"))
    reach = report.k2_reach
    if reach is not None and report.k2.met is False and reach.explanation():
        action = ("judge regular use over months (K2 by month) until the register covers the period"
                  if reach.data_too_short else
                  "agree weekly signing with the bodies, or review whether the regular-use rule fits how often "
                  "they write")
        proposals.append(Proposal("K2", (), action, str(reach.explanation())))
    scanning = sorted((r for r in report.bodies if r.incoming.met is False),
                      key=lambda r: (r.incoming.value or 0.0, r.body.id))
    if scanning:
        proposals.append(Proposal(
            "K3", _names(scanning), "scan documents from outside agencies on arrival and enter them in the "
            "operations system", f"each is below the K3 target of {report.profile.k3 * 100:g} %"))
    revoked = sorted({r.body_id for r in revocations if r.body_id})
    if revoked:
        proposals.append(Proposal(
            "certificates", tuple(revoked), "review how signing keys are kept; check the renewed certificate "
            "is the only one in use", "the CA revoked a signing certificate of each in the period"))
    return tuple(proposals)


def named(proposal: Proposal, names: dict[str, str]) -> str:
    """The bodies of *proposal* as words: up to :data:`NAMED` names, then how many more."""
    if not proposal.bodies:
        return "all bodies"
    shown = [f"{names.get(b, b)} ({b})" for b in proposal.bodies[:NAMED]]
    rest = len(proposal.bodies) - NAMED
    return ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")
