"""Clocks (exchange/clock.py): a simulated calendar stands, runs at its rate, stops; processes
share it through a file re-read when it changes."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exchange.clock import ClockFile, SimulatedClock, SystemClock, clock_from_option
from exchange.errors import InputError

START = datetime(2015, 1, 5, tzinfo=UTC)


def test_a_simulated_clock_stands_until_started_runs_at_its_rate_and_stops_at_its_end() -> None:
    clock = SimulatedClock(start=START, rate=86400.0, end=START + timedelta(days=10))
    assert clock.at_real(1_000.0) == START  # not started: stands at the first day
    running = clock.started(at=1_000.0)
    assert running.at_real(999.0) == START
    assert running.at_real(1_001.5) == START + timedelta(days=1.5)  # a day per real second
    assert running.at_real(1_100.0) == START + timedelta(days=10)  # stopped at its end
    assert running.scale(timedelta(minutes=15)) == timedelta(days=15 * 60)
    assert SimulatedClock.from_dict(running.to_dict()) == running


def test_bad_clocks_are_input_errors() -> None:
    with pytest.raises(InputError, match="timezone-aware"):
        SimulatedClock(start=datetime(2015, 1, 5))
    with pytest.raises(InputError, match="rate must be positive"):
        SimulatedClock(start=START, rate=0)
    with pytest.raises(InputError, match="cannot end before it starts"):
        SimulatedClock(start=START, end=START - timedelta(seconds=1))
    with pytest.raises(InputError, match="not a simulated clock"):
        SimulatedClock.from_dict({"start": "yesterday"})


def test_a_clock_file_is_shared_and_re_read_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    ClockFile.write(path, SimulatedClock(start=START, rate=1000.0))
    shared = ClockFile(path, reload_interval=0.0)
    assert shared.now() == START and shared.scale(timedelta(seconds=1)) == timedelta(seconds=1000)
    # the demo starts the clock: every reader sees it running (the anchor is in the past here)
    ClockFile.write(path, SimulatedClock(start=START, rate=1000.0).started(at=datetime.now(UTC).timestamp() - 2))
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    assert shared.now() >= START + timedelta(seconds=1900)
    assert json.loads(path.read_text())["anchor"] is not None
    assert isinstance(clock_from_option(None), SystemClock)
    assert isinstance(clock_from_option(str(path)), ClockFile)


def test_a_missing_or_broken_clock_file_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the clock file"):
        ClockFile(tmp_path / "nowhere.json")
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2]")
    with pytest.raises(InputError, match="not a JSON object"):
        ClockFile(broken)
