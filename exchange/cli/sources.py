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
from typing import TYPE_CHECKING, Any, Protocol

from exchange.domain.bodies import Body, BodyKind, BodyRegistry
from exchange.domain.documents import Channel, ReceiptStatus
from exchange.domain.indication import Indication
from exchange.domain.register import IncomingEntry, RegisterEntry
from exchange.errors import (
    ExchangeError,
    InputError,
    NotAuthenticatedError,
    NotFoundError,
    TransportError,
)
from exchange.metrics import Period

if TYPE_CHECKING:
    import ssl

    import httpx
    from sqlalchemy.engine import Engine

    from exchange.reporting.body_year import Refusal


@dataclass(frozen=True)
class Rows:
    """Register rows and incoming documents read from a source."""

    entries: list[RegisterEntry]
    incoming: list[IncomingEntry]


class RegisterSource(Protocol):
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
    operator sees the whole register, a clerk its body's. *transport* as for any httpx client."""

    def __init__(self, url: str, *, token: str | None = None, transport: httpx.BaseTransport | None = None,
                 timeout: float = 60.0, verify: ssl.SSLContext | bool = True) -> None:
        from exchange.node.failover import hub_http, hub_urls

        self.url = ", ".join(hub_urls(url))  # several: the next is used when one is down
        self.description = f"the hub at {self.url}"
        self.notes: list[str] = []
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = hub_http(self.url, transport=transport, timeout=timeout, verify=verify, headers=headers)

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, **params: Any) -> Any:
        import httpx

        try:
            response = self._http.get(path, params={k: v for k, v in params.items() if v is not None})
        except httpx.TransportError as exc:
            raise TransportError(f"cannot reach the hub at {self.url}: {exc or type(exc).__name__}") from None
        if response.status_code >= 400:
            try:
                message = response.json().get("message") or response.text[:200]
            except ValueError:
                message = response.text[:200] or response.reason_phrase
            if response.status_code in (401, 403):
                raise NotAuthenticatedError(f"the hub at {self.url} refused {path} ({response.status_code}): "
                                            f"{message} (give --token or EXCHANGE_TOKEN: exchange users token NAME)")
            kind = InputError if response.status_code in (400, 422) else TransportError
            raise kind(f"the hub at {self.url} answered {response.status_code} to {path}: {message}")
        try:
            return response.json()
        except ValueError:
            raise TransportError(f"the hub at {self.url} answered {path} with something that is not "
                                 "JSON (is this an exchange hub?)") from None

    def bodies(self, period: Period | None = None) -> BodyRegistry:
        try:
            return BodyRegistry([Body(id=b["id"], kind=BodyKind(b["kind"]), name_vi=b["name"],
                                      name_en=b.get("name_en", ""))
                                 for b in self._get("/api/bodies", period=period.label if period else None)],
                                source=f"{self.url}/api/bodies")
        except (KeyError, TypeError, ValueError) as exc:
            raise TransportError(f"the hub at {self.url} sent an unreadable body list: {exc}") from None

    def rows(self, *, start: datetime | None, end: datetime) -> Rows:
        data = self._get("/api/register", start=start.isoformat() if start else None,
                         end=end.isoformat())
        try:
            return Rows([_entry(row) for row in data["entries"]],
                        [_incoming(row) for row in data["incoming"]])
        except (KeyError, TypeError, ValueError) as exc:
            raise TransportError(f"the hub at {self.url} sent an unreadable register row: {exc}") from None

    def default_period(self, *, at: datetime) -> Period:
        """The period the hub's own pages show by default (judged by the hub's clock)."""
        return Period.parse(self._get("/api/measures")["period"]["label"])

    def refusals(self, body_id: str, period: Period, entries: list[RegisterEntry]) -> list[Refusal] | None:
        return None  # the public API gives the register's rows, not the hub's reasons


def _time(text: str) -> datetime:
    from exchange.metrics.periods import as_utc

    return as_utc(datetime.fromisoformat(text))


def _entry(row: dict[str, Any]) -> RegisterEntry:
    status = row.get("receipt_status")
    receipt_at = row.get("receipt_at")
    return RegisterEntry(
        document_id=str(row["document_id"]), sender=str(row["sender"]),
        recipient=str(row["recipient"]), channel=Channel(row["channel"]),
        sent_at=_time(row["sent_at"]), delivered=bool(row["delivered"]),
        verified_by_recipient=row.get("verified_by_recipient"),
        receipt_status=ReceiptStatus(status) if status else None,
        receipt_at=_time(receipt_at) if receipt_at else None,
    )


def _incoming(row: dict[str, Any]) -> IncomingEntry:
    return IncomingEntry(str(row["entry_id"]), str(row["body"]), str(row["from_agency"]),
                         _time(row["received_at"]), bool(row["scanned"]), bool(row["entered"]))


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
        self._engine: Engine | None = None

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Any]:
        from sqlalchemy.exc import SQLAlchemyError
        from sqlmodel import Session

        from exchange.hub.store.db import make_engine

        try:
            if self._engine is None:
                self._engine = make_engine(self.url)
            with Session(self._engine) as session:
                yield session
        except ExchangeError:
            raise
        except SQLAlchemyError as exc:
            first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise TransportError(f"cannot read {self.description}: "
                                 f"{first[0] if first else type(exc).__name__}") from None

    def bodies(self, period: Period | None = None) -> BodyRegistry:
        from exchange.config import default_bodies_file
        from exchange.hub import roster

        with self._session():
            assert self._engine is not None
            recorded = roster.served_in(self._engine, period)
        if self._bodies_file is None:
            return recorded or BodyRegistry.from_toml(self._fallback or default_bodies_file())
        given = BodyRegistry.from_toml(self._bodies_file)
        if recorded is not None:
            note = roster_difference(given, recorded, period)
            if note and note not in self.notes:
                self.notes.append(note)
        return given

    def rows(self, *, start: datetime | None, end: datetime) -> Rows:
        from exchange.hub.store import repository as repo

        with self._session() as session:
            entries = list(repo.register_entries(session, start=start, end=end))
            incoming = list(repo.incoming_entries(session, start=start, end=end))
        return Rows(entries, incoming)

    def refusals(self, body_id: str, period: Period, entries: list[RegisterEntry]) -> list[Refusal] | None:
        from exchange.hub.store import repository as repo
        from exchange.reporting.body_year import Refusal

        recipients: dict[str, int] = {}
        for entry in entries:
            recipients[entry.document_id] = recipients.get(entry.document_id, 0) + 1
        found, offset = [], 0
        with self._session() as session:
            while True:
                page, total = repo.search_documents(session, start=period.start, end=period.end, sender=body_id,
                                                    channel=Channel.SIGNED_INVALID, offset=offset,
                                                    limit=500)
                for doc in page:
                    # A valid signature refused for its signer was refused as signer-mismatch.
                    reason = doc.sub_indication or ("signer-mismatch" if doc.indication is Indication.TOTAL_PASSED
                                                    else doc.indication or "refused")
                    found.append(Refusal(doc.id, _aware_time(doc.created_at), doc.number, doc.subject, reason,
                                         recipients.get(doc.id, 0)))
                offset += len(page)
                if not page or offset >= total:
                    return found

    def default_period(self, *, at: datetime) -> Period:
        """As the hub's pages choose it: see :func:`exchange.hub.measures.default_period`."""
        from exchange.hub.measures import period_for_span
        from exchange.hub.store import repository as repo

        with self._session() as session:
            span = repo.register_span(session)
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
