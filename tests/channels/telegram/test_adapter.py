"""The Telegram channel end to end: the real bot (``Application.run``, the code path of
``complaints-bot run``) against a fake Telegram Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import Application
from core.complaints.models import Actor
from core.settings import Settings, load_settings
from tests.support.fake_telegram import FakeTelegram

RESIDENT = 5001
STAFF_CHAT = -100777
STAFF_MEMBER = 4242
BOUND = 20.0  # seconds any one test may take


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def settings_for(fake: FakeTelegram, database_url: str, tmp_path: Path, **extra: Any) -> Settings:
    return load_settings(
        database_url=database_url,
        data_dir=tmp_path,
        telegram={
            "token": fake.token,
            "api_url": fake.base_url,
            "staff_chat_id": STAFF_CHAT,
            "staff_user_ids": [STAFF_MEMBER],
            **extra,
        },
        scheduler={"interval_seconds": 0.5},
    )


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Application]:
    """Run the bot as ``complaints-bot run`` does, until the block ends."""
    app = Application(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(app.run(stop, out=io.StringIO()))
    try:
        yield app
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await app.aclose()


def texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m["text"] for m in fake.sent_messages(chat_id)]


async def said(fake: FakeTelegram, chat_id: int, count: int) -> list[str]:
    await fake.wait_for(lambda: len(fake.sent_messages(chat_id)) >= count, timeout=10)
    return texts(fake, chat_id)


def press(fake: FakeTelegram, label: str) -> None:
    """Press the button with ``label`` on the bot's latest message that has buttons."""
    for message in reversed(fake.sent_messages(RESIDENT)):
        markup = message.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if button["text"].startswith(label):
                    fake.user_callback(
                        chat_id=RESIDENT,
                        data=button["callback_data"],
                        message_id=message["message_id"],
                    )
                    return
    raise AssertionError(f"no button {label!r}")


async def test_a_resident_completes_a_complaint_with_text_and_buttons(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)):
        fake.user_message(chat_id=RESIDENT, text="the repair man never came, third time now")
        await said(fake, RESIDENT, 1)
        press(fake, "Yes, make a complaint")
        await said(fake, RESIDENT, 2)
        assert fake.calls_to("answerCallbackQuery")  # the button press was answered
        fake.user_message(chat_id=RESIDENT, text="Flat 2, Rowan Court")
        await said(fake, RESIDENT, 3)
        fake.user_message(chat_id=RESIDENT, text="since September")
        await said(fake, RESIDENT, 4)
        fake.user_message(chat_id=RESIDENT, text="Fix the boiler <b>today</b> & say sorry")
        await said(fake, RESIDENT, 5)
        press(fake, "For myself")
        await said(fake, RESIDENT, 6)
        press(fake, "Nothing needed")
        confirm = (await said(fake, RESIDENT, 7))[-1]
        # What the resident typed is escaped, so they see exactly their words and cannot
        # inject markup (HTML parse mode).
        assert "Fix the boiler <b>today</b> & say sorry" in confirm
        sent = fake.sent_messages(RESIDENT)[-1]
        assert "&lt;b&gt;today&lt;/b&gt; &amp; say sorry" in sent["raw_text"]
        assert not any(e["type"] == "bold" for e in sent.get("entities", []))
        press(fake, "Yes, that's right")
        acknowledgement = (await said(fake, RESIDENT, 8))[-1]
        assert "Your reference is" in acknowledgement and "stage 1" in acknowledgement
        await fake.wait_for(lambda: bool(fake.sent_messages(STAFF_CHAT)), timeout=10)
        assert "New complaint" in texts(fake, STAFF_CHAT)[-1]
        fake.user_message(chat_id=RESIDENT, text="/status")
        status = (await said(fake, RESIDENT, 9))[-1]
        assert "stage 1" in status
        assert [c.params["commands"][0]["command"] for c in fake.calls_to("setMyCommands")] == [
            "start"
        ]


async def test_a_duplicate_update_has_one_effect(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)):
        update = fake.user_message(chat_id=RESIDENT, text="hello")
        await said(fake, RESIDENT, 1)
        fake.queue_update(update)  # Telegram sends it again
        fake.user_message(chat_id=RESIDENT, text="status")
        await said(fake, RESIDENT, 2)
        await asyncio.sleep(0.5)
    assert len(texts(fake, RESIDENT)) == 2


async def test_a_restart_mid_dialogue_continues(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(fake, database_url, tmp_path)
    async with asyncio.timeout(BOUND):
        async with running(settings):
            fake.user_message(chat_id=RESIDENT, text="I want to make a complaint")
            await said(fake, RESIDENT, 1)
            fake.user_message(chat_id=RESIDENT, text="Nobody fixed the leaking roof")
            assert "Where" in (await said(fake, RESIDENT, 2))[-1]
        async with running(settings):
            fake.user_message(chat_id=RESIDENT, text="5 Elm Road")
            assert "When did this start" in (await said(fake, RESIDENT, 3))[-1]


async def test_a_429_is_waited_out(fake: FakeTelegram, database_url: str, tmp_path: Path) -> None:
    fake.fail_next("sendMessage", status=429, description="Too Many Requests", retry_after=1)
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)):
        fake.user_message(chat_id=RESIDENT, text="hello")
        await said(fake, RESIDENT, 1)
    attempts = fake.calls_to("sendMessage")
    assert len(attempts) >= 2
    assert attempts[1].at - attempts[0].at >= 0.9  # retry_after honoured


async def test_webhook_refuses_a_wrong_secret_and_processes_a_right_one(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        fake,
        database_url,
        tmp_path,
        mode="webhook",
        webhook_url="https://bot.example.test/telegram/webhook",
        webhook_secret="s3cret-value",
        webhook_port=0,
    )
    update = {
        "update_id": 9001,
        "message": {
            "message_id": 1,
            "date": 1_790_000_000,
            "chat": {"id": RESIDENT, "type": "private"},
            "from": {"id": RESIDENT, "is_bot": False, "first_name": "Sam"},
            "text": "hello",
        },
    }
    async with asyncio.timeout(BOUND), running(settings) as app:
        await fake.wait_for(lambda: fake.webhook is not None, timeout=10)
        channel = app_channel(app)
        url = f"http://127.0.0.1:{channel.webhook_port}/telegram/webhook"
        async with aiohttp.ClientSession() as http:
            wrong = await http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "no"}
            )
            assert wrong.status == 401
            right = await http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"}
            )
            assert right.status == 200
        assert "Hello" in (await said(fake, RESIDENT, 1))[0]
    assert fake.webhook is not None and fake.webhook["secret_token"] == "s3cret-value"


def app_channel(app: Application) -> Any:
    channel = app.running_channels.get("telegram")
    assert channel is not None
    return channel


async def test_polling_deletes_a_left_over_webhook(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    fake.webhook = {"url": "https://old.example.test/hook"}
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)):
        fake.user_message(chat_id=RESIDENT, text="hello")
        await said(fake, RESIDENT, 1)
    assert fake.calls_to("deleteWebhook")
    assert fake.calls_to("deleteWebhook")[0].params.get("drop_pending_updates") in (
        None,
        False,
        "false",
    )


async def test_a_staff_reply_in_the_staff_chat_reaches_the_resident(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)) as app:
        fake.user_message(chat_id=RESIDENT, text="I want to make a complaint")
        fake.user_message(chat_id=RESIDENT, text="Nobody fixed the leaking roof")
        fake.user_message(chat_id=RESIDENT, text="5 Elm Road")
        fake.user_message(chat_id=RESIDENT, text="don't know")
        fake.user_message(chat_id=RESIDENT, text="Fix the roof")
        await said(fake, RESIDENT, 5)
        press(fake, "For myself")
        await said(fake, RESIDENT, 6)
        press(fake, "Nothing needed")
        await said(fake, RESIDENT, 7)
        press(fake, "Yes, that's right")
        await said(fake, RESIDENT, 8)
        await fake.wait_for(lambda: bool(fake.sent_messages(STAFF_CHAT)), timeout=10)
        notice = fake.sent_messages(STAFF_CHAT)[-1]
        # Someone in the group who is not staff: ignored.
        fake.user_message(
            chat_id=STAFF_CHAT,
            user_id=999,
            text="hello from a stranger",
            reply_to_message_id=notice["message_id"],
        )
        fake.user_message(
            chat_id=STAFF_CHAT,
            user_id=STAFF_MEMBER,
            text="A roofer will call you tomorrow morning.",
            reply_to_message_id=notice["message_id"],
        )
        relayed = (await said(fake, RESIDENT, 9))[-1]
        assert "A roofer will call you tomorrow morning." in relayed
        assert "complaints team" in relayed
        await fake.wait_for(
            lambda: any("Sent to the resident" in t for t in texts(fake, STAFF_CHAT)), timeout=10
        )
        assert not any("stranger" in t for t in texts(fake, RESIDENT))
        async with app.store.unit_of_work() as uow:
            resident = await uow.residents.find_by_identity("telegram", str(RESIDENT))
            assert resident is not None
            (complaint,) = await uow.complaints.for_resident(resident.id or 0)
            events = await uow.events.for_complaint(complaint.id or 0)
        staff_sent = [e for e in events if e.actor.id == f"telegram:{STAFF_MEMBER}"]
        assert staff_sent and "roofer" in staff_sent[0].summary  # recorded as correspondence


async def test_a_403_falls_back_to_email_and_tells_staff(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)) as app:
        async with app.store.unit_of_work() as uow:
            resident = await app.residents.identify(uow, channel="telegram", address=str(RESIDENT))
            await app.residents.link_identity(
                uow, resident_id=resident.id or 0, channel="email", address="sam@example.test"
            )
        fake.fail_next(
            "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
        )
        fake.user_message(chat_id=RESIDENT, text="status")
        await fake.wait_for(
            lambda: any("cannot be reached" in t for t in texts(fake, STAFF_CHAT)), timeout=10
        )
        async with app.store.unit_of_work() as uow:
            emailed = await uow.outbox.claim_due(app.clock.now(), channels=["email"])
            found = await uow.residents.find_by_identity("telegram", str(RESIDENT))
        assert [m.address for m in emailed] == ["sam@example.test"]
        assert "no complaints" in emailed[0].payload["text"]
        assert found is not None
        assert found.reachable_address_on("telegram") is None  # marked unreachable
        # Writing again shows the chat works: it is reachable once more.
        fake.user_message(chat_id=RESIDENT, text="hello")
        await said(fake, RESIDENT, 1)


async def test_a_photo_is_saved_as_evidence_and_a_deep_link_opens_a_complaint(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)) as app:
        async with app.store.unit_of_work() as uow:
            resident = await app.residents.identify(uow, channel="telegram", address=str(RESIDENT))
            complaint = await app.complaints.log(
                uow,
                resident_id=resident.id or 0,
                channel="telegram",
                received_at=app.clock.now(),
                elements=["The lift has been broken for a month"],
                actor=Actor.resident(resident.id or 0),
            )
        fake.user_message(chat_id=RESIDENT, text=f"/start {complaint.reference}")
        status = (await said(fake, RESIDENT, 1))[-1]
        assert complaint.reference in status and "lift" in status
        fake.user_photo(chat_id=RESIDENT, content=b"\xff\xd8 a photo of the lift", caption=None)
        kept = (await said(fake, RESIDENT, 2))[-1]
        assert "kept this file as evidence" in kept
        saved = list((tmp_path / "evidence" / "telegram").iterdir())
        assert [p.read_bytes() for p in saved] == [b"\xff\xd8 a photo of the lift"]
        fake.user_sticker(chat_id=RESIDENT)
        assert "in words" in (await said(fake, RESIDENT, 3))[-1]
