"""Where ``exchange report`` reads the register: a running hub over HTTP, or the hub's database.

Both sources give the same plain rows (:class:`RegisterEntry`, :class:`IncomingEntry`) and the
bodies the hub counts, so the command computes K1–K3 with :func:`exchange.metrics.compute`
either way, exactly as ``GET /api/measures`` does on the hub. Neither source writes anything:
a missing SQLite file is reported, never created.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from exchange.domain.bodies import BodyRegistry
from exchange.domain.register import IncomingEntry, RegisterEntry
from exchange.errors import (
    AuthError,
    ExchangeError,
    NotAuthenticatedError,
    NotFoundError,
    TransportError,
)
from exchange.metrics import Period

if TYPE_CHECKING:
    import ssl

    import httpx

    from exchange.hub.register_reader import RegisterReader
    from exchange.reporting.body_year import Refusal


@dataclass(frozen=True)
class Rows:
    """Register rows and incoming documents read from a source."""

    entries: list[RegisterEntry]
    incoming: list[IncomingEntry]


class RegisterSource(Protocol):
    """Where ``exchange report`` reads the register from: a running hub's API
    (:class:`HubSource`) or its database (:class:`DatabaseSource`)."""

    description: str  # for messages: "the hub at URL", "the database sqlite:///…"
    notes: list[str]  # things the reader must be told (an explicit bodies file that disagrees)

    def bodies(self, period: Period | None = None) -> BodyRegistry:
        """The bodies the register was kept for in *period*: K2's denominator."""
        ...

    def rows(self, *, start: datetime | None, end: datetime) -> Rows:
        """Entries sent in [start, end) (from the beginning if *start* is None), incoming
        documents received in [start, end)."""
        ...

    def default_period(self, *, at: datetime) -> Period: ...

    def refusals(self, body_id: str, period: Period, entries: list[RegisterEntry]) -> list[Refusal] | None:
        """The documents *body_id* sent in *period* that the hub refused, with the reason; None
        when the source cannot say (*entries*: the register rows read, for recipient counts)."""
        ...

    def close(self) -> None: ...


# -- a running hub ---------------------------------------------------------------------------


class HubSource:
    """The read endpoints of a running hub (``/api/bodies``, ``/api/register``,
    ``/api/measures``) with a person's *token* (``exchange users token NAME``): an auditor or
    operator sees the whole register, a clerk its body's. *transport* as for any httpx client.
    Read once, not retried: a report against a hub that is down says so at once."""

    def __init__(self, url: str, *, token: str | None = None, transport: httpx.BaseTransport | None = None,
                 timeout: float = 60.0, verify: ssl.SSLContext | bool = True) -> None:
        from exchange.node.client import HubReader, RetryPolicy
        from exchange.node.failover import hub_urls

        self.url = ", ".join(hub_urls(url))  # several: the next is used when one is down
        self.description = f"the hub at {self.url}"
        self.notes: list[str] = []
        self._hub = HubReader(hub_urls(url), token=token, transport=transport, timeout=timeout, verify=verify,
                              retry=RetryPolicy(attempts=1, backoff=0.0))

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._hub.close()

    @contextmanager
    def _asking(self) -> Iterator[None]:
        """A refused login becomes a hint to give a person's token."""
        try:
            yield
        except AuthError as exc:
            raise NotAuthenticatedError(f"{exc.message} (give --token or EXCHANGE_TOKEN: exchange users token NAME)",
                                        code=exc.code) from None

    def bodies(self, period: Period | None = None) -> BodyRegistry:
        """The bodies the hub kept its register for in *period* (``GET /api/bodies``)."""
        with self._asking():
            listed = self._hub.bodies(period=period.label if period else None)
        try:
            return BodyRegistry([b.to_body() for b in listed], source=f"{self.url}/api/bodies")
        except ValueError as exc:
            raise TransportError(f"the hub at {self.url} sent an unreadable body list: {exc}") from None

    def rows(self, *, start: datetime | None, end: datetime) -> Rows:
        """The register's rows and incoming documents in [*start*, *end*), from
        ``GET /api/register``."""
        with self._asking():
            register = self._hub.register(start=start, end=end)
        try:
            return Rows([row.to_entry() for row in register.entries], [row.to_entry() for row in register.incoming])
        except ValueError as exc:
            raise TransportError(f"the hub at {self.url} sent an unreadable register row: {exc}") from None

    def default_period(self, *, at: datetime) -> Period:
        """The period the hub's own pages show by default (judged by the hub's clock)."""
        with self._asking():
            return Period.parse(self._hub.measures_period())

    def refusals(self, body_id: str, period: Period, entries: list[RegisterEntry]) -> list[Refusal] | None:
        """Always None: the hub's public API gives the register's rows, not its reasons for
        refusing."""
        return None  # the public API gives the register's rows, not the hub's reasons


# -- the hub's database ----------------------------------------------------------------------


class DatabaseSource:
    """The hub's database read directly (SQLite file or PostgreSQL), with the bodies the
    register records it served (``exchange.hub.roster``). A database made before the register
    kept its list falls back on *fallback_bodies* (the hub's own file). An explicit
    *bodies_file* is used as asked, and a note says so when it is not the register's list."""

    def __init__(self, url: str, *, bodies_file: Path | None = None,
                 fallback_bodies: Path | None = None) -> None:
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            path = Path(url.removeprefix("sqlite:///"))
            if not path.is_file():
                raise NotFoundError(f"no hub database at {path} (start a hub with `exchange hub "
                                    "serve`, or give --db URL or --hub URL)")
        self.url = url
        self.description = f"the database {_redacted(url)}"
        self.notes: list[str] = []
        self._bodies_file = bodies_file
        self._fallback = fallback_bodies
        self._reader: RegisterReader | None = None

    def close(self) -> None:
        """Dispose of the database engine, if one was made."""
        if self._reader is not None:
            self._reader.close()

    @contextmanager
    def _reading(self) -> Iterator[RegisterReader]:
        """The register reader of this database; a database error becomes one TransportError."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            if self._reader is None:
                from exchange.hub.register_reader import RegisterReader
                from exchange.hub.store.db import make_engine

                self._reader = RegisterReader(engine=make_engine(self.url), bodies=BodyRegistry([]))
            yield self._reader
        except ExchangeError:
            raise
        except SQLAlchemyError as exc:
            first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise TransportError(f"cannot read {self.description}: "
                                 f"{first[0] if first else type(exc).__name__}") from None

    def bodies(self, period: Period | None = None) -> BodyRegistry:
        """The bodies the register was kept for in *period* (K2's denominator): those the
        database recorded, unless a bodies file was given (a note then says where they differ);
        the bodies file when nothing is recorded."""
        from exchange.config import default_bodies_file

        with self._reading() as reader:
            recorded = reader.recorded_bodies(period)
        if self._bodies_file is None:
            return recorded or BodyRegistry.from_toml(self._fallback or default_bodies_file())
        given = BodyRegistry.from_toml(self._bodies_file)
        if recorded is not None:
            note = roster_difference(given, recorded, period)
            if note and note not in self.notes:
                self.notes.append(note)
        return given

    def rows(self, *, start: datetime | None, end: datetime) -> Rows:
        """The register's rows and incoming documents in [*start*, *end*), read from the
        database."""
        with self._reading() as reader:
            return Rows(list(reader.register_entries(start=start, end=end)),
                        list(reader.incoming_entries(start=start, end=end)))

    def refusals(self, body_id: str, period: Period, entries: list[RegisterEntry]) -> list[Refusal] | None:
        """The documents *body_id* sent in *period* that the hub refused, with the reason and how
        many recipients each had."""
        from exchange.reporting.body_year import Refusal

        recipients: dict[str, int] = {}
        for entry in entries:
            recipients[entry.document_id] = recipients.get(entry.document_id, 0) + 1
        with self._reading() as reader:
            return [Refusal(r.document.id, _aware_time(r.document.created_at), r.document.number,
                            r.document.subject, r.reason, recipients.get(r.document.id, 0))
                    for r in reader.refused(sender=body_id, start=period.start, end=period.end)]

    def default_period(self, *, at: datetime) -> Period:
        """As the hub's pages choose it: see :func:`exchange.hub.measures.default_period`."""
        from exchange.hub.measures import period_for_span

        with self._reading() as reader:
            span = reader.register_span()
        return period_for_span(span, at=at)


def roster_difference(given: BodyRegistry, recorded: BodyRegistry, period: Period | None) -> str:
    """A sentence saying how *given* (a bodies file) differs from the register's list, or ""."""
    mine = {b.id: b.kind for b in given}
    theirs = {b.id: b.kind for b in recorded}
    if mine == theirs:
        return ""
    extra = sorted(set(mine) - set(theirs))
    missing = sorted(set(theirs) - set(mine))
    kinds = sorted(i for i in set(mine) & set(theirs) if mine[i] is not theirs[i])
    parts = [f"{len(extra)} the register did not serve" if extra else "",
             f"{len(missing)} it served are missing ({', '.join(missing[:3])}{'…' if len(missing) > 3 else ''})"
             if missing else "",
             f"{len(kinds)} of another kind ({', '.join(kinds[:3])})" if kinds else ""]
    when = f" in {period.label}" if period else ""
    return (f"the bodies file {given.source} ({len(mine)} bodies) is not the list the register served{when} "
            f"({len(theirs)} bodies): {'; '.join(p for p in parts if p)}. K2 and the per-body figures count "
            f"the file's bodies as asked; leave out --bodies (and EXCHANGE_BODIES) to count the register's.")


def _aware_time(moment: datetime) -> datetime:
    from exchange.metrics.periods import as_utc

    return as_utc(moment)


def _redacted(url: str) -> str:
    """*url* without its password, for messages."""
    head, sep, tail = url.partition("://")
    if "@" not in tail:
        return url
    credentials, _, host = tail.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{head}{sep}{user}:***@{host}" if ":" in credentials else url
