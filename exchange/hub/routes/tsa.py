"""``POST /api/tsa``: the hub as an RFC 3161 time-stamping authority, and its CRLs over HTTP.

Time-Stamp Protocol via HTTP (RFC 3161 §3.4): a DER ``TimeStampReq`` posted as
``application/timestamp-query`` is answered with a DER ``TimeStampResp`` as
``application/timestamp-reply``, with HTTP 200 whatever the PKIStatus: a request the TSA will
not serve (not DER, another policy, an unknown hash, the wrong media type, too large) gets a
``rejection`` with its ``failInfo``, and a failure inside the TSA a ``systemFailure`` reply,
never a 5xx. Anyone may ask: a token only says that some hash existed at some time.

``GET /api/crl`` and ``GET /api/crl/root`` publish the CA's current CRLs (DER,
``application/pkix-crl``, RFC 5280 §4.2.1.13): the addresses the certificates' CRL distribution
points name.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from exchange.cms.timestamp import MAX_REQUEST, QUERY_MEDIA_TYPE, REPLY_MEDIA_TYPE, rejection
from exchange.errors import NotFoundError
from exchange.hub.deps import NowDep, TrustDep
from exchange.hub.openapi import CrlResponse, TimestampReplyResponse, errors
from exchange.pki.revocation import crl_der

router = APIRouter(prefix="/api", tags=["time-stamping and revocation"])

_TSA_DOC = {"requestBody": {"required": True, "content": {QUERY_MEDIA_TYPE: {"schema": {
    "type": "string", "format": "binary", "description": "a DER TimeStampReq (RFC 3161 §2.4.1)"}}}},
    "responses": {"200": {"description": "a DER TimeStampResp: granted with a token, or a rejection "
                                         "with its failInfo", "content": {REPLY_MEDIA_TYPE: {"schema": {
                                             "type": "string", "format": "binary"}}}}}}


@router.post("/tsa", response_class=TimestampReplyResponse, openapi_extra=_TSA_DOC)
async def time_stamp(request: Request, trust: TrustDep, at: NowDep) -> Response:
    """Time-stamp a hash (RFC 3161 over HTTP): ``openssl ts -query … | curl --data-binary @- …``."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != QUERY_MEDIA_TYPE:
        return _reply(rejection("bad_request", f"send a DER TimeStampReq as {QUERY_MEDIA_TYPE}, "
                                               f"not {media or 'no Content-Type'}"))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST:
            return _reply(rejection("bad_data_format", f"the request is larger than {MAX_REQUEST} bytes"))
    try:
        tsa = trust.tsa()
    except Exception:  # noqa: BLE001 - a hub without its TSA answers in the protocol, not with a 5xx
        return _reply(rejection("system_failure", "this hub has no time-stamping authority"))
    return _reply(await run_in_threadpool(tsa.respond, bytes(body), at=at))


def _reply(der: bytes) -> Response:
    return TimestampReplyResponse(der)


@router.get("/crl", response_class=CrlResponse)
def crl(trust: TrustDep) -> Response:
    """The issuing CA's current CRL (DER): what body, hub and TSA certificates name."""
    return CrlResponse(crl_der(trust.crl()))


@router.get("/crl/root", response_class=CrlResponse, responses=errors(404))
def root_crl(trust: TrustDep) -> Response:
    """The root's current CRL over the issuing CA (DER)."""
    found = trust.root_crl()
    if found is None:
        raise NotFoundError("this PKI's root publishes no CRL (made before root-crl.pem existed)")
    return CrlResponse(crl_der(found))
