"""edXML: a sender's recall, update and replacement; packages from outside agencies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from exchange.hub.deps import NowDep, PrincipalDep, ServiceDep
from exchange.hub.openapi import errors
from exchange.hub.store.models import BusinessEventPublic, EdxmlImportPublic
from exchange.hub.upload import signed_statement, single_file, statement_body

router = APIRouter(prefix="/api", tags=["edxml"], responses=errors(400, 401, 403))

_MULTIPART_STATEMENT = statement_body("the business statement (JSON: recall, update or replace)")
_MULTIPART_PACKAGE: dict[str, Any] = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["package"], "properties": {
        "package": {"type": "string", "format": "binary", "description": "the .edxml file"},
    }}}}}}


@router.post("/documents/{document_id}/business", response_model=BusinessEventPublic, status_code=201,
             openapi_extra=_MULTIPART_STATEMENT, responses=errors(404, 409, 413, 422))
async def record_business(document_id: str, request: Request, who: PrincipalDep, service: ServiceDep,
                          at: NowDep) -> BusinessEventPublic:
    """The sender's signed recall (status 13), metadata update or replacement of a document it sent."""
    statement, signature = await signed_statement(request)
    return await run_in_threadpool(service.record_business, body=who.body_id, document_id=document_id,
                                   statement=statement, signature=signature, at=at)


@router.get("/documents/{document_id}/business-events", response_model=list[BusinessEventPublic], responses=errors(404))
def business_events(document_id: str, who: PrincipalDep, service: ServiceDep) -> list[BusinessEventPublic]:
    """Every signed recall, update and replacement naming the document (either side of a replacement)."""
    return service.business_events(body=who.body_id, document_id=document_id)


@router.post("/incoming/edxml", response_model=EdxmlImportPublic, status_code=201,
             openapi_extra=_MULTIPART_PACKAGE, responses=errors(404, 413, 422))
async def register_edxml(request: Request, who: PrincipalDep, service: ServiceDep, at: NowDep) -> EdxmlImportPublic:
    """Register an edXML package from an outside agency: a document (K3, born digital) or a status."""
    data = await single_file(request, "package")
    return await run_in_threadpool(service.register_edxml, body=who.body_id, data=data, at=at)
