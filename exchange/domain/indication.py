"""The ETSI EN 319 102-1 main indications: a signature validation's verdict in one word.

The verifier (:mod:`exchange.cms`) reports one; the hub stores it with every document,
receipt and business statement it validated, and the pages and measures read it back.
"""

from __future__ import annotations

from enum import StrEnum


class Indication(StrEnum):
    """The verdict of validating one signature (ETSI EN 319 102-1, clause 5.1.3)."""

    #: every check passed: the signer's certificate chains to a trusted root, was valid and not
    #: revoked at the signing time (or the time-stamp), and the document is the one signed
    TOTAL_PASSED = "TOTAL_PASSED"
    #: a check proved the signature invalid (altered document, bad signature value, revoked or
    #: expired signer): the hub refuses the document and never delivers it
    TOTAL_FAILED = "TOTAL_FAILED"
    #: the checks could not conclude either way (unknown root, no current CRL, revoked after
    #: signing with nothing proving the signature existed before)
    INDETERMINATE = "INDETERMINATE"
