"""Proposed adjustments follow from the half-year's figures (conftest's register, by hand).

2015H1: nghe-an sent 3 rows (2 paper, 1 unsigned), 0 valid: missed K1, two thirds on paper;
ha-noi sent 3 (1 valid, 1 paper, 1 refused): missed K1, a third on paper; central-office and
organization-commission met K1. Signature use: central-office signed in 4 weeks,
organization-commission and ha-noi in 1 each (occasional); nghe-an never signed
(no_signatures); inspection-commission sent nothing. K3: nghe-an's one incoming document was
scanned but not entered (0 %, missed); ha-noi's and central-office's were (100 %).
"""

from __future__ import annotations

from datetime import UTC, datetime

from exchange.metrics import MeasuresReport
from exchange.pki import RevocationReason
from exchange.pki.history import Revocation
from exchange.reporting import HalfYearReport
from exchange.reporting.adjustments import propose


def _by_measure(report: MeasuresReport, **kwargs: object) -> dict[tuple[str, str], tuple[str, ...]]:
    return {(p.measure, p.action.split(" ")[0]): p.bodies for p in propose(report, **kwargs)}  # type: ignore[arg-type]


def test_each_rule_names_the_bodies_the_figures_point_at(report: MeasuresReport) -> None:
    found = _by_measure(report)
    assert found[("K1", "connect")] == ("nghe-an", "ha-noi")  # ranked: nghe-an furthest behind
    assert found[("K1", "sign")] == ("nghe-an",)  # the one unsigned document
    assert found[("K1", "check")] == ("ha-noi",)  # its refused document
    assert found[("K2", "sign")] == ("central-office", "organization-commission", "ha-noi")  # occasional
    assert found[("K2", "issue")] == ("nghe-an",)
    assert found[("K2", "connect")] == ("inspection-commission",)
    # nobody can reach 14 active weeks of 27 here: the rule itself is proposed for review
    assert found[("K2", "agree")] == ()
    assert found[("K3", "scan")] == ("nghe-an",)
    assert ("K1 verified", "verify") not in found  # every valid row was verified by its recipient
    assert ("certificates", "review") not in found


def test_revocations_of_the_period_become_a_proposal(report: MeasuresReport) -> None:
    revoked = Revocation("nghe-an", 0x1234, datetime(2015, 5, 20, 22, 15, tzinfo=UTC),
                         RevocationReason.KEY_COMPROMISE, datetime(2015, 8, 10, tzinfo=UTC), 0x5678)
    later = Revocation("ha-noi", 0x9999, datetime(2015, 9, 1, tzinfo=UTC), RevocationReason.SUPERSEDED, None, None)
    half = HalfYearReport.build(report, revocations=[revoked, later])
    assert half.revocations == (revoked,)  # only the half-year's
    assert any(p.measure == "certificates" and p.bodies == ("nghe-an",) for p in half.proposals)
    md = half.to_markdown()
    assert "**To:** Thường trực Ban Bí thư (the Standing Secretariat)" in md
    assert "**From:** Văn phòng Trung ương Đảng" in md
    assert "| Tỉnh ủy Nghệ An (`nghe-an`) | `1234…` | 20 May 2015, 22:15 UTC | key compromise | 10 August 2015" in md
    assert "## 7. Proposed adjustments" in md
    assert "Tỉnh ủy Nghệ An (nghe-an), Thành ủy Hà Nội (ha-noi) | connect to the exchange" in md
    html = half.to_html(chart=False, print_ready=True)
    assert "@page { size: A4" in html and "Thường trực Ban Bí thư" in html and "1234…" in html
    assert "@page" not in half.to_html(chart=False)
