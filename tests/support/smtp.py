"""An in-process SMTP server on 127.0.0.1 that records the mail it accepts.

It is aiosmtpd's threaded ``Controller`` with a recording handler, plus the faults an outgoing
mail adapter must survive: a recipient refused for good (``refuse``), temporary failures of
``DATA`` (``temporarily_fail``) and the server going away and coming back on the same port
(``down`` / ``up``). Optional ``AUTH PLAIN``/``LOGIN`` over plain text::

    with SmtpRecorder() as smtp:
        await aiosmtplib.send(message, hostname=smtp.host, port=smtp.port)
        [mail] = await smtp.wait_for(1)

The server runs on its own thread and event loop, so it keeps answering while a test blocks.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any, Final, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["RecordedMail", "SmtpRecorder"]

SERVER_NAME: Final = "smtp.test"
STOP_TIMEOUT: Final = 5.0
_POLL_INTERVAL: Final = 0.01
_SETTLE_ROUNDS: Final = 10  # loop iterations; an accepted connection needs three
_PARSER: Final = BytesParser(policy=policy.default)


@dataclass(frozen=True)
class RecordedMail:
    """One message the server accepted.

    Attributes:
        mail_from: The envelope sender (``MAIL FROM``).
        rcpt_tos: The accepted envelope recipients (``RCPT TO``), in order.
        data: The message as received after ``DATA`` (dot-unstuffed, CRLF line endings).
        message: ``data`` parsed with :data:`email.policy.default` (line endings as ``\\n``).
        login: The user name the client authenticated as, if it did.
    """

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage = field(repr=False)
    login: str | None = None


class _Controller(Controller):
    """aiosmtpd's controller on a socket bound beforehand, closing live sessions on stop.

    Binding first makes the port known before the server starts (aiosmtpd's own readiness
    check cannot work with ``port=0``) and lets :meth:`SmtpRecorder.up` take the same port
    again. Closing sessions before the loop stops leaves no transport for the garbage
    collector to complain about.
    """

    def __init__(self, handler: _Handler, sock: socket.socket, **smtp_kwargs: Any) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **smtp_kwargs)
        self._sock = sock
        # Strong references: a session whose client has gone quiet (EOF) still holds an open
        # transport, which stop() must find and close.
        self._sessions: set[SMTP] = set()

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)

    def factory(self) -> SMTP:
        session = SMTP(self.handler, **self.SMTP_kwargs)  # what Controller.factory() does
        # Forget sessions that have come and gone (connection_made ran, connection_lost too).
        self._sessions = {
            known
            for known in self._sessions
            if known.session is None or known.transport is not None
        }
        self._sessions.add(session)
        return session

    async def _close_sessions(self) -> None:
        # Stop accepting, but keep the server open until accepted connections have their
        # transports: asyncio 3.11 loses a connection accepted just before Server.close()
        # without closing its socket. Then close every transport and let connection_lost run.
        self.loop.remove_reader(self._sock.fileno())
        for _ in range(_SETTLE_ROUNDS):
            await asyncio.sleep(0)
            for session in self._sessions:
                if session.transport is not None:
                    session.transport.close()
        if self.server is not None:
            self.server.close()
        for _ in range(_SETTLE_ROUNDS):
            await asyncio.sleep(0)
        self._sessions.clear()

    def stop(self, no_assert: bool = False) -> None:
        if self._thread is not None and self.loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._close_sessions(), self.loop)
            future.result(STOP_TIMEOUT)
        super().stop(no_assert=no_assert)

    def abandon(self) -> None:
        """Release what a failed :meth:`start` left behind (loop, socket)."""
        if self._thread is not None:
            self.stop(no_assert=True)
        if not self.loop.is_closed():
            self.loop.close()
        self._sock.close()


class _Handler:
    """aiosmtpd hooks; they run on the server's thread."""

    def __init__(self, recorder: SmtpRecorder) -> None:
        self._recorder = recorder

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # aiosmtpd's own auth_required would warn about AUTH without TLS; this is the same rule.
        if self._recorder.requires_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self._recorder._refusal(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._recorder._take_temporary_failure():
            return "451 4.3.0 Temporary failure, try again later"
        data = envelope.content
        assert isinstance(data, bytes)  # decode_data is off
        login = session.auth_data if isinstance(session.auth_data, str) else None
        self._recorder.messages.append(
            RecordedMail(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                data=data,
                message=_parse(data),
                login=login,
            )
        )
        return "250 2.0.0 Message accepted for delivery"


def _parse(data: bytes) -> EmailMessage:
    # SMTP carries CRLF; parsed as is, every text part would keep "\r\n" line endings.
    message = _PARSER.parsebytes(data.replace(b"\r\n", b"\n"))
    assert isinstance(message, EmailMessage)
    return message


def _listening_socket(port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio turns Nagle off only for sockets that say they are TCP, and
    # with Nagle on every EHLO and greeting waits 40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # The previous server's closed connections may still sit in TIME_WAIT on this port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(100)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class SmtpRecorder:
    """An SMTP server on 127.0.0.1 that records every message it accepts.

    Usable as a context manager (synchronous: the server has its own thread).

    Attributes:
        host: The loopback address the server listens on.
        port: The port, chosen by the first :meth:`start` and kept by :meth:`up` (0 before).
        messages: Every accepted message, in order of arrival.
        username: The user name ``AUTH`` must give, or ``None`` when no auth is needed.
    """

    host: str = "127.0.0.1"
    port: int

    def __init__(self, *, username: str | None = None, password: str | None = None) -> None:
        """Prepare a server; nothing listens until :meth:`start`.

        Args:
            username: With ``password``: require ``AUTH PLAIN`` or ``AUTH LOGIN`` (offered
                without TLS) before ``MAIL FROM``.
            password: The password that goes with ``username``.

        Raises:
            ValueError: If only one of ``username`` and ``password`` is given.
        """
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        self.port = 0
        self.username = username
        self._password = password
        self.messages: list[RecordedMail] = []
        self._lock = threading.Lock()
        self._refused: dict[str, str] = {}
        self._temporary_failures = 0
        self._controller: _Controller | None = None

    @property
    def requires_auth(self) -> bool:
        """Whether clients must authenticate before sending."""
        return self.username is not None

    @property
    def is_up(self) -> bool:
        """Whether the server is listening."""
        return self._controller is not None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start listening on a free port (a new one if started again after :meth:`stop`).

        Raises:
            RuntimeError: If the server is already running.
        """
        if self._controller is not None:
            raise RuntimeError("SmtpRecorder.start() called twice")
        self._listen(0)

    def stop(self) -> None:
        """Close every connection and stop listening; idempotent."""
        self.down()

    def down(self) -> None:
        """Stop listening and drop open connections, keeping the port for :meth:`up`.

        Clients now get "connection refused". Idempotent.
        """
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def up(self) -> None:
        """Listen again on the same port after :meth:`down`; idempotent.

        Raises:
            RuntimeError: If the server was never started.
            OSError: If something else took the port meanwhile.
        """
        if not self.port:
            raise RuntimeError("SmtpRecorder.up() before start()")
        if self._controller is None:
            self._listen(self.port)

    def _listen(self, port: int) -> None:
        sock = _listening_socket(port)
        controller = _Controller(
            _Handler(self),
            sock,
            server_hostname=SERVER_NAME,  # the default, socket.getfqdn(), may wait for DNS
            authenticator=self._authenticate if self.requires_auth else None,
            auth_require_tls=False,
        )
        try:
            controller.start()
        except BaseException:
            controller.abandon()
            raise
        self._controller = controller
        self.port = controller.port

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- faults ---------------------------------------------------------------------------

    def refuse(self, address: str, code: int = 550, text: str = "5.1.1 user unknown") -> None:
        """Refuse ``RCPT TO`` for ``address`` from now on (compared case-insensitively).

        Args:
            address: The recipient to refuse.
            code: The reply code: 5xx refuses for good, 4xx for now.
            text: The rest of the reply.
        """
        with self._lock:
            self._refused[address.casefold()] = f"{code} {text}"

    def temporarily_fail(self, count: int) -> None:
        """Answer the next ``count`` ``DATA`` commands with ``451`` and record nothing.

        Args:
            count: How many messages to turn away; adds to any still pending.
        """
        with self._lock:
            self._temporary_failures += count

    def _refusal(self, address: str) -> str | None:
        with self._lock:
            return self._refused.get(address.casefold())

    def _take_temporary_failure(self) -> bool:
        with self._lock:
            if self._temporary_failures <= 0:
                return False
            self._temporary_failures -= 1
            return True

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: object,
    ) -> AuthResult:
        # handled=False: aiosmtpd then sends the 535 itself; with True a failed login gets no
        # answer and the client hangs until its timeout.
        if not isinstance(auth_data, LoginPassword) or self.username is None:
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode(errors="replace")
        password = auth_data.password.decode(errors="replace")
        if login == self.username and password == self._password:
            return AuthResult(success=True, handled=False, auth_data=login)
        return AuthResult(success=False, handled=False)

    # --- assertions -----------------------------------------------------------------------

    async def wait_for(self, count: int, timeout: float = 10) -> list[RecordedMail]:
        """Wait until at least ``count`` messages have been accepted.

        Args:
            count: How many messages to wait for, in all (not new ones).
            timeout: Seconds to wait.

        Returns:
            A copy of :attr:`messages` (at least ``count`` of them).

        Raises:
            TimeoutError: If fewer arrived in time; the message lists those that did.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            arrived = list(self.messages)
            if len(arrived) >= count:
                return arrived
            if loop.time() >= deadline:
                summary = "; ".join(
                    f"from {m.mail_from!r} to {m.rcpt_tos!r}: {m.message['subject']!r}"
                    for m in arrived
                )
                raise TimeoutError(
                    f"expected {count} message(s) within {timeout:g} s, "
                    f"got {len(arrived)}: {summary or 'none'}"
                )
            await asyncio.sleep(_POLL_INTERVAL)
