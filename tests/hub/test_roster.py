"""The register's own list of bodies, as of each period (exchange.hub.roster)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from exchange.domain.bodies import Body, BodyKind, BodyRegistry
from exchange.hub import roster
from exchange.hub.store.db import make_engine
from exchange.metrics import Period


def _bodies(*items: tuple[str, BodyKind]) -> BodyRegistry:
    return BodyRegistry([Body(i, kind, f"Tên {i}", f"Name {i}") for i, kind in items])


C, P = BodyKind.CENTRAL, BodyKind.PROVINCIAL


def test_the_first_list_is_served_from_the_start_and_changes_are_dated(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    first = _bodies(("central-office", C), ("ha-noi", P), ("nghe-an", P))
    # a hub started in 2026 on a register of 2015 rows: its first list covers 2015 too
    assert roster.record(engine, first, at=datetime(2026, 1, 5, tzinfo=UTC)).added == (
        "central-office", "ha-noi", "nghe-an")
    assert roster.record(engine, first, at=datetime(2026, 1, 6, tzinfo=UTC)) == roster.RosterChange()
    served = roster.served_in(engine, Period.parse("2015"))
    assert served is not None and served.ids() == ["central-office", "ha-noi", "nghe-an"]

    # 1 July 2026: Nghệ An leaves the list, Đà Nẵng joins, Hà Nội is (wrongly) made central
    later = _bodies(("central-office", C), ("ha-noi", C), ("da-nang", P))
    change = roster.record(engine, later, at=datetime(2026, 7, 1, tzinfo=UTC))
    assert (change.added, change.removed, change.changed) == (("da-nang",), ("nghe-an",), ("ha-noi",))

    h1 = roster.served_in(engine, Period.parse("2026H1"))
    assert h1 is not None and sorted(h1.ids()) == ["central-office", "ha-noi", "nghe-an"]
    assert h1.get("ha-noi").kind is P
    h2 = roster.served_in(engine, Period.parse("2026H2"))
    assert h2 is not None and sorted(h2.ids()) == ["central-office", "da-nang", "ha-noi"]
    assert h2.get("ha-noi").kind is C
    year = roster.served_in(engine, Period.parse("2026"))  # served at some moment of the year
    assert year is not None and len(year) == 4 and year.get("ha-noi").kind is C  # as last recorded
    engine.dispose()


def test_a_database_without_a_list_says_so(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    assert roster.served_in(engine, Period.parse("2015")) is None
    engine.dispose()
