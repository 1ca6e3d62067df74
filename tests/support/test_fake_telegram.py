"""The fake Bot API server, driven by the real aiogram client over HTTP."""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    ErrorEvent,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)

from tests.support.fake_telegram import EntityParseError, FakeTelegram, parse_html

TIME_LIMIT = 5.0  # seconds per test; the whole module runs in a few seconds
CHAT = 4242


class LoopbackSession(AiohttpSession):
    """aiogram's own session, without the 250 ms pause ``close()`` leaves for TLS shutdown.

    Plain HTTP to 127.0.0.1 has nothing to wait for; the pause alone would double this
    module's run time. The dispatcher test keeps the stock session.
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(fake: FakeTelegram, *, token: str | None = None, timeout: float = 10.0) -> Bot:
    session = LoopbackSession(api=TelegramAPIServer.from_base(fake.base_url), timeout=timeout)
    return Bot(token or fake.token, session=session)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(long_poll_cap=0.3) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(fake)
    try:
        yield client
    finally:
        await client.session.close()


def keyboard(*data: str) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(text=item.title(), callback_data=item) for item in data]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


# --- basics ---------------------------------------------------------------------------------


async def test_get_me_describes_the_bot(fake: FakeTelegram, bot: Bot) -> None:
    async with asyncio.timeout(TIME_LIMIT):
        me = await bot.get_me()

    assert (me.id, me.is_bot, me.username) == (123456, True, "complaints_test_bot")
    assert me.id == bot.id
    assert [call.method for call in fake.calls] == ["getMe"]


async def test_a_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    intruder = make_bot(fake, token="999:WRONG")
    try:
        async with asyncio.timeout(TIME_LIMIT):
            with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
                await intruder.get_me()
    finally:
        await intruder.session.close()


async def test_an_unknown_method_is_not_found(bot: Bot) -> None:
    async with asyncio.timeout(TIME_LIMIT):
        with pytest.raises(TelegramNotFound, match="Not Found: method not found"):
            await bot.send_dice(CHAT)


# --- sendMessage --------------------------------------------------------------------------


async def test_html_message_with_inline_keyboard_round_trips(fake: FakeTelegram, bot: Bot) -> None:
    async with asyncio.timeout(TIME_LIMIT):
        sent = await bot.send_message(
            CHAT,
            "Complaint <b>CMP-0001</b> logged &amp; acknowledged",
            parse_mode="HTML",
            reply_markup=keyboard("escalate", "close"),
        )

    assert isinstance(sent, Message)
    assert sent.text == "Complaint CMP-0001 logged & acknowledged"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("bold", 10, 8)]
    assert sent.html_text == "Complaint <b>CMP-0001</b> logged &amp; acknowledged"
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump() == keyboard("escalate", "close").model_dump()
    assert sent.from_user is not None
    assert sent.from_user.id == bot.id
    assert sent.date.timestamp() > 0

    [record] = fake.sent_messages(CHAT)
    assert record["message_id"] == sent.message_id
    assert record["raw_text"] == "Complaint <b>CMP-0001</b> logged &amp; acknowledged"
    assert record["parse_mode"] == "HTML"
    assert record["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Escalate",
        "callback_data": "escalate",
    }
    [call] = fake.calls_to("sendMessage")
    assert call.params["chat_id"] == CHAT
    assert call.params["reply_markup"] == record["reply_markup"]
    assert fake.sent_messages(chat_id=CHAT + 1) == []


async def test_unclosed_tag_is_rejected_like_telegram(fake: FakeTelegram, bot: Bot) -> None:
    async with asyncio.timeout(TIME_LIMIT):
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(CHAT, "<b>Your complaint", parse_mode="HTML")

    assert caught.value.message == (
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )
    assert fake.sent_messages() == []


async def test_escaped_resident_text_is_accepted(bot: Bot) -> None:
    resident_text = 'Rent < £500 & <script>alert(1)</script> "quoted"'
    async with asyncio.timeout(TIME_LIMIT):
        sent = await bot.send_message(
            CHAT, f"<i>You wrote:</i> {html.escape(resident_text)}", parse_mode="HTML"
        )

    assert sent.text == f"You wrote: {resident_text}"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("line<br>next", 'Unsupported start tag "br" at byte offset 4'),
        ("£ <x>", 'Unsupported start tag "x" at byte offset 3'),  # offsets count UTF-8 bytes
        ("</b>", "Unexpected end tag at byte offset 0"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            "<b class>x</b>",
            'Expected equal sign in declaration of an attribute of the tag "b" at byte offset 0',
        ),
    ],
)
def test_parse_html_errors_match_tdlib(text: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(text)
    assert str(caught.value) == error


@pytest.mark.parametrize(
    ("text", "plain", "entities"),
    [
        ("Tom & Jerry", "Tom & Jerry", []),  # Telegram keeps a bare '&'
        ("&lt;3 &#128512; &nbsp;", "<3 \N{GRINNING FACE} &nbsp;", []),
        ("\N{GRINNING FACE}<b>x</b>", "\N{GRINNING FACE}x", [("bold", 2, 1)]),  # UTF-16
        ('<a href="https://x.test/?a=1&amp;b=2">here</a>', "here", [("text_link", 0, 4)]),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", [("pre", 0, 5)]),
        (
            '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
            "st",
            [("spoiler", 0, 1), ("spoiler", 1, 1)],
        ),
        ("<blockquote expandable>q</blockquote>", "q", [("expandable_blockquote", 0, 1)]),
        ("<b>bold <i>both</i></b>", "bold both", [("bold", 0, 9), ("italic", 5, 4)]),
    ],
)
def test_parse_html_accepts_what_telegram_accepts(
    text: str, plain: str, entities: list[tuple[str, int, int]]
) -> None:
    parsed, found = parse_html(text)
    assert parsed == plain
    assert [(e["type"], e["offset"], e["length"]) for e in found] == entities


async def test_length_limit_counts_text_after_parsing(bot: Bot) -> None:
    async with asyncio.timeout(TIME_LIMIT):
        await bot.send_message(CHAT, "a" * 4096)
        await bot.send_message(CHAT, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
        await bot.send_message(CHAT, "&amp;" * 4096, parse_mode="HTML")
        await bot.send_message(CHAT, "\n" + "a" * 4096 + "\n\n")  # trimmed, like Telegram
        with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
            await bot.send_message(CHAT, "a" * 4097)
        with pytest.raises(TelegramBadRequest, match="message text is empty"):
            await bot.send_message(CHAT, " \n ")


async def test_callback_data_over_64_bytes_is_rejected(bot: Bot) -> None:
    async with asyncio.timeout(TIME_LIMIT):
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(CHAT, "Choose", reply_markup=keyboard("x" * 65))


async def test_reply_to_a_user_message(fake: FakeTelegram, bot: Bot) -> None:
    update = fake.user_message(chat_id=CHAT, text="My boiler is broken")
    message_id = update["message"]["message_id"]
    async with asyncio.timeout(TIME_LIMIT):
        sent = await bot.send_message(
            CHAT, "Logged", reply_parameters=ReplyParameters(message_id=message_id)
        )
        with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
            await bot.send_message(CHAT, "Lost", reply_parameters=ReplyParameters(message_id=999))

    assert sent.reply_to_message is not None
    assert sent.reply_to_message.text == "My boiler is broken"
    assert sent.message_id == message_id + 1  # one sequence per chat, as in a private chat


# --- faults -------------------------------------------------------------------------------


async def test_flood_wait_raises_retry_after_then_recovers(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=7)
    async with asyncio.timeout(TIME_LIMIT):
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(CHAT, "Hello")
        await bot.send_message(CHAT, "Hello")

    assert caught.value.retry_after == 7
    assert "Too Many Requests: retry after 7" in caught.value.message
    assert len(fake.calls_to("sendMessage")) == 2
    assert len(fake.sent_messages()) == 1


async def test_server_error_and_blocked_user(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=500)
    fake.fail_next("sendMessage", status=403, times=2)
    async with asyncio.timeout(TIME_LIMIT):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await bot.send_message(CHAT, "one")
        for _ in range(2):
            with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
                await bot.send_message(CHAT, "two")
        await bot.send_message(CHAT, "three")

    assert [m["text"] for m in fake.sent_messages()] == ["three"]


async def test_delayed_answer_times_out_the_client_but_the_message_was_sent(
    fake: FakeTelegram,
) -> None:
    impatient = make_bot(fake, timeout=0.2)
    fake.delay_next("sendMessage", 1.0)
    try:
        async with asyncio.timeout(TIME_LIMIT):
            with pytest.raises(TelegramNetworkError, match="Request timeout error"):
                await impatient.send_message(CHAT, "Your complaint was received")
    finally:
        await impatient.session.close()

    assert [m["text"] for m in fake.sent_messages(CHAT)] == ["Your complaint was received"]


# --- getUpdates ---------------------------------------------------------------------------


async def test_get_updates_offset_confirms_and_forgets(fake: FakeTelegram, bot: Bot) -> None:
    ids = [fake.user_message(chat_id=CHAT, text=f"m{n}")["update_id"] for n in range(3)]
    async with asyncio.timeout(TIME_LIMIT):
        first = await bot.get_updates()
        after_two = await bot.get_updates(offset=ids[2])
        earlier_offset = await bot.get_updates(offset=ids[0])
        confirmed_all = await bot.get_updates(offset=ids[2] + 1)
        more = [fake.user_message(chat_id=CHAT, text=f"n{n}")["update_id"] for n in range(3)]
        limited = await bot.get_updates(limit=2)
        last_only = await bot.get_updates(offset=-1)

    assert [u.update_id for u in first] == ids
    assert first[0].message is not None
    assert first[0].message.text == "m0"
    assert [u.update_id for u in after_two] == [ids[2]]
    assert [u.update_id for u in earlier_offset] == [ids[2]]  # confirmed ones never come back
    assert confirmed_all == []
    assert [u.update_id for u in limited] == more[:2]
    assert [u.update_id for u in last_only] == [more[2]]
    assert [u["update_id"] for u in fake.pending_updates] == [more[2]]


async def test_long_poll_answers_as_soon_as_an_update_arrives(fake: FakeTelegram) -> None:
    fake.long_poll_cap = 5.0
    patient = make_bot(fake)
    try:
        async with asyncio.timeout(TIME_LIMIT):
            waiting = asyncio.create_task(patient.get_updates(timeout=30))
            await fake.wait_for(lambda: len(fake.calls_to("getUpdates")) == 1)
            await asyncio.sleep(0.05)
            assert not waiting.done()
            queued_at = time.monotonic()
            fake.user_message(chat_id=CHAT, text="Is anyone there?")
            updates = await waiting
            latency = time.monotonic() - queued_at
    finally:
        await patient.session.close()

    assert [u.message.text for u in updates if u.message] == ["Is anyone there?"]
    assert latency < 0.5
    assert fake.calls_to("getUpdates")[0].params["timeout"] == 30


async def test_long_poll_is_capped_to_keep_tests_fast(fake: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    async with asyncio.timeout(TIME_LIMIT):
        assert await bot.get_updates(timeout=30) == []
    assert 0.25 < time.monotonic() - started < 1.2


async def test_a_newer_get_updates_ends_the_older_with_conflict(
    fake: FakeTelegram, bot: Bot
) -> None:
    async with asyncio.timeout(TIME_LIMIT):
        older = asyncio.create_task(bot.get_updates(timeout=30))
        await fake.wait_for(lambda: len(fake.calls_to("getUpdates")) == 1)
        newer = asyncio.create_task(bot.get_updates(timeout=30))
        with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
            await older
        fake.user_message(chat_id=CHAT, text="hi")
        assert len(await newer) == 1


async def test_update_types_outside_allowed_updates_are_dropped(
    fake: FakeTelegram, bot: Bot
) -> None:
    async with asyncio.timeout(TIME_LIMIT):
        sent = await bot.send_message(CHAT, "Pick one", reply_markup=keyboard("yes"))
        fake.user_callback(chat_id=CHAT, data="yes", message_id=sent.message_id)
        fake.user_message(chat_id=CHAT, text="typed instead")
        updates = await bot.get_updates(allowed_updates=["message"])

    assert [u.event_type for u in updates] == ["message"]
    assert [_type(u) for u in fake.dropped_updates] == ["callback_query"]


def _type(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


async def test_update_shapes_parse_in_aiogram(fake: FakeTelegram, bot: Bot) -> None:
    async with asyncio.timeout(TIME_LIMIT):
        sent = await bot.send_message(CHAT, "Send evidence", reply_markup=keyboard("done"))
        text = fake.user_message(chat_id=CHAT, text="/start@complaints_test_bot")
        fake.user_photo(chat_id=CHAT, caption="mould", content=b"jpeg bytes")
        fake.user_document(chat_id=CHAT, file_name="letter.pdf", content=b"%PDF")
        fake.user_voice(chat_id=CHAT, duration=12)
        fake.user_sticker(chat_id=CHAT)
        fake.user_location(chat_id=CHAT, latitude=53.48, longitude=-2.24)
        fake.user_edit(chat_id=CHAT, message_id=text["message"]["message_id"], text="/help")
        fake.user_callback(chat_id=CHAT, data="done", message_id=sent.message_id)
        fake.user_message(chat_id=-1001234567890123, text="in a group", user_id=77)
        updates = await bot.get_updates(allowed_updates=[])

    (command, photo, document, voice, sticker, location, edit, callback, group) = updates
    assert command.message is not None
    assert [(e.type, e.length) for e in command.message.entities or []] == [("bot_command", 26)]
    assert photo.message is not None
    assert photo.message.photo is not None
    assert photo.message.caption == "mould"
    assert photo.message.photo[-1].width == 1280
    assert document.message is not None
    assert document.message.document is not None
    assert document.message.document.file_name == "letter.pdf"
    assert voice.message is not None
    assert voice.message.voice is not None
    assert voice.message.voice.duration == 12
    assert sticker.message is not None
    assert sticker.message.sticker is not None
    assert sticker.message.sticker.emoji == "\N{THUMBS UP SIGN}"
    assert location.message is not None
    assert location.message.location is not None
    assert location.message.location.latitude == 53.48
    assert edit.edited_message is not None
    assert edit.edited_message.text == "/help"
    assert edit.edited_message.edit_date is not None
    assert callback.callback_query is not None
    assert callback.callback_query.data == "done"
    assert isinstance(callback.callback_query.message, Message)
    assert callback.callback_query.message.text == "Send evidence"
    assert group.message is not None
    assert group.message.chat.type == "supergroup"
    assert group.message.from_user is not None
    assert group.message.from_user.id == 77


async def test_raw_updates_keep_odd_shapes(fake: FakeTelegram, bot: Bot) -> None:
    bare = {"message_id": 9, "date": 1, "chat": {"id": 1, "type": "private"}}
    fake.queue_update({"update_id": 500, "message": bare})
    next_one = fake.user_message(chat_id=1, text="after")
    async with asyncio.timeout(TIME_LIMIT):
        updates = await bot.get_updates()

    assert next_one["update_id"] == 501
    assert updates[0].message is not None
    assert updates[0].message.text is None
    assert [u.update_id for u in updates] == [500, 501]


# --- webhook, files, commands, edits ------------------------------------------------------


async def test_webhook_blocks_get_updates_until_deleted(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(chat_id=CHAT, text="waiting")
    async with asyncio.timeout(TIME_LIMIT):
        with pytest.raises(TelegramBadRequest, match="An HTTPS URL must be provided"):
            await bot.set_webhook("http://example.test/hook")
        assert await bot.set_webhook("https://example.test/hook", secret_token="s3cret")
        info = await bot.get_webhook_info()
        with pytest.raises(TelegramConflictError, match="use deleteWebhook"):
            await bot.get_updates()
        assert await bot.delete_webhook()
        updates = await bot.get_updates()
        cleared = await bot.get_webhook_info()

    assert (info.url, info.pending_update_count) == ("https://example.test/hook", 1)
    assert fake.webhook is None
    assert fake.calls_to("setWebhook")[-1].params["secret_token"] == "s3cret"
    assert len(updates) == 1
    assert cleared.url == ""


async def test_files_resolve_and_download(fake: FakeTelegram, bot: Bot) -> None:
    update = fake.user_document(chat_id=CHAT, content=b"tenancy agreement", file_name="t.pdf")
    file_id = update["message"]["document"]["file_id"]
    fake.add_file("custom-id", b"\x00\x01binary", file_path="photos/custom.jpg")
    async with asyncio.timeout(TIME_LIMIT):
        described = await bot.get_file(file_id)
        downloaded = await bot.download(file_id)
        custom = await bot.download_file("photos/custom.jpg")
        with pytest.raises(TelegramBadRequest, match="invalid file_id"):
            await bot.get_file("nope")

    assert described.file_size == len(b"tenancy agreement")
    assert described.file_path is not None
    assert described.file_path.endswith(".pdf")
    assert downloaded is not None
    assert downloaded.read() == b"tenancy agreement"
    assert custom is not None
    assert custom.read() == b"\x00\x01binary"


async def test_set_my_commands_is_recorded(fake: FakeTelegram, bot: Bot) -> None:
    commands = [
        BotCommand(command="start", description="Make a complaint"),
        BotCommand(command="status", description="Follow a complaint"),
    ]
    async with asyncio.timeout(TIME_LIMIT):
        assert await bot.set_my_commands(commands)
        assert await bot.set_my_commands(commands[:1], scope=BotCommandScopeAllPrivateChats())
        listed = await bot.get_my_commands()
        with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand(command="Start!", description="no")])

    assert fake.commands == [
        {"command": "start", "description": "Make a complaint"},
        {"command": "status", "description": "Follow a complaint"},
    ]
    assert fake.commands_for({"type": "all_private_chats"}) == fake.commands[:1]
    assert [command.model_dump() for command in listed] == [c.model_dump() for c in commands]


async def test_callbacks_edits_and_deletes(fake: FakeTelegram, bot: Bot) -> None:
    async with asyncio.timeout(TIME_LIMIT):
        sent = await bot.send_message(CHAT, "Close complaint?", reply_markup=keyboard("yes"))
        press = fake.user_callback(chat_id=CHAT, data="yes", message_id=sent.message_id)
        query_id = press["callback_query"]["id"]
        assert await bot.answer_callback_query(query_id, text="Closing")
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(query_id)
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text(
                "Close complaint?",
                chat_id=CHAT,
                message_id=sent.message_id,
                reply_markup=keyboard("yes"),
            )
        edited = await bot.edit_message_text(
            "<b>Closed</b>", chat_id=CHAT, message_id=sent.message_id, parse_mode="HTML"
        )
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id)
        await bot.send_chat_action(CHAT, "typing")
        assert await bot.delete_message(CHAT, sent.message_id)
        with pytest.raises(TelegramBadRequest, match="message to delete not found"):
            await bot.delete_message(CHAT, sent.message_id)
        with pytest.raises(TelegramBadRequest, match="message to edit not found"):
            await bot.edit_message_text("gone", chat_id=CHAT, message_id=sent.message_id)

    assert isinstance(edited, Message)
    assert edited.text == "Closed"
    assert edited.reply_markup is None  # editing the text without a keyboard removes it
    assert fake.callback_answers[query_id]["text"] == "Closing"


# --- a whole polling round with aiogram's Dispatcher --------------------------------------


async def test_dispatcher_polling_round(fake: FakeTelegram) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    bot = Bot(fake.token, session=session)  # the stock session; polling closes it at the end
    dispatcher = Dispatcher(disable_fsm=True)
    errors: list[BaseException] = []
    seen: list[str | None] = []

    @dispatcher.message()
    async def acknowledge(message: Message) -> None:
        seen.append(message.text)
        logged = html.escape(message.text or "")
        await message.answer(f"Thanks, we logged: <i>{logged}</i>", parse_mode="HTML")

    @dispatcher.errors()
    async def collect(event: ErrorEvent) -> bool:
        errors.append(event.exception)
        return True

    async with asyncio.timeout(TIME_LIMIT):
        polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
        try:
            fake.user_message(chat_id=CHAT, text="Damp & mould")
            await fake.wait_for(lambda: len(fake.sent_messages(CHAT)) == 1 or bool(errors))
            await dispatcher.stop_polling()
            await polling
        finally:
            polling.cancel()

    assert errors == []
    assert seen == ["Damp & mould"]
    assert fake.sent_messages(CHAT)[0]["text"] == "Thanks, we logged: Damp & mould"
    methods = [call.method for call in fake.calls]
    assert methods[:2] == ["getMe", "getUpdates"]
    first_poll = fake.calls_to("getUpdates")[0].params
    assert "offset" not in first_poll
    assert first_poll["allowed_updates"] == ["message"]


# --- the wire protocol itself -------------------------------------------------------------


async def test_json_multipart_and_query_requests_are_decoded(fake: FakeTelegram) -> None:
    url = f"{fake.base_url}/bot{fake.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    form = aiohttp.FormData()
    form.add_field("chat_id", "5")
    form.add_field("text", "multipart")
    form.add_field("attachment", b"raw bytes", filename="a.bin")
    async with asyncio.timeout(TIME_LIMIT), aiohttp.ClientSession() as http:
        as_json = await http.post(url, json={"chat_id": 5, "text": "json", "reply_markup": markup})
        assert (await as_json.json())["result"]["reply_markup"] == markup
        as_multipart = await http.post(url, data=form)
        assert as_multipart.status == 200
        as_query = await http.get(url, params={"chat_id": "5", "text": "query"})
        assert (await as_query.json())["result"]["text"] == "query"
        missing = await http.get(f"{fake.base_url}/file/bot{fake.token}/nope.jpg")
        assert missing.status == 404
        error = await (await http.post(url, data={"chat_id": "5"})).json()

    assert error == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }
    json_call, multipart_call, query_call, _ = fake.calls
    assert json_call.params["reply_markup"] == markup
    assert multipart_call.params == {"chat_id": 5, "text": "multipart", "attachment": b"raw bytes"}
    assert query_call.params == {"chat_id": 5, "text": "query"}


async def test_wait_for_explains_a_timeout(fake: FakeTelegram, bot: Bot) -> None:
    async with asyncio.timeout(TIME_LIMIT):
        await bot.get_me()
        with pytest.raises(TimeoutError, match=r"(?s)still false after 0.05s.*getMe\(\)"):
            await fake.wait_for(lambda: bool(fake.sent_messages()), timeout=0.05)
