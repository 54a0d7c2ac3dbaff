"""Scenarios and the simulator: the measures K1–K3 over a year of traffic, in minutes.

``Scenario.from_toml`` reads a scenario file (``docs/scenarios.md``); :func:`simulate` runs it
through the hub's own service on a simulated clock, with real signatures, and writes the
register, the measures and a chart. :mod:`exchange.simulate.demo` runs a real hub and real
node processes over HTTP instead.

The names below are loaded on first use, so that reading a scenario (or starting the
``exchange`` command) does not import the hub's web and database stack.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers only; ruff cannot see the computed __all__
    from exchange.simulate.adoption import Adoption, BodyAdoption, Curve  # noqa: F401
    from exchange.simulate.runner import Counts, DayDone, SimulationResult, make_pki, simulate  # noqa: F401
    from exchange.simulate.scenario import Fallback, Scenario, ScenarioError  # noqa: F401
    from exchange.simulate.traffic import Intent, Traffic  # noqa: F401

_WHERE = {
    "Adoption": "adoption", "BodyAdoption": "adoption", "Curve": "adoption",
    "Counts": "runner", "DayDone": "runner", "SimulationResult": "runner", "make_pki": "runner",
    "simulate": "runner",
    "Fallback": "scenario", "Scenario": "scenario", "ScenarioError": "scenario",
    "Intent": "traffic", "Traffic": "traffic",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'exchange.simulate' has no attribute {name!r}")
    value = getattr(import_module(f"exchange.simulate.{module}"), name)
    globals()[name] = value
    return value
