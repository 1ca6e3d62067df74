"""Working days: the unit every Complaint Handling Code timescale is counted in.

A working day is any day that is not a Saturday, a Sunday or a bank holiday (in England and
Wales by default: the ``holidays`` package, country ``GB``, subdivision ``ENG``), and not one of
the landlord's own closure days. The Code does not define the day of receipt: by default the day
a message arrives is day 0, even when it is not a working day, and a timescale of N working days
ends on the Nth working day after it. A landlord may set a daily cut-off, after which a message
counts as received on the next working day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import MAXYEAR, MINYEAR, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from core.errors import ConfigurationError

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


def _weekdays_up_to(day: date) -> int:
    """Count the Mondays to Fridays from 1 January of year 1 (a Monday) up to ``day`` inclusive."""
    full_weeks, rest = divmod(day.toordinal(), 7)
    return full_weeks * 5 + min(rest, 5)


class WorkingDayCalendar:
    """Which days are working days, and how to count them.

    Bank holidays are loaded from the ``holidays`` package one year at a time, when a date in
    that year (or next to it) is first asked about, and kept in a ``frozenset`` for fast lookups.

    Args:
        country: ISO 3166 code of the country whose bank holidays apply.
        subdivision: the country's subdivision, if any (``ENG`` covers England and Wales).
        closure_days: extra days the landlord is closed, e.g. a Christmas shutdown.
        cutoff: local time of day from which a message counts as received on the next working
            day; ``None`` (the default) means the day of arrival always counts.
        timezone: IANA name of the time zone in which days begin and end.

    Raises:
        ConfigurationError: the country, subdivision or time zone is unknown, or a closure day or
            the cut-off is of the wrong kind.
    """

    def __init__(
        self,
        *,
        country: str = "GB",
        subdivision: str | None = "ENG",
        closure_days: Iterable[date] = (),
        cutoff: time | None = None,
        timezone: str = "Europe/London",
    ) -> None:
        try:
            holidays.country_holidays(country, subdiv=subdivision, years=())
        except NotImplementedError as exc:
            raise ConfigurationError(
                f"no bank holidays known for country {country!r}, subdivision {subdivision!r}: "
                f"{exc}"
            ) from exc
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigurationError(f"unknown time zone {timezone!r}") from exc
        closures = frozenset(closure_days)
        if any(isinstance(day, datetime) for day in closures):
            raise ConfigurationError("closure days must be dates, not datetimes")
        if cutoff is not None and cutoff.tzinfo is not None:
            raise ConfigurationError(
                f"the cut-off must be a local time of day without a time zone (got {cutoff}); "
                f"it is read in {timezone}"
            )
        self._country = country
        self._subdivision = subdivision
        self._closure_days = closures
        self._cutoff = cutoff
        self._zone = zone
        self._loaded_years: frozenset[int] = frozenset()
        # Bank holidays of the loaded years together with the closure days: every date in here
        # that falls on a Monday to Friday is a day off.
        self._days_off: frozenset[date] = closures

    @property
    def cutoff(self) -> time | None:
        """The local time from which a message counts as received the next working day."""
        return self._cutoff

    @property
    def timezone(self) -> ZoneInfo:
        """The time zone in which days begin and end."""
        return self._zone

    def is_working_day(self, day: date) -> bool:
        """Tell whether ``day`` is a working day.

        Args:
            day: the day to check.

        Returns:
            ``False`` on Saturdays, Sundays, bank holidays (substitute days included) and closure
            days; ``True`` otherwise.
        """
        if day.weekday() >= _SATURDAY:
            return False
        if day.year not in self._loaded_years:
            self._load_years(day.year, day.year)
        return day not in self._days_off

    def add_working_days(self, start: date, n: int) -> date:
        """Find the ``n``-th working day after ``start``.

        ``start`` is day 0 whether or not it is a working day itself, so a timescale of ``n``
        working days that starts on ``start`` ends on the returned day.

        Args:
            start: day 0.
            n: how many working days to count; ``0`` returns ``start`` unchanged.

        Returns:
            The ``n``-th working day after ``start``.

        Raises:
            ValueError: ``n`` is negative.
        """
        if n < 0:
            raise ValueError(f"cannot count a negative number of working days ({n})")
        day = start
        remaining = n
        year = -1
        days_off = self._days_off
        while remaining:
            day += _ONE_DAY
            if day.weekday() >= _SATURDAY:
                continue
            if day.year != year:
                year = day.year
                if year not in self._loaded_years:
                    self._load_years(year, year)
                days_off = self._days_off
            if day not in days_off:
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Count the working days after ``start`` up to and including ``end``.

        This is the inverse of :meth:`add_working_days`:
        ``working_days_between(s, add_working_days(s, n)) == n``.

        Args:
            start: day 0, not counted.
            end: the last day counted.

        Returns:
            The number of working days ``d`` with ``start < d <= end``; ``0`` if ``end`` is not
            after ``start``.
        """
        if end <= start:
            return 0
        self._load_years(start.year, end.year)
        weekdays = _weekdays_up_to(end) - _weekdays_up_to(start)
        days_off = sum(
            1 for day in self._days_off if start < day <= end and day.weekday() < _SATURDAY
        )
        return weekdays - days_off

    def next_working_day_on_or_after(self, day: date) -> date:
        """Return ``day`` if it is a working day, otherwise the first working day after it.

        Args:
            day: the first day considered.

        Returns:
            The earliest working day on or after ``day``.
        """
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def received_on(self, moment: datetime) -> date:
        """Return the day a message that arrived at ``moment`` counts as received (day 0).

        The moment is read in the calendar's time zone. Without a cut-off, or before it, the
        message counts from that local date, even a weekend or a bank holiday. At or after the
        cut-off it counts from the next working day.

        Args:
            moment: when the message arrived; must be timezone-aware.

        Returns:
            The day of receipt, from which the Code's timescales are counted.

        Raises:
            ValueError: ``moment`` is a naive datetime.
        """
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"the moment of receipt must be timezone-aware (got {moment!r})")
        local = moment.astimezone(self._zone)
        if self._cutoff is not None and local.time() >= self._cutoff:
            return self.add_working_days(local.date(), 1)
        return local.date()

    def _load_years(self, first: int, last: int) -> None:
        """Make sure the bank holidays of the years ``first`` to ``last`` are known.

        The neighbouring years are loaded too, in case a substitute day for a holiday of one
        year falls in the next or the previous one.
        """
        wanted = range(max(first - 1, MINYEAR), min(last + 1, MAXYEAR) + 1)
        missing = [year for year in wanted if year not in self._loaded_years]
        if not missing:
            return
        bank_holidays = holidays.country_holidays(
            self._country, subdiv=self._subdivision, years=missing
        )
        # Publish the dates before the years, so a reader that sees a year as loaded also sees
        # its holidays.
        self._days_off = self._days_off | frozenset(bank_holidays)
        self._loaded_years = self._loaded_years | frozenset(missing)


def long_date(day: date) -> str:
    """Write a date the way residents read it: ``Friday 8 January 2027``."""
    return f"{day:%A} {day.day} {day:%B %Y}"
