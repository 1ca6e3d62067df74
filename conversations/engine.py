"""The dialogue engine: turns what a resident says into a correctly logged complaint.

One call to :meth:`Engine.handle` is one transaction: the inbound message's receipt (so a
redelivery is ignored), the conversation state, every change to complaints, the record of the
message both ways (CHC-5.12), the replies and the staff notices (in the outbox) all commit
together, or none of them do. The engine knows no channel: it reads
:class:`~conversations.envelopes.InboundMessage` and queues
:class:`~conversations.envelopes.OutboundMessage`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from conversations import understanding as understand
from conversations.envelopes import (
    STAFF_CHANNEL,
    Choice,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
)
from conversations.state import ConversationState, Draft, Pending, Step
from conversations.understanding import Intent
from conversations.wording import Wording
from core.calendar import WorkingDayCalendar
from core.clock import Clock
from core.complaints.enums import EventKind, Stage, Status
from core.complaints.lifecycle import OPEN_STATUSES
from core.complaints.models import Actor, Complaint, Event, Representative
from core.complaints.service import ComplaintService
from core.complaints.service_requests import ServiceRequestService
from core.db.store import Store, UnitOfWork
from core.errors import (
    ConcurrencyError,
    DomainError,
    DuplicateError,
    InvalidReferenceError,
    NotFoundError,
)
from core.outbox.service import OutboxService
from core.references import find_references
from core.residents.models import Resident
from core.residents.service import ResidentService

log = logging.getLogger(__name__)

STAFF_RECIPIENT: Final = "staff"
TRANSCRIPT_LINES: Final = 30
MISUNDERSTOOD_BEFORE_HANDOVER: Final = 2
MAX_ATTEMPTS: Final = 3
SUMMARY_LENGTH: Final = 60
_EMAIL: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_REFERENCE_SHAPE: Final = re.compile(r"\b[CR][\s-]?[0-9A-Z]{4}[\s-]?[0-9A-Z]{4}\b", re.IGNORECASE)
_ONLY_ASKING_TO_COMPLAIN: Final = re.compile(
    r"^\s*(?:hi|hello|hey)?[\s,.!]*(?:i\s*(?:would|'d|wd)?\s*(?:like|want|wish|need)\s+to\s+"
    r"(?:make|raise|lodge|file|log|put in)?\s*(?:a\s+)?(?:formal\s+)?complain(?:t)?|"
    r"(?:make|new)\s+(?:a\s+)?complaint|complaint|complain)[\s.!]*(?:please)?[\s.!]*$",
    re.IGNORECASE,
)
_FOR_MYSELF: Final = re.compile(r"\b(me|myself|my ?self|mine|for me|i am|i'm)\b", re.IGNORECASE)
_SLASH_COMMANDS: Final = {
    "/start": Intent.HELP,
    "/help": Intent.HELP,
    "/new": Intent.COMPLAINT,
    "/status": Intent.STATUS,
    "/person": Intent.PERSON,
    "/cancel": Intent.CANCEL,
}
_CAPTURE_STEPS: Final = frozenset(
    {
        Step.ASK_WHAT,
        Step.ASK_WHERE,
        Step.ASK_SINCE,
        Step.ASK_OUTCOME,
        Step.ASK_FOR_WHOM,
        Step.ASK_REP_NAME,
        Step.ASK_REP_RELATIONSHIP,
        Step.ASK_SUPPORT,
        Step.CONFIRM,
        Step.CHOOSE_CHANGE,
    }
)
_AWAITING_RESPONSE: Final = frozenset(
    {
        Status.RECEIVED,
        Status.ACKNOWLEDGED,
        Status.ESCALATION_REQUESTED,
        Status.ESCALATION_ACKNOWLEDGED,
    }
)


@dataclass
class Turn:
    """One inbound message being handled: what came in, who sent it, and what goes out."""

    uow: UnitOfWork
    message: InboundMessage
    resident: Resident
    state: ConversationState
    outgoing: list[tuple[OutboundMessage, int | None]] = field(default_factory=list)
    complaint_id: int | None = None
    """The complaint this message is about, for the record (CHC-5.12)."""

    @property
    def text(self) -> str:
        """The message text, trimmed."""
        return self.message.text.strip()

    @property
    def resident_id(self) -> int:
        """The sender's resident id."""
        assert self.resident.id is not None  # residents are stored before a turn starts
        return self.resident.id

    @property
    def actor(self) -> Actor:
        """The resident, as the actor of what they do."""
        return Actor.resident(self.resident_id)


Handler = Callable[[Turn], Awaitable[None]]


class Engine:
    """The channel-neutral dialogue.

    Args:
        store: the database.
        clock: where "now" comes from.
        calendar: the working-day calendar (dates residents are told).
        complaints: complaint operations.
        residents: resident operations.
        service_requests: service request operations.
        outbox: where replies and staff notices are queued.
        wording: every word the bot says.
        one_shot_channels: channels whose messages arrive whole (email): a complaint in them
            is logged at once, never held back for a dialogue.
    """

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        calendar: WorkingDayCalendar,
        complaints: ComplaintService,
        residents: ResidentService,
        service_requests: ServiceRequestService,
        outbox: OutboxService,
        wording: Wording,
        one_shot_channels: frozenset[str] = frozenset({"email"}),
    ) -> None:
        self._store = store
        self._clock = clock
        self._calendar = calendar
        self._complaints = complaints
        self._residents = residents
        self._requests = service_requests
        self._outbox = outbox
        self._words = wording
        self._one_shot = one_shot_channels
        self._steps: dict[Step, Handler] = {
            Step.IDLE: self._idle,
            Step.OFFERED_COMPLAINT: self._offered_complaint,
            Step.REPAIR_OR_COMPLAINT: self._repair_or_complaint,
            Step.ASK_WHAT: self._answer_what,
            Step.ASK_WHERE: self._answer_where,
            Step.ASK_SINCE: self._answer_since,
            Step.ASK_OUTCOME: self._answer_outcome,
            Step.ASK_FOR_WHOM: self._answer_for_whom,
            Step.ASK_REP_NAME: self._answer_rep_name,
            Step.ASK_REP_RELATIONSHIP: self._answer_rep_relationship,
            Step.ASK_SUPPORT: self._answer_support,
            Step.CONFIRM: self._answer_confirm,
            Step.CHOOSE_CHANGE: self._answer_change,
            Step.ASK_REPAIR_WHERE: self._answer_repair_where,
            Step.CHOOSE_COMPLAINT: self._answer_which_complaint,
            Step.ADD_OR_NEW: self._answer_add_or_new,
            Step.ASK_ESCALATION_REASON: self._answer_escalation_reason,
            Step.CONFIRM_WITHDRAW: self._answer_withdraw,
            Step.CONFIRM_CANCEL: self._answer_cancel,
            Step.AFTER_HAZARD: self._answer_after_hazard,
            Step.COMPLETE_DEFINITION: self._answer_completion,
        }

    # ================================================================== entry point

    async def handle(self, message: InboundMessage) -> list[OutboundMessage]:
        """Handle one inbound message; return what was queued for sending.

        A message already handled (same channel and message id) is ignored and returns ``[]``.
        When two messages of one conversation race, the loser is retried from the start.
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await self._handle_once(message)
            except (ConcurrencyError, DuplicateError):
                # Another message of the same resident won a race (the conversation moved on,
                # or the resident was created meanwhile): handle this one again from the start.
                if attempt == MAX_ATTEMPTS:
                    raise
                log.info("conversation changed meanwhile; retrying", extra={"attempt": attempt})
        raise AssertionError("unreachable")  # pragma: no cover

    async def _handle_once(self, message: InboundMessage) -> list[OutboundMessage]:
        async with self._store.unit_of_work() as uow:
            if not await uow.receipts.record(
                message.channel, message.message_id, message.received_at
            ):
                log.info(
                    "redelivered message ignored",
                    extra={"channel": message.channel, "message_id": message.message_id},
                )
                return []
            resident = await self._residents.identify(
                uow, channel=message.channel, address=message.sender, name=message.sender_name
            )
            loaded = await uow.conversations.load(message.channel, message.sender)
            state, version = (
                (ConversationState.model_validate(loaded[1]), loaded[2])
                if loaded
                else (ConversationState(), 0)
            )
            turn = Turn(uow=uow, message=message, resident=resident, state=state)
            await self._converse(turn)
            await self._record_inbound(turn)
            self._remember(turn)
            await uow.conversations.save(
                message.channel,
                message.sender,
                resident_id=turn.resident_id,
                state=turn.state.model_dump(mode="json"),
                version=version,
                at=self._clock.now(),
            )
            return await self._queue(turn)

    # ================================================================== routing

    async def _converse(self, turn: Turn) -> None:
        if await self._before_steps(turn):
            return
        text = turn.text
        command = self._slash_command(text)
        if command is not None:
            await self._command(turn, command)
            return
        if turn.state.step in _CAPTURE_STEPS and turn.message.choice is None:
            intent = understand.classify(text)
            if intent == Intent.CANCEL:
                await self._ask_cancel(turn)
                return
            if intent == Intent.PERSON:
                await self._hand_over(turn, reason="asked for a person")
                return
        await self._steps[turn.state.step](turn)

    async def _before_steps(self, turn: Turn) -> bool:
        """Evidence, abuse, distress and hazards come first; return whether the turn is done."""
        text = turn.text
        if turn.message.attachments:
            await self._keep_evidence(turn)
        if not text and turn.message.choice is None:
            return True
        if text and understand.is_abusive(text):
            await self._abuse(turn)
        if text and understand.shows_distress(text):
            await self._hand_over(turn, reason="distress", template="distress")
            return True
        hazards = self._hazards(turn, text) if text else ()
        new_hazards = [h.value for h in hazards if h.value not in turn.state.draft.hazards]
        if not new_hazards:
            return False
        await self._emergency(turn, hazards)
        turn.state.draft.hazards.extend(new_hazards)
        if turn.state.step != Step.IDLE:
            return False  # the complaint being captured carries on
        turn.state.pending_text = text
        turn.state.step = Step.AFTER_HAZARD
        self._say(
            turn,
            "after_hazard",
            choices=[self._words.choice("complain"), self._words.choice("thats_all")],
        )
        return True

    def _slash_command(self, text: str) -> tuple[Intent, str] | None:
        if not text.startswith("/"):
            return None
        word, _, rest = text.partition(" ")
        intent = _SLASH_COMMANDS.get(word.split("@", 1)[0].lower())
        return None if intent is None else (intent, rest.strip())

    async def _command(self, turn: Turn, command: tuple[Intent, str]) -> None:
        intent, argument = command
        if intent == Intent.CANCEL:
            if turn.state.step == Step.IDLE:
                self._say(turn, "nothing_to_cancel", choices=self._menu())
            else:
                await self._ask_cancel(turn)
            return
        turn.state = turn.state.reset()
        if intent == Intent.HELP and argument:
            # A deep link (/start C-…) opens that complaint's status.
            await self._reference_message(turn, argument, only_status=True)
            return
        await self._intent(turn, intent, turn.text)

    # ================================================================== idle

    async def _idle(self, turn: Turn) -> None:
        text = turn.text
        replied = await self._reference_replied_to(turn)
        reference_text = turn.message.thread_reference or replied or text
        if replied is not None and replied not in find_references(text):
            reference_text = f"{replied} {text}"
        if find_references(reference_text) or _typed_reference(text):
            await self._reference_message(turn, reference_text)
            return
        await self._intent(turn, understand.classify(text), text)

    async def _reference_replied_to(self, turn: Turn) -> str | None:
        """Return the reference of the complaint whose bot message the resident replied to.

        A Telegram reply or an email In-Reply-To names the channel's id of our message; the
        dispatcher stored that id when it sent the message.
        """
        if turn.message.reply_to is None:
            return None
        complaint_id = await turn.uow.outbox.complaint_replied_to(
            turn.message.channel, turn.message.reply_to
        )
        if complaint_id is None:
            return None
        complaint = await turn.uow.complaints.get(complaint_id)
        return complaint.reference

    async def _intent(self, turn: Turn, intent: Intent, text: str) -> None:
        handlers: dict[Intent, Handler] = {
            Intent.HELP: self._help,
            Intent.STATUS: self._status_all,
            Intent.COMPLAINT: self._complaint_intent,
            Intent.DISSATISFACTION: self._dissatisfaction,
            Intent.PROBLEM_REPORT: self._problem_report,
            Intent.ESCALATE: self._escalate_intent,
            Intent.WITHDRAW: self._withdraw_intent,
            Intent.PERSON: self._person_intent,
            Intent.CANCEL: self._nothing_to_cancel,
        }
        handler = handlers.get(intent)
        if handler is not None:
            turn.state.misunderstood = 0
            await handler(turn)
            return
        await self._unclear(turn, text)

    async def _help(self, turn: Turn) -> None:
        self._say(turn, "help", choices=self._menu())

    def _menu(self) -> list[Choice]:
        return [
            self._words.choice("complain"),
            self._words.choice("status"),
            self._words.choice("person"),
        ]

    async def _nothing_to_cancel(self, turn: Turn) -> None:
        self._say(turn, "nothing_to_cancel", choices=self._menu())

    async def _person_intent(self, turn: Turn) -> None:
        await self._hand_over(turn, reason="asked for a person")

    async def _unclear(self, turn: Turn, text: str) -> None:
        open_complaints = [c for c in await self._owned(turn) if c.status in _AWAITING_RESPONSE]
        words = len(text.split())
        if turn.message.channel in self._one_shot and words >= 8:
            # The complaints mailbox: a substantial message is taken as a complaint, never
            # held back (CHC-1.3); the acknowledgement states our understanding to correct.
            await self._one_shot_complaint(turn, text)
            return
        if open_complaints and words >= 4:
            turn.state.pending_text = text
            await self._choose(turn, open_complaints, Pending.ADD_INFO)
            return
        turn.state.misunderstood += 1
        if turn.state.misunderstood >= MISUNDERSTOOD_BEFORE_HANDOVER:
            turn.state.misunderstood = 0
            await self._hand_over(turn, reason="the bot could not understand")
            return
        self._say(turn, "didnt_understand", choices=self._menu())

    # ================================================================== CHC-1.3 to 1.5

    async def _dissatisfaction(self, turn: Turn) -> None:
        if turn.message.channel in self._one_shot:
            await self._one_shot_complaint(turn, turn.text)
            return
        turn.state.pending_text = turn.text
        turn.state.step = Step.OFFERED_COMPLAINT
        self._say(
            turn,
            "offer_complaint",
            choices=[self._words.choice("yes_complain"), self._words.choice("no_thanks")],
        )

    async def _problem_report(self, turn: Turn) -> None:
        turn.state.pending_text = turn.text
        turn.state.step = Step.REPAIR_OR_COMPLAINT
        self._say(
            turn,
            "repair_or_complaint",
            choices=[self._words.choice("repair"), self._words.choice("complain")],
        )

    async def _complaint_intent(self, turn: Turn) -> None:
        text = turn.text
        initial = None if _ONLY_ASKING_TO_COMPLAIN.match(text) or text.startswith("/") else text
        if turn.message.channel in self._one_shot and initial:
            await self._one_shot_complaint(turn, initial)
            return
        await self._start_capture(turn, initial)

    async def _offered_complaint(self, turn: Turn) -> None:
        decision = self._decision(turn, yes="yes_complain", no="no_thanks")
        if decision is True:
            await self._start_capture(turn, turn.state.pending_text)
        elif decision is False:
            turn.state = turn.state.reset()
            self._say(turn, "no_complaint")
        else:
            turn.state = turn.state.reset()
            await self._idle(turn)

    async def _repair_or_complaint(self, turn: Turn) -> None:
        choice = self._choice(turn, "repair", "complain")
        if choice == "complain":
            await self._start_capture(turn, turn.state.pending_text)
        elif choice == "repair":
            description = turn.state.pending_text or ""
            location = understand.extract_location(description)
            if location is None:
                turn.state.step = Step.ASK_REPAIR_WHERE
                self._say(turn, "ask_repair_where")
            else:
                await self._log_repair(turn, description, location)
        else:
            turn.state = turn.state.reset()
            await self._idle(turn)

    async def _answer_repair_where(self, turn: Turn) -> None:
        await self._log_repair(turn, turn.state.pending_text or "", turn.text)

    async def _log_repair(self, turn: Turn, description: str, location: str) -> None:
        """Record a service request (CHC-1.4) and signpost the repairs contact."""
        request = await self._requests.log(
            turn.uow,
            resident_id=turn.resident_id,
            channel=turn.message.channel,
            received_at=turn.message.received_at,
            description=description or turn.text,
            location=location,
            actor=turn.actor,
        )
        turn.state = turn.state.reset()
        self._say(turn, "service_request_logged", reference=request.reference)
        self._notify_staff(
            turn,
            "staff_service_request",
            reference=request.reference,
            channel=turn.message.channel,
            description=request.description,
            location=location,
        )

    # ================================================================== capture

    async def _start_capture(self, turn: Turn, initial: str | None) -> None:
        hazards = list(turn.state.draft.hazards)
        turn.state = turn.state.reset()
        turn.state.draft = Draft(hazards=hazards)
        if initial:
            self._understand_into(turn.state.draft, initial, first=True)
        await self._ask_next(turn)

    def _understand_into(self, draft: Draft, text: str, *, first: bool = False) -> None:
        """Take what a message says about any part not known yet: never ask twice."""
        outcome = understand.extract_outcome(text)
        if outcome and not draft.outcomes:
            draft.outcomes.append(outcome)
        if draft.location is None:
            draft.location = understand.extract_location(text)
        if draft.since is None:
            since = understand.parse_since(text, self._today())
            if since is not None and not since.unknown:
                draft.since, draft.aware_on = since.text, since.aware_on
        if first and not draft.points:
            body = text.replace(outcome, " ") if outcome else text
            draft.points.extend(p for p in understand.split_points(body) if len(p.split()) >= 2)
        email = _EMAIL.search(text)
        if email and draft.email is None:
            draft.email = email.group(0)

    async def _ask_next(self, turn: Turn) -> None:
        draft = turn.state.draft
        draft.editing = False
        if not draft.points:
            await self._ask(turn, Step.ASK_WHAT, "ask_what")
        elif draft.location is None:
            await self._ask(turn, Step.ASK_WHERE, "ask_where")
        elif draft.since is None and not draft.since_asked:
            await self._ask(turn, Step.ASK_SINCE, "ask_since", [self._words.choice("dont_know")])
        elif not draft.outcomes:
            await self._ask(turn, Step.ASK_OUTCOME, "ask_outcome")
        elif draft.for_someone_else is None:
            await self._ask(
                turn,
                Step.ASK_FOR_WHOM,
                "ask_for_whom",
                [self._words.choice("myself"), self._words.choice("someone_else")],
            )
        elif draft.for_someone_else and not draft.representative_name:
            await self._ask(turn, Step.ASK_REP_NAME, "ask_rep_name")
        elif draft.for_someone_else and not draft.representative_relationship:
            await self._ask(
                turn,
                Step.ASK_REP_RELATIONSHIP,
                "ask_rep_relationship",
                name=draft.representative_name or "",
            )
        elif not draft.support_asked:
            await self._ask(
                turn, Step.ASK_SUPPORT, "ask_support", [self._words.choice("no_support")]
            )
        else:
            await self._read_back(turn)

    async def _ask(
        self,
        turn: Turn,
        step: Step,
        template: str,
        choices: Sequence[Choice] = (),
        **context: Any,
    ) -> None:
        turn.state.step = step
        self._say(turn, template, choices=[*choices, self._words.choice("cancel")], **context)

    async def _answered(self, turn: Turn) -> None:
        """After an answer: back to the read-back when changing one part, else ask on."""
        if turn.state.draft.editing:
            await self._read_back(turn)
        else:
            await self._ask_next(turn)

    async def _answer_what(self, turn: Turn) -> None:
        draft = turn.state.draft
        points = understand.split_points(turn.text) or [turn.text]
        draft.points.extend(points)
        self._understand_into(draft, turn.text)
        await self._answered(turn)

    async def _answer_where(self, turn: Turn) -> None:
        turn.state.draft.location = understand.extract_location(turn.text) or turn.text
        await self._answered(turn)

    async def _answer_since(self, turn: Turn) -> None:
        draft = turn.state.draft
        draft.since_asked = True
        if turn.message.choice == "dont_know":
            draft.since, draft.aware_on = self._words.label("dont_know"), None
        else:
            since = understand.parse_since(turn.text, self._today())
            draft.since = turn.text if since is None else since.text
            draft.aware_on = None if since is None or since.unknown else since.aware_on
        await self._answered(turn)

    async def _answer_outcome(self, turn: Turn) -> None:
        turn.state.draft.outcomes = [turn.text]
        await self._answered(turn)

    async def _answer_for_whom(self, turn: Turn) -> None:
        draft = turn.state.draft
        choice = self._choice(turn, "myself", "someone_else")
        if choice is None:
            choice = "myself" if _FOR_MYSELF.search(turn.text) else "someone_else"
        draft.for_someone_else = choice == "someone_else"
        if not draft.for_someone_else:
            draft.representative_name = draft.representative_relationship = None
        if draft.for_someone_else:
            await self._ask_next(turn)  # their name and relationship come next
        else:
            await self._answered(turn)

    async def _answer_rep_name(self, turn: Turn) -> None:
        turn.state.draft.representative_name = turn.text
        await self._ask_next(turn)

    async def _answer_rep_relationship(self, turn: Turn) -> None:
        turn.state.draft.representative_relationship = turn.text
        await self._answered(turn)

    async def _answer_support(self, turn: Turn) -> None:
        draft = turn.state.draft
        draft.support_asked = True
        if turn.message.choice == "no_support":
            draft.support = []
        else:
            draft.support = [turn.text]
            email = _EMAIL.search(turn.text)
            if email:
                draft.email = email.group(0)
        await self._answered(turn)

    async def _read_back(self, turn: Turn) -> None:
        """CHC-5.6: state our understanding and the outcomes sought; log only when confirmed."""
        turn.state.step = Step.CONFIRM
        turn.state.draft.editing = False
        self._say(
            turn,
            "confirm",
            draft=turn.state.draft,
            choices=[
                self._words.choice("confirm"),
                self._words.choice("change"),
                self._words.choice("cancel"),
            ],
        )

    async def _answer_confirm(self, turn: Turn) -> None:
        choice = self._choice(turn, "confirm", "change", "cancel")
        if choice is None:
            intent = understand.classify(turn.text)
            choice = {Intent.YES: "confirm", Intent.NO: "change", Intent.CANCEL: "cancel"}.get(
                intent
            )
        if choice == "confirm":
            await self._log_confirmed(turn)
        elif choice == "change":
            turn.state.step = Step.CHOOSE_CHANGE
            keys = ["change_points", "add_point", "change_where", "change_since"]
            keys += ["change_outcome", "change_for_whom", "change_support"]
            self._say(turn, "choose_change", choices=[self._words.choice(k) for k in keys])
        elif choice == "cancel":
            await self._ask_cancel(turn)
        else:
            await self._read_back(turn)

    async def _answer_change(self, turn: Turn) -> None:
        draft = turn.state.draft
        keys = (
            "change_points",
            "add_point",
            "change_where",
            "change_since",
            "change_outcome",
            "change_for_whom",
            "change_support",
        )
        choice = self._choice(turn, *keys)
        if choice is None:
            await self._read_back(turn)
            return
        draft.editing = True
        if choice == "change_points":
            draft.points = []
            await self._ask(turn, Step.ASK_WHAT, "ask_what")
        elif choice == "add_point":
            await self._ask(turn, Step.ASK_WHAT, "add_point")
        elif choice == "change_where":
            await self._ask(turn, Step.ASK_WHERE, "ask_where")
        elif choice == "change_since":
            await self._ask(turn, Step.ASK_SINCE, "ask_since", [self._words.choice("dont_know")])
        elif choice == "change_outcome":
            await self._ask(turn, Step.ASK_OUTCOME, "ask_outcome")
        elif choice == "change_for_whom":
            draft.for_someone_else = None
            draft.representative_name = draft.representative_relationship = None
            draft.editing = False  # the follow-up questions come in order, then the read-back
            await self._ask_next(turn)
        else:
            await self._ask(
                turn, Step.ASK_SUPPORT, "ask_support", [self._words.choice("no_support")]
            )

    # ================================================================== logging

    async def _log_confirmed(self, turn: Turn) -> None:
        complaint = await self._log(turn, turn.state.draft)
        turn.state = turn.state.reset()
        await self._acknowledge(turn, complaint, missing=[])

    async def _one_shot_complaint(self, turn: Turn, text: str) -> None:
        """CHC-1.3, 5.6: a whole complaint in one message is logged at once, never held back."""
        draft = Draft(hazards=list(turn.state.draft.hazards))
        self._understand_into(draft, text, first=True)
        if not draft.points:
            draft.points = [text[:2000]]
        complaint = await self._log(turn, draft)
        missing = self._missing(draft)
        turn.state = turn.state.reset()
        if missing:
            turn.state.step = Step.COMPLETE_DEFINITION
            turn.state.reference = complaint.reference
        await self._acknowledge(
            turn, complaint, missing=[self._words.label(m, "missing") for m in missing]
        )

    @staticmethod
    def _missing(draft: Draft) -> list[str]:
        missing = []
        if draft.location is None:
            missing.append("location")
        if not draft.outcomes:
            missing.append("outcome")
        return missing

    async def _log(self, turn: Turn, draft: Draft) -> Complaint:
        representative = (
            Representative(
                name=draft.representative_name,
                relationship=draft.representative_relationship or "not said",
            )
            if draft.for_someone_else and draft.representative_name
            else None
        )
        all_text = " ".join([*draft.points, *draft.support, turn.state.pending_text or ""])
        complaint = await self._complaints.log(
            turn.uow,
            resident_id=turn.resident_id,
            channel=turn.message.channel,
            received_at=turn.message.received_at,
            elements=draft.points,
            outcomes_sought=draft.outcomes,
            location=draft.location,
            since=draft.since,
            aware_on=draft.aware_on,
            representative=representative,
            adjustments=draft.support,
            vulnerabilities=(
                ["household may be vulnerable (mentioned in the complaint)"]
                if understand.is_vulnerable_household(all_text)
                else []
            ),
            hazards=draft.hazards,
            actor=turn.actor,
        )
        turn.complaint_id = complaint.id
        await self._apply_support(turn, draft)
        return complaint

    async def _apply_support(self, turn: Turn, draft: Draft) -> None:
        """Record contact preferences and adjustments the resident asked for (CHC-3.1, 5.10)."""
        if draft.email and turn.message.channel != "email":
            try:
                turn.resident = await self._residents.link_identity(
                    turn.uow, resident_id=turn.resident_id, channel="email", address=draft.email
                )
            except DomainError:
                log.warning("email address given belongs to another resident; not linked")
        if not draft.support:
            return
        wanted = " ".join(draft.support).lower()
        current = turn.resident.preferences
        preferences = current.model_copy(
            update={
                "large_print": current.large_print or "large print" in wanted,
                "call_back": current.call_back
                or bool(re.search(r"call ?back|ring me|phone me|call me", wanted)),
                "interpreter_language": current.interpreter_language
                or _interpreter_language(wanted),
                "channel": current.channel or ("email" if "email" in wanted else None),
            }
        )
        turn.resident = await self._residents.update(
            turn.uow,
            resident_id=turn.resident_id,
            actor=turn.actor,
            preferences=preferences,
            adjustments=[*turn.resident.adjustments, *draft.support],
        )

    async def _acknowledge(self, turn: Turn, complaint: Complaint, *, missing: list[str]) -> None:
        """CHC-6.2, 5.6, 3.7: acknowledge in writing at once, with dates and the Ombudsman."""
        complaint = await self._complaints.acknowledge(
            turn.uow,
            reference=complaint.reference,
            actor=Actor.system(),
            channel=turn.message.channel,
        )
        due = complaint.stage1.response_due_on
        self._say(
            turn,
            "acknowledgement",
            kind=OutboundKind.ACKNOWLEDGEMENT,
            reference=complaint.reference,
            complaint_id=complaint.id,
            complaint=complaint,
            response_due=due,
            missing=missing,
        )
        email = turn.resident.address_on("email")
        if email and turn.message.channel != "email":
            text = self._words.render(
                "acknowledgement", complaint=complaint, response_due=due, missing=missing
            )
            self._send(
                turn,
                OutboundMessage(
                    channel="email",
                    recipient=email,
                    text=text,
                    kind=OutboundKind.ACKNOWLEDGEMENT,
                    reference=complaint.reference,
                    large_print=turn.resident.preferences.large_print,
                ),
                complaint.id,
            )
        self._notify_staff(
            turn,
            "staff_new_complaint",
            complaint=complaint,
            response_due=due,
            urgent=complaint.urgent,
            reference=complaint.reference,
        )

    async def _answer_completion(self, turn: Turn) -> None:
        """The resident's answer to "we still need to know…" after a one-shot complaint."""
        reference = turn.state.reference or ""
        try:
            complaint = await self._complaints.get(turn.uow, reference=reference)
        except (NotFoundError, InvalidReferenceError):
            turn.state = turn.state.reset()
            await self._idle(turn)
            return
        if complaint.resident_id != turn.resident_id:  # pragma: no cover - state is per sender
            turn.state = turn.state.reset()
            return
        turn.complaint_id = complaint.id
        needs_location = complaint.location is None
        needs_outcome = not complaint.outcomes_sought
        text = turn.text
        location = understand.extract_location(text) if needs_location else None
        outcome = understand.extract_outcome(text) if needs_outcome else None
        if needs_outcome and outcome is None and (not needs_location or location is None):
            outcome = text
        if needs_location and location is None and not needs_outcome:
            location = text
        complaint = await self._complaints.complete_definition(
            turn.uow,
            reference=complaint.reference,
            actor=turn.actor,
            outcomes_sought=[outcome] if outcome else None,
            location=location,
        )
        still = []
        if complaint.location is None:
            still.append(self._words.label("location", "missing"))
        if not complaint.outcomes_sought:
            still.append(self._words.label("outcome", "missing"))
        if not still:
            turn.state = turn.state.reset()
        self._say(
            turn,
            "completed",
            reference=complaint.reference,
            missing=still,
            complaint_id=complaint.id,
        )

    # ================================================================== tracking (flow 8)

    async def _owned(self, turn: Turn) -> list[Complaint]:
        return await turn.uow.complaints.for_resident(turn.resident_id)

    async def _flag_foreign_reference(self, turn: Turn, references: Sequence[str]) -> None:
        """Tell staff when someone quotes another person's existing complaint.

        It may be the resident writing from a new address, a representative, or someone
        fishing for details; a person decides. A reference that exists nowhere is a typo or a
        guess and is not worth a notice.
        """
        for reference in references:
            try:
                await turn.uow.complaints.get_by_reference(reference)
            except NotFoundError:
                continue
            self._notify_staff(
                turn,
                "staff_not_yours",
                reference=reference,
                channel=turn.message.channel,
                sender=turn.message.sender,
            )
            return

    async def _status_all(self, turn: Turn) -> None:
        complaints = await self._owned(turn)
        requests = await turn.uow.service_requests.for_resident(turn.resident_id)
        if not complaints and not requests:
            self._say(turn, "status_none", choices=self._menu())
            return
        await self._status(turn, complaints, requests=requests)

    async def _status(
        self, turn: Turn, complaints: Sequence[Complaint], *, requests: Sequence[Any] = ()
    ) -> None:
        items = []
        for complaint in complaints:
            events = await turn.uow.events.for_complaint(complaint.id or 0)
            items.append(
                {
                    "reference": complaint.reference,
                    "stage": int(complaint.stage),
                    "status": self._words.label(complaint.status.value, "complaint_status"),
                    "summary": _summary(complaint),
                    "next": self._next_expected(complaint),
                    "latest": _latest_update(events),
                }
            )
        self._say(
            turn,
            "status",
            complaints=items,
            requests=[
                {
                    "reference": r.reference,
                    "status": self._words.label(r.status.value, "service_request_status"),
                }
                for r in requests
            ],
            reference=complaints[0].reference if len(complaints) == 1 else None,
        )

    def _next_expected(self, complaint: Complaint) -> str | None:
        """What the resident can expect next, by status (flow 8)."""
        dated = {
            Status.RECEIVED: ("acknowledge", complaint.stage1.acknowledge_due_on),
            Status.ACKNOWLEDGED: ("stage1_response", complaint.stage1.effective_response_due_on),
            Status.ESCALATION_REQUESTED: (
                "stage2_acknowledge",
                complaint.stage2.acknowledge_due_on,
            ),
            Status.ESCALATION_ACKNOWLEDGED: (
                "stage2_response",
                complaint.stage2.effective_response_due_on,
            ),
        }
        if complaint.status in dated:
            key, day = dated[complaint.status]
            return self._words.next_step(key, day)
        undated = {Status.RESPONDED: "escalate", Status.FINAL_RESPONSE_SENT: "ombudsman"}
        key_only = undated.get(complaint.status)
        return None if key_only is None else self._words.next_step(key_only)

    async def _reference_message(self, turn: Turn, text: str, *, only_status: bool = False) -> None:
        """A message quoting a reference: only its owner hears anything about it."""
        references = find_references(text)
        if not references:
            self._say(turn, "mistyped_reference", typed=_typed_reference(text) or text)
            return
        owned = {c.reference: c for c in await self._owned(turn)}
        mine = [owned[r] for r in references if r in owned]
        if not mine:
            # Same answer whether or not the reference exists: nothing leaks (DESIGN.md).
            self._say(turn, "not_yours", reference=references[0])
            await self._flag_foreign_reference(turn, references)
            return
        rest = text
        for reference in references:
            rest = re.sub(re.escape(reference).replace(r"\-", r"[\s-]?"), " ", rest, flags=re.I)
        rest = _REFERENCE_SHAPE.sub(" ", rest).strip(" .,:;!-")
        complaint = mine[0]
        turn.complaint_id = complaint.id
        if only_status or len(rest.split()) < 3:
            await self._status(turn, mine)
            return
        intent = understand.classify(rest)
        turn.state.reference = complaint.reference
        if intent == Intent.ESCALATE:
            await self._escalate_chosen(turn, complaint)
        elif intent == Intent.WITHDRAW:
            await self._withdraw_chosen(turn, complaint)
        elif intent == Intent.STATUS:
            await self._status(turn, [complaint])
        else:
            turn.state.pending_text = rest
            await self._add_info_chosen(turn, complaint)

    # ================================================================== which complaint?

    async def _choose(self, turn: Turn, candidates: Sequence[Complaint], pending: Pending) -> None:
        """Tie the message to one complaint: at once if there is one, else ask (flow 3)."""
        if len(candidates) == 1:
            await self._continue_pending(turn, pending, candidates[0])
            return
        turn.state.step = Step.CHOOSE_COMPLAINT
        turn.state.pending = pending
        turn.state.candidates = [c.reference for c in candidates]
        choices = [
            Choice(id=f"complaint:{c.reference}", label=f"{c.reference}: {_summary(c)}")
            for c in candidates
        ]
        self._say(turn, "which_complaint", choices=[*choices, self._words.choice("cancel")])

    async def _answer_which_complaint(self, turn: Turn) -> None:
        choice = turn.message.choice or ""
        reference = choice.removeprefix("complaint:") if choice.startswith("complaint:") else None
        if reference is None:
            found = [r for r in find_references(turn.text) if r in turn.state.candidates]
            reference = found[0] if found else None
        if choice == "cancel" or understand.classify(turn.text) == Intent.CANCEL:
            turn.state = turn.state.reset()
            self._say(turn, "cancelled")
            return
        if reference is None or reference not in turn.state.candidates:
            await self._re_ask_which(turn)
            return
        pending = turn.state.pending or Pending.STATUS
        complaint = await self._complaints.get(turn.uow, reference=reference)
        await self._continue_pending(turn, pending, complaint)

    async def _re_ask_which(self, turn: Turn) -> None:
        candidates = [
            await self._complaints.get(turn.uow, reference=reference)
            for reference in turn.state.candidates
        ]
        await self._choose(turn, candidates, turn.state.pending or Pending.STATUS)

    async def _continue_pending(self, turn: Turn, pending: Pending, complaint: Complaint) -> None:
        turn.complaint_id = complaint.id
        turn.state.reference = complaint.reference
        turn.state.candidates = []
        turn.state.pending = None
        if pending == Pending.ADD_INFO:
            await self._add_info_chosen(turn, complaint)
        elif pending == Pending.ESCALATE:
            await self._escalate_chosen(turn, complaint)
        elif pending == Pending.WITHDRAW:
            await self._withdraw_chosen(turn, complaint)
        else:
            turn.state.step = Step.IDLE
            await self._status(turn, [complaint])

    # ================================================================== add information (6.8)

    async def _add_info_chosen(self, turn: Turn, complaint: Complaint) -> None:
        turn.state.step = Step.ADD_OR_NEW
        turn.state.reference = complaint.reference
        self._say(
            turn,
            "add_or_new",
            reference=complaint.reference,
            choices=[
                self._words.choice("more_info", reference=complaint.reference),
                self._words.choice("new_problem"),
            ],
        )

    async def _answer_add_or_new(self, turn: Turn) -> None:
        choice = self._choice(turn, "more_info", "new_problem")
        text = turn.state.pending_text or ""
        if choice is None:
            turn.state = turn.state.reset()
            await self._idle(turn)
            return
        complaint = await self._complaints.get(turn.uow, reference=turn.state.reference or "")
        turn.complaint_id = complaint.id
        if choice == "new_problem":
            await self._start_capture(turn, text)
            return
        if complaint.status not in _AWAITING_RESPONSE:
            # CHC-6.8: the response was already sent, so this is a new complaint.
            self._say(
                turn,
                "info_new_complaint",
                reference=complaint.reference,
                stage=int(complaint.stage),
            )
            await self._start_capture(turn, text)
            return
        await self._complaints.record_message(
            turn.uow,
            complaint=complaint,
            inbound=True,
            channel=turn.message.channel,
            text=text,
            actor=turn.actor,
            data={"added_information": True},
        )
        turn.state = turn.state.reset()
        self._say(
            turn,
            "info_added",
            reference=complaint.reference,
            stage=int(complaint.stage),
            due=complaint.stage_record().effective_response_due_on,
            complaint_id=complaint.id,
        )
        self._notify_staff(
            turn,
            "staff_info_added",
            reference=complaint.reference,
            stage=int(complaint.stage),
            text=text,
        )

    # ================================================================== escalation (6.10-6.12)

    async def _escalate_intent(self, turn: Turn) -> None:
        complaints = await self._owned(turn)
        candidates = [c for c in complaints if _can_escalate(c)]
        if not candidates:
            self._say(
                turn, "escalate_none", open=any(c.status in OPEN_STATUSES for c in complaints)
            )
            return
        await self._choose(turn, candidates, Pending.ESCALATE)

    async def _escalate_chosen(self, turn: Turn, complaint: Complaint) -> None:
        if not _can_escalate(complaint):
            self._say(turn, "escalate_none", open=complaint.status in OPEN_STATUSES)
            turn.state = turn.state.reset()
            return
        turn.state.step = Step.ASK_ESCALATION_REASON
        turn.state.reference = complaint.reference
        self._say(
            turn,
            "ask_escalation_reason",
            reference=complaint.reference,
            choices=[self._words.choice("skip_reason"), self._words.choice("cancel")],
        )

    async def _answer_escalation_reason(self, turn: Turn) -> None:
        if turn.message.choice == "cancel":
            turn.state = turn.state.reset()
            self._say(turn, "cancelled")
            return
        reason = None if turn.message.choice == "skip_reason" else turn.text  # CHC-6.12
        reference = turn.state.reference or ""
        complaint = await self._complaints.request_escalation(
            turn.uow,
            reference=reference,
            actor=turn.actor,
            reason=reason,
            channel=turn.message.channel,
        )
        complaint = await self._complaints.acknowledge(
            turn.uow, reference=reference, actor=Actor.system(), channel=turn.message.channel
        )
        turn.complaint_id = complaint.id
        turn.state = turn.state.reset()
        due = complaint.stage2.response_due_on
        self._say(
            turn,
            "escalated",
            kind=OutboundKind.ACKNOWLEDGEMENT,
            reference=complaint.reference,
            complaint_id=complaint.id,
            complaint=complaint,
            response_due=due,
        )
        self._notify_staff(
            turn, "staff_escalated", complaint=complaint, response_due=due, reference=reference
        )

    # ================================================================== withdraw and cancel

    async def _withdraw_intent(self, turn: Turn) -> None:
        candidates = [c for c in await self._owned(turn) if c.status in OPEN_STATUSES]
        if not candidates:
            self._say(turn, "withdraw_none")
            return
        await self._choose(turn, candidates, Pending.WITHDRAW)

    async def _withdraw_chosen(self, turn: Turn, complaint: Complaint) -> None:
        if complaint.status not in OPEN_STATUSES:
            turn.state = turn.state.reset()
            self._say(turn, "withdraw_none")
            return
        turn.state.step = Step.CONFIRM_WITHDRAW
        turn.state.reference = complaint.reference
        self._say(
            turn,
            "confirm_withdraw",
            reference=complaint.reference,
            choices=[self._words.choice("withdraw_yes"), self._words.choice("keep_it")],
        )

    async def _answer_withdraw(self, turn: Turn) -> None:
        reference = turn.state.reference or ""
        decision = self._decision(turn, yes="withdraw_yes", no="keep_it")
        turn.state = turn.state.reset()
        if decision is True:
            complaint = await self._complaints.withdraw(
                turn.uow, reference=reference, actor=turn.actor, channel=turn.message.channel
            )
            turn.complaint_id = complaint.id
            self._say(turn, "withdrawn", reference=reference, complaint_id=complaint.id)
            self._notify_staff(turn, "staff_withdrawn", reference=reference)
        elif decision is False:
            self._say(turn, "kept", reference=reference)
        else:
            await self._idle(turn)

    async def _ask_cancel(self, turn: Turn) -> None:
        if turn.state.step != Step.CONFIRM_CANCEL:
            turn.state.resume_step = turn.state.step
        turn.state.step = Step.CONFIRM_CANCEL
        self._say(
            turn,
            "confirm_cancel",
            choices=[self._words.choice("start_again"), self._words.choice("carry_on")],
        )

    async def _answer_cancel(self, turn: Turn) -> None:
        decision = self._decision(turn, yes="start_again", no="carry_on")
        if decision is False:
            resumed = turn.state.resume_step or Step.IDLE
            turn.state.resume_step = None
            self._say(turn, "carry_on")
            if resumed == Step.CONFIRM:
                await self._read_back(turn)
            elif resumed in _CAPTURE_STEPS:
                await self._ask_next(turn)
            else:
                turn.state.step = resumed
            return
        turn.state = turn.state.reset()
        self._say(turn, "cancelled")

    # ================================================================== hazards, people, abuse

    async def _emergency(self, turn: Turn, hazards: Sequence[understand.Hazard]) -> None:
        """Awaab's Law: emergency advice at once and an urgent handover, before anything else."""
        values = [h.value for h in hazards]
        self._say(
            turn,
            "emergency",
            life_threatening=understand.is_life_threatening(hazards),
            gas=any(h in ("gas", "carbon_monoxide") for h in values),
        )
        self._notify_staff(
            turn,
            "staff_urgent",
            urgent=True,
            hazards=values,
            channel=turn.message.channel,
            sender=turn.message.sender,
            text=turn.text,
        )
        await turn.uow.events.append(
            Event(
                resident_id=turn.resident_id,
                occurred_at=self._clock.now(),
                actor=turn.actor,
                channel=turn.message.channel,
                kind=EventKind.URGENT_FLAGGED,
                summary="Possible urgent hazard reported: " + ", ".join(values),
                data={"hazards": values},
            )
        )

    def _hazards(self, turn: Turn, text: str) -> tuple[understand.Hazard, ...]:
        """Emergency hazards in ``text`` (CODE.md, Awaab's Law).

        No heating or water is an emergency for a vulnerable household; for others it is an
        ordinary repair or complaint.
        """
        found = understand.detect_hazards(text)
        vulnerable = bool(turn.resident.vulnerabilities) or understand.is_vulnerable_household(
            " ".join([text, *turn.state.draft.points])
        )
        return tuple(h for h in found if h != understand.Hazard.NO_HEATING_OR_WATER or vulnerable)

    async def _answer_after_hazard(self, turn: Turn) -> None:
        choice = self._choice(turn, "complain", "thats_all")
        if choice == "complain":
            await self._start_capture(turn, turn.state.pending_text)
        elif choice == "thats_all":
            turn.state = turn.state.reset()
            self._say(turn, "no_complaint")
        else:
            turn.state = turn.state.reset()
            await self._idle(turn)

    async def _hand_over(self, turn: Turn, *, reason: str, template: str = "person") -> None:
        """Flow 11: a person contacts the resident; staff get the conversation so far."""
        by = self._calendar.add_working_days(self._today(), 1)
        references = [c.reference for c in await self._owned(turn) if c.is_open]
        self._say(turn, template, by=by)
        self._notify_staff(
            turn,
            "staff_person",
            urgent=reason == "distress",
            reason=reason,
            by=by,
            channel=turn.message.channel,
            sender=turn.message.sender,
            references=references,
            transcript=[*turn.state.transcript, f"Resident: {turn.text}"][-TRANSCRIPT_LINES:],
        )

    async def _abuse(self, turn: Turn) -> None:
        """CHC-5.14: a calm boundary, recorded and flagged; never a bar to complaining."""
        self._say(turn, "abuse_boundary")
        self._notify_staff(
            turn,
            "staff_abuse",
            channel=turn.message.channel,
            sender=turn.message.sender,
            text=turn.text,
        )
        await turn.uow.events.append(
            Event(
                resident_id=turn.resident_id,
                occurred_at=self._clock.now(),
                actor=turn.actor,
                channel=turn.message.channel,
                kind=EventKind.NOTE,
                summary="Abusive or threatening language; flagged to staff (CHC-5.14)",
                data={"text": turn.text},
            )
        )

    async def _keep_evidence(self, turn: Turn) -> None:
        """Files are kept as evidence, on the complaint the conversation is about if any."""
        open_complaints = [c for c in await self._owned(turn) if c.is_open]
        target = next(
            (c for c in open_complaints if c.reference == turn.state.reference),
            open_complaints[0] if len(open_complaints) == 1 else None,
        )
        attachments = [a.model_dump() for a in turn.message.attachments]
        await turn.uow.events.append(
            Event(
                complaint_id=target.id if target else None,
                resident_id=turn.resident_id,
                occurred_at=self._clock.now(),
                actor=turn.actor,
                channel=turn.message.channel,
                kind=EventKind.EVIDENCE,
                summary=f"{len(attachments)} file(s) received",
                data={"attachments": attachments},
            )
        )
        if target is not None:
            turn.complaint_id = target.id
        self._say(
            turn,
            "attachment_kept",
            count=len(attachments),
            reference=target.reference if target else None,
        )

    # ================================================================== staff replies

    async def relay_from_staff(
        self, *, channel: str, message_id: str, replied_to: str, staff_id: str, text: str
    ) -> str | None:
        """Send a staff member's reply to a handover notice on to the resident.

        ``replied_to`` is the staff channel's id of the notice. The text goes to the resident
        as a message from the complaints team (no staff name, 2020 CHC-3.17) and is recorded as
        correspondence by that staff member (CHC-5.12). Returns the complaint's reference, or
        ``None`` when the notice was not about a complaint (nothing is sent then).
        """
        if not text.strip():
            return None
        async with self._store.unit_of_work() as uow:
            if not await uow.receipts.record(channel, message_id, self._clock.now()):
                return None  # a redelivered staff message
            notice = await uow.outbox.find_sent(STAFF_CHANNEL, replied_to)
            reference = None if notice is None else notice.payload.get("reference")
            if not reference:
                return None
            complaint = await self._complaints.get(uow, reference=str(reference))
            resident = await uow.residents.get(complaint.resident_id)
            address = resident.address_on(complaint.channel)
            target = complaint.channel
            if address is None and resident.identities:
                target, address = resident.identities[0].channel, resident.identities[0].address
            if address is None:
                return None
            message = OutboundMessage(
                channel=target,
                recipient=address,
                text=self._words.render(
                    "from_complaints_team", reference=complaint.reference, text=text.strip()
                ),
                kind=OutboundKind.UPDATE,
                reference=complaint.reference,
                large_print=resident.preferences.large_print,
            )
            await self._outbox.enqueue(
                uow,
                channel=message.channel,
                address=message.recipient,
                kind=message.kind.value,
                payload=message.model_dump(mode="json"),
                idempotency_key=f"{channel}:{message_id}:relay",
                complaint_id=complaint.id,
                resident_id=complaint.resident_id,
                actor=Actor.staff(staff_id),
            )
            return complaint.reference

    # ================================================================== output

    def _say(
        self,
        turn: Turn,
        template: str,
        *,
        choices: Sequence[Choice] = (),
        kind: OutboundKind = OutboundKind.REPLY,
        reference: str | None = None,
        complaint_id: int | None = None,
        **context: Any,
    ) -> None:
        text = self._words.render(template, reference=reference, **context)
        self._send(
            turn,
            OutboundMessage(
                channel=turn.message.channel,
                recipient=turn.message.sender,
                text=text,
                kind=kind,
                choices=tuple(choices),
                reference=reference,
                in_reply_to=turn.message.message_id,
                large_print=turn.resident.preferences.large_print,
            ),
            complaint_id,
        )

    def _send(self, turn: Turn, message: OutboundMessage, complaint_id: int | None) -> None:
        turn.outgoing.append((message, complaint_id))

    def _notify_staff(
        self,
        turn: Turn,
        template: str,
        *,
        urgent: bool = False,
        reference: str | None = None,
        **context: Any,
    ) -> None:
        """Every handover reaches staff through the outbox (delivered by the channels)."""
        self._send(
            turn,
            OutboundMessage(
                channel=STAFF_CHANNEL,
                recipient=STAFF_RECIPIENT,
                text=self._words.render(template, reference=reference, **context),
                kind=OutboundKind.STAFF_NOTICE,
                reference=reference,
                urgent=urgent,
            ),
            None,
        )

    async def _queue(self, turn: Turn) -> list[OutboundMessage]:
        """Put every outgoing message in the outbox, honouring contact restrictions."""
        outgoing = list(turn.outgoing)
        route = self._restriction_route(turn)
        if route is not None:
            channel, address, allowed = route
            outgoing = [
                (
                    m.model_copy(update={"channel": channel, "recipient": address})
                    if m.channel == turn.message.channel
                    else m,
                    complaint_id,
                )
                for m, complaint_id in outgoing
            ]
            # One line here says where the answer went; the complaint itself carries on.
            notice = OutboundMessage(
                channel=turn.message.channel,
                recipient=turn.message.sender,
                text=self._words.render("restricted", channels=list(allowed)),
                in_reply_to=turn.message.message_id,
            )
            outgoing.insert(0, (notice, None))
        queued: list[OutboundMessage] = []
        for index, (message, complaint_id) in enumerate(outgoing):
            await self._outbox.enqueue(
                turn.uow,
                channel=message.channel,
                address=message.recipient,
                kind=message.kind.value,
                payload=message.model_dump(mode="json"),
                idempotency_key=f"{turn.message.channel}:{turn.message.message_id}:{index}",
                complaint_id=complaint_id,
                resident_id=turn.resident_id,
            )
            queued.append(message)
        return queued

    def _restriction_route(self, turn: Turn) -> tuple[str, str, tuple[str, ...]] | None:
        """CHC-5.14: where a person restricted contact to some channels, reply there.

        Returns the channel and address to use and the allowed channels, or ``None`` when the
        resident may be answered where they wrote (or has no address on an allowed channel).
        """
        for restriction in turn.resident.restrictions:
            allowed = restriction.allowed_channels
            if not restriction.active or not allowed or turn.message.channel in allowed:
                continue
            for channel in allowed:
                address = turn.resident.address_on(channel)
                if address is not None:
                    return channel, address, allowed
        return None

    async def _record_inbound(self, turn: Turn) -> None:
        """CHC-5.12: every message from the resident is part of the record."""
        if not turn.text and not turn.message.attachments:
            return
        data: dict[str, Any] = {"message_id": turn.message.message_id}
        if turn.message.choice:
            data["choice"] = turn.message.choice
        await turn.uow.events.append(
            Event(
                complaint_id=turn.complaint_id,
                resident_id=turn.resident_id,
                occurred_at=turn.message.received_at,
                actor=turn.actor,
                channel=turn.message.channel,
                kind=EventKind.MESSAGE_IN,
                summary=turn.text or "(files only)",
                data=data,
            )
        )

    def _remember(self, turn: Turn) -> None:
        lines = [f"Resident: {turn.text}"] if turn.text else []
        lines += [f"Bot: {m.text}" for m, _ in turn.outgoing if m.channel != STAFF_CHANNEL]
        turn.state.transcript = [*turn.state.transcript, *lines][-TRANSCRIPT_LINES:]

    # ================================================================== small helpers

    def _today(self) -> date:
        return self._clock.now().astimezone(self._calendar.timezone).date()

    def _choice(self, turn: Turn, *options: str) -> str | None:
        """The option chosen: a pressed button, or typed words matching an option's label."""
        chosen = turn.message.choice
        if chosen is not None:
            base = chosen.split(":", 1)[0]
            return base if base in options else None
        typed = _plain(turn.text)
        for option in options:
            label = _plain(self._words.label(option).replace("{reference}", ""))
            if typed and (typed == label or typed == option.replace("_", " ")):
                return option
        return None

    def _decision(self, turn: Turn, *, yes: str, no: str) -> bool | None:
        choice = self._choice(turn, yes, no)
        if choice is not None:
            return choice == yes
        intent = understand.classify(turn.text)
        if intent == Intent.YES:
            return True
        if intent in (Intent.NO, Intent.CANCEL):
            return False
        return None


def _can_escalate(complaint: Complaint) -> bool:
    """After a stage 1 response, or a stage 1 close: late requests are still considered."""
    return complaint.status == Status.RESPONDED or (
        complaint.status == Status.CLOSED and complaint.stage == Stage.ONE
    )


def _typed_reference(text: str) -> str | None:
    """Something typed like a reference (hyphens, or digits among the symbols), if any.

    Words such as "complaint" have the same length and letters, so a bare run of letters is
    not taken as an attempt at a reference.
    """
    for match in _REFERENCE_SHAPE.finditer(text):
        typed = match.group(0)
        if "-" in typed or any(ch.isdigit() for ch in typed):
            return typed
    return None


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


def _summary(complaint: Complaint) -> str:
    text = complaint.elements[0].text if complaint.elements else ""
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1].rstrip() + "…"


def _latest_update(events: Sequence[Event]) -> str | None:
    for event in reversed(events):
        if event.kind == EventKind.MESSAGE_OUT and event.data.get("kind") == "update":
            return event.summary
    return None


def _interpreter_language(wanted: str) -> str | None:
    match = re.search(r"(\w+) interpreter|interpreter (?:for|in) (\w+)", wanted)
    if match is None:
        return None
    language = match.group(1) or match.group(2)
    return None if language in {"an", "a", "the"} else language.capitalize()
