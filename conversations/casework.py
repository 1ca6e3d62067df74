"""Casework: every operation the complaints team performs, for every front end.

The command line (``complaints-bot staff …``) and the staff Telegram chat both call
:class:`Casework`; neither changes a complaint itself. Each operation is one unit of work in
which the change, its event in the record (with the acting staff member, CHC-5.12) and the
letter to the resident (through :class:`~conversations.notify.Notifier`) commit together.
Letters are keyed by the event that caused them, so a retried transaction never sends one
twice; a front end that can be redelivered (a chat) passes a ``request_id`` so that the whole
operation happens once.

Results are pydantic models: ``to_json()`` is the stable shape scripts read (documented in the
README), and ``text`` is the same result in words, rendered from the ``staff_action_*``
templates.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field

from conversations.envelopes import OutboundKind
from conversations.notify import Notifier
from conversations.wording import DEFAULT_DIRECTORY, Wording
from core.calendar import long_date
from core.clock import Clock
from core.complaints.enums import (
    ActorKind,
    EventKind,
    Outcome,
    RemedyType,
    Stage,
    Status,
    TaskStatus,
)
from core.complaints.lifecycle import OPEN_STATUSES
from core.complaints.models import (
    Actor,
    Complaint,
    Event,
    OutstandingAction,
    Remedy,
)
from core.complaints.service import ComplaintService
from core.db.store import Store, UnitOfWork
from core.deadlines import DeadlineRules
from core.errors import (
    ConcurrencyError,
    DomainError,
    ExtensionRefusedError,
    HandlerConflictError,
    IncompleteResponseError,
    NotFoundError,
)
from core.residents.models import ContactPreferences, Resident
from core.residents.service import ResidentService

STAFF_COMMANDS: Final = "staff-command"
"""The receipts channel under which a front end's ``request_id`` is recorded (exactly once)."""
WORK_LIST_STATUSES: Final = frozenset({*OPEN_STATUSES, Status.FINAL_RESPONSE_SENT})
"""What ``staff list`` shows by default: everything a person still has to act on."""
MAX_ATTEMPTS: Final = 3
LABELS: Final = "staff_action"
WARNINGS: Final = "staff_warning"
_RESIDENT_ID: Final = re.compile(r"^(?:resident:)?(\d+)$", re.IGNORECASE)


# ====================================================================== results


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_json(self) -> dict[str, Any]:
        """The stable, documented JSON shape (dates and times as ISO strings)."""
        return self.model_dump(mode="json", exclude={"text"})


class CaseSummary(_Result):
    """One line of ``staff list``; also the first keys of a :class:`CaseFile`."""

    reference: str
    stage: int
    status: str
    received_at: datetime
    acknowledge_by: date | None
    """The acknowledgement date at the current stage (CHC-6.2, CHC-6.11)."""
    response_by: date | None
    """The response date in force at the current stage, extended if it was (CHC-6.3, 6.14)."""
    handler: str | None
    """Who handles the current stage."""
    overdue: bool
    """The next deadline has passed."""
    next_due_on: date | None
    urgent: bool
    exclusions_flagged: list[str]
    """Possible exclusions (CHC-2.2) for a person to decide; the bot never decides them."""
    resident_id: int


class CaseList(_Result):
    """The result of ``staff list``."""

    items: list[CaseSummary]
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        """Not used: ``staff list --json`` prints :meth:`to_json_array`."""
        return {"items": [item.to_json() for item in self.items]}

    def to_json_array(self) -> list[dict[str, Any]]:
        """The JSON array ``staff list --json`` prints."""
        return [item.to_json() for item in self.items]


class DecisionView(_Result):
    """A decision on one element at one stage (CHC-6.7)."""

    stage: int
    decision: str
    reasons: str
    decided_by: str
    decided_at: datetime


class ElementView(_Result):
    """One point of the complaint definition, with its latest decision once decided."""

    position: int
    text: str
    stage_added: int
    decision: str | None = None
    reasons: str | None = None
    decisions: list[DecisionView] = Field(default_factory=list)


class ExtensionView(_Result):
    """An extension (CHC-6.4, CHC-6.15)."""

    stage: int
    reason: str
    previous_due_on: date
    new_due_on: date
    beyond_code_limit: bool
    requested_by: str
    created_at: datetime
    notified_at: datetime | None


class RemedyView(_Result):
    """A remedy, tracked to completion (CHC-7.3)."""

    id: int | None
    stage: int
    type: str
    description: str
    due_on: date | None
    amount_pence: int | None
    status: str
    completed_at: datetime | None


class ActionView(_Result):
    """An outstanding action (CHC-6.6)."""

    id: int | None
    stage: int
    description: str
    due_on: date | None
    status: str
    completed_at: datetime | None


class EventView(_Result):
    """One event of the record (CHC-5.12); correspondence has ``direction`` and ``text``."""

    id: int | None
    type: str
    at: datetime
    actor: str
    channel: str | None
    summary: str
    direction: str | None = None
    text: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class EvidenceView(_Result):
    """A file the resident sent, and whether the copy kept is available."""

    at: datetime
    kind: str
    filename: str | None
    content_type: str | None
    size: int | None
    stored_as: str
    available: bool
    bundle_path: str | None = None
    """Where the export bundle holds its copy."""


class DeliveryView(_Result):
    """One queued message and whether it was delivered."""

    id: int | None
    channel: str
    kind: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


class ResidentView(_Result):
    """The resident: how to reach them, adjustments and restrictions (CHC-3.1, 5.10, 5.14)."""

    id: int
    name: str | None
    identities: list[dict[str, Any]]
    preferences: dict[str, Any]
    adjustments: list[str]
    vulnerabilities: list[str]
    restrictions: list[dict[str, Any]]


class CaseFile(CaseSummary):
    """The full record of one complaint: ``staff show`` and the export bundle (CHC-5.12)."""

    location: str | None
    since: str | None
    category: str | None
    hazards: list[str]
    representative: dict[str, Any] | None
    elements: list[ElementView]
    outcomes_sought: list[str]
    stage1: dict[str, Any]
    stage2: dict[str, Any]
    next_update_due_on: date | None
    escalation_requested_at: datetime | None
    escalation_reason: str | None
    refusal_reason: str | None
    closed_at: datetime | None
    extensions: list[ExtensionView]
    remedies: list[RemedyView]
    actions: list[ActionView]
    events: list[EventView]
    evidence: list[EvidenceView]
    deliveries: list[DeliveryView]
    resident: ResidentView
    text: str = ""


class StaffWarning(_Result):
    """Something the staff member should know about what they just did."""

    code: str
    message: str


class ActionResult(_Result):
    """What one staff operation did."""

    action: str
    reference: str | None = None
    resident_id: int | None = None
    status: str | None = None
    stage: int | None = None
    told: list[str] = Field(default_factory=list)
    """The channels the resident (or their representative) was written to."""
    warnings: list[StaffWarning] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    repeated: bool = False
    """The request was handled before (a redelivered chat command); nothing was done again."""
    text: str = ""


# ====================================================================== the response file


class DecisionEntry(BaseModel):
    """The decision on one point of the complaint definition (CHC-6.7)."""

    model_config = ConfigDict(extra="forbid")

    point: int = Field(ge=1, description="The number of the point, as in `staff show`.")
    decision: Outcome | None = Field(
        default=None, description="upheld, partly_upheld or not_upheld."
    )
    reasons: str = Field(default="", description="Why, in plain words (CHC-6.7).")


class RemedyEntry(BaseModel):
    """Something that will be put right (CHC-7.1), with what and by when (CHC-7.3)."""

    model_config = ConfigDict(extra="forbid")

    type: RemedyType
    what: str = ""
    by: date | None = Field(default=None, description="When it will be done (CHC-7.3).")
    amount_pence: int | None = Field(default=None, ge=1, description="For a financial remedy.")


class ActionEntry(BaseModel):
    """Work still to be done after the response (CHC-6.6)."""

    model_config = ConfigDict(extra="forbid")

    what: str = ""
    by: date | None = None


class ResponseFile(BaseModel):
    """A stage 1 or stage 2 (final) response, as written by a member of staff.

    The letter built from it states the stage, the complaint definition, a decision and its
    reasons on every point, the remedies, the outstanding actions, and how to escalate or go
    to the Housing Ombudsman (CHC-6.9, CHC-6.19).
    """

    model_config = ConfigDict(extra="forbid")

    stage: int | None = Field(
        default=None, ge=1, le=2, description="Optional check: the stage this answers."
    )
    summary: str | None = Field(default=None, description="An opening paragraph, if wanted.")
    decisions: list[DecisionEntry] = Field(default_factory=list)
    remedies: list[RemedyEntry] = Field(default_factory=list)
    actions: list[ActionEntry] = Field(default_factory=list)

    def problems(self, complaint: Complaint) -> list[str]:
        """Everything missing or wrong for ``complaint``, one line each; empty when complete.

        CHC-6.7, 6.9, 6.19: every point of the definition gets a decision with reasons; every
        remedy says what and by when (CHC-7.3); every outstanding action says what (CHC-6.6).
        """
        stage = int(complaint.stage)
        rule = "CHC-6.19" if stage == int(Stage.TWO) else "CHC-6.9"
        problems: list[str] = []
        if self.stage is not None and self.stage != stage:
            problems.append(f"the file answers stage {self.stage}, the complaint is at {stage}")
        positions = {e.position: e for e in complaint.elements}
        given: dict[int, DecisionEntry] = {}
        for entry in self.decisions:
            if entry.point not in positions:
                problems.append(f"point {entry.point}: the complaint has no such point")
            elif entry.point in given:
                problems.append(f"point {entry.point}: decided twice")
            given[entry.point] = entry
        for position, element in sorted(positions.items()):
            found = given.get(position)
            label = f"point {position} ({_short(element.text)})"
            if found is None or found.decision is None:
                problems.append(f"{label}: no decision ({rule}, CHC-6.7)")
            if found is None or not found.reasons.strip():
                problems.append(f"{label}: no reasons ({rule}, CHC-6.7)")
        for number, remedy in enumerate(self.remedies, start=1):
            if not remedy.what.strip():
                problems.append(f"remedy {number}: what will be done (CHC-7.3)")
            if remedy.by is None:
                problems.append(f"remedy {number}: by when (CHC-7.3)")
            if remedy.type == RemedyType.FINANCIAL and not remedy.amount_pence:
                problems.append(f"remedy {number}: the amount of a financial remedy")
        problems.extend(
            f"action {number}: what will be done (CHC-6.6)"
            for number, action in enumerate(self.actions, start=1)
            if not action.what.strip()
        )
        return problems


class ResponseIncompleteError(IncompleteResponseError):
    """A response file that leaves out something the Code requires; ``missing`` lists it."""

    def __init__(self, stage: int, missing: Sequence[str]) -> None:
        rule = "CHC-6.19" if stage == int(Stage.TWO) else "CHC-6.9"
        lines = "\n".join(f"  - {item}" for item in missing)
        super().__init__(f"the stage {stage} response is not complete ({rule}); missing:\n{lines}")
        self.missing = list(missing)


# ====================================================================== the service


Work = Callable[[UnitOfWork], Awaitable[ActionResult]]


class Casework:
    """The complaints team's operations, shared by every staff front end.

    Args:
        store: the database.
        clock: where "now" comes from.
        rules: the deadline rules (and through them the working-day calendar).
        complaints: complaint operations (the Code's rules live there).
        residents: resident operations (adjustments, restrictions).
        notifier: queues letters to residents and notices to staff.
        wording: every word, for letters and for the results shown to staff.
        data_dir: where the channels keep evidence files (only files under it are exported).
    """

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        rules: DeadlineRules,
        complaints: ComplaintService,
        residents: ResidentService,
        notifier: Notifier,
        wording: Wording,
        data_dir: Path,
    ) -> None:
        self._store = store
        self._clock = clock
        self._rules = rules
        self._complaints = complaints
        self._residents = residents
        self._notifier = notifier
        self._words = wording
        self._data_dir = data_dir

    # ------------------------------------------------------------------ reading

    async def list_cases(
        self,
        *,
        overdue: bool = False,
        due_by: date | None = None,
        stage: int | None = None,
        handler: str | None = None,
        include_finished: bool = False,
    ) -> CaseList:
        """The work list: complaints a person still has to act on, most pressing first.

        Args:
            overdue: only those whose next deadline has passed.
            due_by: only those whose next deadline is on or before this day.
            stage: only those at this stage.
            handler: only those handled by this person at their current stage.
            include_finished: also closed, refused and withdrawn complaints.
        """
        today = self._complaints.today()
        limit = due_by
        if overdue:
            yesterday = date.fromordinal(today.toordinal() - 1)
            limit = yesterday if limit is None else min(limit, yesterday)
        async with self._store.unit_of_work() as uow:
            complaints = await uow.complaints.search(
                statuses=None if include_finished else {s.value for s in WORK_LIST_STATUSES},
                stage=Stage(stage) if stage is not None else None,
                handler=handler,
                due_by=limit,
            )
        items = [self._summary(c, today) for c in complaints]
        text = self._words.render("staff_action_list", items=items, today=today)
        return CaseList(items=items, text=text)

    async def show(self, reference: str) -> CaseFile:
        """The full record of one complaint (CHC-5.12).

        Raises:
            InvalidReferenceError: the reference is mistyped.
            NotFoundError: there is no such complaint.
        """
        async with self._store.unit_of_work() as uow:
            complaint = await self._complaints.get(uow, reference=reference)
            resident = await uow.residents.get(complaint.resident_id)
            events = await uow.events.for_complaint(_id(complaint))
            deliveries = await uow.outbox.for_complaint(_id(complaint))
        case = self._case_file(complaint, resident, events, deliveries)
        return case.model_copy(update={"text": self._words.render("staff_action_show", case=case)})

    # ------------------------------------------------------------------ handling

    async def assign(
        self, reference: str, *, stage: int, handler: str, by: str, request_id: str | None = None
    ) -> ActionResult:
        """Name who handles a stage; a stage 2 handler who handled stage 1 is refused (CHC-6.13).

        Raises:
            HandlerConflictError: CHC-6.13.
        """
        actor = _staff(by)

        async def work(uow: UnitOfWork) -> ActionResult:
            complaint = await self._complaints.assign_handler(
                uow, reference=reference, stage=Stage(stage), handler=handler, actor=actor
            )
            return self._result(
                "assign",
                complaint,
                stage=str(stage),
                handler=handler.strip(),
                reference=complaint.reference,
            )

        return await self._act(request_id, work)

    async def note(
        self, reference: str, *, text: str, by: str, request_id: str | None = None
    ) -> ActionResult:
        """Add an internal note to the record; it is never sent to the resident."""
        actor = _staff(by)

        async def work(uow: UnitOfWork) -> ActionResult:
            event = await self._complaints.add_note(
                uow, reference=reference, text=text, actor=actor
            )
            complaint = await uow.complaints.get(event.complaint_id or 0)
            return self._result("note", complaint, reference=complaint.reference)

        return await self._act(request_id, work)

    async def message(
        self, reference: str, *, text: str, by: str, request_id: str | None = None
    ) -> ActionResult:
        """Send the resident a message from the complaints team (no staff names, 2020 CHC-3.17).

        Raises:
            DomainError: the message is empty.
        """
        actor = _staff(by)
        if not text.strip():
            raise DomainError("a message cannot be empty")
        key = f"staff-message:{request_id or uuid.uuid4().hex}"

        async def work(uow: UnitOfWork) -> ActionResult:
            complaint = await self._complaints.get(uow, reference=reference)
            told = await self._tell(
                uow, complaint, "from_complaints_team", key, actor=actor, text=text.strip()
            )
            return self._result("message", complaint, told=told, reference=complaint.reference)

        return await self._act(request_id, work)

    async def extend(
        self,
        reference: str,
        *,
        reason: str,
        by: str,
        working_days: int | None = None,
        until: date | None = None,
        good_reason: str | None = None,
        request_id: str | None = None,
    ) -> ActionResult:
        """Extend the response date and tell the resident why, until when, and the Ombudsman.

        CHC-6.4 / CHC-6.15: at most 10 (stage 1) or 20 (stage 2) working days in all without a
        recorded good reason. CHC-6.5 / CHC-6.16: the letter gives the reason, the new date
        and the Ombudsman's contact details, and must reach the resident before the original
        date passes — the result warns when it is sent on that very day, and the core refuses
        once the date has gone.

        Raises:
            DomainError: neither or both of ``working_days`` and ``until``.
            ExtensionRefusedError: the Code does not allow it (the message says why).
        """
        actor = _staff(by)
        if (working_days is None) == (until is None):
            raise DomainError("give either a number of working days or a date to extend to")
        if working_days is not None and working_days < 1:
            raise DomainError("an extension adds at least one working day")

        async def work(uow: UnitOfWork) -> ActionResult:
            complaint = await self._complaints.get(uow, reference=reference)
            current = complaint.stage_record().effective_response_due_on
            new_due = until
            if working_days is not None:
                if current is None:
                    raise ExtensionRefusedError(
                        f"{complaint.reference} is {complaint.status.value}: only a response "
                        "that is awaited can be extended"
                    )
                new_due = self._rules.calendar.add_working_days(current, working_days)
            assert new_due is not None
            try:
                complaint = await self._complaints.extend(
                    uow,
                    reference=reference,
                    new_due_on=new_due,
                    reason=reason,
                    actor=actor,
                    good_reason_beyond_limit=good_reason,
                )
            except ExtensionRefusedError as error:
                if "good reason" in str(error):
                    raise ExtensionRefusedError(f"{error} (--good-reason TEXT)") from None
                raise
            extension = complaint.extensions[-1]
            event = await _last_event(uow, complaint, EventKind.EXTENSION)
            told = await self._tell(
                uow,
                complaint,
                "letter_extension",
                _letter_key(event),
                actor=actor,
                copy_by_email=True,
                stage=int(complaint.stage),
                reason=extension.reason,
                good_reason=(good_reason or "").strip() if extension.beyond_code_limit else None,
                previous_due=extension.previous_due_on,
                new_due=extension.new_due_on,
            )
            if told and extension.id is not None:
                await uow.complaints.mark_extension_notified(extension.id, self._clock.now())
            warnings = []
            if self._complaints.today() >= extension.previous_due_on:
                warnings.append(self._warning("late", date=extension.previous_due_on.isoformat()))
            if extension.beyond_code_limit:
                warnings.append(self._warning("beyond_limit"))
            return self._result(
                "extend",
                complaint,
                told=told,
                warnings=warnings,
                details={
                    "previous_due_on": extension.previous_due_on.isoformat(),
                    "new_due_on": extension.new_due_on.isoformat(),
                    "beyond_code_limit": extension.beyond_code_limit,
                },
                reference=complaint.reference,
                stage=str(int(complaint.stage)),
                date=extension.new_due_on.isoformat(),
                previous=extension.previous_due_on.isoformat(),
            )

        return await self._act(request_id, work)

    async def respond(
        self, reference: str, *, response: ResponseFile, by: str, request_id: str | None = None
    ) -> ActionResult:
        """Record the stage 1 or final response and send it (CHC-6.7, 6.9, 6.19).

        Refused, with everything missing listed, unless every point has a decision with
        reasons and every remedy says what and by when. The member of staff who responds at
        stage 1 becomes its handler if none was named; at stage 2 the stage 1 handler may not
        respond (CHC-6.13).

        Raises:
            ResponseIncompleteError: listing what is missing.
            HandlerConflictError: CHC-6.13.
        """
        actor = _staff(by)

        async def work(uow: UnitOfWork) -> ActionResult:
            complaint = await self._complaints.get(uow, reference=reference)
            problems = response.problems(complaint)
            if problems:
                raise ResponseIncompleteError(int(complaint.stage), problems)
            stage = complaint.stage
            record = complaint.stage_record()
            if stage == Stage.TWO and _same(complaint.stage1.handler, by):
                raise HandlerConflictError(
                    f"{by} handled stage 1 of {complaint.reference}; the final response must "
                    "come from someone else (CHC-6.13)"
                )
            if record.handler is None:
                await self._complaints.assign_handler(
                    uow, reference=reference, stage=stage, handler=by, actor=actor
                )
            for entry in response.decisions:
                assert entry.decision is not None  # checked by problems()
                await self._complaints.record_decision(
                    uow,
                    reference=reference,
                    position=entry.point,
                    outcome=entry.decision,
                    reasons=entry.reasons,
                    actor=actor,
                )
            for remedy in response.remedies:
                await self._complaints.add_remedy(
                    uow,
                    reference=reference,
                    remedy_type=remedy.type,
                    description=remedy.what,
                    due_on=remedy.by,
                    amount_pence=remedy.amount_pence,
                    actor=actor,
                )
            for action in response.actions:
                await self._complaints.add_action(
                    uow, reference=reference, description=action.what, due_on=action.by, actor=actor
                )
            complaint = await self._complaints.respond(uow, reference=reference, actor=actor)
            event = await _last_event(uow, complaint, EventKind.TRANSITION)
            final = stage == Stage.TWO
            told = await self._tell(
                uow,
                complaint,
                "letter_final_response" if final else "letter_stage1_response",
                _letter_key(event),
                actor=actor,
                copy_by_email=True,
                sent_on=self._complaints.today(),
                summary=(response.summary or "").strip() or None,
                **self._decided(complaint, stage),
            )
            return self._result(
                "respond_2" if final else "respond_1",
                complaint,
                told=told,
                warnings=self._exclusion_warnings(complaint),
                reference=complaint.reference,
            )

        return await self._act(request_id, work)

    async def escalate(
        self,
        reference: str,
        *,
        by: str,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> ActionResult:
        """Ask for stage 2 on the resident's behalf; no reason is needed (CHC-6.10, 6.12).

        The escalation must then be acknowledged within 5 working days (CHC-6.11) with
        ``accept_escalation``; the resident is told that date now.
        """
        actor = _staff(by)

        async def work(uow: UnitOfWork) -> ActionResult:
            complaint = await self._complaints.request_escalation(
                uow, reference=reference, actor=actor, reason=reason
            )
            event = await _last_event(uow, complaint, EventKind.TRANSITION)
            acknowledge_due = complaint.stage2.acknowledge_due_on
            assert acknowledge_due is not None
            told = await self._tell(
                uow,
                complaint,
                "letter_escalation_requested",
                _letter_key(event),
                actor=actor,
                requested_on=self._rules.calendar.received_on(self._clock.now()),
                acknowledge_due=acknowledge_due,
            )
            return self._result(
                "escalate",
                complaint,
                told=told,
                warnings=self._exclusion_warnings(complaint),
                reference=complaint.reference,
                date=acknowledge_due.isoformat(),
            )

        return await self._act(request_id, work)

    async def accept_escalation(
        self, reference: str, *, by: str, request_id: str | None = None
    ) -> ActionResult:
        """Acknowledge a stage 2 request: define it again and give the final response date.

        CHC-6.11 (acknowledge and define within 5 working days), CHC-5.6 (the stage 2
        definition, asking for clarification), CHC-6.14 (the response date). With no stage 2
        handler named, the member of staff accepting becomes it — refused if they handled
        stage 1 (CHC-6.13).

        Raises:
            DomainError: no escalation is waiting.
            HandlerConflictError: CHC-6.13.
        """
        actor = _staff(by)

        async def work(uow: UnitOfWork) -> ActionResult:
            complaint = await self._waiting_escalation(uow, reference)
            if complaint.stage2.handler is None:
                await self._complaints.assign_handler(
                    uow, reference=reference, stage=Stage.TWO, handler=by, actor=actor
                )
            complaint = await self._complaints.acknowledge(uow, reference=reference, actor=actor)
            event = await _last_event(uow, complaint, EventKind.TRANSITION)
            response_due = complaint.stage2.response_due_on
            acknowledged_on = complaint.stage2.acknowledged_on
            assert response_due is not None and acknowledged_on is not None
            told = await self._tell(
                uow,
                complaint,
                "letter_escalation_acknowledged",
                _letter_key(event),
                kind=OutboundKind.ACKNOWLEDGEMENT,
                actor=actor,
                copy_by_email=True,
                acknowledged_on=acknowledged_on,
                response_due=response_due,
            )
            return self._result(
                "escalation_accept",
                complaint,
                told=told,
                warnings=self._exclusion_warnings(complaint),
                reference=complaint.reference,
                date=response_due.isoformat(),
            )

        return await self._act(request_id, work)

    async def refuse_escalation(
        self, reference: str, *, reason: str, by: str, request_id: str | None = None
    ) -> ActionResult:
        """Refuse a stage 2 request, in writing, with the right to go to the Ombudsman.

        CHC-6.10 (only where an exclusion now applies, decided by a person) and CHC-2.4.

        Raises:
            DomainError: no escalation is waiting, or no reason.
        """
        _staff(by)
        async with self._store.unit_of_work() as uow:
            await self._waiting_escalation(uow, reference)
        return await self.refuse(reference, reason=reason, by=by, request_id=request_id)

    async def refuse(
        self, reference: str, *, reason: str, by: str, request_id: str | None = None
    ) -> ActionResult:
        """Refuse the complaint (or a waiting escalation) with reasons and the Ombudsman right.

        CHC-2.1–2.4: only a person decides; possible exclusions the bot flagged are shown,
        never applied on their own.

        Raises:
            DomainError: no reason given, or the lifecycle does not allow it now.
        """
        actor = _staff(by)

        async def work(uow: UnitOfWork) -> ActionResult:
            before = await self._complaints.get(uow, reference=reference)
            escalation = before.status == Status.ESCALATION_REQUESTED
            complaint = await self._complaints.refuse(
                uow, reference=reference, reason=reason, actor=actor
            )
            event = await _last_event(uow, complaint, EventKind.TRANSITION)
            told = await self._tell(
                uow,
                complaint,
                "letter_escalation_refused" if escalation else "letter_refused",
                _letter_key(event),
                actor=actor,
                copy_by_email=True,
                reason=reason.strip(),
                decided_on=self._complaints.today(),
            )
            return self._result(
                "escalation_refuse" if escalation else "refuse",
                complaint,
                told=told,
                details={"exclusions_flagged": [e.value for e in complaint.exclusions_flagged]},
                reference=complaint.reference,
            )

        return await self._act(request_id, work)

    async def add_remedy(
        self,
        reference: str,
        *,
        remedy_type: RemedyType,
        what: str,
        by: str,
        due_on: date | None,
        amount_pence: int | None = None,
        request_id: str | None = None,
    ) -> ActionResult:
        """Offer a remedy at any stage (CHC-5.13, 7.1): what and by when (CHC-7.3).

        Raises:
            DomainError: no date, no description, or a payment without its amount.
        """
        actor = _staff(by)
        if due_on is None:
            raise DomainError("a remedy must say by when it will be done (CHC-7.3)")

        async def work(uow: UnitOfWork) -> ActionResult:
            remedy = await self._complaints.add_remedy(
                uow,
                reference=reference,
                remedy_type=remedy_type,
                description=what,
                due_on=due_on,
                amount_pence=amount_pence,
                actor=actor,
            )
            return await self._announce_added(
                uow,
                "remedy",
                reference,
                item_id=remedy.id,
                due_on=due_on,
                actor=actor,
                letter={"remedy": self._remedy(remedy)},
            )

        return await self._act(request_id, work)

    async def complete_remedy(
        self, reference: str, *, remedy_id: int, by: str, request_id: str | None = None
    ) -> ActionResult:
        """Record that a remedy was carried out; the resident hears it is done (CHC-7.3).

        Raises:
            NotFoundError: no such remedy on this complaint.
            DomainError: it was already done or cancelled.
        """
        return await self._complete("remedy", reference, remedy_id, by, request_id)

    async def add_action(
        self,
        reference: str,
        *,
        what: str,
        by: str,
        due_on: date | None,
        request_id: str | None = None,
    ) -> ActionResult:
        """Record work still to be done after a response, and tell the resident (CHC-6.6).

        Raises:
            DomainError: no description or no date.
        """
        actor = _staff(by)
        if due_on is None:
            raise DomainError("an outstanding action must say by when it will be done (CHC-6.6)")

        async def work(uow: UnitOfWork) -> ActionResult:
            action = await self._complaints.add_action(
                uow, reference=reference, description=what, due_on=due_on, actor=actor
            )
            return await self._announce_added(
                uow,
                "action",
                reference,
                item_id=action.id,
                due_on=due_on,
                actor=actor,
                letter={"action": {"description": action.description, "due_on": action.due_on}},
            )

        return await self._act(request_id, work)

    async def complete_action(
        self, reference: str, *, action_id: int, by: str, request_id: str | None = None
    ) -> ActionResult:
        """Record that an outstanding action was done; the resident hears (CHC-6.6).

        Raises:
            NotFoundError: no such action on this complaint.
            DomainError: it was already done or cancelled.
        """
        return await self._complete("action", reference, action_id, by, request_id)

    async def _announce_added(
        self,
        uow: UnitOfWork,
        noun: Literal["remedy", "action"],
        reference: str,
        *,
        item_id: int | None,
        due_on: date,
        actor: Actor,
        letter: dict[str, Any],
    ) -> ActionResult:
        """Write to the resident about a remedy or action just added, and report it."""
        complaint = await self._complaints.get(uow, reference=reference)
        kind = EventKind.REMEDY_ADDED if noun == "remedy" else EventKind.ACTION_ADDED
        event = await _last_event(uow, complaint, kind)
        template = "letter_remedy_offered" if noun == "remedy" else "letter_action_added"
        told = await self._tell(uow, complaint, template, _letter_key(event), actor=actor, **letter)
        return self._result(
            f"{noun}_add",
            complaint,
            told=told,
            details={f"{noun}_id": item_id},
            reference=complaint.reference,
            id=str(item_id),
            date=due_on.isoformat(),
        )

    async def _complete(
        self,
        noun: Literal["remedy", "action"],
        reference: str,
        item_id: int,
        by: str,
        request_id: str | None,
    ) -> ActionResult:
        """Mark a remedy or an outstanding action done, and write to the resident."""
        actor = _staff(by)

        async def work(uow: UnitOfWork) -> ActionResult:
            complaint = await self._complaints.get(uow, reference=reference)
            items = complaint.remedies if noun == "remedy" else complaint.actions
            item = next((i for i in items if i.id == item_id), None)
            if item is None:
                raise NotFoundError(f"{complaint.reference} has no {noun} {item_id}")
            if item.status != TaskStatus.PENDING:
                raise DomainError(f"{noun} {item_id} of {complaint.reference} is {item.status}")
            if isinstance(item, Remedy):
                complaint = await self._complaints.complete_remedy(
                    uow, reference=reference, remedy_id=item_id, actor=actor
                )
                kind, described = EventKind.REMEDY_COMPLETED, self._remedy(item)
            else:
                complaint = await self._complaints.complete_action(
                    uow, reference=reference, action_id=item_id, actor=actor
                )
                kind = EventKind.ACTION_COMPLETED
                described = {"description": item.description, "due_on": item.due_on}
            event = await _last_event(uow, complaint, kind)
            context: dict[str, Any] = {
                noun: described,
                "done_on": self._complaints.today(),
                "remaining": self._remaining(complaint),
            }
            told = await self._tell(
                uow, complaint, f"letter_{noun}_done", _letter_key(event), actor=actor, **context
            )
            return self._result(
                f"{noun}_done",
                complaint,
                told=told,
                details={f"{noun}_id": item_id},
                reference=complaint.reference,
                id=str(item_id),
            )

        return await self._act(request_id, work)

    async def close(
        self, reference: str, *, by: str, request_id: str | None = None
    ) -> ActionResult:
        """Close after a stage 1 response (no escalation) or after the final response.

        Remedies and actions still pending carry on (CHC-6.6, 7.3): the result warns, and the
        letter tells the resident what is still to be done.
        """
        actor = _staff(by)

        async def work(uow: UnitOfWork) -> ActionResult:
            complaint = await self._complaints.close(uow, reference=reference, actor=actor)
            event = await _last_event(uow, complaint, EventKind.TRANSITION)
            remaining = self._remaining(complaint)
            told = await self._tell(
                uow,
                complaint,
                "letter_closed",
                _letter_key(event),
                actor=actor,
                copy_by_email=True,
                closed_on=self._complaints.today(),
                remaining=remaining,
            )
            warnings = (
                [self._warning("still_to_do", count=str(len(remaining)))] if remaining else []
            )
            return self._result(
                "close", complaint, told=told, warnings=warnings, reference=complaint.reference
            )

        return await self._act(request_id, work)

    async def withdraw(
        self, reference: str, *, by: str, request_id: str | None = None
    ) -> ActionResult:
        """Withdraw the complaint on the resident's behalf and confirm it to them in writing."""
        actor = _staff(by)

        async def work(uow: UnitOfWork) -> ActionResult:
            complaint = await self._complaints.withdraw(uow, reference=reference, actor=actor)
            event = await _last_event(uow, complaint, EventKind.TRANSITION)
            told = await self._tell(
                uow,
                complaint,
                "letter_withdrawn",
                _letter_key(event),
                actor=actor,
                withdrawn_on=self._complaints.today(),
            )
            return self._result("withdraw", complaint, told=told, reference=complaint.reference)

        return await self._act(request_id, work)

    # ------------------------------------------------------------------ the resident

    async def restrict(
        self,
        target: str,
        *,
        reason: str,
        review_on: date,
        by: str,
        channels: Sequence[str] = (),
        description: str | None = None,
        request_id: str | None = None,
    ) -> ActionResult:
        """Restrict contact with a resident, with reasons and a review date (CHC-5.14).

        ``target`` is a complaint reference, a resident id (``17`` or ``resident:17``) or an
        identity (``email:sam@example.org``). The resident is told in writing what the
        restriction is, why, when it will be reviewed and that they can still complain.

        Raises:
            DomainError: no reason, no description and no channels, or a review date passed.
        """
        actor = _staff(by)
        wanted = [c.strip().lower() for c in channels if c.strip()]
        if not (description or "").strip() and not wanted:
            raise DomainError("say what the restriction is (--description) or which channels")
        text = (description or "").strip() or self._words.label(
            "only_channels", LABELS, channels=self._channel_names(wanted)
        )

        async def work(uow: UnitOfWork) -> ActionResult:
            resident, complaint = await self._target(uow, target)
            restriction = await self._residents.restrict_contact(
                uow,
                resident_id=_id(resident),
                description=text,
                reason=reason,
                review_on=review_on,
                actor=actor,
                allowed_channels=wanted,
            )
            told: list[str] = []
            warnings: list[StaffWarning] = []
            if complaint is None:
                warnings.append(self._warning("no_complaint_to_write"))
            else:
                told = await self._tell(
                    uow,
                    complaint,
                    "letter_restricted",
                    f"restriction:{restriction.id}:set",
                    actor=actor,
                    set_on=self._complaints.today(),
                    description=restriction.description,
                    reason=restriction.reason,
                    review_on=restriction.review_on,
                    channels=[self._channel_name(c) for c in restriction.allowed_channels],
                )
            return self._result(
                "restrict",
                complaint,
                resident_id=_id(resident),
                told=told,
                warnings=warnings,
                details={"restriction_id": restriction.id},
                resident=str(resident.id),
                id=str(restriction.id),
                date=review_on.isoformat(),
            )

        return await self._act(request_id, work)

    async def unrestrict(
        self,
        target: str,
        *,
        by: str,
        restriction_id: int | None = None,
        request_id: str | None = None,
    ) -> ActionResult:
        """Lift a contact restriction (CHC-5.14) and tell the resident.

        Raises:
            NotFoundError: no active restriction (with that id).
            DomainError: several are active and none was named.
        """
        actor = _staff(by)

        async def work(uow: UnitOfWork) -> ActionResult:
            resident, complaint = await self._target(uow, target)
            active = [r for r in resident.restrictions if r.active]
            if restriction_id is not None:
                chosen = [r for r in active if r.id == restriction_id]
            else:
                chosen = active
            if not chosen:
                raise NotFoundError(f"resident {resident.id} has no active restriction")
            if len(chosen) > 1:
                ids = ", ".join(str(r.id) for r in chosen)
                raise DomainError(f"resident {resident.id} has several restrictions ({ids}): --id")
            lifted = chosen[0]
            await self._residents.lift_restriction(
                uow, resident_id=_id(resident), restriction_id=lifted.id or 0, actor=actor
            )
            told: list[str] = []
            warnings: list[StaffWarning] = []
            if complaint is None:
                warnings.append(self._warning("no_complaint_to_write"))
            else:
                told = await self._tell(
                    uow,
                    complaint,
                    "letter_unrestricted",
                    f"restriction:{lifted.id}:lifted",
                    actor=actor,
                    lifted_on=self._complaints.today(),
                )
            return self._result(
                "unrestrict",
                complaint,
                resident_id=_id(resident),
                told=told,
                warnings=warnings,
                details={"restriction_id": lifted.id},
                resident=str(resident.id),
                id=str(lifted.id),
            )

        return await self._act(request_id, work)

    async def adjust(
        self,
        target: str,
        *,
        by: str,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        vulnerabilities: Sequence[str] = (),
        large_print: bool | None = None,
        call_back: bool | None = None,
        channel: str | None = None,
        times: str | None = None,
        interpreter: str | None = None,
        update_every: int | None = None,
        request_id: str | None = None,
    ) -> ActionResult:
        """Record reasonable adjustments and contact preferences (CHC-3.1, CHC-5.10).

        Every later letter honours them (large print, the preferred channel, the update
        interval agreed with the resident, CHC-5.9); the resident gets a written summary.

        Raises:
            DomainError: nothing to change, or an update interval below one working day.
        """
        actor = _staff(by)
        if update_every is not None and update_every < 1:
            raise DomainError("updates are at least one working day apart (CHC-5.9)")
        changes: dict[str, Any] = {
            key: value
            for key, value in (
                ("large_print", large_print),
                ("call_back", call_back),
                ("channel", channel.strip().lower() if channel else None),
                ("times", times.strip() if times else None),
                ("interpreter_language", interpreter.strip() if interpreter else None),
                ("update_interval_working_days", update_every),
            )
            if value is not None
        }
        if not (changes or add or remove or vulnerabilities):
            raise DomainError("nothing to record: give at least one adjustment or preference")

        async def work(uow: UnitOfWork) -> ActionResult:
            resident, complaint = await self._target(uow, target)
            removing = {r.strip().casefold() for r in remove}
            adjustments = [a for a in resident.adjustments if a.casefold() not in removing]
            adjustments += [a.strip() for a in add if a.strip() and a.strip() not in adjustments]
            updated = await self._residents.update(
                uow,
                resident_id=_id(resident),
                actor=actor,
                preferences=resident.preferences.model_copy(update=changes),
                adjustments=adjustments,
                vulnerabilities=[
                    *resident.vulnerabilities,
                    *(v.strip() for v in vulnerabilities if v.strip()),
                ],
            )
            if update_every is not None:
                await self._bring_updates_forward(uow, _id(resident), update_every)
            told: list[str] = []
            warnings: list[StaffWarning] = []
            recorded = self._recorded(updated.preferences, updated.adjustments)
            if complaint is None:
                warnings.append(self._warning("no_complaint_to_write"))
            elif recorded:
                events = await uow.events.for_resident(_id(resident))
                told = await self._tell(
                    uow,
                    complaint,
                    "letter_adjustments",
                    f"adjustments:{events[-1].id}",
                    actor=actor,
                    recorded=recorded,
                )
            return self._result(
                "adjust",
                complaint,
                resident_id=_id(resident),
                told=told,
                warnings=warnings,
                details={
                    "preferences": updated.preferences.model_dump(mode="json"),
                    "adjustments": list(updated.adjustments),
                },
                resident=str(resident.id),
            )

        return await self._act(request_id, work)

    async def _bring_updates_forward(self, uow: UnitOfWork, resident_id: int, every: int) -> None:
        """CHC-5.9: a newly agreed interval applies to the next update, not the one after."""
        today = self._clock.now().astimezone(self._rules.calendar.timezone).date()
        sooner = self._rules.calendar.add_working_days(today, every)
        for complaint in await uow.complaints.for_resident(resident_id):
            due = complaint.next_update_due_on
            if complaint.is_open and due is not None and sooner < due:
                await uow.complaints.save(
                    complaint.model_copy(update={"next_update_due_on": sooner})
                )

    # ------------------------------------------------------------------ export

    async def export(self, reference: str, *, out: Path, by: str) -> ActionResult:
        """Write the whole case file for an Ombudsman evidence request (CHC-5.12).

        ``out`` gets ``case.html`` (readable, self-contained, inline CSS only), ``case.json``
        (the ``staff show --json`` record) and ``evidence/`` with a copy of every file the
        resident sent that is still kept under the data directory. The export is recorded.
        """
        actor = _staff(by)
        case = await self.show(reference)
        try:
            copied = await self._write_bundle(case, out, by)
        except OSError as error:
            raise DomainError(f"cannot write the case file to {out}: {error.strerror}") from None

        async def work(uow: UnitOfWork) -> ActionResult:
            await self._complaints.add_note(
                uow,
                reference=reference,
                text=self._words.label("exported_note", LABELS, path=str(out)),
                actor=actor,
            )
            complaint = await self._complaints.get(uow, reference=reference)
            missing = sum(1 for item in copied if item.bundle_path is None)
            warnings = [self._warning("evidence_missing", count=str(missing))] if missing else []
            return self._result(
                "export",
                complaint,
                warnings=warnings,
                details={
                    "path": str(out),
                    "files": [
                        "case.html",
                        "case.json",
                        *(i.bundle_path for i in copied if i.bundle_path),
                    ],
                },
                reference=complaint.reference,
                path=str(out),
            )

        return await self._act(None, work)

    # ------------------------------------------------------------------ internals

    async def _write_bundle(self, case: CaseFile, out: Path, by: str) -> list[EvidenceView]:
        """Write ``case.html``, ``case.json`` and ``evidence/`` under ``out``."""
        evidence_dir = out / "evidence"
        out.mkdir(parents=True, exist_ok=True)
        copied: list[EvidenceView] = []
        for number, item in enumerate(case.evidence, start=1):
            source = self._evidence_file(item.stored_as)
            if source is None:
                copied.append(item)
                continue
            evidence_dir.mkdir(exist_ok=True)
            name = f"{number:03d}-{_safe_name(item.filename or source.name)}"
            await asyncio.to_thread(shutil.copyfile, source, evidence_dir / name)
            copied.append(item.model_copy(update={"bundle_path": f"evidence/{name}"}))
        case = case.model_copy(update={"evidence": copied})
        exported_at = self._clock.now()
        record = {
            **case.to_json(),
            "exported_at": exported_at.isoformat(),
            "exported_by": by,
        }
        (out / "case.json").write_text(
            json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (out / "case.html").write_text(
            self._html(case, exported_at=exported_at, exported_by=by), encoding="utf-8"
        )
        return copied

    async def _act(self, request_id: str | None, work: Work) -> ActionResult:
        """Run ``work`` in one unit of work, once per ``request_id``, retrying lost races."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self._store.unit_of_work() as uow:
                    if request_id is not None and not await uow.receipts.record(
                        STAFF_COMMANDS, request_id, self._clock.now()
                    ):
                        return ActionResult(
                            action="repeated",
                            repeated=True,
                            text=self._words.label("repeated", LABELS),
                        )
                    return await work(uow)
            except ConcurrencyError:
                if attempt == MAX_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _tell(
        self,
        uow: UnitOfWork,
        complaint: Complaint,
        template: str,
        key: str,
        *,
        actor: Actor,
        kind: OutboundKind = OutboundKind.UPDATE,
        copy_by_email: bool = False,
        **context: Any,
    ) -> list[str]:
        sent = await self._notifier.tell_resident(
            uow,
            complaint=complaint,
            template=template,
            idempotency_key=key,
            kind=kind,
            actor=actor,
            copy_by_email=copy_by_email,
            **context,
        )
        return [m.channel for m in sent]

    async def _waiting_escalation(self, uow: UnitOfWork, reference: str) -> Complaint:
        complaint = await self._complaints.get(uow, reference=reference)
        if complaint.status != Status.ESCALATION_REQUESTED:
            raise DomainError(
                f"{complaint.reference} is {complaint.status.value}: no stage 2 request is "
                "waiting to be accepted or refused"
            )
        return complaint

    async def _target(self, uow: UnitOfWork, target: str) -> tuple[Resident, Complaint | None]:
        """The resident named by ``target``, and the complaint to write to them about."""
        text = target.strip()
        match = _RESIDENT_ID.match(text)
        if match is not None:
            resident = await uow.residents.get(int(match.group(1)))
        elif ":" in text and not text.upper().startswith("C-"):
            channel, _, address = text.partition(":")
            found = await uow.residents.find_by_identity(channel.strip().lower(), address.strip())
            if found is None:
                raise NotFoundError(f"no resident with {channel} address {address}")
            resident = found
        else:
            complaint = await self._complaints.get(uow, reference=text)
            return await uow.residents.get(complaint.resident_id), complaint
        complaints = await uow.complaints.for_resident(_id(resident))
        current = next((c for c in complaints if c.is_open), complaints[0] if complaints else None)
        return resident, current

    def _summary(self, complaint: Complaint, today: date) -> CaseSummary:
        record = complaint.stage_record()
        due = complaint.next_due_on
        return CaseSummary(
            reference=complaint.reference,
            stage=int(complaint.stage),
            status=complaint.status.value,
            received_at=complaint.received_at,
            acknowledge_by=record.acknowledge_due_on,
            response_by=record.effective_response_due_on,
            handler=record.handler,
            overdue=due is not None and due < today,
            next_due_on=due,
            urgent=complaint.urgent,
            exclusions_flagged=[e.value for e in complaint.exclusions_flagged],
            resident_id=complaint.resident_id,
        )

    def _case_file(
        self,
        complaint: Complaint,
        resident: Resident,
        events: Sequence[Event],
        deliveries: Sequence[Any],
    ) -> CaseFile:
        summary = self._summary(complaint, self._complaints.today())
        elements = []
        for element in complaint.elements:
            decided = sorted(
                (d for d in complaint.decisions if d.element_id == element.id),
                key=lambda d: (int(d.stage), d.decided_at),
            )
            latest = decided[-1] if decided else None
            elements.append(
                ElementView(
                    position=element.position,
                    text=element.text,
                    stage_added=int(element.stage_added),
                    decision=latest.outcome.value if latest else None,
                    reasons=latest.reasons if latest else None,
                    decisions=[
                        DecisionView(
                            stage=int(d.stage),
                            decision=d.outcome.value,
                            reasons=d.reasons,
                            decided_by=d.decided_by,
                            decided_at=d.decided_at,
                        )
                        for d in decided
                    ],
                )
            )
        evidence = [
            EvidenceView(
                at=event.occurred_at,
                kind=str(item.get("kind", "file")),
                filename=item.get("filename"),
                content_type=item.get("content_type"),
                size=item.get("size"),
                stored_as=str(item.get("reference", "")),
                available=self._evidence_file(str(item.get("reference", ""))) is not None,
            )
            for event in events
            for item in event.data.get("attachments", [])
            if isinstance(item, dict)
        ]
        return CaseFile(
            **summary.model_dump(),
            location=complaint.location,
            since=complaint.since,
            category=complaint.category,
            hazards=list(complaint.hazards),
            representative=(
                complaint.representative.model_dump() if complaint.representative else None
            ),
            elements=elements,
            outcomes_sought=list(complaint.outcomes_sought),
            stage1=complaint.stage1.model_dump(mode="json"),
            stage2=complaint.stage2.model_dump(mode="json"),
            next_update_due_on=complaint.next_update_due_on,
            escalation_requested_at=complaint.escalation_requested_at,
            escalation_reason=complaint.escalation_reason,
            refusal_reason=complaint.refusal_reason,
            closed_at=complaint.closed_at,
            extensions=[
                ExtensionView(
                    stage=int(x.stage),
                    reason=x.reason,
                    previous_due_on=x.previous_due_on,
                    new_due_on=x.new_due_on,
                    beyond_code_limit=x.beyond_code_limit,
                    requested_by=x.requested_by,
                    created_at=x.created_at,
                    notified_at=x.notified_at,
                )
                for x in complaint.extensions
            ],
            remedies=[_remedy_view(r) for r in complaint.remedies],
            actions=[
                ActionView(
                    id=a.id,
                    stage=int(a.stage),
                    description=a.description,
                    due_on=a.due_on,
                    status=a.status.value,
                    completed_at=a.completed_at,
                )
                for a in complaint.actions
            ],
            events=[_event_view(e) for e in events],
            evidence=evidence,
            deliveries=[
                DeliveryView(
                    id=d.id,
                    channel=d.channel,
                    kind=d.kind,
                    status=d.status.value,
                    attempts=d.attempts,
                    created_at=d.created_at,
                    sent_at=d.sent_at,
                    last_error=d.last_error,
                )
                for d in deliveries
            ],
            resident=ResidentView(
                id=_id(resident),
                name=resident.name,
                identities=[i.model_dump(mode="json") for i in resident.identities],
                preferences=resident.preferences.model_dump(mode="json"),
                adjustments=list(resident.adjustments),
                vulnerabilities=list(resident.vulnerabilities),
                restrictions=[r.model_dump(mode="json") for r in resident.restrictions],
            ),
        )

    def _evidence_file(self, stored_as: str) -> Path | None:
        """The kept copy of an evidence file, only if it lies under the data directory."""
        if not stored_as:
            return None
        root = self._data_dir.resolve()
        path = Path(stored_as)
        for candidate in (path,) if path.is_absolute() else (path, self._data_dir / path):
            resolved = candidate.resolve()
            if resolved.is_relative_to(root) and resolved.is_file():
                return resolved
        return None

    def _decided(self, complaint: Complaint, stage: Stage) -> dict[str, Any]:
        """The decisions, remedies and actions a response letter states (CHC-6.9, 6.19)."""
        decisions = complaint.decisions_at(stage)
        return {
            "decisions": [
                {
                    "position": e.position,
                    "text": e.text,
                    "outcome": self._words.label(decisions[e.id or 0].outcome.value, "decision"),
                    "reasons": decisions[e.id or 0].reasons,
                }
                for e in complaint.elements
            ],
            "remedies": [
                self._remedy(r)
                for r in complaint.remedies
                if r.stage == stage or r.status == TaskStatus.PENDING
            ],
            "actions": [
                {"description": a.description, "due_on": a.due_on}
                for a in complaint.actions
                if a.stage == stage or a.status == TaskStatus.PENDING
            ],
        }

    def _remedy(self, remedy: Remedy) -> dict[str, Any]:
        return {
            "type": self._words.label(remedy.type.value, "remedy_type"),
            "description": remedy.description,
            "due_on": remedy.due_on,
            "amount": (
                self._words.label("amount", LABELS, pounds=f"{remedy.amount_pence / 100:,.2f}")
                if remedy.amount_pence
                else None
            ),
        }

    @staticmethod
    def _remaining(complaint: Complaint) -> list[dict[str, Any]]:
        """Remedies and actions still to be done (CHC-6.6, CHC-7.3)."""
        pending: list[Remedy | OutstandingAction] = [
            *(r for r in complaint.remedies if r.status == TaskStatus.PENDING),
            *(a for a in complaint.actions if a.status == TaskStatus.PENDING),
        ]
        return [{"description": p.description, "due_on": p.due_on} for p in pending]

    def _recorded(self, preferences: ContactPreferences, adjustments: Sequence[str]) -> list[str]:
        """What the resident asked for, in words, for the letter confirming it (CHC-5.10)."""
        words = self._words.labels("adjustment")
        recorded = list(adjustments)
        if preferences.large_print:
            recorded.append(words["large_print"])
        if preferences.call_back:
            recorded.append(words["call_back"])
        if preferences.channel:
            recorded.append(
                words["channel"].format(channel=self._channel_name(preferences.channel))
            )
        if preferences.times:
            recorded.append(words["times"].format(times=preferences.times))
        if preferences.interpreter_language:
            recorded.append(words["interpreter"].format(language=preferences.interpreter_language))
        if preferences.update_interval_working_days:
            recorded.append(
                words["update_every"].format(days=preferences.update_interval_working_days)
            )
        return recorded

    def _channel_name(self, channel: str) -> str:
        return self._words.labels("channel_name").get(channel, channel)

    def _channel_names(self, channels: Sequence[str]) -> str:
        return " or ".join(self._channel_name(c) for c in channels)

    def _warning(self, code: str, **values: str) -> StaffWarning:
        return StaffWarning(code=code, message=self._words.label(code, WARNINGS, **values))

    def _exclusion_warnings(self, complaint: Complaint) -> list[StaffWarning]:
        """CHC-2.2: a possible exclusion is flagged for a person; never applied by the bot."""
        return [
            self._warning("exclusion_flagged", exclusion=self._words.label(e.value, "exclusion"))
            for e in complaint.exclusions_flagged
        ]

    def _result(
        self,
        action: str,
        complaint: Complaint | None,
        *,
        resident_id: int | None = None,
        told: Sequence[str] = (),
        warnings: Sequence[StaffWarning] = (),
        details: dict[str, Any] | None = None,
        **values: str,
    ) -> ActionResult:
        summary = self._words.label(action, LABELS, **values)
        text = self._words.render(
            "staff_action_result",
            summary=summary,
            told=[self._channel_name(c) for c in told],
            letter=action in _LETTERS,
            warnings=[w.message for w in warnings],
        )
        return ActionResult(
            action=action,
            reference=complaint.reference if complaint else None,
            resident_id=complaint.resident_id if complaint else resident_id,
            status=complaint.status.value if complaint else None,
            stage=int(complaint.stage) if complaint else None,
            told=list(told),
            warnings=list(warnings),
            details=details or {},
            text=text,
        )

    def _html(self, case: CaseFile, *, exported_at: datetime, exported_by: str) -> str:
        """The readable case file: one self-contained HTML page, everything escaped."""
        environment = Environment(
            loader=FileSystemLoader(DEFAULT_DIRECTORY),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.filters["long_date"] = long_date
        return environment.get_template("staff_action_export_html.txt").render(
            case=case,
            title=self._words.render("staff_action_export_title", case=case),
            exported_at=exported_at,
            exported_by=exported_by,
            status=self._words.labels("complaint_status"),
        )


_LETTERS: Final = frozenset(
    {
        "message",
        "extend",
        "respond_1",
        "respond_2",
        "escalate",
        "escalation_accept",
        "escalation_refuse",
        "refuse",
        "remedy_add",
        "remedy_done",
        "action_add",
        "action_done",
        "close",
        "withdraw",
        "restrict",
        "unrestrict",
        "adjust",
    }
)
"""Actions that write to the resident; their result says where the letter went (or warns)."""


def _staff(by: str) -> Actor:
    if not by or not by.strip():
        raise DomainError("say who is acting: a staff id is needed (CHC-5.12)")
    return Actor.staff(by.strip())


def _same(one: str | None, other: str) -> bool:
    return one is not None and one.strip().casefold() == other.strip().casefold()


def _id(record: Complaint | Resident) -> int:
    if record.id is None:  # pragma: no cover - records come from the database
        raise ValueError("not stored yet")
    return record.id


async def _last_event(uow: UnitOfWork, complaint: Complaint, kind: EventKind) -> Event:
    """The event just appended by a core operation; its id keys the resulting letter."""
    events = [e for e in await uow.events.for_complaint(_id(complaint)) if e.kind == kind]
    return max(events, key=lambda e: e.id or 0)


def _letter_key(event: Event) -> str:
    return f"letter:event:{event.id}"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^\w.-]+", "_", Path(name).name).strip("._")
    return cleaned[:80] or "file"


def _remedy_view(remedy: Remedy) -> RemedyView:
    return RemedyView(
        id=remedy.id,
        stage=int(remedy.stage),
        type=remedy.type.value,
        description=remedy.description,
        due_on=remedy.due_on,
        amount_pence=remedy.amount_pence,
        status=remedy.status.value,
        completed_at=remedy.completed_at,
    )


def _event_view(event: Event) -> EventView:
    correspondence = event.kind in (EventKind.MESSAGE_IN, EventKind.MESSAGE_OUT)
    actor = event.actor.kind.value
    if event.actor.id and event.actor.kind != ActorKind.SYSTEM:
        actor = f"{actor}:{event.actor.id}"
    return EventView(
        id=event.id,
        type=event.kind.value,
        at=event.occurred_at,
        actor=actor,
        channel=event.channel,
        summary=event.summary,
        direction=("in" if event.kind == EventKind.MESSAGE_IN else "out")
        if correspondence
        else None,
        text=event.summary if correspondence else None,
        data=event.data,
    )
