"""The baseline of ``bench_hub.py``: a bare FastAPI endpoint that receives the hub's upload.

``POST /upload`` takes the same multipart body as ``POST /api/documents`` (``file``,
``signature``, ``metadata``), reads every part through FastAPI's own form handling and answers
201 with the SHA-256 of the file: no authentication, no validation, no storage, no register.
Served by uvicorn as a factory, like the hub with ``--workers``::

    .venv/bin/python -m uvicorn --factory --app-dir benchmarks bare_app:create_app
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import FastAPI, Form, UploadFile

CHUNK = 1 << 20


def create_app() -> FastAPI:
    """The baseline application (nothing is created at import)."""
    app = FastAPI(title="bare upload baseline")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/upload", status_code=201)
    async def upload(file: UploadFile, signature: UploadFile,
                     metadata: Annotated[str, Form()]) -> dict[str, object]:
        digest = hashlib.sha256()
        size = 0
        while chunk := await file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        await signature.read()
        return {"sha256": digest.hexdigest(), "size": size, "metadata_bytes": len(metadata)}

    return app
