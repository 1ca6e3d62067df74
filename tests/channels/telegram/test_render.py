"""Rendering outbound messages for Telegram: escaping, splitting, keyboards, callback data."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.telegram.render import (
    CALLBACK_DATA_LIMIT,
    CHOOSE_TEXT,
    TELEGRAM_TEXT_LIMIT,
    URGENT_MARKER,
    RenderedPart,
    choice_callback_data,
    escape,
    match_callback,
    render,
    split_text,
)
from conversations.envelopes import Choice, OutboundKind, OutboundMessage

REFERENCE = "C-7K3P-9QX2"
OPTIONS = (Choice(id="confirm", label="Yes, that's right"), Choice(id="cancel", label="Cancel"))


def message(text: str, **fields: object) -> OutboundMessage:
    return OutboundMessage.model_validate(
        {"channel": "telegram", "recipient": "1111111", "text": text, **fields}
    )


def non_space(text: str) -> str:
    return "".join(char for char in text if not char.isspace())


def paragraphs_text(count: int, length: int) -> tuple[list[str], str]:
    paragraphs = [
        (f"Paragraph {n} says the damp came back. " * length)[:length].strip() for n in range(count)
    ]
    return paragraphs, "\n\n".join(paragraphs)


# ---------------------------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    ("typed", "escaped"),
    [
        ("<b>not bold</b>", "&lt;b&gt;not bold&lt;/b&gt;"),
        ("</code>", "&lt;/code&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("&amp;", "&amp;amp;"),
        ("<script>alert('x')</script>", "&lt;script&gt;alert('x')&lt;/script&gt;"),
        ('He said "fix it"', 'He said "fix it"'),
        (
            '<a href="https://evil.example">link</a>',
            '&lt;a href="https://evil.example"&gt;link&lt;/a&gt;',
        ),
    ],
)
def test_escape(typed: str, escaped: str) -> None:
    assert escape(typed) == escaped
    assert render(message(typed)) == [RenderedPart(text=escaped, reply_markup=None)]


def test_urgent_marker_is_our_markup_and_the_text_is_escaped() -> None:
    (part,) = render(
        message(
            "Gas smell at <flat 3> & no answer",
            kind=OutboundKind.STAFF_NOTICE,
            recipient="staff",
            urgent=True,
        )
    )
    assert part.text == "<b>URGENT</b>\nGas smell at &lt;flat 3&gt; &amp; no answer"


def test_the_reference_is_bold_on_an_acknowledgement() -> None:
    (part,) = render(
        message(
            f"Your reference is {REFERENCE}. Keep it <safe> & sound.",
            kind=OutboundKind.ACKNOWLEDGEMENT,
            reference=REFERENCE,
        )
    )
    assert part.text == (f"Your reference is <b>{REFERENCE}</b>. Keep it &lt;safe&gt; &amp; sound.")


def test_a_reference_with_markup_characters_is_escaped_inside_the_bold() -> None:
    (part,) = render(message("Case <A&B> logged.", reference="<A&B>"))
    assert part.text == "Case <b>&lt;A&amp;B&gt;</b> logged."


def test_large_print_changes_nothing() -> None:
    text = "Your complaint is logged."
    assert render(message(text, large_print=True)) == render(message(text))


# ---------------------------------------------------------------------------------- keyboards


def test_choices_become_one_button_per_row() -> None:
    (part,) = render(message("Is that right?", choices=OPTIONS))
    assert part.reply_markup is not None
    rows = part.reply_markup.inline_keyboard
    assert [[(b.text, b.callback_data) for b in row] for row in rows] == [
        [("Yes, that's right", "confirm")],
        [("Cancel", "cancel")],
    ]


def test_no_choices_no_keyboard() -> None:
    (part,) = render(message("Thank you."))
    assert part.reply_markup is None


def test_choices_without_text_still_get_a_message() -> None:
    (part,) = render(message("  ", choices=OPTIONS))
    assert part.text == CHOOSE_TEXT
    assert part.reply_markup is not None


def test_nothing_to_say_renders_nothing() -> None:
    assert render(message(" \n ")) == []


# ---------------------------------------------------------------------------------- splitting


def test_a_long_message_splits_at_paragraphs_with_the_keyboard_on_the_last_part() -> None:
    paragraphs, text = paragraphs_text(20, 499)
    assert len(text) > 10_000
    parts = render(message(text, choices=OPTIONS))
    assert len(parts) == 3
    assert all(len(p.text) <= TELEGRAM_TEXT_LIMIT for p in parts)
    assert [p.reply_markup is None for p in parts] == [True, True, False]
    # Each part is whole paragraphs, and together they are all the paragraphs, in order.
    rejoined = [paragraph for p in parts for paragraph in p.text.split("\n\n")]
    assert rejoined == paragraphs


def test_split_prefers_a_blank_line_then_a_line_then_a_sentence_then_a_space() -> None:
    assert split_text("aaaa bbbb\ncccc\n\ndddd", limit=18) == ["aaaa bbbb\ncccc", "dddd"]
    assert split_text("aaaa bbbb\ncccc dddd", limit=16) == ["aaaa bbbb", "cccc dddd"]
    assert split_text("Aaa bbb. Ccc ddd eee", limit=16) == ["Aaa bbb.", "Ccc ddd eee"]
    assert split_text("aaa bbb ccc ddd", limit=10) == ["aaa bbb", "ccc ddd"]


def test_a_blank_line_wins_even_when_a_later_line_break_fits() -> None:
    assert split_text("aaa\n\nbbb\nccc\nddddddddd", limit=14) == ["aaa", "bbb\nccc", "ddddddddd"]


def test_a_long_word_with_no_spaces_is_cut_hard() -> None:
    word = "x" * 10_000
    parts = split_text(word)
    assert [len(p) for p in parts] == [4096, 4096, 1808]
    assert "".join(parts) == word


def test_the_limit_counts_the_escaped_text() -> None:
    parts = split_text("&" * 2_000)
    assert all(len(escape(p)) <= TELEGRAM_TEXT_LIMIT for p in parts)
    assert [len(p) for p in parts] == [819, 819, 362]  # 819 * len("&amp;") = 4095


def test_an_emoji_counts_two_as_telegram_counts() -> None:
    parts = split_text("\N{HOUSE BUILDING}" * 3_000)
    assert [len(p) for p in parts] == [2048, 952]


def test_an_urgent_long_message_still_fits() -> None:
    text = "<&> " * 3_000
    parts = render(message(text, urgent=True, recipient="staff", kind=OutboundKind.STAFF_NOTICE))
    assert parts[0].text.startswith(URGENT_MARKER)
    assert not any(p.text.startswith(URGENT_MARKER) for p in parts[1:])
    assert all(len(p.text) <= TELEGRAM_TEXT_LIMIT for p in parts)


def test_a_bold_reference_that_would_not_fit_is_left_plain() -> None:
    text = (REFERENCE + " ") * 800  # 9,600 characters; bold would add 7 characters each
    parts = render(message(text, reference=REFERENCE))
    assert len(parts) > 1
    assert all(len(p.text) <= TELEGRAM_TEXT_LIMIT for p in parts)
    assert non_space("".join(re.sub("</?b>", "", p.text) for p in parts)) == non_space(text)


def test_empty_text_has_no_parts() -> None:
    assert split_text("") == []
    assert split_text("\n\n  \t") == []


def test_a_limit_too_small_for_an_escaped_ampersand_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 5"):
        split_text("a & b", limit=4)


@settings(max_examples=300)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab.&<> \n\t")) | st.characters(), max_size=400),
    limit=st.integers(min_value=5, max_value=60),
)
def test_splitting_keeps_every_character_and_fits(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    assert non_space("".join(parts)) == non_space(text)
    for part in parts:
        assert part
        assert part == part.strip()
        assert len(escape(part)) <= limit


@settings(max_examples=20, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab.&<> \n")), min_size=4_000, max_size=12_000))
def test_rendered_parts_never_exceed_the_telegram_limit(text: str) -> None:
    parts = render(message(text, urgent=True, choices=OPTIONS))
    visible = "".join(re.sub("</?b>", "", p.text) for p in parts)
    assert non_space(visible) == "URGENT" + non_space(escape(text) if text.strip() else CHOOSE_TEXT)
    assert all(len(p.text) <= TELEGRAM_TEXT_LIMIT for p in parts)
    assert [p.reply_markup is not None for p in parts] == [False] * (len(parts) - 1) + [True]


# ---------------------------------------------------------------------------------- callbacks


@pytest.mark.parametrize(
    "choice_id",
    ["confirm", f"complaint:{REFERENCE}", "x" * CALLBACK_DATA_LIMIT, "é" * 32],
)
def test_an_id_that_fits_is_its_own_callback_data(choice_id: str) -> None:
    assert choice_callback_data(choice_id) == choice_id


@pytest.mark.parametrize(
    "choice_id",
    ["x" * (CALLBACK_DATA_LIMIT + 1), "é" * 33, "", "h:looks-hashed", f"remedy:{'£' * 40}"],
)
def test_a_long_id_is_hashed_and_resolved(choice_id: str) -> None:
    data = choice_callback_data(choice_id)
    assert data.startswith("h:")
    assert len(data.encode()) <= CALLBACK_DATA_LIMIT
    assert choice_callback_data(choice_id) == data  # stable
    wanted = Choice(id=choice_id, label="Long")
    assert match_callback(data, (*OPTIONS, wanted)) == wanted


def test_keyboard_buttons_carry_resolvable_callback_data() -> None:
    long = Choice(id="remedy:" + "goodwill-payment-for-time-and-trouble-" * 3, label="Accept")
    (part,) = render(message("Do you accept?", choices=(*OPTIONS, long)))
    assert part.reply_markup is not None
    data = part.reply_markup.inline_keyboard[-1][0].callback_data
    assert data is not None
    assert len(data.encode()) <= CALLBACK_DATA_LIMIT
    assert match_callback(data, (*OPTIONS, long)) == long


def test_unknown_callback_data_matches_nothing() -> None:
    assert match_callback("h:" + "0" * 40, OPTIONS) is None
    assert match_callback("withdraw", OPTIONS) is None


@given(choice_id=st.text(), others=st.lists(st.text(), max_size=5))
def test_callback_data_always_fits_and_resolves(choice_id: str, others: list[str]) -> None:
    data = choice_callback_data(choice_id)
    assert 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT
    wanted = Choice(id=choice_id, label="Wanted")
    choices = [wanted, *(Choice(id=o, label="Other") for o in others if o != choice_id)]
    assert match_callback(data, choices) == wanted
