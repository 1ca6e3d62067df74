"""Service requests (CHC-1.4): "my boiler is broken" is recorded and trackable, not a complaint.

Dissatisfaction with how a request is handled is a complaint even while the request is open
(CHC-1.5); the request carries on beside it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from core.clock import Clock
from core.complaints.enums import EventKind, ServiceRequestStatus
from core.complaints.models import Actor, Event, ServiceRequest
from core.db.store import UnitOfWork
from core.errors import DomainError, IllegalTransitionError
from core.references import ReferenceKind, new_reference, normalise

SERVICE_REQUEST_TRANSITIONS: Final[frozenset[tuple[ServiceRequestStatus, ServiceRequestStatus]]] = (
    frozenset(
        {
            (ServiceRequestStatus.OPEN, ServiceRequestStatus.COMPLETED),
            (ServiceRequestStatus.OPEN, ServiceRequestStatus.CANCELLED),
        }
    )
)


class ServiceRequestService:
    """Record and track service requests.

    Args:
        clock: where "now" comes from.
    """

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock

    async def log(
        self,
        uow: UnitOfWork,
        *,
        resident_id: int,
        channel: str,
        received_at: datetime,
        description: str,
        actor: Actor,
        location: str | None = None,
    ) -> ServiceRequest:
        """Record a service request with its own reference (CHC-1.4).

        Raises:
            DomainError: the description is empty.
        """
        if not description.strip():
            raise DomainError("a service request must say what needs doing")
        request = await uow.service_requests.add(
            ServiceRequest(
                reference=new_reference(ReferenceKind.SERVICE_REQUEST),
                resident_id=resident_id,
                channel=channel,
                received_at=received_at,
                description=description.strip(),
                location=location,
            )
        )
        await self._event(uow, request, "Service request recorded", actor, channel=channel)
        return request

    async def set_status(
        self, uow: UnitOfWork, *, reference: str, status: ServiceRequestStatus, actor: Actor
    ) -> ServiceRequest:
        """Move a service request to ``status``.

        Raises:
            IllegalTransitionError: the step is not allowed (e.g. reopening a completed one).
        """
        request = await uow.service_requests.get_by_reference(normalise(reference))
        if (request.status, status) not in SERVICE_REQUEST_TRANSITIONS:
            raise IllegalTransitionError(
                f"cannot move service request {request.reference} from {request.status.value} "
                f"to {status.value}"
            )
        updated = await uow.service_requests.save(
            request.model_copy(update={"status": status, "closed_at": self._clock.now()})
        )
        await self._event(uow, updated, f"Service request {status.value}", actor)
        return updated

    async def _event(
        self,
        uow: UnitOfWork,
        request: ServiceRequest,
        summary: str,
        actor: Actor,
        *,
        channel: str | None = None,
    ) -> Event:
        return await uow.events.append(
            Event(
                service_request_id=request.id,
                resident_id=request.resident_id,
                occurred_at=self._clock.now(),
                actor=actor,
                channel=channel,
                kind=EventKind.TRANSITION,
                summary=summary,
                data={"status": request.status.value},
            )
        )
