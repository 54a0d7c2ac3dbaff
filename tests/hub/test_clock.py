"""A hub on a simulated clock (HubSettings.clock): every request's time, the register's rows and
token lifetimes follow it; the nodes sign on the same clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from exchange.clock import SimulatedClock
from exchange.hub import HubSettings

from hub.inprocess import document_bytes, metadata, running


def test_the_hub_lives_on_its_clock(hub_settings: HubSettings, pki, credentials) -> None:  # type: ignore[no-untyped-def]
    # within the CRL's currency (7 days from the session PKI's): a hub past it refuses revocation-data-stale
    start = (pki.created + timedelta(days=2)).replace(microsecond=0)
    # an hour of the calendar per real second, started a real second ago
    clock = SimulatedClock(start=start, rate=3600.0).started(at=datetime.now(UTC).timestamp() - 1)
    settings = replace(hub_settings, clock=clock)
    for hub in running(settings, pki.store, credentials=credentials):
        health = hub.http().get("/api/health").json()
        moment = datetime.fromisoformat(health["time"])
        assert start + timedelta(hours=1) <= moment < start + timedelta(days=2)

        sender = hub.client("ha-noi", clock=clock.now)
        sent = sender.send(document_bytes("on the calendar"), metadata=metadata("central-office"))
        stored = sent.created_at
        assert start + timedelta(hours=1) <= stored < start + timedelta(days=2)
        rows = list(hub.service.reader.register_entries())
        assert [r.sent_at.date() for r in rows] == [stored.date()]

        # a token lasts 15 real minutes: 15 × 3600 clock minutes on this clock
        assert hub.tokens.token_ttl == timedelta(minutes=15) * 3600
