"""A monitor's memory: the last checkpoint it accepted, and the check that each new one
extends it (a consistency proof), as CT monitors and tlog witnesses do.

A hub that rewrote, reordered or dropped any entry it had already published cannot produce a
consistency proof from the old root to its new one: the monitor reports it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exchange.errors import InputFileError
from exchange.tlog import Checkpoint, verify_consistency


@dataclass(frozen=True)
class WatchResult:
    """A monitor's answer to a new checkpoint: whether it extends the last one accepted, and a line
    saying why (not)."""

    ok: bool
    message: str


def load_state(path: Path) -> Checkpoint | None:
    """The checkpoint saved in *path* (None if the file does not exist yet)."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Checkpoint(str(data["origin"]), int(data["size"]), base64.b64decode(data["root_hash"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputFileError(f"{path}: not a watch state file ({exc})") from None


def save_state(path: Path, checkpoint: Checkpoint) -> None:
    """Write *checkpoint* to *path* whole (a temporary file renamed over it)."""
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps({"origin": checkpoint.origin, "size": checkpoint.size,
                                   "root_hash": base64.b64encode(checkpoint.root).decode()}) + "\n",
                       encoding="utf-8")
    partial.replace(path)


def check_extension(old: Checkpoint | None, new: Checkpoint,
                    consistency: Callable[[int, int], list[bytes]]) -> WatchResult:
    """Whether *new* extends *old* (fetching the proof with *consistency(first, second)*)."""
    if old is None:
        return WatchResult(True, f"first checkpoint: {new.size} entries")
    if new.origin != old.origin:
        return WatchResult(False, f"the log's origin changed from {old.origin} to {new.origin}")
    if new.size < old.size:
        return WatchResult(False, f"the log shrank from {old.size} to {new.size} entries: history was rewritten")
    if new.size == old.size:
        if new.root != old.root:
            return WatchResult(False, f"two different roots for {new.size} entries: history was rewritten")
        return WatchResult(True, f"unchanged: {new.size} entries")
    proof = consistency(old.size, new.size)
    if not verify_consistency(old.size, new.size, old.root, new.root, proof):
        return WatchResult(False, f"no valid consistency proof from {old.size} to {new.size} entries: "
                                  "history was rewritten")
    return WatchResult(True, f"{old.size} → {new.size} entries, consistent")
