"""The programme's measures K1–K3, computed from the register in one pass.

The exact definitions, in words a policy auditor can check, are in ``docs/measures.md``;
the docstrings below summarise them. Every figure is a :class:`Measure`: a numerator, a
denominator, the value (``None`` when the denominator is 0: "no data", never 0 %), the
target and whether it is met.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any

from exchange.domain.bodies import Body, BodyKind, BodyRegistry
from exchange.domain.documents import Channel
from exchange.domain.register import IncomingEntry, RegisterEntry
from exchange.errors import InputError
from exchange.metrics._tally import (
    CHANNEL_SLOT,
    ENTRIES,
    K1,
    K1_VERIFIED,
    Counter,
    Tally,
    new_counter,
)
from exchange.metrics.periods import Period
from exchange.metrics.reach import K2Reach
from exchange.metrics.rounding import shown_units, target_units, units_text
from exchange.metrics.targets import RegularUseRule, TargetProfile

_LABELS = {
    "k1": "K1 electronic, signed and delivered",
    "k1_verified": "K1 verified by the recipient",
    "k2": "K2 bodies using signatures regularly",
    "k3": "K3 outside documents scanned and entered",
}


@dataclass(frozen=True, slots=True)
class Measure:
    """One ratio: ``value = numerator / denominator``, or ``None`` (no data) if denominator is 0.

    ``met`` is ``value >= target`` compared exactly (3/5 meets 0.6), or ``None`` when there is
    no data or no target. Build with :meth:`of`; the constructor checks consistency.
    """

    name: str
    numerator: int
    denominator: int
    value: float | None
    target: float | None
    met: bool | None

    def __post_init__(self) -> None:
        if not 0 <= self.numerator <= self.denominator:
            raise ValueError(f"measure {self.name}: need 0 <= {self.numerator} "
                             f"<= {self.denominator}")
        expected = Measure._ratio(self.numerator, self.denominator, self.target)
        if (self.value, self.met) != expected:
            raise ValueError(f"measure {self.name}: value/met inconsistent with the counts; "
                             "use Measure.of")

    @staticmethod
    def _ratio(numerator: int, denominator: int,
               target: float | None) -> tuple[float | None, bool | None]:
        if denominator == 0:
            return None, None
        value = numerator / denominator
        if target is None:
            return value, None
        # Exact comparison: 3/5 against 0.6 must be "met", whatever the float rounding.
        return value, Fraction(numerator, denominator) >= Fraction(repr(float(target)))

    @classmethod
    def of(cls, name: str, numerator: int, denominator: int,
           target: float | None = None) -> Measure:
        """The measure *numerator* / *denominator* against *target*: ``value`` is None when the
        denominator is 0, ``met`` None without a target or data, else compared exactly (3/5 meets
        0.6)."""
        value, met = cls._ratio(numerator, denominator, target)
        return cls(name, numerator, denominator, value, target, met)

    @property
    def has_data(self) -> bool:
        """Whether there is anything to measure (a non-zero denominator)."""
        return self.value is not None

    @property
    def label(self) -> str:
        """A short English label (``K2 bodies using signatures regularly``)."""
        return _LABELS.get(self.name, self.name)

    def shown(self, digits: int = 1) -> int | None:
        """The figure as shown, in units of ``10**-digits`` % (None without data): the nearest
        tenth, but never across the target against the verdict (:mod:`exchange.metrics.rounding`)."""
        if self.denominator == 0:
            return None
        return shown_units(self.numerator, self.denominator, target=self.target, met=self.met,
                           digits=digits)

    def percent(self, digits: int = 1) -> str:
        """``62.5 %`` or ``no data``, by the one rounding rule: a missed target is never shown
        as reached, a met one never below it."""
        units = self.shown(digits)
        return "no data" if units is None else units_text(units, digits)

    def points_from_target(self) -> int | None:
        """Shown figure minus target, in tenths of a point (None without data or target)."""
        units = self.shown()
        if units is None or self.target is None:
            return None
        return units - target_units(self.target)

    def summary(self) -> str:
        """One line: ``K1 62.5 % (5 of 8), target 60 %: met``."""
        head = f"{self.name.upper()} {self.percent()}"
        if self.value is not None:
            head += f" ({self.numerator} of {self.denominator})"
        if self.target is not None:
            verdict = {True: "met", False: "missed", None: "no data"}[self.met]
            head += f", target {self.target * 100:g} %: {verdict}"
        return head

    def to_dict(self) -> dict[str, Any]:
        """The measure as JSON-able data: numerator, denominator, value (a fraction, not a
        percentage), target, met."""
        return {"numerator": self.numerator, "denominator": self.denominator,
                "value": self.value, "target": self.target, "met": self.met}


@dataclass(frozen=True, slots=True)
class ChannelCounts:
    """How many register entries went by each channel."""

    signed_valid: int = 0
    signed_invalid: int = 0
    unsigned: int = 0
    paper: int = 0

    @classmethod
    def _from(cls, counter: Counter) -> ChannelCounts:
        slot = CHANNEL_SLOT
        return cls(*(counter[slot[c]] for c in (Channel.SIGNED_VALID, Channel.SIGNED_INVALID,
                                                 Channel.UNSIGNED, Channel.PAPER)))

    @property
    def total(self) -> int:
        """Every register row counted, whatever its channel."""
        return self.signed_valid + self.signed_invalid + self.unsigned + self.paper

    def to_dict(self) -> dict[str, int]:
        """The counts by channel, as the API and the CSV name them."""
        return {"signed_valid": self.signed_valid, "signed_invalid": self.signed_invalid,
                "unsigned": self.unsigned, "paper": self.paper}


class Direction(StrEnum):
    """Which way a document went, by the kinds of its sender and recipient."""

    CENTRAL_TO_PROVINCIAL = "central-to-provincial"
    PROVINCIAL_TO_CENTRAL = "provincial-to-central"
    CENTRAL_TO_CENTRAL = "central-to-central"
    PROVINCIAL_TO_PROVINCIAL = "provincial-to-provincial"

    @classmethod
    def of(cls, sender: BodyKind, recipient: BodyKind) -> Direction:
        """The direction from a *sender* of one kind to a *recipient* of another (e.g.
        ``central-to-provincial``)."""
        return cls(f"{sender.value}-to-{recipient.value}")

    @property
    def label(self) -> str:
        """The direction for people: ``central → provincial``."""
        return self.value.replace("-to-", " → ")


class Breakdown(StrEnum):
    """The ways a report can be broken down (``--by``)."""

    BODY = "body"
    DIRECTION = "direction"
    MONTH = "month"

    @classmethod
    def parse(cls, text: str | Breakdown | None) -> Breakdown | None:
        """``None``/``""`` for no breakdown; raises InputError naming a bad value."""
        if text is None or text == "":
            return None
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            raise InputError(f"unknown breakdown {text!r}; one of body, direction, month") from None


class Unit(StrEnum):
    """What K1 counts (``--unit``): a register row (document × recipient, the default) or a
    document, once, electronic and signed only if it reached every recipient so."""

    ROW = "row"
    DOCUMENT = "document"

    @classmethod
    def parse(cls, text: str | Unit | None) -> Unit:
        """``None``/``""`` for rows; raises InputError naming a bad value."""
        if text is None or text == "":
            return cls.ROW
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            raise InputError(f"unknown unit {text!r}; one of row, document") from None


class UseStatus(StrEnum):
    """A body's use of digital signatures in the period (the K2 breakdown)."""

    REGULAR = "regular"  # meets the regular-use rule
    OCCASIONAL = "occasional"  # signed some documents, too few weeks
    NO_SIGNATURES = "no_signatures"  # sent documents, none with a valid signature
    NO_TRAFFIC = "no_traffic"  # sent nothing at all in the period


@dataclass(frozen=True, slots=True)
class SignatureUse:
    """One body against the regular-use rule: ``weeks`` is active weeks / weeks of the period,
    its target the rule's minimum share (``met`` is the verdict)."""

    body_id: str
    status: UseStatus
    weeks: Measure
    signed_documents: int  # distinct documents sent with a valid signature
    receipts: int  # signed receipts returned (counted only if the rule says so)

    @property
    def regular(self) -> bool:
        """Whether the body uses signatures regularly (K2's numerator counts it)."""
        return self.status is UseStatus.REGULAR

    def to_dict(self) -> dict[str, Any]:
        """The body's K2 standing as JSON-able data: status, active weeks of how many, signed
        documents, receipts."""
        return {"status": self.status.value, "active_weeks": self.weeks.numerator,
                "weeks": self.weeks.denominator, "signed_documents": self.signed_documents,
                "receipts": self.receipts, "regular": self.regular}


@dataclass(frozen=True, slots=True)
class BodyMeasures:
    """One body: K1 for what it sent and what it received, its K2 status, its K3."""

    body: Body
    sent: Measure
    sent_verified: Measure
    received: Measure
    received_verified: Measure
    use: SignatureUse
    incoming: Measure
    sent_channels: ChannelCounts

    @property
    def volume(self) -> int:
        """Register entries the body sent."""
        return self.sent.denominator

    @property
    def gap(self) -> float | None:
        """How far K1 of what it sent is below target (negative: above), None without data."""
        if self.sent.value is None or self.sent.target is None:
            return None
        return self.sent.target - self.sent.value

    def to_dict(self) -> dict[str, Any]:
        """One body's row of the breakdown as JSON-able data: who it is and its K1 (sent, received,
        verified), K2 and K3."""
        return {"body": self.body.id, "name_vi": self.body.name_vi, "name_en": self.body.name_en,
                "kind": self.body.kind.value, "k1_sent": self.sent.to_dict(),
                "k1_sent_verified": self.sent_verified.to_dict(),
                "k1_received": self.received.to_dict(),
                "k1_received_verified": self.received_verified.to_dict(),
                "k2": self.use.to_dict(), "k3": self.incoming.to_dict(),
                "channels_sent": self.sent_channels.to_dict()}


def furthest_behind(rows: Iterable[BodyMeasures], *,
                    limit: int | None = None) -> list[BodyMeasures]:
    """Bodies ranked from furthest behind: largest K1 gap to target first (on what each body
    sent), then the larger volume sent (more documents affected), then body id.

    Bodies that sent nothing in the period have no K1 and come last (see ``no_traffic``).
    """
    def key(row: BodyMeasures) -> tuple[int, float, int, str]:
        gap = row.gap
        return (gap is None, -(gap or 0.0), -row.volume, row.body.id)

    ranked = sorted(rows, key=key)
    return ranked if limit is None else ranked[:limit]


@dataclass(frozen=True, slots=True)
class DirectionMeasures:
    """K1 for the documents sent in one direction between kinds of body, with its counts by channel."""

    direction: Direction
    k1: Measure
    k1_verified: Measure
    channels: ChannelCounts

    def to_dict(self) -> dict[str, Any]:
        """The direction's measures as JSON-able data."""
        return {"direction": self.direction.value, "k1": self.k1.to_dict(),
                "k1_verified": self.k1_verified.to_dict(), "channels": self.channels.to_dict()}


@dataclass(frozen=True, slots=True)
class MonthMeasures:
    """One calendar month of the period (clipped to it): the trend."""

    period: Period
    k1: Measure
    k1_verified: Measure
    k2: Measure
    k3: Measure
    channels: ChannelCounts

    def to_dict(self) -> dict[str, Any]:
        """The month's K1–K3 and channel counts as JSON-able data."""
        return {"month": self.period.label, "k1": self.k1.to_dict(),
                "k1_verified": self.k1_verified.to_dict(), "k2": self.k2.to_dict(),
                "k3": self.k3.to_dict(), "channels": self.channels.to_dict()}


@dataclass(frozen=True)
class MeasuresReport:
    """K1–K3 for one period under one target profile, with every breakdown.

    All breakdowns are computed (they come from the same pass); ``by`` names the one the
    caller asked for, which :meth:`to_dict` and the renderers show.
    """

    period: Period
    profile: TargetProfile
    k1: Measure
    k1_verified: Measure
    k2: Measure
    k3: Measure
    channels: ChannelCounts
    bodies: tuple[BodyMeasures, ...]
    directions: tuple[DirectionMeasures, ...]
    months: tuple[MonthMeasures, ...]
    excluded_entries: int = 0  # register rows not between two distinct configured bodies
    excluded_incoming: int = 0  # incoming rows for a body not configured
    by: Breakdown | None = None
    k2_reach: K2Reach | None = None  # the rule's weeks against the register's (why K2 is low)
    unit: Unit = Unit.ROW  # what K1 (overall, per body sent, per month) counts

    @property
    def headline(self) -> tuple[Measure, Measure, Measure]:
        """K1, K2 and K3: the three measures the six-monthly report leads with."""
        return self.k1, self.k2, self.k3

    def measures(self) -> tuple[Measure, ...]:
        """K1, K1 verified, K2, K3 in display order."""
        return self.k1, self.k1_verified, self.k2, self.k3

    def ranked_bodies(self, limit: int | None = None) -> list[BodyMeasures]:
        """Bodies from furthest behind on K1 (see :func:`furthest_behind`)."""
        return furthest_behind(self.bodies, limit=limit)

    def no_traffic(self) -> list[BodyMeasures]:
        """The bodies with no register row in the period (K2 cannot judge them)."""
        return [b for b in self.bodies if b.use.status is UseStatus.NO_TRAFFIC]

    def breakdown(self) -> list[dict[str, Any]]:
        """The rows of the requested breakdown as dicts (bodies ranked furthest behind first)."""
        if self.by is Breakdown.BODY:
            return [{"rank": rank, **row.to_dict()}
                    for rank, row in enumerate(self.ranked_bodies(), 1)]
        if self.by is Breakdown.DIRECTION:
            return [row.to_dict() for row in self.directions]
        if self.by is Breakdown.MONTH:
            return [row.to_dict() for row in self.months]
        return []

    def summary(self) -> str:
        """One line: ``2015: K1 62.5 % (5 of 8), target 60 %: met; K2 …; K3 …``."""
        return f"{self.period.label}: " + "; ".join(m.summary() for m in self.headline)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"k1": {"numerator", "denominator", "value", "target", "met"}, ...}``."""
        data: dict[str, Any] = {
            "period": self.period.to_dict(),
            "profile": self.profile.to_dict(),
            "k1": self.k1.to_dict(),
            "k1_verified": self.k1_verified.to_dict(),
            "k2": self.k2.to_dict(),
            "k3": self.k3.to_dict(),
            "channels": self.channels.to_dict(),
            "excluded": {"entries": self.excluded_entries, "incoming": self.excluded_incoming},
            "by": self.by.value if self.by else None,
            "unit": self.unit.value,
        }
        if self.k2_reach is not None:
            data["k2_reach"] = self.k2_reach.to_dict()
        if self.by:
            data["breakdown"] = self.breakdown()
        return data


# --- the public functions ----------------------------------------------------------------


def k1(entries: Iterable[RegisterEntry], period: Period, *, bodies: BodyRegistry | None = None,
       target: float | None = None, verified: bool = False) -> Measure:
    """K1 over *entries* sent in *period*: signed_valid and delivered / all channels.

    With *bodies*, only entries between two distinct bodies of the registry count; with
    ``verified=True`` the numerator also needs the recipient's own verification.
    """
    tally = Tally(period, _kinds(bodies) if bodies is not None else None)
    tally.add_entries(entries)
    return _k1(tally.total, target, verified=verified)


def k2(entries: Iterable[RegisterEntry], bodies: BodyRegistry, period: Period,
       rule: RegularUseRule | None = None, *, target: float | None = None) -> Measure:
    """K2: regular users of digital signatures (see :class:`RegularUseRule`) / all *bodies*.

    No data (``None``) if the register holds no entry at all for the period.
    """
    rule = rule or RegularUseRule()
    tally = _tally(bodies, period, rule)
    tally.add_entries(entries)
    uses = _signature_uses(tally, bodies, rule)
    return _k2(uses, tally, target)


def k3(incoming: Iterable[IncomingEntry], period: Period, *, bodies: BodyRegistry | None = None,
       target: float | None = None) -> Measure:
    """K3 over outside documents received in *period*: scanned and entered / received."""
    tally = Tally(period, _kinds(bodies) if bodies is not None else None)
    tally.add_incoming(incoming)
    return Measure.of("k3", tally.incoming[1], tally.incoming[0], target)


def signature_use(entries: Iterable[RegisterEntry], bodies: BodyRegistry, period: Period,
                  rule: RegularUseRule | None = None) -> dict[str, SignatureUse]:
    """Each body's use of digital signatures in *period*, by body id (K2's breakdown)."""
    rule = rule or RegularUseRule()
    tally = _tally(bodies, period, rule)
    tally.add_entries(entries)
    return _signature_uses(tally, bodies, rule)


def compute(entries: Iterable[RegisterEntry], incoming: Iterable[IncomingEntry],
            bodies: BodyRegistry, period: Period, profile: TargetProfile,
            by: Breakdown | str | None = None, *, unit: Unit | str | None = None) -> MeasuresReport:
    """K1–K3 for *period* against *profile*, with per-body, per-direction and per-month rows.

    ``unit="document"`` counts K1 (overall, per body sent, per month) once per document,
    electronic and signed only if it reached every recipient so; K1 received, K2 and K3 are
    the same either way. Reads *entries* and *incoming* once each (they may be generators).
    Raises InputError for an unknown *by* or *unit*, and for K1 by direction per document (a
    document may go to both kinds of body).
    """
    breakdown = Breakdown.parse(by)
    counted = Unit.parse(unit)
    if counted is Unit.DOCUMENT and breakdown is Breakdown.DIRECTION:
        raise InputError("K1 by direction counts register rows: a document may go to central and "
                         "provincial bodies at once (leave out --unit document, or choose another --by)")
    rule = profile.regular_use
    tally = _tally(bodies, period, rule, by_document=counted is Unit.DOCUMENT)
    tally.add_entries(entries)
    tally.add_incoming(incoming)
    if counted is Unit.DOCUMENT:
        k1_total, k1_sent, k1_months = tally.document_counters()
    else:
        k1_total, k1_sent, k1_months = tally.total, tally.sent, tally.months

    uses = _signature_uses(tally, bodies, rule)
    empty = new_counter()
    rows = []
    for body in bodies:
        sent = k1_sent.get(body.id, empty)
        received = tally.received.get(body.id, empty)
        scanned = tally.incoming_by_body.get(body.id, [0, 0])
        rows.append(BodyMeasures(
            body=body,
            sent=_k1(sent, profile.k1),
            sent_verified=_k1(sent, profile.k1, verified=True),
            received=_k1(received, profile.k1),
            received_verified=_k1(received, profile.k1, verified=True),
            use=uses[body.id],
            incoming=Measure.of("k3", scanned[1], scanned[0], profile.k3),
            sent_channels=ChannelCounts._from(sent),
        ))

    by_direction = {Direction.of(*pair): counter for pair, counter in tally.pairs.items()}
    directions = []
    for direction in Direction:
        counter = by_direction.get(direction, empty)
        directions.append(DirectionMeasures(direction, _k1(counter, profile.k1),
                                            _k1(counter, profile.k1, verified=True),
                                            ChannelCounts._from(counter)))

    months = []
    for month in period.months():
        key = (month.start.year, month.start.month)
        counter = k1_months.get(key, empty)
        weeks = {_iso(w) for w in month.weeks()}
        regular = sum(
            1 for body in bodies
            if _is_regular(tally.active_weeks(body.id, weeks, key), len(weeks), rule))
        scanned = tally.incoming_by_month.get(key, [0, 0])
        months.append(MonthMeasures(
            period=month,
            k1=_k1(counter, profile.k1),
            k1_verified=_k1(counter, profile.k1, verified=True),
            # K2 per month: the rule applied to that month's weeks; no data without traffic.
            k2=Measure.of("k2", regular, len(bodies) if tally.months.get(key, empty)[ENTRIES] else 0,
                          profile.k2),
            k3=Measure.of("k3", scanned[1], scanned[0], profile.k3),
            channels=ChannelCounts._from(counter),
        ))

    return MeasuresReport(
        period=period,
        profile=profile,
        k1=_k1(k1_total, profile.k1),
        k1_verified=_k1(k1_total, profile.k1, verified=True),
        k2=_k2(uses, tally, profile.k2),
        k3=Measure.of("k3", tally.incoming[1], tally.incoming[0], profile.k3),
        channels=ChannelCounts._from(k1_total),
        bodies=tuple(rows),
        directions=tuple(directions),
        months=tuple(months),
        excluded_entries=tally.excluded,
        excluded_incoming=tally.excluded_incoming,
        by=breakdown,
        unit=counted,
        k2_reach=K2Reach.of(period, rule, first=tally.first_sent, last=tally.last_sent,
                            best=max((use.weeks.numerator for use in uses.values()), default=0)),
    )


# --- internals ---------------------------------------------------------------------------


def _kinds(bodies: BodyRegistry) -> dict[str, BodyKind]:
    return {body.id: body.kind for body in bodies}


def _tally(bodies: BodyRegistry, period: Period, rule: RegularUseRule, *, by_document: bool = False) -> Tally:
    return Tally(period, _kinds(bodies), min_weekly_documents=rule.min_weekly_documents,
                 count_receipts=rule.count_receipts, by_document=by_document)


def _iso(week: Period) -> tuple[int, int]:
    iso = week.start.isocalendar()
    return iso[0], iso[1]


def _k1(counter: Counter, target: float | None, *, verified: bool = False) -> Measure:
    if verified:
        return Measure.of("k1_verified", counter[K1_VERIFIED], counter[ENTRIES], target)
    return Measure.of("k1", counter[K1], counter[ENTRIES], target)


def _is_regular(active: int, weeks: int, rule: RegularUseRule) -> bool:
    # Exactly the minimum share is enough: 2 active weeks of 4 meets 0.5.
    return weeks > 0 and Fraction(active, weeks) >= Fraction(repr(float(rule.min_week_share)))


def _signature_uses(tally: Tally, bodies: BodyRegistry,
                    rule: RegularUseRule) -> dict[str, SignatureUse]:
    weeks = {_iso(w) for w in tally.period.weeks()}
    uses = {}
    for body in bodies:
        active = tally.active_weeks(body.id, weeks)
        signed = len(tally.signed_documents.get(body.id, ()))
        receipts = tally.receipts.get(body.id, 0)
        sent_any = body.id in tally.sent
        if _is_regular(active, len(weeks), rule):
            status = UseStatus.REGULAR
        elif not sent_any and not receipts:
            status = UseStatus.NO_TRAFFIC
        elif signed or receipts:
            status = UseStatus.OCCASIONAL
        else:
            status = UseStatus.NO_SIGNATURES
        uses[body.id] = SignatureUse(
            body_id=body.id, status=status,
            weeks=Measure.of("k2_weeks", active, len(weeks), rule.min_week_share),
            signed_documents=signed, receipts=receipts)
    return uses


def _k2(uses: dict[str, SignatureUse], tally: Tally, target: float | None) -> Measure:
    # A period in which the register holds nothing at all was not observed: "no data",
    # not "0 % of bodies".
    observed = tally.total[ENTRIES] > 0 or bool(tally.receipts)
    regular = sum(1 for use in uses.values() if use.regular) if observed else 0
    return Measure.of("k2", regular, len(uses) if observed else 0, target)
