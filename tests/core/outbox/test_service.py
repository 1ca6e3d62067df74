"""The outbox service: messages and dead letters in the caller's transaction."""

from __future__ import annotations

from core.db.store import Store
from tests.conftest import Services


async def test_dead_letter_keeps_text_and_bytes(store: Store, services: Services) -> None:
    async with store.unit_of_work() as uow:
        await services.outbox.dead_letter(
            uow, source="telegram", payload='{"update_id": 1}', reason="bad shape"
        )
        await services.outbox.dead_letter(
            uow, source="email", payload=b"\xff\xfe raw", reason="undecodable", external_id="9"
        )
    async with store.unit_of_work() as uow:
        letters = await uow.dead_letters.unresolved()
    assert [(d.source, d.payload) for d in letters] == [
        ("telegram", b'{"update_id": 1}'),
        ("email", b"\xff\xfe raw"),
    ]


async def test_a_message_without_a_complaint_writes_no_event(
    store: Store, services: Services
) -> None:
    async with store.unit_of_work() as uow:
        assert await services.outbox.enqueue(
            uow,
            channel="email",
            address="staff@x.test",
            kind="staff_notice",
            payload={"text": "New complaint"},
            idempotency_key="notice:1",
        )
        assert not await services.outbox.enqueue(
            uow,
            channel="email",
            address="staff@x.test",
            kind="staff_notice",
            payload={"text": "New complaint"},
            idempotency_key="notice:1",
        )
        assert await uow.outbox.depth() == 1
