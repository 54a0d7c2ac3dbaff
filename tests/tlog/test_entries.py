"""The documented leaf encoding: the worked example of docs/evidence-log.md is what our code
writes, and its leaf hash is what ``sha256sum`` computes from the bytes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange.tlog import EntryKind, decode_leaf, leaf_hash
from exchange.tlog.entries import MalformedEntryError, make_entry

DOC = Path(__file__).resolve().parents[2] / "docs" / "evidence-log.md"


def _example() -> tuple[bytes, str]:
    text = DOC.read_text(encoding="utf-8")
    leaf = re.search(r"```\n(\{\"at\".*\})\n```", text)
    digest = re.search(r"# ([0-9a-f]{64})", text)
    assert leaf and digest, "the worked example is missing from docs/evidence-log.md"
    return leaf.group(1).encode(), digest.group(1)


def test_the_documented_example_is_what_the_hub_writes() -> None:
    leaf, digest = _example()
    ours = make_entry(EntryKind.ACCEPTED, at=datetime(2015, 3, 16, 2, 15, 7, tzinfo=UTC), **{
        k: v for k, v in json.loads(leaf).items() if k not in ("v", "kind", "at")})
    assert ours == leaf
    # any JSON library recomputes it: sorted keys, no spaces, UTF-8
    assert json.dumps(json.loads(leaf), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == leaf
    assert leaf_hash(leaf).hex() == digest


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="no sha256sum")
def test_sha256sum_agrees_on_the_leaf_hash(tmp_path: Path) -> None:
    leaf, digest = _example()
    (tmp_path / "leaf").write_bytes(b"\x00" + leaf)
    done = subprocess.run(["sha256sum", str(tmp_path / "leaf")], capture_output=True, text=True, check=True)
    assert done.stdout.split()[0] == digest


def test_non_ascii_is_kept_as_utf8_and_must_be_canonical() -> None:
    leaf = make_entry(EntryKind.INCOMING, at=datetime(2015, 1, 2, tzinfo=UTC), from_agency="Bộ Tài chính")
    assert "Bộ Tài chính".encode() in leaf
    assert decode_leaf(leaf)["from_agency"] == "Bộ Tài chính"
    for bad in (b'{"kind": "x", "at": "t"}', b'{"at":"t","kind":"x","v":1.0}'[:-1] + b" }", b"\xff", b"[]"):
        with pytest.raises(MalformedEntryError):
            decode_leaf(bad)
