"""Clocks: where "now" comes from, as one object passed to whoever needs the time.

Every sign, verify and register call takes its time as a parameter; the edges (the hub's
requests, a node process, the demo's CA) ask a :class:`Clock` for it. Two kinds:

- :class:`SystemClock` — the real time (the default everywhere);
- :class:`SimulatedClock` — the programme's calendar run fast: it stands at ``start`` until it
  is started (``anchor``, a real wall-clock time), then advances ``rate`` simulated seconds
  per real second, and stops at ``end``. The demo runs its hub and nodes on one so that a year
  of 2015 passes in a minute: signing times, register rows, receipts and revocations all fall
  in 2015, and the certificates are issued for then.

Processes share a simulated clock through a small JSON file (:class:`ClockFile`): the demo
writes it before starting the hub and the nodes, and writes the anchor into it when the
traffic starts; each process re-reads it when it changes. ``clock.scale(real)`` says how much
clock time passes in a real duration, so session lifetimes (tokens, challenges) stay a few
real minutes whatever the rate.

TLS stacks check certificate validity at the *real* time: a hub's TLS certificate must be
valid now even when the demo's signing certificates are issued for 2015 (see
``docs/measures.md``, "The demo's calendar").
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from exchange.errors import InputError, InputFileError

#: the longest duration :meth:`SimulatedClock.scale` returns (a century)
MAX_SCALED = timedelta(days=36525)


def utc_iso(moment: datetime) -> str:
    """*moment* as the project writes times: UTC, ISO 8601, ``Z`` for ``+00:00``, microseconds
    only when not zero (``2015-03-02T08:00:00Z``); a naive *moment* is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@runtime_checkable
class Clock(Protocol):
    """Where "now" comes from."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def scale(self, real: timedelta) -> timedelta:
        """How much clock time passes during *real* (wall-clock) time."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """The real time now, timezone-aware UTC."""
        return datetime.now(UTC)

    def scale(self, real: timedelta) -> timedelta:
        """*real* unchanged: real time passes at its own pace."""
        return real

    def __repr__(self) -> str:
        return "SystemClock()"


@dataclass(frozen=True)
class SimulatedClock:
    """The programme's calendar run fast (see the module docstring). ``anchor`` is a POSIX
    time (seconds, the real wall clock shared by every process on the machine); ``None``
    means the clock has not started and stands at ``start``."""

    start: datetime
    rate: float = 1.0
    end: datetime | None = None
    anchor: float | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise InputError("a simulated clock's start and end must be timezone-aware")
        if not self.rate > 0:
            raise InputError(f"a simulated clock's rate must be positive, not {self.rate}")
        if self.end is not None and self.end < self.start:
            raise InputError("a simulated clock cannot end before it starts")

    def now(self) -> datetime:
        """The calendar's time now: ``start`` plus the real seconds since ``anchor`` times ``rate``
        (``start`` before it starts)."""
        return self.at_real(time.time())

    def at_real(self, wall: float) -> datetime:
        """The simulated time at real POSIX time *wall*."""
        if self.anchor is None or wall <= self.anchor:
            return self.start.astimezone(UTC)
        moment = self.start + timedelta(seconds=(wall - self.anchor) * self.rate)
        if self.end is not None and moment > self.end:
            moment = self.end
        return moment.astimezone(UTC)

    def scale(self, real: timedelta) -> timedelta:
        # capped: a lifetime past the calendar's end is "forever" (and datetime stops at 9999)
        """How much calendar time passes in *real* time (``rate`` times it), capped so that
        lifetimes past the calendar's end stay representable."""
        return min(real * self.rate, MAX_SCALED)

    def started(self, *, at: float) -> SimulatedClock:
        """This clock, running from real POSIX time *at*."""
        return replace(self, anchor=at)

    def to_dict(self) -> dict[str, Any]:
        """The clock as the JSON of a clock file (start, rate, end, anchor)."""
        return {"start": self.start.isoformat(), "rate": self.rate,
                "end": self.end.isoformat() if self.end else None, "anchor": self.anchor}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "a clock") -> SimulatedClock:
        """Raises InputError naming *source* for anything malformed."""
        try:
            start = datetime.fromisoformat(str(data["start"]))
            end = datetime.fromisoformat(str(data["end"])) if data.get("end") else None
            anchor = data.get("anchor")
            return cls(start=start, rate=float(data.get("rate", 1.0)), end=end,
                       anchor=float(anchor) if anchor is not None else None)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{source} is not a simulated clock: {exc}") from None


class ClockFile:
    """A :class:`SimulatedClock` shared through a JSON file, re-read (at most every
    *reload_interval* real seconds) when the file changes: how the demo's hub and nodes keep
    one clock. :meth:`write` is atomic (a temporary file, then a rename)."""

    def __init__(self, path: Path, *, reload_interval: float = 0.05) -> None:
        self.path = path
        self.reload_interval = reload_interval
        self._lock = threading.Lock()
        self._checked = 0.0
        self._mtime: int | None = None
        self._clock = self._read()

    def _read(self) -> SimulatedClock:
        try:
            text = self.path.read_text(encoding="utf-8")
            self._mtime = self.path.stat().st_mtime_ns
        except OSError as exc:
            raise InputFileError(f"cannot read the clock file {self.path}: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise InputError(f"the clock file {self.path} is not JSON") from None
        if not isinstance(data, dict):
            raise InputError(f"the clock file {self.path} is not a JSON object")
        return SimulatedClock.from_dict(data, source=f"the clock file {self.path}")

    @property
    def clock(self) -> SimulatedClock:
        """The clock as last read (re-read if the file changed)."""
        moment = time.monotonic()
        if moment - self._checked >= self.reload_interval:
            with self._lock:
                self._checked = moment
                try:
                    changed = self.path.stat().st_mtime_ns != self._mtime
                except OSError:
                    changed = False  # keep the last clock rather than lose time
                if changed:
                    try:
                        self._clock = self._read()
                    except InputError:
                        pass  # being rewritten: the rename makes this rare; read it next time
        return self._clock

    def now(self) -> datetime:
        """The shared clock's time now, re-reading the file if it changed."""
        return self.clock.now()

    def scale(self, real: timedelta) -> timedelta:
        """How much calendar time passes in *real* time, by the shared clock."""
        return self.clock.scale(real)

    @staticmethod
    def write(path: Path, clock: SimulatedClock) -> None:
        """Write *clock* to *path* atomically."""
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(clock.to_dict(), out)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def __repr__(self) -> str:
        return f"ClockFile({str(self.path)!r})"


def clock_from_option(text: str | None) -> Clock:
    """``--clock``: nothing for the real time, else a clock file (see :class:`ClockFile`)."""
    if text is None or not text.strip():
        return SystemClock()
    return ClockFile(Path(text))
