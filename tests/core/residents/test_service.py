"""Residents: preferences and contact restrictions set by a person (CHC-5.10, CHC-5.14)."""

from __future__ import annotations

from datetime import date

import pytest

from core.complaints.models import Actor
from core.db.store import Store
from core.errors import DomainError, NotFoundError
from core.residents.models import ContactPreferences
from tests.conftest import Services

STAFF = Actor.staff("manager-2")


async def test_restriction_needs_staff_reason_and_future_review(
    store: Store, services: Services
) -> None:
    async with store.unit_of_work() as uow:
        resident = await services.residents.identify(uow, channel="telegram", address="9")
        rid = resident.id or 0
        cases = [
            (Actor.system(), "Abusive calls", date(2027, 3, 1), "named member of staff"),
            (STAFF, " ", date(2027, 3, 1), "what it is and why"),
            (STAFF, "Abusive calls", date(2026, 12, 1), "review date in the future"),
        ]
        for actor, reason, review_on, message in cases:
            with pytest.raises(DomainError, match=message):
                await services.residents.restrict_contact(
                    uow,
                    resident_id=rid,
                    description="Email only",
                    reason=reason,
                    review_on=review_on,
                    actor=actor,
                    allowed_channels=("email",),
                )
        restriction = await services.residents.restrict_contact(
            uow,
            resident_id=rid,
            description="Email only",
            reason="Abusive calls on 3 occasions",
            review_on=date(2027, 3, 1),
            actor=STAFF,
            allowed_channels=("email",),
        )
    async with store.unit_of_work() as uow:
        stored = await uow.residents.get(rid)
        assert [r.allowed_channels for r in stored.restrictions if r.active] == [("email",)]
        await services.residents.lift_restriction(
            uow, resident_id=rid, restriction_id=restriction.id or 0, actor=STAFF
        )
        with pytest.raises(NotFoundError):
            await services.residents.lift_restriction(
                uow, resident_id=rid, restriction_id=restriction.id or 0, actor=STAFF
            )
        assert not any(r.active for r in (await uow.residents.get(rid)).restrictions)
        events = await uow.events.for_resident(rid)
    assert [e.summary for e in events] == [
        "Contact restricted: Email only (review by 2027-03-01)",
        f"Contact restriction {restriction.id} lifted",
    ]
    assert all(e.actor == STAFF for e in events)


async def test_preferences_and_adjustments_are_kept(store: Store, services: Services) -> None:
    async with store.unit_of_work() as uow:
        resident = await services.residents.identify(uow, channel="email", address="a@x.test")
        await services.residents.update(
            uow,
            resident_id=resident.id or 0,
            actor=Actor.resident(resident.id or 0),
            name="Ann",
            preferences=ContactPreferences(large_print=True, update_interval_working_days=3),
            adjustments=("large print",),
            vulnerabilities=("hearing impairment",),
        )
    async with store.unit_of_work() as uow:
        again = await uow.residents.get(resident.id or 0)
    assert again.name == "Ann"
    assert again.preferences.large_print
    assert again.preferences.update_interval_working_days == 3
    assert again.vulnerabilities == ("hearing impairment",)
