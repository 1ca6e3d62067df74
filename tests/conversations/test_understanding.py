"""Tables of real-world phrasings for the rules that read residents' messages.

Each row is something a resident might really type, typos, capitals and text-speak included.
Where a phrasing could be read two ways, the row takes the reading a complaints officer would
and a comment says why. Rows that depend on the Complaint Handling Code cite it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.understanding import (
    Hazard,
    Intent,
    SinceWhen,
    classify,
    detect_hazards,
    extract_location,
    extract_outcome,
    is_abusive,
    is_auto_reply,
    is_life_threatening,
    is_vulnerable_household,
    looks_like_outcome,
    parse_since,
    shows_distress,
    split_points,
)

D = Intent.DISSATISFACTION
P = Intent.PROBLEM_REPORT

# ================================================================== classify

CLASSIFY = [
    # --- CHC-1.2/1.3: dissatisfaction, whether or not the word "complaint" is used ---
    # CHC-1.5: dissatisfaction with the handling of a service request is a complaint.
    ("the repair man never came, third time I've reported this", D),
    ("I reported my boiler last month and nobody has come", D),
    ("Ive been waiting 6 weeks for someone to fix my window", D),
    ("my bolier has been broken for 3 weeks and no one has been out", D),
    ("the engineer said he would come back and never did", D),
    ("I took a day off work and the plumber didnt turn up", D),
    ("i waited in all day and nobody showed", D),
    ("still waiting for the damp to be sorted, its been months", D),
    ("this is the 4th time ive reported the leak in my kitchin", D),
    ("NOBODY HAS BEEN TO FIX MY HEATING", D),
    ("the tap is still leaking after your plumber came", D),
    ("they cancelled my appointment again", D),
    ("the mould came back a week after they painted over it", D),
    # A fault that keeps coming back means the repairs are not holding (CHC-1.2), though it
    # could be read as a plain repair; offering the complaint is the safer reading (CHC-1.3).
    ("my boiler keeps breaking down", D),
    ("boiler broken again!!! disgusting service", D),
    ("this is the third time the toilet has broken this year", D),
    # CHC-1.2: "those acting for it" - contractors and staff.
    ("your contractor was rude", D),
    ("The housing officer hung up on me", D),
    ("the way your staff spoke to me was unacceptable", D),
    ("your staff were out of order", D),
    ("ur contractors made the leak worse", D),
    ("the workmen left a right mess in my hallway", D),
    ("the contractor damaged my flooring", D),
    ("my front door was left insecure by your workmen", D),
    ("The contractor turned up 3 hours late and then left without doing anything", D),
    ("where's the engineer, he was meant to be here at 9", D),
    ("the window was supposed to be replaced in june", D),
    ("why is it taking so long to fix my roof", D),
    ("The bins havent been collected for weeks", D),
    ("this is the worst landlord ive ever had", D),
    (
        "Dear Sir/Madam, I am writing regarding the ongoing damp problem in my flat which I "
        "first reported in January. Despite several visits nothing has been done.",
        D,
    ),
    ("you lot are useless", D),
    ("absolutely disgraceful how long this is taking", D),
    ("I am so fed up with how my repair has been handled", D),
    ("i have been let down again and again", D),
    # Communication (CHC-5.9: keep residents updated).
    ("nobody ever calls me back", D),
    ("U NEVER CALL ME BACK", D),
    ("you promised to call me back and didnt", D),  # not a request to be called
    ("i rang 5 times and noone got back to me", D),
    ("I have recieved no response to my emails", D),
    ("Why does nobody ever answer the phone", D),
    ("I have been trying to get hold of someone for days", D),
    ("I was promised a call back last week", D),
    ("i keep being passed from pillar to post", D),
    ("been on hold for an hour this is ridiculous", D),
    # CHC-1.5: a response to a *repair* is not a complaint response, so not an escalation.
    ("not happy with the response to my repair request", D),
    # Asking for an update while saying how long they have waited: the offer of a complaint
    # must be made (CHC-1.3); the engine can show the status alongside.
    ("any update? been waiting 6 weeks", D),
    ("no, nobody has come out yet", D),  # starts like a "no", but says much more
    # Going to the Ombudsman is dissatisfaction; a complaint is offered first (CHC-1.3).
    ("I'm taking this to the ombudsman", D),
    # --- CHC-1.4: only reports a problem; the resident chooses repair or complaint ---
    ("my kitchen tap is leaking", P),
    ("there's mould in the bathroom", P),
    ("my kitchin sink is blocked", P),
    ("bolier not working", P),
    ("the front door lock is broken", P),
    ("no hot water since this morning", P),
    ("water coming through the ceiling from the flat above", P),
    ("toilet wont flush", P),
    ("the window in my sons bedroom wont close", P),
    ("radiators are cold", P),
    ("can you send someone to fix my shower", P),
    ("I need to report a repair", P),
    ("there are mice in the kitchen", P),
    ("damp patches on the bedroom wall", P),
    ("theres a leek under the sink", P),
    ("the lights keep flickering", P),  # a fault's symptom, not a repair that failed
    ("extractor fan in the bathroom has stopped working", P),
    ("gutter hanging off at the back", P),
    ("my neighbour's water is coming through my ceiling", P),
    ("the smoke alarm keeps beeping", P),
    ("there's a bad smell coming from the drains", P),
    ("there is a big hole in the kitchen ceiling", P),
    ("is it possible to get the garden fence fixed", P),
    ("Good afternoon, I would like to report a broken window", P),
    ("the lift is out of order", P),  # a fault in a lift, not a judgement of a person
    ("the heating did not come on this morning", P),
    ("SMELL GAS IN MY FLAT", P),
    ("there's a crack in the wall thats getting bigger", P),
    ("no heating and i have a newborn baby", P),
    ("hi, my kitchen tap is leaking", P),  # a polite start is not a greeting
    ("help my ceiling has collapsed", P),  # "help" in a message, not a request for the menu
    # Says it is not a complaint: a service request (CHC-1.4), still offered the choice.
    ("i dont want to make a complaint i just want my tap fixed", P),
    # --- saying "complain" outright ---
    ("I want to complain about the repair", Intent.COMPLAINT),
    ("i want to make a complant", Intent.COMPLAINT),
    ("i want to make a compliant", Intent.COMPLAINT),
    ("how do i make a formal complaint", Intent.COMPLAINT),
    ("I'd like to raise a complaint about my housing officer", Intent.COMPLAINT),
    ("COMPLAINT", Intent.COMPLAINT),
    ("i wish to lodge a complaint", Intent.COMPLAINT),
    ("this is a complaint about the damp in my flat", Intent.COMPLAINT),
    ("hello I want to complain", Intent.COMPLAINT),
    ("complaints procedure please", Intent.COMPLAINT),
    # Saying "complain" outranks the dissatisfaction that comes with it.
    ("I want to complain, the repair man was rude and never came back", Intent.COMPLAINT),
    # --- status ---
    ("any news on my complaint?", Intent.STATUS),
    ("C-7K3Q-9XF4", Intent.STATUS),
    ("r 7k3q 9xf4", Intent.STATUS),
    ("status", Intent.STATUS),
    ("any update?", Intent.STATUS),
    ("where is my complaint", Intent.STATUS),
    ("whats happening with C-7K3Q-9XF4", Intent.STATUS),
    ("has there been any progress on my complaint", Intent.STATUS),
    ("when will i get a response to my complaint", Intent.STATUS),
    ("any joy with my complaint", Intent.STATUS),
    ("did you get my email", Intent.STATUS),
    ("can I have an update on C7K3Q9XF4 please", Intent.STATUS),
    ("Please can you update me on my complaint", Intent.STATUS),
    ("what happened to my complaint", Intent.STATUS),
    ("what's the status of R-4M2N-8PQA", Intent.STATUS),
    # --- escalate (CHC-6.10; no reasons needed, CHC-6.12) ---
    ("I want to escalate", Intent.ESCALATE),
    ("take it to stage 2", Intent.ESCALATE),
    ("not happy with the response", Intent.ESCALATE),
    ("i want to appeal", Intent.ESCALATE),
    ("can this go to stage two", Intent.ESCALATE),
    ("I dont accept your decision", Intent.ESCALATE),
    ("esculate my complaint pls", Intent.ESCALATE),
    ("Im not satisfied with the stage 1 response", Intent.ESCALATE),
    ("i disagree with the outcome", Intent.ESCALATE),
    # --- a person ---
    ("can I speak to a real person", Intent.PERSON),
    ("call me", Intent.PERSON),
    ("i want to talk to a human", Intent.PERSON),
    ("agent", Intent.PERSON),
    ("can someone ring me please", Intent.PERSON),
    ("put me through to a manager", Intent.PERSON),
    ("is this a bot?", Intent.PERSON),
    ("I'd like a call back", Intent.PERSON),
    # --- withdraw ---
    ("withdraw my complaint", Intent.WITHDRAW),
    ("cancel my complaint", Intent.WITHDRAW),  # not CANCEL: it names the complaint
    ("I don't want to complain any more", Intent.WITHDRAW),
    ("i dont want to complain anymore", Intent.WITHDRAW),
    ("its been sorted now you can close my complaint", Intent.WITHDRAW),
    ("please drop the complaint", Intent.WITHDRAW),
    # --- cancel ---
    ("cancel", Intent.CANCEL),
    ("CANCEL!", Intent.CANCEL),
    ("start again", Intent.CANCEL),
    ("start over", Intent.CANCEL),
    ("forget it", Intent.CANCEL),
    ("oh forget it", Intent.CANCEL),
    ("stop", Intent.CANCEL),
    ("nevermind", Intent.CANCEL),
    # --- help ---
    ("help", Intent.HELP),
    ("hi", Intent.HELP),
    ("hello", Intent.HELP),
    ("Hiya!", Intent.HELP),
    ("good morning", Intent.HELP),
    ("/start", Intent.HELP),
    ("what can you do", Intent.HELP),
    ("menu", Intent.HELP),
    ("can you help me", Intent.HELP),
    ("hello is anyone there", Intent.HELP),
    # --- yes and no ---
    ("yes", Intent.YES),
    ("yep", Intent.YES),
    ("yeah", Intent.YES),
    ("Yes please", Intent.YES),
    ("that's right", Intent.YES),
    ("thats right", Intent.YES),
    ("yes thats correct", Intent.YES),
    ("Yeah that's right thanks", Intent.YES),
    ("correct", Intent.YES),
    ("y", Intent.YES),
    ("no", Intent.NO),
    ("nope", Intent.NO),
    ("nah", Intent.NO),
    ("not quite", Intent.NO),
    ("n", Intent.NO),
    ("no thats wrong", Intent.NO),
    ("No, that's not right", Intent.NO),
    # --- none of these ---
    ("blue", Intent.UNKNOWN),
    ("thanks", Intent.UNKNOWN),
    ("the heating works now", Intent.UNKNOWN),
    ("the gas man came today", Intent.UNKNOWN),
    ("Could you send me a copy of my tenancy agreement", Intent.UNKNOWN),  # not a repair
    ("The workmen were brilliant, thank you", Intent.UNKNOWN),  # praise is not a complaint
    ("I'm flooded with work this week", Intent.UNKNOWN),
    ("", Intent.UNKNOWN),
]


@pytest.mark.parametrize(("text", "expected"), CLASSIFY)
def test_classify(text: str, expected: Intent) -> None:
    assert classify(text) == expected


def test_the_classify_table_is_large_and_covers_every_intent() -> None:
    assert len(CLASSIFY) >= 70
    assert {intent for _, intent in CLASSIFY} == set(Intent)


# ================================================================== hazards (Awaab's Law)

HAZARDS = [
    ("I can smell gas in the kitchen", (Hazard.GAS,)),
    ("there's a smell of gas on the landing", (Hazard.GAS,)),
    ("I think there is a gas leak", (Hazard.GAS,)),
    ("worried about carbon monoxide from the boiler", (Hazard.CARBON_MONOXIDE,)),
    ("the CO alarm is going off", (Hazard.CARBON_MONOXIDE,)),
    ("the socket is sparking", (Hazard.ELECTRICAL,)),
    ("exposed wires in the hallway", (Hazard.ELECTRICAL,)),
    ("burning smell from the socket", (Hazard.ELECTRICAL,)),
    ("I got an electric shock off the light switch", (Hazard.ELECTRICAL,)),
    ("the kitchen is flooding", (Hazard.FLOODING,)),
    ("water pouring through the ceiling", (Hazard.FLOODING,)),
    ("burst pipe under the sink", (Hazard.FLOODING,)),
    ("the ceiling collapsed last night", (Hazard.STRUCTURAL,)),
    ("the ceiling is falling down", (Hazard.STRUCTURAL,)),
    ("crack in the wall getting bigger", (Hazard.STRUCTURAL,)),
    ("I'm worried it's structural", (Hazard.STRUCTURAL,)),
    ("no heating", (Hazard.NO_HEATING_OR_WATER,)),
    ("we have no hot water", (Hazard.NO_HEATING_OR_WATER,)),
    ("no water at all since this morning", (Hazard.NO_HEATING_OR_WATER,)),
    ("bolier not working", (Hazard.NO_HEATING_OR_WATER,)),  # the engine weighs vulnerability
    ("black mould in the bedroom and my son has asthma", (Hazard.DAMP_AND_MOULD,)),
    ("black mould making us ill", (Hazard.DAMP_AND_MOULD,)),
    ("black mould on the baby's cot", (Hazard.DAMP_AND_MOULD,)),
    ("the mould is affecting my breathing", (Hazard.DAMP_AND_MOULD,)),
    ("severe damp in every room", (Hazard.DAMP_AND_MOULD,)),
    ("the walls are covered in mould", (Hazard.DAMP_AND_MOULD,)),
    ("there's a fire in the bin store", (Hazard.FIRE,)),
    ("smoke coming from the loft", (Hazard.FIRE,)),
    ("smell of burning in the hall", (Hazard.FIRE,)),
    # Two at once, in the order of the Hazard enum.
    ("water coming through the light fitting", (Hazard.ELECTRICAL, Hazard.FLOODING)),
    ("the flat is flooded and there's no water now", (Hazard.FLOODING, Hazard.NO_HEATING_OR_WATER)),
    # False-positive traps.
    ("gas bill is too high", ()),
    ("the gas man came", ()),
    ("gas safety check is due", ()),
    ("we need a carbon monoxide alarm fitted", ()),
    ("I'm on fire today", ()),  # an idiom
    ("the fire door is broken", ()),
    ("the heating works now", ()),
    ("no water pressure in the shower", ()),
    ("there's some mould in the bathroom", ()),  # not severe, no one's health mentioned
    ("I'm sick of the damp", ()),  # "sick of" is frustration, not illness
    ("my kitchen tap is leaking", ()),
    ("we had a spark of hope when the letter came", ()),
    ("I'm flooded with work this week", ()),
    ("my structural engineer friend had a look", ()),
    ("the heating is on but the bedroom radiator is cold", ()),  # one radiator: a repair
    ("the radiators are all stone cold", (Hazard.NO_HEATING_OR_WATER,)),
]


@pytest.mark.parametrize(("text", "expected"), HAZARDS)
def test_detect_hazards(text: str, expected: tuple[Hazard, ...]) -> None:
    assert detect_hazards(text) == expected


@pytest.mark.parametrize(
    ("hazards", "expected"),
    [
        ((Hazard.GAS,), True),
        ((Hazard.CARBON_MONOXIDE,), True),
        ((Hazard.FIRE,), True),
        ((Hazard.ELECTRICAL,), True),
        ((Hazard.STRUCTURAL,), True),
        ((Hazard.FLOODING,), False),
        ((Hazard.NO_HEATING_OR_WATER,), False),
        ((Hazard.DAMP_AND_MOULD,), False),
        ((Hazard.DAMP_AND_MOULD, Hazard.GAS), True),
        ((), False),
    ],
)
def test_is_life_threatening(hazards: tuple[Hazard, ...], expected: bool) -> None:
    assert is_life_threatening(hazards) is expected


def test_life_threatening_reads_detected_hazards() -> None:
    assert is_life_threatening(detect_hazards("I can smell gas"))
    assert not is_life_threatening(detect_hazards("no hot water"))


# ================================================================== abuse (CHC-5.14)

ABUSE = [
    ("f*** you", True),
    ("fuck you", True),
    ("F**K OFF", True),
    ("fck sake", True),
    ("this is f***ing disgraceful", True),
    ("you useless idiots", True),
    ("you're a bunch of morons", True),
    ("piss off", True),
    ("I'll come down there and hurt someone", True),
    ("I know where you live", True),
    ("you retards", True),
    # Mild frustration and swearing at things are not abuse.
    ("this is bloody ridiculous", False),
    ("damn mould", False),
    ("what the hell is going on", False),
    ("I'm pissed off", False),
    ("crap service", False),
    ("I felt like an idiot", False),  # not aimed at anyone
    ("someone is going to get hurt on those stairs", False),  # a warning, not a threat
    ("the mould could kill someone", False),
    ("Scunthorpe council", False),
    ("I'm having a fag", False),
]


@pytest.mark.parametrize(("text", "expected"), ABUSE)
def test_is_abusive(text: str, expected: bool) -> None:
    assert is_abusive(text) is expected


# ================================================================== distress and vulnerability

DISTRESS = [
    ("I can't cope any more", True),
    ("I cant cope", True),
    ("at the end of my tether", True),
    ("I want to end it", True),
    ("feeling suicidal", True),
    ("I'm desperate", True),
    ("crying every day", True),
    ("I feel unsafe", True),
    ("I dont feel safe in my own home", True),
    ("my mental health is suffering", True),
    ("I'm fed up", False),  # dissatisfaction, not distress
    ("the boiler had a breakdown", False),
    ("my kitchen tap is leaking", False),
]


@pytest.mark.parametrize(("text", "expected"), DISTRESS)
def test_shows_distress(text: str, expected: bool) -> None:
    assert shows_distress(text) is expected


VULNERABLE = [
    ("I have a newborn baby", True),
    ("my elderly mum lives with me", True),
    ("I'm a pensioner", True),
    ("my husband is disabled", True),
    ("I use a wheelchair", True),
    ("I'm pregnant", True),
    ("I have a chronic illness", True),
    ("he's on oxygen", True),
    ("she has cancer", True),
    ("my son has asthma", True),
    ("my 3 year old daughter", True),
    ("my mum is 84", True),
    ("I'm 82", True),
    ("I have two kids", False),
    ("the boiler is 20 years old", False),
    ("I'm 80 pounds out of pocket", False),
    ("my kitchen tap is leaking", False),
]


@pytest.mark.parametrize(("text", "expected"), VULNERABLE)
def test_is_vulnerable_household(text: str, expected: bool) -> None:
    assert is_vulnerable_household(text) is expected


# ================================================================== since when (CHC-2.3)

TODAY = date(2026, 11, 25)  # a Wednesday
UNKNOWN = "unknown"

SINCE = [
    ("since March", date(2026, 3, 1)),
    ("since December", date(2025, 12, 1)),  # the most recent December that has begun
    ("since November", date(2026, 11, 1)),
    ("June", date(2026, 6, 1)),
    ("March 2025", date(2025, 3, 1)),
    ("last March", date(2026, 3, 1)),
    ("last November", date(2025, 11, 1)),  # said in November: a year ago
    ("since may", date(2026, 5, 1)),
    ("end of october", date(2026, 10, 31)),
    ("3rd June 2025", date(2025, 6, 3)),
    ("June 3rd", date(2026, 6, 3)),
    ("about 3 weeks ago", date(2026, 11, 4)),
    ("3 weeks ago", date(2026, 11, 4)),
    ("3wks", date(2026, 11, 4)),
    ("a couple of months ago", date(2026, 9, 25)),
    ("a few days ago", date(2026, 11, 22)),
    ("two years ago", date(2024, 11, 25)),
    ("for a fortnight", date(2026, 11, 11)),
    ("a year and a half ago", date(2025, 5, 25)),
    ("6 mths", date(2026, 5, 25)),
    ("since last week", date(2026, 11, 18)),
    ("yesterday", date(2026, 11, 24)),
    ("today", TODAY),
    ("last year", date(2025, 11, 25)),
    ("since monday", date(2026, 11, 23)),
    ("last wednesday", date(2026, 11, 18)),  # said on a Wednesday: a week ago
    ("2024", date(2024, 1, 1)),
    ("since 2019", date(2019, 1, 1)),
    ("mid 2024", date(2024, 7, 1)),
    ("since Christmas", date(2025, 12, 25)),
    ("since Easter", date(2026, 4, 5)),
    ("since the summer", date(2026, 6, 1)),
    ("last winter", date(2025, 12, 1)),
    ("2025-06-01", date(2025, 6, 1)),
    ("01/06/2025", date(2025, 6, 1)),  # UK day first
    ("1/6", date(2026, 6, 1)),
    # In a longer message, the first time mentioned.
    ("the leak started about 3 weeks ago and nobody came", date(2026, 11, 4)),
    ("not sure, maybe March", date(2026, 3, 1)),  # a guess beats "not sure"
    ("don't know", UNKNOWN),
    ("dont know", UNKNOWN),
    ("Don’t know", UNKNOWN),
    ("not sure", UNKNOWN),
    ("can't remember", UNKNOWN),
    ("ages", UNKNOWN),
    ("it may be a while", UNKNOWN),  # "may" is not the month here
    ("blue", None),
    ("", None),
    ("I took a day off work and nobody came", None),  # "a day" is not a time here
    ("I pay £2000 a year", None),
    ("in 2 weeks", None),  # the future
    # Never after today: a future date the resident gave in full is refused, not moved.
    ("2027", None),
    ("December 2026", None),
    ("this December", None),
    ("31/12/2026", None),
    ("31/02/2025", None),  # no such day
]


@pytest.mark.parametrize(("text", "expected"), SINCE)
def test_parse_since(text: str, expected: date | str | None) -> None:
    result = parse_since(text, TODAY)
    if expected is None:
        assert result is None
    elif expected == UNKNOWN:
        assert result == SinceWhen(text=text.strip(), aware_on=None, unknown=True)
    else:
        assert result is not None
        assert result.aware_on == expected
        assert not result.unknown


def test_parse_since_keeps_the_residents_words() -> None:
    assert parse_since("  since March  ", TODAY) == SinceWhen(
        text="since March", aware_on=date(2026, 3, 1), unknown=False
    )


def test_parse_since_in_a_long_message_keeps_the_phrase() -> None:
    text = "The leak in my kitchen started about 3 weeks ago and nobody has come out to look yet"
    result = parse_since(text, TODAY)
    assert result == SinceWhen(text="about 3 weeks ago", aware_on=date(2026, 11, 4), unknown=False)


def test_since_a_month_said_in_that_month_is_its_first_day() -> None:
    assert parse_since("since January", date(2027, 1, 1)) == SinceWhen(
        text="since January", aware_on=date(2027, 1, 1), unknown=False
    )


@given(
    text=st.text(max_size=40)
    | st.sampled_from([row[0] for row in SINCE])
    | st.builds(
        lambda n, unit: f"{n} {unit} ago",
        st.integers(0, 400),
        st.sampled_from(["days", "weeks", "months", "years"]),
    ),
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
)
def test_parse_since_never_returns_a_date_after_today(text: str, today: date) -> None:
    result = parse_since(text, today)
    if result is not None and result.aware_on is not None:
        assert result.aware_on <= today
        assert not result.unknown


@given(st.text(max_size=200))
def test_readers_accept_any_text(text: str) -> None:
    assert isinstance(classify(text), Intent)
    hazards = detect_hazards(text)
    assert len(set(hazards)) == len(hazards)
    assert list(hazards) == sorted(hazards, key=list(Hazard).index)
    split_points(text)
    extract_outcome(text)
    extract_location(text)


def test_last_year_is_a_year_before_today() -> None:
    result = parse_since("last year", date(2028, 2, 29))
    assert result is not None
    assert result.aware_on == date(2027, 2, 28)
    assert date(2028, 2, 29) - result.aware_on <= timedelta(days=366)


# ================================================================== points of complaint

POINTS = [
    ("1. the leak 2. nobody called back", ["the leak", "nobody called back"]),
    ("1) the leak\n2) nobody called back", ["the leak", "nobody called back"]),
    (
        "- the leak\n- nobody called back\n- the mess",
        ["the leak", "nobody called back", "the mess"],
    ),
    ("• the leak\n• the mould", ["the leak", "the mould"]),
    (
        "My complaint is about:\n1. The leak in the\nkitchen\n2. Nobody called back\n\nThanks\nSam",
        ["The leak in the kitchen", "Nobody called back"],
    ),
    (
        "The tap leaks and also nobody called back; the mould is back",
        ["The tap leaks", "nobody called back", "the mould is back"],
    ),
    ("The tap leaks. Also, the plumber was rude.", ["The tap leaks", "the plumber was rude"]),
    # A single sentence, or one point told in two sentences, stays one point.
    ("The tap leaks and the plumber was rude", ["The tap leaks and the plumber was rude"]),
    ("The tap leaks. It has leaked for weeks.", ["The tap leaks. It has leaked for weeks"]),
    ("I live at 12 Acacia Avenue", ["I live at 12 Acacia Avenue"]),  # a number, not a list
    ("- the leak", ["the leak"]),
    ("1. the leak", ["the leak"]),
    ("the leak;; ;", ["the leak"]),
    ("", []),
    ("   \n  ", []),
]


@pytest.mark.parametrize(("text", "expected"), POINTS)
def test_split_points(text: str, expected: list[str]) -> None:
    assert split_points(text) == expected


# ================================================================== outcomes sought (CHC-5.6)

OUTCOMES = [
    ("I want them to fix it", True),
    ("I'd like compensation", True),
    ("please repair", True),
    ("an apology", True),
    ("refund", True),
    ("fix it", True),
    ("just sort it out", True),
    ("compensation for my ruined carpet", True),
    ("for it to be fixed properly", True),
    ("my tap is leaking", False),
    ("nobody came to fix it", False),
    ("they never gave me an apology", False),
    ("I don't know", False),
]


@pytest.mark.parametrize(("text", "expected"), OUTCOMES)
def test_looks_like_outcome(text: str, expected: bool) -> None:
    assert looks_like_outcome(text) is expected


EXTRACTED_OUTCOMES = [
    (
        "The tap has leaked for weeks and nobody came. I want them to fix it and pay for the "
        "damage.",
        "I want them to fix it and pay for the damage",
    ),
    ("My kitchen is ruined, please send someone to fix it", "please send someone to fix it"),
    ("I want to complain about my boiler. Please fix it asap!", "Please fix it asap!"),
    # The clause ends where the sentence turns back to the problem.
    ("Can you replace the window, it has been broken since May", "Can you replace the window"),
    ("I’d like an apology and a new boiler.", "I’d like an apology and a new boiler"),
    ("I would like to report a leak", None),  # reporting, not an outcome
    ("Please find attached photos.", None),
    ("Can you tell me when someone is coming?", None),
    ("the tap leaks", None),
]


@pytest.mark.parametrize(("text", "expected"), EXTRACTED_OUTCOMES)
def test_extract_outcome(text: str, expected: str | None) -> None:
    assert extract_outcome(text) == expected


# ================================================================== location

LOCATIONS = [
    ("the leak is at 12 Acacia Avenue", "12 Acacia Avenue"),
    ("flat 3, Oak House", "flat 3, Oak House"),
    ("Flat 2, 14 Mill Lane, Leeds LS6 2AB", "Flat 2, 14 Mill Lane, Leeds LS6 2AB"),
    ("No. 7 Church Street", "No. 7 Church Street"),
    ("it's flat 3", "flat 3"),
    (
        "My address is 5 Rose Court, Manchester M1 2AB and the tap leaks",
        "5 Rose Court, Manchester M1 2AB",
    ),
    ("I live in Salford M5 4WT", "Salford M5 4WT"),
    ("postcode SW1A 1AA", "SW1A 1AA"),
    ("m1 2ab", "m1 2ab"),
    # Rooms and numbers that are not addresses.
    ("in my kitchen", None),
    ("the bathroom ceiling", None),
    ("I've rung 12 times this week", None),
    ("the mould is in the 3 bedroom house", None),
    ("12 days in court", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), LOCATIONS)
def test_extract_location(text: str, expected: str | None) -> None:
    assert extract_location(text) == expected


# ================================================================== automatic replies

AUTO_REPLIES = [
    ("Out of office", "I am away until Monday.", True),
    ("Automatic reply: Your complaint C-7K3Q-9XF4", "Thank you for your email.", True),
    ("Auto-Reply: Re: your repair", "", True),
    ("AutoReply", "", True),
    ("Delivery Status Notification (Failure)", "", True),
    ("Undeliverable: Re: C-7K3Q-9XF4", "", True),
    ("Mail delivery failed: returning message to sender", "", True),
    ("Re: C-7K3Q-9XF4", "This is an automatic reply. I am away.", True),
    ("", "Your message could not be delivered to one or more recipients.", True),
    # A resident mentioning their own office is writing, not an auto-reply.
    ("Re: my complaint", "I'm out of the office on Tuesday so can't let the plumber in", False),
    ("Leak in the kitchen", "The tap is leaking again.", False),
]


@pytest.mark.parametrize(("subject", "text", "expected"), AUTO_REPLIES)
def test_is_auto_reply(subject: str, text: str, expected: bool) -> None:
    assert is_auto_reply(subject, text) is expected
