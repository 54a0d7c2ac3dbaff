"""The demo's plan: deterministic, a central/provincial mix, every fault seen, plans round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.domain.bodies import BodyKind, BodyRegistry
from exchange.errors import InputError
from exchange.node.runner import NodePlan, altered_in_transit
from exchange.simulate.demo_plan import (
    REVOCATION_LAG,
    DemoPlan,
    bodies_toml,
    build_plan,
    choose_bodies,
    scenario_for,
)
from exchange.simulate.traffic import Intent

SAMPLE_BODIES = Path(__file__).resolve().parents[2] / "samples" / "bodies.toml"


def _plan(bodies: int = 12, documents: int = 150, seed: int = 2015) -> DemoPlan:
    scenario = scenario_for(bodies=bodies, seed=seed, bodies_file=SAMPLE_BODIES)
    return build_plan(scenario, documents=documents, keys_dir=Path("/k"), out_dir=Path("/o"))


def test_the_default_plan_mixes_central_and_provincial_bodies() -> None:
    bodies = choose_bodies(BodyRegistry.from_toml(SAMPLE_BODIES), 12)
    kinds = [b.kind for b in bodies]
    assert kinds.count(BodyKind.CENTRAL) == 5 and kinds.count(BodyKind.PROVINCIAL) == 7
    assert {"central-office", "ha-noi", "nghe-an"} <= {b.id for b in bodies}


def test_a_plan_is_deterministic_and_sends_exactly_the_documents_asked() -> None:
    first, second = _plan(), _plan()
    assert {b: n.to_json() for b, n in first.nodes.items()} == {b: n.to_json() for b, n in second.nodes.items()}
    assert sum(len(n.sends) for n in first.nodes.values()) == 150
    assert first.rows == sum(len(s.recipients) for n in first.nodes.values() for s in n.sends)
    for node in first.nodes.values():
        assert all(node.body not in s.recipients for s in node.sends)
        assert all(0 <= s.at <= first.duration for s in node.sends)
    assert _plan(seed=1).nodes != first.nodes


def test_the_plan_has_every_channel_and_both_faults() -> None:
    plan = _plan()
    assert plan.count(Intent.SIGNED) > plan.count(Intent.UNSIGNED) > 0 and plan.count(Intent.PAPER) > 0
    assert plan.altered >= 1
    revoke, renew = plan.ca_events
    assert (revoke.action, renew.action) == ("revoke", "renew") and revoke.body == renew.body
    window = [s for s in plan.nodes[revoke.body].sends
              if revoke.at + REVOCATION_LAG <= s.at < renew.at and s.intent == Intent.SIGNED.value]
    assert window, "no document is signed with the revoked key: the demo would show no REVOKED refusal"


def test_signing_rises_over_the_run() -> None:
    sends = sorted((s for n in _plan().nodes.values() for s in n.sends), key=lambda s: s.at)
    third = len(sends) // 3
    share = [sum(s.intent == Intent.SIGNED.value for s in part) / len(part)
             for part in (sends[:third], sends[-third:])]
    assert share[0] < 0.5 < share[1]


def test_a_node_plan_round_trips_through_json() -> None:
    node = next(iter(_plan(bodies=3, documents=8).nodes.values()))
    assert NodePlan.from_json(node.to_json()) == node


def test_bodies_file_of_the_run_reads_back(tmp_path: Path) -> None:
    bodies = choose_bodies(BodyRegistry.from_toml(SAMPLE_BODIES), 4)
    path = tmp_path / "bodies.toml"
    path.write_text(bodies_toml(bodies), encoding="utf-8")
    assert list(BodyRegistry.from_toml(path)) == bodies


def test_bad_counts_are_input_errors() -> None:
    with pytest.raises(InputError, match="--bodies"):
        choose_bodies(BodyRegistry.from_toml(SAMPLE_BODIES), 1)
    with pytest.raises(InputError, match="--documents"):
        _plan(documents=0)


def test_altered_bytes_differ_in_one_byte() -> None:
    content = b"V/v b\xc3\xa1o c\xc3\xa1o"
    changed = altered_in_transit(content)
    assert len(changed) == len(content) and sum(a != b for a, b in zip(content, changed, strict=True)) == 1
