"""The programme's measures K1–K3 over the register, as pure functions (no framework).

Definitions: ``docs/measures.md``. Entry points: :func:`compute` for a full report,
:func:`k1` / :func:`k2` / :func:`k3` for one figure, :class:`Period` and
:class:`TargetProfile` for the inputs.
"""

from exchange.metrics.measures import (
    BodyMeasures,
    Breakdown,
    ChannelCounts,
    Direction,
    DirectionMeasures,
    Measure,
    MeasuresReport,
    MonthMeasures,
    SignatureUse,
    Unit,
    UseStatus,
    compute,
    furthest_behind,
    k1,
    k2,
    k3,
    signature_use,
)
from exchange.metrics.periods import Period
from exchange.metrics.targets import BUILTIN_PROFILES, RegularUseRule, TargetProfile

__all__ = [
    "BUILTIN_PROFILES",
    "BodyMeasures",
    "Breakdown",
    "ChannelCounts",
    "Direction",
    "DirectionMeasures",
    "Measure",
    "MeasuresReport",
    "MonthMeasures",
    "Period",
    "RegularUseRule",
    "SignatureUse",
    "TargetProfile",
    "Unit",
    "UseStatus",
    "compute",
    "furthest_behind",
    "k1",
    "k2",
    "k3",
    "signature_use",
]
