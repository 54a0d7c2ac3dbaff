"""The overview page: K1–K3 for the period against the target, the trend, who is behind, live counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from exchange.hub.measures import measures_report, profile_named
from exchange.hub.service import ExchangeService
from exchange.hub.web.cards import MeasureCard
from exchange.hub.web.charts import Series, line_chart
from exchange.hub.web.period import PeriodPicker
from exchange.metrics import BodyMeasures, ChannelCounts, MeasuresReport, TargetProfile

BEHIND_LIMIT = 8


@dataclass(frozen=True)
class Live:
    """Counts that move while a demo runs; ``version`` changes whenever anything happens."""

    version: int
    documents_today: int
    refused_today: int
    awaiting_receipt: int
    last_activity: datetime | None
    today: str

    @classmethod
    def read(cls, service: ExchangeService, *, at: datetime) -> Live:
        """The live counts since midnight UTC of *at*, from the service's activity."""
        midnight = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        counts: dict[str, Any] = service.activity(since=midnight)
        return cls(version=int(counts["last_event_id"]), documents_today=int(counts["documents"]),
                   refused_today=int(counts["refused"]), awaiting_receipt=int(counts["awaiting_receipt"]),
                   last_activity=counts["last_event_at"], today=midnight.date().isoformat())

    def to_dict(self) -> dict[str, Any]:
        """The counts as the JSON of ``GET /api/activity`` (the dashboard polls it)."""
        return {"version": self.version, "documents_today": self.documents_today,
                "refused_today": self.refused_today, "awaiting_receipt": self.awaiting_receipt,
                "last_activity": self.last_activity.isoformat() if self.last_activity else None,
                "today": self.today}


@dataclass(frozen=True)
class ChannelBar:
    """One segment of the channels bar: register rows sent by that channel in the period."""

    key: str
    label: str
    count: int
    width: float


def channel_bar(channels: ChannelCounts) -> list[ChannelBar]:
    """The bar of the channels' shares (signed and valid, refused, unsigned, paper) for
    *channels*."""
    total = channels.total or 1
    rows = (("signed_valid", "signed, valid", channels.signed_valid),
            ("signed_invalid", "signature refused", channels.signed_invalid),
            ("unsigned", "electronic, unsigned", channels.unsigned),
            ("paper", "paper", channels.paper))
    return [ChannelBar(key, label, count, round(100 * count / total, 2)) for key, label, count in rows]


@dataclass(frozen=True)
class BehindRow:
    """A body furthest behind on K1: its rank, id, name, kind and K1 card."""

    rank: int
    body_id: str
    name: str
    kind: str
    sent: MeasureCard

    @classmethod
    def of(cls, rank: int, row: BodyMeasures) -> BehindRow:
        """The row of rank *rank* for the breakdown row *row*."""
        return cls(rank, row.body.id, row.body.name_vi, row.body.kind.value, MeasureCard.of(row.sent, "k1_sent"))


def trend_chart(report: MeasuresReport, *, title: str) -> Markup:
    """K1–K3 month by month as an inline SVG chart titled *title*."""
    months = [m.period.label for m in report.months]
    series = [Series("k1", "K1", tuple(m.k1 for m in report.months)),
              Series("k2", "K2", tuple(m.k2 for m in report.months)),
              Series("k3", "K3", tuple(m.k3 for m in report.months))]
    targets = {report.profile.k1, report.profile.k2, report.profile.k3}
    return line_chart(months, series, target=targets.pop() if len(targets) == 1 else report.profile.k1,
                      title=title)


@dataclass(frozen=True)
class OverviewPage:
    """Everything the dashboard shows for one period and target profile."""

    picker: PeriodPicker
    profile: TargetProfile
    cards: list[MeasureCard]
    k1_verified: MeasureCard
    chart: Markup
    behind: list[BehindRow]
    no_traffic: int
    channels: list[ChannelBar]
    total_rows: int
    excluded: int
    live: Live
    bodies: int
    k2_note: str | None = None  # why K2 is low when the period asks more weeks than the data has

    @classmethod
    def build(cls, service: ExchangeService, *, period_text: str | None, at: datetime,
              profile_name: str = "2015") -> OverviewPage:
        """The dashboard for the period in the query (*period_text*; InputError shown on the page
        when it does not parse) under profile *profile_name*, with the same report as ``GET
        /api/measures``."""
        picker = PeriodPicker.from_query(service, period_text, at=at, path="/")
        profile = profile_named(profile_name)
        # The same report (and to_dict) as GET /api/measures: see exchange.hub.measures.
        report = measures_report(service, picker.period, profile=profile)
        ranked = [row for row in report.ranked_bodies() if row.gap is not None]
        return cls(
            picker=picker,
            profile=profile,
            cards=[MeasureCard.of(m) for m in report.headline],
            k1_verified=MeasureCard.of(report.k1_verified),
            chart=trend_chart(report, title=f"K1, K2 and K3 per month, {report.period.label}"),
            behind=[BehindRow.of(rank, row) for rank, row in enumerate(ranked[:BEHIND_LIMIT], 1)],
            no_traffic=len(report.no_traffic()),
            channels=channel_bar(report.channels),
            total_rows=report.channels.total,
            excluded=report.excluded_entries,
            live=Live.read(service, at=at),
            bodies=len(report.bodies),
            k2_note=report.k2_reach.explanation() if report.k2_reach and report.k2.met is False else None,
        )

