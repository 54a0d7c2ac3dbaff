"""FastAPI dependencies: the service, its intake of uploads, the clock, and the authenticated body.

They are ``async def`` on purpose: each does microseconds of work without blocking (attribute
reads, the clock, an HMAC and a CRL lookup; the CRL file is ``stat``-ed at most once per
``reload_interval``), and FastAPI runs a plain ``def`` dependency in the thread pool, one
thread hop per dependency per request: that cost more CPU than the work itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from exchange.errors import NotAuthenticatedError, NotAuthorizedError
from exchange.hub.auth import Principal, TokenService
from exchange.hub.intake import Intake
from exchange.hub.mtls import check_binding
from exchange.hub.service import ExchangeService
from exchange.hub.trust import Trust

_bearer = HTTPBearer(auto_error=False, description="token from POST /api/auth/token")


async def get_service(request: Request) -> ExchangeService:
    """The hub's ExchangeService (a dependency: ``ServiceDep``)."""
    return request.app.state.service  # type: ignore[no-any-return]


async def get_intake(request: Request) -> Intake:
    return request.app.state.intake  # type: ignore[no-any-return]


async def get_tokens(request: Request) -> TokenService:
    """The hub's TokenService, which issues and checks bodies' challenges and tokens
    (``TokensDep``)."""
    return request.app.state.tokens  # type: ignore[no-any-return]


async def get_trust(request: Request) -> Trust:
    """The hub's Trust: its root, current CRLs and TSA (``TrustDep``)."""
    return request.app.state.trust  # type: ignore[no-any-return]


async def now(request: Request) -> datetime:
    """The hub's clock (``HubSettings.clock``): the only place a request's time is read."""
    return request.app.state.clock.now()  # type: ignore[no-any-return]


ServiceDep = Annotated[ExchangeService, Depends(get_service)]
IntakeDep = Annotated[Intake, Depends(get_intake)]
TokensDep = Annotated[TokenService, Depends(get_tokens)]
TrustDep = Annotated[Trust, Depends(get_trust)]
NowDep = Annotated[datetime, Depends(now)]


async def clock(request: Request) -> datetime:
    """The hub's clock outside a route (an exception handler): ``now``, or its test override."""
    override = request.app.dependency_overrides.get(now)
    return await override() if override is not None else await now(request)  # type: ignore[no-any-return]


async def current_principal(
    request: Request,
    tokens: TokensDep,
    trust: TrustDep,
    at: NowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The body behind the bearer token; its certificate is checked against the current CRL."""
    if credentials is None:
        raise NotAuthenticatedError("authenticate first: POST /api/auth/challenge, then /api/auth/token")
    principal = tokens.check(credentials.credentials, at=at)
    request.state.body = principal.body_id  # who, for the access log if this request is refused
    if trust.is_revoked(principal.serial, at=at):
        raise NotAuthorizedError(f"the certificate of {principal.body_id} (serial {principal.serial:x}) "
                                 "has been revoked", code="certificate-revoked",
                                 detail={"body": principal.body_id, "serial": f"{principal.serial:x}"})
    if request.app.state.settings.mtls:
        check_binding(request, principal)  # the token is good only with its body's TLS client key
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
