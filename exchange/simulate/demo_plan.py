"""The demo's plan: which bodies take part, what each sends and receives, and when, from a seed.

A demo compresses a scenario's period (a year of 2015 by default) into about a minute of real
time: document *k* of *M* is sent at the same fraction of the run as its simulated date is of
the period, and :class:`~exchange.simulate.traffic.Drafter` (the simulator's own) draws its
recipients, its channel from the sender's adoption curves at that date (paper, unsigned,
signed, altered in transit), its payload and its số ký hiệu. So adoption rises during the run
and K1–K3 move with it. Documents from outside agencies (K3) are scanned or not along the
bodies' scanning curves. A certificate fault of the scenario becomes a revocation by the CA
during the run and a renewal later.

The built-in scenario (:func:`builtin_scenario`) mixes central and provincial bodies; one
province is a laggard that has not deployed signatures, one province's key is compromised.
Small plans are nudged so that every kind of event is seen at least once (a document altered
in transit, a document refused as REVOKED).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from exchange.clock import SimulatedClock
from exchange.config import default_bodies_file
from exchange.domain.bodies import Body, BodyKind, BodyRegistry
from exchange.errors import InputError
from exchange.node.runner import NodePlan, PlannedArrival, PlannedSend
from exchange.pki import RevocationReason
from exchange.simulate.scenario import Scenario
from exchange.simulate.traffic import Drafter, Intent

DEFAULT_BODIES = 12
DEFAULT_DOCUMENTS = 150
#: real seconds of traffic per planned document, and the shortest run
SECONDS_PER_DOCUMENT = 0.25
MIN_SECONDS = 6.0
#: documents from outside agencies, per document sent
INCOMING_PER_DOCUMENT = 0.3
#: the hub re-reads the CRL within a second: a send this long after a revocation is refused
REVOCATION_LAG = 1.5

_PROVINCES_FIRST = ("ha-noi", "tp-ho-chi-minh", "nghe-an", "da-nang", "hai-phong", "can-tho", "thanh-hoa",
                    "quang-ninh", "dak-lak", "thua-thien-hue", "lao-cai", "ca-mau")
_REVOKED_FIRST = ("nghe-an",)


@dataclass(frozen=True, slots=True)
class CAEvent:
    """Something the CA does during the run: ``revoke`` or ``renew`` *body* at *at* seconds."""

    at: float
    action: str
    body: str
    reason: RevocationReason = RevocationReason.UNSPECIFIED


@dataclass(frozen=True)
class DemoPlan:
    """The whole run: the bodies, one :class:`NodePlan` per body, the CA's events."""

    scenario: Scenario
    bodies: tuple[Body, ...]
    nodes: dict[str, NodePlan]
    ca_events: tuple[CAEvent, ...]
    duration: float  # seconds of traffic
    documents: int
    rows: int  # register rows the plan makes (one per document and recipient)
    arrivals: int

    def clock(self) -> SimulatedClock:
        """The run's simulated calendar, not yet started: the scenario's first day at 00:00 UTC,
        running so that its whole period passes in :attr:`duration` seconds, stopping at its
        last second (documents sent past the end of the plan keep that time)."""
        start, span = _span(self.scenario)
        return SimulatedClock(start=start, rate=span.total_seconds() / self.duration,
                              end=start + span - timedelta(seconds=1))

    def bodies_toml(self) -> str:
        """The participating bodies as a bodies file, for the demo's hub and PKI."""
        return bodies_toml(self.bodies)

    def count(self, intent: Intent) -> int:
        """How many sends of *intent* (signed, unsigned, paper, …) the plan holds across every
        node."""
        return sum(1 for n in self.nodes.values() for s in n.sends if s.intent == intent.value)

    @property
    def altered(self) -> int:
        """How many sends are altered in transit (the hub must refuse them: HASH_FAILURE)."""
        return sum(1 for n in self.nodes.values() for s in n.sends if s.altered)


def choose_bodies(registry: BodyRegistry, count: int) -> list[Body]:
    """*count* bodies mixing central ones (about 40 %) and provinces, well-known ones first."""
    if not 2 <= count <= len(registry):
        raise InputError(f"--bodies must be between 2 and {len(registry)}, not {count}")
    central = registry.of_kind(BodyKind.CENTRAL)
    provincial = registry.of_kind(BodyKind.PROVINCIAL)
    n_central = min(len(central), max(1, round(count * 0.4)))
    n_provincial = min(len(provincial), count - n_central)
    n_central = count - n_provincial
    first = [b for i in _PROVINCES_FIRST for b in provincial if b.id == i]
    provinces = (first + [b for b in provincial if b not in first])[:n_provincial]
    return central[:n_central] + provinces


def builtin_scenario(bodies: Sequence[Body], *, seed: int, bodies_file: Path) -> Scenario:
    """The demo's scenario for *bodies*: 2015, adoption rising in the first two thirds."""
    provinces = [b.id for b in bodies if b.kind is BodyKind.PROVINCIAL]
    revoked = next((i for i in _REVOKED_FIRST if i in provinces), provinces[-1] if provinces else bodies[-1].id)
    laggards = [i for i in reversed(provinces) if i != revoked][:1] if len(bodies) >= 6 else []
    data: dict[str, Any] = {
        "name": "demo",
        "description": "The demo: a year of 2015 in a minute, adoption rising, one key compromised",
        "seed": seed,
        "bodies_file": str(bodies_file),
        "bodies": [b.id for b in bodies],
        "period": {"start": date(2015, 1, 5), "end": date(2015, 12, 31)},
        "volume": {"documents_per_day": 1.0, "central_factor": 1.3},
        "recipients": {"counts": {"1": 0.55, "2": 0.3, "3": 0.15}},
        "adoption": {
            "all": {
                "electronic": {"start": 0.6, "end": 0.98, "curve": "logistic", "until": date(2015, 8, 31)},
                "signing": {"start": 0.3, "end": 0.97, "curve": "logistic", "until": date(2015, 8, 31),
                            "spread_days": 60},
                "scanning": {"start": 0.35, "end": 0.95, "curve": "linear", "until": date(2015, 9, 30)},
            },
            # A province that has not deployed signatures yet: unsigned files and paper.
            "override": [{"bodies": laggards, "electronic": 0.6, "signing": 0.0, "scanning": 0.3}]
            if laggards else [],
        },
        "receipts": {"share": 0.9},
        "incoming": {"per_day": 0.5, "entered": 0.95},
        "faults": {
            "altered": 0.03,
            "revoked": [{"body": revoked, "on": date(2015, 5, 20), "renewed": date(2015, 8, 10),
                         "reason": RevocationReason.KEY_COMPROMISE.value}],
        },
    }
    return Scenario.from_dict(data, source="the built-in demo scenario")


def _span(scenario: Scenario) -> tuple[datetime, timedelta]:
    start = datetime.combine(scenario.start, time(0), tzinfo=UTC)
    return start, datetime.combine(scenario.end + timedelta(days=1), time(0), tzinfo=UTC) - start


def build_plan(scenario: Scenario, *, documents: int, keys_dir: Path, out_dir: Path,
               duration: float | None = None, poll_interval: float = 1.0,
               clock_file: Path | None = None) -> DemoPlan:
    """Plan *documents* documents over the scenario's bodies, deterministically from its seed.

    *out_dir*/BODY is where each node writes what it receives. Raises InputError for a count
    below 1.
    """
    if documents < 1:
        raise InputError(f"--documents must be at least 1, not {documents}")
    seconds = duration if duration is not None else max(MIN_SECONDS, documents * SECONDS_PER_DOCUMENT)
    rng = random.Random(f"demo/{scenario.seed}/{documents}")
    drafter = Drafter(scenario)
    bodies = scenario.bodies
    start, span = _span(scenario)

    def moment(fraction: float) -> datetime:
        return start + span * fraction

    def fraction_of(day: date) -> float:
        return min(1.0, max(0.0, (datetime.combine(day, time(0), tzinfo=UTC) - start) / span))

    weights = [scenario.volume.rate(b) or 1e-9 for b in bodies]
    fractions = sorted((k + rng.random()) / documents for k in range(documents))
    drafts: list[dict[str, Any]] = []
    for k, fraction in enumerate(fractions):
        sender = rng.choices(bodies, weights=weights)[0].id
        drafts.append(_draft(drafter, rng, sender, moment(fraction), fraction, k, scenario.seed))

    ca_events: list[CAEvent] = []
    fault = scenario.faults.revoked[0] if scenario.faults.revoked else None
    if fault is not None:
        on = fraction_of(fault.on)
        renewed = fraction_of(fault.renewed) if fault.renewed else min(0.95, on + 0.25)
        ca_events += [CAEvent(on * seconds, "revoke", fault.body, fault.reason),
                      CAEvent(renewed * seconds, "renew", fault.body)]
        _ensure_revoked_send(drafts, drafter, rng, fault.body, (on * seconds + REVOCATION_LAG) / seconds,
                             renewed, scenario.seed, moment)
    _ensure_altered(drafts, skip={fault.body} if fault else set())

    arrivals_count = round(documents * INCOMING_PER_DOCUMENT) if scenario.incoming.per_day > 0 else 0
    arrivals: dict[str, list[PlannedArrival]] = {b.id: [] for b in bodies}
    for k in range(arrivals_count):
        fraction = rng.random()
        body = rng.choice(bodies).id
        scanned = rng.random() < drafter.adoption[body].scanning.level(moment(fraction))
        arrivals[body].append(PlannedArrival(
            at=round(fraction * seconds, 3), from_agency=rng.choice(scenario.incoming.agencies), scanned=scanned,
            entered=rng.random() < scenario.incoming.entered, sample=rng.randrange(len(scenario.documents)),
            number=f"{k + 1}/{moment(fraction).strftime('%Y%m%d')}"))

    sends: dict[str, list[PlannedSend]] = {b.id: [] for b in bodies}
    for d in drafts:
        sends[d["sender"]].append(PlannedSend(
            at=round(d["fraction"] * seconds, 3), message_id=d["message_id"], recipients=d["recipients"],
            intent=d["intent"].value, sample=d["sample"], number=d["number"], doc_type=d["doc_type"],
            subject=d["subject"], altered=d["altered"]))
    nodes = {
        b.id: NodePlan(body=b.id, keys_dir=keys_dir, out_dir=out_dir / b.id, documents=scenario.documents,
                       sends=tuple(sorted(sends[b.id], key=lambda s: s.at)),
                       arrivals=tuple(sorted(arrivals[b.id], key=lambda a: a.at)),
                       receipt_share=scenario.receipts.share, poll_interval=poll_interval, seed=scenario.seed,
                       clock_file=clock_file)
        for b in bodies
    }
    return DemoPlan(scenario=scenario, bodies=tuple(bodies), nodes=nodes, ca_events=tuple(ca_events),
                    duration=seconds, documents=documents, rows=sum(len(d["recipients"]) for d in drafts),
                    arrivals=arrivals_count)


def _draft(drafter: Drafter, rng: random.Random, sender: str, when: datetime, fraction: float, k: int,
           seed: int) -> dict[str, Any]:
    sample, doc_type, subject = drafter.payload(rng)
    recipients = drafter.recipients(rng, sender)
    intent, altered = drafter.intent(rng, sender, when)
    return {"sender": sender, "fraction": fraction, "recipients": recipients, "intent": intent,
            "altered": altered, "sample": sample, "doc_type": doc_type, "subject": subject,
            "number": drafter.number(sender, doc_type), "message_id": f"demo-{seed}-{k + 1}"}


def _ensure_altered(drafts: list[dict[str, Any]], *, skip: set[str]) -> None:
    """At least one signed document is altered in transit (from six documents on)."""
    if len(drafts) < 6 or any(d["altered"] for d in drafts):
        return
    signed = [d for d in drafts if d["intent"] is Intent.SIGNED and d["sender"] not in skip]
    if signed:
        min(signed, key=lambda d: abs(d["fraction"] - 0.5))["altered"] = True


def _ensure_revoked_send(drafts: list[dict[str, Any]], drafter: Drafter, rng: random.Random, body: str,
                         first: float, last: float, seed: int, moment: Callable[[float], datetime]) -> None:
    """At least one document signed by *body* while its certificate is revoked (REVOKED)."""
    if len(drafts) < 6 or last - first < 0.02:
        return
    inside = [d for d in drafts if first <= d["fraction"] < last]
    if any(d["sender"] == body and d["intent"] is Intent.SIGNED for d in inside):
        return
    middle = (first + last) / 2
    candidates = inside or drafts
    chosen = min(candidates, key=lambda d: abs(d["fraction"] - middle))
    k = drafts.index(chosen)
    fraction = chosen["fraction"] if first <= chosen["fraction"] < last else middle
    replacement = _draft(drafter, rng, body, moment(fraction), fraction, k, seed)
    replacement.update(intent=Intent.SIGNED, altered=False, message_id=chosen["message_id"])
    drafts[k] = replacement


def bodies_toml(bodies: Sequence[Body]) -> str:
    """*bodies* as a ``[[body]]`` file."""
    return BodyRegistry(list(bodies)).to_toml(comment="The bodies of this demo run (written by `exchange demo`).")


def scenario_for(*, bodies: int, seed: int, bodies_file: Path | None = None,
                 scenario_file: Path | None = None) -> Scenario:
    """The built-in scenario over *bodies* bodies, or a scenario file restricted to its first *bodies*."""
    if scenario_file is not None:
        scenario = Scenario.from_toml(scenario_file).with_seed(seed)
        ids = [b.id for b in scenario.bodies]
        return scenario.restricted(ids[:bodies]) if bodies < len(ids) else scenario
    source = bodies_file or default_bodies_file()
    return builtin_scenario(choose_bodies(BodyRegistry.from_toml(source), bodies), seed=seed, bodies_file=source)
