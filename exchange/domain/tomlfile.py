"""Reading the project's TOML files (bodies, target profiles, scenarios) with one set of errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from exchange.errors import InputError


def read_toml(path: Path, *, what: str, error: type[InputError]) -> dict[str, Any]:
    """The parsed TOML at *path*; raises *error* saying whether *what* (``"bodies file"``…)
    is missing, unreadable or not valid TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {what} {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"cannot read {what} {path}: not valid TOML: {exc}") from None
