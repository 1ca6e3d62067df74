"""Staff commands in the staff Telegram chat, end to end: the real bot against the fake server.

Commands posted in ``COMPLAINTS_TELEGRAM__STAFF_CHAT_ID`` by ``STAFF_USER_IDS`` run the same
operations as ``complaints-bot staff``, parsed by the same parser, acting as
``telegram:<user id>``; anyone else is ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.complaints.enums import Status
from core.complaints.models import Actor, Complaint
from core.residents.models import Identity, Resident
from tests.channels.telegram.test_adapter import (
    BOUND,
    RESIDENT,
    STAFF_CHAT,
    STAFF_MEMBER,
    running,
    said,
    settings_for,
    texts,
)
from tests.support.fake_telegram import FakeTelegram

STRANGER = 999


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


async def seed(app: object) -> Complaint:
    """A complaint from the Telegram resident, logged and acknowledged."""
    from bot.app import Application  # noqa: PLC0415

    assert isinstance(app, Application)
    async with app.store.unit_of_work() as uow:
        resident = await uow.residents.add(
            Resident(
                identities=(Identity(channel="telegram", address=str(RESIDENT)),),
                created_at=app.clock.now(),
            )
        )
        complaint = await app.complaints.log(
            uow,
            resident_id=resident.id or 0,
            channel="telegram",
            received_at=app.clock.now(),
            elements=["The roof still leaks", "Nobody came"],
            outcomes_sought=["Fix the roof"],
            actor=Actor.resident(resident.id or 0),
        )
        return await app.complaints.acknowledge(
            uow, reference=complaint.reference, actor=Actor.system()
        )


async def reply(fake: FakeTelegram, count: int) -> str:
    """The staff chat's ``count``-th message (1-based), once it is there."""
    return (await said(fake, STAFF_CHAT, count))[count - 1]


async def test_staff_commands_run_in_the_staff_chat(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)) as app:
        complaint = await seed(app)
        ref = complaint.reference
        fake.user_message(chat_id=STAFF_CHAT, user_id=STAFF_MEMBER, text=f"/staff show {ref}")
        shown = await reply(fake, 1)
        assert f"Complaint {ref}: stage 1, acknowledged" in shown
        assert "The roof still leaks" in shown
        # The short form, as in the bot's command menu; the bot's name may follow the command.
        fake.user_message(chat_id=STAFF_CHAT, user_id=STAFF_MEMBER, text="/list@complaints_bot")
        assert ref in await reply(fake, 2)
        fake.user_message(
            chat_id=STAFF_CHAT,
            user_id=STAFF_MEMBER,
            text=f'/staff message {ref} "A roofer will call on Monday."',
        )
        assert "queued" in await reply(fake, 3)
        relayed = (await said(fake, RESIDENT, 1))[-1]
        assert "A roofer will call on Monday." in relayed
        assert str(STAFF_MEMBER) not in relayed  # 2020 CHC-3.17: no staff names
        fake.user_message(
            chat_id=STAFF_CHAT,
            user_id=STAFF_MEMBER,
            text=f"/staff respond {ref}\n"
            '[[decisions]]\npoint = 1\ndecision = "upheld"\nreasons = "The repair failed"\n'
            '[[decisions]]\npoint = 2\ndecision = "upheld"\nreasons = "We missed the visit"\n',
        )
        assert "Stage 1 response" in await reply(fake, 4)
        letter = (await said(fake, RESIDENT, 2))[-1]
        assert "Our stage 1 response" in letter and "The repair failed" in letter
        async with app.store.unit_of_work() as uow:
            stored = await app.complaints.get(uow, reference=ref)
            events = await uow.events.for_complaint(stored.id or 0)
        assert stored.status == Status.RESPONDED
        assert stored.stage1.handler == f"telegram:{STAFF_MEMBER}"
        by_staff = {e.kind.value for e in events if e.actor.id == f"telegram:{STAFF_MEMBER}"}
        assert {"message_out", "decision", "transition"} <= by_staff  # CHC-5.12


async def test_bad_commands_get_a_clear_answer_and_change_nothing(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)) as app:
        complaint = await seed(app)
        ref = complaint.reference
        out_dir = tmp_path / "bundle"
        commands = [
            (f"/staff extend {ref} --working-days 2", "the following arguments are required"),
            (f"/staff export {ref} --out {out_dir}", "not available in the chat"),
            (f"/staff note {ref} hello --by someone", "act as yourself"),
            (f"/staff respond {ref} --file /etc/passwd", "--file is not available"),
            ("/staff show C-0000-0000", "Not done: 'C-0000-0000' does not check out"),
            (f"/staff close {ref}", "Not done: cannot close"),
            ('/staff note "unbalanced', "could not read that command"),
            ("/staff note --help", "usage: /staff note"),
        ]
        for number, (text, expected) in enumerate(commands, start=1):
            fake.user_message(chat_id=STAFF_CHAT, user_id=STAFF_MEMBER, text=text)
            answer = await reply(fake, number)
            assert expected in answer, (text, answer)
        assert not out_dir.exists()
        async with app.store.unit_of_work() as uow:
            stored = await app.complaints.get(uow, reference=ref)
        assert stored.status == Status.ACKNOWLEDGED
        assert stored.extensions == ()
        assert fake.sent_messages(RESIDENT) == []


async def test_commands_from_others_are_ignored_and_a_redelivery_acts_once(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)) as app:
        complaint = await seed(app)
        ref = complaint.reference
        fake.user_message(chat_id=STAFF_CHAT, user_id=STRANGER, text=f"/staff withdraw {ref}")
        update = fake.user_message(
            chat_id=STAFF_CHAT, user_id=STAFF_MEMBER, text=f"/staff message {ref} Hello"
        )
        assert "queued" in await reply(fake, 1)
        fake.queue_update(update)  # Telegram sends it again
        fake.user_message(chat_id=STAFF_CHAT, user_id=STAFF_MEMBER, text=f"/staff show {ref}")
        shown = await reply(fake, 2)
        assert "acknowledged" in shown  # the stranger's withdrawal did nothing
        await said(fake, RESIDENT, 1)
        await asyncio.sleep(1.0)
        assert len(texts(fake, STAFF_CHAT)) == 2
        assert len(fake.sent_messages(RESIDENT)) == 1
        async with app.store.unit_of_work() as uow:
            stored = await app.complaints.get(uow, reference=ref)
        assert stored.status == Status.ACKNOWLEDGED


async def test_a_long_answer_is_split_for_telegram(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)) as app:
        complaint = await seed(app)
        ref = complaint.reference
        for number in range(30):
            async with app.store.unit_of_work() as uow:
                await app.complaints.add_note(
                    uow, reference=ref, text=f"Note {number}: " + "x" * 190, actor=Actor.system()
                )
        fake.user_message(chat_id=STAFF_CHAT, user_id=STAFF_MEMBER, text=f"/staff show {ref}")
        await fake.wait_for(lambda: len(fake.sent_messages(STAFF_CHAT)) >= 2, timeout=10)
        await asyncio.sleep(0.3)
        parts = texts(fake, STAFF_CHAT)
        assert all(len(part) <= 4096 for part in parts)
        joined = "\n".join(parts)
        assert joined.startswith(f"Complaint {ref}") and "Note 29" in joined
