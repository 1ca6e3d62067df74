"""Complaint emails per second, arrival to acknowledgement, beside a plain IMAP fetch.

Both run against the same private Dovecot (IMAP) and an in-process aiosmtpd (SMTP) on
127.0.0.1, over the same messages, in the same process and run:

* **baseline**: aioimaplib alone: log in, ``UID SEARCH UNSEEN``, and fetch every message with
  ``BODY.PEEK[]`` in batches of 50, doing nothing with them;
* **the bot**: the real application (``Application.run``, the code path of
  ``complaints-bot run``) on SQLite: each email is fetched, parsed, handled by the engine in one
  transaction (a complaint logged and acknowledged, receipt, record, outbox), marked read, and its
  acknowledgement accepted by the SMTP server. The clock starts when the bot starts, with every
  email already waiting; it stops when the SMTP server has accepted the last acknowledgement.

Each email comes from a different resident. The SMTP sending rate is raised to 1000/s so the
figure measures the work, not the configured limit (5/s by default). Staff notices by email are
off, so SMTP carries only the acknowledgements. Needs Dovecot (``apt-get install
dovecot-imapd``); ``./scripts/test.sh`` installs it.

    .venv/bin/python -m benchmarks.email [--emails 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aioimaplib

from bot.app import Application
from channels.email.adapter import parse_fetch, uid_set
from core.db.engine import sqlite_url
from core.settings import load_settings
from tests.support.dovecot import DovecotServer, Mailbox, find_dovecot
from tests.support.smtp import SmtpRecorder

ADDRESS = "complaints@riverside.example"
BATCH = 50
COMPLAINT = (
    "I want to make a complaint. The boiler in my flat at {n} Oak House has been broken "
    "since 1 November and nobody came to repair it. I would like it fixed this week."
)


def complaint(n: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Resident {n} <resident{n}@example.org>"
    mail["To"] = ADDRESS
    mail["Subject"] = "Broken boiler"
    mail["Message-ID"] = make_msgid(domain="example.org")
    mail.set_content(COMPLAINT.format(n=n))
    return mail.as_bytes()


def fill(mailbox: Mailbox, count: int) -> None:
    messages = [complaint(n) for n in range(count)]
    for start in range(0, count, 500):
        mailbox.append_many(messages[start : start + 500])


async def fetch_baseline(mailbox: Mailbox, count: int) -> float:
    """Messages per second fetched by aioimaplib alone."""
    client = aioimaplib.IMAP4(host=mailbox.host, port=mailbox.port, timeout=60)
    await client.wait_hello_from_server()
    await client.login(mailbox.user, mailbox.password)
    await client.select("INBOX")
    started = time.perf_counter()
    response = await client.uid_search("UNSEEN")
    uids = [int(u) for u in bytes(response.lines[0]).split()]
    fetched = 0
    for start in range(0, len(uids), BATCH):
        batch = uid_set(uids[start : start + BATCH])
        answer = await client.uid("fetch", batch, "(UID INTERNALDATE BODY.PEEK[])")
        fetched += len(parse_fetch(answer.lines))
    elapsed = time.perf_counter() - started
    await client.logout()
    if fetched != count:
        raise RuntimeError(f"baseline fetched {fetched} of {count} messages")
    return count / elapsed


async def bot_rate(mailbox: Mailbox, smtp: SmtpRecorder, count: int, directory: Path) -> float:
    """Emails per second through the whole bot, acknowledgement accepted by SMTP."""
    settings = load_settings(
        database_url=sqlite_url(directory / "bench.sqlite3"),
        data_dir=directory,
        imap={
            "host": mailbox.host,
            "port": mailbox.port,
            "username": mailbox.user,
            "password": mailbox.password,
            "ssl": False,
        },
        smtp={"host": smtp.host, "port": smtp.port, "starttls": False, "messages_per_second": 1000},
        email={"address": ADDRESS, "batch_size": BATCH},
        scheduler={"interval_seconds": 3600},
    )
    app = Application(settings)
    await app.migrate()  # not timed: a one-off at first start
    stop = asyncio.Event()
    started = time.perf_counter()
    running = asyncio.create_task(app.run(stop, out=io.StringIO()))
    await smtp.wait_for(count, timeout=1800)
    elapsed = time.perf_counter() - started
    stop.set()
    await running
    await app.aclose()
    return count / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=2000)
    args = parser.parse_args()
    binary = find_dovecot()
    if binary is None:
        raise SystemExit("Dovecot is not installed (apt-get install dovecot-imapd)")
    with DovecotServer(binary=binary) as dovecot, SmtpRecorder() as smtp:
        plain, bot = dovecot.new_mailbox("plain"), dovecot.new_mailbox("bot")
        fill(plain, args.emails)
        fill(bot, args.emails)
        baseline = await fetch_baseline(plain, args.emails)
        with tempfile.TemporaryDirectory() as directory:
            rate = await bot_rate(bot, smtp, args.emails, Path(directory))
    print(f"emails:   {args.emails} (one complaint each from as many residents)")
    print(f"bot:      {rate:8.1f} emails/s  (fetch, parse, engine on SQLite, acknowledgement sent)")
    print(f"baseline: {baseline:8.1f} emails/s  (aioimaplib fetch alone, no work)")
    print(f"ratio:    {rate / baseline:8.3f}  (bot / baseline)")


if __name__ == "__main__":
    asyncio.run(main())
