"""What a conversation remembers between messages. Stored as JSON in ``conversations``."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Step(StrEnum):
    """What the bot is waiting for."""

    IDLE = "idle"
    OFFERED_COMPLAINT = "offered_complaint"  # dissatisfaction heard: complain? (CHC-1.3)
    REPAIR_OR_COMPLAINT = "repair_or_complaint"  # a problem reported: repair or complaint? (1.4)
    ASK_WHAT = "ask_what"
    ASK_WHERE = "ask_where"
    ASK_SINCE = "ask_since"
    ASK_OUTCOME = "ask_outcome"
    ASK_FOR_WHOM = "ask_for_whom"
    ASK_REP_NAME = "ask_rep_name"
    ASK_REP_RELATIONSHIP = "ask_rep_relationship"
    ASK_SUPPORT = "ask_support"
    CONFIRM = "confirm"
    CHOOSE_CHANGE = "choose_change"
    ASK_REPAIR_WHERE = "ask_repair_where"
    CHOOSE_COMPLAINT = "choose_complaint"
    ADD_OR_NEW = "add_or_new"
    ASK_ESCALATION_REASON = "ask_escalation_reason"
    CONFIRM_WITHDRAW = "confirm_withdraw"
    CONFIRM_CANCEL = "confirm_cancel"
    AFTER_HAZARD = "after_hazard"
    COMPLETE_DEFINITION = "complete_definition"  # one-shot complaint logged with parts missing


class Pending(StrEnum):
    """What the resident was doing when the bot asked which complaint they meant."""

    STATUS = "status"
    ADD_INFO = "add_info"
    ESCALATE = "escalate"
    WITHDRAW = "withdraw"


class Draft(BaseModel):
    """A complaint being captured; nothing is logged until the resident confirms (CHC-5.6)."""

    model_config = ConfigDict(extra="ignore")

    points: list[str] = Field(default_factory=list)
    location: str | None = None
    since: str | None = None
    aware_on: date | None = None
    since_asked: bool = False
    outcomes: list[str] = Field(default_factory=list)
    for_someone_else: bool | None = None
    representative_name: str | None = None
    representative_relationship: str | None = None
    support: list[str] = Field(default_factory=list)
    support_asked: bool = False
    email: str | None = None
    hazards: list[str] = Field(default_factory=list)
    editing: bool = False
    """True while changing one part after the read-back: answer, then read back again."""


class ConversationState(BaseModel):
    """Everything the engine keeps about one resident's dialogue on one channel."""

    model_config = ConfigDict(extra="ignore")

    step: Step = Step.IDLE
    draft: Draft = Field(default_factory=Draft)
    pending: Pending | None = None
    pending_text: str | None = None
    reference: str | None = None
    """The complaint the current step is about (escalation, withdrawal, completion)."""
    candidates: list[str] = Field(default_factory=list)
    """References offered in "which complaint is this about?"."""
    resume_step: Step | None = None
    """Where to carry on if the resident decides not to cancel after all."""
    misunderstood: int = 0
    transcript: list[str] = Field(default_factory=list)
    """The last few lines both ways, handed to staff when a person is asked for."""

    def reset(self) -> ConversationState:
        """Return a fresh state, keeping the transcript."""
        return ConversationState(transcript=self.transcript)
