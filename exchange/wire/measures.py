"""K1–K3 as ``GET /api/measures`` gives them, and the hub's ``GET /api/health``.

The JSON is :meth:`exchange.metrics.MeasuresReport.to_dict`'s, unchanged: these models state
its shape for the API's schema and check it on the way out. A measure's ``value`` is a
fraction (0.625, not 62.5), ``null`` when the period has no data (never 0); ``k2_reach`` and
``breakdown`` appear only when there is something to say (K2 computed; a breakdown asked for).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["BodyRow", "ChannelsPublic", "DirectionRow", "Health", "MeasurePublic", "MeasuresPublic",
           "MonthRow", "ProfilePublic"]


class MeasurePublic(BaseModel):
    """One measure: numerator / denominator, its target and whether it is met."""

    numerator: int
    denominator: int
    value: float | None = Field(description="numerator / denominator as a fraction; null: no data")
    target: float | None = Field(description="the profile's target as a fraction")
    met: bool | None = Field(description="null when there is no data or no target")


class ChannelsPublic(BaseModel):
    """Register rows by channel."""

    signed_valid: int
    signed_invalid: int
    unsigned: int
    paper: int


class PeriodPublic(BaseModel):
    """The period measured: its label and its bounds (ISO times, end exclusive)."""

    label: str = Field(description="e.g. 2015, 2015H1, 2015-03, 2015-03-01..2015-03-31")
    start: str
    end: str


class RegularUsePublic(BaseModel):
    """K2's rule: who counts as a regular user of signatures."""

    min_week_share: float
    min_weekly_documents: int
    count_receipts: bool


class ProfilePublic(BaseModel):
    """The target profile the measures are judged against."""

    name: str
    description: str
    k1: float
    k2: float
    k3: float
    regular_use: RegularUsePublic


class ExcludedPublic(BaseModel):
    """Rows left out: register rows not between two distinct served bodies, incoming rows for
    a body not served."""

    entries: int
    incoming: int


class K2ReachPublic(BaseModel):
    """The rule's weeks against the register's: why K2 may be low."""

    weeks: int
    needed: int
    covered: int
    best: int
    explanation: str | None


class UsePublic(BaseModel):
    """One body against K2's rule."""

    status: str = Field(description="regular, occasional, no_signatures or no_traffic")
    active_weeks: int
    weeks: int
    signed_documents: int
    receipts: int
    regular: bool


class BodyRow(BaseModel):
    """``by=body``: one body, ranked from furthest behind its K1 target."""

    rank: int
    body: str
    name_vi: str
    name_en: str
    kind: str = Field(description="central or provincial")
    k1_sent: MeasurePublic
    k1_sent_verified: MeasurePublic
    k1_received: MeasurePublic
    k1_received_verified: MeasurePublic
    k2: UsePublic
    k3: MeasurePublic
    channels_sent: ChannelsPublic


class DirectionRow(BaseModel):
    """``by=direction``: the documents sent between two kinds of body."""

    direction: str = Field(description="e.g. central-to-provincial")
    k1: MeasurePublic
    k1_verified: MeasurePublic
    channels: ChannelsPublic


class MonthRow(BaseModel):
    """``by=month``: one calendar month of the period."""

    month: str
    k1: MeasurePublic
    k1_verified: MeasurePublic
    k2: MeasurePublic
    k3: MeasurePublic
    channels: ChannelsPublic


class MeasuresPublic(BaseModel):
    """K1, K1 verified, K2, K3 for one period under one target profile, with the breakdown
    asked for."""

    period: PeriodPublic
    profile: ProfilePublic
    k1: MeasurePublic
    k1_verified: MeasurePublic
    k2: MeasurePublic
    k3: MeasurePublic
    channels: ChannelsPublic
    excluded: ExcludedPublic
    by: str | None = Field(description="body, direction, month, or null")
    unit: str = Field(description="what K1 counts: row (document × recipient) or document")
    k2_reach: K2ReachPublic | None = None
    breakdown: list[BodyRow] | list[DirectionRow] | list[MonthRow] | None = None


class Health(BaseModel):
    """The hub is up, and what time it says it is (the demo's simulated calendar shows here)."""

    status: str = "ok"
    time: str = Field(description="the hub's clock, ISO 8601")
