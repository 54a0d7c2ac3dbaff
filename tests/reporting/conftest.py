"""A small half-year register (2015H1) and the half-year before it, worked out by hand.

2015H1, five bodies (inspection-commission sends nothing):

    month  rows (sender -> recipient, channel)                                   K1
    Jan    central-office -> ha-noi SV; ha-noi -> central-office paper           1 / 2
    Feb    central-office -> nghe-an SV; nghe-an -> central-office paper;
           nghe-an -> ha-noi paper                                               1 / 3
    Mar    ha-noi -> central-office SV; organization-commission -> ha-noi SV     2 / 2
    Apr    (nothing)                                                             no data
    May    central-office -> organization-commission SV; ha-noi -> nghe-an refused  1 / 2
    Jun    nghe-an -> central-office unsigned; central-office -> ha-noi SV       1 / 2
                                                                      total      6 / 11

K1 = 6 / 11 = 54.5 % (missed). Sent: central-office 4/4, organization-commission 1/1,
ha-noi 1/3, nghe-an 0/3. K2: no body signs in half of the 27 weeks: 0 / 5 (missed).
K3: 2 of 3 incoming scanned and entered = 66.7 % (met).

2014H2: three rows, one signed (K1 1 / 3 = 33.3 %), no incoming (K3 no data).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from exchange.domain.bodies import Body, BodyKind, BodyRegistry
from exchange.domain.documents import Channel
from exchange.domain.register import IncomingEntry, RegisterEntry
from exchange.metrics import MeasuresReport, Period, TargetProfile, compute

C, P = BodyKind.CENTRAL, BodyKind.PROVINCIAL
BODIES = BodyRegistry([
    Body("central-office", C, "Văn phòng Trung ương Đảng", "Central Party Office"),
    Body("organization-commission", C, "Ban Tổ chức Trung ương", "Organization Commission"),
    Body("inspection-commission", C, "Ủy ban Kiểm tra Trung ương", "Inspection Commission"),
    Body("ha-noi", P, "Thành ủy Hà Nội", "Hà Nội"),
    Body("nghe-an", P, "Tỉnh ủy Nghệ An", "Nghệ An"),
])
SV, SI, UN, PA = (Channel.SIGNED_VALID, Channel.SIGNED_INVALID, Channel.UNSIGNED,
                  Channel.PAPER)


def _at(day: str) -> datetime:
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, 9, tzinfo=UTC)


def _row(doc: str, sender: str, recipient: str, channel: Channel, day: str) -> RegisterEntry:
    ok = channel in (SV, UN)
    return RegisterEntry(doc, sender, recipient, channel, _at(day), delivered=ok,
                         verified_by_recipient=True if channel is SV else None)


REGISTER = [
    _row("J1", "central-office", "ha-noi", SV, "2015-01-06"),
    _row("J2", "ha-noi", "central-office", PA, "2015-01-07"),
    _row("F1", "central-office", "nghe-an", SV, "2015-02-03"),
    _row("F2", "nghe-an", "central-office", PA, "2015-02-04"),
    _row("F3", "nghe-an", "ha-noi", PA, "2015-02-05"),
    _row("M1", "ha-noi", "central-office", SV, "2015-03-03"),
    _row("M2", "organization-commission", "ha-noi", SV, "2015-03-04"),
    _row("Y1", "central-office", "organization-commission", SV, "2015-05-05"),
    _row("Y2", "ha-noi", "nghe-an", SI, "2015-05-06"),
    _row("U1", "nghe-an", "central-office", UN, "2015-06-02"),
    _row("U2", "central-office", "ha-noi", SV, "2015-06-03"),
    # 2014H2
    _row("S1", "central-office", "ha-noi", PA, "2014-09-02"),
    _row("S2", "ha-noi", "central-office", PA, "2014-09-03"),
    _row("O1", "central-office", "nghe-an", SV, "2014-10-01"),
]
INCOMING = [
    IncomingEntry("I1", "ha-noi", "Bộ Tài chính", _at("2015-01-12"), True, True),
    IncomingEntry("I2", "nghe-an", "Bộ Nội vụ", _at("2015-03-12"), True, False),
    IncomingEntry("I3", "central-office", "Văn phòng Chính phủ", _at("2015-06-12"), True, True),
]
H1 = Period.parse("2015H1")


@pytest.fixture(scope="session")
def report() -> MeasuresReport:
    return compute(REGISTER, INCOMING, BODIES, H1, TargetProfile.builtin("2015"), by="body")


@pytest.fixture(scope="session")
def previous() -> MeasuresReport:
    return compute(REGISTER, INCOMING, BODIES, H1.previous(), TargetProfile.builtin("2015"))


@pytest.fixture(scope="session")
def empty() -> MeasuresReport:
    return compute([], [], BODIES, Period.parse("2016H1"), TargetProfile.builtin("2015"),
                   by="month")
