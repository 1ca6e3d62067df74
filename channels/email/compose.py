"""Rendering the bot's messages as emails: pure functions, no network.

Every email the bot sends:

- is ``multipart/alternative``: the plain text exactly as the templates wrote it, and a simple,
  accessible HTML version (one column, real paragraphs and lists, 16 px type or 24 px when the
  resident asked for large print, CHC-3.1);
- comes from, and asks replies to go to, the complaints mailbox;
- has its own ``Message-ID`` (returned by the channel and stored on the outbox row, so a reply's
  ``In-Reply-To`` finds the complaint), the case reference in the subject as ``[C-…]``, and
  ``In-Reply-To``/``References`` when it answers a message;
- carries ``Auto-Submitted: auto-replied`` (RFC 3834) and ``X-Auto-Response-Suppress: All`` so
  that well-behaved mail systems never answer it automatically: no mail loops.

Header values are built from text that may come from residents (names, subjects); control
characters, CR and LF are removed from them, so no header can be injected.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Final

from conversations.envelopes import OutboundKind, OutboundMessage

BODY_FONT_PX: Final = 16
LARGE_PRINT_FONT_PX: Final = 24
MAX_SUBJECT_LENGTH: Final = 200

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+")


class ComposeError(ValueError):
    """The message cannot be written as an email (e.g. an address that is not one)."""


def header_safe(value: str, *, limit: int = MAX_SUBJECT_LENGTH) -> str:
    """Return ``value`` fit for a header: no CR, LF or other control characters, bounded.

    Runs of control characters become one space, so a name or subject carrying a line break
    and ``Bcc: …`` cannot start a new header line.
    """
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


def subject_for(message: OutboundMessage, words: Mapping[str, str]) -> str:
    """Return the subject: ``[REF] `` then the message's subject or its kind's label.

    Args:
        message: the message.
        words: the ``[email]`` labels (one subject per message kind, and ``urgent``).
    """
    base = message.subject or words.get(message.kind.value) or words["reply"]
    if message.urgent:
        base = f"{words['urgent']}: {base}"
    if message.reference and message.reference not in base:
        base = f"[{message.reference}] {base}"
    return header_safe(base)


def plain_text(message: OutboundMessage, words: Mapping[str, str]) -> str:
    """Return the plain-text body: the message, then its options as numbered lines."""
    text = message.text.rstrip()
    if message.choices:
        options = "\n".join(f"{n}. {c.label}" for n, c in enumerate(message.choices, 1))
        text = f"{text}\n\n{words['choices_intro']}\n{options}"
    return text + "\n"


def html_body(message: OutboundMessage, words: Mapping[str, str], *, title: str) -> str:
    """Return the HTML body: escaped text in paragraphs and lists, readable type.

    Everything from the message is escaped before any markup is added, so text a resident
    wrote (quoted back in a read-back) cannot inject HTML.
    """
    size = LARGE_PRINT_FONT_PX if message.large_print else BODY_FONT_PX
    blocks = [_html_block(block) for block in re.split(r"\n\s*\n", message.text.strip()) if block]
    if message.choices:
        items = "".join(f"<li>{html.escape(c.label)}</li>" for c in message.choices)
        blocks.append(f"<p>{html.escape(words['choices_intro'])}</p>\n<ol>{items}</ol>")
    body = "\n".join(blocks)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n"
        f'<body style="margin:0;padding:16px;background:#ffffff;color:#1a1a1a;'
        f'font-family:Arial,Helvetica,sans-serif;font-size:{size}px;line-height:1.5;">\n'
        f'<div style="max-width:40em;">\n{body}\n</div>\n</body>\n</html>\n'
    )


def _html_block(block: str) -> str:
    lines = block.splitlines()
    if len(lines) > 1 and all(_LIST_ITEM.match(line) for line in lines):
        items = "".join(f"<li>{_inline(_LIST_ITEM.sub('', line))}</li>" for line in lines)
        return f"<ul>{items}</ul>"
    return "<p>" + "<br>\n".join(_inline(line) for line in lines) + "</p>"


def _inline(line: str) -> str:
    """Escape one line and make its web addresses links (after escaping, so nothing leaks)."""
    escaped = html.escape(line.strip(), quote=True)
    return _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)


def compose(
    message: OutboundMessage,
    *,
    recipient: str,
    from_address: str,
    from_name: str,
    words: Mapping[str, str],
    now: datetime,
    references: Sequence[str] = (),
) -> EmailMessage:
    """Return ``message`` as an email to ``recipient``, with a new Message-ID.

    Args:
        message: what to send.
        recipient: the address to send to (the resident's, or the staff mailbox's).
        from_address: the complaints mailbox (From and Reply-To).
        from_name: the display name of the complaints mailbox.
        words: the ``[email]`` labels.
        now: the Date header's time (aware).
        references: earlier message ids of the thread, oldest first; ``in_reply_to`` is added.

    Raises:
        ComposeError: ``recipient`` or ``from_address`` is not a usable address.
    """
    mail = EmailMessage()
    subject = subject_for(message, words)
    try:
        mail["From"] = Address(display_name=header_safe(from_name), addr_spec=from_address)
        mail["To"] = Address(addr_spec=header_safe(recipient))
        mail["Reply-To"] = Address(addr_spec=from_address)
    except (ValueError, IndexError, HeaderParseError) as error:  # the registry's failures
        raise ComposeError(f"not an email address: {error}") from None
    mail["Subject"] = subject
    mail["Date"] = format_datetime(now)
    domain = from_address.rpartition("@")[2] or None
    mail["Message-ID"] = make_msgid(domain=domain)
    thread = [header_safe(r, limit=998) for r in references if r]
    # The id of the message answered: the channel may keep more beside it (the sender).
    parent = _MESSAGE_ID.search(header_safe(message.in_reply_to or "", limit=998))
    if parent is not None:
        mail["In-Reply-To"] = parent.group(0)
        thread.append(parent.group(0))
    if thread:
        mail["References"] = " ".join(dict.fromkeys(thread))
    # RFC 3834: an automatic message. Exchange honours X-Auto-Response-Suppress and does not
    # answer it with out-of-office replies either.
    mail["Auto-Submitted"] = "auto-replied"
    mail["X-Auto-Response-Suppress"] = "All"
    if message.urgent:
        mail["Importance"] = "high"
        mail["X-Priority"] = "1"
    if message.kind == OutboundKind.STAFF_NOTICE:
        mail["X-Complaints-Notice"] = "staff"
    mail.set_content(plain_text(message, words), cte="quoted-printable")
    mail.add_alternative(
        html_body(message, words, title=subject), subtype="html", cte="quoted-printable"
    )
    return mail
