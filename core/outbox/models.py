"""Pydantic models of outbox messages, inbound receipts and dead letters."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class OutboxStatus(StrEnum):
    """Delivery state of an outbound message."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class OutboxMessage(BaseModel):
    """A message waiting to be (or already) sent by the dispatcher.

    Written in the same transaction as the state change that caused it; the ``idempotency_key``
    is unique, so a retried transaction cannot queue the same message twice.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int | None = None
    channel: str
    address: str
    kind: str
    payload: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str
    complaint_id: int | None = None
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = None
    sent_at: datetime | None = None
    external_id: str | None = None
    created_at: datetime


class Receipt(BaseModel):
    """Proof that one inbound message (by its channel's own id) was processed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    external_id: str
    received_at: datetime


class DeadLetter(BaseModel):
    """Something that could not be processed or delivered, kept for staff to see."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int | None = None
    source: str
    external_id: str | None = None
    payload: bytes
    """The raw input as received, byte for byte, so nothing is lost to decoding."""
    reason: str
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
