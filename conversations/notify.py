"""Messages that start on the bot's side: letters to residents and notices to staff.

The engine answers a resident where they wrote. Everything else (a staff member's response, an
extension, a regular update from the scheduler, a closure) has no inbound message to answer, so
:class:`Notifier` decides where the resident is reached:

1. their preferred channel (CHC-3.1), if they have a reachable address there;
2. otherwise the channel the complaint came in on;
3. otherwise any other channel on which they can still be reached.

Identities known to be unreachable (the resident blocked the bot) are skipped. An active
contact restriction that names channels (CHC-5.14) limits the choice to those channels; if
none of them reaches the resident, nothing is queued to the resident and staff are told, so a
person can write instead. A restriction never stops a letter being written, only how it goes.

Every message goes into the outbox in the caller's unit of work, so it commits with the change
that caused it, and its idempotency key is derived from the caller's key: a retried
transaction never queues the same letter twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from conversations.envelopes import STAFF_CHANNEL, OutboundKind, OutboundMessage
from conversations.wording import Wording
from core.clock import Clock
from core.complaints.enums import EventKind
from core.complaints.models import Actor, Complaint, Event
from core.db.store import UnitOfWork
from core.outbox.service import OutboxService
from core.residents.models import Resident

EMAIL_CHANNEL: Final = "email"
STAFF_RECIPIENT: Final = "staff"
"""The recipient of staff notices; the dispatcher delivers them to every staff destination."""
SUBJECT_SECTION: Final = "subject"
"""The ``labels.toml`` section holding the subject line of each letter, by template name."""
DEFAULT_SUBJECT: Final = "default"
_EMAIL_ADDRESS: Final = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")


class Notifier:
    """Queues letters to residents (and their representatives) and notices to staff.

    Args:
        outbox: where messages are queued; it also records each message to a resident in the
            complaint's history (CHC-5.12).
        wording: every word the bot says.
        clock: where "now" comes from.
    """

    def __init__(self, *, outbox: OutboxService, wording: Wording, clock: Clock) -> None:
        self._outbox = outbox
        self._words = wording
        self._clock = clock

    async def tell_resident(
        self,
        uow: UnitOfWork,
        *,
        complaint: Complaint,
        template: str,
        idempotency_key: str,
        kind: OutboundKind = OutboundKind.UPDATE,
        actor: Actor | None = None,
        copy_by_email: bool = False,
        **context: Any,
    ) -> list[OutboundMessage]:
        """Render ``template`` and queue it to the complaint's resident on their channel.

        Args:
            uow: the unit of work of the change this message is about.
            complaint: the complaint; the template sees it as ``complaint`` and its reference
                as ``reference``.
            template: the template's name (without ``.txt``).
            idempotency_key: unique to the change (e.g. derived from its event); each copy
                adds its own suffix, so a retry never queues a letter twice.
            kind: why the message is sent (channels may render kinds differently).
            actor: who caused it, for the record; the system when ``None``.
            copy_by_email: also send a copy to the resident's email address when the letter
                goes to another channel, so a formal letter is kept in writing (CHC-6.4,
                CHC-2.4); never against a restriction.
            **context: the template's other variables.

        Returns:
            The messages newly queued (empty when they were queued before, or when the
            resident cannot be reached; staff are told in that case).
        """
        resident = await uow.residents.get(complaint.resident_id)
        text = self._words.render(
            template, complaint=complaint, reference=complaint.reference, **context
        )
        subject = self._subject(template, complaint.reference)
        allowed = _allowed_channels(resident)
        targets = _targets(resident, complaint, allowed)
        if targets and copy_by_email and targets[0][0] != EMAIL_CHANNEL:
            email = resident.reachable_address_on(EMAIL_CHANNEL)
            if email is not None and (allowed is None or EMAIL_CHANNEL in allowed):
                targets.append((EMAIL_CHANNEL, email))
        # CHC-3.6: a representative who gave an email address gets the same letter.
        representative = complaint.representative
        rep_address = (representative.contact or "").strip() if representative else ""
        copies: list[tuple[str, str, str]] = [(c, a, c) for c, a in targets]
        if (
            rep_address
            and _EMAIL_ADDRESS.match(rep_address)
            and rep_address.lower() not in {a.lower() for _, a in targets}
        ):
            copies.append((EMAIL_CHANNEL, rep_address, "representative"))
        if not targets:
            await self._not_told(
                uow,
                complaint=complaint,
                resident=resident,
                template=template,
                subject=subject,
                idempotency_key=idempotency_key,
                allowed=allowed,
            )
        queued: list[OutboundMessage] = []
        for channel, address, suffix in copies:
            message = OutboundMessage(
                channel=channel,
                recipient=address,
                text=text,
                kind=kind,
                reference=complaint.reference,
                subject=subject,
                large_print=resident.preferences.large_print,  # CHC-3.1
            )
            if await self._outbox.enqueue(
                uow,
                channel=channel,
                address=address,
                kind=kind.value,
                payload=message.model_dump(mode="json"),
                idempotency_key=f"{idempotency_key}:{suffix}",
                complaint_id=complaint.id,
                resident_id=complaint.resident_id,
                actor=actor,
            ):
                queued.append(message)
        return queued

    async def tell_staff(
        self,
        uow: UnitOfWork,
        *,
        template: str,
        idempotency_key: str,
        reference: str | None = None,
        urgent: bool = False,
        recipient: str = STAFF_RECIPIENT,
        **context: Any,
    ) -> bool:
        """Queue a notice to staff on the staff channel.

        Args:
            uow: the unit of work of the change this notice is about.
            template: the template's name (without ``.txt``); it sees ``reference``.
            idempotency_key: unique to the notice.
            reference: the case reference, if the notice is about one (for threading, and
                so a staff reply reaches its resident).
            urgent: mark the notice urgent.
            recipient: ``"staff"`` for the complaints team, or another staff destination the
                dispatcher knows (e.g. ``"manager"``).
            **context: the template's other variables.

        Returns:
            ``True`` if queued now, ``False`` if that key was queued before.
        """
        message = OutboundMessage(
            channel=STAFF_CHANNEL,
            recipient=recipient,
            text=self._words.render(template, reference=reference, **context),
            kind=OutboundKind.STAFF_NOTICE,
            reference=reference,
            urgent=urgent,
        )
        return await self._outbox.enqueue(
            uow,
            channel=STAFF_CHANNEL,
            address=recipient,
            kind=OutboundKind.STAFF_NOTICE.value,
            payload=message.model_dump(mode="json"),
            idempotency_key=idempotency_key,
        )

    def _subject(self, template: str, reference: str) -> str:
        subjects = self._words.labels(SUBJECT_SECTION)
        return subjects.get(template, subjects[DEFAULT_SUBJECT]).format(reference=reference)

    async def _not_told(
        self,
        uow: UnitOfWork,
        *,
        complaint: Complaint,
        resident: Resident,
        template: str,
        subject: str,
        idempotency_key: str,
        allowed: frozenset[str] | None,
    ) -> None:
        """No channel reaches the resident: staff must write by other means (CHC-5.14, 3.1)."""
        channels = sorted(allowed) if allowed is not None else []
        queued = await self.tell_staff(
            uow,
            template="staff_action_not_told",
            idempotency_key=f"{idempotency_key}:not-told",
            reference=complaint.reference,
            letter=subject,
            restricted_to=channels,
            identities=[i.channel for i in resident.identities],
        )
        if queued:
            await uow.events.append(
                Event(
                    complaint_id=complaint.id,
                    resident_id=complaint.resident_id,
                    occurred_at=self._clock.now(),
                    actor=Actor.system(),
                    kind=EventKind.NOTE,
                    summary=f"Letter '{template}' could not be sent: no channel reaches the "
                    "resident; staff told",
                    data={"template": template, "restricted_to": channels},
                )
            )


def _allowed_channels(resident: Resident) -> frozenset[str] | None:
    """The channels every active restriction allows (CHC-5.14); ``None`` when unrestricted."""
    allowed: frozenset[str] | None = None
    for restriction in resident.restrictions:
        if not restriction.active or not restriction.allowed_channels:
            continue
        these = frozenset(restriction.allowed_channels)
        allowed = these if allowed is None else allowed & these
    return allowed


def _targets(
    resident: Resident, complaint: Complaint, allowed: frozenset[str] | None
) -> list[tuple[str, str]]:
    """The one channel and address a letter goes to, in order of preference (CHC-3.1)."""
    order: list[str] = []
    for channel in (
        resident.preferences.channel,
        complaint.channel,
        *(i.channel for i in resident.identities),
    ):
        if channel and channel != STAFF_CHANNEL and channel not in order:
            order.append(channel)
    for channel in _permitted(order, allowed):
        address = resident.reachable_address_on(channel)
        if address is not None:
            return [(channel, address)]
    return []


def _permitted(order: Sequence[str], allowed: frozenset[str] | None) -> list[str]:
    return [c for c in order if allowed is None or c in allowed]
