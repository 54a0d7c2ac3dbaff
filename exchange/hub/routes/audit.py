"""``/api/audit/...``: evidence files for auditors (one document's bundle, a period's archive).

Each is written to a temporary file in the hub's data folder (streamed, whatever its size)
and deleted once sent.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from exchange.hub.deps import NowDep
from exchange.hub.gate import ViewerDep
from exchange.hub.openapi import errors
from exchange.hub.people import Permission
from exchange.hub.routes.log import EvidenceDep
from exchange.metrics.periods import Period

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=errors(400, 401, 403))


class ZipResponse(FileResponse):
    """An evidence bundle or archive: ``application/zip``."""

    media_type = "application/zip"


_ZIP: dict[int | str, dict[str, Any]] = {200: {"description": "an exchange-evidence/1 zip file",
                                               "content": {"application/zip": {}}}}


def _temporary(request: Request) -> Path:
    folder = request.app.state.settings.data_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="evidence-", suffix=".zip", dir=folder)
    os.close(handle)
    return Path(name)


def _send(path: Path, filename: str) -> ZipResponse:
    return ZipResponse(path, filename=filename, background=BackgroundTask(path.unlink, missing_ok=True))


@router.get("/documents/{document_id}/bundle", response_class=ZipResponse, responses={**_ZIP, **errors(404)})
async def bundle(document_id: str, request: Request, evidence: EvidenceDep, at: NowDep,
                 viewer: ViewerDep) -> ZipResponse:
    """One document's evidence: bytes (a secret document's ciphertext), signature, CRL and chain,
    receipts, log entries with inclusion proofs, and the signed checkpoint; checked offline by
    ``exchange audit verify``."""
    # A person who may read the document's content (a clerk: only its own body's): 404, 403
    # before anything is written. A secret document's file is its ciphertext.
    viewer.require(Permission.CONTENT)
    doc = await run_in_threadpool(evidence.service.reader.audit_document, document_id=document_id)
    viewer.require_document(doc.id, sender=doc.sender, recipients=doc.recipients)
    path = _temporary(request)
    try:
        await run_in_threadpool(evidence.write, [document_id], path, at=at)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _send(path, f"evidence-{document_id}.zip")


@router.get("/archive", response_class=ZipResponse, responses=_ZIP)
async def archive(period: str, request: Request, evidence: EvidenceDep, at: NowDep,
                  viewer: ViewerDep) -> ZipResponse:
    """Every document registered in *period* (``2015``, ``2015H1``, ``2015-03``…) with its evidence,
    for a person who may read every body's documents (an auditor)."""
    viewer.require(Permission.CONTENT)
    viewer.require(Permission.ALL_BODIES)
    chosen = Period.parse(period)
    path = _temporary(request)
    try:
        await run_in_threadpool(evidence.write, evidence.document_ids(chosen), path, at=at)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _send(path, f"archive-{chosen.label}.zip")
