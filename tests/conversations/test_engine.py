"""Dialogue tests: every flow of the engine, over the real database (SQLite and PostgreSQL).

The clock stands at 10:00 on Wednesday 23 December 2026 (CODE.md's worked example) unless a
test moves it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from conversations.envelopes import Attachment, OutboundKind
from core.calendar import WorkingDayCalendar
from core.clock import LONDON, FrozenClock
from core.complaints.enums import EventKind, Outcome, Stage, Status
from core.complaints.models import Actor
from core.db.store import Store
from core.deadlines import DeadlineRules, Timescales
from core.references import ReferenceKind, find_references, new_reference
from tests.conftest import Services
from tests.conversations.conftest import Chat, build_engine

MakeChat = Callable[..., Chat]
STAFF = Actor.staff("officer-1")


async def capture_to_confirmation(chat: Chat) -> str:
    """A complaint given piece by piece, up to the read-back."""
    await chat.say("I want to make a complaint")
    assert "what went wrong" in chat.last.text.lower()
    await chat.say("The repair to my boiler was booked three times and nobody came")
    assert "where" in chat.last.text.lower()
    await chat.say("Flat 3, Oak House, M1 2AB")
    assert "when did this start" in chat.last.text.lower()
    await chat.say("since October")
    assert "put things right" in chat.last.text.lower()
    await chat.say("Fix the boiler and pay for the heaters I bought")
    await chat.pick("For myself")
    assert "support" in chat.last.text.lower()
    return await chat.pick("Nothing needed")


async def logged(chat: Chat) -> str:
    await capture_to_confirmation(chat)
    text = await chat.pick("Yes, that's right")
    (reference,) = find_references(text)
    return reference


# --------------------------------------------------------------------------- start and help


async def test_help_says_who_the_bot_is_for_and_mentions_the_ombudsman(chat: MakeChat) -> None:
    sam = chat()
    text = await sam.say("/start")
    assert "Riverside Homes" in text
    assert "Housing Ombudsman" in text  # CHC-3.7: early, not only at the end
    assert "0300 111 3000" in text
    assert sam.options == ["Make a complaint", "Check my complaints", "Talk to a person"]


# --------------------------------------------------------------------------- CHC-1.3 to 1.5


async def test_a_problem_report_is_offered_repair_or_complaint(
    chat: MakeChat, store: Store
) -> None:  # CHC-1.4
    sam = chat()
    await sam.say("my kitchen tap is leaking")
    assert sam.options == ["Report a repair", "Make a complaint"]
    await sam.pick("Report a repair")
    assert "where" in sam.last.text.lower()
    text = await sam.say("12 Acacia Avenue")
    (reference,) = find_references(text)
    assert reference.startswith("R-")
    assert "0161 000 0001" in text  # signposted to the repairs contact
    assert "not a complaint" in text
    async with store.unit_of_work() as uow:
        request = await uow.service_requests.get_by_reference(reference)
        assert await uow.complaints.count() == 0
    assert request.description == "my kitchen tap is leaking"
    assert request.location == "12 Acacia Avenue"


async def test_dissatisfaction_is_offered_a_complaint_straight_away(chat: MakeChat) -> None:
    sam = chat()
    await sam.say("third time I've reported this and nobody came")  # CHC-1.3
    assert sam.options == ["Yes, make a complaint", "No, thanks"]
    await sam.pick("Yes, make a complaint")
    # What went wrong was already said: the next question is where (never ask twice).
    assert "where" in sam.last.text.lower()


async def test_declining_the_offer_logs_nothing(chat: MakeChat, store: Store) -> None:
    sam = chat()
    await sam.say("your contractor was rude to me")
    await sam.pick("No, thanks")
    assert "change your mind" in sam.last.text
    async with store.unit_of_work() as uow:
        assert await uow.complaints.count() == 0


# --------------------------------------------------------------------------- capture and log


async def test_capture_confirm_log_and_acknowledge(
    chat: MakeChat, store: Store, services: Services
) -> None:
    sam = chat()
    confirm = await capture_to_confirmation(sam)
    assert "Here is what I understood" in confirm  # CHC-5.6
    assert "nobody came" in confirm
    assert "Flat 3, Oak House" in confirm
    assert "You would like: Fix the boiler" in confirm
    async with store.unit_of_work() as uow:
        assert await uow.complaints.count() == 0  # nothing logged before confirmation
    ack = await sam.pick("Yes, that's right")
    assert sam.last.kind == OutboundKind.ACKNOWLEDGEMENT
    (reference,) = find_references(ack)
    assert "stage 1" in ack
    assert "Monday 11 January 2027" in ack  # CHC-6.3, from the working-day calendar
    assert "Housing Ombudsman" in ack and "0300 111 3000" in ack  # CHC-3.7
    assert "stage 2" in ack
    async with store.unit_of_work() as uow:
        complaint = await services.complaints.get(uow, reference=reference)
    assert complaint.status == Status.ACKNOWLEDGED
    assert complaint.stage == Stage.ONE
    assert complaint.location == "Flat 3, Oak House, M1 2AB"
    assert complaint.outcomes_sought == ("Fix the boiler and pay for the heaters I bought",)
    assert complaint.aware_on == date(2026, 10, 1)
    assert [s.text for s in sam.staff][-1].startswith(f"New complaint {reference}")


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime(2026, 12, 23, 10, 0, tzinfo=LONDON), date(2027, 1, 11)),  # CODE.md example
        (datetime(2027, 3, 25, 16, 0, tzinfo=LONDON), date(2027, 4, 12)),  # Easter 2027
        (datetime(2027, 1, 9, 12, 0, tzinfo=LONDON), date(2027, 1, 22)),  # a Saturday is day 0
        (datetime(2027, 8, 27, 9, 0, tzinfo=LONDON), date(2027, 9, 13)),  # summer bank holiday
    ],
)
async def test_acknowledgement_dates_match_the_deadlines_command(
    chat: MakeChat, clock: FrozenClock, received: datetime, due: date
) -> None:
    clock.set(received)
    summary = DeadlineRules(WorkingDayCalendar(), Timescales()).summary(received)
    assert summary.stage1_response_by == due
    sam = chat()
    await capture_to_confirmation(sam)
    ack = await sam.pick("Yes, that's right")
    assert f"{due:%A} {due.day} {due:%B %Y}" in ack


async def test_change_one_part_keeps_the_rest(chat: MakeChat) -> None:
    sam = chat()
    await capture_to_confirmation(sam)
    await sam.pick("Change something")
    await sam.pick("Where")
    text = await sam.say("Flat 4, Oak House")
    assert "Here is what I understood" in text  # straight back to the read-back
    assert "Flat 4, Oak House" in text
    assert "nobody came" in text and "Fix the boiler" in text


async def test_several_points_and_a_representative(chat: MakeChat, store: Store) -> None:
    sam = chat()
    await sam.say("I'd like to complain")
    await sam.say("1. the lift has been broken for weeks\n2. nobody answers the phone")
    await sam.say("Oak House")
    await sam.pick("I don't know")
    await sam.say("Fix the lift")
    await sam.pick("For someone else")
    await sam.say("Mary Jones")
    text = await sam.say("daughter")
    assert "support" in text.lower()
    confirm = await sam.pick("Nothing needed")
    assert "1. the lift has been broken for weeks" in confirm
    assert "2. nobody answers the phone" in confirm
    assert "Mary Jones" in confirm
    ack = await sam.pick("Yes, that's right")
    (reference,) = find_references(ack)
    async with store.unit_of_work() as uow:
        complaint = await uow.complaints.get_by_reference(reference)
    assert [e.text for e in complaint.elements] == [
        "the lift has been broken for weeks",
        "nobody answers the phone",
    ]
    assert complaint.representative is not None
    assert complaint.representative.relationship == "daughter"  # CHC-3.6


async def test_support_and_email_copy(chat: MakeChat, store: Store) -> None:
    sam = chat()
    await sam.say("I want to make a complaint")
    await sam.say("Nobody fixed the leaking roof")
    await sam.say("5 Elm Road")
    await sam.say("about 3 weeks ago")
    await sam.say("Repair the roof")
    await sam.pick("For myself")
    await sam.say("Large print please, and email me at sam@example.test")
    await sam.pick("Yes, that's right")
    emails = [m for m in sam.other if m.channel == "email"]
    assert [m.recipient for m in emails] == ["sam@example.test"]
    assert emails[0].kind == OutboundKind.ACKNOWLEDGEMENT
    assert emails[0].large_print
    async with store.unit_of_work() as uow:
        resident = await uow.residents.find_by_identity("terminal", "sam")
    assert resident is not None and resident.preferences.large_print  # CHC-5.10


# --------------------------------------------------------------------------- state in the DB


async def test_a_restart_mid_dialogue_continues_where_it_stopped(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    first = Chat(engine=build_engine(store, clock, services), clock=clock)
    await first.say("I want to make a complaint")
    await first.say("The boiler repair never happened")
    assert "where" in first.last.text.lower()
    # A new engine over the same database: as after a restart.
    second = Chat(engine=build_engine(store, clock, services), clock=clock)
    text = await second.say("Flat 9, Birch Court")
    assert "when did this start" in text.lower()


async def test_two_residents_interleaved(chat: MakeChat) -> None:
    sam, kim = chat("sam"), chat("kim")
    await sam.say("I want to make a complaint")
    await kim.say("my kitchen tap is leaking")
    await sam.say("Nobody came to fix the damp")
    await kim.pick("Report a repair")
    assert "where" in sam.last.text.lower()
    assert "where is the repair" in kim.last.text.lower()
    text = await kim.say("7 Pine Close")
    assert find_references(text)[0].startswith("R-")
    assert "since" in (await sam.say("2 Ash Street")).lower() or "start" in sam.last.text


async def test_a_redelivered_message_is_ignored(chat: MakeChat, store: Store) -> None:
    sam = chat()
    await sam.say("I want to make a complaint", message_id="update-1")
    again = await sam.say("I want to make a complaint", message_id="update-1")
    assert again == ""
    async with store.unit_of_work() as uow:
        resident = await uow.residents.find_by_identity("terminal", "sam")
        assert resident is not None
        events = await uow.events.for_resident(resident.id or 0)
    assert sum(e.kind == EventKind.MESSAGE_IN for e in events) == 1


async def test_concurrent_messages_of_one_conversation_are_both_handled(
    chat: MakeChat, store: Store
) -> None:
    sam = chat()
    # The resident does not exist yet: both messages race to create them and their
    # conversation; the loser is handled again, and both get their answer.
    await asyncio.gather(sam.say("hello"), sam.say("status"))
    assert len(sam.replies) == 2
    assert any("no complaints" in r.text for r in sam.replies)


# --------------------------------------------------------------------------- one-shot (email)


async def test_a_one_shot_complaint_with_the_outcome_missing_is_logged_and_completed(
    chat: MakeChat, store: Store
) -> None:
    ann = chat("ann@example.test", channel="email")
    text = await ann.say(
        "I am writing to complain. The contractor who came to 14 Beech Road on Monday was "
        "rude and left the kitchen in a mess. This is the third time this has happened."
    )
    (reference,) = find_references(text)
    assert ann.last.kind == OutboundKind.ACKNOWLEDGEMENT
    assert "We still need to know what you would like us to do" in text
    assert "already logged" in text
    async with store.unit_of_work() as uow:
        complaint = await uow.complaints.get_by_reference(reference)
    assert complaint.status == Status.ACKNOWLEDGED  # never held back
    assert complaint.outcomes_sought == ()
    reply = await ann.say("I would like an apology and the kitchen cleaned")
    assert reference in reply
    async with store.unit_of_work() as uow:
        complaint = await uow.complaints.get_by_reference(reference)
    assert complaint.outcomes_sought == ("I would like an apology and the kitchen cleaned",)


# --------------------------------------------------------------------------- urgent hazards


async def test_a_gas_smell_gets_emergency_advice_and_an_urgent_handover(
    chat: MakeChat, store: Store
) -> None:
    sam = chat()
    text = await sam.say("I can smell gas in the kitchen")
    assert "999" in text
    assert "0800 111 999" in text  # the gas emergency line
    assert "0161 000 0999" in text  # the landlord's emergency repairs number
    assert sam.staff and sam.staff[0].urgent
    assert "gas" in sam.staff[0].text
    await sam.pick("Make a complaint")
    assert "where" in sam.last.text.lower()  # the complaint continues if they want


async def test_a_hazard_during_capture_is_handled_and_capture_continues(chat: MakeChat) -> None:
    sam = chat()
    await sam.say("I want to make a complaint")
    text = await sam.say("water is pouring through the ceiling and nobody has come")
    assert "0161 000 0999" in text
    assert "where" in sam.last.text.lower()
    assert any(s.urgent for s in sam.staff)


# --------------------------------------------------------------------------- tracking


async def test_status_lists_my_complaints_with_the_next_date(chat: MakeChat) -> None:
    sam = chat()
    assert "no complaints" in (await sam.say("any update on my complaint?"))
    reference = await logged(sam)
    text = await sam.say("status")
    assert reference in text
    assert "stage 1" in text
    assert "Monday 11 January 2027" in text


async def test_a_reference_of_someone_else_gives_no_details(chat: MakeChat) -> None:
    sam, kim = chat("sam"), chat("kim")
    reference = await logged(sam)
    text = await kim.say(reference)
    assert "can't find" in text
    assert "boiler" not in text and "Oak House" not in text
    # Staff are told someone quoted another person's complaint, so a person can decide.
    assert [s.reference for s in kim.staff] == [reference]
    assert "not one of their complaints" in kim.staff[0].text
    mistyped = reference[:-1] + ("0" if reference[-1] != "0" else "1")
    assert "doesn't look right" in await sam.say(mistyped)
    assert reference in await sam.say(reference.lower())


async def test_a_guessed_reference_that_does_not_exist_is_not_flagged(chat: MakeChat) -> None:
    kim = chat("kim")
    guess = new_reference(ReferenceKind.COMPLAINT)  # well formed and checked, but nobody's
    assert "can't find" in await kim.say(guess)
    assert kim.staff == []


# --------------------------------------------------------------------------- add information


async def test_information_is_added_to_the_current_stage(chat: MakeChat, store: Store) -> None:
    sam = chat()
    reference = await logged(sam)
    await sam.say("The engineer cancelled again this morning without telling me")
    assert sam.options[0] == f"More about {reference}"
    text = await sam.pick("More about")
    assert "added this to your complaint" in text and "stage 1" in text  # CHC-6.8
    assert any("New information" in s.text for s in sam.staff)
    async with store.unit_of_work() as uow:
        complaint = await uow.complaints.get_by_reference(reference)
        events = await uow.events.for_complaint(complaint.id or 0)
    assert any(e.data.get("added_information") for e in events)


async def test_two_complaints_ask_which_one(chat: MakeChat) -> None:
    sam = chat()
    first = await logged(sam)
    second = await logged(sam)
    await sam.say("I have more photos of the damage to show you")
    assert "Which complaint" in sam.last.text
    assert {o.split(":")[0] for o in sam.options[:2]} == {first, second}
    await sam.pick(second)
    text = await sam.pick("More about")
    assert second in text


async def test_a_reply_to_a_bot_message_is_tied_to_its_complaint(
    chat: MakeChat, store: Store
) -> None:
    """Flow 3: the reply-to of a message (e.g. Telegram's) finds the complaint, no asking."""
    sam = chat()
    await logged(sam)
    second = await logged(sam)
    async with store.unit_of_work() as uow:
        complaint = await uow.complaints.get_by_reference(second)
        acknowledgement = next(
            m for m in await uow.outbox.for_complaint(complaint.id or 0) if m.channel == "terminal"
        )
        await uow.outbox.mark_sent(acknowledgement.id or 0, sam.clock.now(), external_id="tg-77")
    # The resident answers that acknowledgement with a reply.
    await sam.say("the engineer cancelled again this morning", reply_to="tg-77")
    assert sam.options[0] == f"More about {second}"  # not "which complaint?"


async def test_after_the_response_new_information_is_a_new_complaint(
    chat: MakeChat, store: Store, services: Services
) -> None:  # CHC-6.8
    sam = chat()
    reference = await logged(sam)
    await respond_stage_1(store, services, reference)
    await sam.say(f"{reference} the boiler broke again last night and now the radiators leak")
    text = await sam.pick("More about")
    assert "new complaint" in text


# --------------------------------------------------------------------------- escalation


async def respond_stage_1(store: Store, services: Services, reference: str) -> None:
    async with store.unit_of_work() as uow:
        complaint = await services.complaints.get(uow, reference=reference)
        for element in complaint.elements:
            await services.complaints.record_decision(
                uow,
                reference=reference,
                position=element.position,
                outcome=Outcome.PARTLY_UPHELD,
                reasons="Appointments were missed.",
                actor=STAFF,
            )
        await services.complaints.respond(uow, reference=reference, actor=STAFF)


async def test_escalation_needs_no_reason(
    chat: MakeChat, store: Store, services: Services, clock: FrozenClock
) -> None:  # CHC-6.10, 6.12
    sam = chat()
    reference = await logged(sam)
    assert "stage 1 response" in await sam.say("I want to escalate my complaint")
    await respond_stage_1(store, services, reference)
    clock.set(datetime(2027, 1, 8, 11, 0, tzinfo=LONDON))
    await sam.say("I'm not happy with the response, I want to escalate")
    assert "You don't have to give a reason" in sam.last.text
    text = await sam.pick("I'd rather not say")
    assert "stage 2" in text
    assert "Friday 5 February 2027" in text  # CHC-6.14: 20 working days after 8 January
    async with store.unit_of_work() as uow:
        complaint = await uow.complaints.get_by_reference(reference)
    assert complaint.status == Status.ESCALATION_ACKNOWLEDGED
    assert complaint.escalation_reason is None


# --------------------------------------------------------------------------- a person


async def test_asking_for_a_person_hands_over_with_the_conversation(chat: MakeChat) -> None:
    sam = chat()
    await sam.say("I want to make a complaint")
    text = await sam.say("can I speak to a real person please")
    assert "Thursday 24 December 2026" in text  # the next working day
    notice = sam.staff[-1]
    assert "talk to a person" in notice.text
    assert "I want to make a complaint" in notice.text  # the conversation so far


async def test_two_messages_not_understood_hand_over(chat: MakeChat) -> None:
    sam = chat()
    assert "didn't understand" in await sam.say("purple")
    await sam.say("banana")
    assert "contact you" in sam.last.text
    assert "could not understand" in sam.staff[-1].text


async def test_distress_hands_over_with_support(chat: MakeChat) -> None:
    sam = chat()
    text = await sam.say("I can't cope any more with this mould")
    assert "116 123" in text
    assert sam.staff[-1].urgent


# --------------------------------------------------------------------------- withdraw, cancel


async def test_withdraw_with_confirmation(chat: MakeChat, store: Store) -> None:
    sam = chat()
    reference = await logged(sam)
    await sam.say("I want to withdraw my complaint")
    assert reference in sam.last.text
    await sam.pick("No, keep it")
    await sam.say("I want to withdraw my complaint")
    text = await sam.pick("Yes, withdraw it")
    assert "withdrawn" in text
    async with store.unit_of_work() as uow:
        complaint = await uow.complaints.get_by_reference(reference)
    assert complaint.status == Status.WITHDRAWN


async def test_cancel_mid_capture_with_confirmation(chat: MakeChat) -> None:
    sam = chat()
    await sam.say("I want to make a complaint")
    await sam.say("The bins were not collected")
    await sam.say("cancel")
    await sam.pick("No, carry on")
    assert "where" in sam.last.text.lower()
    await sam.say("start again")
    text = await sam.pick("Yes, start again")
    assert "cleared" in text
    await sam.say("I want to make a complaint")
    assert "what went wrong" in sam.last.text.lower()


# --------------------------------------------------------------------------- CHC-5.14


async def test_abuse_gets_a_calm_boundary_and_is_flagged(chat: MakeChat, store: Store) -> None:
    sam = chat()
    text = await sam.say("you useless idiots, nobody fixed my boiler")
    assert "respect" in text
    assert any("Abusive" in s.text for s in sam.staff)
    await sam.pick("Yes, make a complaint")  # they can still complain
    assert "where" in sam.last.text.lower()


async def test_a_contact_restriction_routes_replies_but_never_stops_a_complaint(
    chat: MakeChat, store: Store, services: Services
) -> None:
    sam = chat()
    await sam.say("hello")
    async with store.unit_of_work() as uow:
        resident = await uow.residents.find_by_identity("terminal", "sam")
        assert resident is not None
        await services.residents.link_identity(
            uow, resident_id=resident.id or 0, channel="email", address="sam@example.test"
        )
        await services.residents.restrict_contact(
            uow,
            resident_id=resident.id or 0,
            description="Contact by email only",
            reason="Repeated abusive calls",
            review_on=date(2027, 3, 1),
            actor=STAFF,
            allowed_channels=("email",),
        )
    text = await sam.say("I want to make a complaint")
    assert "by email" in text
    assert any(m.channel == "email" and "what went wrong" in m.text.lower() for m in sam.other)


# --------------------------------------------------------------------------- evidence


async def test_files_are_kept_as_evidence(chat: MakeChat, store: Store) -> None:
    sam = chat()
    reference = await logged(sam)
    photo = Attachment(kind="photo", reference="file-123", size=2048)
    text = await sam.say(attachments=(photo,))
    assert "kept this file as evidence" in text and reference in text
    async with store.unit_of_work() as uow:
        complaint = await uow.complaints.get_by_reference(reference)
        events = await uow.events.for_complaint(complaint.id or 0)
    assert any(e.kind == EventKind.EVIDENCE for e in events)


async def test_every_message_both_ways_is_in_the_record(chat: MakeChat, store: Store) -> None:
    sam = chat()
    reference = await logged(sam)
    await sam.say(reference)
    async with store.unit_of_work() as uow:
        complaint = await uow.complaints.get_by_reference(reference)
        events = await uow.events.for_complaint(complaint.id or 0)
    kinds = [e.kind for e in events]
    assert EventKind.MESSAGE_OUT in kinds  # the acknowledgement, CHC-5.12
    assert kinds.count(EventKind.MESSAGE_IN) >= 1


def test_clock_fixture_is_the_worked_example(clock: FrozenClock) -> None:
    assert clock.now() == datetime(2026, 12, 23, 10, 0, tzinfo=LONDON)
    assert clock.now() + timedelta(days=1) > clock.now()
