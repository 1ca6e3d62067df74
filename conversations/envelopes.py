"""Channel-neutral envelopes: what a channel hands the engine, and what the engine sends back.

Channels translate their medium to :class:`InboundMessage` and render :class:`OutboundMessage`;
the engine never sees a Telegram update or an email, and channels never see dialogue state.
Outbound messages travel through the outbox as ``OutboundMessage.model_dump(mode="json")``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TEXT_LENGTH = 20_000
"""Longer inbound text is cut here: nothing reasonable is longer, and the record stays bounded."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Attachment(_Frozen):
    """A file the resident sent, kept as evidence; the bytes stay where the channel put them."""

    kind: str
    """``photo``, ``document``, ``voice``, ``email-attachment`` …"""
    reference: str
    """Where the channel stored it (a file id, a path, a content id)."""
    filename: str | None = None
    content_type: str | None = None
    size: int | None = Field(default=None, ge=0)


class InboundMessage(_Frozen):
    """One message from a resident, as any channel sees it."""

    channel: str
    sender: str
    """The sender's identity on the channel: Telegram chat id, email address, terminal user."""
    message_id: str
    """The channel's own id for this message; how a redelivery is recognised."""
    received_at: datetime
    text: str = ""
    reply_to: str | None = None
    """The channel's id of the bot message this answers (Telegram reply, email In-Reply-To)."""
    thread_reference: str | None = None
    """A case reference the channel found in threading data (e.g. an email subject)."""
    attachments: tuple[Attachment, ...] = ()
    choice: str | None = None
    """The id of the option the resident pressed, when they pressed one."""
    sender_name: str | None = None
    subject: str | None = None

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        return value

    @field_validator("text")
    @classmethod
    def _bounded(cls, value: str) -> str:
        return value[:MAX_TEXT_LENGTH]


class Choice(_Frozen):
    """An option offered to the resident: a button on Telegram, a numbered line elsewhere."""

    id: str
    label: str


class OutboundKind(StrEnum):
    """Why a message is sent; channels may render kinds differently (e.g. email subjects)."""

    REPLY = "reply"
    ACKNOWLEDGEMENT = "acknowledgement"
    UPDATE = "update"
    STAFF_NOTICE = "staff_notice"


class OutboundMessage(_Frozen):
    """One message from the bot to a resident or to staff."""

    channel: str
    recipient: str
    text: str
    kind: OutboundKind = OutboundKind.REPLY
    choices: tuple[Choice, ...] = ()
    reference: str | None = None
    """The case reference, for threading (email subject ``[C-…]``, Telegram deep links)."""
    subject: str | None = None
    in_reply_to: str | None = None
    """The channel's id of the inbound message this answers, for threading."""
    urgent: bool = False
    large_print: bool = False
    """The resident asked for large print (CHC-3.1); channels that can, render it larger."""


STAFF_CHANNEL = "staff"
"""Logical channel of staff notices; the dispatcher delivers them to the configured staff
destinations (staff Telegram chat, staff mailbox) or, in the terminal chat, prints them."""
