"""Scenarios are files: which bodies, when, how much traffic, how adoption moves, what goes wrong.

A scenario is a TOML file (format: ``docs/scenarios.md``; examples: ``samples/scenarios/``).
:meth:`Scenario.from_toml` checks every field and raises :class:`ScenarioError` naming the
file and the field (``x.toml: adoption.central.signing.end: must be between 0 and 1``); a
constructed :class:`Scenario` is valid.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from exchange.config import default_bodies_file
from exchange.domain.bodies import Body, BodyKind, BodyRegistry
from exchange.domain.tomlfile import read_toml
from exchange.errors import ExchangeError, InputError
from exchange.metrics import Period, TargetProfile
from exchange.pki import KeyAlgorithm, RevocationReason
from exchange.simulate.adoption import PRACTICES, Adoption, BodyAdoption, Curve

#: a scenario longer than this is almost certainly a typo in a year
MAX_DAYS = 366 * 10
DEFAULT_AGENCIES = (
    "Văn phòng Chính phủ", "Bộ Nội vụ", "Bộ Tài chính", "Bộ Kế hoạch và Đầu tư",
    "Bộ Thông tin và Truyền thông", "Bộ Công an", "Ủy ban nhân dân tỉnh", "Sở Tư pháp",
)


class ScenarioError(InputError):
    """Raised when a scenario file cannot be read or has a bad field (the message names it)."""

    code = "bad-scenario"


class Fallback(StrEnum):
    """What a sender does while it cannot send electronically (hub outage, node offline)."""

    WAIT = "wait"  # send electronically once the window ends (the node retries)
    PAPER = "paper"  # send on paper instead


@dataclass(frozen=True, slots=True)
class Volume:
    """Documents per body per working day, scaled by kind and (illustrative) population."""

    documents_per_day: float
    central: float  # factor for central bodies
    small: float  # provinces under 1 M people
    medium: float  # 1 to 1.5 M (and provinces without a figure)
    large: float  # over 1.5 M

    def factor(self, body: Body) -> float:
        """The seed's budget rule applied to volumes: < 1 M ×small, 1–1.5 M ×medium, > 1.5 M ×large."""
        if body.kind is BodyKind.CENTRAL:
            return self.central
        people = body.population_millions
        if people is None or 1.0 <= people <= 1.5:
            return self.medium
        return self.small if people < 1.0 else self.large

    def rate(self, body: Body) -> float:
        """How many documents *body* sends per working day: the base volume times its factor."""
        return self.documents_per_day * self.factor(body)


@dataclass(frozen=True, slots=True)
class Recipients:
    """How many recipients a document has (counts and their weights) and how often a body of each
    kind writes to central bodies."""

    counts: tuple[int, ...]  # how many recipients a document may have
    weights: tuple[float, ...]  # ... and how likely each count is
    central_to_central: float  # share of a central body's documents sent to central bodies
    provincial_to_central: float  # share of a province's documents sent to central bodies


@dataclass(frozen=True, slots=True)
class Receipts:
    """What share of delivered electronic documents get a signed receipt, and how long after
    sending (drawn between the two delays)."""

    share: float  # of delivered electronic documents, acknowledged with a signed receipt
    min_delay: timedelta  # between sending and the recipient fetching and acknowledging
    max_delay: timedelta


@dataclass(frozen=True, slots=True)
class Incoming:
    """Documents arriving from outside agencies (paper or scanned): how many per body per working
    day, what share is entered, from which agencies."""

    per_day: float  # documents from outside agencies per body per working day
    entered: float  # share entered into the body's operations system
    agencies: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CertificateFault:
    """A body whose certificate expires, or is revoked, on a date (00:00 UTC), maybe renewed."""

    body: str
    on: date
    renewed: date | None = None
    reason: RevocationReason = RevocationReason.UNSPECIFIED

    @property
    def effective(self) -> datetime:
        """When the fault takes effect: 00:00 UTC of its day."""
        return midnight(self.on)


@dataclass(frozen=True, slots=True)
class Window:
    """A hub outage (``body`` None) or a node offline, over ``[start, end)``."""

    start: datetime
    end: datetime
    body: str | None = None
    fallback: Fallback = Fallback.WAIT

    def covers(self, moment: datetime) -> bool:
        """Whether *moment* falls in the window (start included, end excluded)."""
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class Faults:
    """What goes wrong in a scenario: a share of signed documents altered in transit,
    certificates that expire or are revoked, hub outages and nodes offline."""

    altered: float = 0.0  # share of signed documents altered in transit
    expired: tuple[CertificateFault, ...] = ()
    revoked: tuple[CertificateFault, ...] = ()
    hub_outages: tuple[Window, ...] = ()
    offline: tuple[Window, ...] = ()


@dataclass(frozen=True, eq=False)
class Scenario:
    """A validated scenario. ``registry`` holds the participating bodies only."""

    name: str
    description: str
    seed: int
    start: date
    end: date  # inclusive
    registry: BodyRegistry
    bodies_file: Path
    volume: Volume
    recipients: Recipients
    adoption: Mapping[str, BodyAdoption]
    receipts: Receipts
    incoming: Incoming
    faults: Faults
    targets: TargetProfile
    documents: tuple[Path, ...]
    algorithm: KeyAlgorithm = KeyAlgorithm.RSA2048
    holidays: frozenset[date] = field(default_factory=frozenset)
    source: str = "<scenario>"

    @classmethod
    def from_toml(cls, path: str | Path) -> Scenario:
        """Read and check a scenario file; raises ScenarioError naming the file and field."""
        path = Path(path)
        data = read_toml(path, what="scenario file", error=ScenarioError)
        return cls.from_dict(data, source=str(path), base_dir=path.parent)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<scenario>",
                  base_dir: Path | None = None) -> Scenario:
        """Check a scenario already parsed from TOML (relative paths resolve from *base_dir*)."""
        return _parse(data, source=source, base_dir=base_dir or Path.cwd())

    # -- views ----------------------------------------------------------------------------
    @property
    def period(self) -> Period:
        """The whole simulated period, for the measures."""
        return Period.between(self.start, self.end)

    @property
    def bodies(self) -> list[Body]:
        """The participating bodies, in the registry's order."""
        return list(self.registry)

    def days(self) -> Iterator[date]:
        """Every calendar day of the period, in order."""
        day = self.start
        while day <= self.end:
            yield day
            day += timedelta(days=1)

    def is_working_day(self, day: date) -> bool:
        """Whether *day* is a working day: Monday to Friday and not one of the scenario's
        holidays."""
        return day.weekday() < 5 and day not in self.holidays

    def with_seed(self, seed: int | None) -> Scenario:
        """The same scenario with another seed (None keeps the file's)."""
        return self if seed is None else replace(self, seed=_check_seed(seed, self.source))

    def restricted(self, body_ids: list[str]) -> Scenario:
        """The scenario for a subset of its bodies (faults of the others are dropped)."""
        keep = set(body_ids)
        bodies = [b for b in self.registry if b.id in keep]
        if len(bodies) < 2:
            raise ScenarioError(f"{self.source}: a scenario needs at least two bodies")
        faults = self.faults
        return replace(
            self,
            registry=BodyRegistry(bodies, source=self.registry.source),
            adoption={b.id: self.adoption[b.id] for b in bodies},
            faults=replace(
                faults,
                expired=tuple(f for f in faults.expired if f.body in keep),
                revoked=tuple(f for f in faults.revoked if f.body in keep),
                offline=tuple(w for w in faults.offline if w.body in keep),
            ),
        )


def midnight(day: date) -> datetime:
    """00:00 UTC of *day*."""
    return datetime.combine(day, time(0), tzinfo=UTC)


# -- parsing ------------------------------------------------------------------------------

_MISSING: Any = object()


class _Table:
    """One TOML table being read: each read is checked, and unread keys are reported."""

    def __init__(self, data: object, where: str, source: str) -> None:
        self.where, self.source = where, source
        if not isinstance(data, dict):
            raise self.error("", "must be a table")
        self.data: dict[str, Any] = data
        self.read: set[str] = set()

    def error(self, key: str, message: str) -> ScenarioError:
        name = ".".join(p for p in (self.where, key) if p)
        return ScenarioError(f"{self.source}: {name or '(top level)'}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        self.read.add(key)
        if key not in self.data:
            if default is _MISSING:
                raise self.error(key, "missing")
            return default
        return self.data[key]

    def number(self, key: str, default: Any = _MISSING, *, minimum: float = 0.0,
               maximum: float | None = None) -> float:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"must be a number, not {value!r}")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum:g} and {maximum:g}" if maximum is not None else f">= {minimum:g}"
            raise self.error(key, f"must be {bound}, not {value!r}")
        return float(value)

    def fraction(self, key: str, default: Any = _MISSING) -> float:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            hint = " (a fraction: 0.6 means 60 %)" if isinstance(value, int | float) and value > 1 else ""
            raise self.error(key, f"must be between 0 and 1, not {value!r}{hint}")
        return float(value)

    def text(self, key: str, default: Any = _MISSING) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {value!r}")
        return value.strip()

    def day(self, key: str, default: Any = _MISSING) -> date:
        value = self.raw(key, default)
        if isinstance(value, datetime) or not isinstance(value, date):
            raise self.error(key, f"must be a date (YYYY-MM-DD), not {value!r}")
        return value

    def moment(self, key: str) -> datetime:
        """A date (its 00:00 UTC) or a date-time (UTC if it has no offset)."""
        value = self.raw(key)
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if isinstance(value, date):
            return midnight(value)
        raise self.error(key, f"must be a date or a date-time (2015-04-06T08:00:00+07:00), not {value!r}")

    def table(self, key: str, *, required: bool = False) -> _Table | None:
        value = self.raw(key, _MISSING if required else None)
        return None if value is None else _Table(value, self.child(key), self.source)

    def tables(self, key: str) -> list[_Table]:
        value = self.raw(key, [])
        if not isinstance(value, list):
            raise self.error(key, "must be an array of tables ([[...]])")
        return [_Table(item, f"{self.child(key)}[{i}]", self.source) for i, item in enumerate(value, 1)]

    def child(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            known = ", ".join(sorted(self.read))
            raise self.error(unknown[0], f"unknown field (known here: {known})")


def _parse(data: dict[str, Any], *, source: str, base_dir: Path) -> Scenario:
    top = _Table(data, "", source)
    name = top.text("name")
    if not name:
        raise top.error("name", "must not be empty")
    description = top.text("description", "")
    seed = top.raw("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise top.error("seed", f"must be a whole number >= 0, not {seed!r}")

    period = top.table("period", required=True)
    assert period is not None
    start, end = period.day("start"), period.day("end")
    if end < start:
        raise period.error("end", f"{end} is before period.start {start}")
    if (end - start).days > MAX_DAYS:
        raise period.error("end", f"the period is longer than {MAX_DAYS} days")
    holidays_raw = period.raw("holidays", [])
    if not isinstance(holidays_raw, list) or not all(
            isinstance(d, date) and not isinstance(d, datetime) for d in holidays_raw):
        raise period.error("holidays", "must be a list of dates")
    period.finish()

    bodies_file = _path(top, "bodies_file", base_dir) if top.has("bodies_file") else default_bodies_file()
    try:
        everyone = BodyRegistry.from_toml(bodies_file)
    except ExchangeError as exc:
        raise top.error("bodies_file", exc.message) from None
    chosen = _select(top, "bodies", top.raw("bodies", "all"), everyone)
    if len(chosen) < 2:
        raise top.error("bodies", "select at least two bodies")
    registry = BodyRegistry([everyone.get(i) for i in chosen], source=everyone.source)

    volume = _volume(top.table("volume", required=True))  # type: ignore[arg-type]
    recipients = _recipients(top.table("recipients"), source)
    adoption = _adoption(top.table("adoption", required=True), registry, everyone, start, end)  # type: ignore[arg-type]
    receipts = _receipts(top.table("receipts"), source)
    incoming = _incoming(top.table("incoming"), source)
    faults = _faults(top.table("faults"), registry, start, end, source)

    targets_name = top.raw("targets", "2015")
    if not isinstance(targets_name, str):
        raise top.error("targets", f"must be a profile name (2015, 2020) or a TOML file, not {targets_name!r}")
    try:
        spec = targets_name if not targets_name.endswith(".toml") else str(base_dir / targets_name)
        targets = TargetProfile.load(spec)
    except InputError as exc:
        raise top.error("targets", exc.message) from None

    documents = _documents(top, base_dir)
    pki = top.table("pki")
    algorithm = KeyAlgorithm.RSA2048
    if pki is not None:
        choice = pki.text("algorithm", KeyAlgorithm.RSA2048.value)
        try:
            algorithm = KeyAlgorithm(choice)
        except ValueError:
            raise pki.error("algorithm", f"must be one of {', '.join(a.value for a in KeyAlgorithm)}") from None
        pki.finish()
    top.finish()
    return Scenario(
        name=name, description=description, seed=seed, start=start, end=end, registry=registry,
        bodies_file=bodies_file, volume=volume, recipients=recipients, adoption=adoption,
        receipts=receipts, incoming=incoming, faults=faults, targets=targets, documents=documents,
        algorithm=algorithm, holidays=frozenset(holidays_raw), source=source,
    )


def _check_seed(seed: int, source: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ScenarioError(f"{source}: seed: must be a whole number >= 0, not {seed!r}")
    return seed


def _path(table: _Table, key: str, base_dir: Path) -> Path:
    text = table.text(key)
    path = Path(text)
    return path if path.is_absolute() else base_dir / path


def _select(table: _Table, key: str, value: object, everyone: BodyRegistry) -> list[str]:
    """Body ids, in the bodies file's order, from "all", "central", "provincial" or ids."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise table.error(key, 'must be "all", "central", "provincial" or a list of those and body ids')
    wanted: set[str] = set()
    for item in items:
        if item == "all":
            wanted.update(everyone.ids())
        elif item in (BodyKind.CENTRAL.value, BodyKind.PROVINCIAL.value):
            wanted.update(b.id for b in everyone.of_kind(BodyKind(item)))
        elif item in everyone:
            wanted.add(item)
        else:
            raise table.error(key, f"unknown body id {item!r} (see {everyone.source})")
    return [i for i in everyone.ids() if i in wanted]


def _volume(table: _Table) -> Volume:
    population = table.table("population")
    factors = {"small": 0.7, "medium": 1.0, "large": 1.3}
    if population is not None:
        factors = {k: population.number(k, v, minimum=0.0, maximum=100.0) for k, v in factors.items()}
        population.finish()
    volume = Volume(
        documents_per_day=table.number("documents_per_day", minimum=0.0, maximum=1000.0),
        central=table.number("central_factor", 1.0, minimum=0.0, maximum=100.0),
        **factors,
    )
    table.finish()
    return volume


def _recipients(table: _Table | None, source: str) -> Recipients:
    if table is None:
        return Recipients((1, 2, 3), (0.6, 0.3, 0.1), 0.3, 0.85)
    counts_table = table.table("counts")
    counts: tuple[int, ...] = (1, 2, 3)
    weights: tuple[float, ...] = (0.6, 0.3, 0.1)
    if counts_table is not None:
        pairs = []
        for key in list(counts_table.data):
            if not key.isdigit() or int(key) < 1:
                raise counts_table.error(key, "keys are numbers of recipients (1, 2, 3, …)")
            pairs.append((int(key), counts_table.number(key, minimum=0.0)))
        if not pairs or sum(w for _, w in pairs) <= 0:
            raise table.error("counts", "give at least one count with a weight above 0")
        pairs.sort()
        counts, weights = tuple(c for c, _ in pairs), tuple(w for _, w in pairs)
    result = Recipients(counts, weights, table.fraction("central_to_central", 0.3),
                        table.fraction("provincial_to_central", 0.85))
    table.finish()
    return result


def _receipts(table: _Table | None, source: str) -> Receipts:
    if table is None:
        return Receipts(0.9, timedelta(hours=1), timedelta(hours=24))
    share = table.fraction("share", 0.9)
    delay = table.raw("delay_hours", [1, 24])
    if (not isinstance(delay, list) or len(delay) != 2
            or not all(isinstance(d, int | float) and not isinstance(d, bool) for d in delay)
            or not 0 <= delay[0] <= delay[1] <= 24 * 60):
        raise table.error("delay_hours", f"must be [min, max] hours with 0 <= min <= max <= 1440, not {delay!r}")
    table.finish()
    return Receipts(share, timedelta(hours=delay[0]), timedelta(hours=delay[1]))


def _incoming(table: _Table | None, source: str) -> Incoming:
    if table is None:
        return Incoming(0.0, 1.0, DEFAULT_AGENCIES)
    agencies = table.raw("agencies", list(DEFAULT_AGENCIES))
    if not isinstance(agencies, list) or not agencies or not all(isinstance(a, str) and a.strip() for a in agencies):
        raise table.error("agencies", "must be a non-empty list of agency names")
    result = Incoming(table.number("per_day", minimum=0.0, maximum=1000.0), table.fraction("entered", 1.0),
                      tuple(a.strip() for a in agencies))
    table.finish()
    return result


def _adoption(table: _Table, registry: BodyRegistry, everyone: BodyRegistry, start: date,
              end: date) -> dict[str, BodyAdoption]:
    """Layers, later ones winning: ``all``, then ``central`` / ``provincial``, then each
    ``[[adoption.override]]`` in file order."""
    layers: list[tuple[set[str], dict[str, Adoption]]] = []
    everyone_ids = set(registry.ids())
    base = table.table("all")
    if base is not None:
        layers.append((everyone_ids, _practices(base, start, end)))
    for kind in BodyKind:
        group = table.table(kind.value)
        if group is not None:
            layers.append(({b.id for b in registry.of_kind(kind)}, _practices(group, start, end)))
    for override in table.tables("override"):
        members = set(_select(override, "bodies", override.raw("bodies"), everyone))
        layers.append((members, _practices(override, start, end)))
    table.finish()
    result = {}
    for body in registry:
        chosen: dict[str, Adoption] = {}
        for members, practices in layers:
            if body.id in members:
                chosen.update(practices)
        for practice in PRACTICES:
            if practice not in chosen:
                raise table.error(f"{body.kind.value}.{practice}",
                                  f"missing for {body.id} (set it in adoption.all or adoption.{body.kind.value})")
        result[body.id] = BodyAdoption(**chosen)
    return result


def _practices(table: _Table, start: date, end: date) -> dict[str, Adoption]:
    found = {}
    for practice in PRACTICES:
        if not table.has(practice):
            continue
        value = table.raw(practice)
        if isinstance(value, int | float) and not isinstance(value, bool):
            level = table.fraction(practice)
            found[practice] = Adoption(level, level, Curve.LINEAR, start, end)
            continue
        spec = _Table(value, table.child(practice), table.source)
        curve_name = spec.text("curve", Curve.LINEAR.value)
        try:
            curve = Curve(curve_name)
        except ValueError:
            raise spec.error("curve", f"must be linear, logistic or step, not {curve_name!r}") from None
        middle = start + (end - start) / 2
        since = spec.day("since", middle if curve is Curve.STEP else start)
        until = spec.day("until", end)
        if until < since:
            raise spec.error("until", f"{until} is before since {since}")
        spread = spec.number("spread_days", 0.0, minimum=0.0, maximum=3650.0)
        found[practice] = Adoption(spec.fraction("start"), spec.fraction("end"), curve, since, until, spread)
        spec.finish()
    table.finish()
    return found


def _faults(table: _Table | None, registry: BodyRegistry, start: date, end: date, source: str) -> Faults:
    if table is None:
        return Faults()
    altered = table.fraction("altered", 0.0)
    seen: dict[str, str] = {}

    def certificate(item: _Table, kind: str) -> CertificateFault:
        body = _member(item, registry)
        if body in seen:
            raise item.error("body", f"{body} already has a certificate fault ({seen[body]}); one per body")
        seen[body] = kind
        on = item.day("on")
        if not start < on <= end:
            raise item.error("on", f"must be after period.start {start} and at most period.end {end}")
        renewed = item.day("renewed") if item.has("renewed") else None
        if renewed is not None and not on < renewed <= end:
            raise item.error("renewed", f"must be after 'on' ({on}) and at most period.end {end}")
        reason = RevocationReason.UNSPECIFIED
        if kind == "revoked":
            text = item.text("reason", RevocationReason.UNSPECIFIED.value)
            try:
                reason = RevocationReason(text)
            except ValueError:
                names = ", ".join(r.value for r in RevocationReason)
                raise item.error("reason", f"must be one of {names}") from None
        item.finish()
        return CertificateFault(body, on, renewed, reason)

    def window(item: _Table, *, with_body: bool) -> Window:
        body = _member(item, registry) if with_body else None
        first, last = item.moment("start"), item.moment("end")
        if last <= first:
            raise item.error("end", "must be after start")
        text = item.text("fallback", Fallback.WAIT.value)
        try:
            fallback = Fallback(text)
        except ValueError:
            raise item.error("fallback", "must be wait or paper") from None
        item.finish()
        return Window(first, last, body, fallback)

    faults = Faults(
        altered=altered,
        expired=tuple(certificate(t, "expired") for t in table.tables("expired")),
        revoked=tuple(certificate(t, "revoked") for t in table.tables("revoked")),
        hub_outages=tuple(window(t, with_body=False) for t in table.tables("hub_outage")),
        offline=tuple(window(t, with_body=True) for t in table.tables("offline")),
    )
    table.finish()
    return faults


def _member(item: _Table, registry: BodyRegistry) -> str:
    body = item.text("body")
    if body not in registry:
        raise item.error("body", f"{body!r} is not among the scenario's bodies")
    return body


def _documents(top: _Table, base_dir: Path) -> tuple[Path, ...]:
    if top.has("documents"):
        folder = _path(top, "documents", base_dir)
    else:
        folder = default_bodies_file().parent / "documents"
    files = tuple(sorted(p for p in folder.glob("*") if p.suffix.lower() in (".txt", ".pdf") and p.is_file()))
    if not files:
        raise top.error("documents", f"no .txt or .pdf documents in {folder}")
    return files
