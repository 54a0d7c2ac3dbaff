"""``GET /api/measures``: K1–K3 over the hub's register, as JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from exchange.hub.deps import NowDep, ServiceDep
from exchange.hub.gate import current_viewer
from exchange.hub.measures import measures_for

router = APIRouter(prefix="/api", tags=["measures"], dependencies=[Depends(current_viewer)])


@router.get("/measures")
async def measures(
    service: ServiceDep,
    at: NowDep,
    period: str | None = Query(None, description="2015, 2015H1, 2015Q2, 2015-03, or FROM..TO; "
                                                 "default: this year, or the years the register spans"),
    by: str | None = Query(None, description="body, direction or month"),
    profile: str = Query("2015", description="target profile: 2015 (60 %) or 2020 (almost all)"),
) -> dict[str, Any]:
    """K1, K2, K3 (numerator, denominator, value, target, met) for *period*, with an optional
    breakdown (any person logged in or with a token). A period with no documents gives ``value: null`` ("no data"), never 0 %."""
    return await run_in_threadpool(measures_for, service, period, by, profile, at=at)
