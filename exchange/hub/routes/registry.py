"""``/api/incoming``, ``/api/register``, ``/api/bodies``, ``/api/pki``, ``/api/health``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from exchange.domain.moments import parse_moment
from exchange.errors import InputError, NotFoundError
from exchange.hub.deps import NowDep, PrincipalDep, ServiceDep, TrustDep
from exchange.hub.gate import ViewerDep, current_viewer
from exchange.hub.openapi import PemResponse, errors
from exchange.hub.routes.measures import PERIOD_PATTERN
from exchange.hub.secret import body_certificates
from exchange.hub.service import Upload
from exchange.hub.upload import json_part, optional_file_part, read_form
from exchange.metrics import Period
from exchange.pki.certificates import certificate_pem
from exchange.pki.revocation import crl_pem
from exchange.wire import (
    BodyCertificates,
    BodyPublic,
    Health,
    IncomingPublic,
    IncomingRow,
    RegisterPublic,
    RegisterRow,
)

router = APIRouter(prefix="/api", tags=["register"])


@router.post("/incoming", response_model=IncomingPublic, status_code=201, responses=errors(400, 401, 403, 413),
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["metadata"], "properties": {
                     "metadata": {"type": "string", "contentMediaType": "application/json",
                                  "description": "a JSON object: from_agency (required), number, subject, entered"},
                     "scan": {"type": "string", "format": "binary", "description": "the scan (K3)"}}}}}}})
async def register_incoming(request: Request, who: PrincipalDep, service: ServiceDep, at: NowDep) -> IncomingPublic:
    """Record a document from an outside agency (multipart: metadata JSON, optional scan file)."""
    form = await read_form(request)
    meta = json_part(form, "metadata")
    if not isinstance(meta, dict):
        raise InputError("metadata must be a JSON object", code="invalid-metadata")
    scan = optional_file_part(form, "scan")
    upload = Upload(scan.file, scan.filename, scan.content_type) if scan is not None else None
    return await run_in_threadpool(
        service.register_incoming, body=who.body_id, from_agency=str(meta.get("from_agency", "")),
        number=str(meta.get("number", "")), subject=str(meta.get("subject", "")), scan=upload,
        entered=bool(meta.get("entered", True)), at=at)


# An ISO-8601 date or time, years 1900-8999 (naive means UTC); empty: no bound.
MOMENT_PATTERN = (r"^(19\d\d|[2-8]\d\d\d)-((0[13578]|1[02])-(0[1-9]|[12]\d|3[01])|(0[469]|11)-(0[1-9]|[12]\d|30)"
                  r"|02-(0[1-9]|1\d|2\d))"
                  r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?)?$|^$")
_MOMENT = "an ISO-8601 date or time, e.g. 2015-01-01 or 2015-06-30T17:00:00+07:00 (naive: UTC)"


@router.get("/register", response_model=RegisterPublic, responses=errors(400, 401))
def register(service: ServiceDep, viewer: ViewerDep,
             start: str | None = Query(None, json_schema_extra={"pattern": MOMENT_PATTERN},
                                       description=f"from (inclusive): {_MOMENT}"),
             end: str | None = Query(None, json_schema_extra={"pattern": MOMENT_PATTERN},
                                     description=f"to (exclusive): {_MOMENT}"),
             ) -> RegisterPublic:
    """The register (one row per document and recipient) and the incoming log, for auditors
    (a clerk: only rows its body sent or received)."""
    since = parse_moment(start, what="start") if start else None
    until = parse_moment(end, what="end") if end else None
    scope = viewer.scope
    entries = [RegisterRow.from_entry(e) for e in service.reader.register_entries(start=since, end=until)
               if scope is None or scope in (e.sender, e.recipient)]
    incoming = [IncomingRow.from_entry(e) for e in service.reader.incoming_entries(start=since, end=until)
                if scope is None or e.body == scope]
    return RegisterPublic(entries=entries, incoming=incoming)


@router.get("/bodies", response_model=list[BodyPublic], dependencies=[Depends(current_viewer)],
            responses=errors(400, 401))
def bodies(service: ServiceDep,
           period: str | None = Query(None, json_schema_extra={"pattern": PERIOD_PATTERN},
                                      description="2015, 2015H1, 2015Q2, 2015-03, or FROM..TO (dates): the "
                                                  "bodies the register served then; default: those it serves"),
           ) -> list[BodyPublic]:
    """The bodies the hub serves; with ``period``, those the register served in it: K2's
    denominator and the per-body tables of ``/api/measures``."""
    served = service.reader.served_bodies(Period.parse(period)) if period and period.strip() else service.bodies
    return [BodyPublic.from_body(b) for b in served]


@router.get("/bodies/{body_id}/certificates", response_model=BodyCertificates,
            responses=errors(404))
def body_certificates_route(body_id: str, service: ServiceDep, trust: TrustDep, at: NowDep) -> BodyCertificates:
    """A body's current signing and encryption certificates (PEM) and their status now.

    Senders encrypt secret documents to ``encryption``, after checking it chains to the root
    they trust and is not revoked: they need not take the hub's word for it.
    """
    if body_id not in service.bodies:
        raise NotFoundError(f"no body {body_id!r}", code="unknown-body")
    return body_certificates(trust.store, body_id, crl=trust.crl(), at=at)


@router.get("/pki/root", response_class=PemResponse)
def root(trust: TrustDep) -> Response:
    """The trust anchor, for auditors: PEM."""
    return PemResponse(certificate_pem(trust.store.root()))


@router.get("/pki/crl", response_class=PemResponse)
def crl(trust: TrustDep) -> Response:
    """The current CRLs as the hub enforces them, PEM: the issuing CA's, then the root's."""
    root_crl = trust.root_crl()
    return PemResponse(crl_pem(trust.crl()) + (crl_pem(root_crl) if root_crl is not None else b""))


@router.get("/pki/tsa", response_class=PemResponse, responses=errors(404))
def tsa_certificate(trust: TrustDep) -> Response:
    """The hub's time-stamping authority certificate and the issuing CA above it, PEM (what
    ``openssl ts -verify -untrusted`` needs)."""
    if not trust.store.has_tsa():
        raise NotFoundError("this hub's PKI has no time-stamping authority (made before tsa.pem existed)")
    tsa = trust.tsa()
    return PemResponse(b"".join(certificate_pem(c) for c in (tsa.certificate, *tsa.credential.chain)))


@router.get("/health", response_model=Health)
def health(at: NowDep) -> Health:
    """Alive, and the hub's clock (the demo's simulated calendar shows here)."""
    return Health(status="ok", time=at.isoformat())



