"""Pydantic models of residents, their identities, preferences and contact restrictions."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Identity(_Model):
    """How a resident is reached on one channel: a Telegram chat id, an email address, …."""

    channel: str
    address: str
    unreachable_since: datetime | None = None
    """Set when the channel said this person cannot be reached (e.g. they blocked the bot)."""


class ContactPreferences(_Model):
    """How the resident wants to be contacted; honoured in every message (CHC-3.1, CHC-5.10)."""

    channel: str | None = None
    times: str | None = None
    large_print: bool = False
    call_back: bool = False
    interpreter_language: str | None = None
    update_interval_working_days: int | None = None
    """The update interval agreed with the resident (CHC-5.9), if any."""


class ContactRestriction(_Model):
    """A limit on contact set by a person, with reasons and a review date (CHC-5.14).

    A restriction shapes *how* the bot talks to the resident; it never stops them complaining.
    """

    id: int | None = None
    description: str
    allowed_channels: tuple[str, ...] = ()
    reason: str
    set_by: str
    set_at: datetime
    review_on: date
    lifted_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the restriction is in force."""
        return self.lifted_at is None


class Resident(_Model):
    """A resident (or the person acting for them) who contacts the landlord."""

    id: int | None = None
    name: str | None = None
    identities: tuple[Identity, ...] = ()
    preferences: ContactPreferences = ContactPreferences()
    adjustments: tuple[str, ...] = ()
    vulnerabilities: tuple[str, ...] = ()
    restrictions: tuple[ContactRestriction, ...] = ()
    created_at: datetime

    def address_on(self, channel: str) -> str | None:
        """Return the resident's address on ``channel``, if they have one."""
        return next((i.address for i in self.identities if i.channel == channel), None)

    def reachable_address_on(self, channel: str) -> str | None:
        """Return the resident's address on ``channel`` unless it is known to be unreachable."""
        return next(
            (
                i.address
                for i in self.identities
                if i.channel == channel and i.unreachable_since is None
            ),
            None,
        )
