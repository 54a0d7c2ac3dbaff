"""K1–K3 on small registers whose right answer is worked out by hand in each test."""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exchange.domain.bodies import BodyRegistry
from exchange.domain.documents import Channel
from exchange.domain.register import RegisterEntry
from exchange.errors import InputError
from exchange.metrics import (
    Breakdown,
    Measure,
    Period,
    RegularUseRule,
    TargetProfile,
    UseStatus,
    compute,
    furthest_behind,
    k1,
    k2,
    k3,
    signature_use,
)

from .builders import PA, SI, SV, UN, incoming, registry, sent

P2015 = TargetProfile.builtin("2015")
SAMPLE_BODIES = Path(__file__).resolve().parents[2] / "samples" / "bodies.toml"
FOUR_WEEKS = Period.parse("2015-06-01..2015-06-28")  # Monday 1 June .. Sunday 28 June: W23-W26


# --- Measure ------------------------------------------------------------------------------


def test_measure_no_data_is_none_never_zero() -> None:
    m = Measure.of("k1", 0, 0, 0.6)
    assert (m.value, m.met, m.has_data) == (None, None, False)
    assert m.percent() == "no data"
    assert m.to_dict() == {"numerator": 0, "denominator": 0, "value": None, "target": 0.6,
                           "met": None}


@pytest.mark.parametrize(("num", "den", "target", "met"), [
    (3, 5, 0.6, True),      # exactly 60 %
    (5, 9, 0.6, False),     # 55.6 %
    (19, 20, 0.95, True),   # 0.95 * 20 is not exactly 19.0 in floats; compared exactly
    (18, 20, 0.95, False),
    (0, 4, 0.6, False),     # real data, 0 %
])
def test_measure_met_is_compared_exactly(num: int, den: int, target: float, met: bool) -> None:
    assert Measure.of("k1", num, den, target).met is met


def test_one_rounding_rule_nearest_tenth_but_never_across_the_target() -> None:
    # 15454 / 25764 = 59.98 %: the nearest tenth would print "60.0 %" next to a miss
    m = Measure.of("k1", 15454, 25764, 0.6)
    assert (m.percent(), m.met) == ("59.9 %", False)
    # the figures: nearest tenth, as the pages print them
    assert Measure.of("k1", 31, 45, 0.6).percent() == "68.9 %"  # 68.888…
    assert Measure.of("k1", 14, 23, 0.6).percent() == "60.9 %"  # 60.869…
    assert Measure.of("k1", 14, 23, 0.6).points_from_target() == 9  # "+0.9 pts" beside 60.9 %
    assert Measure.of("k1", 2, 3).percent() == "66.7 %"
    assert Measure.of("k1", 1, 1).percent() == "100.0 %"
    assert Measure.of("k1", 3, 5, 0.6).percent() == "60.0 %"  # exactly met
    assert Measure.of("k1", 1, 8).percent() == "12.5 %"  # halves up
    # a target that is not a whole tenth: a met figure is never shown below it
    met = Measure.of("k1", 63335, 100000, 0.6332)  # nearest 63.3 %, below 63.32 %
    assert (met.met, met.percent()) == (True, "63.4 %")
    missed = Measure.of("k1", 6336, 10000, 0.6338)  # nearest 63.4 %, above 63.38 %
    assert (missed.met, missed.percent()) == (False, "63.3 %")

def test_measure_refuses_inconsistent_construction() -> None:
    with pytest.raises(ValueError):
        Measure("k1", 3, 2, 1.5, None, None)
    with pytest.raises(ValueError):
        Measure("k1", 1, 2, 0.9, 0.6, True)


# --- K1 ------------------------------------------------------------------------------------


def test_k1_every_channel_counts_in_the_denominator() -> None:
    entries = [
        sent("A", "central-office", "ha-noi", SV, "2015-03-02"),                    # counts
        sent("B", "central-office", "nghe-an", SV, "2015-03-03", delivered=False),  # not delivered
        sent("C", "ha-noi", "central-office", SI, "2015-03-04"),                    # refused
        sent("D", "ha-noi", "nghe-an", UN, "2015-03-05"),                           # unsigned
        sent("E", "nghe-an", "central-office", PA, "2015-03-06"),                   # paper
    ]
    report = compute(entries, [], registry(), Period.parse("2015-03"), P2015)
    # 1 of 5 rows is signed_valid AND delivered
    assert (report.k1.numerator, report.k1.denominator) == (1, 5)
    assert report.k1.met is False
    assert report.channels.to_dict() == {"signed_valid": 2, "signed_invalid": 1, "unsigned": 1,
                                         "paper": 1}
    assert k1(entries, Period.parse("2015-03"), bodies=registry()) == Measure.of("k1", 1, 5)


def test_k1_verified_needs_the_recipients_own_verification() -> None:
    entries = [
        sent("A", "central-office", "ha-noi", SV, "2015-03-02", verified=True),
        sent("A", "central-office", "nghe-an", SV, "2015-03-02", verified=False),
        sent("B", "ha-noi", "nghe-an", SV, "2015-03-03", verified=None),  # not yet checked
        sent("C", "ha-noi", "nghe-an", PA, "2015-03-03"),
    ]
    march = Period.parse("2015-03")
    # K1: 3 of 4; verified: only the first row, 1 of 4
    assert k1(entries, march).numerator == 3
    assert k1(entries, march, verified=True) == Measure.of("k1_verified", 1, 4)


def test_k1_leaves_out_rows_not_between_two_configured_bodies() -> None:
    entries = [
        sent("A", "central-office", "ha-noi", SV, "2015-03-02"),
        sent("B", "bo-tai-chinh", "ha-noi", SV, "2015-03-02"),        # unknown sender
        sent("C", "ha-noi", "ubnd-ha-noi", PA, "2015-03-02"),         # unknown recipient
        sent("D", "ha-noi", "ha-noi", UN, "2015-03-02"),              # to itself
    ]
    report = compute(entries, [], registry(), Period.parse("2015-03"), P2015)
    assert (report.k1.numerator, report.k1.denominator, report.excluded_entries) == (1, 1, 3)


def test_k1_period_boundaries_are_start_inclusive_end_exclusive() -> None:
    entries = [
        sent("A", "central-office", "ha-noi", SV, "2015-02-28", hour=23),  # February
        sent("B", "central-office", "ha-noi", PA, "2015-03-01", hour=0),   # March, first instant
        sent("C", "central-office", "ha-noi", SV, "2015-04-01", hour=0),   # April
    ]
    assert k1(entries, Period.parse("2015-03")) == Measure.of("k1", 0, 1)


def test_naive_sent_at_is_read_as_utc() -> None:
    entry = replace(sent("A", "central-office", "ha-noi", SV, "2015-03-31", hour=23),
                    sent_at=datetime(2015, 3, 31, 23, 30))
    assert k1([entry], Period.parse("2015-03")).denominator == 1


def test_unknown_channel_is_an_input_error() -> None:
    bad = replace(sent("A", "central-office", "ha-noi", SV, "2015-03-02"), channel="fax")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="fax"):
        k1([bad], Period.parse("2015-03"))


def test_certificate_revoked_mid_period() -> None:
    # ha-noi signs validly on 2 and 9 June; its certificate is revoked on 12 June, so the hub
    # refuses what it signs on 16, 23 and 30 June (signed_invalid, not delivered).
    entries = [sent(f"D{day}", "ha-noi", "central-office", SV if day < 12 else SI,
                    f"2015-06-{day:02d}") for day in (2, 9, 16, 23, 30)]
    entries.append(sent("X", "central-office", "ha-noi", SV, "2015-06-03"))
    report = compute(entries, [], registry(), Period.parse("2015-06"), P2015, by="body")
    hanoi = next(r for r in report.bodies if r.body.id == "ha-noi")
    # K1 of what ha-noi sent: 2 valid of 5 = 40 %, missed
    assert (hanoi.sent.numerator, hanoi.sent.denominator, hanoi.sent.met) == (2, 5, False)
    assert hanoi.sent_channels.signed_invalid == 3
    # K2: refused signatures do not make a week active: W23, W24 = 2 of 5 weeks < 2.5
    assert (hanoi.use.status, hanoi.use.weeks.numerator, hanoi.use.signed_documents) == (
        UseStatus.OCCASIONAL, 2, 2)
    # overall: 3 valid (2 + X) of 6 rows = 50 %
    assert (report.k1.numerator, report.k1.denominator) == (3, 6)
    assert report.ranked_bodies()[0].body.id == "ha-noi"


# --- K2 ------------------------------------------------------------------------------------


def _k2_register() -> list[RegisterEntry]:
    return [
        # central-office: W23 and W25 -> exactly half of 4 weeks
        sent("A1", "central-office", "ha-noi", SV, "2015-06-02"),
        sent("A2", "central-office", "ha-noi", SV, "2015-06-17"),
        # ha-noi: two documents, both in W23 -> 1 of 4 weeks
        sent("B1", "ha-noi", "central-office", SV, "2015-06-03"),
        sent("B2", "ha-noi", "nghe-an", SV, "2015-06-04"),
        # organization-commission: one document to three bodies in W24, one in W26
        *[sent("C1", "organization-commission", r, SV, "2015-06-09")
          for r in ("ha-noi", "nghe-an", "central-office")],
        sent("C2", "organization-commission", "ha-noi", SV, "2015-06-23"),
        # nghe-an: refused in W23 and W24, unsigned in W25: no valid signature
        sent("N1", "nghe-an", "ha-noi", SI, "2015-06-02"),
        sent("N2", "nghe-an", "ha-noi", SI, "2015-06-09"),
        sent("N3", "nghe-an", "ha-noi", UN, "2015-06-16"),
        # inspection-commission: sends nothing, but returns signed receipts in W23 and W24
        sent("R1", "ha-noi", "inspection-commission", SV, "2015-06-01", receipt_day="2015-06-02"),
        sent("R2", "ha-noi", "inspection-commission", SV, "2015-06-01", receipt_day="2015-06-08"),
    ]


def test_k2_exactly_half_the_weeks_is_regular() -> None:
    uses = signature_use(_k2_register(), registry(), FOUR_WEEKS)
    assert {i: (u.status, u.weeks.numerator, u.weeks.denominator) for i, u in uses.items()} == {
        "central-office": (UseStatus.REGULAR, 2, 4),            # 2 / 4 = 0.5 >= 0.5
        "ha-noi": (UseStatus.OCCASIONAL, 1, 4),                 # B1, B2, R1, R2 all in W23
        "organization-commission": (UseStatus.REGULAR, 2, 4),   # W24, W26; C1 counted once
        "nghe-an": (UseStatus.NO_SIGNATURES, 0, 4),
        "inspection-commission": (UseStatus.NO_TRAFFIC, 0, 4),  # receipts do not count
    }
    assert uses["organization-commission"].signed_documents == 2  # distinct documents
    # K2 = 2 regular of 5 bodies
    assert k2(_k2_register(), registry(), FOUR_WEEKS, target=0.6) == Measure.of("k2", 2, 5, 0.6)


def test_k2_one_week_short_of_half_is_not_regular() -> None:
    entries = [e for e in _k2_register() if e.document_id != "A2"]
    uses = signature_use(entries, registry(), FOUR_WEEKS)
    assert uses["central-office"].status is UseStatus.OCCASIONAL  # 1 of 4 weeks


def test_k2_min_weekly_documents_counts_distinct_documents() -> None:
    rule = RegularUseRule(min_weekly_documents=2)
    uses = signature_use(_k2_register(), registry(), FOUR_WEEKS, rule)
    # ha-noi: B1 and B2 in W23 -> W23 active (plus R1, R2 sent in W23 too: 4 documents)
    assert uses["ha-noi"].weeks.numerator == 1
    # organization-commission: C1 (three rows, one document) in W24 -> not 2 documents
    assert uses["organization-commission"].weeks.numerator == 0
    assert uses["central-office"].weeks.numerator == 0


def test_k2_signed_receipts_count_only_when_the_rule_says_so() -> None:
    rule = RegularUseRule(count_receipts=True)
    uses = signature_use(_k2_register(), registry(), FOUR_WEEKS, rule)
    # receipts returned on 2 June (W23) and 8 June (W24): 2 of 4 weeks
    assert (uses["inspection-commission"].status, uses["inspection-commission"].receipts) == (
        UseStatus.REGULAR, 2)


def test_k2_denominator_is_every_body_of_the_registry() -> None:
    bodies = BodyRegistry.from_toml(SAMPLE_BODIES)
    entries = [sent(f"D{w}", "central-office", "ha-noi", SV, f"2015-06-{d:02d}")
               for w, d in enumerate((2, 9, 16))]
    # 3 of 5 June weeks for central-office; 79 bodies without a signed document
    assert k2(entries, bodies, Period.parse("2015-06")) == Measure.of("k2", 1, 80)
    report = compute(entries, [], bodies, Period.parse("2015-06"), P2015, by="body")
    # ha-noi only received: it sent nothing, so it is "no traffic" like 78 others
    assert len(report.no_traffic()) == 79
    assert [r.body.id for r in report.bodies if r.use.status is not UseStatus.NO_TRAFFIC] == [
        "central-office"]


def test_k2_is_no_data_when_the_register_is_empty_for_the_period() -> None:
    assert k2([], registry(), FOUR_WEEKS) == Measure.of("k2", 0, 0)


# --- K3 ------------------------------------------------------------------------------------


def test_k3_needs_scanned_and_entered() -> None:
    rows = [
        incoming("1", "ha-noi", "2015-06-01", scanned=True, entered=True),     # counts
        incoming("2", "ha-noi", "2015-06-02", scanned=True, entered=False),
        incoming("3", "ha-noi", "2015-06-03", scanned=False, entered=True),
        incoming("4", "nghe-an", "2015-06-04", scanned=False, entered=False),
        incoming("5", "nghe-an", "2015-06-05", scanned=True, entered=True),    # counts
        incoming("6", "nghe-an", "2015-07-01", scanned=True, entered=True),    # July
        incoming("7", "ubnd-x", "2015-06-05", scanned=True, entered=True),     # not a body
    ]
    june = Period.parse("2015-06")
    # 2 of 5 June rows for the configured bodies (row 7's body is unknown)
    assert k3(rows, june, bodies=registry(), target=0.6) == Measure.of("k3", 2, 5, 0.6)
    report = compute([], rows, registry(), june, P2015)
    assert (report.k3.numerator, report.k3.denominator, report.excluded_incoming) == (2, 5, 1)
    by_body = {r.body.id: (r.incoming.numerator, r.incoming.denominator) for r in report.bodies}
    assert by_body["ha-noi"] == (1, 3) and by_body["nghe-an"] == (1, 2)
    assert k3([], june).value is None


# --- breakdowns ----------------------------------------------------------------------------


def test_per_month_trend_with_an_empty_month() -> None:
    bodies = registry("central-office", "ha-noi")
    entries = [
        # January: central-office signs in W02, W03, W04 of January's 5 weeks (W01-W05)
        sent("J1", "central-office", "ha-noi", SV, "2015-01-06"),
        sent("J2", "central-office", "ha-noi", SV, "2015-01-13"),
        sent("J3", "central-office", "ha-noi", SV, "2015-01-20"),
        sent("J4", "ha-noi", "central-office", PA, "2015-01-21"),
        # February: nothing.  March: one refused, one valid (March overlaps W09-W14: 6 weeks)
        sent("M1", "central-office", "ha-noi", SI, "2015-03-03"),
        sent("M2", "ha-noi", "central-office", SV, "2015-03-04"),
    ]
    report = compute(entries, [incoming("i", "ha-noi", "2015-02-10", scanned=True, entered=True)],
                     bodies, Period.parse("2015Q1"), P2015, by="month")
    jan, feb, mar = report.months
    assert [m.period.label for m in report.months] == ["2015-01", "2015-02", "2015-03"]
    assert (jan.k1.numerator, jan.k1.denominator) == (3, 4)       # 75 %
    assert feb.k1.value is None and feb.k2.value is None          # no data, not 0 %
    assert (feb.k3.numerator, feb.k3.denominator) == (1, 1)       # K3 has data in February
    assert (mar.k1.numerator, mar.k1.denominator) == (1, 2)
    # K2 per month: January central-office 3 of 5 weeks -> 1 of 2 bodies;
    # March ha-noi 1 of 6 weeks -> 0 of 2 bodies (traffic, so a real 0 %)
    assert (jan.k2.numerator, jan.k2.denominator) == (1, 2)
    assert (mar.k2.numerator, mar.k2.denominator, mar.k2.value) == (0, 2, 0.0)
    # the quarter: 4 of 6 rows; central-office 3 of 14 weeks -> not regular
    assert (report.k1.numerator, report.k1.denominator) == (4, 6)
    assert report.k2 == Measure.of("k2", 0, 2, 0.6)
    assert [row["month"] for row in report.breakdown()] == ["2015-01", "2015-02", "2015-03"]


def test_month_k2_counts_a_straddling_week_only_for_that_months_days() -> None:
    bodies = registry("central-office", "ha-noi")
    entries = [
        # ha-noi: Monday 26 January (W05, in January), then 2 and 9 February (W06, W07)
        sent("H1", "ha-noi", "central-office", SV, "2015-01-26"),
        sent("H2", "ha-noi", "central-office", SV, "2015-02-02"),
        sent("H3", "ha-noi", "central-office", SV, "2015-02-09"),
        # central-office: Sunday 1 February (W05, in February), 2 and 9 February
        sent("C1", "central-office", "ha-noi", SV, "2015-02-01"),
        sent("C2", "central-office", "ha-noi", SV, "2015-02-02"),
        sent("C3", "central-office", "ha-noi", SV, "2015-02-09"),
    ]
    report = compute(entries, [], bodies, Period.parse("2015-01-01..2015-02-28"), P2015)
    feb = report.months[1]
    # February overlaps W05-W09 (5 weeks; 2.5 needed). ha-noi's W05 document was sent in
    # January, so in February it has 2 weeks; central-office has 3 -> 1 of 2 bodies.
    assert (feb.k2.numerator, feb.k2.denominator) == (1, 2)


def test_per_direction_rows_add_up_to_the_total() -> None:
    entries = _k2_register()
    report = compute(entries, [], registry(), FOUR_WEEKS, P2015, by="direction")
    assert sum(d.k1.denominator for d in report.directions) == report.k1.denominator
    assert sum(d.k1.numerator for d in report.directions) == report.k1.numerator
    assert [row["direction"] for row in report.breakdown()] == [
        "central-to-provincial", "provincial-to-central", "central-to-central",
        "provincial-to-provincial"]


def test_furthest_behind_gap_then_volume_then_id() -> None:
    entries = [
        # nghe-an 0 / 1 (gap 0.6); ha-noi 0 / 2 (gap 0.6, more volume); central-office 1 / 2
        sent("N", "nghe-an", "ha-noi", PA, "2015-06-02"),
        sent("H1", "ha-noi", "nghe-an", PA, "2015-06-02"),
        sent("H2", "ha-noi", "nghe-an", UN, "2015-06-03"),
        sent("C1", "central-office", "ha-noi", SV, "2015-06-02"),
        sent("C2", "central-office", "ha-noi", PA, "2015-06-03"),
    ]
    report = compute(entries, [], registry(), Period.parse("2015-06"), P2015, by="body")
    ranked = [r.body.id for r in furthest_behind(report.bodies)]
    # equal gaps: ha-noi (2 rows) before nghe-an (1 row); then central-office (gap 0.1);
    # no data last, by id
    assert ranked == ["ha-noi", "nghe-an", "central-office", "inspection-commission",
                      "organization-commission"]
    assert [r.body.id for r in furthest_behind(report.bodies, limit=1)] == ["ha-noi"]
    assert [row["rank"] for row in report.breakdown()] == [1, 2, 3, 4, 5]


# --- empty periods, inputs, shape ----------------------------------------------------------


@pytest.mark.parametrize("by", [None, "body", "direction", "month"])
def test_a_period_with_no_documents_is_no_data_everywhere(by: str | None) -> None:
    report = compute([], [], registry(), Period.parse("2015"), P2015, by=by)
    assert all(m.value is None and m.met is None for m in report.measures())
    assert all(m.k1.value is None and m.k2.value is None for m in report.months)
    assert all(r.use.status is UseStatus.NO_TRAFFIC for r in report.bodies)
    json.dumps(report.to_dict())  # JSON-ready, nulls not NaN
    assert "no data" in report.summary()


def test_compute_reads_generators_once() -> None:
    entries = (e for e in _k2_register())
    rows = (i for i in [incoming("1", "ha-noi", "2015-06-01", scanned=True, entered=True)])
    report = compute(entries, rows, registry(), FOUR_WEEKS, P2015)
    assert report.k1.denominator == len(_k2_register())
    assert report.k3.denominator == 1


def test_bad_breakdown_is_an_input_error() -> None:
    with pytest.raises(InputError, match="'bodies'"):
        compute([], [], registry(), FOUR_WEEKS, P2015, by="bodies")
    assert Breakdown.parse("Month") is Breakdown.MONTH


def test_to_dict_has_the_measure_shape() -> None:
    data = compute(_k2_register(), [], registry(), FOUR_WEEKS, P2015, by="body").to_dict()
    for name in ("k1", "k1_verified", "k2", "k3"):
        assert set(data[name]) == {"numerator", "denominator", "value", "target", "met"}
    assert data["period"]["label"] == "2015-06-01..2015-06-28"
    assert data["by"] == "body" and len(data["breakdown"]) == 5
    assert set(data["breakdown"][0]) >= {"rank", "body", "k1_sent", "k1_received", "k2", "k3"}


def test_one_pass_over_a_large_register_is_fast() -> None:
    # 100,000 rows over a year for the 80 bodies: linear work, well under a second here.
    bodies = BodyRegistry.from_toml(SAMPLE_BODIES)
    ids, rng = bodies.ids(), random.Random(4)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    channels = list(Channel)
    entries = [RegisterEntry(f"d{i}", ids[i % 80], ids[(i * 7 + 1) % 80], channels[i % 4],
                             start + timedelta(minutes=rng.randrange(525_600)), delivered=True)
               for i in range(100_000)]
    began = time.perf_counter()
    report = compute(entries, [], bodies, Period.parse("2015"), P2015, by="body")
    elapsed = time.perf_counter() - began
    assert report.k1.denominator + report.excluded_entries == 100_000
    assert elapsed < 5, f"compute took {elapsed:.2f} s for 100,000 rows"


def test_by_document_a_document_counts_only_if_it_reached_every_recipient_so() -> None:
    from exchange.metrics import Unit

    from .builders import SV, registry, sent

    rows = [
        sent("A", "central-office", "ha-noi", SV, "2015-06-02"),
        sent("A", "central-office", "nghe-an", SV, "2015-06-02", delivered=False),  # one copy not delivered
        sent("B", "central-office", "ha-noi", SV, "2015-06-03"),
        sent("B", "central-office", "nghe-an", SV, "2015-06-03", verified=False),  # one copy not verified
        sent("C", "central-office", "nghe-an", SV, "2015-06-04"),
        sent("C", "central-office", "central-office", SV, "2015-06-04"),  # to itself: left out
    ]
    june = Period.parse("2015-06")
    by_rows = compute(rows, [], registry(), june, TargetProfile.builtin("2015"))
    by_docs = compute(rows, [], registry(), june, TargetProfile.builtin("2015"), unit=Unit.DOCUMENT)
    assert (by_rows.k1.numerator, by_rows.k1.denominator) == (4, 5)  # A→ha-noi, B×2, C
    assert (by_docs.k1.numerator, by_docs.k1.denominator) == (2, 3)  # B and C; A missed a recipient
    assert (by_docs.k1_verified.numerator, by_docs.k1_verified.denominator) == (1, 3)  # C only
    assert by_docs.excluded_entries == by_rows.excluded_entries == 1
    with pytest.raises(InputError, match="by direction counts register rows"):
        compute(rows, [], registry(), june, TargetProfile.builtin("2015"), by="direction", unit="document")
    with pytest.raises(InputError, match="unknown unit 'page'"):
        compute(rows, [], registry(), june, TargetProfile.builtin("2015"), unit="page")
