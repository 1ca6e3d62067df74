"""Queue outbound messages and dead letters in the caller's transaction.

Because the message is written in the same transaction as the state change that caused it, a
crash can never leave a change without its message or a message without its change. The
dispatcher (in ``bot/``) sends what is queued and records delivery.
"""

from __future__ import annotations

from typing import Any

from core.clock import Clock
from core.complaints.enums import EventKind
from core.complaints.models import Actor, Event
from core.db.store import UnitOfWork
from core.outbox.models import DeadLetter, OutboxMessage


class OutboxService:
    """Write to the outbox and the dead-letter list.

    Args:
        clock: where "now" comes from.
    """

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock

    async def enqueue(
        self,
        uow: UnitOfWork,
        *,
        channel: str,
        address: str,
        kind: str,
        payload: dict[str, Any],
        idempotency_key: str,
        complaint_id: int | None = None,
        resident_id: int | None = None,
        actor: Actor | None = None,
    ) -> bool:
        """Queue one message; return ``False`` if that idempotency key was already queued.

        A message about a complaint is also recorded in its history as correspondence sent
        (CHC-5.12), in the same transaction.
        """
        now = self._clock.now()
        queued = await uow.outbox.enqueue(
            OutboxMessage(
                channel=channel,
                address=address,
                kind=kind,
                payload=payload,
                idempotency_key=idempotency_key,
                complaint_id=complaint_id,
                next_attempt_at=now,
                created_at=now,
            )
        )
        if queued and complaint_id is not None:
            await uow.events.append(
                Event(
                    complaint_id=complaint_id,
                    resident_id=resident_id,
                    occurred_at=now,
                    actor=actor or Actor.system(),
                    channel=channel,
                    kind=EventKind.MESSAGE_OUT,
                    summary=str(payload.get("text", kind)),
                    data={"kind": kind, "idempotency_key": idempotency_key},
                )
            )
        return queued

    async def dead_letter(
        self,
        uow: UnitOfWork,
        *,
        source: str,
        payload: str | bytes,
        reason: str,
        external_id: str | None = None,
    ) -> DeadLetter:
        """Keep something that could not be processed where staff will see it."""
        return await uow.dead_letters.add(
            DeadLetter(
                source=source,
                external_id=external_id,
                payload=payload.encode("utf-8") if isinstance(payload, str) else payload,
                reason=reason,
                created_at=self._clock.now(),
            )
        )
