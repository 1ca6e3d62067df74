"""Pydantic models of a complaint's full record (CHC-5.12) and of service requests (CHC-1.4)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.complaints.enums import (
    ActorKind,
    EventKind,
    Exclusion,
    Outcome,
    RemedyType,
    ServiceRequestStatus,
    Stage,
    Status,
    TaskStatus,
)
from core.complaints.lifecycle import OPEN_STATUSES


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(_Model):
    """Who did something: the resident, a named staff member, or the system itself."""

    kind: ActorKind
    id: str | None = None
    """Staff member's identifier, or the resident's id as text; ``None`` for the system."""

    @classmethod
    def system(cls) -> Actor:
        """Return the actor for things the bot does on its own (acknowledgements, reminders)."""
        return cls(kind=ActorKind.SYSTEM)

    @classmethod
    def staff(cls, staff_id: str) -> Actor:
        """Return the actor for a named staff member."""
        return cls(kind=ActorKind.STAFF, id=staff_id)

    @classmethod
    def resident(cls, resident_id: int) -> Actor:
        """Return the actor for a resident (or their representative)."""
        return cls(kind=ActorKind.RESIDENT, id=str(resident_id))


class Representative(_Model):
    """Someone complaining on the resident's behalf (CHC-3.6)."""

    name: str
    relationship: str
    contact: str | None = None


class Element(_Model):
    """One point of the complaint definition (CHC-5.6); decided on one by one (CHC-6.7)."""

    id: int | None = None
    position: int
    text: str
    stage_added: Stage = Stage.ONE
    added_at: datetime


class Decision(_Model):
    """The decision on one element at one stage, with its reasons (CHC-6.7)."""

    id: int | None = None
    element_id: int
    stage: Stage
    outcome: Outcome
    reasons: str
    decided_by: str
    decided_at: datetime


class Remedy(_Model):
    """What will be put right, by when, tracked to completion (CHC-7.1, CHC-7.3)."""

    id: int | None = None
    stage: Stage
    type: RemedyType
    description: str
    due_on: date | None = None
    amount_pence: int | None = Field(default=None, ge=0)
    status: TaskStatus = TaskStatus.PENDING
    created_at: datetime
    completed_at: datetime | None = None


class OutstandingAction(_Model):
    """Work promised in a response that is not done yet (CHC-6.6), tracked to completion."""

    id: int | None = None
    stage: Stage
    description: str
    due_on: date | None = None
    status: TaskStatus = TaskStatus.PENDING
    created_at: datetime
    completed_at: datetime | None = None


class Extension(_Model):
    """A longer response time at one stage, with its reason (CHC-6.4, CHC-6.15)."""

    id: int | None = None
    stage: Stage
    reason: str
    beyond_code_limit: bool = False
    """True only when a person recorded a good reason to go past the Code's limit."""
    previous_due_on: date
    new_due_on: date
    requested_by: str
    created_at: datetime
    notified_at: datetime | None = None


class StageRecord(_Model):
    """The handler and the dates of one stage."""

    handler: str | None = None
    acknowledge_due_on: date | None = None
    acknowledged_on: date | None = None
    response_due_on: date | None = None
    extended_due_on: date | None = None
    responded_on: date | None = None

    @property
    def effective_response_due_on(self) -> date | None:
        """The response date in force: the extended one if there is one."""
        return self.extended_due_on or self.response_due_on


class Complaint(_Model):
    """A complaint and everything recorded about it."""

    id: int | None = None
    reference: str
    resident_id: int
    representative: Representative | None = None
    channel: str
    received_at: datetime
    received_on: date
    stage: Stage = Stage.ONE
    status: Status = Status.RECEIVED
    category: str | None = None
    location: str | None = None
    since: str | None = None
    """When it started or the resident became aware, in their words (CHC-2.3)."""
    aware_on: date | None = None
    """The same as a date where it could be worked out; used to flag the 12-month exclusion."""
    outcomes_sought: tuple[str, ...] = ()
    adjustments: tuple[str, ...] = ()
    vulnerabilities: tuple[str, ...] = ()
    urgent: bool = False
    hazards: tuple[str, ...] = ()
    exclusions_flagged: tuple[Exclusion, ...] = ()
    stage1: StageRecord = StageRecord()
    stage2: StageRecord = StageRecord()
    next_update_due_on: date | None = None
    escalation_requested_at: datetime | None = None
    escalation_reason: str | None = None
    refusal_reason: str | None = None
    closed_at: datetime | None = None
    version: int = 0
    elements: tuple[Element, ...] = ()
    decisions: tuple[Decision, ...] = ()
    remedies: tuple[Remedy, ...] = ()
    actions: tuple[OutstandingAction, ...] = ()
    extensions: tuple[Extension, ...] = ()

    @property
    def is_open(self) -> bool:
        """Whether the landlord still owes the resident a step at the current stage."""
        return self.status in OPEN_STATUSES

    def stage_record(self, stage: Stage | None = None) -> StageRecord:
        """Return the record of ``stage`` (the current stage by default)."""
        return self.stage2 if (stage or self.stage) == Stage.TWO else self.stage1

    @property
    def next_due_on(self) -> date | None:
        """The next date by which the landlord must act, by status; ``None`` when nothing is due.

        Stored as an indexed column so the scheduler finds due work with one query.
        """
        match self.status:
            case Status.RECEIVED:
                return self.stage1.acknowledge_due_on
            case Status.ACKNOWLEDGED:
                return self.stage1.effective_response_due_on
            case Status.ESCALATION_REQUESTED:
                return self.stage2.acknowledge_due_on
            case Status.ESCALATION_ACKNOWLEDGED:
                return self.stage2.effective_response_due_on
            case _:
                return None

    def decisions_at(self, stage: Stage) -> dict[int, Decision]:
        """Return the latest decision per element id at ``stage``."""
        return {d.element_id: d for d in self.decisions if d.stage == stage}


class Event(_Model):
    """One entry of a complaint's history. Events are only ever appended (CHC-5.12)."""

    id: int | None = None
    complaint_id: int | None = None
    service_request_id: int | None = None
    resident_id: int | None = None
    occurred_at: datetime
    actor: Actor
    channel: str | None = None
    kind: EventKind
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)


class ServiceRequest(_Model):
    """A request to put something right: recorded and trackable, not a complaint (CHC-1.4)."""

    id: int | None = None
    reference: str
    resident_id: int
    channel: str
    received_at: datetime
    description: str
    location: str | None = None
    status: ServiceRequestStatus = ServiceRequestStatus.OPEN
    closed_at: datetime | None = None
    version: int = 0
