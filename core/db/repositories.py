"""Repositories: the only code that reads and writes tables. They never commit.

A repository works inside the transaction of the :class:`~core.db.store.UnitOfWork` that owns
it, so a state change, its events and its outbox messages commit together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.complaints.enums import Outcome, RemedyType, Stage, Status, TaskStatus
from core.complaints.lifecycle import OPEN_STATUSES
from core.complaints.models import (
    Complaint,
    Decision,
    Element,
    Event,
    Extension,
    OutstandingAction,
    Remedy,
    ServiceRequest,
)
from core.db.mapping import complaint_columns, complaint_from_row, row_values
from core.db.tables import (
    ActionRow,
    Base,
    ComplaintRow,
    ConversationRow,
    DeadLetterRow,
    DecisionRow,
    ElementRow,
    EventRow,
    ExtensionRow,
    IdentityRow,
    InboxRow,
    OutboxRow,
    ReceiptRow,
    RemedyRow,
    ResidentRow,
    RestrictionRow,
    ServiceRequestRow,
)
from core.errors import ConcurrencyError, NotFoundError
from core.outbox.models import DeadLetter, OutboxMessage, OutboxStatus
from core.reports.figures import ComplaintFacts, DecisionFacts, ExtensionFacts, RemedyFacts
from core.residents.models import ContactPreferences, ContactRestriction, Identity, Resident

M = TypeVar("M", bound=BaseModel)

_CHILD_TABLES: dict[str, tuple[type[Base], type[BaseModel]]] = {
    "elements": (ElementRow, Element),
    "decisions": (DecisionRow, Decision),
    "remedies": (RemedyRow, Remedy),
    "actions": (ActionRow, OutstandingAction),
    "extensions": (ExtensionRow, Extension),
}


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _insert_ignoring_duplicate(
        self, row_type: type[Base], values: dict[str, Any], *, unique: Sequence[str]
    ) -> bool:
        """Insert a row unless one with the same unique columns exists; return if inserted.

        On PostgreSQL a concurrent insert of the same key waits for the other transaction and
        then does nothing, which is exactly the redelivery behaviour wanted.
        """
        dialect = self._session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(row_type)
            .values(**values)
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(row_type.__table__.c.id)
        )
        result = await self._session.execute(statement)
        return result.scalar_one_or_none() is not None


def _child_values(model: BaseModel) -> dict[str, Any]:
    """Column values of a complaint's child record (stages stored as integers)."""
    values = model.model_dump(mode="python", exclude={"id"})
    return {k: (int(v) if isinstance(v, Stage) else v) for k, v in values.items()}


def _model(model_type: type[M], row: Any, *, exclude: Iterable[str] = ()) -> M:
    values = row_values(row, type(row))
    for name in exclude:
        values.pop(name, None)
    return model_type.model_validate(values)


def _after(day_column: Any, id_column: Any, after: tuple[date, int]) -> Any:
    """The keyset condition ``(day, id) > after`` of paged queries ordered by day then id."""
    day, row_id = after
    return or_(day_column > day, and_(day_column == day, id_column > row_id))


class ResidentRepository(_Repository):
    """Residents, their identities and contact restrictions."""

    async def add(self, resident: Resident) -> Resident:
        """Store a new resident with its identities; return it with ids."""
        row = ResidentRow(
            name=resident.name,
            preferences=resident.preferences.model_dump(mode="json"),
            adjustments=list(resident.adjustments),
            vulnerabilities=list(resident.vulnerabilities),
            created_at=resident.created_at,
        )
        self._session.add(row)
        await self._session.flush()
        for identity in resident.identities:
            self._session.add(IdentityRow(resident_id=row.id, **identity.model_dump()))
        await self._session.flush()
        return await self.get(row.id)

    async def get(self, resident_id: int) -> Resident:
        """Return the resident with ``resident_id``.

        Raises:
            NotFoundError: there is none.
        """
        row = await self._session.get(ResidentRow, resident_id)
        if row is None:
            raise NotFoundError(f"no resident {resident_id}")
        identities = await self._session.scalars(
            select(IdentityRow)
            .where(IdentityRow.resident_id == resident_id)
            .order_by(IdentityRow.id)
        )
        return await self._resident(
            row,
            tuple(
                Identity(
                    channel=i.channel, address=i.address, unreachable_since=i.unreachable_since
                )
                for i in identities
            ),
        )

    async def _resident(self, row: ResidentRow, identities: tuple[Identity, ...]) -> Resident:
        restrictions = await self._session.scalars(
            select(RestrictionRow)
            .where(RestrictionRow.resident_id == row.id)
            .order_by(RestrictionRow.id)
        )
        return Resident(
            id=row.id,
            name=row.name,
            identities=identities,
            preferences=ContactPreferences.model_validate(row.preferences),
            adjustments=tuple(row.adjustments),
            vulnerabilities=tuple(row.vulnerabilities),
            restrictions=tuple(
                _model(ContactRestriction, r, exclude=("resident_id",)) for r in restrictions
            ),
            created_at=row.created_at,
        )

    async def find_by_identity(self, channel: str, address: str) -> Resident | None:
        """Return the resident who has ``address`` on ``channel``, if any.

        One query finds the resident with all their identities; restrictions take a second.
        """
        mine = select(IdentityRow.resident_id).where(
            IdentityRow.channel == channel, IdentityRow.address == address
        )
        rows = (
            await self._session.execute(
                select(
                    ResidentRow,
                    IdentityRow.channel,
                    IdentityRow.address,
                    IdentityRow.unreachable_since,
                )
                .join(IdentityRow, IdentityRow.resident_id == ResidentRow.id)
                .where(ResidentRow.id == mine.scalar_subquery())
                .order_by(IdentityRow.id)
            )
        ).all()
        if not rows:
            return None
        row = rows[0][0]
        return await self._resident(
            row,
            tuple(Identity(channel=c, address=a, unreachable_since=u) for _, c, a, u in rows),
        )

    async def add_identity(self, resident_id: int, identity: Identity) -> None:
        """Link another channel identity to a resident (one person across channels)."""
        self._session.add(IdentityRow(resident_id=resident_id, **identity.model_dump()))
        await self._session.flush()

    async def set_unreachable(self, channel: str, address: str, since: datetime | None) -> None:
        """Record that an identity cannot be reached (``since``), or can again (``None``)."""
        await self._session.execute(
            update(IdentityRow)
            .where(IdentityRow.channel == channel, IdentityRow.address == address)
            .values(unreachable_since=since)
        )

    async def save(self, resident: Resident) -> None:
        """Store the resident's name, preferences, adjustments and vulnerabilities."""
        if resident.id is None:
            raise ValueError("save() needs a stored resident; use add()")
        await self._session.execute(
            update(ResidentRow)
            .where(ResidentRow.id == resident.id)
            .values(
                name=resident.name,
                preferences=resident.preferences.model_dump(mode="json"),
                adjustments=list(resident.adjustments),
                vulnerabilities=list(resident.vulnerabilities),
            )
        )

    async def add_restriction(
        self, resident_id: int, restriction: ContactRestriction
    ) -> ContactRestriction:
        """Record a contact restriction set by a person (CHC-5.14)."""
        row = RestrictionRow(
            resident_id=resident_id,
            **restriction.model_dump(exclude={"id"})
            | {"allowed_channels": list(restriction.allowed_channels)},
        )
        self._session.add(row)
        await self._session.flush()
        return _model(ContactRestriction, row, exclude=("resident_id",))

    async def lift_restriction(self, restriction_id: int, at: datetime) -> None:
        """Mark a contact restriction as lifted."""
        await self._session.execute(
            update(RestrictionRow).where(RestrictionRow.id == restriction_id).values(lifted_at=at)
        )


class ComplaintRepository(_Repository):
    """Complaints and the parts of their record: elements, decisions, remedies, …."""

    async def add(self, complaint: Complaint) -> Complaint:
        """Store a new complaint with its elements; return it with ids."""
        row = ComplaintRow(**complaint_columns(complaint))
        self._session.add(row)
        await self._session.flush()
        elements = [ElementRow(complaint_id=row.id, **_child_values(e)) for e in complaint.elements]
        self._session.add_all(elements)
        await self._session.flush()  # one batched insert for all the points
        return complaint.model_copy(
            update={
                "id": row.id,
                "elements": tuple(_model(Element, e, exclude=("complaint_id",)) for e in elements),
            }
        )

    async def save(self, complaint: Complaint) -> Complaint:
        """Store the complaint's own fields if nobody changed it since it was read.

        Returns the complaint with its version incremented.

        Raises:
            ConcurrencyError: another transaction changed the complaint first.
        """
        if complaint.id is None:
            raise ValueError("save() needs a stored complaint; use add()")
        values = complaint_columns(complaint)
        values["version"] = complaint.version + 1
        result = await self._session.execute(
            update(ComplaintRow)
            .where(ComplaintRow.id == complaint.id, ComplaintRow.version == complaint.version)
            .values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrencyError(f"complaint {complaint.reference} changed; reload and retry")
        return complaint.model_copy(update={"version": complaint.version + 1})

    async def get(self, complaint_id: int, *, for_update: bool = False) -> Complaint:
        """Return the complaint with ``complaint_id`` and its whole record.

        Args:
            complaint_id: the complaint's id.
            for_update: lock the row until the transaction ends (PostgreSQL).

        Raises:
            NotFoundError: there is none.
        """
        statement = select(ComplaintRow).where(ComplaintRow.id == complaint_id)
        if for_update:
            statement = statement.with_for_update()
        row = await self._session.scalar(statement)
        if row is None:
            raise NotFoundError(f"no complaint {complaint_id}")
        return (await self._with_children([row]))[0]

    async def get_by_reference(self, reference: str, *, for_update: bool = False) -> Complaint:
        """Return the complaint with ``reference`` (already normalised).

        Raises:
            NotFoundError: there is none.
        """
        statement = select(ComplaintRow).where(ComplaintRow.reference == reference)
        if for_update:
            statement = statement.with_for_update()
        row = await self._session.scalar(statement)
        if row is None:
            raise NotFoundError(f"no complaint {reference}")
        return (await self._with_children([row]))[0]

    async def for_resident(self, resident_id: int) -> list[Complaint]:
        """Return the resident's complaints, newest first."""
        rows = await self._session.scalars(
            select(ComplaintRow)
            .where(ComplaintRow.resident_id == resident_id)
            .order_by(ComplaintRow.received_at.desc(), ComplaintRow.id.desc())
        )
        return await self._with_children(list(rows))

    async def count_overdue(self, today: date) -> int:
        """Return how many open complaints have a deadline before ``today`` (for metrics)."""
        return int(
            await self._session.scalar(
                select(func.count(ComplaintRow.id)).where(
                    ComplaintRow.status.in_([s.value for s in OPEN_STATUSES]),
                    ComplaintRow.next_due_on < today,
                )
            )
            or 0
        )

    async def due_by(self, day: date, *, limit: int = 500) -> list[Complaint]:
        """Return open complaints whose next deadline is on or before ``day``, earliest first.

        Uses the ``(status, next_due_on)`` index.
        """
        rows = await self._session.scalars(
            select(ComplaintRow)
            .where(
                ComplaintRow.status.in_([s.value for s in OPEN_STATUSES]),
                ComplaintRow.next_due_on <= day,
            )
            .order_by(ComplaintRow.next_due_on, ComplaintRow.id)
            .limit(limit)
        )
        return await self._with_children(list(rows))

    async def due_between(
        self,
        last: date,
        *,
        first: date | None = None,
        after: tuple[date, int] | None = None,
        limit: int = 200,
    ) -> list[Complaint]:
        """Return open complaints whose next deadline is from ``first`` to ``last``, in order.

        One page of them, ordered by ``(next_due_on, id)``; pass the last one's pair as
        ``after`` for the next page. Uses the ``(status, next_due_on)`` index.

        Args:
            last: the latest deadline included.
            first: the earliest deadline included (none: every overdue one too).
            after: the ``(next_due_on, id)`` of the last complaint of the previous page.
            limit: the most complaints in one page.
        """
        conditions: list[Any] = [
            ComplaintRow.status.in_([s.value for s in OPEN_STATUSES]),
            ComplaintRow.next_due_on <= last,
        ]
        if first is not None:
            conditions.append(ComplaintRow.next_due_on >= first)
        if after is not None:
            conditions.append(_after(ComplaintRow.next_due_on, ComplaintRow.id, after))
        rows = await self._session.scalars(
            select(ComplaintRow)
            .where(*conditions)
            .order_by(ComplaintRow.next_due_on, ComplaintRow.id)
            .limit(limit)
        )
        return await self._with_children(list(rows))

    async def updates_due_by(
        self, day: date, *, after: tuple[date, int] | None = None, limit: int = 200
    ) -> list[tuple[date, int]]:
        """Return ``(next_update_due_on, id)`` of open complaints owing an update by ``day``.

        The regular updates of CHC-5.9, one page ordered by date then id; pass the last pair
        as ``after`` for the next page. Uses the ``next_update_due_on`` index.
        """
        conditions: list[Any] = [
            ComplaintRow.next_update_due_on <= day,
            ComplaintRow.status.in_([s.value for s in OPEN_STATUSES]),
        ]
        if after is not None:
            conditions.append(_after(ComplaintRow.next_update_due_on, ComplaintRow.id, after))
        rows = await self._session.execute(
            select(ComplaintRow.next_update_due_on, ComplaintRow.id)
            .where(*conditions)
            .order_by(ComplaintRow.next_update_due_on, ComplaintRow.id)
            .limit(limit)
        )
        return [(due, complaint_id) for due, complaint_id in rows if due is not None]

    async def stage1_responded_by(
        self, day: date, *, after: tuple[date, int] | None = None, limit: int = 200
    ) -> list[tuple[date, int]]:
        """Return ``(stage 1 response date, id)`` of complaints still ``responded`` by ``day``.

        Stage 1 responses that no escalation followed, for closing after the set period. The
        ``(status, next_due_on)`` index narrows the scan to complaints in that one status,
        which closing keeps few.
        """
        conditions: list[Any] = [
            ComplaintRow.status == Status.RESPONDED.value,
            ComplaintRow.stage1_responded_on <= day,
        ]
        if after is not None:
            conditions.append(_after(ComplaintRow.stage1_responded_on, ComplaintRow.id, after))
        rows = await self._session.execute(
            select(ComplaintRow.stage1_responded_on, ComplaintRow.id)
            .where(*conditions)
            .order_by(ComplaintRow.stage1_responded_on, ComplaintRow.id)
            .limit(limit)
        )
        return [(day_, complaint_id) for day_, complaint_id in rows if day_ is not None]

    async def remedies_due_by(
        self, day: date, *, after: tuple[date, int] | None = None, limit: int = 200
    ) -> list[tuple[Complaint, Remedy]]:
        """Return pending remedies due on or before ``day`` with their complaints (CHC-7.3).

        One page ordered by ``(due_on, remedy id)``; pass the last pair as ``after`` for the
        next. Uses the index on ``remedies.due_on``.
        """
        conditions: list[Any] = [
            RemedyRow.status == TaskStatus.PENDING.value,
            RemedyRow.due_on <= day,
        ]
        if after is not None:
            conditions.append(_after(RemedyRow.due_on, RemedyRow.id, after))
        remedies = list(
            await self._session.scalars(
                select(RemedyRow)
                .where(*conditions)
                .order_by(RemedyRow.due_on, RemedyRow.id)
                .limit(limit)
            )
        )
        if not remedies:
            return []
        rows = await self._session.scalars(
            select(ComplaintRow).where(ComplaintRow.id.in_({r.complaint_id for r in remedies}))
        )
        complaints = {c.id: c for c in await self._with_children(list(rows))}
        return [
            (complaints[r.complaint_id], _model(Remedy, r, exclude=("complaint_id",)))
            for r in remedies
        ]

    async def count(self) -> int:
        """Return how many complaints are stored."""
        return int(await self._session.scalar(select(func.count(ComplaintRow.id))) or 0)

    async def search(
        self,
        *,
        statuses: Collection[str] | None = None,
        stage: Stage | None = None,
        handler: str | None = None,
        due_by: date | None = None,
        limit: int = 1000,
    ) -> list[Complaint]:
        """Return complaints matching every given filter, the most pressing first.

        Args:
            statuses: only these statuses (all when ``None``).
            stage: only complaints at this stage.
            handler: only complaints whose handler at their current stage is this person.
            due_by: only complaints whose next deadline is on or before this day.
            limit: the most complaints to return.
        """
        conditions: list[Any] = []
        if statuses is not None:
            conditions.append(ComplaintRow.status.in_(sorted(statuses)))
        if stage is not None:
            conditions.append(ComplaintRow.stage == int(stage))
        if handler is not None:
            conditions.append(
                or_(
                    and_(
                        ComplaintRow.stage == int(Stage.ONE), ComplaintRow.stage1_handler == handler
                    ),
                    and_(
                        ComplaintRow.stage == int(Stage.TWO), ComplaintRow.stage2_handler == handler
                    ),
                )
            )
        if due_by is not None:
            conditions.append(ComplaintRow.next_due_on <= due_by)
        rows = await self._session.scalars(
            select(ComplaintRow)
            .where(*conditions)
            .order_by(
                ComplaintRow.next_due_on.is_(None),
                ComplaintRow.next_due_on,
                ComplaintRow.received_at,
                ComplaintRow.id,
            )
            .limit(limit)
        )
        return await self._with_children(list(rows))

    async def add_element(self, complaint_id: int, element: Element) -> Element:
        """Add a point to the complaint definition."""
        return await self._add_child(complaint_id, ElementRow, element)

    async def update_element_text(self, element_id: int, text: str) -> None:
        """Change the wording of a point (a clarification, CHC-5.6); the event keeps the old."""
        await self._session.execute(
            update(ElementRow).where(ElementRow.id == element_id).values(text=text)
        )

    async def add_decision(self, complaint_id: int, decision: Decision) -> Decision:
        """Record a decision on one element (CHC-6.7)."""
        return await self._add_child(complaint_id, DecisionRow, decision)

    async def add_remedy(self, complaint_id: int, remedy: Remedy) -> Remedy:
        """Record a remedy (CHC-7.1)."""
        return await self._add_child(complaint_id, RemedyRow, remedy)

    async def set_remedy_status(
        self, remedy_id: int, status: TaskStatus, completed_at: datetime | None
    ) -> None:
        """Record a remedy's progress (CHC-7.3)."""
        await self._session.execute(
            update(RemedyRow)
            .where(RemedyRow.id == remedy_id)
            .values(status=status.value, completed_at=completed_at)
        )

    async def add_action(self, complaint_id: int, action: OutstandingAction) -> OutstandingAction:
        """Record an outstanding action (CHC-6.6)."""
        return await self._add_child(complaint_id, ActionRow, action)

    async def set_action_status(
        self, action_id: int, status: TaskStatus, completed_at: datetime | None
    ) -> None:
        """Record an outstanding action's progress."""
        await self._session.execute(
            update(ActionRow)
            .where(ActionRow.id == action_id)
            .values(status=status.value, completed_at=completed_at)
        )

    async def add_extension(self, complaint_id: int, extension: Extension) -> Extension:
        """Record an extension (CHC-6.4, CHC-6.15)."""
        return await self._add_child(complaint_id, ExtensionRow, extension)

    async def mark_extension_notified(self, extension_id: int, at: datetime) -> None:
        """Record when the resident was told of an extension."""
        await self._session.execute(
            update(ExtensionRow).where(ExtensionRow.id == extension_id).values(notified_at=at)
        )

    async def _add_child(self, complaint_id: int, row_type: type[Base], model: M) -> M:
        row = row_type(complaint_id=complaint_id, **_child_values(model))
        self._session.add(row)
        await self._session.flush()
        return _model(type(model), row, exclude=("complaint_id",))

    async def _with_children(self, rows: list[ComplaintRow]) -> list[Complaint]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        children: dict[int, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for name, (row_type, model_type) in _CHILD_TABLES.items():
            column = row_type.__table__.c
            result = await self._session.scalars(
                select(row_type).where(column.complaint_id.in_(ids)).order_by(column.id)
            )
            for child in result:
                complaint_id = child.complaint_id  # type: ignore[attr-defined]
                children[complaint_id][name].append(
                    _model(model_type, child, exclude=("complaint_id",))
                )
        return [complaint_from_row(row, children[row.id]) for row in rows]


class ServiceRequestRepository(_Repository):
    """Service requests (CHC-1.4)."""

    async def add(self, request: ServiceRequest) -> ServiceRequest:
        """Store a new service request."""
        row = ServiceRequestRow(**request.model_dump(exclude={"id"}))
        self._session.add(row)
        await self._session.flush()
        return _model(ServiceRequest, row)

    async def get_by_reference(self, reference: str) -> ServiceRequest:
        """Return the service request with ``reference``.

        Raises:
            NotFoundError: there is none.
        """
        row = await self._session.scalar(
            select(ServiceRequestRow).where(ServiceRequestRow.reference == reference)
        )
        if row is None:
            raise NotFoundError(f"no service request {reference}")
        return _model(ServiceRequest, row)

    async def for_resident(self, resident_id: int) -> list[ServiceRequest]:
        """Return the resident's service requests, newest first."""
        rows = await self._session.scalars(
            select(ServiceRequestRow)
            .where(ServiceRequestRow.resident_id == resident_id)
            .order_by(ServiceRequestRow.received_at.desc(), ServiceRequestRow.id.desc())
        )
        return [_model(ServiceRequest, row) for row in rows]

    async def save(self, request: ServiceRequest) -> ServiceRequest:
        """Store the request's status if nobody changed it since it was read.

        Raises:
            ConcurrencyError: another transaction changed it first.
        """
        result = await self._session.execute(
            update(ServiceRequestRow)
            .where(ServiceRequestRow.id == request.id, ServiceRequestRow.version == request.version)
            .values(
                status=request.status.value,
                closed_at=request.closed_at,
                location=request.location,
                version=request.version + 1,
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrencyError(f"service request {request.reference} changed; retry")
        return request.model_copy(update={"version": request.version + 1})


class EventRepository(_Repository):
    """The record (CHC-5.12). Append and read only: there is no update or delete."""

    async def append(self, event: Event) -> Event:
        """Append one event.

        The row is written with the rest of the transaction (events of one transaction go in
        one batched insert), so the returned event has no id yet; read the record back for ids.
        """
        self._session.add(
            EventRow(
                **event.model_dump(mode="python", exclude={"id", "actor"}),
                actor_kind=event.actor.kind.value,
                actor_id=event.actor.id,
            )
        )
        return event

    async def for_complaint(self, complaint_id: int) -> list[Event]:
        """Return the complaint's events in the order they happened."""
        return await self._where(EventRow.complaint_id == complaint_id)

    async def for_service_request(self, request_id: int) -> list[Event]:
        """Return the service request's events in order."""
        return await self._where(EventRow.service_request_id == request_id)

    async def for_resident(self, resident_id: int) -> list[Event]:
        """Return every event about the resident in order."""
        return await self._where(EventRow.resident_id == resident_id)

    async def _where(self, condition: Any) -> list[Event]:
        rows = await self._session.scalars(
            select(EventRow).where(condition).order_by(EventRow.occurred_at, EventRow.id)
        )
        return [_event(row) for row in rows]


def _event(row: EventRow) -> Event:
    values = row_values(row, EventRow)
    values["actor"] = {"kind": values.pop("actor_kind"), "id": values.pop("actor_id")}
    return Event.model_validate(values)


class ReceiptRepository(_Repository):
    """Inbound message receipts: how a redelivered message is recognised."""

    async def record(self, channel: str, external_id: str, at: datetime) -> bool:
        """Record that the message ``external_id`` on ``channel`` is being processed.

        Call it in the same transaction as the message's effects. Returns ``False`` when the
        message was already processed (a redelivery): the caller then does nothing.
        """
        return await self._insert_ignoring_duplicate(
            ReceiptRow,
            {"channel": channel, "external_id": external_id, "received_at": at},
            unique=("channel", "external_id"),
        )

    async def seen(self, channel: str, external_id: str) -> bool:
        """Return whether the message was already processed."""
        found = await self._session.scalar(
            select(ReceiptRow.id).where(
                ReceiptRow.channel == channel, ReceiptRow.external_id == external_id
            )
        )
        return found is not None


class OutboxRepository(_Repository):
    """The transactional outbox."""

    async def enqueue(self, message: OutboxMessage) -> bool:
        """Queue a message in the current transaction; ``False`` if its key is already queued."""
        values = message.model_dump(mode="python", exclude={"id"})
        values["status"] = message.status.value
        return await self._insert_ignoring_duplicate(OutboxRow, values, unique=("idempotency_key",))

    async def claim_due(
        self, now: datetime, *, limit: int = 50, channels: Collection[str] | None = None
    ) -> list[OutboxMessage]:
        """Return pending messages due by ``now``, locked so other dispatchers skip them.

        Args:
            now: the current time.
            limit: the most messages to return.
            channels: only messages for these channels (those this process can deliver);
                messages for other channels are left alone for a process that can.

        On PostgreSQL the rows stay locked (``FOR UPDATE SKIP LOCKED``) until the transaction
        ends; SQLite serialises writers instead.
        """
        conditions = [
            OutboxRow.status == OutboxStatus.PENDING.value,
            OutboxRow.next_attempt_at <= now,
        ]
        if channels is not None:
            conditions.append(OutboxRow.channel.in_(sorted(channels)))
        rows = await self._session.scalars(
            select(OutboxRow)
            .where(*conditions)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_model(OutboxMessage, row) for row in rows]

    async def lease(self, message_ids: Sequence[int], until: datetime) -> None:
        """Reserve claimed messages until ``until``: no dispatcher claims them before then."""
        await self._session.execute(
            update(OutboxRow).where(OutboxRow.id.in_(message_ids)).values(next_attempt_at=until)
        )

    async def release_many(self, message_ids: Sequence[int], due_at: datetime) -> None:
        """Give back leased messages unsent, due again at ``due_at``."""
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(message_ids), OutboxRow.status == OutboxStatus.PENDING.value)
            .values(next_attempt_at=due_at)
        )

    async def mark_sent(
        self, message_id: int, at: datetime, *, external_id: str | None = None
    ) -> None:
        """Record a successful delivery, with the channel's id of the message if it gave one."""
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id)
            .values(
                status=OutboxStatus.SENT.value,
                sent_at=at,
                attempts=OutboxRow.attempts + 1,
                last_error=None,
                external_id=external_id,
            )
        )

    async def find_sent(self, channel: str, external_id: str) -> OutboxMessage | None:
        """Return the message sent on ``channel`` whose channel id was ``external_id``."""
        row = await self._session.scalar(
            select(OutboxRow)
            .where(OutboxRow.channel == channel, OutboxRow.external_id == external_id)
            .limit(1)
        )
        return None if row is None else _model(OutboxMessage, row)

    async def complaint_replied_to(self, channel: str, external_id: str) -> int | None:
        """Return the complaint of the sent message ``external_id`` on ``channel``, if any."""
        return await self._session.scalar(
            select(OutboxRow.complaint_id)
            .where(OutboxRow.channel == channel, OutboxRow.external_id == external_id)
            .limit(1)
        )

    async def mark_failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        """Record a failed attempt and when to try again."""
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id)
            .values(attempts=OutboxRow.attempts + 1, last_error=error, next_attempt_at=retry_at)
        )

    async def mark_dead(self, message_id: int, error: str) -> None:
        """Give up on a message; the caller also writes a dead letter and alerts staff."""
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id)
            .values(
                status=OutboxStatus.DEAD.value, attempts=OutboxRow.attempts + 1, last_error=error
            )
        )

    async def get_by_key(self, idempotency_key: str) -> OutboxMessage | None:
        """Return the message queued under ``idempotency_key``, if any."""
        row = await self._session.scalar(
            select(OutboxRow).where(OutboxRow.idempotency_key == idempotency_key)
        )
        return None if row is None else _model(OutboxMessage, row)

    async def for_complaint(self, complaint_id: int) -> list[OutboxMessage]:
        """Return every message queued about a complaint, in order."""
        rows = await self._session.scalars(
            select(OutboxRow).where(OutboxRow.complaint_id == complaint_id).order_by(OutboxRow.id)
        )
        return [_model(OutboxMessage, row) for row in rows]

    async def depth(self) -> int:
        """Return how many messages wait to be sent."""
        return int(
            await self._session.scalar(
                select(func.count(OutboxRow.id)).where(
                    OutboxRow.status == OutboxStatus.PENDING.value
                )
            )
            or 0
        )


class DeadLetterRepository(_Repository):
    """What could not be processed or delivered, until a person resolves it."""

    async def add(self, letter: DeadLetter) -> DeadLetter:
        """Store a dead letter."""
        row = DeadLetterRow(**letter.model_dump(exclude={"id"}))
        self._session.add(row)
        await self._session.flush()
        return _model(DeadLetter, row)

    async def unresolved(self, *, limit: int = 200) -> list[DeadLetter]:
        """Return unresolved dead letters, oldest first."""
        rows = await self._session.scalars(
            select(DeadLetterRow)
            .where(DeadLetterRow.resolved_at.is_(None))
            .order_by(DeadLetterRow.created_at, DeadLetterRow.id)
            .limit(limit)
        )
        return [_model(DeadLetter, row) for row in rows]

    async def count_unresolved(self) -> int:
        """Return how many dead letters wait for a person."""
        return int(
            await self._session.scalar(
                select(func.count(DeadLetterRow.id)).where(DeadLetterRow.resolved_at.is_(None))
            )
            or 0
        )

    async def resolve(self, letter_id: int, *, by: str, at: datetime) -> None:
        """Mark a dead letter as dealt with.

        Raises:
            NotFoundError: there is no unresolved dead letter with that id.
        """
        result = await self._session.execute(
            update(DeadLetterRow)
            .where(DeadLetterRow.id == letter_id, DeadLetterRow.resolved_at.is_(None))
            .values(resolved_at=at, resolved_by=by)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise NotFoundError(f"no unresolved dead letter {letter_id}")


class ConversationRepository(_Repository):
    """Dialogue state per (channel, address), stored as JSON the engine owns."""

    async def load(self, channel: str, address: str) -> tuple[int, dict[str, Any], int] | None:
        """Return ``(resident_id, state, version)`` for the conversation, if there is one."""
        row = await self._session.scalar(
            select(ConversationRow).where(
                ConversationRow.channel == channel, ConversationRow.address == address
            )
        )
        return None if row is None else (row.resident_id, row.state, row.version)

    async def save(
        self,
        channel: str,
        address: str,
        *,
        resident_id: int,
        state: dict[str, Any],
        version: int,
        at: datetime,
    ) -> int:
        """Store the state if it is still at ``version`` (0: new); return the new version.

        Raises:
            ConcurrencyError: another message of the same conversation was handled first.
        """
        if version == 0:
            inserted = await self._insert_ignoring_duplicate(
                ConversationRow,
                {
                    "channel": channel,
                    "address": address,
                    "resident_id": resident_id,
                    "state": state,
                    "version": 1,
                    "updated_at": at,
                },
                unique=("channel", "address"),
            )
            if not inserted:
                raise ConcurrencyError(f"conversation {channel}:{address} started twice")
            return 1
        result = await self._session.execute(
            update(ConversationRow)
            .where(
                ConversationRow.channel == channel,
                ConversationRow.address == address,
                ConversationRow.version == version,
            )
            .values(state=state, version=version + 1, updated_at=at, resident_id=resident_id)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrencyError(f"conversation {channel}:{address} changed; retry")
        return version + 1


class InboxRepository(_Repository):
    """Inbound updates stored before processing (see :class:`~core.db.tables.InboxRow`)."""

    async def store(
        self, channel: str, external_id: str, payload: dict[str, Any], at: datetime
    ) -> bool:
        """Keep an update as received; ``False`` if it was already stored (a redelivery)."""
        return await self._insert_ignoring_duplicate(
            InboxRow,
            {
                "channel": channel,
                "external_id": external_id,
                "payload": payload,
                "received_at": at,
                "attempts": 0,
            },
            unique=("channel", "external_id"),
        )

    async def claim_pending(
        self, channel: str, *, limit: int = 20
    ) -> list[tuple[int, dict[str, Any]]]:
        """Return unprocessed updates of ``channel`` in arrival order, locked for this worker."""
        rows = await self._session.execute(
            select(InboxRow.id, InboxRow.payload)
            .where(InboxRow.channel == channel, InboxRow.processed_at.is_(None))
            .order_by(InboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [(row.id, row.payload) for row in rows]

    async def mark_processed(self, inbox_id: int, at: datetime) -> None:
        """Record that the update's effects are committed."""
        await self._session.execute(
            update(InboxRow).where(InboxRow.id == inbox_id).values(processed_at=at)
        )

    async def mark_failed(self, inbox_id: int, error: str, *, give_up_at: datetime | None) -> int:
        """Count a failed attempt; with ``give_up_at`` also close it (it is dead-lettered).

        Returns the number of attempts so far.
        """
        attempts = await self._session.scalar(
            update(InboxRow)
            .where(InboxRow.id == inbox_id)
            .values(attempts=InboxRow.attempts + 1, last_error=error, processed_at=give_up_at)
            .returning(InboxRow.attempts)
        )
        return int(attempts or 0)

    async def pending(self, channel: str) -> int:
        """Return how many updates of ``channel`` wait to be processed."""
        return int(
            await self._session.scalar(
                select(func.count(InboxRow.id)).where(
                    InboxRow.channel == channel, InboxRow.processed_at.is_(None)
                )
            )
            or 0
        )


class ReportRepository(_Repository):
    """Read-only queries for the complaints performance report (CHC-8.1).

    Each reads only the columns the figures need, as plain records, for the complaints
    received in a period: no complaint is built whole, so a year of complaints reads quickly.
    The statements run on the session's connection, skipping the ORM's row processing.
    """

    async def _rows(self, statement: Any) -> Any:
        connection = await self._session.connection()
        return await connection.execute(statement)

    async def complaints_received(self, start: date, end: date) -> list[ComplaintFacts]:
        """Return the complaints received from ``start`` to ``end`` (inclusive)."""
        c = ComplaintRow
        between = c.received_on.between(start, end)
        hazards = {
            r.id: tuple(r.hazards or ())
            for r in await self._rows(select(c.id, c.hazards).where(between, c.urgent))
        }
        rows = await self._rows(
            select(
                c.id,
                c.received_on,
                c.channel,
                c.category,
                c.stage,
                c.status,
                c.urgent,
                c.stage1_acknowledged_on,
                c.stage1_response_due_on,
                c.stage1_extended_due_on,
                c.stage1_responded_on,
                c.escalation_requested_at,
                c.stage2_acknowledged_on,
                c.stage2_response_due_on,
                c.stage2_extended_due_on,
                c.stage2_responded_on,
                c.refusal_reason,
            )
            .where(between)
            .order_by(c.id)
        )
        return [
            ComplaintFacts(
                id=r.id,
                received_on=r.received_on,
                channel=r.channel,
                category=r.category,
                stage=_STAGES[r.stage],
                status=_STATUSES[r.status],
                urgent=bool(r.urgent),
                hazards=hazards.get(r.id, ()),
                stage1_acknowledged_on=r.stage1_acknowledged_on,
                stage1_response_due_on=r.stage1_response_due_on,
                stage1_extended_due_on=r.stage1_extended_due_on,
                stage1_responded_on=r.stage1_responded_on,
                escalation_requested_at=r.escalation_requested_at,
                stage2_acknowledged_on=r.stage2_acknowledged_on,
                stage2_response_due_on=r.stage2_response_due_on,
                stage2_extended_due_on=r.stage2_extended_due_on,
                stage2_responded_on=r.stage2_responded_on,
                refusal_reason=r.refusal_reason,
            )
            for r in rows
        ]

    async def extensions(self, start: date, end: date) -> list[ExtensionFacts]:
        """Return the extensions of the complaints received from ``start`` to ``end``."""
        e = ExtensionRow
        rows = await self._rows(
            select(e.complaint_id, e.stage, e.reason, e.beyond_code_limit, e.notified_at)
            .join(ComplaintRow, ComplaintRow.id == e.complaint_id)
            .where(ComplaintRow.received_on.between(start, end))
            .order_by(e.id)
        )
        return [
            ExtensionFacts(
                complaint_id=r.complaint_id,
                stage=_STAGES[r.stage],
                reason=r.reason,
                beyond_code_limit=bool(r.beyond_code_limit),
                notified=r.notified_at is not None,
            )
            for r in rows
        ]

    async def decisions(self, start: date, end: date) -> list[DecisionFacts]:
        """Return the latest decision per element and stage of the period's complaints."""
        d = DecisionRow
        rows = await self._rows(
            select(d.complaint_id, d.element_id, d.stage, d.outcome)
            .join(ComplaintRow, ComplaintRow.id == d.complaint_id)
            .where(ComplaintRow.received_on.between(start, end))
            .order_by(d.id)
        )
        latest: dict[tuple[int, int], DecisionFacts] = {}
        for r in rows:  # later decisions replace earlier ones, as Complaint.decisions_at does
            latest[(r.element_id, r.stage)] = DecisionFacts(
                complaint_id=r.complaint_id,
                element_id=r.element_id,
                stage=_STAGES[r.stage],
                outcome=_OUTCOMES[r.outcome],
            )
        return list(latest.values())

    async def remedies(self, start: date, end: date) -> list[RemedyFacts]:
        """Return the remedies of the complaints received from ``start`` to ``end``."""
        r_ = RemedyRow
        rows = await self._rows(
            select(r_.complaint_id, r_.type, r_.amount_pence, r_.due_on, r_.status, r_.completed_at)
            .join(ComplaintRow, ComplaintRow.id == r_.complaint_id)
            .where(ComplaintRow.received_on.between(start, end))
            .order_by(r_.id)
        )
        return [
            RemedyFacts(
                complaint_id=r.complaint_id,
                type=_REMEDY_TYPES[r.type],
                amount_pence=r.amount_pence,
                due_on=r.due_on,
                status=_TASK_STATUSES[r.status],
                completed_at=r.completed_at,
            )
            for r in rows
        ]

    async def service_requests(self, start: date, end: date, zone: ZoneInfo) -> dict[str, int]:
        """Count service requests received from ``start`` to ``end`` (local days), by status."""
        after = datetime.combine(start, time.min, zone)
        before = datetime.combine(end + timedelta(days=1), time.min, zone)
        rows = await self._rows(
            select(ServiceRequestRow.status, func.count(ServiceRequestRow.id))
            .where(ServiceRequestRow.received_at >= after, ServiceRequestRow.received_at < before)
            .group_by(ServiceRequestRow.status)
        )
        return {str(status): int(count) for status, count in rows}


# Dictionary lookups: calling an enum per row costs more than the query on a year of complaints.
_STAGES: dict[int, Stage] = {int(s): s for s in Stage}
_STATUSES: dict[str, Status] = {s.value: s for s in Status}
_OUTCOMES: dict[str, Outcome] = {o.value: o for o in Outcome}
_REMEDY_TYPES: dict[str, RemedyType] = {t.value: t for t in RemedyType}
_TASK_STATUSES: dict[str, TaskStatus] = {t.value: t for t in TaskStatus}
