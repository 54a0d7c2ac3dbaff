"""A body's yearly report (Decision 260-QĐ/TW, section E.5), as Markdown, HTML or print-ready HTML.

The provincial and city Party committees and the Party bodies under the Centre report every
year to the Secretariat, through the Central Party Office. :class:`BodyYearReport` gathers what
such a report says about the body's document exchange: K1 over what it sent and what it
received (and the recipients' own verification), its use of digital signatures (the K2 rule,
week by week), its K3, the documents the hub refused and why, its certificates and their
revocations, and what the figures ask of it. The caller computes the reports (the whole
register's, and the body's own rows by month) and passes the PKI's history; this module only
arranges and words them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from exchange.errors import InputError
from exchange.metrics import BodyMeasures, MeasuresReport
from exchange.metrics.periods import as_utc
from exchange.pki.history import IssuedCertificate, Revocation
from exchange.reporting.addressees import Addressing, yearly
from exchange.reporting.adjustments import Proposal, propose
from exchange.reporting.halfyear import _environment, period_words


@dataclass(frozen=True, slots=True)
class Refusal:
    """A document the body sent that the hub refused: when, which, and the hub's reason."""

    document_id: str
    sent_at: datetime
    number: str
    subject: str
    reason: str  # the validation's sub-indication (REVOKED, HASH_FAILURE…) or the refusal code
    recipients: int


@dataclass(frozen=True)
class BodyYearReport:
    """Everything a body's yearly report shows; render with :meth:`to_markdown` / :meth:`to_html`."""

    row: BodyMeasures  # the body in the whole register's report (K1 sent/received, K2 use, K3)
    whole: MeasuresReport  # the year over every body: K2 and the ranking come from here
    sent_by_month: MeasuresReport  # the body's own sent rows and incoming documents, by month
    received_by_month: MeasuresReport
    refusals: tuple[Refusal, ...] | None  # None: not available from this source
    certificates: tuple[IssuedCertificate, ...] | None  # None: the PKI was not at hand
    revocations: tuple[Revocation, ...]
    proposals: tuple[Proposal, ...]
    rank: int | None  # among bodies ranked from furthest behind on K1 sent
    ranked: int
    addressing: Addressing
    prepared_at: datetime | None = None

    @classmethod
    def build(cls, body_id: str, whole: MeasuresReport, *, sent_by_month: MeasuresReport,
              received_by_month: MeasuresReport, refusals: Iterable[Refusal] | None = None,
              certificates: Iterable[IssuedCertificate] | None = None,
              revocations: Iterable[Revocation] = (), prepared_at: datetime | None = None) -> BodyYearReport:
        """The report of *body_id* for ``whole.period``. Raises InputError if the register
        did not serve that body in the period."""
        row = next((r for r in whole.bodies if r.body.id == body_id), None)
        if row is None:
            raise InputError(f"the register served no body {body_id!r} in {whole.period.label} "
                             f"({len(whole.bodies)} bodies: see `exchange report --by body`)")
        period = whole.period
        mine = tuple(r for r in revocations if r.body_id == body_id and period.start <= r.revoked_at < period.end)
        ranked = [r for r in whole.ranked_bodies() if r.gap is not None]
        rank = next((i for i, r in enumerate(ranked, 1) if r.body.id == body_id), None)
        proposals = tuple(p for p in propose(whole, revocations=mine) if body_id in p.bodies)
        return cls(
            row=row, whole=whole, sent_by_month=sent_by_month, received_by_month=received_by_month,
            refusals=tuple(sorted(refusals, key=lambda r: (r.sent_at, r.document_id))) if refusals is not None
            else None,
            certificates=tuple(c for c in certificates if c.body_id == body_id) if certificates is not None else None,
            revocations=mine, proposals=proposals, rank=rank, ranked=len(ranked),
            addressing=yearly(row.body.name_vi, row.body.name_en),
            prepared_at=as_utc(prepared_at) if prepared_at is not None else None)

    # --- words ------------------------------------------------------------------------------

    @property
    def body(self) -> object:
        """The body the report is about."""
        return self.row.body

    @property
    def title(self) -> str:
        """The report's English title, naming the body."""
        return f"Yearly report on electronic document exchange: {self.row.body.name_en or self.row.body.name_vi}"

    @property
    def title_vi(self) -> str:
        """The report's Vietnamese title, naming the body."""
        return f"Báo cáo hằng năm về trao đổi văn bản điện tử — {self.row.body.name_vi}"

    @property
    def period_text(self) -> str:
        """The year in words, as the report's heading says it."""
        return period_words(self.whole.period)

    def certificate_state(self, cert: IssuedCertificate) -> str:
        """``revoked on 20 May 2015``, ``valid``, ``expired`` — at the end of the year."""
        revoked = next((r for r in self.revocations if r.serial == cert.serial), None)
        if revoked is not None:
            return f"revoked {revoked.revoked_at:%d %b %Y} ({revoked.reason.value.replace('_', ' ')})"
        end = self.whole.period.end
        if cert.not_after <= end:
            return f"expired {cert.not_after:%d %b %Y}"
        if cert.not_before >= end:
            return "issued after the year"
        return "valid at the end of the year" if cert.current else "replaced"

    def summary(self) -> list[str]:
        """The summary in plain words, one paragraph per string."""
        r, year = self.row, self.period_text
        paragraphs = []
        if r.sent.has_data:
            c = r.sent_channels
            paragraphs.append(
                f"In {year}, {r.body.name_vi} sent {r.sent.denominator:,} documents to other bodies (one per "
                f"recipient); {r.sent.numerator:,} of them ({r.sent.percent()}) went electronically with a valid "
                f"digital signature and were delivered, against the programme's target of "
                f"{(r.sent.target or 0) * 100:g} % (K1, {'met' if r.sent.met else 'missed'}). Of the others, "
                f"{c.signed_invalid:,} were refused at the hub, {c.unsigned:,} went unsigned and {c.paper:,} "
                f"on paper.")
        else:
            paragraphs.append(f"In {year}, {r.body.name_vi} registered no document sent to another body.")
        if r.received.has_data:
            paragraphs.append(
                f"It received {r.received.denominator:,} documents from other bodies, {r.received.numerator:,} "
                f"({r.received.percent()}) electronic and validly signed; it confirmed the signature itself on "
                f"{r.received_verified.numerator:,} of them ({r.received_verified.percent()}).")
        use = r.use
        paragraphs.append(
            f"Use of digital signatures (K2): {use.status.value.replace('_', ' ')} — it signed in "
            f"{use.weeks.numerator} of the {use.weeks.denominator} weeks of the year (the rule: "
            f"{self.whole.profile.regular_use.describe()}). {use.signed_documents:,} distinct documents carried "
            f"a valid signature.")
        if r.incoming.has_data:
            paragraphs.append(
                f"Documents from outside agencies (K3): {r.incoming.numerator:,} of {r.incoming.denominator:,} "
                f"({r.incoming.percent()}) were scanned and entered into the operations system "
                f"({'met' if r.incoming.met else 'missed'}).")
        else:
            paragraphs.append("Documents from outside agencies (K3): none registered in the year.")
        if self.rank is not None:
            paragraphs.append(f"Among the {self.ranked} bodies that sent documents, ranked from the furthest "
                              f"behind on K1 (1 = furthest behind), it is number {self.rank}.")
        return paragraphs

    # --- rendering --------------------------------------------------------------------------

    def context(self) -> dict[str, object]:
        """What the templates see: the report, the body's row, the whole exchange's measures, when
        it was prepared."""
        return {"r": self, "b": self.row, "m": self.whole, "prepared": self.prepared_at,
                "docs": "docs/measures.md"}

    def to_markdown(self) -> str:
        """The report as Markdown (``exchange report body``)."""
        return str(_environment(html=False).get_template("body_year.md.j2").render(self.context()))

    def to_html(self, *, print_ready: bool = False) -> str:
        """One self-contained HTML page; *print_ready* lays it out for A4 ("Save as PDF")."""
        template = _environment(html=True).get_template("body_year.html.j2")
        return str(template.render(self.context(), print_ready=print_ready))
