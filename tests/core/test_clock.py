"""Clocks: the frozen one moves only when told; the shifted one runs from another moment."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from core.clock import LONDON, FrozenClock, ShiftedClock

START = datetime(2025, 12, 23, 10, 0, tzinfo=LONDON)


def test_a_frozen_clock_moves_only_when_told() -> None:
    clock = FrozenClock(START)
    assert clock.now() == START
    clock.advance(timedelta(hours=1))
    assert clock.now() == START + timedelta(hours=1)


def test_a_shifted_clock_starts_at_its_moment_and_runs() -> None:
    clock = ShiftedClock(START)
    first = clock.now()
    assert first.tzinfo == UTC
    assert timedelta(0) <= first - START < timedelta(seconds=5)
    time.sleep(0.01)
    assert clock.now() > first


def test_a_shifted_clock_jumps_ahead() -> None:
    clock = ShiftedClock(START)
    clock.advance(timedelta(days=2))
    assert clock.now() - START >= timedelta(days=2)


@pytest.mark.parametrize("clock_type", [FrozenClock, ShiftedClock])
def test_naive_moments_are_refused(clock_type: type[FrozenClock] | type[ShiftedClock]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        clock_type(datetime(2025, 12, 23, 10, 0))  # noqa: DTZ001
