"""``/api/log/...``: the evidence log, readable without a login like a certificate-transparency
log (entries hold ids, hashes, times and outcomes, never a subject or content)."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from exchange.hub.deps import NowDep, ServiceDep
from exchange.hub.evidence import Evidence
from exchange.hub.evidence_log import MAX_PAGE
from exchange.hub.openapi import errors
from exchange.tlog import SignedCheckpoint
from exchange.wire import (
    CheckpointPublic,
    ConsistencyProofPublic,
    InclusionProofPublic,
    LogEntriesPublic,
    LogEntryPublic,
)

router = APIRouter(prefix="/api/log", tags=["log"], responses=errors(400))

_INDEX = Query(ge=0, le=2**53)


async def get_evidence(request: Request) -> Evidence:
    """The hub's evidence service: checkpoints and bundles (a dependency: ``EvidenceDep``)."""
    return request.app.state.evidence  # type: ignore[no-any-return]


EvidenceDep = Annotated[Evidence, Depends(get_evidence)]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def checkpoint_public(signed: SignedCheckpoint) -> CheckpointPublic:
    """The API's view of a signed checkpoint: origin, size, root hash, the note and its CMS
    (base64)."""
    return CheckpointPublic(origin=signed.checkpoint.origin, size=signed.checkpoint.size,
                            root_hash=_b64(signed.checkpoint.root), note=signed.note.decode("utf-8"),
                            cms=_b64(signed.cms))


@router.get("/checkpoint", response_model=CheckpointPublic)
async def checkpoint(evidence: EvidenceDep, at: NowDep) -> CheckpointPublic:
    """The latest signed checkpoint: a C2SP tlog-checkpoint note and its detached CMS (base64 DER)."""
    return checkpoint_public(await run_in_threadpool(evidence.checkpoint, at=at))


@router.get("/entries", response_model=LogEntriesPublic)
def entries(service: ServiceDep, start: Annotated[int, _INDEX] = 0,
            end: Annotated[int, _INDEX] = MAX_PAGE) -> LogEntriesPublic:
    """Entries ``[start, end)`` (at most 1000), each with its exact leaf bytes (base64)."""
    found = service.log.entries(start, end)
    return LogEntriesPublic(entries=[LogEntryPublic(index=e.index, leaf=_b64(e.leaf)) for e in found])


@router.get("/proof/inclusion", response_model=InclusionProofPublic, responses=errors(404))
def inclusion(service: ServiceDep, index: Annotated[int, _INDEX],
              size: Annotated[int, _INDEX]) -> InclusionProofPublic:
    """The audit path of entry *index* in the tree of *size* entries (RFC 9162 §2.1.3)."""
    proof = service.log.inclusion(index, size)
    return InclusionProofPublic(index=index, size=size, proof=[_b64(p) for p in proof])


@router.get("/proof/consistency", response_model=ConsistencyProofPublic, responses=errors(404))
def consistency(service: ServiceDep, first: Annotated[int, _INDEX],
                second: Annotated[int, _INDEX]) -> ConsistencyProofPublic:
    """The proof that the tree of *first* entries is a prefix of the tree of *second* (§2.1.4)."""
    proof = service.log.consistency(first, second)
    return ConsistencyProofPublic(first=first, second=second, proof=[_b64(p) for p in proof])


@router.get("/documents/{document_id}", response_model=LogEntriesPublic)
def document_entries(document_id: str, service: ServiceDep) -> LogEntriesPublic:
    """The entries about one document (its indexes in the log)."""
    return LogEntriesPublic(entries=[LogEntryPublic(index=e.index, leaf=_b64(e.leaf))
                                     for e in service.log.document_entries(document_id)])
