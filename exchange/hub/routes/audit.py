"""``/api/audit/...``: evidence files for auditors (one document's bundle, a period's archive).

Each is written to a temporary file in the hub's data folder (streamed, whatever its size)
and deleted once sent.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from fastapi.security import HTTPBearer
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from exchange.hub.auth import Principal
from exchange.hub.deps import NowDep, current_principal
from exchange.hub.routes.log import EvidenceDep
from exchange.metrics.periods import Period

router = APIRouter(prefix="/api/audit", tags=["audit"])

_ZIP: dict[int | str, dict[str, Any]] = {200: {"content": {"application/zip": {}}, "description": "an exchange-evidence/1 zip file"}}


def _temporary(request: Request) -> Path:
    folder = request.app.state.settings.data_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="evidence-", suffix=".zip", dir=folder)
    os.close(handle)
    return Path(name)


async def optional_principal(request: Request, at: NowDep) -> Principal | None:
    """The body behind a bearer token, if one is sent (checked as for every API call)."""
    if "authorization" not in request.headers:
        return None
    credentials = await _bearer(request)
    return await current_principal(request.app.state.tokens, request.app.state.trust, at, credentials)


_bearer = HTTPBearer(auto_error=False)
ReaderDep = Annotated[Principal | None, Depends(optional_principal)]


def _send(path: Path, filename: str) -> FileResponse:
    return FileResponse(path, media_type="application/zip", filename=filename,
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.get("/documents/{document_id}/bundle", response_class=FileResponse, responses=_ZIP)
async def bundle(document_id: str, request: Request, evidence: EvidenceDep, at: NowDep,
                 reader: ReaderDep) -> FileResponse:
    """One document's evidence: bytes, signature, CRL and chain, receipts, log entries with
    inclusion proofs, and the signed checkpoint; checked offline by ``exchange audit verify``.
    A secret document's bytes are included only for its sender and recipients (bearer token)."""
    evidence.service.audit_document(document_id=document_id)  # 404 before writing anything
    path = _temporary(request)
    try:
        await run_in_threadpool(evidence.write, [document_id], path, at=at,
                                reader=reader.body_id if reader else None)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _send(path, f"evidence-{document_id}.zip")


@router.get("/archive", response_class=FileResponse, responses=_ZIP)
async def archive(period: str, request: Request, evidence: EvidenceDep, at: NowDep) -> FileResponse:
    """Every document registered in *period* (``2015``, ``2015H1``, ``2015-03``…) with its evidence."""
    chosen = Period.parse(period)
    path = _temporary(request)
    try:
        await run_in_threadpool(evidence.write, evidence.document_ids(chosen), path, at=at)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _send(path, f"archive-{chosen.label}.zip")
