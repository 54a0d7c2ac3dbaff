"""``/api/auth``: challenge → signed challenge → short-lived bearer token."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from exchange.errors import InputError, NotAuthenticatedError, NotAuthorizedError
from exchange.hub.deps import NowDep, ServiceDep, TokensDep, TrustDep
from exchange.hub.openapi import errors
from exchange.wire import Challenge, ChallengeRequest, Token, TokenRequest

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=errors(400, 413))


@router.post("/challenge", response_model=Challenge)
def challenge(request: ChallengeRequest, service: ServiceDep, tokens: TokensDep, at: NowDep) -> Challenge:
    """A challenge for body ``body`` to sign with its certificate (login step 1); 400 for a body
    this hub does not serve."""
    service.bodies.get(request.body)
    return Challenge(body=request.body, challenge=tokens.challenge(request.body, at=at))


@router.post("/token", response_model=Token, responses=errors(401, 403))
async def token(request: TokenRequest, tokens: TokensDep, trust: TrustDep, at: NowDep) -> Token:
    """A bearer token for the body whose valid, unrevoked certificate signed the challenge (login
    step 2); 401 for a bad signature or challenge, 403 for a revoked or expired certificate."""
    body_id = tokens.check_challenge(request.challenge, at=at)
    trust.require_current(at=at)  # no login on revocation data the CA no longer vouches for
    try:
        signature = base64.b64decode(request.signature, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("signature must be base64 DER CMS", code="invalid-signature") from None
    report = await run_in_threadpool(trust.verifier().verify, request.challenge.encode(), signature, at=at)
    if not report.passed:
        sub = report.sub_indication
        if sub is not None and sub.value in ("REVOKED", "REVOKED_NO_POE", "OUT_OF_BOUNDS_NO_POE", "EXPIRED",
                                             "NOT_YET_VALID"):
            raise NotAuthorizedError(f"certificate refused: {report.summary()}", code="certificate-refused",
                                     detail={"report": report.to_dict()})
        raise NotAuthenticatedError(f"challenge signature refused: {report.summary()}",
                                    code="invalid-signature", detail={"report": report.to_dict()})
    signer = report.signer.body_id if report.signer else None
    if signer != body_id:
        raise NotAuthorizedError(f"the challenge was for {body_id} but is signed by {signer}", code="wrong-body")
    serial = int(report.signer.certificate.serial, 16) if report.signer else 0
    value, expires = tokens.issue(body_id, serial, at=at)
    return Token(token=value, body=body_id, expires=expires)
