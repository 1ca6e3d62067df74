"""Service requests (CHC-1.4): recorded with their own reference and tracked."""

from __future__ import annotations

import pytest

from core.complaints.enums import ServiceRequestStatus
from core.complaints.models import Actor
from core.db.store import Store
from core.errors import DomainError, IllegalTransitionError
from core.references import ReferenceKind, is_valid
from tests.conftest import START, Services

STAFF = Actor.staff("officer-1")


async def test_log_and_complete_a_service_request(store: Store, services: Services) -> None:
    async with store.unit_of_work() as uow:
        resident = await services.residents.identify(uow, channel="telegram", address="7")
        request = await services.service_requests.log(
            uow,
            resident_id=resident.id or 0,
            channel="telegram",
            received_at=START,
            description="Kitchen tap leaking",
            location="Flat 3",
            actor=Actor.resident(resident.id or 0),
        )
    assert is_valid(request.reference)
    assert request.reference.startswith(ReferenceKind.SERVICE_REQUEST.value)
    async with store.unit_of_work() as uow:
        done = await services.service_requests.set_status(
            uow, reference=request.reference, status=ServiceRequestStatus.COMPLETED, actor=STAFF
        )
        assert done.closed_at == START
        with pytest.raises(IllegalTransitionError, match="completed to open"):
            await services.service_requests.set_status(
                uow, reference=request.reference, status=ServiceRequestStatus.OPEN, actor=STAFF
            )
        events = await uow.events.for_service_request(request.id or 0)
        listed = await uow.service_requests.for_resident(resident.id or 0)
    assert [e.summary for e in events] == ["Service request recorded", "Service request completed"]
    assert [r.status for r in listed] == [ServiceRequestStatus.COMPLETED]


async def test_an_empty_service_request_is_refused(store: Store, services: Services) -> None:
    async with store.unit_of_work() as uow:
        with pytest.raises(DomainError):
            await services.service_requests.log(
                uow,
                resident_id=1,
                channel="telegram",
                received_at=START,
                description="   ",
                actor=Actor.system(),
            )
