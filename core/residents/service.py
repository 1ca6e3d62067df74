"""Resident operations: identify who is writing, record preferences and restrictions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from core.clock import Clock
from core.complaints.enums import ActorKind, EventKind
from core.complaints.models import Actor, Event
from core.db.store import UnitOfWork
from core.errors import DomainError, NotFoundError
from core.residents.models import ContactPreferences, ContactRestriction, Identity, Resident


class ResidentService:
    """Residents across channels: one person, several identities.

    Args:
        clock: where "now" comes from.
    """

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock

    async def identify(
        self, uow: UnitOfWork, *, channel: str, address: str, name: str | None = None
    ) -> Resident:
        """Return the resident with ``address`` on ``channel``, creating them on first contact."""
        found = await uow.residents.find_by_identity(channel, address)
        if found is not None:
            if any(
                i.channel == channel and i.address == address and i.unreachable_since
                for i in found.identities
            ):
                # They wrote to us on it, so it works again (e.g. they unblocked the bot).
                await uow.residents.set_unreachable(channel, address, None)
                return await uow.residents.get(found.id or 0)
            return found
        return await uow.residents.add(
            Resident(
                name=name,
                identities=(Identity(channel=channel, address=address),),
                created_at=self._clock.now(),
            )
        )

    async def link_identity(
        self, uow: UnitOfWork, *, resident_id: int, channel: str, address: str
    ) -> Resident:
        """Add an identity on another channel (e.g. the email address given in a chat).

        Raises:
            DomainError: the address already belongs to another resident; a person must
                confirm who is who rather than the bot merging two people's cases.
        """
        owner = await uow.residents.find_by_identity(channel, address)
        if owner is not None and owner.id != resident_id:
            raise DomainError(f"that {channel} address already belongs to another resident")
        if owner is None:
            await uow.residents.add_identity(
                resident_id, Identity(channel=channel, address=address)
            )
        return await uow.residents.get(resident_id)

    async def update(
        self,
        uow: UnitOfWork,
        *,
        resident_id: int,
        actor: Actor,
        name: str | None = None,
        preferences: ContactPreferences | None = None,
        adjustments: Sequence[str] | None = None,
        vulnerabilities: Sequence[str] | None = None,
    ) -> Resident:
        """Record the resident's name, preferences, adjustments or vulnerabilities (CHC-5.10)."""
        resident = await uow.residents.get(resident_id)
        changes: dict[str, object] = {}
        if name is not None:
            changes["name"] = name
        if preferences is not None:
            changes["preferences"] = preferences
        if adjustments is not None:
            changes["adjustments"] = tuple(adjustments)
        if vulnerabilities is not None:
            changes["vulnerabilities"] = tuple(vulnerabilities)
        updated = resident.model_copy(update=changes)
        await uow.residents.save(updated)
        await self._event(
            uow,
            resident_id,
            EventKind.NOTE,
            "Resident details updated: " + ", ".join(sorted(changes)),
            actor,
        )
        return updated

    async def restrict_contact(
        self,
        uow: UnitOfWork,
        *,
        resident_id: int,
        description: str,
        reason: str,
        review_on: date,
        actor: Actor,
        allowed_channels: Sequence[str] = (),
    ) -> ContactRestriction:
        """Record a contact restriction set by a person, with reasons and a review date.

        CHC-5.14: proportionate, recorded, reviewed — and it never stops the resident from
        complaining; it only shapes how the landlord talks with them.

        Raises:
            DomainError: not set by a staff member, no reason, or a review date in the past.
        """
        if actor.kind != ActorKind.STAFF or not actor.id:
            raise DomainError("only a named member of staff may restrict contact (CHC-5.14)")
        if not reason.strip() or not description.strip():
            raise DomainError("a restriction must say what it is and why (CHC-5.14)")
        now = self._clock.now()
        if review_on <= now.date():
            raise DomainError("a restriction needs a review date in the future (CHC-5.14)")
        await uow.residents.get(resident_id)
        restriction = await uow.residents.add_restriction(
            resident_id,
            ContactRestriction(
                description=description.strip(),
                allowed_channels=tuple(allowed_channels),
                reason=reason.strip(),
                set_by=actor.id,
                set_at=now,
                review_on=review_on,
            ),
        )
        await self._event(
            uow,
            resident_id,
            EventKind.NOTE,
            f"Contact restricted: {description.strip()} (review by {review_on.isoformat()})",
            actor,
        )
        return restriction

    async def lift_restriction(
        self, uow: UnitOfWork, *, resident_id: int, restriction_id: int, actor: Actor
    ) -> None:
        """Lift a contact restriction.

        Raises:
            NotFoundError: the resident has no such active restriction.
        """
        resident = await uow.residents.get(resident_id)
        if not any(r.id == restriction_id and r.active for r in resident.restrictions):
            raise NotFoundError(f"no active restriction {restriction_id}")
        await uow.residents.lift_restriction(restriction_id, self._clock.now())
        await self._event(
            uow, resident_id, EventKind.NOTE, f"Contact restriction {restriction_id} lifted", actor
        )

    async def _event(
        self, uow: UnitOfWork, resident_id: int, kind: EventKind, summary: str, actor: Actor
    ) -> Event:
        return await uow.events.append(
            Event(
                resident_id=resident_id,
                occurred_at=self._clock.now(),
                actor=actor,
                kind=kind,
                summary=summary,
            )
        )
