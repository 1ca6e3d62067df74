"""The complaint lifecycle through the service, on SQLite and PostgreSQL.

Dates follow CODE.md's worked example: received Wednesday 23 December 2026 at 10:00.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from core.clock import LONDON, FrozenClock
from core.complaints.enums import (
    EventKind,
    Exclusion,
    Outcome,
    RemedyType,
    Stage,
    Status,
    TaskStatus,
)
from core.complaints.models import Actor, Complaint
from core.db.store import Store
from core.errors import (
    ConcurrencyError,
    DomainError,
    ExtensionRefusedError,
    HandlerConflictError,
    IllegalTransitionError,
    IncompleteResponseError,
    InvalidReferenceError,
    NotFoundError,
    StorageError,
)
from core.references import ReferenceKind, is_valid, new_reference
from core.residents.models import ContactPreferences
from tests.conftest import START, Services

STAFF = Actor.staff("officer-1")
SYSTEM = Actor.system()


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)


async def log_complaint(
    store: Store, services: Services, *, points: tuple[str, ...] = ("Repair not done",), **extra
) -> Complaint:
    async with store.unit_of_work() as uow:
        resident = await services.residents.identify(
            uow, channel="telegram", address="1001", name="Sam"
        )
        assert resident.id is not None
        return await services.complaints.log(
            uow,
            resident_id=resident.id,
            channel="telegram",
            received_at=START,
            elements=points,
            outcomes_sought=("Fix the boiler",),
            actor=Actor.resident(resident.id),
            **extra,
        )


async def decide_all(store: Store, services: Services, reference: str) -> None:
    async with store.unit_of_work() as uow:
        complaint = await services.complaints.get(uow, reference=reference)
        for element in complaint.elements:
            await services.complaints.record_decision(
                uow,
                reference=reference,
                position=element.position,
                outcome=Outcome.UPHELD,
                reasons="The repair was late.",
                actor=STAFF,
            )


async def test_log_at_stage_1_with_acknowledgement_date(store: Store, services: Services) -> None:
    complaint = await log_complaint(store, services, points=("No heating", " ", "Rude contractor"))
    assert is_valid(complaint.reference)
    assert complaint.stage == Stage.ONE  # CHC-5.2: no stage 0
    assert complaint.status == Status.RECEIVED
    assert complaint.received_on == date(2026, 12, 23)
    assert complaint.stage1.acknowledge_due_on == date(2027, 1, 4)  # CHC-6.2, CODE.md example
    assert complaint.next_due_on == date(2027, 1, 4)
    assert [(e.position, e.text) for e in complaint.elements] == [
        (1, "No heating"),
        (2, "Rude contractor"),
    ]
    assert complaint.received_at == START  # comes back timezone-aware
    async with store.unit_of_work() as uow:
        events = await uow.events.for_complaint(complaint.id or 0)
    assert [e.kind for e in events] == [EventKind.RECEIVED]
    assert events[0].actor.kind == "resident"
    assert events[0].channel == "telegram"


async def test_a_complaint_needs_a_point(store: Store, services: Services) -> None:
    with pytest.raises(DomainError):
        await log_complaint(store, services, points=("  ",))


async def test_possible_exclusion_is_flagged_not_applied(store: Store, services: Services) -> None:
    # CHC-2.2/2.3: aware more than 12 months before receipt -> flagged for a person.
    complaint = await log_complaint(store, services, aware_on=date(2025, 11, 1))
    assert complaint.exclusions_flagged == (Exclusion.OVER_TWELVE_MONTHS,)
    assert complaint.status == Status.RECEIVED
    recent = await log_complaint(store, services, aware_on=date(2026, 1, 2))
    assert recent.exclusions_flagged == ()


async def test_hazards_mark_the_complaint_urgent(store: Store, services: Services) -> None:
    complaint = await log_complaint(store, services, hazards=("gas smell",))
    assert complaint.urgent
    async with store.unit_of_work() as uow:
        kinds = [e.kind for e in await uow.events.for_complaint(complaint.id or 0)]
    assert EventKind.URGENT_FLAGGED in kinds


@pytest.mark.parametrize(
    ("acknowledged_on", "response_due"),
    [
        (date(2026, 12, 23), date(2027, 1, 11)),  # CODE.md: acknowledged the same day
        (date(2027, 1, 4), date(2027, 1, 18)),  # CODE.md: acknowledged on the last day
    ],
)
async def test_acknowledgement_sets_the_stage_1_response_date(
    store: Store,
    services: Services,
    clock: FrozenClock,
    acknowledged_on: date,
    response_due: date,
) -> None:  # CHC-6.3
    complaint = await log_complaint(store, services)
    clock.set(at(acknowledged_on))
    async with store.unit_of_work() as uow:
        acknowledged = await services.complaints.acknowledge(
            uow, reference=complaint.reference, actor=SYSTEM
        )
    assert acknowledged.status == Status.ACKNOWLEDGED
    assert acknowledged.stage1.acknowledged_on == acknowledged_on
    assert acknowledged.stage1.response_due_on == response_due
    assert acknowledged.next_due_on == response_due
    assert acknowledged.next_update_due_on is not None
    assert acknowledged.next_update_due_on <= response_due  # CHC-5.9


@pytest.mark.parametrize(
    ("agreed", "first_update"),
    [
        (None, date(2027, 1, 4)),  # the default, 5 working days, over Christmas
        (2, date(2026, 12, 29)),  # agreed with the resident: every 2 working days
    ],
)
async def test_the_first_update_follows_the_interval_agreed_with_the_resident(
    store: Store, services: Services, agreed: int | None, first_update: date
) -> None:  # CHC-5.9
    complaint = await log_complaint(store, services)
    async with store.unit_of_work() as uow:
        await services.residents.update(
            uow,
            resident_id=complaint.resident_id,
            actor=SYSTEM,
            preferences=ContactPreferences(update_interval_working_days=agreed),
        )
        acknowledged = await services.complaints.acknowledge(
            uow, reference=complaint.reference, actor=SYSTEM
        )
    assert acknowledged.next_update_due_on == first_update


async def test_whole_lifecycle_through_both_stages(
    store: Store, services: Services, clock: FrozenClock
) -> None:
    complaint = await log_complaint(store, services, points=("Leak", "No reply"))
    ref = complaint.reference
    cs = services.complaints
    async with store.unit_of_work() as uow:
        await cs.acknowledge(uow, reference=ref, actor=SYSTEM)
        await cs.assign_handler(uow, reference=ref, stage=Stage.ONE, handler="alex", actor=STAFF)
    await decide_all(store, services, ref)
    clock.set(at(date(2027, 1, 8)))
    async with store.unit_of_work() as uow:
        responded = await cs.respond(uow, reference=ref, actor=STAFF)
    assert responded.status == Status.RESPONDED
    assert responded.stage1.responded_on == date(2027, 1, 8)
    assert responded.next_due_on is None

    clock.set(at(date(2027, 1, 20)))
    async with store.unit_of_work() as uow:
        escalated = await cs.request_escalation(uow, reference=ref, actor=Actor.resident(1))
    assert escalated.stage == Stage.TWO
    assert escalated.status == Status.ESCALATION_REQUESTED
    assert escalated.escalation_reason is None  # CHC-6.12: no reason needed
    assert escalated.stage2.acknowledge_due_on == date(2027, 1, 27)  # CHC-6.11
    async with store.unit_of_work() as uow:
        with pytest.raises(HandlerConflictError, match="CHC-6.13"):
            await cs.assign_handler(
                uow, reference=ref, stage=Stage.TWO, handler="Alex", actor=STAFF
            )
    async with store.unit_of_work() as uow:
        await cs.assign_handler(uow, reference=ref, stage=Stage.TWO, handler="sam", actor=STAFF)
        acknowledged = await cs.acknowledge(uow, reference=ref, actor=SYSTEM)
    assert acknowledged.status == Status.ESCALATION_ACKNOWLEDGED
    assert acknowledged.stage2.response_due_on == date(2027, 2, 17)  # CHC-6.14: 20 working days
    assert acknowledged.stage1.response_due_on == date(2027, 1, 11)  # stage 1 kept for reports

    async with store.unit_of_work() as uow:
        with pytest.raises(IncompleteResponseError, match="CHC-6.19"):
            await cs.respond(uow, reference=ref, actor=STAFF)  # stage 2 decisions missing
    await decide_all(store, services, ref)
    async with store.unit_of_work() as uow:
        final = await cs.respond(uow, reference=ref, actor=STAFF)
        closed = await cs.close(uow, reference=ref, actor=SYSTEM)
    assert final.status == Status.FINAL_RESPONSE_SENT
    assert closed.status == Status.CLOSED
    assert closed.closed_at == clock.now()
    async with store.unit_of_work() as uow:
        with pytest.raises(IllegalTransitionError):  # CHC-6.20: no stage 3
            await cs.request_escalation(uow, reference=ref, actor=Actor.resident(1))
        events = await uow.events.for_complaint(closed.id or 0)
    transitions = [e.data["to_status"] for e in events if e.kind == EventKind.TRANSITION]
    assert transitions == [
        "acknowledged",
        "responded",
        "escalation_requested",
        "escalation_acknowledged",
        "final_response_sent",
        "closed",
    ]
    assert sum(e.kind == EventKind.DECISION for e in events) == 4
    assert all(e.occurred_at.tzinfo is not None for e in events)


async def test_illegal_transition_is_refused_and_changes_nothing(
    store: Store, services: Services
) -> None:
    complaint = await log_complaint(store, services)
    with pytest.raises(IllegalTransitionError, match="cannot request escalation"):
        async with store.unit_of_work() as uow:
            await services.complaints.request_escalation(
                uow, reference=complaint.reference, actor=Actor.resident(1)
            )
    async with store.unit_of_work() as uow:
        again = await services.complaints.get(uow, reference=complaint.reference)
    assert again.status == Status.RECEIVED
    assert again.version == complaint.version


async def test_response_must_decide_every_point(store: Store, services: Services) -> None:
    complaint = await log_complaint(store, services, points=("Leak", "No reply"))
    async with store.unit_of_work() as uow:
        await services.complaints.acknowledge(uow, reference=complaint.reference, actor=SYSTEM)
        await services.complaints.record_decision(
            uow,
            reference=complaint.reference,
            position=1,
            outcome=Outcome.PARTLY_UPHELD,
            reasons="Partly late.",
            actor=STAFF,
        )
    with pytest.raises(IncompleteResponseError, match=r"CHC-6\.9.*point 2"):
        async with store.unit_of_work() as uow:
            await services.complaints.respond(uow, reference=complaint.reference, actor=STAFF)
    async with store.unit_of_work() as uow:
        with pytest.raises(DomainError, match="reasons"):
            await services.complaints.record_decision(
                uow,
                reference=complaint.reference,
                position=2,
                outcome=Outcome.NOT_UPHELD,
                reasons=" ",
                actor=STAFF,
            )
        with pytest.raises(DomainError, match="no point 9"):
            await services.complaints.record_decision(
                uow,
                reference=complaint.reference,
                position=9,
                outcome=Outcome.UPHELD,
                reasons="x",
                actor=STAFF,
            )


async def acknowledged_complaint(store: Store, services: Services) -> Complaint:
    complaint = await log_complaint(store, services)
    async with store.unit_of_work() as uow:
        return await services.complaints.acknowledge(
            uow, reference=complaint.reference, actor=SYSTEM
        )


async def extend(store: Store, services: Services, ref: str, new_due: date, **kw) -> Complaint:
    async with store.unit_of_work() as uow:
        return await services.complaints.extend(
            uow, reference=ref, new_due_on=new_due, reason="Waiting for a survey", actor=STAFF, **kw
        )


async def test_extension_within_the_code_limit(store: Store, services: Services) -> None:
    # CHC-6.4: response due 11 Jan 2027; at most 10 working days more -> 25 Jan 2027.
    complaint = await acknowledged_complaint(store, services)
    extended = await extend(store, services, complaint.reference, date(2027, 1, 18))
    assert extended.stage1.extended_due_on == date(2027, 1, 18)
    assert extended.next_due_on == date(2027, 1, 18)
    extended = await extend(store, services, complaint.reference, date(2027, 1, 25))
    assert [e.new_due_on for e in extended.extensions] == [date(2027, 1, 18), date(2027, 1, 25)]
    assert not any(e.beyond_code_limit for e in extended.extensions)
    assert extended.stage1.response_due_on == date(2027, 1, 11)  # the original is kept


async def test_extension_beyond_the_limit_needs_a_good_reason(
    store: Store, services: Services
) -> None:  # CHC-6.4
    complaint = await acknowledged_complaint(store, services)
    with pytest.raises(ExtensionRefusedError, match=r"beyond the Code's limit of 2027-01-25"):
        await extend(store, services, complaint.reference, date(2027, 1, 26))
    async with store.unit_of_work() as uow:
        unchanged = await services.complaints.get(uow, reference=complaint.reference)
    assert unchanged.extensions == ()
    extended = await extend(
        store,
        services,
        complaint.reference,
        date(2027, 1, 26),
        good_reason_beyond_limit="Specialist structural report needed",
    )
    assert extended.extensions[-1].beyond_code_limit
    async with store.unit_of_work() as uow:
        events = await uow.events.for_complaint(extended.id or 0)
    assert events[-1].data["good_reason"] == "Specialist structural report needed"


@pytest.mark.parametrize(
    ("new_due", "message"),
    [
        (date(2027, 1, 11), "must be after"),
        (date(2027, 1, 16), "not a working day"),  # a Saturday
    ],
)
async def test_extension_dates_are_checked(
    store: Store, services: Services, new_due: date, message: str
) -> None:
    complaint = await acknowledged_complaint(store, services)
    with pytest.raises(ExtensionRefusedError, match=message):
        await extend(store, services, complaint.reference, new_due)


async def test_extension_after_the_deadline_is_refused(
    store: Store, services: Services, clock: FrozenClock
) -> None:  # CHC-6.4: explained before the original deadline passes
    complaint = await acknowledged_complaint(store, services)
    clock.set(at(date(2027, 1, 12)))
    with pytest.raises(ExtensionRefusedError, match="before the deadline passes"):
        await extend(store, services, complaint.reference, date(2027, 1, 18))


async def test_extension_needs_a_reason_and_an_awaited_response(
    store: Store, services: Services
) -> None:
    complaint = await log_complaint(store, services)
    with pytest.raises(ExtensionRefusedError, match="only a response that is awaited"):
        await extend(store, services, complaint.reference, date(2027, 1, 18))
    async with store.unit_of_work() as uow:
        with pytest.raises(ExtensionRefusedError, match="reason"):
            await services.complaints.extend(
                uow,
                reference=complaint.reference,
                new_due_on=date(2027, 1, 18),
                reason="",
                actor=STAFF,
            )


async def test_stage_2_extension_limit_is_20_working_days(
    store: Store, services: Services, clock: FrozenClock
) -> None:  # CHC-6.15
    complaint = await acknowledged_complaint(store, services)
    ref = complaint.reference
    await decide_all(store, services, ref)
    async with store.unit_of_work() as uow:
        await services.complaints.respond(uow, reference=ref, actor=STAFF)
        await services.complaints.request_escalation(uow, reference=ref, actor=Actor.resident(1))
        acknowledged = await services.complaints.acknowledge(uow, reference=ref, actor=SYSTEM)
    due = acknowledged.stage2.response_due_on
    assert due == date(2027, 1, 25)  # 23 Dec + 20 working days
    with pytest.raises(ExtensionRefusedError, match="stage 2"):
        await extend(store, services, ref, date(2027, 2, 23))
    extended = await extend(store, services, ref, date(2027, 2, 22))
    assert extended.stage2.extended_due_on == date(2027, 2, 22)


async def test_refusal_needs_a_person_and_reasons(store: Store, services: Services) -> None:
    complaint = await log_complaint(store, services)
    async with store.unit_of_work() as uow:
        with pytest.raises(DomainError, match="CHC-2.4"):
            await services.complaints.refuse(
                uow, reference=complaint.reference, reason=" ", actor=STAFF
            )
        with pytest.raises(DomainError, match="only a person"):
            await services.complaints.refuse(
                uow, reference=complaint.reference, reason="Court case", actor=SYSTEM
            )
        refused = await services.complaints.refuse(
            uow, reference=complaint.reference, reason="Court case filed", actor=STAFF
        )
    assert refused.status == Status.REFUSED
    assert refused.refusal_reason == "Court case filed"


async def test_remedies_and_actions_are_tracked(store: Store, services: Services) -> None:
    complaint = await acknowledged_complaint(store, services)
    ref = complaint.reference
    async with store.unit_of_work() as uow:
        with pytest.raises(DomainError, match="amount"):
            await services.complaints.add_remedy(
                uow, reference=ref, remedy_type=RemedyType.FINANCIAL, description="x", actor=STAFF
            )
        remedy = await services.complaints.add_remedy(
            uow,
            reference=ref,
            remedy_type=RemedyType.FINANCIAL,
            description="Compensation for the delay",
            amount_pence=15_000,
            due_on=date(2027, 1, 15),
            actor=STAFF,
        )
        action = await services.complaints.add_action(
            uow, reference=ref, description="Replace the boiler", actor=STAFF
        )
    async with store.unit_of_work() as uow:
        assert remedy.id is not None and action.id is not None
        await services.complaints.complete_remedy(
            uow, reference=ref, remedy_id=remedy.id, actor=STAFF
        )
        done = await services.complaints.complete_action(
            uow, reference=ref, action_id=action.id, actor=STAFF
        )
        with pytest.raises(NotFoundError):
            await services.complaints.complete_remedy(
                uow, reference=ref, remedy_id=remedy.id + 100, actor=STAFF
            )
    assert done.remedies[0].status == TaskStatus.DONE
    assert done.remedies[0].amount_pence == 15_000
    assert done.actions[0].status == TaskStatus.DONE
    assert done.actions[0].completed_at is not None


async def test_withdraw_and_add_point(store: Store, services: Services) -> None:
    complaint = await log_complaint(store, services)
    async with store.unit_of_work() as uow:
        added = await services.complaints.add_element(
            uow, reference=complaint.reference, text="Also the lift", actor=Actor.resident(1)
        )
        assert [e.position for e in added.elements] == [1, 2]
        withdrawn = await services.complaints.withdraw(
            uow, reference=complaint.reference, actor=Actor.resident(1)
        )
    assert withdrawn.status == Status.WITHDRAWN
    assert withdrawn.next_due_on is None


async def test_mistyped_and_unknown_references(store: Store, services: Services) -> None:
    complaint = await log_complaint(store, services)
    async with store.unit_of_work() as uow:
        found = await services.complaints.get(
            uow, reference=complaint.reference.lower().replace("-", " ")
        )
        assert found.id == complaint.id
        typo = complaint.reference[:-1] + ("0" if complaint.reference[-1] != "0" else "1")
        with pytest.raises(InvalidReferenceError):
            await services.complaints.get(uow, reference=typo)
        with pytest.raises(NotFoundError):
            await services.complaints.get(uow, reference=new_reference(ReferenceKind.COMPLAINT))


async def test_stale_write_is_refused(store: Store, services: Services) -> None:
    complaint = await log_complaint(store, services)
    async with store.unit_of_work() as uow:
        await uow.complaints.save(complaint.model_copy(update={"category": "repairs"}))
    with pytest.raises(ConcurrencyError):
        async with store.unit_of_work() as uow:
            await uow.complaints.save(complaint.model_copy(update={"category": "noise"}))


async def test_events_cannot_be_changed_or_deleted(store: Store, services: Services) -> None:
    # CHC-5.12: the record is append-only, enforced by the database itself.
    complaint = await log_complaint(store, services)
    for statement in ("UPDATE events SET summary = 'edited'", "DELETE FROM events"):
        with pytest.raises(StorageError, match="append-only"):
            async with store.unit_of_work() as uow:
                await uow.session.execute(text(statement))
    async with store.unit_of_work() as uow:
        events = await uow.events.for_complaint(complaint.id or 0)
    assert events[0].summary.startswith("Complaint received")


async def test_state_change_and_outbox_commit_together(store: Store, services: Services) -> None:
    complaint = await log_complaint(store, services)

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with store.unit_of_work() as uow:
            await services.complaints.acknowledge(uow, reference=complaint.reference, actor=SYSTEM)
            await services.outbox.enqueue(
                uow,
                channel="telegram",
                address="1001",
                kind="acknowledgement",
                payload={"text": "We have your complaint"},
                idempotency_key=f"ack:{complaint.reference}",
                complaint_id=complaint.id,
            )
            raise Crash
    async with store.unit_of_work() as uow:
        assert (await services.complaints.get(uow, reference=complaint.reference)).status == (
            Status.RECEIVED
        )
        assert await uow.outbox.depth() == 0
        assert len(await uow.events.for_complaint(complaint.id or 0)) == 1

    async with store.unit_of_work() as uow:
        await services.complaints.acknowledge(uow, reference=complaint.reference, actor=SYSTEM)
        assert await services.outbox.enqueue(
            uow,
            channel="telegram",
            address="1001",
            kind="acknowledgement",
            payload={"text": "We have your complaint"},
            idempotency_key=f"ack:{complaint.reference}",
            complaint_id=complaint.id,
        )
    async with store.unit_of_work() as uow:
        assert await uow.outbox.depth() == 1
        events = await uow.events.for_complaint(complaint.id or 0)
    assert [e.kind for e in events][-1] == EventKind.MESSAGE_OUT  # CHC-5.12: correspondence


async def test_due_by_finds_due_and_overdue_complaints(
    store: Store, services: Services, clock: FrozenClock
) -> None:
    first = await log_complaint(store, services)
    clock.advance(timedelta(days=1))
    await log_complaint(store, services)
    async with store.unit_of_work() as uow:
        assert await uow.complaints.due_by(date(2027, 1, 3)) == []
        due = await uow.complaints.due_by(date(2027, 1, 4))
        assert [c.reference for c in due][0] == first.reference
        assert len(due) == 2
        await services.complaints.withdraw(uow, reference=first.reference, actor=SYSTEM)
    async with store.unit_of_work() as uow:
        assert len(await uow.complaints.due_by(date(2027, 2, 1))) == 1
