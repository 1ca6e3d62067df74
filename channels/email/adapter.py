r"""The email channel: reads the complaints mailbox over IMAP and sends over SMTP.

Receiving (aioimaplib):

1. connect, log in and select the mailbox; IDLE if the server offers it, else poll;
2. find unread mail (``UID SEARCH UNSEEN``) and fetch it in batches with ``BODY.PEEK[]``, which
   leaves it unread, so a backlog of thousands is worked through a batch at a time;
3. hand each message to the engine, which commits its effects (and a receipt keyed on the
   Message-ID) in one transaction;
4. only then mark the batch ``\Seen``.

A crash between 3 and 4 fetches the message again; its receipt makes that harmless. Nothing is
lost (unread mail is fetched until handled) and nothing is doubled (receipts). Any dropped
connection is retried with jittered exponential backoff.

Mail the bot must not answer (auto-replies, bulk and list mail, bounces, its own messages) is
recorded and left unanswered; a bounce is passed to staff. Mail that cannot be read at all goes
to the dead letters and staff are told. A message the engine keeps failing on is set aside the
same way after a few attempts, so one bad email never stops the mailbox.

Sending (aiosmtplib) keeps one SMTP connection open and reconnects when it drops. SMTP failures
become the channel errors the outbox dispatcher understands: 4xx and network failures are
retried, 5xx (a refused recipient) goes to the dead letters with staff told.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import ssl
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Final

import aioimaplib
import aiosmtplib

from channels.base import Channel, OnMessage, jittered_backoff
from channels.email.compose import ComposeError, compose
from channels.email.parse import MalformedEmailError, ParsedEmail, parse_email
from conversations.envelopes import (
    Attachment,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
)
from conversations.notify import Notifier
from conversations.wording import Wording
from core.clock import Clock
from core.db.store import Store
from core.errors import (
    ChannelError,
    PermanentChannelError,
    StorageError,
    TemporaryChannelError,
)
from core.outbox.service import OutboxService
from core.references import find_references
from core.settings import EmailSettings, ImapSettings, SmtpSettings, StaffSettings

log = logging.getLogger(__name__)

CHANNEL: Final = "email"
IDLE_SECONDS: Final = 25 * 60
"""Longest single IDLE: servers may drop an IDLE after 30 minutes (RFC 2177)."""
MAX_HANDLING_ATTEMPTS: Final = 3
RETRY_UNHANDLED_SECONDS: Final = 5.0
"""How soon an email the engine failed on is tried again."""
"""Times the engine may fail on one email before it is set aside as a dead letter."""
_FETCH_HEAD = re.compile(rb"^\d+ FETCH \(")
_UID = re.compile(rb"UID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


class LoginRefusedError(PermanentChannelError):
    """The IMAP server refused the username or password."""


class MailboxMissingError(LoginRefusedError):
    """The IMAP server has no mailbox (folder) by the configured name."""


@dataclass(frozen=True, slots=True)
class FetchedMail:
    """One message as fetched: its UID, its raw bytes and when the server received it."""

    uid: int
    raw: bytes
    arrived_at: datetime | None


def parse_fetch(lines: Iterable[bytes | bytearray]) -> list[FetchedMail]:
    """Return the messages in a ``UID FETCH (UID INTERNALDATE BODY.PEEK[])`` response.

    aioimaplib gives the response as lines: a ``N FETCH (… {size}`` line, the literal as a
    ``bytearray``, then a closing line (which may carry the UID instead, depending on the
    server's order of items).
    """
    fetched: list[FetchedMail] = []
    items = list(lines)
    index = 0
    while index < len(items):
        head = bytes(items[index])
        literal = items[index + 1] if index + 1 < len(items) else None
        # Only "N FETCH (… {size}" followed by the literal carries a message; an unsolicited
        # "N FETCH (FLAGS …)" (someone read mail elsewhere) is skipped on its own.
        if not (
            _FETCH_HEAD.match(head)
            and head.rstrip().endswith(b"}")
            and isinstance(literal, bytearray)
        ):
            index += 1
            continue
        raw = bytes(items[index + 1])
        tail = bytes(items[index + 2]) if index + 2 < len(items) else b""
        uid_match = _UID.search(head) or _UID.search(tail)
        if uid_match is not None:
            date_match = _INTERNALDATE.search(head) or _INTERNALDATE.search(tail)
            fetched.append(
                FetchedMail(
                    uid=int(uid_match.group(1)),
                    raw=raw,
                    arrived_at=_internaldate(date_match.group(1)) if date_match else None,
                )
            )
        index += 3
    return fetched


def _internaldate(value: bytes) -> datetime | None:
    """Parse an IMAP INTERNALDATE (``25-Nov-2026 10:00:00 +0000``)."""
    try:
        return datetime.strptime(value.decode("ascii").strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def uid_set(uids: Iterable[int]) -> str:
    """Return an IMAP UID set, runs collapsed (``1:3,7``)."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    start = previous = None
    for uid in ordered:
        if start is None:
            start = previous = uid
        elif previous is not None and uid == previous + 1:
            previous = uid
        else:
            parts.append(str(start) if start == previous else f"{start}:{previous}")
            start = previous = uid
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}:{previous}")
    return ",".join(parts)


class EmailChannel(Channel):
    """The complaints mailbox, read over IMAP and answered over SMTP.

    Args:
        imap: the IMAP settings.
        smtp: the SMTP settings.
        email: the mailbox's own address and limits.
        staff: where staff notices go by email.
        store: the database (receipts, outbox, dead letters).
        clock: where "now" comes from.
        wording: the bot's words (the ``[email]`` labels and the notices).
        evidence_dir: where attachments are saved.
        landlord: the landlord's name, for the From name.
        imap_timeout: seconds one IMAP command may take.
        smtp_timeout: seconds one SMTP exchange may take.
    """

    name = CHANNEL

    def __init__(
        self,
        *,
        imap: ImapSettings,
        smtp: SmtpSettings,
        email: EmailSettings,
        staff: StaffSettings,
        store: Store,
        clock: Clock,
        wording: Wording,
        evidence_dir: Path,
        landlord: str,
        imap_timeout: float = 30.0,
        smtp_timeout: float = 30.0,
    ) -> None:
        if not (imap.host and smtp.host and email.address):
            raise ValueError(
                "the email channel needs COMPLAINTS_IMAP__HOST, COMPLAINTS_SMTP__HOST "
                "and COMPLAINTS_EMAIL__ADDRESS"
            )
        self._imap = imap
        self._smtp_settings = smtp
        self._email = email
        self._address = email.address.lower()
        self._staff = staff
        self._store = store
        self._clock = clock
        self._words = wording
        self._labels = wording.labels("email")
        self._from_name = self._labels["from_name"].format(landlord=landlord)
        self._evidence_dir = evidence_dir
        self._imap_timeout = imap_timeout
        self._smtp_timeout = smtp_timeout
        self._outbox = OutboxService(clock=clock)
        self._notifier = Notifier(outbox=self._outbox, wording=wording, clock=clock)
        self._stop = asyncio.Event()
        self._client: aioimaplib.IMAP4 | None = None
        self._lost = asyncio.Event()
        self._smtp: aiosmtplib.SMTP | None = None
        self._smtp_lock = asyncio.Lock()
        self._closed = False
        self._failures: dict[str, int] = {}
        self._replies: dict[str, deque[datetime]] = {}
        self.connected = False
        """Whether the mailbox is connected now (for health checks)."""
        self.idle_supported: bool | None = None
        """Whether the server offers IDLE (``None`` until the first connection)."""

    # ------------------------------------------------------------------ lifecycle

    async def start(self, on_message: OnMessage) -> None:
        """Read the mailbox until :meth:`stop`, reconnecting after any drop.

        Raises:
            LoginRefusedError: the very first login was refused, or the mailbox does not
                exist (configuration errors); after the mailbox has worked, both are retried.
        """
        self._stop.clear()
        failures = 0
        ever_connected = False
        while not self._stop.is_set():
            try:
                await self._connect()
                ever_connected = True
                failures = 0
                await self._serve(on_message)
            except LoginRefusedError:
                if not ever_connected:
                    raise
                failures += 1
                await self._after_failure(failures, "login refused")
            except StorageError as error:
                # The database is unavailable: nothing was marked seen; try again later.
                failures += 1
                await self._after_failure(failures, f"database: {error}")
            except (aioimaplib.AioImapException, OSError, TimeoutError, ChannelError) as error:
                if self._stop.is_set():
                    break
                failures += 1
                await self._after_failure(failures, f"{type(error).__name__}: {error}")
            finally:
                await self._disconnect()

    async def stop(self) -> None:
        """Stop reading and close both connections; the message in hand finishes first."""
        self._stop.set()
        self._lost.set()
        async with self._smtp_lock:
            self._closed = True
            if self._smtp is not None:
                try:
                    await self._smtp.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    self._smtp.close()
                self._smtp = None

    async def _after_failure(self, failures: int, reason: str) -> None:
        delay = jittered_backoff(failures, base=2.0, cap=300.0)
        log.warning(
            "email mailbox connection failed; retrying",
            extra={"error": reason, "retry_in_s": round(delay, 1)},
        )
        self.connected = False
        await self._sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    # ------------------------------------------------------------------ IMAP

    async def _connect(self) -> None:
        self._lost.clear()
        context = ssl.create_default_context() if self._imap.ssl else None
        client = aioimaplib.IMAP4(
            host=self._imap.host or "",
            port=self._imap.port,
            timeout=self._imap_timeout,
            conn_lost_cb=self._connection_lost,
            ssl_context=context,
        )
        self._client = client
        await client.wait_hello_from_server()
        password = self._imap.password.get_secret_value() if self._imap.password else ""
        response = await client.login(self._imap.username or self._address, password)
        if response.result != "OK":
            raise LoginRefusedError(
                "the IMAP server refused the login; check COMPLAINTS_IMAP__USERNAME and "
                "COMPLAINTS_IMAP__PASSWORD (many providers need an app password)"
            )
        response = await client.select(self._imap.mailbox)
        if response.result != "OK":
            raise MailboxMissingError(
                f"cannot open the mailbox {self._imap.mailbox!r}; check COMPLAINTS_IMAP__MAILBOX"
            )
        self.idle_supported = client.has_capability("IDLE")
        self.connected = True
        log.info(
            "email mailbox connected",
            extra={"mailbox": self._imap.mailbox, "idle": self.idle_supported},
        )

    def _connection_lost(self, error: Exception | None) -> None:
        self.connected = False
        self._lost.set()

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        self.connected = False
        if client is None:
            return
        try:
            if client.has_pending_idle():
                client.idle_done()
            await asyncio.wait_for(client.logout(), timeout=2.0)
        except (aioimaplib.AioImapException, OSError, TimeoutError, AttributeError):
            pass  # the connection is going anyway
        # A connection still being opened (stopped during the greeting) is abandoned too;
        # aioimaplib keeps that task to itself.
        connecting: asyncio.Task[object] | None = getattr(client, "_client_task", None)
        if connecting is not None and not connecting.done():
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await connecting
        # aioimaplib's logout leaves the socket open.
        transport = getattr(client.protocol, "transport", None)
        if transport is not None:
            transport.close()

    def _require_client(self) -> aioimaplib.IMAP4:
        if self._client is None or self._lost.is_set():
            raise ConnectionResetError("the IMAP connection was lost")
        return self._client

    async def _serve(self, on_message: OnMessage) -> None:
        """Work through unread mail, then wait for more, until stopped or disconnected."""
        while not self._stop.is_set():
            found, left = await self._drain(on_message)
            if self._stop.is_set():
                return
            if left:
                # Something failed and stays unread: look again soon, not at the next new mail.
                await self._sleep(RETRY_UNHANDLED_SECONDS)
            elif found:
                # Mail that arrived meanwhile was announced in answers aioimaplib drops: only
                # a search that finds nothing makes waiting for news safe.
                continue
            elif self.idle_supported and self._imap.idle:
                await self._idle()
            else:
                await self._poll_wait()

    async def _drain(self, on_message: OnMessage) -> tuple[int, int]:
        """Handle every unread message, a batch at a time.

        Returns:
            How many unread messages were found, and how many of them are left unread.
        """
        client = self._require_client()
        response = await client.uid_search("UNSEEN")
        if response.result != "OK":
            raise ConnectionResetError(f"UID SEARCH failed: {response.result}")
        uids = [int(u) for line in response.lines[:1] for u in bytes(line).split() if u.isdigit()]
        if uids:
            log.info("unread email found", extra={"count": len(uids)})
        left = 0
        for start in range(0, len(uids), self._email.batch_size):
            if self._stop.is_set():
                break
            batch = uids[start : start + self._email.batch_size]
            fetched = await self._fetch(batch)
            handled = [mail.uid for mail in fetched if await self._handle(mail, on_message)]
            if handled:
                await self._mark_seen(handled)
            left += len(batch) - len(handled)
        return len(uids), left

    async def _fetch(self, uids: list[int]) -> list[FetchedMail]:
        client = self._require_client()
        response = await client.uid("fetch", uid_set(uids), "(UID INTERNALDATE BODY.PEEK[])")
        if response.result != "OK":
            raise ConnectionResetError(f"UID FETCH failed: {response.result}")
        return parse_fetch(response.lines)

    async def _mark_seen(self, uids: list[int]) -> None:
        client = self._require_client()
        response = await client.uid("store", uid_set(uids), "+FLAGS.SILENT", r"(\Seen)")
        if response.result != "OK":
            raise ConnectionResetError(f"UID STORE failed: {response.result}")

    async def _idle(self) -> None:
        """Wait in IDLE until the server reports a change, the IDLE times out, or we stop."""
        client = self._require_client()
        idle = await client.idle_start(timeout=IDLE_SECONDS)
        push = asyncio.ensure_future(client.wait_server_push(timeout=IDLE_SECONDS + 5))
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({push, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            push.cancel()
            lost.cancel()
        said = push.result() if push.done() and not push.cancelled() else None
        # A server that closes the connection says BYE as a push; the IDLE never ends then.
        bye = isinstance(said, list) and any(bytes(line).startswith(b"BYE") for line in said)
        if bye or self._lost.is_set() or not client.has_pending_idle():
            idle.cancel()
            if not self._stop.is_set():
                raise ConnectionResetError("the IMAP connection was lost during IDLE")
            return
        client.idle_done()
        await asyncio.wait_for(idle, timeout=self._imap_timeout)

    async def _poll_wait(self) -> None:
        """Without IDLE: wait the poll interval, keeping the connection alive."""
        try:
            await asyncio.wait_for(self._lost.wait(), timeout=self._email.poll_interval_seconds)
        except TimeoutError:
            await self._require_client().noop()
            return
        if not self._stop.is_set():
            raise ConnectionResetError("the IMAP connection was lost")

    # ------------------------------------------------------------------ one message

    async def _handle(self, mail: FetchedMail, on_message: OnMessage) -> bool:
        """Handle one message; return whether it may be marked seen.

        Raises:
            StorageError: the database is unavailable; the message stays unread.
        """
        digest = hashlib.sha256(mail.raw).hexdigest()
        try:
            parsed = parse_email(
                mail.raw,
                max_attachment_bytes=self._email.max_attachment_bytes,
                own_addresses={self._address},
            )
        except MalformedEmailError as error:
            await self._set_aside(mail, f"<{digest}@sha256.invalid>", str(error), None)
            return True
        # The sender chooses the Message-ID: two senders' mail may share one (broken mailers,
        # or on purpose). Keyed with the sender, neither can make the other's mail a "repeat".
        message_id = f"{parsed.message_id or f'<{digest}@sha256.invalid>'} {parsed.sender}"
        if parsed.automated is not None:
            await self._unanswered(parsed, message_id)
            return True
        try:
            inbound = await self._inbound(parsed, message_id, mail)
            await on_message(inbound)
        except StorageError:
            raise
        except Exception as error:  # noqa: BLE001 - one bad email must not stop the mailbox
            attempts = self._failures.get(message_id, 0) + 1
            self._failures[message_id] = attempts
            log.exception(
                "email could not be handled",
                extra={"uid": mail.uid, "attempt": attempts, "error": type(error).__name__},
            )
            if attempts < MAX_HANDLING_ATTEMPTS:
                return False
            await self._set_aside(mail, message_id, f"{type(error).__name__}: {error}", parsed)
            self._failures.pop(message_id, None)
            return True
        self._failures.pop(message_id, None)
        if parsed.oversized:
            await self._explain_oversized(parsed, message_id)
        return True

    async def _inbound(
        self, parsed: ParsedEmail, message_id: str, mail: FetchedMail
    ) -> InboundMessage:
        now = self._clock.now()
        # The complaint was received when it reached the mailbox (CHC-6.2 counts from then),
        # even if the bot was not running; never later than now.
        received_at = min(mail.arrived_at, now) if mail.arrived_at else now
        reply_to = await self._our_message_answered(parsed)
        thread_reference = None
        if reply_to is None:
            found = find_references(parsed.topic) or find_references(parsed.full_text)
            thread_reference = found[0] if found else None
        return InboundMessage(
            channel=CHANNEL,
            sender=parsed.sender,
            message_id=message_id,
            received_at=received_at,
            text=parsed.text,
            reply_to=reply_to,
            thread_reference=thread_reference,
            attachments=await self._save_attachments(parsed, message_id),
            sender_name=parsed.sender_name,
            subject=parsed.topic or None,
        )

    async def _our_message_answered(self, parsed: ParsedEmail) -> str | None:
        """Return the id of our message this answers: In-Reply-To first, then References."""
        candidates = [c for c in (parsed.in_reply_to, *reversed(parsed.references)) if c]
        if not candidates:
            return None  # a new email: nothing to look up
        async with self._store.unit_of_work() as uow:
            for candidate in dict.fromkeys(candidates):
                # Only a reply to a message about a complaint ties the email to it; otherwise
                # the subject's or text's reference still can.
                if await uow.outbox.complaint_replied_to(CHANNEL, candidate) is not None:
                    return candidate
        return None

    async def _save_attachments(
        self, parsed: ParsedEmail, message_id: str
    ) -> tuple[Attachment, ...]:
        if not parsed.attachments:
            return ()
        folder = hashlib.sha256(message_id.encode()).hexdigest()[:16]
        directory = self._evidence_dir / CHANNEL / folder
        saved = []
        for index, attachment in enumerate(parsed.attachments, 1):
            target = directory / f"{index:02d}-{attachment.filename}"
            await asyncio.to_thread(_write_file, target, attachment.data)
            saved.append(
                Attachment(
                    kind="email-attachment",
                    reference=str(target),
                    filename=attachment.filename,
                    content_type=attachment.content_type,
                    size=len(attachment.data),
                )
            )
        return tuple(saved)

    async def _unanswered(self, parsed: ParsedEmail, message_id: str) -> None:
        """Record mail the bot must not answer; pass bounces to staff."""
        async with self._store.unit_of_work() as uow:
            if not await uow.receipts.record(CHANNEL, message_id, self._clock.now()):
                return
            log.info("automatic email not answered", extra={"why": parsed.automated})
            if parsed.automated == "bounce":
                await self._notifier.tell_staff(
                    uow,
                    template="staff_bounce",
                    idempotency_key=f"{CHANNEL}:{message_id}:bounce",
                    sender=parsed.sender,
                    subject=parsed.subject,
                )

    async def _set_aside(
        self, mail: FetchedMail, message_id: str, reason: str, parsed: ParsedEmail | None
    ) -> None:
        """Keep an email that cannot be handled as a dead letter and tell staff, once."""
        async with self._store.unit_of_work() as uow:
            if not await uow.receipts.record(CHANNEL, message_id, self._clock.now()):
                return
            letter = await self._outbox.dead_letter(
                uow, source=CHANNEL, payload=mail.raw, reason=reason, external_id=message_id
            )
            log.error("email set aside as a dead letter", extra={"dead_letter": letter.id})
            await self._notifier.tell_staff(
                uow,
                template="staff_bad_email",
                idempotency_key=f"{CHANNEL}:{message_id}:dead",
                sender=parsed.sender if parsed else None,
                subject=parsed.subject if parsed else None,
                reason=reason,
            )

    async def _explain_oversized(self, parsed: ParsedEmail, message_id: str) -> None:
        limit = _size(self._email.max_attachment_bytes)
        message = OutboundMessage(
            channel=CHANNEL,
            recipient=parsed.sender,
            text=self._words.render(
                "attachments_too_large", files=list(parsed.oversized), limit=limit
            ),
            subject=self._labels["attachments_too_large"],
            in_reply_to=parsed.message_id,
        )
        async with self._store.unit_of_work() as uow:
            await self._outbox.enqueue(
                uow,
                channel=CHANNEL,
                address=parsed.sender,
                kind=message.kind.value,
                payload=message.model_dump(mode="json"),
                idempotency_key=f"{CHANNEL}:{message_id}:oversized",
            )

    # ------------------------------------------------------------------ sending

    async def send(self, message: OutboundMessage) -> str | None:
        """Send one email; return its Message-ID.

        Raises:
            TemporaryChannelError: the SMTP server is down, timed out or answered 4xx.
            PermanentChannelError: the server refused the recipient or the message (5xx), the
                address is not an address, or replies to this address are over the hourly
                limit (a likely mail loop: staff decide).
        """
        recipient = self._recipient(message)
        counted = message.kind == OutboundKind.REPLY and recipient not in self._staff_addresses()
        if counted:
            self._check_reply_rate(recipient)
        try:
            mail = compose(
                message,
                recipient=recipient,
                from_address=self._address,
                from_name=self._from_name,
                words=self._labels,
                now=self._clock.now(),
            )
        except ComposeError as error:
            raise PermanentChannelError(str(error)) from None
        await self._deliver(mail, recipient)
        if counted:
            self._replies[recipient].append(self._clock.now())
        message_id: str = str(mail["Message-ID"])
        return message_id

    def _recipient(self, message: OutboundMessage) -> str:
        """A staff notice goes to the staff mailbox (the manager's, if addressed to them).

        A notice addressed to one person's email address (a handler's reminder) goes there.
        """
        if message.kind != OutboundKind.STAFF_NOTICE or "@" in message.recipient:
            return message.recipient
        manager = getattr(self._staff, "manager_email", None)
        address = manager if message.recipient == "manager" and manager else self._staff.email
        if not address:
            raise PermanentChannelError("no staff email address: set COMPLAINTS_STAFF__EMAIL")
        return address

    def _staff_addresses(self) -> set[str]:
        addresses = {self._staff.email, getattr(self._staff, "manager_email", None)}
        return {a for a in addresses if a}

    def _check_reply_rate(self, recipient: str) -> None:
        """Refuse a reply beyond the hourly limit to one address: a likely mail loop.

        Counted in this process, from the clock, so the check never touches the database
        while the dispatcher holds its transaction.
        """
        cutoff = self._clock.now() - timedelta(hours=1)
        recent = self._replies.setdefault(recipient, deque())
        while recent and recent[0] <= cutoff:
            recent.popleft()
        if len(recent) >= self._email.max_replies_per_hour:
            raise PermanentChannelError(
                f"{len(recent)} replies to this address in the last hour (the limit is "
                f"{self._email.max_replies_per_hour}); held as a possible mail loop"
            )

    async def _deliver(self, mail: EmailMessage, recipient: str) -> None:
        async with self._smtp_lock:
            for attempt in (1, 2):
                try:
                    smtp = await self._smtp_client()
                    await smtp.send_message(mail, sender=self._address, recipients=[recipient])
                except aiosmtplib.SMTPRecipientsRefused as error:
                    raise _refused(error) from None
                except aiosmtplib.SMTPResponseException as error:
                    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
                        self._drop_smtp()
                        raise TemporaryChannelError(
                            "the SMTP server refused the login; check COMPLAINTS_SMTP__USERNAME "
                            "and COMPLAINTS_SMTP__PASSWORD"
                        ) from None
                    if error.code >= 500:
                        raise PermanentChannelError(f"SMTP {error.code}: {error.message}") from None
                    raise TemporaryChannelError(f"SMTP {error.code}: {error.message}") from None
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                    self._drop_smtp()
                    # A kept-open connection the server closed meanwhile: one fresh try.
                    if attempt == 1 and isinstance(error, aiosmtplib.SMTPServerDisconnected):
                        continue
                    raise TemporaryChannelError(
                        f"SMTP unavailable: {type(error).__name__}: {error}"
                    ) from None
                return

    async def _smtp_client(self) -> aiosmtplib.SMTP:
        if self._closed:
            raise TemporaryChannelError("the email channel is stopping; sent after restart")
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        settings = self._smtp_settings
        smtp = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password.get_secret_value() if settings.password else None,
            use_tls=settings.ssl,
            start_tls=settings.starttls and not settings.ssl,
            timeout=self._smtp_timeout,
        )
        try:
            await smtp.connect()
        except BaseException:
            smtp.close()  # a greeting or login that failed leaves the socket open otherwise
            raise
        self._smtp = smtp
        return smtp

    def _drop_smtp(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _refused(error: aiosmtplib.SMTPRecipientsRefused) -> ChannelError:
    codes = [r.code for r in error.recipients]
    text = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
    if codes and all(code >= 500 for code in codes):
        return PermanentChannelError(f"recipient refused: {text}")
    return TemporaryChannelError(f"recipient deferred: {text}")


def _write_file(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{limit / 1024:g} KB"
