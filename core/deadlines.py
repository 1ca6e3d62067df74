"""The Complaint Handling Code's timescales and the deadlines they set.

Every timescale is a number of working days (see :mod:`core.calendar`) and a **maximum**: a
landlord may configure shorter ones, never longer (CHC-3.12 of the 2020 Code), so a longer one is
rejected when the settings are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from core.calendar import WorkingDayCalendar
from core.errors import ConfigurationError, TimescaleTooLongError

CODE_MAXIMUMS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "stage1_acknowledge": 5,  # CHC-6.2, from receipt
        "stage1_response": 10,  # CHC-6.3, from the acknowledgement
        "stage1_extension": 10,  # CHC-6.4, on top of the stage 1 response date
        "stage2_acknowledge": 5,  # CHC-6.11, from the escalation request
        "stage2_response": 20,  # CHC-6.14, from the escalation acknowledgement
        "stage2_extension": 20,  # CHC-6.15, on top of the stage 2 response date
    }
)
"""The Code's maximum timescales, in working days, by :class:`Timescales` field."""

CODE_RULES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "stage1_acknowledge": "CHC-6.2",
        "stage1_response": "CHC-6.3",
        "stage1_extension": "CHC-6.4",
        "stage2_acknowledge": "CHC-6.11",
        "stage2_response": "CHC-6.14",
        "stage2_extension": "CHC-6.15",
    }
)
"""The rule of the Code that sets each timescale, by :class:`Timescales` field."""

TIMESCALE_TOO_LONG: Final = "timescale_too_long"
"""The pydantic error type of a timescale longer than the Code allows."""

_TOO_LONG_MESSAGE: Final = (
    "{field} is {value} working days, longer than the Code's maximum of {maximum} ({rule}); "
    "a landlord may set shorter timescales, never longer"
)


class Timescales(BaseModel):
    """The timescales a landlord works to, in working days; each at most the Code's maximum.

    Settings embed this model (``COMPLAINTS_TIMESCALES__STAGE1_RESPONSE`` and so on), so a value
    longer than the Code allows fails validation with a message that names the setting, the
    Code's maximum and its rule. Use :meth:`checked` to get the project's own
    :class:`~core.errors.TimescaleTooLongError` instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage1_acknowledge: int = Field(
        default=CODE_MAXIMUMS["stage1_acknowledge"],
        ge=1,
        description="Acknowledge, define and log a complaint within this many working days of "
        "receipt (CHC-6.2).",
    )
    stage1_response: int = Field(
        default=CODE_MAXIMUMS["stage1_response"],
        ge=1,
        description="Send the stage 1 response within this many working days of the "
        "acknowledgement (CHC-6.3).",
    )
    stage1_extension: int = Field(
        default=CODE_MAXIMUMS["stage1_extension"],
        ge=1,
        description="A stage 1 extension may add at most this many working days without a good "
        "reason (CHC-6.4).",
    )
    stage2_acknowledge: int = Field(
        default=CODE_MAXIMUMS["stage2_acknowledge"],
        ge=1,
        description="Acknowledge, define and log an escalation within this many working days of "
        "the request (CHC-6.11).",
    )
    stage2_response: int = Field(
        default=CODE_MAXIMUMS["stage2_response"],
        ge=1,
        description="Send the final (stage 2) response within this many working days of the "
        "escalation acknowledgement (CHC-6.14).",
    )
    stage2_extension: int = Field(
        default=CODE_MAXIMUMS["stage2_extension"],
        ge=1,
        description="A stage 2 extension may add at most this many working days without a good "
        "reason (CHC-6.15).",
    )

    @field_validator("*")
    @classmethod
    def _not_longer_than_the_code(cls, value: int, info: ValidationInfo) -> int:
        """Reject a timescale longer than the Code's maximum (CHC-3.12 of the 2020 Code)."""
        field = info.field_name
        if field is None:  # pragma: no cover - pydantic always names the field here
            return value
        maximum = CODE_MAXIMUMS[field]
        if value > maximum:
            raise PydanticCustomError(
                TIMESCALE_TOO_LONG,
                _TOO_LONG_MESSAGE,
                {"field": field, "value": value, "maximum": maximum, "rule": CODE_RULES[field]},
            )
        return value

    @classmethod
    def checked(cls, **values: int) -> Timescales:
        """Build timescales, raising the project's own errors instead of pydantic's.

        Args:
            **values: the timescales to set, by field name; the rest keep the Code's maximums.

        Returns:
            The validated timescales.

        Raises:
            TimescaleTooLongError: a timescale is longer than the Code's maximum; the message
                names it, the maximum and the rule.
            ConfigurationError: a timescale is otherwise invalid (not a whole number, below 1,
                or not a timescale at all).
        """
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            message = "; ".join(
                error["msg"]
                if error["type"] == TIMESCALE_TOO_LONG
                else f"{'.'.join(map(str, error['loc']))}: {error['msg']}"
                for error in errors
            )
            if any(error["type"] == TIMESCALE_TOO_LONG for error in errors):
                raise TimescaleTooLongError(message) from exc
            raise ConfigurationError(message) from exc


class DeadlineSummary(BaseModel):
    """Every deadline that follows from one day of receipt, at the configured timescales."""

    model_config = ConfigDict(frozen=True)

    received_on: date = Field(description="Day 0: the day the complaint counts as received.")
    acknowledge_by: date = Field(description="Stage 1 acknowledgement due (CHC-6.2).")
    stage1_response_by: date = Field(
        description="Stage 1 response due if acknowledged on the day of receipt (CHC-6.3)."
    )
    stage1_response_by_latest: date = Field(
        description="Stage 1 response due if acknowledged on the last permitted day (CHC-6.3)."
    )
    stage1_extended_by: date = Field(
        description="The latest stage 1 response after a full extension on top of "
        "stage1_response_by_latest (CHC-6.4)."
    )
    stage2_acknowledge_by: date = Field(
        description="Escalation acknowledgement due if escalation is requested on the day of "
        "receipt (CHC-6.11)."
    )
    stage2_response_by: date = Field(
        description="Final response due if the escalation is acknowledged the day it is "
        "requested (CHC-6.14)."
    )
    stage2_extended_by: date = Field(
        description="The latest final response after a full extension on top of "
        "stage2_response_by (CHC-6.15)."
    )


class DeadlineRules:
    """The Code's deadline rules, counted on a working-day calendar at a landlord's timescales.

    Args:
        calendar: which days are working days, and when a message counts as received.
        timescales: the landlord's timescales (each at most the Code's maximum).
    """

    def __init__(self, calendar: WorkingDayCalendar, timescales: Timescales) -> None:
        self._calendar = calendar
        self._timescales = timescales

    @property
    def calendar(self) -> WorkingDayCalendar:
        """The working-day calendar deadlines are counted on."""
        return self._calendar

    @property
    def timescales(self) -> Timescales:
        """The timescales deadlines are set by."""
        return self._timescales

    def acknowledge_by(self, received_on: date) -> date:
        """Return the day a stage 1 complaint must be acknowledged, defined and logged by.

        CHC-6.2: within 5 working days (or the landlord's shorter timescale) of receipt.

        Args:
            received_on: the day the complaint counts as received (day 0).
        """
        return self._calendar.add_working_days(received_on, self._timescales.stage1_acknowledge)

    def stage1_response_by(self, acknowledged_on: date) -> date:
        """Return the day the stage 1 response is due by.

        CHC-6.3: within 10 working days (or fewer) of the acknowledgement, not of receipt.

        Args:
            acknowledged_on: the day the complaint was acknowledged (day 0).
        """
        return self._calendar.add_working_days(acknowledged_on, self._timescales.stage1_response)

    def stage2_acknowledge_by(self, escalation_requested_on: date) -> date:
        """Return the day an escalation must be acknowledged, defined and logged by.

        CHC-6.11: within 5 working days (or fewer) of the escalation request.

        Args:
            escalation_requested_on: the day the resident asked for stage 2 (day 0).
        """
        return self._calendar.add_working_days(
            escalation_requested_on, self._timescales.stage2_acknowledge
        )

    def stage2_response_by(self, escalation_acknowledged_on: date) -> date:
        """Return the day the final (stage 2) response is due by.

        CHC-6.14: within 20 working days (or fewer) of the escalation acknowledgement.

        Args:
            escalation_acknowledged_on: the day the escalation was acknowledged (day 0).
        """
        return self._calendar.add_working_days(
            escalation_acknowledged_on, self._timescales.stage2_response
        )

    def extension_limit(self, stage: int, current_due: date) -> date:
        """Return the latest date an extension may set without a good reason.

        CHC-6.4 (stage 1: at most 10 working days) and CHC-6.15 (stage 2: at most 20 working
        days), or the landlord's shorter extension, counted from the current due date.

        Args:
            stage: 1 or 2; there is no stage 3 (CHC-6.20).
            current_due: the response date the extension would replace.

        Raises:
            ValueError: ``stage`` is neither 1 nor 2.
        """
        return self._calendar.add_working_days(current_due, self._extension_days(stage))

    def is_within_extension_limit(self, stage: int, current_due: date, proposed: date) -> bool:
        """Tell whether an extension to ``proposed`` needs no good reason.

        CHC-6.4 (stage 1) and CHC-6.15 (stage 2): ``proposed`` may be no later than
        :meth:`extension_limit`.

        Args:
            stage: 1 or 2; there is no stage 3 (CHC-6.20).
            current_due: the response date the extension would replace.
            proposed: the new response date.

        Raises:
            ValueError: ``stage`` is neither 1 nor 2.
        """
        return proposed <= self.extension_limit(stage, current_due)

    def summary(self, received_at: datetime) -> DeadlineSummary:
        """Work out every deadline for a complaint that arrived at ``received_at``.

        Args:
            received_at: when the complaint arrived; must be timezone-aware.

        Returns:
            The deadlines, assuming each step happens on the day it becomes possible (and, for
            ``stage1_response_by_latest``, the acknowledgement on its last permitted day).

        Raises:
            ValueError: ``received_at`` is a naive datetime.
        """
        received_on = self._calendar.received_on(received_at)
        acknowledge_by = self.acknowledge_by(received_on)  # CHC-6.2
        stage1_response_by_latest = self.stage1_response_by(acknowledge_by)  # CHC-6.3
        stage2_response_by = self.stage2_response_by(received_on)  # CHC-6.14
        return DeadlineSummary(
            received_on=received_on,
            acknowledge_by=acknowledge_by,
            stage1_response_by=self.stage1_response_by(received_on),
            stage1_response_by_latest=stage1_response_by_latest,
            stage1_extended_by=self.extension_limit(1, stage1_response_by_latest),  # CHC-6.4
            stage2_acknowledge_by=self.stage2_acknowledge_by(received_on),  # CHC-6.11
            stage2_response_by=stage2_response_by,
            stage2_extended_by=self.extension_limit(2, stage2_response_by),  # CHC-6.15
        )

    def _extension_days(self, stage: int) -> int:
        """Return the configured extension for ``stage`` (CHC-6.4, CHC-6.15)."""
        if stage == 1:
            return self._timescales.stage1_extension
        if stage == 2:
            return self._timescales.stage2_extension
        raise ValueError(f"there is no stage {stage}: the Code has stages 1 and 2 (CHC-6.20)")
