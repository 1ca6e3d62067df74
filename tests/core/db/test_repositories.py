"""Repository contract tests: the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.complaints.models import Actor
from core.db.store import Store
from core.errors import DomainError, NotFoundError, StorageError
from core.outbox.models import DeadLetter, OutboxMessage, OutboxStatus
from core.residents.models import ContactPreferences, Identity, Resident
from tests.conftest import Services

NOW = datetime(2026, 12, 23, 10, 0, tzinfo=UTC)


def message(key: str, *, at: datetime = NOW) -> OutboxMessage:
    return OutboxMessage(
        channel="email",
        address="sam@example.test",
        kind="acknowledgement",
        payload={"text": "hello", "subject": "[C-1] We have your complaint"},
        idempotency_key=key,
        next_attempt_at=at,
        created_at=at,
    )


async def test_a_receipt_is_recorded_once(store: Store) -> None:
    async with store.unit_of_work() as uow:
        assert await uow.receipts.record("telegram", "update:1", NOW)
        assert not await uow.receipts.record("telegram", "update:1", NOW)
        assert await uow.receipts.record("email", "update:1", NOW)  # channels are separate
    async with store.unit_of_work() as uow:
        assert await uow.receipts.seen("telegram", "update:1")
        assert not await uow.receipts.seen("telegram", "update:2")
        assert not await uow.receipts.record("telegram", "update:1", NOW)


async def test_a_receipt_rolls_back_with_its_effects(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.unit_of_work() as uow:
            await uow.receipts.record("email", "<m1@example.test>", NOW)
            raise RuntimeError("crash before commit")
    async with store.unit_of_work() as uow:  # the redelivery is processed, not ignored
        assert await uow.receipts.record("email", "<m1@example.test>", NOW)


async def test_concurrent_deliveries_of_one_message_count_once(store: Store) -> None:
    """Two workers handle the same update at once: exactly one records it."""

    async def handle() -> bool:
        async with store.unit_of_work() as uow:
            first = await uow.receipts.record("telegram", "update:42", NOW)
            await asyncio.sleep(0.05)  # hold the transaction open while the other one tries
            return first

    results = await asyncio.gather(handle(), handle(), handle())
    assert sorted(results) == [False, False, True]


async def test_outbox_enqueue_is_idempotent(store: Store) -> None:
    async with store.unit_of_work() as uow:
        assert await uow.outbox.enqueue(message("ack:C-1"))
        assert not await uow.outbox.enqueue(message("ack:C-1"))
        assert await uow.outbox.depth() == 1
        stored = await uow.outbox.get_by_key("ack:C-1")
    assert stored is not None
    assert stored.status == OutboxStatus.PENDING
    assert stored.payload["subject"] == "[C-1] We have your complaint"
    assert stored.next_attempt_at == NOW


async def test_outbox_claim_retry_sent_and_dead(store: Store) -> None:
    async with store.unit_of_work() as uow:
        for key in ("a", "b", "c"):
            await uow.outbox.enqueue(message(key))
        await uow.outbox.enqueue(message("later", at=NOW + timedelta(hours=1)))
    async with store.unit_of_work() as uow:
        due = await uow.outbox.claim_due(NOW, limit=10)
        assert [m.idempotency_key for m in due] == ["a", "b", "c"]
        a, b, c = (m.id or 0 for m in due)
        await uow.outbox.mark_sent(a, NOW)
        await uow.outbox.mark_failed(b, "SMTP 451 try later", NOW + timedelta(minutes=5))
        await uow.outbox.mark_dead(c, "550 no such user")
    async with store.unit_of_work() as uow:
        assert await uow.outbox.claim_due(NOW) == []
        retry = await uow.outbox.claim_due(NOW + timedelta(minutes=5))
        assert [m.idempotency_key for m in retry] == ["b"]
        assert retry[0].attempts == 1
        assert retry[0].last_error == "SMTP 451 try later"
        sent = await uow.outbox.get_by_key("a")
        dead = await uow.outbox.get_by_key("c")
        assert await uow.outbox.depth() == 2
    assert sent is not None and sent.status == OutboxStatus.SENT and sent.sent_at == NOW
    assert dead is not None and dead.status == OutboxStatus.DEAD


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_dispatchers_never_claim_the_same_message(database_url: str) -> None:
    """FOR UPDATE SKIP LOCKED: concurrent claimers split the work (SQLite serialises writers,
    so row locks are a PostgreSQL matter)."""
    store = Store.from_url(database_url)
    try:
        async with store.unit_of_work() as uow:
            for i in range(20):
                await uow.outbox.enqueue(message(f"m{i}"))
        claimed: list[list[str]] = []

        async def dispatcher() -> None:
            async with store.unit_of_work() as uow:
                batch = await uow.outbox.claim_due(NOW, limit=10)
                claimed.append([m.idempotency_key for m in batch])
                await asyncio.sleep(0.1)  # keep the rows locked while the other claims
                for m in batch:
                    await uow.outbox.mark_sent(m.id or 0, NOW)

        await asyncio.gather(dispatcher(), dispatcher())
        keys = [k for batch in claimed for k in batch]
        assert sorted(keys) == sorted(f"m{i}" for i in range(20))
        assert len(set(keys)) == 20
    finally:
        await store.close()


async def test_dead_letters_stay_visible_until_resolved(store: Store) -> None:
    async with store.unit_of_work() as uow:
        letter = await uow.dead_letters.add(
            DeadLetter(
                source="email",
                external_id="<broken@example.test>",
                payload=b"\x00\xff not mime",
                reason="malformed MIME",
                created_at=NOW,
            )
        )
    async with store.unit_of_work() as uow:
        (listed,) = await uow.dead_letters.unresolved()
        assert listed.payload == b"\x00\xff not mime"  # byte for byte, NUL included
        await uow.dead_letters.resolve(letter.id or 0, by="officer-1", at=NOW)
    async with store.unit_of_work() as uow:
        assert await uow.dead_letters.unresolved() == []
        with pytest.raises(NotFoundError):
            await uow.dead_letters.resolve(letter.id or 0, by="officer-1", at=NOW)


async def test_resident_round_trip_and_identities(store: Store) -> None:
    async with store.unit_of_work() as uow:
        resident = await uow.residents.add(
            Resident(
                name="Sam",
                identities=(Identity(channel="telegram", address="1001"),),
                preferences=ContactPreferences(large_print=True, interpreter_language="Polish"),
                adjustments=("call back after 4pm",),
                created_at=NOW,
            )
        )
        await uow.residents.add_identity(
            resident.id or 0, Identity(channel="email", address="sam@example.test")
        )
    async with store.unit_of_work() as uow:
        by_email = await uow.residents.find_by_identity("email", "sam@example.test")
        assert await uow.residents.find_by_identity("email", "other@example.test") is None
    assert by_email is not None
    assert by_email.id == resident.id
    assert by_email.address_on("telegram") == "1001"
    assert by_email.preferences.interpreter_language == "Polish"
    assert by_email.adjustments == ("call back after 4pm",)
    assert by_email.created_at == NOW


async def test_one_identity_cannot_belong_to_two_residents(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.residents.add(
            Resident(identities=(Identity(channel="email", address="a@x.test"),), created_at=NOW)
        )
    with pytest.raises(StorageError):
        async with store.unit_of_work() as uow:
            await uow.residents.add(
                Resident(
                    identities=(Identity(channel="email", address="a@x.test"),), created_at=NOW
                )
            )


async def test_identify_links_and_refuses_to_merge_people(store: Store, services: Services) -> None:
    async with store.unit_of_work() as uow:
        sam = await services.residents.identify(uow, channel="telegram", address="1")
        again = await services.residents.identify(uow, channel="telegram", address="1")
        kim = await services.residents.identify(uow, channel="email", address="kim@x.test")
        assert sam.id == again.id
        linked = await services.residents.link_identity(
            uow, resident_id=sam.id or 0, channel="email", address="sam@x.test"
        )
        assert linked.address_on("email") == "sam@x.test"
        with pytest.raises(DomainError, match="another resident"):
            await services.residents.link_identity(
                uow, resident_id=sam.id or 0, channel="email", address="kim@x.test"
            )
    assert kim.id != sam.id


async def test_not_found(store: Store) -> None:
    async with store.unit_of_work() as uow:
        with pytest.raises(NotFoundError):
            await uow.residents.get(999)
        with pytest.raises(NotFoundError):
            await uow.complaints.get(999)
        with pytest.raises(NotFoundError):
            await uow.service_requests.get_by_reference("R-0000-0000")


async def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises((StorageError, ValueError)):
        async with store.unit_of_work() as uow:
            await uow.receipts.record("x", "1", datetime(2026, 1, 1))  # noqa: DTZ001


async def test_the_metrics_counts_match_the_lists(store: Store, services: Services) -> None:
    """The health endpoint's gauges: unresolved dead letters and overdue open complaints."""
    async with store.unit_of_work() as uow:
        resident = await services.residents.identify(uow, channel="telegram", address="1001")
        complaint = await services.complaints.log(
            uow,
            resident_id=resident.id or 0,
            channel="telegram",
            received_at=NOW,
            elements=("Repair not done",),
            outcomes_sought=("Fix the boiler",),
            actor=Actor.resident(resident.id or 0),
        )
        for n in range(2):
            await uow.dead_letters.add(
                DeadLetter(
                    source="email", external_id=f"<{n}@x>", payload=b"", reason="r", created_at=NOW
                )
            )
    due = complaint.next_due_on
    assert due is not None
    async with store.unit_of_work() as uow:
        assert await uow.dead_letters.count_unresolved() == 2
        assert await uow.complaints.count_overdue(due) == 0  # due today is not overdue yet
        assert await uow.complaints.count_overdue(due + timedelta(days=1)) == 1
