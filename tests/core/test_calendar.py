"""Working-day arithmetic against the real England and Wales bank holidays of 2024-2028.

The expected dates were worked out by hand from the published bank holidays (gov.uk), not from
the ``holidays`` package the calendar uses:

- 2024: Mon 1 Jan, Fri 29 Mar, Mon 1 Apr, Mon 6 May, Mon 27 May, Mon 26 Aug, Wed 25 Dec, Thu 26 Dec
- 2025: Wed 1 Jan, Fri 18 Apr, Mon 21 Apr, Mon 5 May, Mon 26 May, Mon 25 Aug, Thu 25 Dec,
  Fri 26 Dec
- 2026: Thu 1 Jan, Fri 3 Apr, Mon 6 Apr, Mon 4 May, Mon 25 May, Mon 31 Aug, Fri 25 Dec,
  Mon 28 Dec (Boxing Day, Sat 26 Dec, substitute)
- 2027: Fri 1 Jan, Fri 26 Mar, Mon 29 Mar, Mon 3 May, Mon 31 May, Mon 30 Aug,
  Mon 27 Dec and Tue 28 Dec (Christmas Day and Boxing Day fall on Sat/Sun: substitutes)
- 2028: Mon 3 Jan (New Year's Day, Sat 1 Jan, substitute), Fri 14 Apr, Mon 17 Apr, Mon 1 May,
  Mon 29 May, Mon 28 Aug, Mon 25 Dec, Tue 26 Dec
- 2029 (reached by deadlines late in 2028): Mon 1 Jan

British Summer Time: 2026 from Sun 29 Mar 01:00 UTC to Sun 25 Oct 01:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendar import WorkingDayCalendar
from core.errors import ConfigurationError

LONDON = ZoneInfo("Europe/London")
CALENDAR = WorkingDayCalendar()
# A Christmas shutdown from Tuesday 29 to Thursday 31 December 2026 (the days between the
# Boxing Day substitute and New Year's Day).
SHUTDOWN_2026 = (date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31))
SHUTDOWN_CALENDAR = WorkingDayCalendar(closure_days=SHUTDOWN_2026)
CUTOFF_CALENDAR = WorkingDayCalendar(cutoff=time(17, 0))


def london(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # 2024
        pytest.param(date(2024, 1, 1), False, id="2024-new-year"),
        pytest.param(date(2024, 1, 2), True, id="2024-first-working-day"),
        pytest.param(date(2024, 3, 28), True, id="2024-maundy-thursday"),
        pytest.param(date(2024, 3, 29), False, id="2024-good-friday"),
        pytest.param(date(2024, 4, 1), False, id="2024-easter-monday"),
        pytest.param(date(2024, 5, 6), False, id="2024-early-may"),
        pytest.param(date(2024, 5, 13), True, id="2024-ordinary-monday"),
        pytest.param(date(2024, 5, 27), False, id="2024-spring"),
        pytest.param(date(2024, 8, 26), False, id="2024-summer"),
        pytest.param(date(2024, 12, 25), False, id="2024-christmas-wednesday"),
        pytest.param(date(2024, 12, 26), False, id="2024-boxing-day-thursday"),
        pytest.param(date(2024, 12, 27), True, id="2024-friday-after-boxing-day"),
        pytest.param(date(2024, 12, 28), False, id="2024-saturday"),
        pytest.param(date(2024, 12, 29), False, id="2024-sunday"),
        # 2025
        pytest.param(date(2025, 1, 1), False, id="2025-new-year"),
        pytest.param(date(2025, 4, 18), False, id="2025-good-friday"),
        pytest.param(date(2025, 4, 21), False, id="2025-easter-monday"),
        pytest.param(date(2025, 4, 22), True, id="2025-tuesday-after-easter"),
        pytest.param(date(2025, 5, 5), False, id="2025-early-may"),
        pytest.param(date(2025, 5, 26), False, id="2025-spring"),
        pytest.param(date(2025, 8, 25), False, id="2025-summer"),
        pytest.param(date(2025, 12, 25), False, id="2025-christmas-thursday"),
        pytest.param(date(2025, 12, 26), False, id="2025-boxing-day-friday"),
        pytest.param(date(2025, 12, 29), True, id="2025-monday-after-christmas"),
        # 2026
        pytest.param(date(2026, 1, 1), False, id="2026-new-year"),
        pytest.param(date(2026, 1, 2), True, id="2026-friday-after-new-year"),
        pytest.param(date(2026, 4, 3), False, id="2026-good-friday"),
        pytest.param(date(2026, 4, 6), False, id="2026-easter-monday"),
        pytest.param(date(2026, 5, 4), False, id="2026-early-may"),
        pytest.param(date(2026, 5, 25), False, id="2026-spring"),
        pytest.param(date(2026, 8, 31), False, id="2026-summer"),
        pytest.param(date(2026, 12, 24), True, id="2026-christmas-eve"),
        pytest.param(date(2026, 12, 25), False, id="2026-christmas-friday"),
        pytest.param(date(2026, 12, 26), False, id="2026-boxing-day-saturday"),
        pytest.param(date(2026, 12, 28), False, id="2026-boxing-day-substitute-monday"),
        pytest.param(date(2026, 12, 29), True, id="2026-tuesday-after-substitute"),
        # 2027
        pytest.param(date(2027, 1, 1), False, id="2027-new-year"),
        pytest.param(date(2027, 1, 4), True, id="2027-first-monday"),
        pytest.param(date(2027, 3, 26), False, id="2027-good-friday"),
        pytest.param(date(2027, 3, 29), False, id="2027-easter-monday"),
        pytest.param(date(2027, 5, 3), False, id="2027-early-may"),
        pytest.param(date(2027, 5, 31), False, id="2027-spring"),
        pytest.param(date(2027, 8, 30), False, id="2027-summer"),
        pytest.param(date(2027, 12, 24), True, id="2027-christmas-eve-friday"),
        pytest.param(date(2027, 12, 25), False, id="2027-christmas-saturday"),
        pytest.param(date(2027, 12, 26), False, id="2027-boxing-day-sunday"),
        pytest.param(date(2027, 12, 27), False, id="2027-christmas-substitute-monday"),
        pytest.param(date(2027, 12, 28), False, id="2027-boxing-day-substitute-tuesday"),
        pytest.param(date(2027, 12, 29), True, id="2027-wednesday-after-substitutes"),
        pytest.param(date(2027, 12, 31), True, id="2027-new-years-eve-friday"),
        # 2028
        pytest.param(date(2028, 1, 1), False, id="2028-new-year-saturday"),
        pytest.param(date(2028, 1, 3), False, id="2028-new-year-substitute-monday"),
        pytest.param(date(2028, 1, 4), True, id="2028-tuesday-after-substitute"),
        pytest.param(date(2028, 4, 14), False, id="2028-good-friday"),
        pytest.param(date(2028, 4, 17), False, id="2028-easter-monday"),
        pytest.param(date(2028, 5, 1), False, id="2028-early-may"),
        pytest.param(date(2028, 5, 29), False, id="2028-spring"),
        pytest.param(date(2028, 8, 28), False, id="2028-summer"),
        pytest.param(date(2028, 12, 25), False, id="2028-christmas-monday"),
        pytest.param(date(2028, 12, 26), False, id="2028-boxing-day-tuesday"),
        pytest.param(date(2028, 12, 27), True, id="2028-wednesday-after-boxing-day"),
        pytest.param(date(2029, 1, 1), False, id="2029-new-year"),
    ],
)
def test_is_working_day(day: date, expected: bool) -> None:
    assert CALENDAR.is_working_day(day) is expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param(date(2026, 3, 11), 0, date(2026, 3, 11), id="zero-is-start"),
        pytest.param(date(2026, 12, 26), 0, date(2026, 12, 26), id="zero-on-a-holiday-is-start"),
        pytest.param(date(2026, 3, 11), 1, date(2026, 3, 12), id="next-day"),
        pytest.param(date(2026, 3, 13), 1, date(2026, 3, 16), id="friday-to-monday"),
        # CHC-6.2: received on a Saturday, day 0 is that Saturday; Mon-Fri are days 1-5.
        pytest.param(date(2026, 3, 7), 5, date(2026, 3, 13), id="CHC-6.2-saturday-to-friday"),
        pytest.param(date(2026, 3, 8), 5, date(2026, 3, 13), id="CHC-6.2-sunday-to-friday"),
        # CODE.md: 24, 29, 30, 31 Dec 2026 and 4 Jan 2027.
        pytest.param(date(2026, 12, 23), 5, date(2027, 1, 4), id="CHC-6.2-code-example"),
        # ... then 5, 6, 7, 8, 11 Jan.
        pytest.param(date(2026, 12, 23), 10, date(2027, 1, 11), id="CHC-6.3-code-example"),
        # 24 Dec (1), 27 Dec (2), 30, 31 Dec (4), [1 Jan], 2 Jan (5).
        pytest.param(date(2024, 12, 23), 5, date(2025, 1, 2), id="2024-year-end"),
        # ... 3 Jan (6), 6-10 Jan (11), 13-17 Jan (16), 20-23 Jan (20).
        pytest.param(date(2024, 12, 23), 20, date(2025, 1, 23), id="2024-year-end-20"),
        # [25, 26 Dec], 29, 30, 31 Dec (3), [1 Jan], 2 Jan (4), 5 Jan (5).
        pytest.param(date(2025, 12, 24), 5, date(2026, 1, 5), id="2025-year-end"),
        # [27, 28 Dec], 29, 30, 31 Dec (3), [1 Jan Sat, 3 Jan substitute], 4, 5 Jan (5).
        pytest.param(date(2027, 12, 24), 5, date(2028, 1, 5), id="2027-substitutes-both-ends"),
        pytest.param(date(2027, 12, 24), 1, date(2027, 12, 29), id="2027-christmas-substitutes"),
        pytest.param(date(2027, 12, 31), 1, date(2028, 1, 4), id="2028-new-year-substitute"),
        # [25, 26 Dec], 27, 28, 29 Dec (3), [1 Jan 2029], 2, 3 Jan (5).
        pytest.param(date(2028, 12, 22), 5, date(2029, 1, 3), id="2028-year-end"),
        # Easter: Good Friday and Easter Monday both skipped.
        pytest.param(date(2024, 3, 28), 1, date(2024, 4, 2), id="2024-easter"),
        # 22-25 Apr (4), 28 Apr (5).
        pytest.param(date(2025, 4, 17), 5, date(2025, 4, 28), id="2025-easter"),
        # 30 Mar, 31 Mar, 1 Apr, 2 Apr (4), 5 Apr (5).
        pytest.param(date(2027, 3, 25), 5, date(2027, 4, 5), id="2027-easter"),
        # 18-21 Apr (4), 24-28 Apr (9), [1 May early May], 2 May (10).
        pytest.param(date(2028, 4, 13), 10, date(2028, 5, 2), id="2028-easter-and-early-may"),
        pytest.param(date(2024, 8, 23), 1, date(2024, 8, 27), id="2024-summer"),
        pytest.param(date(2026, 5, 22), 1, date(2026, 5, 26), id="2026-spring"),
        pytest.param(date(2026, 4, 30), 2, date(2026, 5, 5), id="2026-early-may"),
        # 20 working days across Easter 2026: 7-10 Apr (4), 13-17 (9), 20-24 (14), 27-30 (18),
        # 1 May (19), [4 May], 5 May (20).
        pytest.param(date(2026, 4, 2), 20, date(2026, 5, 5), id="2026-easter-20"),
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert CALENDAR.add_working_days(start, n) == expected
    assert CALENDAR.working_days_between(start, expected) == n


def test_add_working_days_rejects_a_negative_count() -> None:
    with pytest.raises(ValueError, match="negative"):
        CALENDAR.add_working_days(date(2026, 3, 11), -1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(date(2026, 12, 23), date(2027, 1, 4), 5, id="code-example"),
        pytest.param(date(2026, 3, 11), date(2026, 3, 11), 0, id="same-day"),
        pytest.param(date(2026, 3, 12), date(2026, 3, 11), 0, id="end-before-start"),
        pytest.param(date(2026, 12, 24), date(2026, 12, 28), 0, id="christmas-2026-no-work"),
        pytest.param(date(2026, 3, 7), date(2026, 3, 8), 0, id="weekend"),
        pytest.param(date(2026, 3, 13), date(2026, 3, 16), 1, id="friday-to-monday"),
        # 2024 has 366 days: 262 weekdays, 8 of them bank holidays.
        pytest.param(date(2023, 12, 31), date(2024, 12, 31), 254, id="whole-of-2024"),
        # 2027: 261 weekdays, 8 bank holidays (27 and 28 Dec among them).
        pytest.param(date(2026, 12, 31), date(2027, 12, 31), 253, id="whole-of-2027"),
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert CALENDAR.working_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 3, 11), date(2026, 3, 11), id="working-day-itself"),
        pytest.param(date(2026, 3, 14), date(2026, 3, 16), id="saturday"),
        pytest.param(date(2026, 12, 25), date(2026, 12, 29), id="2026-christmas"),
        pytest.param(date(2027, 12, 25), date(2027, 12, 29), id="2027-christmas"),
        pytest.param(date(2028, 1, 1), date(2028, 1, 4), id="2028-new-year"),
    ],
)
def test_next_working_day_on_or_after(day: date, expected: date) -> None:
    assert CALENDAR.next_working_day_on_or_after(day) == expected


class TestClosureDays:
    @pytest.mark.parametrize("day", SHUTDOWN_2026)
    def test_a_closure_day_is_not_a_working_day(self, day: date) -> None:
        assert CALENDAR.is_working_day(day)
        assert not SHUTDOWN_CALENDAR.is_working_day(day)

    def test_CHC_6_2_a_shutdown_extends_the_acknowledgement_deadline(self) -> None:
        # 24 Dec (1), [25, 28 Dec holidays; 29-31 Dec shutdown; 1 Jan], 4, 5, 6, 7 Jan (5).
        assert SHUTDOWN_CALENDAR.add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 7)
        assert SHUTDOWN_CALENDAR.working_days_between(date(2026, 12, 23), date(2027, 1, 7)) == 5

    def test_a_closure_on_a_bank_holiday_or_weekend_changes_nothing(self) -> None:
        calendar = WorkingDayCalendar(closure_days=[date(2026, 12, 25), date(2026, 12, 26)])
        assert calendar.add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 4)
        assert calendar.working_days_between(date(2026, 12, 23), date(2027, 1, 4)) == 5

    def test_next_working_day_skips_the_shutdown(self) -> None:
        assert SHUTDOWN_CALENDAR.next_working_day_on_or_after(date(2026, 12, 25)) == date(
            2027, 1, 4
        )

    def test_a_datetime_is_not_a_closure_day(self) -> None:
        with pytest.raises(ConfigurationError, match="dates, not datetimes"):
            WorkingDayCalendar(closure_days=[datetime(2026, 12, 29, tzinfo=UTC)])


class TestReceivedOn:
    @pytest.mark.parametrize(
        ("moment", "expected"),
        [
            # Wednesday 11 March 2026, GMT.
            pytest.param(london(date(2026, 3, 11), time(9, 0)), date(2026, 3, 11), id="morning"),
            pytest.param(
                london(date(2026, 3, 11), time(16, 59, 59)), date(2026, 3, 11), id="just-before"
            ),
            pytest.param(london(date(2026, 3, 11), time(17, 0)), date(2026, 3, 12), id="at-cutoff"),
            pytest.param(
                london(date(2026, 3, 11), time(23, 59)), date(2026, 3, 12), id="late-evening"
            ),
            pytest.param(london(date(2026, 3, 12), time(0, 0)), date(2026, 3, 12), id="midnight"),
            # Friday evening counts from Monday.
            pytest.param(
                london(date(2026, 3, 13), time(17, 5)), date(2026, 3, 16), id="friday-evening"
            ),
            # Friday before the spring bank holiday counts from Tuesday.
            pytest.param(
                london(date(2026, 5, 22), time(18, 0)), date(2026, 5, 26), id="before-spring-bh"
            ),
            # Christmas Eve evening: [25 Dec, weekend, 28 Dec substitute] so Tuesday 29 Dec.
            pytest.param(
                london(date(2026, 12, 24), time(17, 30)), date(2026, 12, 29), id="christmas-eve"
            ),
            # Before the cut-off, a weekend day counts as itself (day 0, CODE.md).
            pytest.param(
                london(date(2026, 3, 14), time(10, 0)), date(2026, 3, 14), id="saturday-morning"
            ),
            pytest.param(
                london(date(2026, 3, 14), time(18, 0)), date(2026, 3, 16), id="saturday-evening"
            ),
            # The cut-off is London time: in summer 16:00 UTC is 17:00 BST.
            pytest.param(
                datetime(2026, 7, 15, 15, 59, tzinfo=UTC), date(2026, 7, 15), id="bst-before"
            ),
            pytest.param(
                datetime(2026, 7, 15, 16, 0, tzinfo=UTC), date(2026, 7, 16), id="bst-at-cutoff"
            ),
            # Either side of the change to BST (Sun 29 Mar 2026): 16:30 UTC is 16:30 GMT on
            # Friday 27 March, but 17:30 BST on Monday 30 March.
            pytest.param(
                datetime(2026, 3, 27, 16, 30, tzinfo=UTC), date(2026, 3, 27), id="gmt-to-bst-fri"
            ),
            pytest.param(
                datetime(2026, 3, 30, 16, 30, tzinfo=UTC), date(2026, 3, 31), id="gmt-to-bst-mon"
            ),
            # Either side of the change back to GMT (Sun 25 Oct 2026): 16:30 UTC is 17:30 BST on
            # Friday 23 October (so Monday 26th), but 16:30 GMT on Monday 26 October.
            pytest.param(
                datetime(2026, 10, 23, 16, 30, tzinfo=UTC), date(2026, 10, 26), id="bst-to-gmt-fri"
            ),
            pytest.param(
                datetime(2026, 10, 26, 16, 30, tzinfo=UTC), date(2026, 10, 26), id="bst-to-gmt-mon"
            ),
            # 23:30 UTC on 15 July is already 00:30 BST on 16 July in London.
            pytest.param(
                datetime(2026, 7, 15, 23, 30, tzinfo=UTC), date(2026, 7, 16), id="utc-next-day"
            ),
            # Any fixed offset is converted: 12:30 in New York (EST) is 17:30 in London.
            pytest.param(
                datetime(2026, 1, 14, 12, 30, tzinfo=timezone(timedelta(hours=-5))),
                date(2026, 1, 15),
                id="other-offset",
            ),
        ],
    )
    def test_with_a_1700_cutoff(self, moment: datetime, expected: date) -> None:
        assert CUTOFF_CALENDAR.received_on(moment) == expected

    @pytest.mark.parametrize(
        ("moment", "expected"),
        [
            pytest.param(
                london(date(2026, 3, 11), time(23, 59)), date(2026, 3, 11), id="late-evening"
            ),
            pytest.param(
                london(date(2026, 3, 13), time(23, 0)), date(2026, 3, 13), id="friday-night"
            ),
            pytest.param(
                london(date(2026, 12, 25), time(12, 0)), date(2026, 12, 25), id="christmas-day"
            ),
            pytest.param(
                datetime(2026, 7, 15, 23, 30, tzinfo=UTC), date(2026, 7, 16), id="utc-next-day"
            ),
            pytest.param(
                datetime(2026, 1, 14, 23, 30, tzinfo=UTC), date(2026, 1, 14), id="utc-is-gmt"
            ),
        ],
    )
    def test_without_a_cutoff_the_local_date_counts(self, moment: datetime, expected: date) -> None:
        assert CALENDAR.received_on(moment) == expected

    @pytest.mark.parametrize("calendar", [CALENDAR, CUTOFF_CALENDAR], ids=["plain", "cutoff"])
    def test_a_naive_datetime_is_rejected(self, calendar: WorkingDayCalendar) -> None:
        naive = datetime(2026, 3, 11, 12, 0, tzinfo=UTC).replace(tzinfo=None)
        with pytest.raises(ValueError, match="timezone-aware"):
            calendar.received_on(naive)

    def test_another_timezone(self) -> None:
        calendar = WorkingDayCalendar(cutoff=time(17, 0), timezone="Europe/Paris")
        # 16:30 UTC on a winter Friday is 17:30 in Paris.
        assert calendar.received_on(datetime(2026, 1, 16, 16, 30, tzinfo=UTC)) == date(2026, 1, 19)


class TestConfiguration:
    def test_unknown_country(self) -> None:
        with pytest.raises(ConfigurationError, match="'XX'"):
            WorkingDayCalendar(country="XX", subdivision=None)

    def test_unknown_subdivision(self) -> None:
        with pytest.raises(ConfigurationError, match="'NOWHERE'"):
            WorkingDayCalendar(subdivision="NOWHERE")

    def test_unknown_timezone(self) -> None:
        with pytest.raises(ConfigurationError, match="Mars/Olympus_Mons"):
            WorkingDayCalendar(timezone="Mars/Olympus_Mons")

    def test_cutoff_with_a_timezone(self) -> None:
        with pytest.raises(ConfigurationError, match="cut-off"):
            WorkingDayCalendar(cutoff=time(17, 0, tzinfo=UTC))

    def test_scotland_has_its_own_bank_holidays(self) -> None:
        # 2 January and St Andrew's Day (30 Nov 2026 is a Monday) are Scottish bank holidays.
        scotland = WorkingDayCalendar(subdivision="SCT")
        assert not scotland.is_working_day(date(2026, 1, 2))
        assert not scotland.is_working_day(date(2026, 11, 30))
        assert CALENDAR.is_working_day(date(2026, 11, 30))

    def test_exposes_cutoff_and_timezone(self) -> None:
        assert CUTOFF_CALENDAR.cutoff == time(17, 0)
        assert CALENDAR.cutoff is None
        assert CALENDAR.timezone == LONDON


# --- properties ---------------------------------------------------------------------------------

DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
COUNTS = st.integers(min_value=0, max_value=60)
CALENDARS = pytest.mark.parametrize(
    "calendar", [CALENDAR, SHUTDOWN_CALENDAR], ids=["england", "with-shutdown"]
)


def count_working_days_one_by_one(calendar: WorkingDayCalendar, start: date, end: date) -> int:
    return sum(
        calendar.is_working_day(start + timedelta(days=offset))
        for offset in range(1, (end - start).days + 1)
    )


@CALENDARS
@settings(max_examples=200, deadline=None)
@given(start=DAYS, n=st.integers(min_value=1, max_value=60))
def test_a_deadline_is_a_working_day_after_the_start(
    calendar: WorkingDayCalendar, start: date, n: int
) -> None:
    deadline = calendar.add_working_days(start, n)
    assert deadline > start
    assert calendar.is_working_day(deadline)


@CALENDARS
@settings(max_examples=200, deadline=None)
@given(start=DAYS, n=COUNTS)
def test_working_days_between_inverts_add_working_days(
    calendar: WorkingDayCalendar, start: date, n: int
) -> None:
    assert calendar.working_days_between(start, calendar.add_working_days(start, n)) == n


@CALENDARS
@settings(max_examples=200, deadline=None)
@given(first=DAYS, second=DAYS, n=COUNTS)
def test_later_start_never_gives_an_earlier_deadline(
    calendar: WorkingDayCalendar, first: date, second: date, n: int
) -> None:
    early, late = sorted((first, second))
    assert calendar.add_working_days(early, n) <= calendar.add_working_days(late, n)


@CALENDARS
@settings(max_examples=200, deadline=None)
@given(start=DAYS, n=COUNTS)
def test_one_more_working_day_is_strictly_later(
    calendar: WorkingDayCalendar, start: date, n: int
) -> None:
    assert calendar.add_working_days(start, n + 1) > calendar.add_working_days(start, n)


@CALENDARS
@settings(max_examples=200, deadline=None)
@given(start=DAYS, end=DAYS)
def test_working_days_between_counts_each_working_day(
    calendar: WorkingDayCalendar, start: date, end: date
) -> None:
    assert calendar.working_days_between(start, end) == count_working_days_one_by_one(
        calendar, start, end
    )


@CALENDARS
@settings(max_examples=200, deadline=None)
@given(day=DAYS)
def test_next_working_day_is_the_first_working_day_from(
    calendar: WorkingDayCalendar, day: date
) -> None:
    found = calendar.next_working_day_on_or_after(day)
    assert found >= day
    assert calendar.is_working_day(found)
    assert calendar.working_days_between(day, found) == (0 if found == day else 1)


# Hypothesis takes naive bounds and attaches one of `timezones` to each example.
@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2024, 1, 1),  # noqa: DTZ001
        max_value=datetime(2028, 12, 31),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, LONDON, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_receipt_with_a_cutoff_is_the_local_day_or_a_later_working_day(moment: datetime) -> None:
    local_day = moment.astimezone(LONDON).date()
    received = CUTOFF_CALENDAR.received_on(moment)
    assert CALENDAR.received_on(moment) == local_day
    assert received == local_day or (
        received > local_day and CUTOFF_CALENDAR.is_working_day(received)
    )
