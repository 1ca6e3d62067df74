"""Real mail peers for the email channel's tests: a private Dovecot and a recording SMTP server.

Dovecot starts once per test session (about 30 ms, and about a second to stop); each test gets
a fresh IMAP user of its own through ``mailbox``, so tests never see each other's mail. Without
Dovecot installed the IMAP tests are skipped, except under CI (``CI`` set), where they fail.
The SMTP server is cheap and starts for every test that asks for ``smtp``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.dovecot import DovecotServer, Mailbox, find_dovecot
from tests.support.smtp import SmtpRecorder


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A private Dovecot IMAP server on 127.0.0.1 for the whole run."""
    binary = find_dovecot()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("dovecot not found; CI must install dovecot-imapd")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    with DovecotServer(binary=binary) as server:
        yield server


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> Mailbox:
    """A new, empty IMAP user (``user-<8 hex digits>``) on the shared Dovecot.

    Yields a :class:`~tests.support.dovecot.Mailbox`: ``user``, ``password``, ``host``,
    ``port``, and ``append``, ``append_many``, ``flags``, ``messages``, ``count_unseen``,
    ``kick`` and ``connections`` bound to that user.
    """
    return dovecot.new_mailbox()


@pytest.fixture
def smtp() -> Iterator[SmtpRecorder]:
    """A started :class:`~tests.support.smtp.SmtpRecorder` without auth, stopped afterwards."""
    with SmtpRecorder() as recorder:
        yield recorder
