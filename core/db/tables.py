"""The database schema. Migrations in ``core/db/migrations`` must match it (a test checks)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.db.types import JSONType, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
IdType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ResidentRow(Base):
    """A resident."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(String(200))
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    adjustments: Mapped[list[str]] = mapped_column(JSONType, default=list)
    vulnerabilities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityRow(Base):
    """One channel identity of a resident; unique per channel."""

    __tablename__ = "resident_identities"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_identity_channel_address"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(320))
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RestrictionRow(Base):
    """A contact restriction set by staff (CHC-5.14)."""

    __tablename__ = "contact_restrictions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    allowed_channels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(120))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
    review_on: Mapped[date] = mapped_column(Date)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ComplaintRow(Base):
    """A complaint; its due dates are columns so the scheduler finds them by index."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_status_next_due_on", "status", "next_due_on"),
        Index("ix_complaints_next_update_due_on", "next_update_due_on"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    representative: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    channel: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    stage: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(80), index=True)
    location: Mapped[str | None] = mapped_column(Text)
    since: Mapped[str | None] = mapped_column(Text)
    aware_on: Mapped[date | None] = mapped_column(Date)
    outcomes_sought: Mapped[list[str]] = mapped_column(JSONType, default=list)
    adjustments: Mapped[list[str]] = mapped_column(JSONType, default=list)
    vulnerabilities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    hazards: Mapped[list[str]] = mapped_column(JSONType, default=list)
    exclusions_flagged: Mapped[list[str]] = mapped_column(JSONType, default=list)
    stage1_handler: Mapped[str | None] = mapped_column(String(120))
    stage1_acknowledge_due_on: Mapped[date | None] = mapped_column(Date)
    stage1_acknowledged_on: Mapped[date | None] = mapped_column(Date)
    stage1_response_due_on: Mapped[date | None] = mapped_column(Date)
    stage1_extended_due_on: Mapped[date | None] = mapped_column(Date)
    stage1_responded_on: Mapped[date | None] = mapped_column(Date)
    stage2_handler: Mapped[str | None] = mapped_column(String(120))
    stage2_acknowledge_due_on: Mapped[date | None] = mapped_column(Date)
    stage2_acknowledged_on: Mapped[date | None] = mapped_column(Date)
    stage2_response_due_on: Mapped[date | None] = mapped_column(Date)
    stage2_extended_due_on: Mapped[date | None] = mapped_column(Date)
    stage2_responded_on: Mapped[date | None] = mapped_column(Date)
    next_due_on: Mapped[date | None] = mapped_column(Date)
    next_update_due_on: Mapped[date | None] = mapped_column(Date)
    escalation_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_reason: Mapped[str | None] = mapped_column(Text)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=0)


class ElementRow(Base):
    """One point of a complaint's definition (CHC-5.6)."""

    __tablename__ = "complaint_elements"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    stage_added: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DecisionRow(Base):
    """A decision on one element at one stage (CHC-6.7)."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("complaint_elements.id"))
    stage: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RemedyRow(Base):
    """A remedy (CHC-7.1) tracked to completion (CHC-7.3)."""

    __tablename__ = "remedies"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    stage: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    amount_pence: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ActionRow(Base):
    """An outstanding action promised in a response (CHC-6.6)."""

    __tablename__ = "outstanding_actions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    stage: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExtensionRow(Base):
    """An extension of a stage's response date (CHC-6.4, CHC-6.15)."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    stage: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    beyond_code_limit: Mapped[bool] = mapped_column(Boolean, default=False)
    previous_due_on: Mapped[date] = mapped_column(Date)
    new_due_on: Mapped[date] = mapped_column(Date)
    requested_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ServiceRequestRow(Base):
    """A service request (CHC-1.4)."""

    __tablename__ = "service_requests"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=0)


class EventRow(Base):
    """One entry of the record (CHC-5.12). Append-only: triggers refuse UPDATE and DELETE."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), index=True)
    service_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_requests.id"), index=True
    )
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(120))
    channel: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class ReceiptRow(Base):
    """An inbound message already processed, by its channel's own id: redelivery is ignored."""

    __tablename__ = "inbound_receipts"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_receipt_channel_external_id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(512))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxRow(Base):
    """An outbound message, written with the change that caused it, sent by the dispatcher."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_channel_external_id", "channel", "external_id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_id: Mapped[str | None] = mapped_column(String(512))
    """The channel's own id of the delivered message, so a reply to it finds its complaint."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeadLetterRow(Base):
    """What could not be processed or delivered, visible to staff until resolved."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(512))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    """The raw input as received (e.g. undecodable MIME), byte for byte."""
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(120))


class ConversationRow(Base):
    """A resident's dialogue on one channel: what the bot is waiting for, and the draft so far."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "address", name="uq_conversation_channel_address"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(320))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboxRow(Base):
    """An inbound update stored as received, before it is processed.

    A webhook answers Telegram only after the update is here, and polling advances its offset
    only after that; a worker then processes the inbox, so a crash loses nothing.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_inbox_channel_external_id"),
        Index("ix_inbox_processed_at_id", "processed_at", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(512))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
