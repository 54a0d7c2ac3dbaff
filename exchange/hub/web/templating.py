"""The Jinja2 environment of the pages: autoescaped templates and the filters they use.

Built by :func:`make_templates` when the app is created, never at import time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.templating import Jinja2Templates

from exchange.metrics.rounding import shown_units, units_text

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def percent(value: float | None, digits: int = 1) -> str:
    """``62.5 %`` (Vietnamese and SI style: a space before the sign), or ``–`` without data."""
    if value is None:
        return "–"
    return units_text(shown_units(round(value * 10**9), 10**9, digits=digits), digits)


def when(moment: datetime | str | None, *, seconds: bool = False) -> str:
    """A moment in UTC, ``2015-03-16 09:30 UTC`` (the unit the measures' periods use)."""
    if moment is None or moment == "":
        return "–"
    if isinstance(moment, str):
        try:
            parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment
        moment = parsed
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{text} UTC"


def day(moment: date | datetime | None) -> str:
    """A date or time as the pages show a day (``2015-06-30``); ``–`` for none."""
    if moment is None:
        return "–"
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC) if moment.tzinfo else moment
        return moment.strftime("%Y-%m-%d")
    return moment.isoformat()


def short_hash(value: str | None, length: int = 12) -> str:
    """The first *length* characters of a hash, with an ellipsis; ``–`` for none."""
    return "–" if not value else f"{value[:length]}…"


def size(value: int | None) -> str:
    """A size in bytes for people (bytes, KiB or MiB); ``–`` for none."""
    if value is None:
        return "–"
    for unit in ("bytes", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value = value / 1024  # type: ignore[assignment]
    return str(value)  # pragma: no cover


def make_templates() -> Jinja2Templates:
    """The pages' templates, autoescaped, with undefined names an error (not a blank)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(("html", "svg")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters: dict[str, Any] = {"percent": percent, "when": when, "day": day, "short_hash": short_hash,
                               "size": size}
    env.filters.update(filters)
    return Jinja2Templates(env=env)
