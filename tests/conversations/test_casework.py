"""Casework: every staff operation, its record, its letter and its refusals.

Every test runs on SQLite and PostgreSQL. The clock starts at 10:00 on Wednesday 23 December
2026; a complaint logged and acknowledged then has its stage 1 response due on Monday
11 January 2027 (CODE.md's worked example).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conversations.casework import (
    Casework,
    ResponseFile,
    ResponseIncompleteError,
)
from conversations.envelopes import STAFF_CHANNEL
from conversations.notify import Notifier
from conversations.wording import Wording
from core.clock import LONDON, FrozenClock
from core.complaints.enums import EventKind, Outcome, RemedyType, Status
from core.complaints.models import Actor, Complaint
from core.db.store import Store
from core.deadlines import DeadlineRules
from core.errors import (
    DomainError,
    ExtensionRefusedError,
    HandlerConflictError,
    IllegalTransitionError,
    InvalidReferenceError,
    NotFoundError,
)
from core.outbox.models import OutboxMessage
from core.references import ReferenceKind, new_reference
from core.residents.models import ContactPreferences, Identity, Resident
from core.settings import LandlordSettings, OmbudsmanSettings
from tests.conftest import Services

OFFICER = "officer-1"
REVIEWER = "officer-2"
LIST_KEYS = {
    "reference",
    "stage",
    "status",
    "received_at",
    "acknowledge_by",
    "response_by",
    "handler",
    "overdue",
}
SHOW_KEYS = LIST_KEYS | {
    "elements",
    "outcomes_sought",
    "extensions",
    "remedies",
    "events",
}


def default_wording() -> Wording:
    return Wording(
        landlord=LandlordSettings(name="Riverside Homes", complaints_phone="0161 000 0000"),
        ombudsman=OmbudsmanSettings(),
    )


def build_casework(
    store: Store,
    clock: FrozenClock,
    services: Services,
    rules: DeadlineRules,
    data_dir: Path,
    *,
    wording: Wording | None = None,
) -> Casework:
    wording = wording or default_wording()
    return Casework(
        store=store,
        clock=clock,
        rules=rules,
        complaints=services.complaints,
        residents=services.residents,
        notifier=Notifier(outbox=services.outbox, wording=wording, clock=clock),
        wording=wording,
        data_dir=data_dir,
    )


def full_response(points: int = 2, **extra: Any) -> ResponseFile:
    return ResponseFile.model_validate(
        {
            "decisions": [
                {
                    "point": n,
                    "decision": "upheld" if n == 1 else "not_upheld",
                    "reasons": f"Reasons for point {n}",
                }
                for n in range(1, points + 1)
            ],
            **extra,
        }
    )


@dataclass
class Desk:
    store: Store
    clock: FrozenClock
    services: Services
    casework: Casework
    data_dir: Path
    residents: int = 0

    async def complaint(
        self,
        *,
        identities: tuple[Identity, ...] | None = None,
        acknowledged: bool = True,
        preferences: ContactPreferences | None = None,
        aware_on: date | None = None,
    ) -> Complaint:
        self.residents += 1
        identities = identities or (
            Identity(channel="telegram", address=f"{1000 + self.residents}"),
        )
        async with self.store.unit_of_work() as uow:
            resident = await uow.residents.add(
                Resident(
                    identities=identities,
                    preferences=preferences or ContactPreferences(),
                    created_at=self.clock.now(),
                )
            )
            complaint = await self.services.complaints.log(
                uow,
                resident_id=resident.id or 0,
                channel=identities[0].channel,
                received_at=self.clock.now(),
                elements=["The boiler repair was missed three times", "Nobody called back"],
                outcomes_sought=["Fix the boiler", "An apology"],
                aware_on=aware_on,
                actor=Actor.resident(resident.id or 0),
            )
            if acknowledged:
                complaint = await self.services.complaints.acknowledge(
                    uow, reference=complaint.reference, actor=Actor.system()
                )
        return complaint

    async def get(self, reference: str) -> Complaint:
        async with self.store.unit_of_work() as uow:
            return await self.services.complaints.get(uow, reference=reference)

    async def letters(self, complaint: Complaint) -> list[OutboxMessage]:
        async with self.store.unit_of_work() as uow:
            return await uow.outbox.for_complaint(complaint.id or 0)

    async def last_letter(self, complaint: Complaint) -> str:
        rows = await self.letters(complaint)
        assert rows, "no letter queued"
        return str(rows[-1].payload["text"])

    async def staff_notices(self) -> list[OutboxMessage]:
        async with self.store.unit_of_work() as uow:
            rows = await uow.outbox.claim_due(self.clock.now() + timedelta(days=400), limit=500)
        return [r for r in rows if r.channel == STAFF_CHANNEL]

    def at(self, moment: datetime) -> None:
        self.clock.set(moment)


@pytest.fixture
def desk(
    store: Store,
    clock: FrozenClock,
    services: Services,
    rules: DeadlineRules,
    tmp_path: Path,
) -> Desk:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return Desk(
        store=store,
        clock=clock,
        services=services,
        casework=build_casework(store, clock, services, rules, data_dir),
        data_dir=data_dir,
    )


# --------------------------------------------------------------------------- list and show


async def test_list_has_the_documented_keys_and_filters(desk: Desk) -> None:
    first = await desk.complaint()
    second = await desk.complaint(acknowledged=False)
    await desk.casework.assign(first.reference, stage=1, handler="sam", by=OFFICER)
    listed = await desk.casework.list_cases()
    assert [i.reference for i in listed.items] == [second.reference, first.reference]
    for item in listed.to_json_array():
        assert set(item) >= LIST_KEYS
    row = next(i for i in listed.to_json_array() if i["reference"] == first.reference)
    assert row["response_by"] == "2027-01-11"
    assert row["acknowledge_by"] == "2027-01-04"
    assert row["handler"] == "sam"
    assert row["overdue"] is False
    assert row["received_at"].startswith("2026-12-23T10:00")
    assert [i.reference for i in (await desk.casework.list_cases(handler="sam")).items] == [
        first.reference
    ]
    assert (await desk.casework.list_cases(stage=2)).items == []
    due_soon = await desk.casework.list_cases(due_by=date(2027, 1, 5))
    assert [i.reference for i in due_soon.items] == [second.reference]  # ack due 4 January
    assert "OVERDUE" not in listed.text and first.reference in listed.text


async def test_overdue_are_those_whose_next_deadline_has_passed(desk: Desk) -> None:
    late = await desk.complaint(acknowledged=False)  # acknowledgement due 4 January (CHC-6.2)
    desk.at(datetime(2027, 1, 5, 9, 0, tzinfo=LONDON))
    on_time = await desk.complaint(acknowledged=False)
    overdue = await desk.casework.list_cases(overdue=True)
    assert [i.reference for i in overdue.items] == [late.reference]
    assert overdue.items[0].overdue is True
    assert on_time.reference not in overdue.text
    assert "OVERDUE" in overdue.text


async def test_finished_complaints_leave_the_work_list(desk: Desk) -> None:
    complaint = await desk.complaint()
    await desk.casework.withdraw(complaint.reference, by=OFFICER)
    assert (await desk.casework.list_cases()).items == []
    assert len((await desk.casework.list_cases(include_finished=True)).items) == 1


async def test_show_has_the_documented_keys_and_the_record(desk: Desk) -> None:
    complaint = await desk.complaint()
    await desk.casework.message(complaint.reference, text="We are on it.", by=OFFICER)
    await desk.casework.respond(complaint.reference, response=full_response(), by=OFFICER)
    case = await desk.casework.show(complaint.reference.lower())
    data = case.to_json()
    assert set(data) >= SHOW_KEYS
    assert data["elements"][0]["text"] == "The boiler repair was missed three times"
    assert data["elements"][0]["decision"] == "upheld"
    assert data["elements"][1]["reasons"] == "Reasons for point 2"
    assert data["outcomes_sought"] == ["Fix the boiler", "An apology"]
    messages = [e for e in data["events"] if e["direction"] is not None]
    assert {"type", "at", "actor", "channel"} <= set(data["events"][0])
    assert messages[0]["direction"] == "out"
    assert "We are on it." in messages[0]["text"]
    assert messages[0]["actor"] == f"staff:{OFFICER}"
    assert messages[0]["channel"] == "telegram"
    assert data["handler"] == OFFICER  # the responder became the stage 1 handler
    assert json.loads(json.dumps(data)) == data
    assert complaint.reference in case.text and "Reasons for point 2" in case.text


async def test_show_unknown_and_mistyped_references(desk: Desk) -> None:
    unknown = new_reference(ReferenceKind.COMPLAINT)
    with pytest.raises(NotFoundError, match=f"no complaint {unknown}"):
        await desk.casework.show(unknown)
    complaint = await desk.complaint()
    typo = complaint.reference[:-1] + ("A" if complaint.reference[-1] != "A" else "B")
    with pytest.raises(InvalidReferenceError):
        await desk.casework.show(typo)


# --------------------------------------------------------------------------- handling


async def test_a_stage_2_handler_who_handled_stage_1_is_refused(desk: Desk) -> None:  # CHC-6.13
    complaint = await desk.complaint()
    await desk.casework.assign(complaint.reference, stage=1, handler="Sam", by=OFFICER)
    with pytest.raises(HandlerConflictError, match="sam handled stage 1 of .*CHC-6.13"):
        await desk.casework.assign(complaint.reference, stage=2, handler="sam", by=OFFICER)
    result = await desk.casework.assign(complaint.reference, stage=2, handler="Kim", by=OFFICER)
    assert "Kim" in result.text


async def test_a_note_is_recorded_and_never_sent(desk: Desk) -> None:
    complaint = await desk.complaint()
    result = await desk.casework.note(complaint.reference, text="Called; no answer", by=OFFICER)
    assert result.told == []
    assert await desk.letters(complaint) == []
    events = (await desk.casework.show(complaint.reference)).events
    assert events[-1].type == EventKind.NOTE.value
    assert events[-1].summary == "Called; no answer"
    assert events[-1].actor == f"staff:{OFFICER}"


async def test_a_message_reaches_the_resident_once_per_request(desk: Desk) -> None:
    complaint = await desk.complaint()
    first = await desk.casework.message(
        complaint.reference, text="Engineer booked.", by=OFFICER, request_id="tg:1"
    )
    again = await desk.casework.message(
        complaint.reference, text="Engineer booked.", by=OFFICER, request_id="tg:1"
    )
    assert first.told == ["telegram"]
    assert again.repeated is True
    rows = await desk.letters(complaint)
    assert len(rows) == 1
    assert "Engineer booked." in rows[0].payload["text"]
    assert OFFICER not in rows[0].payload["text"]  # 2020 CHC-3.17: no staff names


async def test_acting_needs_a_staff_id(desk: Desk) -> None:
    complaint = await desk.complaint()
    with pytest.raises(DomainError, match="who is acting"):
        await desk.casework.note(complaint.reference, text="x", by=" ")


# --------------------------------------------------------------------------- extensions


async def test_extension_letter_gives_reason_new_date_and_ombudsman(desk: Desk) -> None:
    # CHC-6.4, CHC-6.5: reason, new date and the Ombudsman's contact details, in writing.
    complaint = await desk.complaint()
    result = await desk.casework.extend(
        complaint.reference, working_days=5, reason="We are waiting for a surveyor", by=OFFICER
    )
    assert result.details["new_due_on"] == "2027-01-18"
    assert result.warnings == []
    letter = await desk.last_letter(complaint)
    assert "We are waiting for a surveyor" in letter
    assert "Monday 11 January 2027" in letter and "Monday 18 January 2027" in letter
    assert "0300 111 3000" in letter and "PO Box 1484" in letter
    case = await desk.casework.show(complaint.reference)
    assert case.response_by == date(2027, 1, 18)
    assert case.extensions[0].notified_at is not None


async def test_extension_beyond_the_limit_needs_a_good_reason(desk: Desk) -> None:
    # CHC-6.4: 10 working days after 11 January is 25 January.
    complaint = await desk.complaint()
    with pytest.raises(ExtensionRefusedError, match="--good-reason"):
        await desk.casework.extend(
            complaint.reference, until=date(2027, 1, 26), reason="Survey", by=OFFICER
        )
    assert await desk.letters(complaint) == []
    result = await desk.casework.extend(
        complaint.reference,
        until=date(2027, 1, 26),
        reason="Survey",
        good_reason="The resident asked us to wait for their solicitor",
        by=OFFICER,
    )
    assert [w.code for w in result.warnings] == ["beyond_limit"]
    assert "wait for their solicitor" in await desk.last_letter(complaint)


async def test_extension_on_the_due_day_warns_and_after_it_is_refused(desk: Desk) -> None:
    complaint = await desk.complaint()
    desk.at(datetime(2027, 1, 11, 9, 0, tzinfo=LONDON))
    result = await desk.casework.extend(
        complaint.reference, working_days=2, reason="Survey", by=OFFICER
    )
    assert [w.code for w in result.warnings] == ["late"]
    assert "2027-01-11" in result.text
    desk.at(datetime(2027, 1, 14, 9, 0, tzinfo=LONDON))
    with pytest.raises(ExtensionRefusedError, match="before the deadline passes"):
        await desk.casework.extend(complaint.reference, working_days=2, reason="x", by=OFFICER)


async def test_extension_needs_exactly_one_of_days_or_date(desk: Desk) -> None:
    complaint = await desk.complaint()
    with pytest.raises(DomainError):
        await desk.casework.extend(complaint.reference, reason="x", by=OFFICER)


# --------------------------------------------------------------------------- responses


async def test_an_incomplete_response_is_refused_with_everything_missing(desk: Desk) -> None:
    # CHC-6.7, CHC-6.9: every point decided with reasons; remedies say what and by when.
    complaint = await desk.complaint()
    response = ResponseFile.model_validate(
        {
            "decisions": [{"point": 1, "decision": "upheld"}, {"point": 7, "reasons": "x"}],
            "remedies": [{"type": "financial", "what": "Compensation"}],
        }
    )
    with pytest.raises(ResponseIncompleteError) as refused:
        await desk.casework.respond(complaint.reference, response=response, by=OFFICER)
    missing = refused.value.missing
    assert any(m.startswith("point 1") and "no reasons" in m for m in missing)
    assert any(m.startswith("point 2") and "no decision" in m for m in missing)
    assert any(m.startswith("point 7") and "no such point" in m for m in missing)
    assert "remedy 1: by when (CHC-7.3)" in missing
    assert "remedy 1: the amount of a financial remedy" in missing
    assert "CHC-6.9" in str(refused.value)
    assert (await desk.get(complaint.reference)).status == Status.ACKNOWLEDGED
    assert await desk.letters(complaint) == []


async def test_stage_1_response_letter_has_every_part(desk: Desk) -> None:  # CHC-6.9
    complaint = await desk.complaint()
    response = full_response(
        summary="Thank you for your patience.",
        remedies=[{"type": "apology", "what": "We apologise", "by": "2027-01-08"}],
        actions=[{"what": "Replace the boiler", "by": "2027-02-01"}],
    )
    desk.at(datetime(2027, 1, 7, 14, 0, tzinfo=LONDON))
    result = await desk.casework.respond(complaint.reference, response=response, by=OFFICER)
    assert result.status == Status.RESPONDED.value
    assert result.told == ["telegram"]
    letter = await desk.last_letter(complaint)
    for part in (
        "stage 1",
        "Thursday 7 January 2027",
        "The boiler repair was missed three times",
        "You would like: Fix the boiler; An apology",
        "Decision: upheld.",
        "Why: Reasons for point 1",
        "Decision: not upheld.",
        "An apology: We apologise, by Friday 8 January 2027",
        "Replace the boiler, by Monday 1 February 2027",
        "stage 2",
        "You don't have to give a reason",
        "Thank you for your patience.",
    ):
        assert part in letter, part
    assert (await desk.get(complaint.reference)).stage1.handler == OFFICER


async def test_stage_2_response_cannot_come_from_the_stage_1_handler(desk: Desk) -> None:
    complaint = await desk.complaint()
    await desk.casework.respond(complaint.reference, response=full_response(), by=OFFICER)
    await desk.casework.escalate(complaint.reference, by=OFFICER)
    with pytest.raises(HandlerConflictError, match="CHC-6.13"):
        await desk.casework.accept_escalation(complaint.reference, by=OFFICER)
    await desk.casework.accept_escalation(complaint.reference, by=REVIEWER)
    await desk.casework.assign(complaint.reference, stage=2, handler="someone-else", by=REVIEWER)
    with pytest.raises(HandlerConflictError, match="CHC-6.13"):
        await desk.casework.respond(complaint.reference, response=full_response(), by=OFFICER)


async def test_final_response_letter_says_final_and_how_to_go_to_the_ombudsman(
    desk: Desk,
) -> None:  # CHC-6.19
    complaint = await desk.complaint()
    await desk.casework.respond(complaint.reference, response=full_response(), by=OFFICER)
    await desk.casework.escalate(complaint.reference, by=OFFICER)
    accepted = await desk.casework.accept_escalation(complaint.reference, by=REVIEWER)
    assert accepted.stage == 2
    result = await desk.casework.respond(
        complaint.reference, response=full_response(stage=2), by=REVIEWER
    )
    assert result.status == Status.FINAL_RESPONSE_SENT.value
    letter = await desk.last_letter(complaint)
    for part in (
        "stage 2",
        "final response",
        "Housing Ombudsman",
        "directly",
        "0300 111 3000",
        "https://www.housing-ombudsman.org.uk/residents/make-a-complaint/",
        "Nobody called back",
        "Why: Reasons for point 2",
    ):
        assert part in letter, part


async def test_a_response_file_for_the_wrong_stage_is_refused(desk: Desk) -> None:
    complaint = await desk.complaint()
    with pytest.raises(ResponseIncompleteError, match="answers stage 2"):
        await desk.casework.respond(
            complaint.reference, response=full_response(stage=2), by=OFFICER
        )


# --------------------------------------------------------------------------- escalation


async def test_staff_escalation_tells_the_acknowledgement_date(desk: Desk) -> None:
    # CHC-6.11, 6.12: no reason needed; acknowledge within 5 working days.
    complaint = await desk.complaint()
    desk.at(datetime(2027, 1, 6, 11, 0, tzinfo=LONDON))
    await desk.casework.respond(complaint.reference, response=full_response(), by=OFFICER)
    result = await desk.casework.escalate(complaint.reference, by=OFFICER)
    assert result.status == Status.ESCALATION_REQUESTED.value
    letter = await desk.last_letter(complaint)
    assert "Wednesday 13 January 2027" in letter
    assert "don't have to give a reason" in letter


async def test_accepting_an_escalation_restates_the_definition(desk: Desk) -> None:
    # CHC-5.6, CHC-6.11, CHC-6.14.
    complaint = await desk.complaint()
    await desk.casework.respond(complaint.reference, response=full_response(), by=OFFICER)
    await desk.casework.escalate(complaint.reference, by=OFFICER, reason="Still no heating")
    result = await desk.casework.accept_escalation(complaint.reference, by=REVIEWER)
    letter = await desk.last_letter(complaint)
    assert "stage 2" in letter
    assert "Nobody called back" in letter
    assert "Still no heating" in letter
    assert "misunderstood" in letter
    assert "Monday 25 January 2027" in letter  # 20 working days after 23 December
    assert result.details == {}
    assert (await desk.get(complaint.reference)).stage2.handler == REVIEWER


async def test_no_escalation_waiting_is_a_clear_error(desk: Desk) -> None:
    complaint = await desk.complaint()
    with pytest.raises(DomainError, match="no stage 2 request is waiting"):
        await desk.casework.accept_escalation(complaint.reference, by=REVIEWER)
    with pytest.raises(DomainError, match="no stage 2 request is waiting"):
        await desk.casework.refuse_escalation(complaint.reference, reason="x", by=REVIEWER)


async def test_a_refused_escalation_explains_and_gives_the_ombudsman(desk: Desk) -> None:
    complaint = await desk.complaint()
    await desk.casework.respond(complaint.reference, response=full_response(), by=OFFICER)
    await desk.casework.escalate(complaint.reference, by=OFFICER)
    result = await desk.casework.refuse_escalation(
        complaint.reference, reason="Court proceedings have started", by=REVIEWER
    )
    assert result.action == "escalation_refuse"
    letter = await desk.last_letter(complaint)
    assert "not to take your complaint" in letter
    assert "Court proceedings have started" in letter
    assert "right to ask the Housing Ombudsman" in letter  # CHC-2.4
    assert "0300 111 3000" in letter


# --------------------------------------------------------------------------- refusals


async def test_refusal_needs_a_reason_and_gives_the_ombudsman_right(desk: Desk) -> None:
    complaint = await desk.complaint(aware_on=date(2025, 6, 1))
    assert complaint.exclusions_flagged  # CHC-2.2: flagged, not applied
    assert (await desk.get(complaint.reference)).status == Status.ACKNOWLEDGED
    listed = await desk.casework.list_cases()
    assert listed.items[0].exclusions_flagged == ["over_twelve_months"]
    with pytest.raises(DomainError, match="CHC-2.4"):
        await desk.casework.refuse(complaint.reference, reason="  ", by=OFFICER)
    result = await desk.casework.refuse(
        complaint.reference, reason="This happened in June 2025", by=OFFICER
    )
    assert result.status == Status.REFUSED.value
    assert result.details["exclusions_flagged"] == ["over_twelve_months"]
    letter = await desk.last_letter(complaint)
    assert "not to accept your complaint" in letter
    assert "This happened in June 2025" in letter
    assert "right to ask the Housing Ombudsman" in letter
    assert "0300 111 3000" in letter


async def test_flagged_exclusions_warn_on_escalation_but_decide_nothing(desk: Desk) -> None:
    complaint = await desk.complaint(aware_on=date(2025, 6, 1))
    await desk.casework.respond(complaint.reference, response=full_response(), by=OFFICER)
    result = await desk.casework.escalate(complaint.reference, by=OFFICER)
    assert [w.code for w in result.warnings] == ["exclusion_flagged"]
    assert "Only a person can decide" in result.text
    assert result.status == Status.ESCALATION_REQUESTED.value


# --------------------------------------------------------------------------- remedies


async def test_remedy_is_tracked_to_completion_and_the_resident_hears(desk: Desk) -> None:
    # CHC-7.3, CHC-5.13.
    complaint = await desk.complaint()
    with pytest.raises(DomainError, match="by when"):
        await desk.casework.add_remedy(
            complaint.reference,
            remedy_type=RemedyType.APOLOGY,
            what="Apologise",
            due_on=None,
            by=OFFICER,
        )
    added = await desk.casework.add_remedy(
        complaint.reference,
        remedy_type=RemedyType.FINANCIAL,
        what="Compensation for the heaters",
        due_on=date(2027, 1, 15),
        amount_pence=12_500,
        by=OFFICER,
    )
    remedy_id = added.details["remedy_id"]
    offered = await desk.last_letter(complaint)
    assert "A payment: Compensation for the heaters (£125.00), by Friday 15 January 2027" in offered
    desk.at(datetime(2027, 1, 14, 12, 0, tzinfo=LONDON))
    done = await desk.casework.complete_remedy(complaint.reference, remedy_id=remedy_id, by=OFFICER)
    assert done.told == ["telegram"]
    letter = await desk.last_letter(complaint)
    assert "is done" in letter and "Thursday 14 January 2027" in letter
    with pytest.raises(DomainError, match="done"):
        await desk.casework.complete_remedy(complaint.reference, remedy_id=remedy_id, by=OFFICER)
    with pytest.raises(NotFoundError):
        await desk.casework.complete_remedy(complaint.reference, remedy_id=999, by=OFFICER)


async def test_outstanding_actions_are_tracked_and_the_resident_hears(desk: Desk) -> None:
    # CHC-6.6: the response is sent when the answer is known; the work is tracked to the end.
    complaint = await desk.complaint()
    response = full_response(actions=[{"what": "Replace the boiler", "by": "2027-01-29"}])
    await desk.casework.respond(complaint.reference, response=response, by=OFFICER)
    with pytest.raises(DomainError, match="by when"):
        await desk.casework.add_action(
            complaint.reference, what="Check the radiators", due_on=None, by=OFFICER
        )
    added = await desk.casework.add_action(
        complaint.reference, what="Check the radiators", due_on=date(2027, 2, 5), by=OFFICER
    )
    assert "Check the radiators, by Friday 5 February 2027" in await desk.last_letter(complaint)
    first = (await desk.casework.show(complaint.reference)).actions[0]
    desk.at(datetime(2027, 1, 28, 15, 0, tzinfo=LONDON))
    done = await desk.casework.complete_action(
        complaint.reference, action_id=first.id or 0, by=OFFICER
    )
    assert done.told == ["telegram"]
    letter = await desk.last_letter(complaint)
    assert "Replace the boiler" in letter and "Thursday 28 January 2027" in letter
    assert "Check the radiators, by Friday 5 February 2027" in letter  # still to do
    with pytest.raises(DomainError, match="done"):
        await desk.casework.complete_action(
            complaint.reference, action_id=first.id or 0, by=OFFICER
        )
    assert added.details["action_id"] != first.id


# --------------------------------------------------------------------------- close, withdraw


async def test_closing_with_work_outstanding_warns_and_tells_the_resident(desk: Desk) -> None:
    complaint = await desk.complaint()
    response = full_response(actions=[{"what": "Replace the boiler", "by": "2027-02-01"}])
    await desk.casework.respond(complaint.reference, response=response, by=OFFICER)
    result = await desk.casework.close(complaint.reference, by=OFFICER)
    assert result.status == Status.CLOSED.value
    assert [w.code for w in result.warnings] == ["still_to_do"]
    letter = await desk.last_letter(complaint)
    assert "closed" in letter and "Replace the boiler" in letter
    assert "stage 2" in letter  # CHC-6.10: a later request is still considered


async def test_an_open_complaint_cannot_be_closed(desk: Desk) -> None:
    complaint = await desk.complaint()
    with pytest.raises(IllegalTransitionError):
        await desk.casework.close(complaint.reference, by=OFFICER)


async def test_withdrawal_is_confirmed_in_writing(desk: Desk) -> None:
    complaint = await desk.complaint()
    result = await desk.casework.withdraw(complaint.reference, by=OFFICER)
    assert result.status == Status.WITHDRAWN.value
    assert "withdrawn your complaint" in await desk.last_letter(complaint)


# --------------------------------------------------------------------------- the resident


async def test_restriction_routes_letters_and_is_explained(desk: Desk) -> None:  # CHC-5.14
    complaint = await desk.complaint(
        identities=(
            Identity(channel="telegram", address="1001"),
            Identity(channel="email", address="sam@example.org"),
        )
    )
    with pytest.raises(DomainError, match="say what the restriction is"):
        await desk.casework.restrict(
            complaint.reference, reason="x", review_on=date(2027, 3, 1), by=OFFICER
        )
    result = await desk.casework.restrict(
        f"resident:{complaint.resident_id}",
        reason="Repeated abusive messages",
        review_on=date(2027, 3, 1),
        channels=["email"],
        by=OFFICER,
    )
    assert result.told == ["email"]
    letter = await desk.last_letter(complaint)
    assert "We will only be in contact with you by email." in letter
    assert "Repeated abusive messages" in letter
    assert "Monday 1 March 2027" in letter
    assert "does not stop you from making or following a complaint" in letter
    message = await desk.casework.message(complaint.reference, text="Update", by=OFFICER)
    assert message.told == ["email"]
    lifted = await desk.casework.unrestrict("email:sam@example.org", by=OFFICER)
    assert lifted.details["restriction_id"] == result.details["restriction_id"]
    again = await desk.casework.message(complaint.reference, text="Update 2", by=OFFICER)
    assert again.told == ["telegram"]
    with pytest.raises(NotFoundError):
        await desk.casework.unrestrict(complaint.reference, by=OFFICER)


async def test_adjustments_are_recorded_and_honoured(desk: Desk) -> None:  # CHC-5.10, 3.1
    complaint = await desk.complaint(
        identities=(
            Identity(channel="telegram", address="1001"),
            Identity(channel="email", address="sam@example.org"),
        )
    )
    with pytest.raises(DomainError, match="nothing to record"):
        await desk.casework.adjust(complaint.reference, by=OFFICER)
    result = await desk.casework.adjust(
        str(complaint.resident_id),
        large_print=True,
        channel="email",
        update_every=3,
        add=["Dyslexia: short sentences"],
        by=OFFICER,
    )
    assert result.told == ["email"]  # the preferred channel is used at once
    letter = await desk.letters(complaint)
    assert letter[-1].payload["large_print"] is True
    text = str(letter[-1].payload["text"])
    assert "Large print" in text and "Contact by email" in text
    assert "every 3 working days" in text and "Dyslexia" in text
    async with desk.store.unit_of_work() as uow:
        resident = await uow.residents.get(complaint.resident_id)
    assert resident.preferences.update_interval_working_days == 3
    assert resident.adjustments == ("Dyslexia: short sentences",)
    # CHC-5.9: the next update keeps to the new interval (it was due 4 January).
    async with desk.store.unit_of_work() as uow:
        again = await uow.complaints.get_by_reference(complaint.reference)
    assert again.next_update_due_on == date(2026, 12, 30)


async def test_unknown_resident_is_a_clear_error(desk: Desk) -> None:
    with pytest.raises(NotFoundError, match="no resident 999"):
        await desk.casework.adjust("999", large_print=True, by=OFFICER)


# --------------------------------------------------------------------------- export


async def test_export_writes_a_self_contained_bundle(desk: Desk, tmp_path: Path) -> None:
    complaint = await desk.complaint()
    kept = desk.data_dir / "evidence" / "telegram" / "photo-1.jpg"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"\xff\xd8 a photo")
    outside = tmp_path / "secret.txt"
    outside.write_text("not evidence")
    async with desk.store.unit_of_work() as uow:
        from core.complaints.models import Event  # noqa: PLC0415

        await uow.events.append(
            Event(
                complaint_id=complaint.id,
                resident_id=complaint.resident_id,
                occurred_at=desk.clock.now(),
                actor=Actor.resident(complaint.resident_id),
                channel="telegram",
                kind=EventKind.EVIDENCE,
                summary="2 file(s) received",
                data={
                    "attachments": [
                        {"kind": "photo", "reference": str(kept), "filename": "mould.jpg"},
                        {"kind": "document", "reference": str(outside), "filename": "x.txt"},
                    ]
                },
            )
        )
    await desk.casework.note(complaint.reference, text="<script>alert(1)</script>", by=OFFICER)
    out = tmp_path / "bundle"
    result = await desk.casework.export(complaint.reference, out=out, by=OFFICER)
    assert [w.code for w in result.warnings] == ["evidence_missing"]
    assert (out / "evidence" / "001-mould.jpg").read_bytes() == b"\xff\xd8 a photo"
    assert not list((out / "evidence").glob("*x.txt"))  # never copied from outside data/
    html = (out / "case.html").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "<link" not in html and "src=" not in html  # self-contained: inline CSS only
    assert 'href="evidence/001-mould.jpg"' in html
    assert complaint.reference in html and "Riverside Homes" in html
    record = json.loads((out / "case.json").read_text())
    assert set(record) >= SHOW_KEYS
    assert record["exported_by"] == OFFICER
    assert record["evidence"][0]["bundle_path"] == "evidence/001-mould.jpg"
    assert record["evidence"][1]["available"] is False
    events = (await desk.casework.show(complaint.reference)).events
    assert events[-1].summary.startswith("Case file exported")


async def test_every_staff_action_is_recorded_with_the_acting_staff_member(desk: Desk) -> None:
    # CHC-5.12: who did what, when.
    complaint = await desk.complaint()
    await desk.casework.extend(complaint.reference, working_days=1, reason="Survey", by=OFFICER)
    await desk.casework.respond(complaint.reference, response=full_response(), by=OFFICER)
    events = (await desk.casework.show(complaint.reference)).events
    staff_kinds = {e.type for e in events if e.actor == f"staff:{OFFICER}"}
    assert {
        EventKind.EXTENSION.value,
        EventKind.DECISION.value,
        EventKind.TRANSITION.value,
        EventKind.HANDLER_ASSIGNED.value,
        EventKind.MESSAGE_OUT.value,
    } <= staff_kinds


async def test_a_letter_is_keyed_by_its_event(desk: Desk) -> None:
    complaint = await desk.complaint()
    await desk.casework.withdraw(complaint.reference, by=OFFICER)
    (row,) = await desk.letters(complaint)
    events = (await desk.casework.show(complaint.reference)).events
    transition = next(
        e for e in events if e.type == EventKind.TRANSITION.value and e.actor != "system"
    )
    assert row.idempotency_key == f"letter:event:{transition.id}:telegram"


@pytest.mark.parametrize("outcome", list(Outcome))
def test_every_outcome_is_accepted_in_a_response_file(outcome: Outcome) -> None:
    response = ResponseFile.model_validate(
        {"decisions": [{"point": 1, "decision": outcome.value, "reasons": "r"}]}
    )
    assert response.decisions[0].decision == outcome
