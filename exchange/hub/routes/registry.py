"""``/api/incoming``, ``/api/register``, ``/api/bodies``, ``/api/pki``, ``/api/health``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from exchange.errors import InputError, NotFoundError
from exchange.hub.deps import NowDep, PrincipalDep, ServiceDep, TrustDep
from exchange.hub.secret import BodyCertificates, body_certificates
from exchange.hub.service import Upload
from exchange.hub.store.models import IncomingPublic
from exchange.hub.upload import json_part, optional_file_part, read_form
from exchange.pki.certificates import certificate_pem
from exchange.pki.revocation import crl_pem

router = APIRouter(prefix="/api", tags=["register"])


@router.post("/incoming", response_model=IncomingPublic, status_code=201)
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


@router.get("/register")
def register(service: ServiceDep, start: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
    """The register (one row per document and recipient) and the incoming log, for auditors."""
    start, end = _aware(start), _aware(end)
    entries = [_row(asdict(e)) for e in service.register_entries(start=start, end=end)]
    incoming = [_row(asdict(e)) for e in service.incoming_entries(start=start, end=end)]
    return {"entries": entries, "incoming": incoming}


@router.get("/bodies")
def bodies(service: ServiceDep) -> list[dict[str, Any]]:
    return [{"id": b.id, "kind": b.kind.value, "name": b.name_vi, "name_en": b.name_en} for b in service.bodies]


@router.get("/bodies/{body_id}/certificates", response_model=BodyCertificates,
            responses={404: {"description": "no such body"}})
def body_certificates_route(body_id: str, service: ServiceDep, trust: TrustDep, at: NowDep) -> BodyCertificates:
    """A body's current signing and encryption certificates (PEM) and their status now.

    Senders encrypt secret documents to ``encryption``, after checking it chains to the root
    they trust and is not revoked: they need not take the hub's word for it.
    """
    if body_id not in service.bodies:
        raise NotFoundError(f"no body {body_id!r}", code="unknown-body")
    return body_certificates(trust.store, body_id, crl=trust.crl(), at=at)


@router.get("/pki/root")
def root(trust: TrustDep) -> Response:
    """The trust anchor, for auditors: PEM."""
    return Response(certificate_pem(trust.store.root()), media_type="application/x-pem-file")


@router.get("/pki/crl")
def crl(trust: TrustDep) -> Response:
    """The current CRL as the hub enforces it (signed by the issuing CA): PEM."""
    return Response(crl_pem(trust.crl()), media_type="application/x-pem-file")


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "time": datetime.now(UTC).isoformat()}


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _row(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}


