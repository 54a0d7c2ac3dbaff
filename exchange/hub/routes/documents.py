"""``/api/documents`` and ``/api/inbox``: send, list, download, acknowledge, status trail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from exchange.domain.documents import DocumentMetadata
from exchange.hub.accept import Submission
from exchange.hub.deps import IntakeDep, NowDep, PrincipalDep, ServiceDep
from exchange.hub.gate import AccessLogDep, body_view
from exchange.hub.openapi import CmsResponse, OctetStreamResponse, errors
from exchange.hub.service import Upload
from exchange.hub.upload import (
    file_part,
    json_part,
    optional_file_part,
    read_form,
    signed_statement,
    statement_body,
)
from exchange.wire import DocumentPublic, ReceiptPublic

router = APIRouter(prefix="/api", tags=["documents"], responses=errors(400, 401, 403))

_MULTIPART_DOC: dict[str, Any] = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "metadata"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "the document"},
        "signature": {"type": "string", "format": "binary", "description": "detached CMS (DER); omit if unsigned"},
        "metadata": {"type": "string", "contentMediaType": "application/json",
                     "description": "a JSON object, DocumentMetadataIn: recipients, subject, message_id, "
                     "number, doc_type, doc_date, classification"},
    }}}}}}
_MULTIPART_RECEIPT = statement_body("the receipt statement (JSON)")


@router.post("/documents", response_model=DocumentPublic, status_code=201, openapi_extra=_MULTIPART_DOC,
             responses=errors(409, 413, 422))
async def send_document(request: Request, who: PrincipalDep, intake: IntakeDep, at: NowDep) -> DocumentPublic:
    """Send a document (signed or not) to one or more bodies; refused with 422 if its signature fails."""
    form = await read_form(request)
    metadata = DocumentMetadata.from_dict(json_part(form, "metadata"))
    file = file_part(form, "file")
    sig = optional_file_part(form, "signature")
    signature = await sig.read() if sig is not None else None
    upload = Upload(file.file, file.filename, file.content_type)
    # One hop off the event loop: the intake's worker accepts it with the uploads beside it.
    return await intake.submit(Submission(who.body_id, metadata, upload, signature, at))


@router.post("/documents/paper", response_model=DocumentPublic, status_code=201, responses=errors(409, 413),
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/DocumentMetadataIn"}}}}})
def register_paper(metadata: dict[str, Any], who: PrincipalDep, service: ServiceDep, at: NowDep) -> DocumentPublic:
    """Register a document the sender sent on paper (no file): it counts in the register."""
    return service.register_paper(sender=who.body_id, metadata=DocumentMetadata.from_dict(metadata), at=at)


@router.get("/inbox", response_model=list[DocumentPublic])
def inbox(who: PrincipalDep, service: ServiceDep, all: bool = False) -> list[DocumentPublic]:
    """Documents delivered to the caller: new (not yet acknowledged) or all."""
    return service.inbox(body=who.body_id, include_all=all)


@router.get("/documents/{document_id}", response_model=DocumentPublic, responses=errors(404))
def get_document(document_id: str, who: PrincipalDep, service: ServiceDep) -> DocumentPublic:
    """One document's record, for its sender or a body it was delivered to (403 for any other
    body, 404 for an unknown id)."""
    return service.document(body=who.body_id, document_id=document_id)


@router.get("/documents/{document_id}/file", response_class=OctetStreamResponse, responses=errors(404))
def download(request: Request, document_id: str, who: PrincipalDep, service: ServiceDep, log: AccessLogDep,
             at: NowDep) -> FileResponse:
    """The document's bytes as sent (``X-Content-SHA256`` names them); the access log records it."""
    path, doc = service.content_path(body=who.body_id, document_id=document_id, at=at)
    log.record(body_view(request, who.body_id, doc.id, at=at))
    return OctetStreamResponse(path, filename=doc.filename or f"{doc.id}.bin",
                               headers={"X-Content-SHA256": doc.sha256 or ""})


@router.get("/documents/{document_id}/signature", response_class=CmsResponse, responses=errors(404))
def download_signature(document_id: str, who: PrincipalDep, service: ServiceDep) -> Response:
    """The document's detached CMS signature (DER)."""
    return CmsResponse(service.signature(body=who.body_id, document_id=document_id))


@router.post("/documents/{document_id}/receipts", response_model=ReceiptPublic, status_code=201,
             openapi_extra=_MULTIPART_RECEIPT, responses=errors(404, 413, 422))
async def acknowledge(document_id: str, request: Request, who: PrincipalDep, service: ServiceDep,
                      at: NowDep) -> ReceiptPublic:
    """A recipient's signed status (edXML 01–06) over exactly the bytes it received."""
    statement, signature = await signed_statement(request)
    return await run_in_threadpool(service.acknowledge, body=who.body_id, document_id=document_id,
                                   statement=statement, signature=signature, at=at)


@router.get("/documents/{document_id}/status", response_model=list[ReceiptPublic], responses=errors(404))
def status_trail(document_id: str, who: PrincipalDep, service: ServiceDep) -> list[ReceiptPublic]:
    """The signed status trail: every recipient's receipts for the sender, one's own otherwise."""
    return service.status_trail(body=who.body_id, document_id=document_id)

