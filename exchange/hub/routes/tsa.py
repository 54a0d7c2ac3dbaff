"""``POST /api/tsa``: the hub as an RFC 3161 time-stamping authority, and its CRLs over HTTP.

Time-Stamp Protocol via HTTP (RFC 3161 §3.4): a DER ``TimeStampReq`` posted as
``application/timestamp-query`` is answered with a DER ``TimeStampResp`` as
``application/timestamp-reply``. A request the TSA parses is answered with HTTP 200 whatever
the PKIStatus: granted, or a ``rejection`` with its ``failInfo`` (``badAlg``,
``unacceptedPolicy``, ``unacceptedExtensions``, ``badRequest``), and a failure inside the TSA a
``systemFailure`` reply, as RFC 3161 clients expect. What is no TimeStampReq at all still gets a
rejection, with an HTTP error saying so: 415 for another media type, 413 over 16 KiB, 400 for
bytes that do not parse (``badDataFormat``). Never a 5xx. Anyone may ask: a token only says
that some hash existed at some time.

``GET /api/crl`` and ``GET /api/crl/root`` publish the CA's current CRLs (DER,
``application/pkix-crl``, RFC 5280 §4.2.1.13): the addresses the certificates' CRL distribution
points name.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from exchange.cms.tsa import MAX_REQUEST, QUERY_MEDIA_TYPE, REPLY_MEDIA_TYPE, rejection
from exchange.errors import NotFoundError
from exchange.hub.deps import NowDep, TrustDep
from exchange.hub.openapi import CrlResponse, TimestampReplyResponse, errors
from exchange.pki.revocation import crl_der

router = APIRouter(prefix="/api", tags=["time-stamping and revocation"])

def _reply_doc(description: str) -> dict[str, object]:
    return {"description": description,
            "content": {REPLY_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}


_TSA_DOC = {"requestBody": {"required": True, "content": {QUERY_MEDIA_TYPE: {"schema": {
    "type": "string", "format": "binary", "description": "a DER TimeStampReq (RFC 3161 §2.4.1)"}}}},
    "responses": {
        "200": _reply_doc("a DER TimeStampResp: granted with a token, or a rejection with its failInfo"),
        "400": _reply_doc("not a TimeStampReq: a rejection, failInfo badDataFormat"),
        "413": _reply_doc("over 16 KiB: a rejection, failInfo badDataFormat"),
        "415": _reply_doc(f"not sent as {QUERY_MEDIA_TYPE}: a rejection, failInfo badRequest"),
    }}


@router.post("/tsa", response_class=TimestampReplyResponse, openapi_extra=_TSA_DOC)
async def time_stamp(request: Request, trust: TrustDep, at: NowDep) -> Response:
    """Time-stamp a hash (RFC 3161 over HTTP): ``openssl ts -query … | curl --data-binary @- …``."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != QUERY_MEDIA_TYPE:
        return _reply(rejection("bad_request", f"send a DER TimeStampReq as {QUERY_MEDIA_TYPE}, "
                                               f"not {media or 'no Content-Type'}"), status=415)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST:
            return _reply(rejection("bad_data_format", f"the request is larger than {MAX_REQUEST} bytes"),
                          status=413)
    try:
        tsa = trust.tsa()
    except Exception:  # noqa: BLE001 - a hub without its TSA answers in the protocol, not with a 5xx
        return _reply(rejection("system_failure", "this hub has no time-stamping authority"))
    status, der = await run_in_threadpool(tsa.answer, bytes(body), at=at)
    return _reply(der, status=status)


def _reply(der: bytes, *, status: int = 200) -> Response:
    return TimestampReplyResponse(der, status_code=status)


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
