"""Letters to residents: each renders with every field filled and states what the Code requires.

One row per letter: the context that fills every field, and the phrases and dates that must be
in it, each traced to its rule. Templates render with ``StrictUndefined``, so a field missing
from the context is an error, never a blank.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from jinja2 import UndefinedError

from conversations.wording import DEFAULT_DIRECTORY, Wording
from core.clock import LONDON
from core.complaints.enums import Stage, Status
from core.complaints.models import Complaint, Element, Representative, StageRecord
from core.settings import LandlordSettings, OmbudsmanSettings

RECEIVED = datetime(2026, 12, 23, 10, 0, tzinfo=LONDON)
OMBUDSMAN = OmbudsmanSettings(email="cases@ombudsman.example")
OMBUDSMAN_CONTACT = [
    "Housing Ombudsman Service",
    "0300 111 3000",
    "www.housing-ombudsman.org.uk",
    "https://www.housing-ombudsman.org.uk/residents/make-a-complaint/",
    "PO Box 1484, Unit D, Preston, PR2 0ET",
    "cases@ombudsman.example",
]
"""CHC-6.5, 6.16, 6.19, 2.4: the Ombudsman's full contact details."""
OMBUDSMAN_ADVICE = ["Housing Ombudsman Service", "0300 111 3000", "www.housing-ombudsman.org.uk"]
"""CHC-3.7: the Ombudsman can advise at any time (short form)."""
DEFINITION = [
    "1. The boiler repair was missed three times",
    "2. Nobody called back",
    "You would like: Fix the boiler; An apology",
]
"""CHC-5.6: the complaint definition and the outcomes sought."""

COMPLAINT = Complaint(
    id=1,
    reference="C-7K3Q-9XF4",
    resident_id=1,
    representative=Representative(name="Jo", relationship="daughter", contact="jo@x.example"),
    channel="telegram",
    received_at=RECEIVED,
    received_on=RECEIVED.date(),
    stage=Stage.TWO,
    status=Status.ESCALATION_ACKNOWLEDGED,
    outcomes_sought=("Fix the boiler", "An apology"),
    escalation_reason="Still no heating",
    stage1=StageRecord(handler="officer-1", response_due_on=date(2027, 1, 11)),
    stage2=StageRecord(handler="officer-2", response_due_on=date(2027, 2, 8)),
    elements=(
        Element(
            id=1, position=1, text="The boiler repair was missed three times", added_at=RECEIVED
        ),
        Element(id=2, position=2, text="Nobody called back", added_at=RECEIVED),
    ),
)
STAGE1 = COMPLAINT.model_copy(update={"stage": Stage.ONE, "status": Status.RESPONDED})
REMEDY = {
    "type": "A payment",
    "description": "Compensation for the heaters",
    "due_on": date(2027, 1, 15),
    "amount": "£125.00",
}
DECIDED: dict[str, Any] = {
    "decisions": [
        {
            "position": 1,
            "text": "The boiler repair was missed three times",
            "outcome": "upheld",
            "reasons": "Our records show three missed visits",
        },
        {
            "position": 2,
            "text": "Nobody called back",
            "outcome": "not upheld",
            "reasons": "We called on 24 December",
        },
    ],
    "remedies": [REMEDY],
    "actions": [{"description": "Replace the boiler", "due_on": date(2027, 2, 1)}],
    "summary": "Thank you for your patience.",
}
DECISION_PARTS = [
    "Decision: upheld.",
    "Why: Our records show three missed visits",
    "Decision: not upheld.",
    "Why: We called on 24 December",
    "A payment: Compensation for the heaters (£125.00), by Friday 15 January 2027",
    "Replace the boiler, by Monday 1 February 2027",
    "Thank you for your patience.",
]
"""CHC-6.9 / 6.19: decision, reasons, remedy, outstanding actions."""

LETTERS: dict[str, tuple[Complaint, dict[str, Any], list[str]]] = {
    "acknowledgement": (
        STAGE1,
        {"response_due": date(2027, 1, 11), "missing": ["where this happened"]},
        [
            "C-7K3Q-9XF4",
            "stage 1",  # CHC-6.2
            *DEFINITION,
            "Monday 11 January 2027",  # CHC-6.3
            "where this happened",
            "You don't have to give a reason",  # CHC-6.12
            *OMBUDSMAN_ADVICE,  # CHC-3.7
        ],
    ),
    "letter_stage1_response": (
        STAGE1,
        {"sent_on": date(2027, 1, 7), **DECIDED},
        [
            "stage 1",  # CHC-6.9: the stage
            "Thursday 7 January 2027",
            *DEFINITION,
            *DECISION_PARTS,
            "ask for your complaint to go to stage 2",  # CHC-6.9: how to escalate
            "You don't have to give a reason",  # CHC-6.12
            "someone who did not deal with stage 1",  # CHC-6.13
            *OMBUDSMAN_ADVICE,
        ],
    ),
    "letter_extension": (
        STAGE1,
        {
            "stage": 1,
            "reason": "We are waiting for a surveyor",
            "good_reason": "The resident asked us to wait",
            "previous_due": date(2027, 1, 11),
            "new_due": date(2027, 1, 18),
        },
        [
            "stage 1",
            "We are waiting for a surveyor",  # CHC-6.4: the reason
            "The resident asked us to wait",
            "Monday 11 January 2027",
            "Monday 18 January 2027",  # CHC-6.4: the new date
            *OMBUDSMAN_CONTACT,  # CHC-6.5, CHC-6.16
        ],
    ),
    "letter_escalation_requested": (
        COMPLAINT,
        {"requested_on": date(2027, 1, 6), "acknowledge_due": date(2027, 1, 13)},
        [
            "stage 2",
            "Wednesday 6 January 2027",
            "Wednesday 13 January 2027",  # CHC-6.11
            "You don't have to give a reason",  # CHC-6.12
            *OMBUDSMAN_ADVICE,
        ],
    ),
    "letter_escalation_acknowledged": (
        COMPLAINT,
        {"acknowledged_on": date(2027, 1, 8), "response_due": date(2027, 2, 5)},
        [
            "stage 2",
            "Friday 8 January 2027",  # CHC-6.11
            *DEFINITION,  # CHC-5.6 at stage 2
            "Still no heating",
            "please reply and tell us",  # CHC-5.6: clarification
            "Friday 5 February 2027",  # CHC-6.14
            "did not deal with it at stage 1",  # CHC-6.13
            *OMBUDSMAN_ADVICE,
        ],
    ),
    "letter_final_response": (
        COMPLAINT,
        {"sent_on": date(2027, 2, 3), **DECIDED},
        [
            "stage 2",  # CHC-6.19: the stage
            "It is our final response",  # CHC-6.19
            "no further stage",  # CHC-6.20
            "Wednesday 3 February 2027",
            *DEFINITION,
            "Still no heating",
            *DECISION_PARTS,
            "refer your complaint to the Housing Ombudsman",  # CHC-6.19
            "You can go to them directly",  # since 1 October 2022
            *OMBUDSMAN_CONTACT,
        ],
    ),
    "letter_refused": (
        STAGE1,
        {"reason": "This happened in 2024", "decided_on": date(2026, 12, 24)},
        [
            "not to accept your complaint",
            "This happened in 2024",  # CHC-2.4: the reasons
            "Thursday 24 December 2026",
            "right to ask the Housing Ombudsman",  # CHC-2.4
            *OMBUDSMAN_CONTACT,
        ],
    ),
    "letter_escalation_refused": (
        COMPLAINT,
        {"reason": "Court proceedings have started", "decided_on": date(2027, 1, 7)},
        [
            "not to take your complaint C-7K3Q-9XF4 to stage 2",
            "Court proceedings have started",  # CHC-2.4
            "Thursday 7 January 2027",
            "right to ask the Housing Ombudsman",
            *OMBUDSMAN_CONTACT,
        ],
    ),
    "letter_remedy_offered": (
        STAGE1,
        {"remedy": REMEDY},
        [
            "A payment: Compensation for the heaters (£125.00)",  # CHC-7.3: what
            "Friday 15 January 2027",  # CHC-7.3: by when
            "tell you when it is done",
        ],
    ),
    "letter_remedy_done": (
        STAGE1,
        {
            "remedy": REMEDY,
            "done_on": date(2027, 1, 14),
            "remaining": [{"description": "Replace the boiler", "due_on": date(2027, 2, 1)}],
        },
        [
            "is done",  # CHC-7.3: the resident hears when it is done
            "Compensation for the heaters",
            "Thursday 14 January 2027",
            "Replace the boiler, by Monday 1 February 2027",  # CHC-6.6
        ],
    ),
    "letter_action_added": (
        STAGE1,
        {"action": {"description": "Replace the boiler", "due_on": date(2027, 2, 1)}},
        ["Replace the boiler, by Monday 1 February 2027", "tell you when it is done"],  # CHC-6.6
    ),
    "letter_action_done": (
        STAGE1,
        {
            "action": {"description": "Replace the boiler", "due_on": date(2027, 2, 1)},
            "done_on": date(2027, 1, 28),
            "remaining": [{"description": "Repay the heaters", "due_on": None}],
        },
        ["is done", "Replace the boiler", "Thursday 28 January 2027", "Repay the heaters"],
    ),
    "letter_closed": (
        COMPLAINT,
        {
            "closed_on": date(2027, 2, 10),
            "remaining": [{"description": "Replace the boiler", "due_on": date(2027, 2, 1)}],
        },
        [
            "closed",
            "Wednesday 10 February 2027",
            "Replace the boiler, by Monday 1 February 2027",
            "refer your complaint to the Housing Ombudsman directly",
            *OMBUDSMAN_CONTACT,
        ],
    ),
    "letter_withdrawn": (
        STAGE1,
        {"withdrawn_on": date(2026, 12, 24)},
        [
            "withdrawn your complaint C-7K3Q-9XF4",
            "Thursday 24 December 2026",
            "make a new complaint",
            *OMBUDSMAN_ADVICE,
        ],
    ),
    "letter_restricted": (
        STAGE1,
        {
            "set_on": date(2026, 12, 24),
            "description": "We will only be in contact with you by email.",
            "channels": ["email"],
            "reason": "Repeated abusive messages",
            "review_on": date(2027, 3, 1),
        },
        [
            "Thursday 24 December 2026",
            "We will only be in contact with you by email.",  # CHC-5.14: what
            "Repeated abusive messages",  # CHC-5.14: why
            "Monday 1 March 2027",  # CHC-5.14: reviewed
            "does not stop you from making or following a complaint",  # CHC-5.14
            "C-7K3Q-9XF4",
        ],
    ),
    "letter_unrestricted": (
        STAGE1,
        {"lifted_on": date(2027, 3, 1)},
        ["lifted", "Monday 1 March 2027"],
    ),
    "letter_adjustments": (
        STAGE1,
        {"recorded": ["Large print", "Contact by email"]},
        ["Large print", "Contact by email", "C-7K3Q-9XF4"],  # CHC-5.10
    ),
    "from_complaints_team": (
        STAGE1,
        {"text": "An engineer is booked for Monday."},
        ["C-7K3Q-9XF4", "An engineer is booked for Monday."],
    ),
}


@pytest.fixture
def words() -> Wording:
    return Wording(landlord=LandlordSettings(name="Riverside Homes"), ombudsman=OMBUDSMAN)


def render(words: Wording, name: str, complaint: Complaint, context: dict[str, Any]) -> str:
    return words.render(name, complaint=complaint, reference=complaint.reference, **context)


@pytest.mark.parametrize("name", sorted(LETTERS))
def test_every_letter_renders_with_its_required_parts(words: Wording, name: str) -> None:
    complaint, context, required = LETTERS[name]
    text = render(words, name, complaint, context)
    missing = [part for part in required if part not in text]
    assert not missing, f"{name} lacks {missing}:\n{text}"
    assert "\n\n\n" not in text
    assert "officer-" not in text  # 2020 CHC-3.17: no staff names


@pytest.mark.parametrize("name", sorted(n for n in LETTERS if LETTERS[n][1]))
def test_every_field_of_a_letter_is_needed(words: Wording, name: str) -> None:
    # StrictUndefined: leaving out any field is an error, never a silent blank.
    complaint, context, _ = LETTERS[name]
    for field in context:
        if field == "summary":
            continue  # optional by design: used only when given
        partial = {k: v for k, v in context.items() if k != field}
        # A date passed to long_date fails as a TypeError; anything else as UndefinedError.
        with pytest.raises((UndefinedError, TypeError)):
            render(words, name, complaint, partial)


def test_every_letter_template_is_in_the_table() -> None:
    letters = {p.stem for p in DEFAULT_DIRECTORY.glob("letter_*.txt")}
    partials = {"letter_ombudsman_contact", "letter_definition", "letter_decisions"}
    assert letters - partials <= set(LETTERS)


def test_every_letter_has_a_subject_of_its_own(words: Wording) -> None:
    """Each letter says what it is in the subject; email puts the reference in front."""
    subjects = words.labels("subject")
    for name in LETTERS:
        subject = subjects.get(name, subjects["default"]).format(reference="C-7K3Q-9XF4")
        assert subject and subject != subjects["default"], name


def test_closing_at_stage_1_keeps_the_way_to_stage_2_open(words: Wording) -> None:
    # CHC-6.10: a request after a stage 1 close is still considered.
    text = render(words, "letter_closed", STAGE1, {"closed_on": date(2027, 2, 10), "remaining": []})
    assert "ask for your complaint to go to stage 2" in text
    assert "You don't have to give a reason" in text
    assert "still to do" not in text.lower() and "We will still do" not in text


def test_a_response_without_remedies_or_actions_says_so(words: Wording) -> None:
    # CHC-6.9: "any remedy; any outstanding actions" — stated either way.
    context = {
        **DECIDED,
        "remedies": [],
        "actions": [],
        "summary": None,
        "sent_on": date(2027, 1, 7),
    }
    text = render(words, "letter_stage1_response", STAGE1, context)
    assert "not offering a remedy" in text
    assert "nothing still to be done" in text


def test_an_extension_within_the_limit_gives_no_good_reason_line(words: Wording) -> None:
    _, context, _ = LETTERS["letter_extension"]
    text = render(words, "letter_extension", STAGE1, {**context, "good_reason": None})
    assert "longer than our usual extension" not in text
