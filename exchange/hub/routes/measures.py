"""``GET /api/measures``: K1–K3 over the hub's register, as JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from exchange.hub.deps import NowDep, ServiceDep
from exchange.hub.gate import current_viewer
from exchange.hub.measures import measures_for
from exchange.hub.openapi import errors
from exchange.metrics import BUILTIN_PROFILES
from exchange.wire import MeasuresPublic

router = APIRouter(prefix="/api", tags=["measures"], dependencies=[Depends(current_viewer)])


# The forms Period.parse reads, years 1900-8999 (a range must also run forward: checked there).
_YEAR = r"(19\d\d|[2-8]\d\d\d)"
_DAY = _YEAR + r"-((0[13578]|1[02])-(0[1-9]|[12]\d|3[01])|(0[469]|11)-(0[1-9]|[12]\d|30)|02-(0[1-9]|1\d|2\d))"
# (empty: the default period)
PERIOD_PATTERN = (rf"^\s*({_YEAR}(-?[Hh][12]|-?[Qq][1-4]|-(0[1-9]|1[0-2]))?|{_DAY}(\s*(\.\.|/)\s*{_DAY})?)?\s*$")


@router.get("/measures", response_model=MeasuresPublic, response_model_exclude_unset=True, responses=errors(400, 401))
async def measures(
    service: ServiceDep,
    at: NowDep,
    # The patterns document the forms; Period.parse checks them and says what is wrong in words.
    period: str | None = Query(None, json_schema_extra={"pattern": PERIOD_PATTERN},
                               description="2015, 2015H1, 2015Q2, 2015-03, 2015-03-10, or FROM..TO (dates); "
                                           "default: this year, or the years the register spans"),
    by: str | None = Query(None, json_schema_extra={"pattern": "^(body|direction|month)?$"},
                           description="body, direction or month"),
    profile: str = Query("2015", json_schema_extra={"pattern": f"^({'|'.join(BUILTIN_PROFILES)})$"},
                         description="target profile: 2015 (60 %) or 2020 (almost all)"),
) -> dict[str, Any]:
    """K1, K2, K3 (numerator, denominator, value, target, met) for *period*, with an optional
    breakdown (any person logged in or with a token). A period with no documents gives ``value: null`` ("no data"), never 0 %."""
    return await run_in_threadpool(measures_for, service, period, by, profile, at=at)
