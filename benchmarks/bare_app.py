"""The baselines of ``bench_hub.py``: bare FastAPI endpoints that receive the hub's upload.

``POST /upload`` takes the same multipart body as ``POST /api/documents`` (``file``,
``signature``, ``metadata``), reads every part through FastAPI's own form handling and answers
201 with the SHA-256 of the file: no authentication, no validation, no storage, no register.
Served by uvicorn as a factory, like the hub with ``--workers``::

    .venv/bin/python -m uvicorn --factory --app-dir benchmarks bare_app:create_app

``create_crypto_app`` is the same endpoint doing the crypto the hub must do for each document
and nothing else: it validates the signature with the hub's own trust (root, CRLs) and adds the
hub's RFC 3161 time-stamp, exactly as the hub's :func:`exchange.hub.verdicts.judge` does, then
answers; still no authentication, storage or register. ``BENCH_KEYS`` names the key folder.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Form, UploadFile

CHUNK = 1 << 20


def create_app() -> FastAPI:
    """The baseline application (nothing is created at import)."""
    return _app("bare upload baseline")


def create_crypto_app() -> FastAPI:
    """The baseline that also validates and time-stamps, with the trust of the PKI at
    ``$BENCH_KEYS`` (imports the hub's crypto only when called)."""
    from exchange.hub.trust import Trust
    from exchange.pki import KeyStore

    trust = Trust(KeyStore.at(Path(os.environ["BENCH_KEYS"])))

    def check(content: bytes, signature: bytes) -> str:
        at = datetime.now(UTC)
        trust.require_current(at=at)
        report = trust.verifier().verify(content, signature, at=at)
        if not report.passed:
            raise ValueError(report.summary())
        trust.tsa().stamp(signature, at=at)
        return report.indication.value

    return _app("bare upload with the hub's crypto", check)


def _app(title: str, check: Callable[[bytes, bytes], str] | None = None) -> FastAPI:
    """``/health`` and ``/upload``; *check* (file, signature) -> indication, if given, runs on
    every upload."""
    app = FastAPI(title=title)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/upload", status_code=201)
    async def upload(file: UploadFile, signature: UploadFile,
                     metadata: Annotated[str, Form()]) -> dict[str, object]:
        digest = hashlib.sha256()
        size = 0
        parts: list[bytes] = []
        while chunk := await file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if check is not None:
                parts.append(chunk)
        signed = await signature.read()
        answer: dict[str, object] = {"sha256": digest.hexdigest(), "size": size, "metadata_bytes": len(metadata)}
        if check is not None:
            # off the event loop, as the hub's intake thread does it
            answer["indication"] = await asyncio.to_thread(check, b"".join(parts), signed)
        return answer

    return app
