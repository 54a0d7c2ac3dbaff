"""How K1 and K3 count what edXML adds (docs/measures.md, "Recalled, updated and replaced
documents" and "Born-digital arrivals"), recounted by hand from a small register."""

from __future__ import annotations

from dataclasses import replace

from exchange.metrics import Period, TargetProfile, compute

from .builders import PA, SV, UN, incoming, registry, sent

JUNE = Period.parse("2015-06")

# D1 was replaced by D1b (both signed and delivered to ha-noi); D2 was recalled (still one
# document that was sent and received); D3 unsigned, D4 on paper.
REGISTER = [
    replace(sent("D1", "central-office", "ha-noi", SV, "2015-06-02"), superseded=True),
    sent("D1b", "central-office", "ha-noi", SV, "2015-06-05"),
    sent("D2", "central-office", "nghe-an", SV, "2015-06-08"),
    sent("D3", "ha-noi", "central-office", UN, "2015-06-10"),
    sent("D4", "nghe-an", "central-office", PA, "2015-06-12"),
]
INCOMING = [
    incoming("I1", "ha-noi", "2015-06-03", scanned=True, entered=True),     # scanned paper
    replace(incoming("I2", "ha-noi", "2015-06-04", scanned=False, entered=True),
            electronic=True, superseded=True),                              # edXML, later replaced
    replace(incoming("I2b", "ha-noi", "2015-06-09", scanned=False, entered=True),
            electronic=True),                                               # its replacement (edXML type 3)
    incoming("I3", "nghe-an", "2015-06-11", scanned=False, entered=True),   # paper, never scanned
]


def test_a_replaced_document_counts_once_through_its_replacement_and_a_recalled_one_still_counts():
    report = compute(REGISTER, INCOMING, registry(), JUNE, TargetProfile.builtin("2015"))
    # rows counted: D1b, D2, D3, D4 (D1 is superseded by D1b): signed_valid and delivered are D1b, D2
    assert (report.k1.numerator, report.k1.denominator) == (2, 4)
    # without the replacement rule the same document would weigh twice: 3 of 5
    naive = compute([replace(e, superseded=False) for e in REGISTER], INCOMING, registry(), JUNE,
                    TargetProfile.builtin("2015"))
    assert (naive.k1.numerator, naive.k1.denominator) == (3, 5)


def test_born_digital_arrivals_count_in_k3_without_a_scan_and_a_replaced_one_once():
    report = compute(REGISTER, INCOMING, registry(), JUNE, TargetProfile.builtin("2015"))
    # received: I1, I2b, I3 (I2 replaced by I2b); stored electronically and entered: I1 (scan), I2b (edXML)
    assert (report.k3.numerator, report.k3.denominator) == (2, 3)
