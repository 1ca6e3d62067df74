"""Translating Telegram updates, parsed by aiogram from payloads of the shapes Telegram sends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.types import Update

from channels.telegram.render import choice_callback_data
from channels.telegram.translate import EDITED_PREFIX, NOTHING, WORDING, Translated, translate
from conversations.envelopes import MAX_TEXT_LENGTH, Attachment, InboundMessage

NOW = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
RESIDENT = 5_123_456_789
BOT_ID = 7_000_000_001
DATE = 1_741_080_600
MB = 1024 * 1024

USER = {
    "id": RESIDENT,
    "is_bot": False,
    "first_name": "Asha",
    "last_name": "Patel",
    "username": "ashap",
    "language_code": "en",
}
BOT = {"id": BOT_ID, "is_bot": True, "first_name": "Complaints", "username": "ExampleHomesBot"}
PRIVATE = {
    "id": RESIDENT,
    "type": "private",
    "first_name": "Asha",
    "last_name": "Patel",
    "username": "ashap",
}
GROUP = {"id": -1_001_234_567_890, "type": "supergroup", "title": "Complaints team"}
KEYBOARD = {
    "inline_keyboard": [
        [{"text": "Yes, that's right", "callback_data": "confirm"}],
        [{"text": "Cancel", "callback_data": "cancel"}],
        [{"text": "C-7K3P-9QX2: damp", "callback_data": "complaint:C-7K3P-9QX2"}],
        [{"text": "Accept the offer", "callback_data": choice_callback_data("remedy:" + "x" * 80)}],
    ]
}
PHOTO_SIZES = [
    {
        "file_id": "AgAD-small",
        "file_unique_id": "s1",
        "width": 90,
        "height": 67,
        "file_size": 1_234,
    },
    {
        "file_id": "AgAD-large",
        "file_unique_id": "s3",
        "width": 1280,
        "height": 960,
        "file_size": 98_765,
    },
    {
        "file_id": "AgAD-medium",
        "file_unique_id": "s2",
        "width": 320,
        "height": 240,
        "file_size": 20_001,
    },
]


def message(
    update_id: int = 1, *, key: str = "message", sender: dict[str, Any] = USER, **fields: Any
) -> Update:
    body = {"message_id": 42, "date": DATE, "chat": PRIVATE, "from": sender, **fields}
    return Update.model_validate({"update_id": update_id, key: body})


def press(data: str | None, *, chat: dict[str, Any] = PRIVATE, **fields: Any) -> Update:
    bot_message = {
        "message_id": 41,
        "date": DATE,
        "chat": chat,
        "from": BOT,
        "text": "Is that right?",
        "reply_markup": KEYBOARD,
    }
    query: dict[str, Any] = {
        "id": "4382bfdwdsb323b2d9",
        "from": USER,
        "chat_instance": "-8395740184736125",
        "message": bot_message,
        **fields,
    }
    if data is not None:
        query["data"] = data
    return Update.model_validate({"update_id": 9, "callback_query": query})


def inbound(update_id: int = 1, **fields: Any) -> InboundMessage:
    values: dict[str, Any] = {
        "channel": "telegram",
        "sender": str(RESIDENT),
        "message_id": f"update:{update_id}",
        "received_at": NOW,
        "sender_name": "Asha Patel",
        **fields,
    }
    return InboundMessage.model_validate(values)


def unsupported(**fields: Any) -> tuple[Update, Translated]:
    return message(**fields), Translated(reply=WORDING["unsupported"])


HASHED = choice_callback_data("remedy:" + "x" * 80)
VOICE = {
    "file_id": "AwAC-voice",
    "file_unique_id": "v1",
    "duration": 12,
    "mime_type": "audio/ogg",
    "file_size": 45_000,
}  # noqa: E501
BIG_PDF = {
    "file_id": "BQAC-big",
    "file_unique_id": "d1",
    "file_name": "survey.pdf",
    "mime_type": "application/pdf",
    "file_size": 25 * MB,
}
GIF = {
    "file_id": "CgAC-gif",
    "file_unique_id": "g1",
    "width": 320,
    "height": 240,
    "duration": 3,
    "file_name": "leak.mp4",
    "mime_type": "video/mp4",
    "file_size": 90_000,
}  # noqa: E501
GIF_DOC = {
    "file_id": "CgAC-gif",
    "file_unique_id": "g1",
    "file_name": "leak.mp4",
    "mime_type": "video/mp4",
    "file_size": 90_000,
}  # noqa: E501

CASES: dict[str, tuple[Update, Translated]] = {
    "private text": (
        message(text="My boiler has been broken for two weeks"),
        Translated(inbound=inbound(text="My boiler has been broken for two weeks")),
    ),
    "reply to a bot message": (
        message(
            text="It is still leaking",
            reply_to_message={
                "message_id": 17,
                "date": DATE - 60,
                "chat": PRIVATE,
                "from": BOT,
                "text": "Your reference is C-7K3P-9QX2.",
            },
        ),
        Translated(inbound=inbound(text="It is still leaking", reply_to="17")),
    ),
    "deep link": (
        message(
            text="/start C-7K3P-9QX2",
            entities=[{"type": "bot_command", "offset": 0, "length": 6}],
        ),
        Translated(inbound=inbound(text="/start C-7K3P-9QX2")),
    ),
    "button press": (
        press("confirm"),
        Translated(
            inbound=inbound(9, text="Yes, that's right", choice="confirm", reply_to="41"),
            callback_query_id="4382bfdwdsb323b2d9",
            keyboard_message=(RESIDENT, 41),
        ),
    ),
    "button press, hashed choice": (
        press(HASHED),
        Translated(
            inbound=inbound(9, text="Accept the offer", choice=HASHED, reply_to="41"),
            callback_query_id="4382bfdwdsb323b2d9",
            keyboard_message=(RESIDENT, 41),
        ),
    ),
    "button press, data not on the keyboard": (
        press("withdraw"),
        Translated(
            inbound=inbound(9, text="withdraw", choice="withdraw", reply_to="41"),
            callback_query_id="4382bfdwdsb323b2d9",
            keyboard_message=(RESIDENT, 41),
        ),
    ),
    "button press on a message too old to read": (
        Update.model_validate(
            {
                "update_id": 9,
                "callback_query": {
                    "id": "q2",
                    "from": USER,
                    "chat_instance": "-1",
                    "message": {"message_id": 41, "date": 0, "chat": PRIVATE},
                    "data": "cancel",
                },
            }
        ),
        Translated(
            inbound=inbound(9, text="cancel", choice="cancel", reply_to="41"),
            callback_query_id="q2",
            keyboard_message=(RESIDENT, 41),
        ),
    ),
    "button press in a group": (
        press("confirm", chat=GROUP),
        Translated(callback_query_id="4382bfdwdsb323b2d9"),
    ),
    "game button, no data": (
        press(None, game_short_name="quiz"),
        Translated(callback_query_id="4382bfdwdsb323b2d9"),
    ),
    "photo with caption": (
        message(photo=PHOTO_SIZES, caption="Mould in the <b>bedroom</b> & hall"),
        Translated(
            inbound=inbound(
                text="Mould in the <b>bedroom</b> & hall",
                attachments=(Attachment(kind="photo", reference="AgAD-large", size=98_765),),
            ),
            file_ids=("AgAD-large",),
        ),
    ),
    "document": (
        message(document={**BIG_PDF, "file_size": 300_000}),
        Translated(
            inbound=inbound(
                attachments=(
                    Attachment(
                        kind="document",
                        reference="BQAC-big",
                        filename="survey.pdf",
                        content_type="application/pdf",
                        size=300_000,
                    ),
                )
            ),
            file_ids=("BQAC-big",),
        ),
    ),
    "oversized document with caption": (
        message(document=BIG_PDF, caption="The damp survey"),
        Translated(inbound=inbound(text="The damp survey"), reply=WORDING["too_large_with_text"]),
    ),
    "oversized document alone": (
        message(document=BIG_PDF),
        Translated(reply=WORDING["too_large"]),
    ),
    "voice note": (
        message(voice=VOICE),
        Translated(
            inbound=inbound(
                attachments=(
                    Attachment(
                        kind="voice",
                        reference="AwAC-voice",
                        content_type="audio/ogg",
                        size=45_000,
                    ),
                )
            ),
            file_ids=("AwAC-voice",),
        ),
    ),
    "video": (
        message(
            video={
                "file_id": "BAAC-video",
                "file_unique_id": "v2",
                "width": 1920,
                "height": 1080,
                "duration": 20,
                "file_name": "ceiling.mp4",
                "mime_type": "video/mp4",
            },
            caption="The ceiling",
        ),
        Translated(
            inbound=inbound(
                text="The ceiling",
                attachments=(
                    Attachment(
                        kind="video",
                        reference="BAAC-video",
                        filename="ceiling.mp4",
                        content_type="video/mp4",
                    ),
                ),
            ),
            file_ids=("BAAC-video",),
        ),
    ),
    "audio": (
        message(
            audio={
                "file_id": "CQAC-audio",
                "file_unique_id": "a1",
                "duration": 60,
                "file_name": "noise.m4a",
                "mime_type": "audio/mp4",
                "file_size": 500_000,
            }
        ),
        Translated(
            inbound=inbound(
                attachments=(
                    Attachment(
                        kind="audio",
                        reference="CQAC-audio",
                        filename="noise.m4a",
                        content_type="audio/mp4",
                        size=500_000,
                    ),
                )
            ),
            file_ids=("CQAC-audio",),
        ),
    ),
    "sticker": unsupported(
        sticker={
            "file_id": "CAAC-sticker",
            "file_unique_id": "k1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "\N{THUMBS UP SIGN}",
        }
    ),
    "location": unsupported(location={"latitude": 51.5072, "longitude": -0.1276}),
    "venue": unsupported(
        location={"latitude": 51.5, "longitude": -0.12},
        venue={
            "location": {"latitude": 51.5, "longitude": -0.12},
            "title": "Block C",
            "address": "1 High Street",
        },
    ),
    "contact": unsupported(contact={"phone_number": "+447700900123", "first_name": "Asha"}),
    "dice": unsupported(dice={"emoji": "\N{GAME DIE}", "value": 4}),
    "poll": unsupported(
        poll={
            "id": "p1",
            "question": "Which day?",
            "options": [
                {"persistent_id": "o1", "text": "Monday", "voter_count": 0},
                {"persistent_id": "o2", "text": "Tuesday", "voter_count": 0},
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
    ),
    "animation without caption": unsupported(animation=GIF, document=GIF_DOC),
    "animation with caption": (
        message(animation=GIF, document=GIF_DOC, caption="Water pouring in"),
        Translated(inbound=inbound(text="Water pouring in")),
    ),
    "edited message": (
        message(5, key="edited_message", text="It is the back bedroom", edit_date=DATE + 30),
        Translated(inbound=inbound(5, text=EDITED_PREFIX + "It is the back bedroom")),
    ),
    "live location moving (an edit)": (
        message(
            key="edited_message",
            edit_date=DATE + 30,
            location={"latitude": 51.5, "longitude": -0.12, "live_period": 900},
        ),
        NOTHING,
    ),
    "group message": (message(chat=GROUP, text="C-7K3P-9QX2 done"), NOTHING),
    "basic group message": (
        message(chat={"id": -4_000_123, "type": "group", "title": "Team"}, text="hi"),
        NOTHING,
    ),
    "the bot's own message": (message(sender=BOT, text="Hello"), NOTHING),
    "missing from": (
        Update.model_validate(
            {
                "update_id": 1,
                "message": {"message_id": 42, "date": DATE, "chat": PRIVATE, "text": "hello"},
            }
        ),
        Translated(inbound=inbound(text="hello", sender_name=None)),
    ),
    "only a first name": (
        message(sender={"id": RESIDENT, "is_bot": False, "first_name": "Asha"}, text="hi"),
        Translated(inbound=inbound(text="hi", sender_name="Asha")),
    ),
    "service message": (message(write_access_allowed={"from_request": True}), NOTHING),
    "empty text": (message(text=""), NOTHING),
    "channel post": (
        Update.model_validate(
            {
                "update_id": 3,
                "channel_post": {
                    "message_id": 7,
                    "date": DATE,
                    "chat": {"id": -1_009_876_543_210, "type": "channel", "title": "News"},
                    "sender_chat": {"id": -1_009_876_543_210, "type": "channel", "title": "News"},
                    "text": "Office closed on Monday",
                },
            }
        ),
        NOTHING,
    ),
    "my_chat_member (the resident blocked the bot)": (
        Update.model_validate(
            {
                "update_id": 4,
                "my_chat_member": {
                    "chat": PRIVATE,
                    "from": USER,
                    "date": DATE,
                    "old_chat_member": {"user": BOT, "status": "member"},
                    "new_chat_member": {"user": BOT, "status": "kicked", "until_date": 0},
                },
            }
        ),
        NOTHING,
    ),
    "no content at all": (Update.model_validate({"update_id": 6}), NOTHING),
}


@pytest.mark.parametrize(("update", "expected"), CASES.values(), ids=CASES.keys())
def test_translate(update: Update, expected: Translated) -> None:
    assert translate(update, received_at=NOW) == expected


def test_a_smaller_file_limit_applies() -> None:
    translated = translate(
        message(voice=VOICE, caption="Listen"), received_at=NOW, max_file_bytes=1_000
    )
    assert translated.inbound == inbound(text="Listen")
    assert translated.reply == WORDING["too_large_with_text"]
    assert translated.file_ids == ()


def test_a_file_of_unknown_size_is_attached() -> None:
    voice = {key: value for key, value in VOICE.items() if key != "file_size"}
    translated = translate(message(voice=voice), received_at=NOW, max_file_bytes=1)
    assert translated.file_ids == ("AwAC-voice",)


def test_huge_text_is_cut_not_refused() -> None:
    translated = translate(message(text="damp " * 10_000), received_at=NOW)
    assert translated.inbound is not None
    assert len(translated.inbound.text) == MAX_TEXT_LENGTH


def test_an_edit_is_a_new_event_not_the_original() -> None:
    original = translate(message(5, text="front bedroom"), received_at=NOW)
    edit = translate(message(6, key="edited_message", text="back bedroom"), received_at=NOW)
    assert original.inbound is not None
    assert edit.inbound is not None
    assert original.inbound.message_id != edit.inbound.message_id


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        translate(message(text="hi"), received_at=datetime(2025, 3, 4, 9, 30))  # noqa: DTZ001


def test_the_wording_is_plain_and_points_to_email() -> None:
    assert "email" in WORDING["too_large"]
    assert "recorded" in WORDING["too_large_with_text"]
    assert all("<" not in line and len(line) < 200 for line in WORDING.values())
