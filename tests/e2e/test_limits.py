"""The size limit on a real hub started with ``--max-upload-mib 1``: 413 too-large, whether the
length is declared or streamed, and nothing half-stored."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from e2e.harness import RunningHub, assert_error, fresh_database, start_hub

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def small_hub(pki, database_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp(f"small-hub-{database_kind}")
    with fresh_database(database_kind, root) as url:
        running = start_hub(keys=pki.dir, data=root / "data", db_url=url, args=("--max-upload-mib", "1"))
        try:
            yield running
        finally:
            running.stop()


def metadata() -> str:
    return json.dumps({"recipients": ["central-office"], "subject": "lớn", "message_id": str(uuid.uuid4())})


def streamed(size: int, boundary: bytes = b"limit-test") -> Iterator[bytes]:
    """A valid multipart body sent chunked: no Content-Length for the hub to check up front."""
    yield b"--" + boundary + b'\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n' + metadata().encode()
    yield b"\r\n--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    for _ in range(size // MIB):
        yield b"x" * MIB
    yield b"\r\n--" + boundary + b"--\r\n"


def test_files_over_the_limit_are_413_and_nothing_is_half_stored(small_hub, workdir):
    token = small_hub.token("ha-noi")
    before = (small_hub.document_rows(), small_hub.register(), small_hub.blob_files())
    with small_hub.http(token) as http:
        over = http.post("/api/documents", data={"metadata": metadata()},
                         files={"file": ("2mib.bin", b"x" * (2 * MIB))})
        body = assert_error(over, 413, "too-large")
        assert str(MIB) in body["message"]
        declared = http.post("/api/documents", data={"metadata": metadata()},  # refused before it is read
                             files={"file": ("8mib.bin", b"x" * (8 * MIB))})
        assert_error(declared, 413, "too-large")
        chunked = http.post("/api/documents", content=streamed(8 * MIB),
                            headers={"content-type": "multipart/form-data; boundary=limit-test"})
        assert "transfer-encoding" in chunked.request.headers and "content-length" not in chunked.request.headers
        assert_error(chunked, 413, "too-large")
    assert (small_hub.document_rows(), small_hub.register(), small_hub.blob_files()) == before
    assert list((small_hub.data / "blobs" / "tmp").iterdir()) == []

    big = workdir / "big.pdf"
    big.write_bytes(b"%PDF" + b"x" * (2 * MIB))
    refused = small_hub.cli("node", "send", str(big), "--as", "ha-noi", "--to", "central-office", cwd=workdir,
                            check=False)
    assert refused.returncode == 1 and "413" in refused.stderr and "too-large" in refused.stderr
    assert small_hub.document_rows() == before[0]


def test_a_file_of_exactly_the_limit_is_accepted(small_hub):
    with small_hub.http(small_hub.token("nghe-an")) as http:
        response = http.post("/api/documents", data={"metadata": metadata()},
                             files={"file": ("1mib.bin", b"y" * MIB)})
    assert response.status_code == 201, response.text
    assert response.json()["size"] == MIB
