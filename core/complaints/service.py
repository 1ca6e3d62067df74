"""Complaint operations, each inside the caller's unit of work.

Each changes the record and appends its events in the caller's transaction, so the caller can
queue the resulting messages in the same transaction (the outbox).

Every rule the Code sets on these steps is enforced here, where it lives: the transition table
(:mod:`core.complaints.lifecycle`), the deadlines (:class:`~core.deadlines.DeadlineRules`), the
stage 2 handler (CHC-6.13), extensions (CHC-6.4, CHC-6.15), and the parts a response must have
(CHC-6.9, CHC-6.19).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final

from core.clock import Clock
from core.complaints.enums import (
    Action,
    ActorKind,
    EventKind,
    Exclusion,
    Outcome,
    RemedyType,
    Stage,
    Status,
    TaskStatus,
)
from core.complaints.lifecycle import next_state
from core.complaints.models import (
    Actor,
    Complaint,
    Decision,
    Element,
    Event,
    Extension,
    OutstandingAction,
    Remedy,
    Representative,
    StageRecord,
)
from core.db.store import UnitOfWork
from core.deadlines import DeadlineRules
from core.errors import (
    DomainError,
    ExtensionRefusedError,
    HandlerConflictError,
    IncompleteResponseError,
    NotFoundError,
)
from core.references import ReferenceKind, new_reference, normalise

EXCLUSION_WINDOW_DAYS: Final = 365
"""CHC-2.2: a complaint about something the resident became aware of over 12 months ago may
be excluded — the bot only flags it; a person decides."""

DEFAULT_UPDATE_INTERVAL: Final = 5
"""Working days between updates to the resident while a response is awaited (CHC-5.9)."""


class ComplaintService:
    """The complaint lifecycle, with its rules.

    Args:
        clock: where "now" comes from.
        rules: the deadline rules (calendar and configured timescales).
        update_interval_working_days: the default interval for updates to the resident
            (CHC-5.9) when none was agreed with them.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        rules: DeadlineRules,
        update_interval_working_days: int = DEFAULT_UPDATE_INTERVAL,
    ) -> None:
        if update_interval_working_days < 1:
            raise ValueError("update_interval_working_days must be at least 1")
        self._clock = clock
        self._rules = rules
        self._update_interval = update_interval_working_days

    # ------------------------------------------------------------------ reading

    async def get(self, uow: UnitOfWork, *, reference: str, for_update: bool = False) -> Complaint:
        """Return the complaint with ``reference`` (typed by a person: it is normalised first).

        Raises:
            InvalidReferenceError: the reference is malformed or mistyped.
            NotFoundError: there is no such complaint.
        """
        return await uow.complaints.get_by_reference(normalise(reference), for_update=for_update)

    def today(self) -> date:
        """Return today's date in the calendar's time zone."""
        return self._clock.now().astimezone(self._rules.calendar.timezone).date()

    # ------------------------------------------------------------------ logging

    async def log(
        self,
        uow: UnitOfWork,
        *,
        resident_id: int,
        channel: str,
        received_at: datetime,
        elements: Sequence[str],
        actor: Actor,
        outcomes_sought: Sequence[str] = (),
        location: str | None = None,
        since: str | None = None,
        aware_on: date | None = None,
        category: str | None = None,
        representative: Representative | None = None,
        adjustments: Sequence[str] = (),
        vulnerabilities: Sequence[str] = (),
        hazards: Sequence[str] = (),
    ) -> Complaint:
        """Log a complaint at stage 1 straight away (CHC-5.2) with its acknowledgement date.

        A complaint with missing parts is still logged, never held back; a possible exclusion
        (CHC-2.2) is flagged for a person, never applied.

        Raises:
            DomainError: no point of complaint was given.
        """
        points = [p.strip() for p in elements if p.strip()]
        if not points:
            raise DomainError("a complaint needs at least one point saying what went wrong")
        received_on = self._rules.calendar.received_on(received_at)
        exclusions: list[Exclusion] = []
        if aware_on is not None and (received_on - aware_on).days > EXCLUSION_WINDOW_DAYS:
            exclusions.append(Exclusion.OVER_TWELVE_MONTHS)  # CHC-2.2, CHC-2.3
        complaint = Complaint(
            reference=new_reference(ReferenceKind.COMPLAINT),
            resident_id=resident_id,
            representative=representative,
            channel=channel,
            received_at=received_at,
            received_on=received_on,
            category=category,
            location=location,
            since=since,
            aware_on=aware_on,
            outcomes_sought=tuple(o.strip() for o in outcomes_sought if o.strip()),
            adjustments=tuple(adjustments),
            vulnerabilities=tuple(vulnerabilities),
            urgent=bool(hazards),
            hazards=tuple(hazards),
            exclusions_flagged=tuple(exclusions),
            stage1=StageRecord(acknowledge_due_on=self._rules.acknowledge_by(received_on)),
            elements=tuple(
                Element(position=i, text=text, added_at=received_at)
                for i, text in enumerate(points, start=1)
            ),
        )
        complaint = await uow.complaints.add(complaint)
        await self._event(
            uow,
            complaint,
            EventKind.RECEIVED,
            f"Complaint received by {channel} and logged at stage 1",
            actor=actor,
            channel=channel,
            data={
                "elements": points,
                "outcomes_sought": list(complaint.outcomes_sought),
                "acknowledge_by": complaint.stage1.acknowledge_due_on,
            },
        )
        if hazards:
            await self._event(
                uow,
                complaint,
                EventKind.URGENT_FLAGGED,
                "Possible urgent hazard: " + ", ".join(hazards),
                actor=actor,
                data={"hazards": list(hazards)},
            )
        for exclusion in exclusions:
            await self._event(
                uow,
                complaint,
                EventKind.EXCLUSION_FLAGGED,
                f"Possible exclusion for a person to consider: {exclusion.value}",
                actor=Actor.system(),
                data={"exclusion": exclusion.value, "aware_on": aware_on},
            )
        return complaint

    # ------------------------------------------------------------------ lifecycle

    async def acknowledge(
        self, uow: UnitOfWork, *, reference: str, actor: Actor, channel: str | None = None
    ) -> Complaint:
        """Acknowledge at the current stage and set the response date.

        Stage 1: the response is due 10 working days after the acknowledgement (CHC-6.3).
        Stage 2: 20 working days after the escalation is acknowledged (CHC-6.14).
        """
        complaint = await self.get(uow, reference=reference, for_update=True)
        # Never before the day the complaint counts as received (a message after the cut-off
        # is acknowledged at once but counts from the next working day).
        today = max(self.today(), complaint.received_on)
        if complaint.status == Status.ESCALATION_REQUESTED:
            action, stage = Action.ACKNOWLEDGE_ESCALATION, Stage.TWO
            due = self._rules.stage2_response_by(today)
        else:
            action, stage = Action.ACKNOWLEDGE, Stage.ONE
            due = self._rules.stage1_response_by(today)
        record = complaint.stage_record(stage).model_copy(
            update={"acknowledged_on": today, "response_due_on": due}
        )
        # CHC-5.9: updates at the interval agreed with the resident, else the default.
        resident = await uow.residents.get(complaint.resident_id)
        interval = resident.preferences.update_interval_working_days
        return await self._apply(
            uow,
            complaint,
            action,
            actor=actor,
            channel=channel,
            changes={
                f"stage{int(stage)}": record,
                "next_update_due_on": self._next_update(today, due, interval),
            },
            data={"response_due_on": due},
        )

    async def respond(
        self, uow: UnitOfWork, *, reference: str, actor: Actor, channel: str | None = None
    ) -> Complaint:
        """Record that the stage 1 response, or the final (stage 2) response, was sent.

        Raises:
            IncompleteResponseError: a point of the complaint has no decision with reasons at
                this stage (CHC-6.7, CHC-6.9, CHC-6.19).
        """
        complaint = await self.get(uow, reference=reference, for_update=True)
        self.check_response_complete(complaint)
        action = Action.SEND_FINAL_RESPONSE if complaint.stage == Stage.TWO else Action.RESPOND
        record = complaint.stage_record().model_copy(update={"responded_on": self.today()})
        return await self._apply(
            uow,
            complaint,
            action,
            actor=actor,
            channel=channel,
            changes={f"stage{int(complaint.stage)}": record, "next_update_due_on": None},
        )

    @staticmethod
    def check_response_complete(complaint: Complaint) -> None:
        """Refuse a response that does not decide every point with reasons (CHC-6.9, 6.19).

        The other required parts (the stage, the definition, remedies, outstanding actions, how
        to escalate or go to the Ombudsman) come from the record and the response template.

        Raises:
            IncompleteResponseError: listing what is missing.
        """
        if not complaint.elements:
            raise IncompleteResponseError("the complaint definition has no points (CHC-5.6)")
        decided = complaint.decisions_at(complaint.stage)
        missing = [
            f"point {e.position} ({e.text[:40]})"
            for e in complaint.elements
            if e.id not in decided or not decided[e.id].reasons.strip()
        ]
        if missing:
            rule = "CHC-6.19" if complaint.stage == Stage.TWO else "CHC-6.9"
            raise IncompleteResponseError(
                f"the stage {int(complaint.stage)} response must give a decision with reasons on "
                f"every point ({rule}, CHC-6.7); missing: {'; '.join(missing)}"
            )

    async def request_escalation(
        self,
        uow: UnitOfWork,
        *,
        reference: str,
        actor: Actor,
        reason: str | None = None,
        channel: str | None = None,
    ) -> Complaint:
        """Move to stage 2 on the resident's request; no reason is required (CHC-6.12).

        The escalation must be acknowledged within 5 working days (CHC-6.11).
        """
        complaint = await self.get(uow, reference=reference, for_update=True)
        now = self._clock.now()
        requested_on = self._rules.calendar.received_on(now)
        record = complaint.stage2.model_copy(
            update={"acknowledge_due_on": self._rules.stage2_acknowledge_by(requested_on)}
        )
        return await self._apply(
            uow,
            complaint,
            Action.REQUEST_ESCALATION,
            actor=actor,
            channel=channel,
            changes={
                "stage2": record,
                "escalation_requested_at": now,
                "escalation_reason": (reason or "").strip() or None,
                "closed_at": None,
            },
            data={"reason": reason, "acknowledge_by": record.acknowledge_due_on},
        )

    async def refuse(
        self, uow: UnitOfWork, *, reference: str, reason: str, actor: Actor
    ) -> Complaint:
        """Refuse the complaint (stage 1) or its escalation (stage 2); a person decides.

        The resident must be told the reasons and their right to go to the Ombudsman (CHC-2.4);
        that letter is the caller's to queue.

        Raises:
            DomainError: no reason given, or the refusal was not made by a staff member.
        """
        if not reason.strip():
            raise DomainError("a refusal must give its reasons (CHC-2.4)")
        if actor.kind != ActorKind.STAFF:
            raise DomainError("only a person may refuse a complaint (CHC-2.2)")
        complaint = await self.get(uow, reference=reference, for_update=True)
        return await self._apply(
            uow,
            complaint,
            Action.REFUSE,
            actor=actor,
            changes={"refusal_reason": reason.strip(), "next_update_due_on": None},
            data={"reason": reason.strip()},
        )

    async def withdraw(
        self, uow: UnitOfWork, *, reference: str, actor: Actor, channel: str | None = None
    ) -> Complaint:
        """Record that the resident withdrew the complaint."""
        complaint = await self.get(uow, reference=reference, for_update=True)
        return await self._apply(
            uow,
            complaint,
            Action.WITHDRAW,
            actor=actor,
            channel=channel,
            changes={"closed_at": self._clock.now(), "next_update_due_on": None},
        )

    async def close(self, uow: UnitOfWork, *, reference: str, actor: Actor) -> Complaint:
        """Close after the final response, or after a stage 1 response with no escalation."""
        complaint = await self.get(uow, reference=reference, for_update=True)
        return await self._apply(
            uow,
            complaint,
            Action.CLOSE,
            actor=actor,
            changes={"closed_at": self._clock.now(), "next_update_due_on": None},
        )

    # ------------------------------------------------------------------ handling

    async def assign_handler(
        self, uow: UnitOfWork, *, reference: str, stage: Stage, handler: str, actor: Actor
    ) -> Complaint:
        """Name the person handling a stage.

        Raises:
            HandlerConflictError: the stage 2 handler would be the stage 1 handler (CHC-6.13).
        """
        handler = handler.strip()
        if not handler:
            raise DomainError("a handler must be named")
        complaint = await self.get(uow, reference=reference, for_update=True)
        other = complaint.stage1 if stage == Stage.TWO else complaint.stage2
        if other.handler is not None and other.handler.casefold() == handler.casefold():
            raise HandlerConflictError(
                f"{handler} handled stage {1 if stage == Stage.TWO else 2} of "
                f"{complaint.reference}; the stage 2 handler must be someone else (CHC-6.13)"
            )
        record = complaint.stage_record(stage).model_copy(update={"handler": handler})
        complaint = await uow.complaints.save(
            complaint.model_copy(update={f"stage{int(stage)}": record})
        )
        await self._event(
            uow,
            complaint,
            EventKind.HANDLER_ASSIGNED,
            f"Stage {int(stage)} handler: {handler}",
            actor=actor,
            data={"stage": int(stage), "handler": handler},
        )
        return complaint

    async def extend(
        self,
        uow: UnitOfWork,
        *,
        reference: str,
        new_due_on: date,
        reason: str,
        actor: Actor,
        good_reason_beyond_limit: str | None = None,
    ) -> Complaint:
        """Extend the response date at the current stage.

        Without a recorded good reason the total extension is at most the Code's limit: 10
        working days at stage 1 (CHC-6.4), 20 at stage 2 (CHC-6.15), counted from the original
        response date. The resident must be told the reason, the new date and the Ombudsman's
        contact details (CHC-6.5, CHC-6.16) before the current date passes; that message is the
        caller's to queue.

        Raises:
            ExtensionRefusedError: no reason; not awaiting a response; the date is not later
                or not a working day; the current deadline has passed; or beyond the limit
                without a good reason.
        """
        if not reason.strip():
            raise ExtensionRefusedError("an extension must give its reason (CHC-6.4)")
        complaint = await self.get(uow, reference=reference, for_update=True)
        if complaint.status not in (Status.ACKNOWLEDGED, Status.ESCALATION_ACKNOWLEDGED):
            raise ExtensionRefusedError(
                f"{complaint.reference} is {complaint.status.value}: only a response that is "
                "awaited can be extended"
            )
        stage = complaint.stage
        record = complaint.stage_record()
        original = record.response_due_on
        current = record.effective_response_due_on
        assert original is not None and current is not None  # set on acknowledgement
        today = self.today()
        if today > current:
            raise ExtensionRefusedError(
                f"the response was due on {current.isoformat()}: an extension must be agreed "
                "and explained before the deadline passes (CHC-6.4)"
            )
        if new_due_on <= current:
            raise ExtensionRefusedError(
                f"the new date must be after the current one ({current.isoformat()})"
            )
        if not self._rules.calendar.is_working_day(new_due_on):
            raise ExtensionRefusedError(f"{new_due_on.isoformat()} is not a working day")
        limit = self._rules.extension_limit(int(stage), original)
        beyond = new_due_on > limit
        rule = "CHC-6.15" if stage == Stage.TWO else "CHC-6.4"
        if beyond and not (good_reason_beyond_limit or "").strip():
            raise ExtensionRefusedError(
                f"{new_due_on.isoformat()} is beyond the Code's limit of {limit.isoformat()} "
                f"for stage {int(stage)} ({rule}); record a good reason to go further"
            )
        extension = await uow.complaints.add_extension(
            _require_id(complaint),
            Extension(
                stage=stage,
                reason=reason.strip(),
                beyond_code_limit=beyond,
                previous_due_on=current,
                new_due_on=new_due_on,
                requested_by=actor.id or actor.kind.value,
                created_at=self._clock.now(),
            ),
        )
        complaint = await uow.complaints.save(
            complaint.model_copy(
                update={
                    f"stage{int(stage)}": record.model_copy(update={"extended_due_on": new_due_on})
                }
            )
        )
        await self._event(
            uow,
            complaint,
            EventKind.EXTENSION,
            f"Stage {int(stage)} response extended to {new_due_on.isoformat()}: {reason.strip()}",
            actor=actor,
            data={
                "extension_id": extension.id,
                "previous_due_on": current,
                "new_due_on": new_due_on,
                "beyond_code_limit": beyond,
                "good_reason": good_reason_beyond_limit,
            },
        )
        return await uow.complaints.get(_require_id(complaint))

    async def record_decision(
        self,
        uow: UnitOfWork,
        *,
        reference: str,
        position: int,
        outcome: Outcome,
        reasons: str,
        actor: Actor,
    ) -> Complaint:
        """Record the decision on point ``position`` at the current stage (CHC-6.7).

        Raises:
            DomainError: no such point, or no reasons.
            NotFoundError: no such complaint.
        """
        if not reasons.strip():
            raise DomainError("a decision must give its reasons (CHC-6.7)")
        complaint = await self.get(uow, reference=reference)
        element = next((e for e in complaint.elements if e.position == position), None)
        if element is None or element.id is None:
            raise DomainError(f"{complaint.reference} has no point {position}")
        await uow.complaints.add_decision(
            _require_id(complaint),
            Decision(
                element_id=element.id,
                stage=complaint.stage,
                outcome=outcome,
                reasons=reasons.strip(),
                decided_by=actor.id or actor.kind.value,
                decided_at=self._clock.now(),
            ),
        )
        await self._event(
            uow,
            complaint,
            EventKind.DECISION,
            f"Stage {int(complaint.stage)} decision on point {position}: {outcome.value}",
            actor=actor,
            data={"position": position, "outcome": outcome.value, "reasons": reasons.strip()},
        )
        return await uow.complaints.get(_require_id(complaint))

    async def add_remedy(
        self,
        uow: UnitOfWork,
        *,
        reference: str,
        remedy_type: RemedyType,
        description: str,
        actor: Actor,
        due_on: date | None = None,
        amount_pence: int | None = None,
    ) -> Remedy:
        """Offer a remedy at the current stage (CHC-5.13, CHC-7.1), tracked to completion.

        Raises:
            DomainError: no description; a financial remedy without an amount.
        """
        if not description.strip():
            raise DomainError("a remedy must say what will happen (CHC-7.3)")
        if remedy_type == RemedyType.FINANCIAL and not amount_pence:
            raise DomainError("a financial remedy needs an amount")
        complaint = await self.get(uow, reference=reference)
        remedy = await uow.complaints.add_remedy(
            _require_id(complaint),
            Remedy(
                stage=complaint.stage,
                type=remedy_type,
                description=description.strip(),
                due_on=due_on,
                amount_pence=amount_pence,
                created_at=self._clock.now(),
            ),
        )
        await self._event(
            uow,
            complaint,
            EventKind.REMEDY_ADDED,
            f"Remedy ({remedy_type.value}): {description.strip()}",
            actor=actor,
            data={"remedy_id": remedy.id, "due_on": due_on, "amount_pence": amount_pence},
        )
        return remedy

    async def complete_remedy(
        self, uow: UnitOfWork, *, reference: str, remedy_id: int, actor: Actor
    ) -> Complaint:
        """Record that a remedy was carried out (CHC-7.3)."""
        complaint = await self.get(uow, reference=reference)
        if not any(r.id == remedy_id for r in complaint.remedies):
            raise NotFoundError(f"{complaint.reference} has no remedy {remedy_id}")
        await uow.complaints.set_remedy_status(remedy_id, TaskStatus.DONE, self._clock.now())
        await self._event(
            uow,
            complaint,
            EventKind.REMEDY_COMPLETED,
            f"Remedy {remedy_id} completed",
            actor=actor,
            data={"remedy_id": remedy_id},
        )
        return await uow.complaints.get(_require_id(complaint))

    async def add_action(
        self,
        uow: UnitOfWork,
        *,
        reference: str,
        description: str,
        actor: Actor,
        due_on: date | None = None,
    ) -> OutstandingAction:
        """Record an action still to be done after the response (CHC-6.6)."""
        if not description.strip():
            raise DomainError("an action must say what will be done")
        complaint = await self.get(uow, reference=reference)
        action = await uow.complaints.add_action(
            _require_id(complaint),
            OutstandingAction(
                stage=complaint.stage,
                description=description.strip(),
                due_on=due_on,
                created_at=self._clock.now(),
            ),
        )
        await self._event(
            uow,
            complaint,
            EventKind.ACTION_ADDED,
            f"Outstanding action: {description.strip()}",
            actor=actor,
            data={"action_id": action.id, "due_on": due_on},
        )
        return action

    async def complete_action(
        self, uow: UnitOfWork, *, reference: str, action_id: int, actor: Actor
    ) -> Complaint:
        """Record that an outstanding action was done (CHC-6.6)."""
        complaint = await self.get(uow, reference=reference)
        if not any(a.id == action_id for a in complaint.actions):
            raise NotFoundError(f"{complaint.reference} has no action {action_id}")
        await uow.complaints.set_action_status(action_id, TaskStatus.DONE, self._clock.now())
        await self._event(
            uow,
            complaint,
            EventKind.ACTION_COMPLETED,
            f"Outstanding action {action_id} completed",
            actor=actor,
            data={"action_id": action_id},
        )
        return await uow.complaints.get(_require_id(complaint))

    async def add_element(
        self, uow: UnitOfWork, *, reference: str, text: str, actor: Actor
    ) -> Complaint:
        """Add a related point to the current stage (CHC-6.8)."""
        if not text.strip():
            raise DomainError("a point of complaint cannot be empty")
        complaint = await self.get(uow, reference=reference)
        position = max((e.position for e in complaint.elements), default=0) + 1
        await uow.complaints.add_element(
            _require_id(complaint),
            Element(
                position=position,
                text=text.strip(),
                stage_added=complaint.stage,
                added_at=self._clock.now(),
            ),
        )
        await self._event(
            uow,
            complaint,
            EventKind.DEFINITION_CHANGED,
            f"Point {position} added: {text.strip()}",
            actor=actor,
            data={"position": position, "text": text.strip()},
        )
        return await uow.complaints.get(_require_id(complaint))

    async def complete_definition(
        self,
        uow: UnitOfWork,
        *,
        reference: str,
        actor: Actor,
        outcomes_sought: Sequence[str] | None = None,
        location: str | None = None,
    ) -> Complaint:
        """Fill in parts of the definition the resident gave after logging (CHC-5.6).

        Only adds what was missing or adds to it; the event keeps what changed.
        """
        complaint = await self.get(uow, reference=reference, for_update=True)
        changes: dict[str, Any] = {}
        if outcomes_sought:
            cleaned = tuple(o.strip() for o in outcomes_sought if o.strip())
            changes["outcomes_sought"] = complaint.outcomes_sought + cleaned
        if location and location.strip():
            changes["location"] = location.strip()
        if not changes:
            return complaint
        complaint = await uow.complaints.save(complaint.model_copy(update=changes))
        await self._event(
            uow,
            complaint,
            EventKind.DEFINITION_CHANGED,
            "Definition completed: " + ", ".join(sorted(changes)),
            actor=actor,
            data={k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()},
        )
        return complaint

    async def add_note(self, uow: UnitOfWork, *, reference: str, text: str, actor: Actor) -> Event:
        """Add an internal note; it is never sent to the resident."""
        if not text.strip():
            raise DomainError("a note cannot be empty")
        complaint = await self.get(uow, reference=reference)
        return await self._event(uow, complaint, EventKind.NOTE, text.strip(), actor=actor)

    async def record_message(
        self,
        uow: UnitOfWork,
        *,
        complaint: Complaint,
        inbound: bool,
        channel: str,
        text: str,
        actor: Actor,
        data: dict[str, Any] | None = None,
    ) -> Event:
        """Record a message to or from the resident in the complaint's history (CHC-5.12)."""
        return await self._event(
            uow,
            complaint,
            EventKind.MESSAGE_IN if inbound else EventKind.MESSAGE_OUT,
            text,
            actor=actor,
            channel=channel,
            data=data,
        )

    # ------------------------------------------------------------------ internals

    async def _apply(
        self,
        uow: UnitOfWork,
        complaint: Complaint,
        action: Action,
        *,
        actor: Actor,
        channel: str | None = None,
        changes: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Complaint:
        status, stage = next_state(complaint.status, complaint.stage, action)
        updated = complaint.model_copy(update={**(changes or {}), "status": status, "stage": stage})
        updated = await uow.complaints.save(updated)
        await self._event(
            uow,
            updated,
            EventKind.TRANSITION,
            f"{complaint.status.value} → {status.value} (stage {int(stage)})",
            actor=actor,
            channel=channel,
            data={
                "action": action.value,
                "from_status": complaint.status.value,
                "to_status": status.value,
                "from_stage": int(complaint.stage),
                "to_stage": int(stage),
                **(data or {}),
            },
        )
        return updated

    def _next_update(self, today: date, response_due: date, interval: int | None = None) -> date:
        """The next update to the resident (CHC-5.9); none needed after the response date."""
        candidate = self._rules.calendar.add_working_days(today, interval or self._update_interval)
        return min(candidate, response_due)

    async def _event(
        self,
        uow: UnitOfWork,
        complaint: Complaint,
        kind: EventKind,
        summary: str,
        *,
        actor: Actor,
        channel: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Event:
        return await uow.events.append(
            Event(
                complaint_id=complaint.id,
                resident_id=complaint.resident_id,
                occurred_at=self._clock.now(),
                actor=actor,
                channel=channel,
                kind=kind,
                summary=summary,
                data=_jsonable(data or {}),
            )
        )


def _require_id(complaint: Complaint) -> int:
    if complaint.id is None:
        raise ValueError("the complaint is not stored yet")
    return complaint.id


def _jsonable(value: Any) -> Any:
    """Turn dates (and nested containers of them) into ISO strings for the JSON column."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
