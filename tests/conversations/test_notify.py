"""The notifier: letters reach the resident where they want them, within any restriction.

Every test runs on SQLite and PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from conversations.envelopes import STAFF_CHANNEL, OutboundKind
from conversations.notify import Notifier
from conversations.wording import Wording
from core.clock import FrozenClock
from core.complaints.enums import ActorKind, EventKind
from core.complaints.models import Actor, Complaint, Representative
from core.db.store import Store
from core.outbox.models import OutboxMessage
from core.residents.models import ContactPreferences, Identity, Resident
from core.settings import LandlordSettings, OmbudsmanSettings
from tests.conftest import Services

STAFF = Actor.staff("officer-1")


@dataclass
class World:
    store: Store
    services: Services
    notifier: Notifier
    clock: FrozenClock

    async def complaint(
        self,
        *identities: Identity,
        channel: str = "telegram",
        preferences: ContactPreferences | None = None,
        representative: Representative | None = None,
    ) -> Complaint:
        async with self.store.unit_of_work() as uow:
            resident = await uow.residents.add(
                Resident(
                    identities=identities,
                    preferences=preferences or ContactPreferences(),
                    created_at=self.clock.now(),
                )
            )
            return await self.services.complaints.log(
                uow,
                resident_id=resident.id or 0,
                channel=channel,
                received_at=self.clock.now(),
                elements=["The boiler repair was missed three times"],
                outcomes_sought=["Fix the boiler"],
                representative=representative,
                actor=Actor.resident(resident.id or 0),
            )

    async def tell(self, complaint: Complaint, key: str = "k1", **extra: object) -> list[str]:
        async with self.store.unit_of_work() as uow:
            sent = await self.notifier.tell_resident(
                uow,
                complaint=complaint,
                template="from_complaints_team",
                idempotency_key=key,
                actor=STAFF,
                text="We have booked an engineer.",
                **extra,  # type: ignore[arg-type]
            )
        return [f"{m.channel}:{m.recipient}" for m in sent]

    async def outbox(self, complaint: Complaint) -> list[OutboxMessage]:
        async with self.store.unit_of_work() as uow:
            return await uow.outbox.for_complaint(complaint.id or 0)

    async def staff_notices(self) -> list[OutboxMessage]:
        async with self.store.unit_of_work() as uow:
            rows = await uow.outbox.claim_due(self.clock.now() + timedelta(days=1), limit=100)
        return [r for r in rows if r.channel == STAFF_CHANNEL]


@pytest.fixture
def world(store: Store, services: Services, clock: FrozenClock) -> World:
    wording = Wording(
        landlord=LandlordSettings(name="Riverside Homes"), ombudsman=OmbudsmanSettings()
    )
    notifier = Notifier(outbox=services.outbox, wording=wording, clock=clock)
    return World(store=store, services=services, notifier=notifier, clock=clock)


TELEGRAM = Identity(channel="telegram", address="1001")
EMAIL = Identity(channel="email", address="sam@example.org")


async def test_goes_to_the_complaints_channel_with_reference_subject_and_kind(
    world: World,
) -> None:
    complaint = await world.complaint(TELEGRAM, EMAIL)
    assert await world.tell(complaint) == ["telegram:1001"]
    (row,) = await world.outbox(complaint)
    assert row.idempotency_key == "k1:telegram"
    assert row.payload["reference"] == complaint.reference
    assert row.payload["kind"] == OutboundKind.UPDATE.value
    assert row.payload["subject"] == "A message about your complaint"
    assert row.payload["reference"] == complaint.reference
    assert "We have booked an engineer." in row.payload["text"]
    assert complaint.reference in row.payload["text"]
    assert row.payload["large_print"] is False


async def test_preferred_channel_wins_over_the_complaints_channel(world: World) -> None:
    # CHC-3.1: a preferred channel is honoured in every message.
    complaint = await world.complaint(
        TELEGRAM, EMAIL, preferences=ContactPreferences(channel="email")
    )
    assert await world.tell(complaint) == ["email:sam@example.org"]


async def test_preferred_channel_without_an_address_falls_back_to_the_complaints_channel(
    world: World,
) -> None:
    complaint = await world.complaint(TELEGRAM, preferences=ContactPreferences(channel="email"))
    assert await world.tell(complaint) == ["telegram:1001"]


async def test_unreachable_identity_is_skipped_for_another_channel(world: World) -> None:
    blocked = TELEGRAM.model_copy(update={"unreachable_since": world.clock.now()})
    complaint = await world.complaint(blocked, EMAIL)
    assert await world.tell(complaint) == ["email:sam@example.org"]


async def test_nobody_reachable_queues_nothing_to_the_resident_and_tells_staff(
    world: World,
) -> None:
    blocked = TELEGRAM.model_copy(update={"unreachable_since": world.clock.now()})
    complaint = await world.complaint(blocked)
    assert await world.tell(complaint) == []
    assert await world.outbox(complaint) == []
    (notice,) = await world.staff_notices()
    assert complaint.reference in notice.payload["text"]
    assert "could not be told" in notice.payload["text"]
    async with world.store.unit_of_work() as uow:
        events = await uow.events.for_complaint(complaint.id or 0)
    assert any(e.kind == EventKind.NOTE and "could not be sent" in e.summary for e in events)


async def test_restriction_limits_letters_to_the_allowed_channel(world: World) -> None:
    # CHC-5.14: a person restricted contact to email; the letter goes there, not to Telegram.
    complaint = await world.complaint(TELEGRAM, EMAIL)
    async with world.store.unit_of_work() as uow:
        await world.services.residents.restrict_contact(
            uow,
            resident_id=complaint.resident_id,
            description="Email only",
            reason="Repeated abusive messages on Telegram",
            review_on=date(2027, 3, 1),
            actor=STAFF,
            allowed_channels=["email"],
        )
    assert await world.tell(complaint) == ["email:sam@example.org"]


async def test_restriction_with_no_reachable_allowed_channel_tells_staff(world: World) -> None:
    # CHC-5.14: the letter is not sent on a forbidden channel; a person must write instead.
    complaint = await world.complaint(TELEGRAM)
    async with world.store.unit_of_work() as uow:
        await world.services.residents.restrict_contact(
            uow,
            resident_id=complaint.resident_id,
            description="Email only",
            reason="Repeated abusive messages on Telegram",
            review_on=date(2027, 3, 1),
            actor=STAFF,
            allowed_channels=["email"],
        )
    assert await world.tell(complaint) == []
    assert await world.outbox(complaint) == []
    (notice,) = await world.staff_notices()
    assert "restricted to email" in notice.payload["text"]
    assert "CHC-5.14" in notice.payload["text"]


async def test_a_lifted_restriction_no_longer_applies(world: World) -> None:
    complaint = await world.complaint(TELEGRAM, EMAIL)
    async with world.store.unit_of_work() as uow:
        restriction = await world.services.residents.restrict_contact(
            uow,
            resident_id=complaint.resident_id,
            description="Email only",
            reason="Repeated abusive messages",
            review_on=date(2027, 3, 1),
            actor=STAFF,
            allowed_channels=["email"],
        )
        await world.services.residents.lift_restriction(
            uow,
            resident_id=complaint.resident_id,
            restriction_id=restriction.id or 0,
            actor=STAFF,
        )
    assert await world.tell(complaint) == ["telegram:1001"]


async def test_requeue_with_the_same_key_sends_nothing_twice(world: World) -> None:
    complaint = await world.complaint(TELEGRAM)
    assert await world.tell(complaint, "event-7") == ["telegram:1001"]
    assert await world.tell(complaint, "event-7") == []
    rows = await world.outbox(complaint)
    assert [r.idempotency_key for r in rows] == ["event-7:telegram"]
    async with world.store.unit_of_work() as uow:
        events = await uow.events.for_complaint(complaint.id or 0)
    sent = [e for e in events if e.kind == EventKind.MESSAGE_OUT]
    assert len(sent) == 1  # CHC-5.12: recorded once, as the staff member's
    assert sent[0].actor.kind == ActorKind.STAFF
    assert sent[0].actor.id == "officer-1"


async def test_large_print_preference_is_carried_on_the_message(world: World) -> None:
    # CHC-3.1: reasonable adjustments are honoured in every message.
    complaint = await world.complaint(TELEGRAM, preferences=ContactPreferences(large_print=True))
    await world.tell(complaint)
    (row,) = await world.outbox(complaint)
    assert row.payload["large_print"] is True


async def test_copy_by_email_adds_a_written_copy(world: World) -> None:
    complaint = await world.complaint(TELEGRAM, EMAIL)
    assert await world.tell(complaint, copy_by_email=True) == [
        "telegram:1001",
        "email:sam@example.org",
    ]


async def test_copy_by_email_respects_a_restriction(world: World) -> None:
    complaint = await world.complaint(TELEGRAM, EMAIL)
    async with world.store.unit_of_work() as uow:
        await world.services.residents.restrict_contact(
            uow,
            resident_id=complaint.resident_id,
            description="Telegram only",
            reason="Too many emails to named staff",
            review_on=date(2027, 3, 1),
            actor=STAFF,
            allowed_channels=["telegram"],
        )
    assert await world.tell(complaint, copy_by_email=True) == ["telegram:1001"]


async def test_representative_with_an_email_address_gets_a_copy(world: World) -> None:
    # CHC-3.6: a representative acting for the resident is kept informed too.
    rep = Representative(name="Jo", relationship="advocate", contact="jo@advice.example")
    complaint = await world.complaint(TELEGRAM, representative=rep)
    assert await world.tell(complaint) == ["telegram:1001", "email:jo@advice.example"]
    keys = sorted(r.idempotency_key for r in await world.outbox(complaint))
    assert keys == ["k1:representative", "k1:telegram"]


async def test_representative_with_a_phone_number_gets_no_message(world: World) -> None:
    rep = Representative(name="Jo", relationship="daughter", contact="07700 900123")
    complaint = await world.complaint(TELEGRAM, representative=rep)
    assert await world.tell(complaint) == ["telegram:1001"]


async def test_tell_staff_queues_once_on_the_staff_channel(world: World) -> None:
    async with world.store.unit_of_work() as uow:
        first = await world.notifier.tell_staff(
            uow,
            template="staff_action_not_told",
            idempotency_key="n1",
            reference="C-TEST-0000",
            urgent=True,
            recipient="manager",
            letter="x",
            restricted_to=[],
            identities=[],
        )
        again = await world.notifier.tell_staff(
            uow,
            template="staff_action_not_told",
            idempotency_key="n1",
            reference="C-TEST-0000",
            letter="x",
            restricted_to=[],
            identities=[],
        )
    assert (first, again) == (True, False)
    (notice,) = await world.staff_notices()
    assert notice.address == "manager"
    assert notice.payload["urgent"] is True
    assert notice.payload["kind"] == OutboundKind.STAFF_NOTICE.value
