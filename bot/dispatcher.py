"""The outbox dispatcher: sends what the outbox holds through the configured channels.

Messages reach the outbox in the same transaction as the change that caused them; the
dispatcher delivers them and records the outcome. Each pass is one short unit of work, in this
order: claim the due rows (locked, so a dispatcher in another process skips them on
PostgreSQL), send each through the channel its row names, record sent / failed / dead, commit.
A crash after a send and before the commit sends that message again on the next pass: the
outbox delivers at least once and never drops a message.

What happens to a message:

- delivered: marked sent;
- :class:`~core.errors.TemporaryChannelError` (or an unexpected error from an adapter):
  retried later with jittered exponential backoff, or later still if the channel asked
  (``retry_after``), until ``max_attempts``;
- :class:`~core.errors.PermanentChannelError`, an unreadable payload, or too many attempts:
  marked dead, kept as a dead letter, and staff are told (unless the message was itself a
  staff notice, so a broken staff channel cannot loop);
- its channel is not configured here: kept, and looked at again an hour later.

Staff notices are queued on the logical channel :data:`~conversations.envelopes.STAFF_CHANNEL`
and delivered to every configured staff channel; each staff channel knows its own destination.
A notice that reaches some staff channels but not others is marked sent, and queued again on
each channel it missed, as a row of its own: the state lives in the database, so any process
can retry it and none sends it twice where it already arrived.

Several dispatchers may share one PostgreSQL database: rows are claimed with ``FOR UPDATE SKIP
LOCKED`` and stay locked until the pass commits, so each is sent by one dispatcher. Rate limits
are kept per process: N processes may together send up to N times a channel's rate, and the
medium's own back-off (``retry_after``) slows them all down.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import ValidationError

from bot.metrics import Metrics
from channels.base import Channel, jittered_backoff
from conversations.envelopes import STAFF_CHANNEL, OutboundKind, OutboundMessage
from conversations.notify import Notifier
from conversations.wording import Wording
from core.clock import Clock
from core.db.store import Store, UnitOfWork
from core.errors import (
    PermanentChannelError,
    RecipientUnreachableError,
    StorageError,
    TemporaryChannelError,
)
from core.outbox.models import OutboxMessage
from core.outbox.service import OutboxService
from core.settings import LandlordSettings, OmbudsmanSettings

log = logging.getLogger(__name__)

_SendError = TemporaryChannelError | PermanentChannelError

RETRY_BASE_SECONDS: Final = 30.0
"""Ceiling of the first retry delay; it doubles with each failed attempt."""
RETRY_CAP_SECONDS: Final = 3600.0
"""Longest delay between two attempts, whatever the attempt number."""
INLINE_WAIT_SECONDS: Final = 0.25
"""Longest wait for a channel's rate limit spent inside a pass rather than handing back."""
LEASE: Final = timedelta(minutes=5)
"""How long a claimed message is reserved for the dispatcher sending it; after a crash it is
sent again once this has passed."""
UNCONFIGURED_RETRY: Final = timedelta(hours=1)
"""How long a message for a channel this process does not run waits before it is looked at
again (another process may run that channel, or the landlord may configure it)."""
STAFF_RECIPIENT: Final = "staff"
"""The recipient of staff notices; each staff channel knows where staff actually are."""
DEAD_LETTER_SOURCE: Final = "outbox"
EMAIL_CHANNEL: Final = "email"


@dataclass(slots=True)
class PassResult:
    """What one dispatch pass did."""

    claimed: int = 0
    """Rows claimed from the outbox."""
    sent: int = 0
    """Messages delivered and marked sent."""
    deferred: int = 0
    """Messages left untouched because their channel's rate limit had no room yet."""
    resume_at: datetime | None = None
    """When the earliest deferred message may be sent."""
    held: set[str] = field(default_factory=set)
    """Channels with a deferred message: later messages on them wait too, to keep order."""


@dataclass(slots=True)
class _Outcome:
    """How sending one message to each of its destinations went."""

    delivered: set[str] = field(default_factory=set)
    external_id: str | None = None
    """The channel's id of the delivered message (the first destination's, if several)."""
    temporary: list[TemporaryChannelError] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    """The destinations that failed in a way worth retrying."""
    permanent: list[str] = field(default_factory=list)
    unreachable: str | None = None
    """Why the recipient cannot be reached on this channel (blocked the bot, never started)."""
    unconfigured: list[str] = field(default_factory=list)


class Dispatcher:
    """Sends due outbox messages through channels looked up by name.

    Args:
        store: the database.
        clock: where "now" comes from (due times, retry times, rate limits).
        channels: the channels this process runs, by name (the outbox row's ``channel``).
        staff_channels: names of the channels that receive staff notices.
        max_attempts: attempts before a message that keeps failing is given up.
        batch_size: most messages claimed, sent and recorded in one transaction.
        rate_limits: most messages per second for a channel, by channel name; sends on that
            channel are spaced at least ``1 / rate`` seconds apart, measured on ``clock``.
        wording: the words of the notices to staff (the built-in templates by default).
        metrics: counts each copy sent and each failed attempt, by channel.

    Raises:
        ValueError: a limit is not positive.
    """

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        channels: Mapping[str, Channel],
        staff_channels: Sequence[str] = (),
        max_attempts: int = 8,
        batch_size: int = 50,
        rate_limits: Mapping[str, float] | None = None,
        wording: Wording | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be 1 or more, not {max_attempts}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be 1 or more, not {batch_size}")
        self._intervals: dict[str, timedelta] = {}
        for name, rate in (rate_limits or {}).items():
            if not rate > 0:
                raise ValueError(f"rate_limits[{name!r}] must be positive, not {rate}")
            self._intervals[name] = timedelta(seconds=1 / rate)
        self._store = store
        self._clock = clock
        self._channels = dict(channels)
        self._staff_channels = tuple(staff_channels)
        self._max_attempts = max_attempts
        self._batch_size = batch_size
        self._outbox = OutboxService(clock=clock)
        self._notifier = Notifier(
            outbox=self._outbox,
            wording=wording or Wording(landlord=LandlordSettings(), ombudsman=OmbudsmanSettings()),
            clock=clock,
        )
        self._next_send_at: dict[str, datetime] = {}
        self._next_to_recipient: dict[str, datetime] = {}
        self._warned: set[str] = set()
        self._metrics = metrics or Metrics()
        # Only what this process can deliver is claimed; the rest waits, untouched, for a
        # process that runs those channels (e.g. `chat` leaves email and staff notices to `run`).
        self._deliverable = frozenset(self._channels) | (
            {STAFF_CHANNEL} if self._staff_channels else frozenset()
        )

    async def dispatch_once(self) -> int:
        """Claim the due messages, send them and record the outcomes; return how many were sent.

        Raises:
            StorageError: the database failed; nothing of this pass was recorded, and what it
                sent will be sent again.
        """
        return (await self.dispatch_pass()).sent

    async def dispatch_pass(self) -> PassResult:
        """Like :meth:`dispatch_once`, but report everything the pass did.

        Three short transactions, so no database lock is held while a medium answers:

        1. claim the due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and lease them
           (:data:`LEASE`): no other dispatcher takes them meanwhile;
        2. send, outside any transaction;
        3. record each outcome, and hand back the lease of each row a rate limit held back.

        A crash between 1 and 3 leaves the rows leased: they are sent again when the lease
        ends. Delivery stays at least once; it never becomes at most once.
        """
        result = PassResult()
        async with self._store.unit_of_work() as uow:
            rows = await uow.outbox.claim_due(
                self._clock.now(), limit=self._batch_size, channels=self._deliverable
            )
            leased_at = self._clock.now()
            if rows:
                await uow.outbox.lease([_id_of(r) for r in rows], leased_at + LEASE)
        result.claimed = len(rows)
        if not rows:
            return result
        outcomes: list[tuple[OutboxMessage, _Outcome | str | None]] = []
        for row in rows:
            # Slow media must not outlast the lease (another dispatcher would then send the
            # rest too): past half of it, the rest are handed back for the next pass.
            if self._clock.now() - leased_at > LEASE / 2:
                outcomes.append((row, None))
                continue
            await self._pace(row)
            outcomes.append((row, await self._attempt(row, result)))
        held = [row for row, outcome in outcomes if outcome is None]
        async with self._store.unit_of_work() as uow:
            if held:
                # Back where they were in the queue: before everything claimed after them.
                await uow.outbox.release_many(
                    [_id_of(r) for r in held], min(r.next_attempt_at for r in held)
                )
            for row, outcome in outcomes:
                if outcome is None:
                    continue
                if isinstance(outcome, str):
                    await self._give_up(uow, row, outcome)
                else:
                    await self._record(uow, row, outcome, result)
        return result

    async def run(
        self, stop: asyncio.Event, *, interval: float = 1.0, wake: asyncio.Event | None = None
    ) -> None:
        """Dispatch until ``stop`` is set; a pass in progress finishes first.

        Args:
            stop: set it to stop.
            interval: seconds between passes when there is nothing more to do.
            wake: set it (e.g. after queueing a reply) to start the next pass at once.
        """
        failures = 0
        while not stop.is_set():
            if wake is not None:
                wake.clear()
            try:
                result = await self.dispatch_pass()
            except StorageError as error:
                failures += 1
                delay = jittered_backoff(failures, base=interval, cap=max(interval, 60.0))
                log.error(
                    "outbox dispatch failed; retrying",
                    extra={"error": str(error), "retry_in_s": round(delay, 1)},
                )
            else:
                failures = 0
                delay = self._pause_after(result, interval)
            await _wait_for_either(stop, wake, timeout=delay)

    def _pause_after(self, result: PassResult, interval: float) -> float:
        if result.resume_at is not None:
            until = (result.resume_at - self._clock.now()).total_seconds()
            return min(interval, max(0.0, until))
        if result.claimed >= self._batch_size:
            return 0.0  # a full batch: more are probably due
        return interval

    async def _pace(self, row: OutboxMessage) -> None:
        """Wait out a channel's rate limit here when the wait is short.

        Handing the row back instead would cost a pass (three transactions) per message on a
        fast channel; a long wait is still handed back, so other channels are not held up.
        """
        names = self._staff_channels if row.channel == STAFF_CHANNEL else (row.channel,)
        now = self._clock.now()
        waits = [
            (self._next_send_at[n] - now).total_seconds() for n in names if n in self._next_send_at
        ]
        wait = max(waits, default=0.0)
        if 0 < wait <= INLINE_WAIT_SECONDS:
            await asyncio.sleep(wait)

    async def _attempt(self, row: OutboxMessage, result: PassResult) -> _Outcome | str | None:
        """Send one row: its outcome, why it cannot be sent at all, or ``None`` if held back."""
        try:
            message = OutboundMessage.model_validate(row.payload)
        except ValidationError as error:
            return _describe(error)
        destinations = self._staff_channels if row.channel == STAFF_CHANNEL else (row.channel,)
        if self._defer(destinations, result, row.address):
            return None
        return await self._deliver(message, row, destinations, unconfigured=not destinations)

    async def _deliver(
        self,
        message: OutboundMessage,
        row: OutboxMessage,
        names: Sequence[str],
        *,
        unconfigured: bool,
    ) -> _Outcome:
        outcome = _Outcome(unconfigured=[row.channel] if unconfigured else [])
        for name in names:
            channel = self._channels.get(name)
            if channel is None:
                outcome.unconfigured.append(name)
                continue
            error, sent_id = await self._send(channel, name, message, row)
            if error is None:
                outcome.delivered.add(name)
                outcome.external_id = outcome.external_id or sent_id
            elif isinstance(error, RecipientUnreachableError) and row.channel != STAFF_CHANNEL:
                outcome.unreachable = f"{name}: {error}"
            elif isinstance(error, PermanentChannelError):
                outcome.permanent.append(f"{name}: {error}")
            else:
                outcome.temporary.append(error)
                outcome.retry.append(name)
        return outcome

    async def _record(
        self,
        uow: UnitOfWork,
        row: OutboxMessage,
        outcome: _Outcome,
        result: PassResult,
    ) -> None:
        outbox_id = _id_of(row)
        attempt = row.attempts + 1
        now = self._clock.now()
        if outcome.unreachable is not None:
            await self._reach_another_way(uow, row, outcome.unreachable)
        elif outcome.permanent:
            await self._give_up(uow, row, "; ".join(outcome.permanent))
        elif outcome.delivered and (outcome.retry or outcome.unconfigured):
            # A staff notice reached some staff channels and not others. It counts as sent;
            # each channel it missed gets a row of its own, retried by whichever process runs
            # that channel, so no process needs to remember where it already arrived.
            await self._split(uow, row, outcome, now)
            await uow.outbox.mark_sent(outbox_id, now, external_id=outcome.external_id)
            result.sent += 1
        elif outcome.temporary and attempt >= self._max_attempts:
            last = outcome.temporary[-1]
            await self._give_up(uow, row, f"failed {attempt} times; last error: {last}")
        elif outcome.temporary:
            retry_after = max(e.retry_after or 0.0 for e in outcome.temporary)
            # The medium said when to come back (Telegram's 429): that, exactly. Otherwise
            # back off exponentially with jitter.
            delay = retry_after or jittered_backoff(
                attempt, base=RETRY_BASE_SECONDS, cap=RETRY_CAP_SECONDS
            )
            await uow.outbox.mark_failed(
                outbox_id, "; ".join(map(str, outcome.temporary)), now + timedelta(seconds=delay)
            )
            log.warning(
                "outbox message not sent; will retry",
                extra={**_fields(row), "attempt": attempt, "retry_in_s": round(delay, 1)},
            )
        elif outcome.unconfigured:
            await uow.outbox.mark_failed(
                outbox_id,
                f"channel not configured here: {', '.join(outcome.unconfigured)}",
                now + UNCONFIGURED_RETRY,
            )
            self._warn_unconfigured(outcome.unconfigured, row)
        else:
            await uow.outbox.mark_sent(outbox_id, now, external_id=outcome.external_id)
            result.sent += 1
            log.info("outbox message sent", extra={**_fields(row), "attempt": attempt})

    def _defer(self, names: Sequence[str], result: PassResult, recipient: str) -> bool:
        """Return whether a message must wait for a rate limit, noting it if so.

        Two limits apply: the channel's overall rate, and the channel's own minimum interval
        between messages to one recipient (e.g. Telegram's one a second per chat). A message
        that waits holds back later ones for the same channel (or the same recipient), so
        each conversation keeps its order.
        """
        now = self._clock.now()
        moments: list[datetime] = []
        waiting = False
        for name in names:
            per_recipient = _recipient_key(name, recipient)
            for key, moment in (
                (name, self._next_send_at.get(name)),
                (per_recipient, self._next_to_recipient.get(per_recipient)),
            ):
                if key in result.held:
                    waiting = True
                elif moment is not None and moment > now:
                    waiting = True
                    moments.append(moment)
        if not waiting:
            return False
        result.deferred += 1
        result.held.update(_recipient_key(name, recipient) for name in names)
        if any(self._next_send_at.get(name, now) > now for name in names):
            result.held.update(names)
        for moment in moments:
            result.resume_at = moment if result.resume_at is None else min(result.resume_at, moment)
        return True

    async def _send(
        self, channel: Channel, name: str, message: OutboundMessage, row: OutboxMessage
    ) -> tuple[_SendError | None, str | None]:
        """Send one copy; return the error it failed with (if any) and the channel's id."""
        if message.channel != name:
            message = message.model_copy(update={"channel": name})
        error: _SendError | None = None
        sent_id: str | None = None
        try:
            sent_id = await channel.send(message)
        except (TemporaryChannelError, PermanentChannelError) as caught:
            error = caught
        except Exception as caught:
            # An adapter let a library error through. Treat it as temporary: letting it escape
            # would roll back what this pass already recorded and send those messages twice.
            log.exception(
                "channel raised an unexpected error", extra={**_fields(row), "destination": name}
            )
            error = TemporaryChannelError(f"unexpected {type(caught).__name__}: {caught}")
        self._note_send(name, error, channel.min_interval(message.recipient), message.recipient)
        if error is None:
            self._metrics.sent(name)
        else:
            self._metrics.failed(name)
        return error, sent_id

    def _note_send(
        self, name: str, error: _SendError | None, per_recipient: float, recipient: str
    ) -> None:
        now = self._clock.now()
        if per_recipient > 0:
            self._next_to_recipient[_recipient_key(name, recipient)] = now + timedelta(
                seconds=per_recipient
            )
        earliest = [self._next_send_at.get(name, now)]
        if name in self._intervals:
            earliest.append(now + self._intervals[name])
        if isinstance(error, TemporaryChannelError) and error.retry_after:
            # The medium asked the whole channel to slow down (e.g. Telegram's 429).
            earliest.append(now + timedelta(seconds=error.retry_after))
        self._next_send_at[name] = max(earliest)

    async def _split(
        self, uow: UnitOfWork, row: OutboxMessage, outcome: _Outcome, now: datetime
    ) -> None:
        """Queue a staff notice again for each staff channel it missed, one row each.

        Each new row's key is the notice's key and the channel, so a retried transaction
        queues it once; it waits as long as the original would have.
        """
        message = OutboundMessage.model_validate(row.payload)
        retry_after = max((e.retry_after or 0.0 for e in outcome.temporary), default=0.0)
        delay = timedelta(
            seconds=retry_after
            or jittered_backoff(row.attempts + 1, base=RETRY_BASE_SECONDS, cap=RETRY_CAP_SECONDS)
        )
        errors = "; ".join(map(str, outcome.temporary))
        for name, error, wait in [
            *((n, errors, delay) for n in outcome.retry),
            *((n, "channel not configured here", UNCONFIGURED_RETRY) for n in outcome.unconfigured),
        ]:
            key = f"{row.idempotency_key}:to:{name}"
            await self._outbox.enqueue(
                uow,
                channel=name,
                address=row.address,
                kind=row.kind,
                payload=message.model_copy(update={"channel": name}).model_dump(mode="json"),
                idempotency_key=key,
            )
            missed = await uow.outbox.get_by_key(key)
            if missed is not None and missed.id is not None and missed.attempts == 0:
                await uow.outbox.mark_failed(missed.id, error, now + wait)
        log.warning(
            "staff notice reached some staff channels; the others will be retried",
            extra={**_fields(row), "retry": ", ".join([*outcome.retry, *outcome.unconfigured])},
        )

    def _warn_unconfigured(self, names: Sequence[str], row: OutboxMessage) -> None:
        for name in names:
            if name in self._warned:
                continue
            self._warned.add(name)
            log.warning(
                "outbox holds messages for a channel that is not configured here; "
                "they wait and are retried hourly",
                extra={**_fields(row), "destination": name},
            )

    async def _reach_another_way(self, uow: UnitOfWork, row: OutboxMessage, reason: str) -> None:
        """The resident cannot be reached on this channel: note it, use email, tell staff.

        The identity is marked unreachable (cleared when they write on it again). When the
        resident has an email address the message is queued there instead, so nothing is lost;
        otherwise it becomes a dead letter. Either way staff hear of it.
        """
        now = self._clock.now()
        await uow.residents.set_unreachable(row.channel, row.address, now)
        resident = await uow.residents.find_by_identity(row.channel, row.address)
        email = None if resident is None else resident.reachable_address_on(EMAIL_CHANNEL)
        if email is None or row.channel == EMAIL_CHANNEL:
            await self._give_up(uow, row, f"{reason}; no other way to reach the resident")
            return
        outbox_id = _id_of(row)
        message = OutboundMessage.model_validate(row.payload).model_copy(
            update={"channel": EMAIL_CHANNEL, "recipient": email, "choices": ()}
        )
        await self._outbox.enqueue(
            uow,
            channel=EMAIL_CHANNEL,
            address=email,
            kind=row.kind,
            payload=message.model_dump(mode="json"),
            idempotency_key=f"{row.idempotency_key}:by-email",
            complaint_id=row.complaint_id,
        )
        await uow.outbox.mark_dead(outbox_id, f"{reason}; sent by email instead")
        await self._tell_staff(
            uow,
            row,
            "staff_unreachable",
            idempotency_key=f"unreachable:outbox:{outbox_id}",
            channel=row.channel,
        )
        log.warning(
            "recipient unreachable on this channel; sent by email instead",
            extra=_fields(row),
        )

    async def _give_up(self, uow: UnitOfWork, row: OutboxMessage, reason: str) -> None:
        outbox_id = _id_of(row)
        await uow.outbox.mark_dead(outbox_id, reason)
        await self._outbox.dead_letter(
            uow,
            source=DEAD_LETTER_SOURCE,
            payload=json.dumps(row.payload, ensure_ascii=False, sort_keys=True),
            reason=reason,
            external_id=str(outbox_id),
        )
        log.error(
            "outbox message given up; kept as a dead letter",
            extra={**_fields(row), "attempt": row.attempts + 1, "error": reason},
        )
        if row.channel == STAFF_CHANNEL or row.kind == OutboundKind.STAFF_NOTICE:
            return  # telling staff through the channel that just failed them could loop
        await self._tell_staff(
            uow,
            row,
            "staff_dead_letter",
            idempotency_key=f"dead-letter:outbox:{outbox_id}",
            outbox_id=outbox_id,
            kind=row.kind,
            channel=row.channel,
            reason=reason,
        )

    async def _tell_staff(
        self,
        uow: UnitOfWork,
        row: OutboxMessage,
        template: str,
        *,
        idempotency_key: str,
        **context: Any,
    ) -> None:
        """Queue a notice to staff about the message ``row``, once per ``idempotency_key``."""
        reference = row.payload.get("reference")
        reference = reference if isinstance(reference, str) else None
        await self._notifier.tell_staff(
            uow,
            template=template,
            idempotency_key=idempotency_key,
            reference=reference,
            recipient=STAFF_RECIPIENT,
            **context,
        )


def _recipient_key(name: str, recipient: str) -> str:
    return f"{name}\x1f{recipient}"


def _id_of(row: OutboxMessage) -> int:
    if row.id is None:  # claimed rows always have one
        raise ValueError("an outbox message read from the store has no id")
    return row.id


def _fields(row: OutboxMessage) -> dict[str, Any]:
    """Log fields of a message: ids and routing only, never its text (personal data)."""
    return {"outbox_id": row.id, "channel": row.channel, "kind": row.kind}


def _describe(error: ValidationError) -> str:
    """Say what is wrong with a payload without repeating its content."""
    problems = "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in error.errors()
    )
    return f"payload is not an outbound message ({problems})"


async def _wait_for_either(
    stop: asyncio.Event, wake: asyncio.Event | None, *, timeout: float
) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in (stop, wake) if event is not None]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
