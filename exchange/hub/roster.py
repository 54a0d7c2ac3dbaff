"""The bodies a hub served, as of each period: the register's own body list.

K2's denominator ("all bodies") and every per-body table need the list of bodies the register
was kept for. A bodies file read at report time can be another list (all 80 bodies where a
simulation ran 6), so the hub records its list in its database when it starts
(:func:`record`), dated by its clock, and every report on that database reads it back for
the period it covers (:func:`served_in`).

The first list a database gets is served "from the start" (its rows may be older than the
hub's clock: a simulation writes 2015 rows today). A later change of the bodies file closes
the rows of bodies removed or changed and opens rows for bodies added or changed, at the
moment the hub starts with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from exchange.domain.bodies import Body, BodyKind, BodyRegistry
from exchange.hub.store import repository as repo
from exchange.hub.store.models import SERVED_FROM_START, ServedBody, as_stored
from exchange.hub.store.writes import ServedBodyCreate
from exchange.metrics import Period


@dataclass(frozen=True)
class RosterChange:
    """What :func:`record` changed: body ids added, removed, changed (kind or names)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def _row(body: Body, since: datetime) -> ServedBodyCreate:
    """The row that records *body* as served from *since*."""
    return ServedBodyCreate(body_id=body.id, kind=body.kind, name_vi=body.name_vi, name_en=body.name_en,
                            population_millions=body.population_millions, since=since)


def _same(row: ServedBody, body: Body) -> bool:
    return (row.kind, row.name_vi, row.name_en, row.population_millions) == (
        body.kind.value, body.name_vi, body.name_en, body.population_millions)


def record(engine: Engine, bodies: BodyRegistry, *, at: datetime) -> RosterChange:
    """Record that the hub serves *bodies* from *at* on (from the start on an empty database).
    Idempotent: the same list again changes nothing. Safe when several workers start at once
    (a concurrent identical insert loses on the unique constraint and is read back)."""
    moment = as_stored(at)
    for attempt in range(3):
        with Session(engine) as session:
            current = {row.body_id: row for row in repo.served_bodies(session, current=True)}
            since = moment if current or repo.served_bodies(session) else SERVED_FROM_START
            added, changed, rows = [], [], []
            for body in bodies:
                row = current.pop(body.id, None)
                if row is not None and _same(row, body):
                    continue
                if row is not None and row.id is not None:
                    repo.close_served_body(session, row_id=row.id, at=moment)
                    changed.append(body.id)
                else:
                    added.append(body.id)
                rows.append(_row(body, since))
            for row in current.values():  # served before, not any more
                if row.id is not None:
                    repo.close_served_body(session, row_id=row.id, at=moment)
            change = RosterChange(tuple(added), tuple(current), tuple(changed))
            if not change:
                return change
            try:
                repo.add_served_bodies(session, rows=rows)
                session.commit()
                return change
            except IntegrityError:
                session.rollback()
                if attempt == 2:
                    raise
    return RosterChange()  # pragma: no cover - the loop returns or raises


def served_in(engine: Engine, period: Period | None = None) -> BodyRegistry | None:
    """The bodies the hub served at some moment of *period* (all it ever served without one),
    each as last recorded within it; None if the database has no list (made before #11)."""
    with Session(engine) as session:
        rows = repo.served_bodies(session, start=period.start if period else None,
                                  end=period.end if period else None)
        any_row = bool(rows) or bool(repo.served_bodies(session))
    if not any_row:
        return None
    latest: dict[str, ServedBody] = {}
    first: dict[str, int] = {}
    for row in rows:  # oldest first: a later row of the same body replaces an earlier one
        latest[row.body_id] = row
        first[row.body_id] = min(first.get(row.body_id, row.id or 0), row.id or 0)
    order = sorted(latest.values(), key=lambda r: first[r.body_id])  # the bodies file's order
    source = "the register's list of bodies" + (f" served in {period.label}" if period else "")
    return BodyRegistry([Body(id=r.body_id, kind=BodyKind(r.kind), name_vi=r.name_vi, name_en=r.name_en,
                              population_millions=r.population_millions) for r in order], source=source)
