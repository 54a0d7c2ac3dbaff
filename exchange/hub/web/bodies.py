"""The bodies pages: one row per body for the period, and one page per body."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from markupsafe import Markup

from exchange.domain.bodies import Body, BodyKind
from exchange.hub.measures import body_reports, measures_report, profile_named
from exchange.hub.service import ExchangeService
from exchange.hub.store.models import DocumentPublic, EdxmlImportPublic
from exchange.hub.web.cards import MeasureCard
from exchange.hub.web.charts import Series, line_chart
from exchange.hub.web.period import PeriodPicker
from exchange.metrics import BodyMeasures, UseStatus
from exchange.pki import KeyStore, certificate_status

USE_WORDS = {
    UseStatus.REGULAR: "regular",
    UseStatus.OCCASIONAL: "occasional",
    UseStatus.NO_SIGNATURES: "no valid signatures",
    UseStatus.NO_TRAFFIC: "sent nothing",
}
KIND_WORDS = {BodyKind.CENTRAL: "central", BodyKind.PROVINCIAL: "provincial"}
RECENT_LIMIT = 15


@dataclass(frozen=True)
class CertificateView:
    """A body's current signing certificate as the PKI and the hub's CRL see it at *at*."""

    status: str  # valid | revoked | expired | not_yet_valid | none
    serial: str
    not_before: datetime | None
    not_after: datetime | None
    days_left: int | None
    archived: int

    @classmethod
    def of(cls, store: KeyStore, crl: x509.CertificateRevocationList, body_id: str, *, at: datetime
           ) -> CertificateView:
        """The current signing certificate of *body_id* in *store*, checked against *crl* at *at*
        (``none`` when it has none)."""
        if not store.has_body(body_id):
            return cls("none", "", None, None, None, 0)
        cert = store.certificate(body_id)
        status = certificate_status(cert, crl, at=at).value
        left = (cert.not_valid_after_utc - at).days
        return cls(status, f"{cert.serial_number:x}", cert.not_valid_before_utc, cert.not_valid_after_utc,
                   left, len(list(store.archive_dir.glob(f"{body_id}-*.pem"))))

    @property
    def words(self) -> str:
        """The certificate's status in words (``not yet valid``, ``no certificate``, …)."""
        return {"valid": "valid", "revoked": "revoked", "expired": "expired",
                "not_yet_valid": "not yet valid", "none": "no certificate"}[self.status]

    @property
    def expiring(self) -> bool:
        """Valid, but for less than 60 more days."""
        return self.status == "valid" and self.days_left is not None and self.days_left < 60


@dataclass(frozen=True)
class BodyRow:
    """One body's row of the bodies page for the period."""

    body: Body
    kind: str
    sent: int
    received: int
    signed: MeasureCard  # K1 over what the body sent
    use: str
    use_key: str
    acknowledged: int
    delivered: int
    certificate: CertificateView

    @property
    def receipts_share(self) -> float:
        """The share of delivered documents the body acknowledged, or -1 when none was delivered
        (sorted last)."""
        return self.acknowledged / self.delivered if self.delivered else -1.0


def _row(row: BodyMeasures, receipts: dict[str, tuple[int, int]], cert: CertificateView) -> BodyRow:
    delivered, acknowledged = receipts.get(row.body.id, (0, 0))
    return BodyRow(row.body, KIND_WORDS[row.body.kind], row.sent.denominator, row.received.denominator,
                   MeasureCard.of(row.sent, "k1_sent"), USE_WORDS[row.use.status], row.use.status.value,
                   acknowledged, delivered, cert)


@dataclass(frozen=True)
class BodiesPage:
    """The bodies page for one period and kind (central, provincial or all)."""

    picker: PeriodPicker
    kind: str
    rows: list[BodyRow]
    counts: dict[str, int]

    @classmethod
    def build(cls, service: ExchangeService, *, period_text: str | None, kind: str | None, at: datetime,
              profile_name: str = "2015") -> BodiesPage:
        """The page for the period in the query and *kind* (anything else: all), under profile
        *profile_name*."""
        chosen = kind if kind in ("central", "provincial") else "all"
        picker = PeriodPicker.from_query(service, period_text, at=at, path="/bodies",
                                         keep={"kind": chosen if chosen != "all" else ""})
        report = measures_report(service, picker.period, profile=profile_named(profile_name))
        receipts = service.receipt_tallies(start=picker.period.start, end=picker.period.end)
        store, crl = service.trust.store, service.trust.crl()
        rows = [_row(row, receipts, CertificateView.of(store, crl, row.body.id, at=at))
                for row in report.bodies if chosen == "all" or row.body.kind.value == chosen]
        served = [row.body for row in report.bodies]  # the register's bodies in the period
        counts = {"all": len(served), "central": sum(1 for b in served if b.kind is BodyKind.CENTRAL),
                  "provincial": sum(1 for b in served if b.kind is BodyKind.PROVINCIAL)}
        return cls(picker, chosen, rows, counts)


@dataclass(frozen=True)
class BodyPage:
    """One body's page: its certificate, measures, regular-use standing and rank, and the chart
    of its months."""

    picker: PeriodPicker
    body: Body
    kind: str
    certificate: CertificateView
    cards: list[MeasureCard]
    use: str
    use_key: str
    active_weeks: int
    weeks: int
    rank: int | None
    ranked: int
    chart: Markup
    acknowledged: int
    delivered: int
    recent: list[DocumentPublic]
    recent_total: int
    edxml: list[EdxmlImportPublic] = field(default_factory=list)  # packages from outside agencies

    @classmethod
    def build(cls, service: ExchangeService, body_id: str, *, period_text: str | None, at: datetime,
              profile_name: str = "2015") -> BodyPage:
        """The page of *body_id* for the period in the query; UnknownBodyError for a body not at
        this hub."""
        body = service.bodies.get(body_id)
        picker = PeriodPicker.from_query(service, period_text, at=at, path=f"/bodies/{body.id}")
        profile = profile_named(profile_name)
        period = picker.period
        report = measures_report(service, period, profile=profile)
        ranked = [row for row in report.ranked_bodies() if row.gap is not None]
        rank = next((i for i, row in enumerate(ranked, 1) if row.body.id == body.id), None)
        mine = next(row for row in report.bodies if row.body.id == body.id)
        sent, received = body_reports(service, body.id, period, profile=profile)
        months = [m.period.label for m in sent.months]
        chart = line_chart(months, [
            Series("k1", "K1 of what it sent", tuple(m.k1 for m in sent.months)),
            Series("k1r", "K1 of what it received", tuple(m.k1 for m in received.months)),
            Series("k3", "K3 outside documents", tuple(m.k3 for m in sent.months)),
        ], target=profile.k1, title=f"{body.name_vi}: measures per month, {period.label}")
        delivered, acknowledged = service.receipt_tallies(start=period.start, end=period.end).get(body.id, (0, 0))
        recent, total = service.find_documents(body=body.id, limit=RECENT_LIMIT)
        return cls(
            picker=picker, body=body, kind=KIND_WORDS[body.kind],
            certificate=CertificateView.of(service.trust.store, service.trust.crl(), body.id, at=at),
            cards=[MeasureCard.of(mine.sent, "k1_sent"), MeasureCard.of(mine.received, "k1_received"),
                   MeasureCard.of(mine.incoming, "k3")],
            use=USE_WORDS[mine.use.status], use_key=mine.use.status.value,
            active_weeks=mine.use.weeks.numerator, weeks=mine.use.weeks.denominator,
            rank=rank, ranked=len(ranked), chart=chart, acknowledged=acknowledged, delivered=delivered,
            recent=recent, recent_total=total, edxml=service.edxml_imports(body=body.id)[:20],
        )
