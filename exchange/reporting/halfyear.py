"""The programme's six-monthly report (Decision 260-QĐ/TW, section E.2), as Markdown or HTML.

The Central Party Office reports every six months to the Standing Secretariat on how the
programme is going. :class:`HalfYearReport` gathers what that report says about document
exchange: K1–K3 against the targets, the trend since the previous half-year and by month,
the bodies furthest behind, and the digital-signature certificates revoked, expired or about
to expire. The caller computes the two :class:`MeasuresReport` objects and passes the
certificates it got from the PKI; this module only arranges and words them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from exchange.errors import InputError
from exchange.metrics import BodyMeasures, Measure, MeasuresReport, Period
from exchange.metrics.periods import as_utc
from exchange.metrics.rounding import points_text
from exchange.pki.history import Revocation
from exchange.reporting.addressees import SIX_MONTHLY, Addressing
from exchange.reporting.adjustments import Proposal, named, propose
from exchange.reporting.chart import render_png
from exchange.reporting.verdict import count_text, percent, points, shortfall, target_text, verdict

_TEMPLATES = Path(__file__).parent / "templates"
_HALF = re.compile(r"^(\d{4})H([12])$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_ORDINAL = {"1": "first", "2": "second", "3": "third", "4": "fourth"}


def period_words(period: Period) -> str:
    """``the first half of 2015``, ``the year 2015``, ``June 2015``, ``the period 15 Jan 2015 –
    10 Mar 2015``."""
    label = period.label
    if m := _HALF.match(label):
        return f"the {_ORDINAL[m[2]]} half of {m[1]}"
    if m := _QUARTER.match(label):
        return f"the {_ORDINAL[m[2]]} quarter of {m[1]}"
    if re.fullmatch(r"\d{4}", label):
        return f"the year {label}"
    if re.fullmatch(r"\d{4}-\d{2}", label):
        return period.start.strftime("%B %Y")
    return f"the period {period.start.date():%d %b %Y} – {period.last_day:%d %b %Y}"


@dataclass(frozen=True, slots=True)
class CertificateNotice:
    """A body's signing certificate that needs attention: revoked, expired or expiring."""

    body_id: str
    body_name: str
    state: str  # "revoked", "expired" or "expiring"
    not_after: datetime
    days_left: int  # negative once expired

    @property
    def when(self) -> str:
        """``in 45 days``, ``11 days ago`` (for the expiry date), or ``–`` when revoked."""
        if self.state == "revoked":
            return "–"
        if self.days_left >= 0:
            return f"in {self.days_left} day{'' if self.days_left == 1 else 's'}"
        return f"{-self.days_left} day{'' if self.days_left == -1 else 's'} ago"

    @classmethod
    def select(cls, certificates: Iterable[tuple[str, str, datetime]], *, at: datetime,
               within: timedelta, names: dict[str, str]) -> tuple[CertificateNotice, ...]:
        """From ``(body_id, status, not_after)`` triples as the PKI lists them, those revoked,
        expired at *at*, or expiring within *within* of it: revoked first, then by date."""
        notices = []
        for item in certificates:
            try:
                body_id, status, not_after = item
            except (TypeError, ValueError):
                raise InputError(f"certificate entry {item!r} must be "
                                 "(body_id, status, not_after)") from None
            if not isinstance(not_after, datetime):
                raise InputError(f"certificate of {body_id!r}: not_after must be a datetime")
            not_after = as_utc(not_after)
            days_left = (not_after - at).days
            if "revoked" in str(status).lower():
                state = "revoked"
            elif not_after <= at:
                state = "expired"
            elif not_after <= at + within:
                state = "expiring"
            else:
                continue
            notices.append(cls(body_id, names.get(body_id, body_id), state, not_after, days_left))
        order = {"revoked": 0, "expired": 1, "expiring": 2}
        return tuple(sorted(notices, key=lambda n: (order[n.state], n.not_after, n.body_id)))


@dataclass(frozen=True, slots=True)
class Trend:
    """One measure now and in the previous period."""

    current: Measure
    previous: Measure | None

    @property
    def delta(self) -> int | None:
        """Shown figure now minus shown figure then, in tenths of a point (None if either has
        no data): the difference a reader gets by subtracting the printed figures."""
        if self.previous is None:
            return None
        now, then = self.current.shown(), self.previous.shown()
        return None if now is None or then is None else now - then

    @property
    def words(self) -> str:
        """``rose 8.1 points``, ``fell 2.5 points``, ``was unchanged`` or ``cannot be compared``."""
        delta = self.delta
        if delta is None:
            return "cannot be compared"
        if delta == 0:
            return "was unchanged"
        return f"{'rose' if delta > 0 else 'fell'} {points_text(abs(delta))[1:-4]} points"

    @property
    def arrow(self) -> str:
        """▲, ▼ or = for a rise, fall or no change since the previous period; empty without one."""
        delta = self.delta
        if delta is None:
            return ""
        return "▲" if delta > 0 else "▼" if delta < 0 else "="


@dataclass(frozen=True)
class HalfYearReport:
    """Everything the six-monthly report shows; render with :meth:`to_markdown` or
    :meth:`to_html`."""

    current: MeasuresReport
    previous: MeasuresReport | None
    behind: tuple[BodyMeasures, ...]
    no_traffic: tuple[BodyMeasures, ...]
    certificates: tuple[CertificateNotice, ...]
    trends: tuple[Trend, ...]
    at: datetime
    expiring_within: timedelta
    prepared_at: datetime | None = None
    certificates_known: bool = True  # False: the PKI was not at hand, status not checked
    revocations: tuple[Revocation, ...] = ()  # the CA's revocations dated in the period
    proposals: tuple[Proposal, ...] = ()
    addressing: Addressing = SIX_MONTHLY

    @classmethod
    def build(cls, current: MeasuresReport, *, previous: MeasuresReport | None = None,
              certificates: Iterable[tuple[str, str, datetime]] | None = (),
              at: datetime | None = None, expiring_within: timedelta = timedelta(days=90),
              top: int = 10, prepared_at: datetime | None = None,
              revocations: Iterable[Revocation] | None = ()) -> HalfYearReport:
        """Assemble the report for *current*, compared with *previous* (normally the half-year
        before). Certificates are judged at *at* (default: the end of the period);
        *prepared_at*, if given, is printed as the date the report was prepared.
        ``certificates=None`` means their status is not known (the report says so).
        *revocations* are the CA's revocations (:func:`exchange.pki.history.revocations`); those
        dated in the period are listed, whether or not the body has a new certificate since.

        Bodies furthest behind are those that missed the K1 target on what they sent, at most
        *top*, ranked as by :func:`exchange.metrics.furthest_behind`.
        """
        at = as_utc(at) if at is not None else current.period.end
        names = {row.body.id: row.body.name_vi for row in current.bodies}
        period = current.period
        revoked = tuple(r for r in revocations or () if period.start <= r.revoked_at < period.end)
        behind = tuple(row for row in current.ranked_bodies() if row.sent.met is False)[:top]
        trends = tuple(
            Trend(getattr(current, name), getattr(previous, name) if previous else None)
            for name in ("k1", "k1_verified", "k2", "k3"))
        return cls(
            current=current, previous=previous, behind=behind,
            no_traffic=tuple(current.no_traffic()),
            certificates=CertificateNotice.select(certificates or (), at=at,
                                                  within=expiring_within, names=names),
            trends=trends, at=at, expiring_within=expiring_within,
            prepared_at=as_utc(prepared_at) if prepared_at is not None else None,
            certificates_known=certificates is not None,
            revocations=revoked,
            proposals=propose(current, revocations=revoked),
        )

    # --- words ------------------------------------------------------------------------------

    @property
    def title(self) -> str:
        """The report's English title."""
        return "Six-monthly report on electronic document exchange between Party bodies"

    @property
    def title_vi(self) -> str:
        """The report's Vietnamese title (Báo cáo định kỳ 6 tháng …)."""
        return "Báo cáo định kỳ 6 tháng về trao đổi văn bản điện tử giữa các cơ quan đảng"

    @property
    def period_text(self) -> str:
        """The half-year in words, as the report's heading says it."""
        return period_words(self.current.period)

    def summary(self) -> list[str]:
        """The summary in plain words, one paragraph per string."""
        r = self.current
        met = sum(1 for m in r.headline if m.met)
        with_data = sum(1 for m in r.headline if m.has_data)
        words = ("none", "one", "two", "all three")
        if with_data == 0:
            lead = (f"In {self.period_text}, the register holds no documents, so none of the "
                    f"three measures can be reported.")
        elif met == 3:
            lead = (f"In {self.period_text}, all three targets of the programme "
                    f"(profile {r.profile.name}) were met.")
        else:
            lead = (f"In {self.period_text}, {words[met]} of the three targets of the programme "
                    f"(profile {r.profile.name}) {'was' if met == 1 else 'were'} met.")
            missing = [m.name.upper() for m in r.headline if not m.has_data]
            if missing:
                lead += f" {_join(missing)} had no data for the period."
        paragraphs = [lead, self._k1_words(), self._k2_words(), self._k3_words()]
        if self.previous is not None:
            prior = period_words(self.previous.period)
            moves = "; ".join(f"{t.current.name.upper()} {t.words}" for t in self.trends
                              if t.current.name != "k1_verified")
            paragraphs.append(f"Compared with {prior}: {moves}.")
        if self.revocations:
            who = _join(sorted({self.body_name(r.body_id) for r in self.revocations}))
            paragraphs.append(f"The CA revoked {len(self.revocations)} signing certificate"
                              f"{'' if len(self.revocations) == 1 else 's'} in the period ({who}); "
                              f"see section 6.")
        if self.certificates:
            counts = {s: sum(1 for c in self.certificates if c.state == s)
                      for s in ("revoked", "expired", "expiring")}
            listed = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
            paragraphs.append(f"Signing certificates needing attention: {listed} "
                              f"(see section 6).")
        elif not self.certificates_known:
            paragraphs.append("The status of the signing certificates was not available for "
                              "this report (see section 6).")
        return paragraphs

    def body_name(self, body_id: str | None) -> str:
        """A body's Vietnamese name (its id if the register does not know it)."""
        if body_id is None:
            return "an unknown body"
        return next((row.body.name_vi for row in self.current.bodies if row.body.id == body_id), body_id)

    def proposal_bodies(self, proposal: Proposal) -> str:
        """The bodies *proposal* concerns, named in Vietnamese, as one phrase."""
        return named(proposal, {row.body.id: row.body.name_vi for row in self.current.bodies})

    def _k1_words(self) -> str:
        k1, c = self.current.k1, self.current.channels
        if k1.value is None:
            return "K1: no document exchanged between the bodies was registered in the period."
        text = (f"K1: {k1.numerator:,} of the {k1.denominator:,} documents exchanged between the "
                f"bodies ({k1.percent()}) were sent and received electronically with a valid "
                f"digital signature, against a target of {target_text(k1.target)} "
                f"({verdict(k1).word}).")
        rest = [(c.signed_invalid, "refused at the hub because the signature was not valid"),
                (c.unsigned, "sent electronically without a signature"),
                (c.paper, "sent on paper")]
        told = [f"{n:,} {'was' if n == 1 else 'were'} {why}" for n, why in rest if n]
        if told:
            text += " Of the others, " + _join(told) + "."
        strict = self.current.k1_verified
        if strict.value is not None and strict.numerator < k1.numerator:
            text += (f" Recipients confirmed the signature themselves on {strict.percent()} of all "
                     f"documents.")
        return text

    def _k2_words(self) -> str:
        k2 = self.current.k2
        if k2.value is None:
            return "K2: no traffic was registered, so regular use of signatures cannot be judged."
        text = (f"K2: {k2.numerator} of the {k2.denominator} bodies ({k2.percent()}) used digital "
                f"signatures regularly, against a target of {target_text(k2.target)} "
                f"({verdict(k2).word}). The rule: {self.current.profile.regular_use.describe()}.")
        reach = self.current.k2_reach
        if reach is not None and k2.met is False and reach.explanation():
            text += f" {reach.explanation()}"
        silent = len(self.no_traffic)
        if silent:
            text += (f" {silent} {'body' if silent == 1 else 'bodies'} sent no document at all in "
                     f"the period.")
        return text

    def _k3_words(self) -> str:
        k3 = self.current.k3
        if k3.value is None:
            return "K3: no document from outside agencies was registered in the period."
        return (f"K3: {k3.numerator:,} of the {k3.denominator:,} documents received from outside "
                f"agencies ({k3.percent()}) were scanned and entered into the operations "
                f"information system, against a target of {target_text(k3.target)} "
                f"({verdict(k3).word}).")

    # --- rendering --------------------------------------------------------------------------

    def context(self) -> dict[str, Any]:
        """What the templates see."""
        return {"r": self, "m": self.current, "prev": self.previous, "as_of": self.at,
                "prepared": self.prepared_at, "docs": "docs/measures.md"}

    def to_markdown(self) -> str:
        """The report as Markdown (GitHub tables)."""
        template = _environment(html=False).get_template("halfyear.md.j2")
        return str(template.render(self.context()))

    def to_html(self, *, chart: bool = True, print_ready: bool = False) -> str:
        """The report as one self-contained HTML page (inline CSS; the chart as a data URI).
        *print_ready*: laid out for A4 paper (a browser's "Save as PDF" gives the PDF)."""
        image = None
        if chart and self.current.months:
            image = "data:image/png;base64," + base64.b64encode(render_png(self.current)).decode()
        template = _environment(html=True).get_template("halfyear.html.j2")
        return str(template.render(self.context(), chart=image, print_ready=print_ready))


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _long_date(moment: datetime, time: bool = False) -> str:
    """``1 July 2015`` (or ``1 July 2015, 09:30 UTC``)."""
    text = f"{moment.day} {moment:%B %Y}"
    return f"{text}, {moment:%H:%M} UTC" if time else text


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _environment(*, html: bool) -> Environment:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=html, trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters.update(percent=percent, points=points, target=target_text, count=count_text,
                       verdict=verdict, md=_md_cell, shortfall=shortfall,
                       num=lambda n: f"{n:,}", longdate=_long_date)
    return env
