"""The hub's OpenAPI document, made to say what the hub really answers.

FastAPI describes every request error as ``422 HTTPValidationError``; this hub answers 400
with its one error body (:class:`ErrorBody`, the same for every 4xx), and refuses with 401,
403, 404, 409, 413 and 422 for reasons of its own. Routes declare those with :func:`errors`;
:func:`install` replaces FastAPI's generic 422 and adds the schemas the multipart and JSON
request bodies refer to. The response classes here give PEM and CMS answers their true
content types.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from exchange.domain.documents import DOCUMENT_TYPES

_WHY = {
    400: "Bad request: the input is malformed or invalid (the code says which field and why)",
    401: "Not authenticated: no token, or one that is invalid or expired",
    403: "Not allowed: another body's document, a revoked certificate, or a refused identity",
    404: "No such document or resource",
    409: "Conflict with stored state, e.g. message-id-reused",
    413: "The upload or JSON body is over the size limit",
    422: "Refused on validation: the signature does not verify (the detail holds the report)",
}


class ErrorBody(BaseModel):
    """Every error the hub answers: a stable machine-readable ``code`` and a ``message`` in words."""

    code: str = Field(description="stable, e.g. invalid-signature, message-id-reused, too-large")
    message: str = Field(description="what is wrong, in words")
    detail: Any | None = Field(None, description="more, where there is more: a validation report, a document id")


class DocumentMetadataIn(BaseModel):
    """A document's metadata as a sending clerk fills it in (``exchange.domain.documents``)."""

    recipients: list[str] = Field(min_length=1, description="body ids, from GET /api/bodies")
    subject: str = Field("", max_length=500, description="trích yếu")
    message_id: str = Field(min_length=1, max_length=128,
                            description="chosen by the sender; the same id makes a retried send the same document")
    # null (or absent) takes the default
    number: str | None = Field("", description="số ký hiệu, e.g. 1126-CV/VPTW")
    doc_type: Literal[DOCUMENT_TYPES] | None = "cong-van"  # type: ignore[valid-type]
    doc_date: date | None = None
    classification: Literal["normal", "secret"] | None = "normal"


class PemResponse(Response):
    """A PEM file (certificates, a CRL in PEM): ``application/x-pem-file`` in the API's
    description."""

    media_type = "application/x-pem-file"


class CmsResponse(Response):
    """A detached CMS signature (DER): ``application/pkcs7-signature``."""

    media_type = "application/pkcs7-signature"


class CrlResponse(Response):
    """A DER CRL: ``application/pkix-crl`` (RFC 5280 §4.2.1.13)."""

    media_type = "application/pkix-crl"  # RFC 5280 §4.2.1.13: a DER CRL over HTTP


class TimestampReplyResponse(Response):
    """An RFC 3161 ``TimeStampResp`` (DER): ``application/timestamp-reply``."""

    media_type = "application/timestamp-reply"  # RFC 3161 §3.4


class OctetStreamResponse(FileResponse):
    """A document's bytes, streamed from the blob store: ``application/octet-stream``."""

    media_type = "application/octet-stream"


_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route or router: each status with the one error body, as JSON
    whatever the route's own content type (a PEM or CMS route still errs in JSON)."""
    return {status: {"description": _WHY[status], "content": _ERROR_CONTENT} for status in statuses}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe the hub's real errors (see the module docstring)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            _true_errors(schema)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["DocumentMetadataIn"] = DocumentMetadataIn.model_json_schema(
                ref_template="#/components/schemas/{model}")
            service = getattr(app.state, "service", None)
            if service is not None:  # the body ids this hub knows (its bodies file), once it runs
                ids = sorted(body.id for body in service.bodies)
                components["DocumentMetadataIn"]["properties"]["recipients"]["items"]["enum"] = ids
                if "ChallengeRequest" in components:
                    components["ChallengeRequest"]["properties"]["body"]["enum"] = ids
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _true_errors(schema: dict[str, Any]) -> None:
    """FastAPI's automatic 422 becomes the hub's 400 (unless the route says 422 itself)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            generic = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if generic.get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
                responses.setdefault("400", {"description": _WHY[400], "content": _ERROR_CONTENT})
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    components["ErrorBody"] = ErrorBody.model_json_schema()
