"""Scripted dialogues, one row per flow: what the resident says (or presses, written ``[label]``)
and words the bot's answer must contain. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conversations.conftest import Chat

Step = tuple[str, tuple[str, ...]]

COMPLAIN = [
    ("I want to make a complaint", ("what went wrong",)),
    ("The boiler repair was cancelled three times", ("Where did this happen",)),
    ("Flat 2, Rowan Court", ("When did this start",)),
    ("about 3 weeks ago", ("put things right",)),
    ("Fix the boiler", ("for yourself, or for someone else",)),
    ("[For myself]", ("support",)),
    ("[Nothing needed]", ("Here is what I understood", "Fix the boiler")),
    ("[Yes, that's right]", ("Your reference is C-", "Monday 11 January 2027", "Ombudsman")),
]

DIALOGUES: dict[str, list[Step]] = {
    "1 start and help (CHC-3.7)": [
        ("hi", ("complaints assistant", "Housing Ombudsman", "0300 111 3000")),
    ],
    "2 problem report becomes a repair (CHC-1.4)": [
        ("the bathroom extractor fan is broken", ("arrange a repair",)),
        ("[Report a repair]", ("Where is the repair needed",)),
        ("8 Holly Lane", ("Your reference is R-", "not a complaint")),
    ],
    "2 dissatisfaction is offered a complaint (CHC-1.3)": [
        ("third time I've reported this and nobody came", ("make a complaint about it",)),
        ("[Yes, make a complaint]", ("Where did this happen",)),
    ],
    "2 dissatisfaction with a repair's handling is a complaint (CHC-1.5)": [
        ("I reported my boiler last month and nobody has come", ("make a complaint",)),
    ],
    "3-5 capture, read back, log and acknowledge (CHC-5.6, 6.2)": COMPLAIN,
    "4 change one part of the read-back": [
        *COMPLAIN[:-1],
        ("[Change something]", ("Which part",)),
        ("[What I would like]", ("put things right",)),
        ("An apology", ("Here is what I understood", "An apology", "cancelled three times")),
    ],
    "7 urgent hazard first (Awaab's Law)": [
        ("there are sparks coming out of the socket", ("emergency", "24 hours")),
        ("[Make a complaint]", ("Where did this happen",)),
    ],
    "8 track": [
        *COMPLAIN,
        ("any update?", ("stage 1", "Monday 11 January 2027")),
    ],
    "9 add information": [
        *COMPLAIN,
        ("I've found the letters where they promised to come", ("more information",)),
        ("[More about]", ("added this to your complaint",)),
    ],
    "10 escalation before a response is explained": [
        *COMPLAIN,
        ("I want to escalate", ("once you have our stage 1 response",)),
    ],
    "11 a person": [
        ("I'd like to speak to someone", ("contact you", "Thursday 24 December 2026")),
    ],
    "12 withdraw": [
        *COMPLAIN,
        ("please withdraw my complaint", ("withdraw complaint C-",)),
        ("[Yes, withdraw it]", ("has been withdrawn",)),
    ],
    "12 cancel and start again": [
        ("I want to make a complaint", ("what went wrong",)),
        ("start over", ("start again",)),
        ("[Yes, start again]", ("cleared",)),
    ],
    "13 abuse gets a boundary (CHC-5.14)": [
        ("f*** you, fix my heating", ("respect",)),
    ],
}


@pytest.mark.parametrize("name", list(DIALOGUES))
async def test_dialogue(chat: Callable[..., Chat], name: str) -> None:
    resident = chat()
    for number, (said, expected) in enumerate(DIALOGUES[name], start=1):
        if said.startswith("[") and said.endswith("]"):
            answer = await resident.pick(said[1:-1])
        else:
            answer = await resident.say(said)
        for words in expected:
            assert words.lower() in answer.lower(), (
                f"{name}, step {number} ({said!r}): expected {words!r} in:\n{answer}"
            )
