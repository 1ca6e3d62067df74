"""The Code's timescales (CHC-6.2 to CHC-6.15) and the deadlines they set.

Expected dates are counted by hand on the England and Wales bank holidays; the ones that matter
here are Fri 25 and Mon 28 Dec 2026 (Boxing Day substitute), Fri 1 Jan 2027, Good Friday
26 Mar and Easter Monday 29 Mar 2027, and Mon 3 May 2027 (early May).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from core.calendar import WorkingDayCalendar
from core.deadlines import CODE_MAXIMUMS, CODE_RULES, DeadlineRules, DeadlineSummary, Timescales
from core.errors import ConfigurationError, TimescaleTooLongError

LONDON = ZoneInfo("Europe/London")
CALENDAR = WorkingDayCalendar()
RULES = DeadlineRules(CALENDAR, Timescales())

FIELDS = [
    ("stage1_acknowledge", 5, "CHC-6.2"),
    ("stage1_response", 10, "CHC-6.3"),
    ("stage1_extension", 10, "CHC-6.4"),
    ("stage2_acknowledge", 5, "CHC-6.11"),
    ("stage2_response", 20, "CHC-6.14"),
    ("stage2_extension", 20, "CHC-6.15"),
]
FIELD_PARAMS = [pytest.param(*field, id=f"{field[2]}-{field[0]}") for field in FIELDS]


class TestSummary:
    def test_the_code_md_example(self) -> None:
        # Received Wednesday 23 December 2026 (day 0). Working days from there:
        #   24 Dec (1); [25 Dec, weekend, 28 Dec substitute]; 29, 30, 31 Dec (4); [1 Jan, weekend];
        #   4 Jan (5); 5-8 Jan (9); 11 Jan (10); 12-15 Jan (14); 18 Jan (15); 19-22 Jan (19);
        #   25 Jan (20).
        # From Mon 4 Jan 2027 (no more holidays until Good Friday): +10 is Mon 18 Jan.
        # From Mon 18 Jan: +10 is Mon 1 Feb (19-22 Jan, 25-29 Jan, 1 Feb).
        # From Mon 25 Jan: +20 is Mon 22 Feb (26-29 Jan, 1-5, 8-12, 15-19 Feb, 22 Feb).
        summary = RULES.summary(datetime(2026, 12, 23, 10, 30, tzinfo=LONDON))
        assert summary == DeadlineSummary(
            received_on=date(2026, 12, 23),
            acknowledge_by=date(2027, 1, 4),  # CHC-6.2: 5 working days from receipt
            stage1_response_by=date(2027, 1, 11),  # CHC-6.3: 10 from an acknowledgement on day 0
            stage1_response_by_latest=date(2027, 1, 18),  # CHC-6.3: 10 from Mon 4 Jan
            stage1_extended_by=date(2027, 2, 1),  # CHC-6.4: 10 more from Mon 18 Jan
            stage2_acknowledge_by=date(2027, 1, 4),  # CHC-6.11: 5 from a request on day 0
            stage2_response_by=date(2027, 1, 25),  # CHC-6.14: 20 from an acknowledgement on day 0
            stage2_extended_by=date(2027, 2, 22),  # CHC-6.15: 20 more from Mon 25 Jan
        )

    def test_CHC_6_2_received_on_a_saturday_acknowledge_by_friday(self) -> None:
        # Saturday 7 March 2026 is day 0; Monday 9 to Friday 13 March are days 1 to 5.
        summary = RULES.summary(datetime(2026, 3, 7, 11, 0, tzinfo=LONDON))
        assert summary.received_on == date(2026, 3, 7)
        assert summary.acknowledge_by == date(2026, 3, 13)

    def test_received_just_before_easter_2027(self) -> None:
        # Wednesday 24 March 2027: 25 Mar (1); [Good Friday 26, weekend, Easter Monday 29];
        # 30, 31 Mar, 1 Apr (4); 2 Apr (5); 5-9 Apr (10); 12-16 Apr (15); 19-23 Apr (20).
        # Then +10 from Fri 16 Apr: 19-23, 26-30 Apr, so Fri 30 Apr; +20 from Fri 23 Apr:
        # 26-30 Apr (5), [3 May], 4-7 May (9), 10-14 (14), 17-21 (19), 24 May (20).
        summary = RULES.summary(datetime(2027, 3, 24, 9, 15, tzinfo=LONDON))
        assert summary.model_dump() == {
            "received_on": date(2027, 3, 24),
            "acknowledge_by": date(2027, 4, 2),
            "stage1_response_by": date(2027, 4, 9),
            "stage1_response_by_latest": date(2027, 4, 16),
            "stage1_extended_by": date(2027, 4, 30),
            "stage2_acknowledge_by": date(2027, 4, 2),
            "stage2_response_by": date(2027, 4, 23),
            "stage2_extended_by": date(2027, 5, 24),
        }

    def test_a_message_after_the_cutoff_counts_from_the_next_working_day(self) -> None:
        rules = DeadlineRules(WorkingDayCalendar(cutoff=time(17, 0)), Timescales())
        # 17:30 on Christmas Eve 2026 counts from Tuesday 29 December:
        # 30, 31 Dec (2), [1 Jan], 4, 5, 6 Jan (5).
        summary = rules.summary(datetime(2026, 12, 24, 17, 30, tzinfo=LONDON))
        assert summary.received_on == date(2026, 12, 29)
        assert summary.acknowledge_by == date(2027, 1, 6)

    def test_dumps_iso_dates_in_order(self) -> None:
        summary = RULES.summary(datetime(2026, 12, 23, 10, 30, tzinfo=UTC))
        assert list(summary.model_dump(mode="json").items()) == [
            ("received_on", "2026-12-23"),
            ("acknowledge_by", "2027-01-04"),
            ("stage1_response_by", "2027-01-11"),
            ("stage1_response_by_latest", "2027-01-18"),
            ("stage1_extended_by", "2027-02-01"),
            ("stage2_acknowledge_by", "2027-01-04"),
            ("stage2_response_by", "2027-01-25"),
            ("stage2_extended_by", "2027-02-22"),
        ]

    def test_is_frozen(self) -> None:
        summary = RULES.summary(datetime(2026, 12, 23, 10, 30, tzinfo=UTC))
        with pytest.raises(ValidationError):
            summary.received_on = date(2026, 12, 24)  # type: ignore[misc]

    def test_a_naive_datetime_is_rejected(self) -> None:
        naive = datetime(2026, 12, 23, 10, 30, tzinfo=UTC).replace(tzinfo=None)
        with pytest.raises(ValueError, match="timezone-aware"):
            RULES.summary(naive)


class TestRules:
    def test_CHC_6_3_stage1_response_counts_from_the_acknowledgement(self) -> None:
        assert RULES.stage1_response_by(date(2027, 1, 4)) == date(2027, 1, 18)

    def test_CHC_6_11_stage2_acknowledgement(self) -> None:
        # Escalation requested Thursday 17 December 2026: 18, 21, 22, 23, 24 Dec.
        assert RULES.stage2_acknowledge_by(date(2026, 12, 17)) == date(2026, 12, 24)

    def test_CHC_6_14_stage2_response_counts_from_the_escalation_acknowledgement(self) -> None:
        # From Thursday 24 December 2026: 29-31 Dec (3), 4-8 Jan (8), 11-15 (13), 18-22 (18),
        # 25, 26 Jan (20).
        assert RULES.stage2_response_by(date(2026, 12, 24)) == date(2027, 1, 26)

    def test_shorter_configured_timescales_are_used(self) -> None:
        rules = DeadlineRules(
            CALENDAR,
            Timescales(
                stage1_acknowledge=3,
                stage1_response=5,
                stage1_extension=5,
                stage2_acknowledge=2,
                stage2_response=10,
                stage2_extension=10,
            ),
        )
        # Day 0 Wednesday 23 December 2026: 24 Dec (1), 29 Dec (2), 30 Dec (3), 31 Dec (4),
        # 4 Jan (5), 5-8 Jan (9), 11 Jan (10), 12-15 Jan (14), 18 Jan (15).
        # From Wed 30 Dec: 31 Dec, 4-7 Jan, so Thu 7 Jan; +5 is Thu 14 Jan.
        # From Mon 11 Jan: +10 is Mon 25 Jan.
        summary = rules.summary(datetime(2026, 12, 23, 10, 30, tzinfo=LONDON))
        assert summary == DeadlineSummary(
            received_on=date(2026, 12, 23),
            acknowledge_by=date(2026, 12, 30),
            stage1_response_by=date(2027, 1, 4),
            stage1_response_by_latest=date(2027, 1, 7),
            stage1_extended_by=date(2027, 1, 14),
            stage2_acknowledge_by=date(2026, 12, 29),
            stage2_response_by=date(2027, 1, 11),
            stage2_extended_by=date(2027, 1, 25),
        )

    def test_closure_days_push_deadlines_back(self) -> None:
        shutdown = [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]
        rules = DeadlineRules(WorkingDayCalendar(closure_days=shutdown), Timescales())
        # 24 Dec (1), [25 Dec to 3 Jan], 4-7 Jan (5).
        assert rules.acknowledge_by(date(2026, 12, 23)) == date(2027, 1, 7)

    def test_exposes_its_parts(self) -> None:
        assert RULES.calendar is CALENDAR
        assert RULES.timescales == Timescales()


class TestExtensions:
    @pytest.mark.parametrize(
        ("stage", "current_due", "limit"),
        [
            # CHC-6.4: 10 working days on top of the due date.
            pytest.param(1, date(2027, 1, 18), date(2027, 2, 1), id="CHC-6.4-stage1"),
            # From Thu 17 Dec 2026: 18, 21-24 Dec (5), 29-31 Dec (8), 4, 5 Jan (10).
            pytest.param(1, date(2026, 12, 17), date(2027, 1, 5), id="CHC-6.4-stage1-christmas"),
            # CHC-6.15: 20 working days; from Fri 23 Apr 2027 across early May (see above).
            pytest.param(2, date(2027, 4, 23), date(2027, 5, 24), id="CHC-6.15-stage2"),
            # From Fri 11 Dec 2026: 14-18 (5), 21-24 (9), 29-31 (12), 4-8 Jan (17),
            # 11-13 Jan (20).
            pytest.param(2, date(2026, 12, 11), date(2027, 1, 13), id="CHC-6.15-stage2-christmas"),
        ],
    )
    def test_limit(self, stage: int, current_due: date, limit: date) -> None:
        assert RULES.extension_limit(stage, current_due) == limit
        assert RULES.is_within_extension_limit(stage, current_due, limit)
        assert RULES.is_within_extension_limit(stage, current_due, current_due)
        assert not RULES.is_within_extension_limit(
            stage, current_due, CALENDAR.add_working_days(limit, 1)
        )
        # A weekend or holiday straight after the limit is still beyond it.
        assert not RULES.is_within_extension_limit(stage, current_due, limit + timedelta(days=1))

    def test_a_shorter_configured_extension_is_the_limit(self) -> None:
        rules = DeadlineRules(CALENDAR, Timescales(stage1_extension=5, stage2_extension=10))
        # From Mon 18 Jan 2027: 19-22 Jan (4), 25 Jan (5); then 26-29 Jan (9), 1 Feb (10).
        assert rules.extension_limit(1, date(2027, 1, 18)) == date(2027, 1, 25)
        assert rules.extension_limit(2, date(2027, 1, 18)) == date(2027, 2, 1)
        assert not rules.is_within_extension_limit(1, date(2027, 1, 18), date(2027, 2, 1))

    @pytest.mark.parametrize("stage", [0, 3])
    def test_CHC_6_20_there_is_no_other_stage(self, stage: int) -> None:
        with pytest.raises(ValueError, match="CHC-6.20"):
            RULES.extension_limit(stage, date(2027, 1, 18))
        with pytest.raises(ValueError, match="CHC-6.20"):
            RULES.is_within_extension_limit(stage, date(2027, 1, 18), date(2027, 1, 19))


class TestTimescales:
    def test_defaults_are_the_codes_maximums(self) -> None:
        assert Timescales().model_dump() == dict(CODE_MAXIMUMS)
        assert {name: (CODE_MAXIMUMS[name], CODE_RULES[name]) for name in CODE_MAXIMUMS} == {
            name: (maximum, rule) for name, maximum, rule in FIELDS
        }

    def test_CHC_6_3_message_names_the_field_the_maximum_and_the_rule(self) -> None:
        with pytest.raises(ValidationError) as caught:
            Timescales(stage1_response=12)
        (error,) = caught.value.errors()
        assert error["loc"] == ("stage1_response",)
        assert error["msg"] == (
            "stage1_response is 12 working days, longer than the Code's maximum of 10 (CHC-6.3); "
            "a landlord may set shorter timescales, never longer"
        )

    @pytest.mark.parametrize(("field", "maximum", "rule"), FIELD_PARAMS)
    def test_the_maximum_itself_is_allowed(self, field: str, maximum: int, rule: str) -> None:
        assert getattr(Timescales.model_validate({field: maximum}), field) == maximum
        assert getattr(Timescales.checked(**{field: maximum}), field) == maximum

    @pytest.mark.parametrize(("field", "maximum", "rule"), FIELD_PARAMS)
    def test_longer_than_the_code_is_rejected_by_pydantic(
        self, field: str, maximum: int, rule: str
    ) -> None:
        with pytest.raises(ValidationError) as caught:
            Timescales.model_validate({field: maximum + 1})
        message = str(caught.value)
        assert f"{field} is {maximum + 1} working days" in message
        assert f"maximum of {maximum} ({rule})" in message

    @pytest.mark.parametrize(("field", "maximum", "rule"), FIELD_PARAMS)
    def test_longer_than_the_code_is_rejected_from_settings_strings(
        self, field: str, maximum: int, rule: str
    ) -> None:
        # Settings read COMPLAINTS_TIMESCALES__<FIELD> as a string inside a parent model.
        class Settings(BaseModel):
            timescales: Timescales = Timescales()

        with pytest.raises(ValidationError) as caught:
            Settings.model_validate({"timescales": {field: str(maximum + 1)}})
        (error,) = caught.value.errors()
        assert error["loc"] == ("timescales", field)
        assert f"maximum of {maximum} ({rule})" in error["msg"]

    @pytest.mark.parametrize(("field", "maximum", "rule"), FIELD_PARAMS)
    def test_longer_than_the_code_is_rejected_by_checked(
        self, field: str, maximum: int, rule: str
    ) -> None:
        with pytest.raises(TimescaleTooLongError) as caught:
            Timescales.checked(**{field: maximum + 1})
        assert str(caught.value) == (
            f"{field} is {maximum + 1} working days, longer than the Code's maximum of "
            f"{maximum} ({rule}); a landlord may set shorter timescales, never longer"
        )
        assert isinstance(caught.value.__cause__, ValidationError)

    def test_checked_names_every_timescale_too_long(self) -> None:
        with pytest.raises(TimescaleTooLongError) as caught:
            Timescales.checked(stage1_acknowledge=6, stage2_response=30)
        assert "stage1_acknowledge is 6" in str(caught.value)
        assert "stage2_response is 30" in str(caught.value)

    @pytest.mark.parametrize(("field", "maximum", "rule"), FIELD_PARAMS)
    @pytest.mark.parametrize("value", [0, -1])
    def test_zero_or_negative_is_rejected(
        self, field: str, maximum: int, rule: str, value: int
    ) -> None:
        with pytest.raises(ValidationError, match="greater than or equal to 1"):
            Timescales.model_validate({field: value})
        with pytest.raises(ConfigurationError, match=field) as caught:
            Timescales.checked(**{field: value})
        assert not isinstance(caught.value, TimescaleTooLongError)

    def test_an_unknown_timescale_is_rejected(self) -> None:
        with pytest.raises(ValidationError):
            Timescales.model_validate({"stage3_response": 5})
        with pytest.raises(ConfigurationError, match="stage3_response"):
            Timescales.checked(stage3_response=5)

    def test_is_frozen(self) -> None:
        timescales = Timescales()
        with pytest.raises(ValidationError):
            timescales.stage1_response = 5  # type: ignore[misc]


@settings(max_examples=200, deadline=None)
@given(
    received_at=st.datetimes(
        min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - naive bounds, aware examples
        max_value=datetime(2028, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_deadlines_follow_each_other_on_working_days(received_at: datetime) -> None:
    summary = RULES.summary(received_at)
    assert (
        summary.received_on
        < summary.acknowledge_by
        < summary.stage1_response_by
        < summary.stage1_response_by_latest
        < summary.stage1_extended_by
    )
    assert (
        summary.received_on
        < summary.stage2_acknowledge_by
        < summary.stage2_response_by
        < summary.stage2_extended_by
    )
    deadlines = summary.model_dump(exclude={"received_on"}).values()
    assert all(CALENDAR.is_working_day(deadline) for deadline in deadlines)
