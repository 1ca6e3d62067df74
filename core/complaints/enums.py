"""The vocabularies of a complaint's record."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Stage(IntEnum):
    """The Code's two stages; there is no stage 0 (CHC-5.2) and no stage 3 (CHC-6.20)."""

    ONE = 1
    TWO = 2


class Status(StrEnum):
    """Where a complaint is in its lifecycle; see :mod:`core.complaints.lifecycle`."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    RESPONDED = "responded"  # stage 1 response sent
    ESCALATION_REQUESTED = "escalation_requested"
    ESCALATION_ACKNOWLEDGED = "escalation_acknowledged"
    FINAL_RESPONSE_SENT = "final_response_sent"
    CLOSED = "closed"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    """A step that moves a complaint from one status to another."""

    ACKNOWLEDGE = "acknowledge"
    RESPOND = "respond"
    REQUEST_ESCALATION = "request_escalation"
    ACKNOWLEDGE_ESCALATION = "acknowledge_escalation"
    SEND_FINAL_RESPONSE = "send_final_response"
    CLOSE = "close"
    REFUSE = "refuse"
    WITHDRAW = "withdraw"


class ActorKind(StrEnum):
    """Who did something recorded in a complaint's history (CHC-5.12)."""

    RESIDENT = "resident"
    STAFF = "staff"
    SYSTEM = "system"


class EventKind(StrEnum):
    """What an event records."""

    RECEIVED = "received"
    TRANSITION = "transition"
    MESSAGE_IN = "message_in"
    MESSAGE_OUT = "message_out"
    NOTE = "note"
    DEFINITION_CHANGED = "definition_changed"
    HANDLER_ASSIGNED = "handler_assigned"
    DECISION = "decision"
    REMEDY_ADDED = "remedy_added"
    REMEDY_COMPLETED = "remedy_completed"
    ACTION_ADDED = "action_added"
    ACTION_COMPLETED = "action_completed"
    EXTENSION = "extension"
    EVIDENCE = "evidence"
    EXCLUSION_FLAGGED = "exclusion_flagged"
    URGENT_FLAGGED = "urgent_flagged"


class Outcome(StrEnum):
    """The decision on one element of a complaint at one stage (CHC-6.7)."""

    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    NOT_UPHELD = "not_upheld"


class RemedyType(StrEnum):
    """The kinds of remedy the Code lists (CHC-7.1)."""

    APOLOGY = "apology"
    ACKNOWLEDGEMENT = "acknowledgement"
    EXPLANATION = "explanation"
    ACTION_ON_DELAY = "action_on_delay"
    RECONSIDERATION = "reconsideration"
    RECORD_AMENDED = "record_amended"
    FINANCIAL = "financial"
    POLICY_CHANGE = "policy_change"


class TaskStatus(StrEnum):
    """Progress of a remedy or an outstanding action (CHC-6.6, CHC-7.3)."""

    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


class ServiceRequestStatus(StrEnum):
    """Progress of a service request (CHC-1.4): recorded and tracked, not a complaint."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Exclusion(StrEnum):
    """Reasons a complaint may be refused; the bot only flags them, a person decides (CHC-2.2)."""

    OVER_TWELVE_MONTHS = "over_twelve_months"
    LEGAL_PROCEEDINGS = "legal_proceedings"
    ALREADY_CONSIDERED = "already_considered"
