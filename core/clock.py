"""The one place the current time is read.

Every component that needs "now" receives a :class:`Clock` through its constructor, so tests can
move time (deadlines, reminders, cut-offs) without patching the standard library.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


@runtime_checkable
class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> datetime:
        """Return the current moment as a timezone-aware datetime in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current moment in UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to; for tests, benchmarks and replays.

    Args:
        start: the moment the clock shows first; must be timezone-aware.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """Return the moment the clock was set to."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._now += delta

    def set(self, moment: datetime) -> None:
        """Move the clock to ``moment`` (timezone-aware)."""
        if moment.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._now = moment.astimezone(UTC)


class ShiftedClock:
    """The real clock, shifted to start at another moment; for end-to-end tests and demos.

    Time runs at its real speed from ``start`` (so rate limits and timeouts measured on the
    clock pass as they would), and :meth:`advance` jumps ahead (so a retry due in an hour is due
    now).

    Args:
        start: the moment the clock shows when created; must be timezone-aware.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs a timezone-aware datetime")
        self._offset = start.astimezone(UTC) - datetime.now(UTC)

    def now(self) -> datetime:
        """Return the real time, shifted."""
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        """Jump forward by ``delta``."""
        self._offset += delta
