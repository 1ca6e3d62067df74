"""Read one inbound email: who sent it, how it threads, what the resident wrote now.

:func:`parse_email` turns the raw bytes of a message into a :class:`ParsedEmail`: the sender,
the thread ids (Message-ID, In-Reply-To, References), the subject and its topic, the text the
resident wrote *now* (quoted history, signatures and forwarded-header blocks removed), the whole
body (where a case reference they quoted can be found), the files they attached, and whether the
message is automated mail that must never be answered (auto-replies, bounces, mailing lists,
our own messages coming back).

Everything here is a pure function of its input: no network, no database, no clock. Email is
hostile input, so:

* :func:`parse_email` raises nothing but :class:`MalformedEmailError`, whatever the bytes;
* body text is cut to :data:`MAX_TEXT_CHARS` (HTML to a larger bound) before heavy processing;
* no regular expression here can backtrack catastrophically, and no loop rescans its input;
* the stdlib has quadratic corners of its own, so they are kept away: the header parser (slow on
  thousands of ``;`` or quotes in one header) sees at most :data:`_MAX_HEADER_CHARS` of any
  header, and :mod:`html.parser` (slow on unclosed tags and comments) only sees markup whose
  every ``<`` opens a tag that is closed before the next ``<``.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from enum import Enum, auto
from html import unescape
from html.parser import HTMLParser
from typing import Any, Final, TypeVar

MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
"""The default ceiling on the total size of the attachments kept from one message."""
MAX_TEXT_CHARS: Final = 100_000
"""The most characters of body text kept from one message (``text`` and ``full_text``)."""

_MAX_HTML_CHARS: Final = 1_000_000  # markup-heavy HTML (Outlook, Word) carries ~10x its text
_MAX_HEADER_CHARS: Final = 2_048
_MAX_ADDRESS_CHARS: Final = 1_000
_MAX_DEPTH: Final = 32
_MAX_FILENAME_CHARS: Final = 120
_MAX_DEFECTS: Final = 50
_MAX_LINK_CHARS: Final = 2_000
_BYTES_PER_CHAR: Final = 4  # the most UTF-8 needs, so cutting bytes first never loses text
_FORWARDED_MESSAGE_NAME: Final = "forwarded-message.eml"

_T = TypeVar("_T")


class MalformedEmailError(ValueError):
    """The message cannot be handled at all (no usable sender, or undecodable structure)."""


@dataclass(frozen=True, slots=True)
class EmailAttachment:
    """A file that came with a message.

    Attributes:
        filename: safe to show and store: no path separators, no control characters, at most
            120 characters; made up as ``attachment-<n>.<ext>`` when the sender gave none.
        content_type: the declared MIME type, lower-case (``image/jpeg``).
        data: the decoded bytes.
    """

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """One inbound message, read.

    Attributes:
        message_id: ``<local@domain>``, or ``None`` when missing or empty.
        in_reply_to: the first message id in In-Reply-To, normalised like ``message_id``.
        references: every message id in References, in order, normalised, without repeats.
        sender: the From address (addr-spec), lower-case.
        sender_name: the From display name, decoded, or ``None`` when empty.
        reply_to: the Reply-To address, lower-case, if there is one.
        subject: decoded, on one line, whitespace collapsed; ``""`` when there is none.
        topic: the subject without its ``Re:``/``Fwd:``-style prefixes (see
            :func:`clean_subject`).
        date: the Date header as an aware datetime, or ``None`` when missing or unreadable.
        text: what the sender wrote now: quoted history, signatures and forwarded-header lines
            removed (see :func:`strip_quoted`); ``""`` when the message has no body.
        full_text: the whole body text before quotes were removed.
        attachments: the files kept, in order; together within the size limit.
        oversized: the names of files left out because they would have taken the total over
            the limit.
        automated: why no reply may be sent (``"own-address"``, ``"bounce"``,
            ``"auto-submitted"``, ``"auto-reply"``, ``"mailing-list"``, ``"precedence"``), or
            ``None`` for mail a person sent.
        defects: the names of the MIME defects the parser noticed, for logs.
    """

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    sender: str
    sender_name: str | None
    reply_to: str | None
    subject: str
    topic: str
    date: datetime | None
    text: str
    full_text: str
    attachments: tuple[EmailAttachment, ...]
    oversized: tuple[str, ...]
    automated: str | None
    defects: tuple[str, ...]


class _BoundedHeaderRegistry(HeaderRegistry):
    """The stdlib header factory, made safe for hostile headers.

    Its parser is quadratic on some values (thousands of ``;`` in a Content-Type, runs of quotes
    in an address), and the MIME parser consults it for every part, so it is given at most
    :data:`_MAX_HEADER_CHARS` of any header; no genuine header that the parser needs
    (Content-Type, Content-Disposition, From) comes near that. It also raises on some malformed
    values (``IndexError`` on ``charset*``); such a header is kept as plain text, which is all
    the MIME parser reads of it, so one bad header does not cost the whole message.
    """

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if isinstance(value, str) and len(value) > _MAX_HEADER_CHARS:
            value = value[:_MAX_HEADER_CHARS]
        try:
            return super().__call__(name, value)
        except Exception:
            return self["x-unparsed"](name, value)


_POLICY: Final = policy.default.clone(header_factory=_BoundedHeaderRegistry())
# Attached messages are kept as they came: headers are not refolded (refolding is slow on
# hostile headers and would change what the resident sent).
_VERBATIM_POLICY: Final = _POLICY.clone(refold_source="none", linesep="\r\n")

_LINE_BREAK_RE: Final = re.compile(r"\r\n|\r|\n")
_CONTROL_RE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")
_SURROGATE_RE: Final = re.compile("[\ud800-\udfff]")
_BLANK_LINES_RE: Final = re.compile(r"\n{3,}")
_WHITESPACE_RE: Final = re.compile(r"\s+")

# A byte that is not UTF-8, decoded with "surrogateescape", becomes U+DC80..U+DCFF; this maps it
# to what the byte means in windows-1252, the usual culprit.
_CP1252_FOR_ESCAPED_BYTE: Final = {
    0xDC00 + byte: bytes([byte]).decode("cp1252", errors="replace") for byte in range(0x80, 0x100)
}
# Codecs that are slow on hostile input (punycode and idna are quadratic) or that are not
# really character sets.
_UNSAFE_CODECS: Final = frozenset(
    {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"}
)
# UTF-8, and what mail that says "us-ascii" or nothing at all nearly always is.
_LENIENT_CODECS: Final = frozenset({"utf-8", "ascii"})

_BOUNDARY_LINE_RE: Final = re.compile(r"^--([0-9A-Za-z'()+_,./:=?-]{1,70})[ \t]*\r?$", re.MULTILINE)
_MSG_ID_RE: Final = re.compile(r"<([^<>]*)>")
_BARE_ADDRESS_RE: Final = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)

# "[External] " and the like, set by mail gateways. A tag with a digit in it is kept: it may be
# a case reference ("[C-7K3Q-9XFD] Re: ...") or a ticket number.
_TAGS: Final = r"(?:\[[^\[\]\d]{0,60}\]\s*)*+"
_COUNTER: Final = r"\s*(?:\[\d{1,4}\]|\(\d{1,4}\))?\s*"  # "Re[2]:", "Fwd(3):"
_SUBJECT_PREFIXES_RE: Final = re.compile(
    rf"(?:{_TAGS}(?:re|fwd?|aw|wg|tr|réf){_COUNTER}[:\uff1a]+\s*)++", re.IGNORECASE
)
_FORWARD_SUBJECT_RE: Final = re.compile(rf"{_TAGS}(?:fwd?|wg|tr){_COUNTER}[:\uff1a]", re.IGNORECASE)
_AUTO_REPLY_SUBJECT_RE: Final = re.compile(
    rf"{_TAGS}(?:automatic reply|auto[- ]?reply|out of (?:the )?office(?: auto[- ]?reply)?)\s*:",
    re.IGNORECASE,
)

_SIGNATURE_PART_TYPES: Final = frozenset(
    {"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"}
)
_EXTENSIONS: Final = {
    "application/msword": ".doc",
    "application/pdf": ".pdf",
    "application/rtf": ".rtf",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/zip": ".zip",
    "audio/amr": ".amr",
    "audio/mp4": ".m4a",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "audio/wav": ".wav",
    "image/bmp": ".bmp",
    "image/gif": ".gif",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/png": ".png",
    "image/tiff": ".tif",
    "image/webp": ".webp",
    "message/rfc822": ".eml",
    "text/calendar": ".ics",
    "text/csv": ".csv",
    "text/html": ".html",
    "text/plain": ".txt",
    "text/rfc822-headers": ".txt",
    "text/vcard": ".vcf",
    "video/3gpp": ".3gp",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
}
# Path separators, characters Windows refuses in names, and invisible direction overrides that
# can make "photo\u202egpj.exe" read as "photoexe.jpg".
_FILENAME_RESERVED_RE: Final = re.compile(r'[<>:"|?*]')
_FILENAME_INVISIBLE_RE: Final = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def parse_email(
    raw: bytes,
    *,
    max_attachment_bytes: int = MAX_ATTACHMENT_BYTES,
    own_addresses: Collection[str] = (),
) -> ParsedEmail:
    """Read one message as it came from the mailbox.

    Parsing is lenient: a missing Message-ID or Date, a broken MIME boundary or an unknown
    charset still gives a result, with whatever could be read. Only a message that has no
    usable From address, or that the parser cannot take apart at all, is refused.

    Args:
        raw: the message, as fetched (RFC 5322, any line endings).
        max_attachment_bytes: the most attachment bytes kept in total; a file that would go
            over it is named in ``oversized`` instead, and later, smaller files may still fit.
        own_addresses: the addresses the bot sends from; mail from them is ``"own-address"``.

    Returns:
        The parsed message.

    Raises:
        MalformedEmailError: there is no From address, or the message cannot be read.
    """
    try:
        return _parse(raw, max_attachment_bytes=max_attachment_bytes, own_addresses=own_addresses)
    except MalformedEmailError:
        raise
    except Exception as exc:
        # The stdlib parsers fail on hostile mail in many ways (RecursionError on deep nesting,
        # IndexError, AssertionError); the caller needs exactly one error to handle.
        raise MalformedEmailError(f"cannot read the message ({type(exc).__name__})") from exc


def clean_subject(subject: str) -> str:
    """Return the topic of a subject: without its reply and forward prefixes.

    Any number of ``Re:``, ``Fwd:``, ``Fw:``, ``AW:``, ``WG:``, ``TR:`` and ``Réf:`` prefixes
    are removed, in any case, with a counter (``Re[2]:``) or a space before the colon, and with
    the ``[External]``-style tags that mail gateways put before them (a tag with a digit, like a
    case reference ``[C-7K3Q-9XFD]``, is kept). ``Ref:`` is kept: residents write it before a
    case reference.

    Args:
        subject: a decoded subject.

    Returns:
        The topic, whitespace collapsed; ``""`` when nothing is left.
    """
    text = " ".join(_CONTROL_RE.sub(" ", subject[:MAX_TEXT_CHARS]).split())
    prefixes = _SUBJECT_PREFIXES_RE.match(text)
    return text[prefixes.end() :].strip() if prefixes else text


def strip_quoted(text: str) -> str:
    """Remove quoted history and signatures from a plain-text body.

    What is removed: lines quoted with ``>``; a reply attribution (``On <date>, <name>
    wrote:``, also wrapped over two lines, and Apple Mail's ``On 3 Dec 2026, at 10:02, ...
    wrote:``) with the quote under it, or with everything after it when the history under it
    is not quoted; everything from Outlook's ``-----Original Message-----`` or its ``From:`` /
    ``Sent:`` / ``To:`` / ``Subject:`` block (and the ``____`` line above it); a signature
    from a ``--`` line on; "Sent from my iPhone"-style lines. A forwarded message
    (``---------- Forwarded message ---------``, ``Begin forwarded message:``) is kept, less its
    header lines: a resident may forward an earlier complaint. Replies written between quoted
    lines are kept.

    Args:
        text: a plain-text body (convert HTML with :func:`html_to_text` first).

    Returns:
        The text the sender wrote now, trimmed; the whole text trimmed if removing quotes
        would leave nothing, so a resident's words are never lost.
    """
    return _strip_quoted(text, forwarded=False)


def html_to_text(html: str) -> str:
    """Convert an HTML body to plain text; never raises.

    Scripts, styles, the head and comments are dropped; block elements start new lines, ``<br>``
    breaks a line, list items become ``- `` lines (indented when nested), table cells are joined
    with `` | ``, block quotes become ``> `` lines, and a link keeps its text, followed by its
    address in parentheses when that differs from the text. Entities are decoded and runs of
    blank lines collapsed.

    Args:
        html: the markup, however broken.

    Returns:
        The text, trimmed, at most :data:`MAX_TEXT_CHARS` characters.
    """
    markup = _tidy_markup(html[:_MAX_HTML_CHARS])
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
        text = extractor.text()
    except Exception:
        # A last resort: html.parser has asserted on malformed markup before (in marked
        # sections, which _tidy_markup removes); dropping the tags still keeps the words.
        text = unescape(re.sub(r"<[^<>]*>", " ", markup))
    return _finish_text(text)


# --- the message ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Body:
    """Body text found in a part, decoded but not yet converted from HTML."""

    text: str
    is_html: bool


@dataclass(frozen=True, slots=True)
class _File:
    """An attachment as found, before names are made safe and sizes checked."""

    filename: str | None
    content_type: str
    data: bytes


def _parse(raw: bytes, *, max_attachment_bytes: int, own_addresses: Collection[str]) -> ParsedEmail:
    message = BytesParser(policy=_POLICY).parsebytes(raw)
    from_address = _first_address(_raw_header(message, "from"))
    if from_address is None:
        raise MalformedEmailError("the message has no usable From address")
    sender, sender_name = from_address
    reply_to = _first_address(_raw_header(message, "reply-to"))
    subject = _clean_line(_decode_header_text(_raw_header(message, "subject") or ""))

    files: list[_File] = []
    defects: list[str] = []
    full_text = _body_text(_walk(message, 0, files, defects))
    text = _strip_quoted(full_text, forwarded=_FORWARD_SUBJECT_RE.match(subject) is not None)
    attachments, oversized = _fit_attachments(files, max_attachment_bytes)
    references = _message_ids(_raw_header(message, "references", limit=MAX_TEXT_CHARS) or "")
    return ParsedEmail(
        message_id=_first_message_id(_raw_header(message, "message-id")),
        in_reply_to=_first_message_id(_raw_header(message, "in-reply-to")),
        references=tuple(dict.fromkeys(references)),
        sender=sender,
        sender_name=sender_name,
        reply_to=reply_to[0] if reply_to else None,
        subject=subject,
        topic=clean_subject(subject),
        date=_parse_date(_raw_header(message, "date")),
        text=text,
        full_text=full_text,
        attachments=attachments,
        oversized=oversized,
        automated=_automated(message, sender=sender, subject=subject, own_addresses=own_addresses),
        defects=tuple(defects),
    )


def _walk(part: Message, depth: int, files: list[_File], defects: list[str]) -> list[_Body]:
    """Return the body text under ``part``, in order, adding the files found to ``files``."""
    described = _describe(part, depth, defects)
    if described is None:
        return []
    content_type, disposition, filename = described
    if content_type in ("message/rfc822", "message/global"):
        # An attached email is evidence, kept whole; its text is not the resident's message.
        _add_file(
            files, filename or _FORWARDED_MESSAGE_NAME, "message/rfc822", _message_bytes(part)
        )
        return []
    if content_type.startswith("message/") or content_type in _SIGNATURE_PART_TYPES:
        return []  # delivery reports and signatures are for machines
    # Only a multipart's payload is read undecoded: for a leaf, get_payload() decodes 8-bit text
    # with the declared charset, whatever codec that names (punycode, say), and may raise.
    if not part.is_multipart() and content_type.startswith("multipart/"):
        part = _with_found_boundary(part, content_type) or part
    if not part.is_multipart():
        return _walk_leaf(part, content_type, disposition, filename, files)
    payload = part.get_payload()
    children = [
        _walk(child, depth + 1, files, defects)
        for child in (payload if isinstance(payload, list) else [])
        if isinstance(child, Message)
    ]
    if content_type == "multipart/alternative":
        return _preferred_alternative(children)
    return [body for bodies in children for body in bodies]


def _describe(
    part: Message, depth: int, defects: list[str]
) -> tuple[str, str | None, str | None] | None:
    """Note the part's defects; return its content type, disposition and filename if usable."""
    for defect in part.defects:
        name = type(defect).__name__
        if name not in defects and len(defects) < _MAX_DEFECTS:
            defects.append(name)
    if depth > _MAX_DEPTH:
        return None
    try:
        return part.get_content_type(), part.get_content_disposition(), part.get_filename()
    except Exception:
        # One unreadable part must not cost the rest of the message.
        defects.append("UnreadablePartDefect")
        return None


def _with_found_boundary(part: Message, content_type: str) -> Message | None:
    """Re-read a multipart whose declared boundary never came, with the one its body uses."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return None
    start = payload[:_MAX_HEADER_CHARS].decode("latin-1")
    boundaries = (match.group(1) for match in _BOUNDARY_LINE_RE.finditer(start))
    # A line of dashes in the text is not a boundary; real ones have letters or digits.
    boundary = next((found for found in boundaries if any(c.isalnum() for c in found)), None)
    if boundary is None:
        return None
    head = f'Content-Type: {content_type}; boundary="{boundary}"\n\n'.encode()
    repaired = BytesParser(policy=_POLICY).parsebytes(head + payload)
    return repaired if repaired.is_multipart() else None


def _walk_leaf(
    part: Message,
    content_type: str,
    disposition: str | None,
    filename: str | None,
    files: list[_File],
) -> list[_Body]:
    is_html = content_type == "text/html"
    # A multipart whose boundary never came is read as the text it is.
    is_text = is_html or content_type == "text/plain" or content_type.startswith("multipart/")
    if is_text and disposition != "attachment" and not filename:
        return [_Body(_part_text(part, is_html=is_html), is_html=is_html)]
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        _add_file(files, filename, content_type, data)
    return []


def _add_file(files: list[_File], filename: str | None, content_type: str, data: bytes) -> None:
    if data:
        files.append(_File(filename, content_type, data))


def _preferred_alternative(alternatives: list[list[_Body]]) -> list[_Body]:
    """Pick the plain-text alternative if it has text, else the richest one that has any."""
    for bodies in alternatives:
        if any(not body.is_html and body.text.strip() for body in bodies):
            return bodies
    for bodies in reversed(alternatives):
        if any(body.text.strip() for body in bodies):
            return bodies
    return []


def _part_text(part: Message, *, is_html: bool) -> str:
    limit = _MAX_HTML_CHARS if is_html else MAX_TEXT_CHARS
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = _safely(part.get_content_charset, None)
    return _decode_bytes(data[: limit * _BYTES_PER_CHAR], charset)[:limit]


def _body_text(bodies: list[_Body]) -> str:
    pieces = [
        html_to_text(body.text) if body.is_html else _normalise_text(body.text) for body in bodies
    ]
    joined = "\n\n".join(piece.strip("\n") for piece in pieces if piece.strip())
    return _BLANK_LINES_RE.sub("\n\n", joined[:MAX_TEXT_CHARS]).strip()


def _message_bytes(part: Message) -> bytes:
    payload = part.get_payload() if part.is_multipart() else None
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        try:
            return payload[0].as_bytes(policy=_VERBATIM_POLICY)
        except Exception:
            return b""  # the generator cannot write it back out; nothing to keep
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _fit_attachments(
    files: list[_File], limit: int
) -> tuple[tuple[EmailAttachment, ...], tuple[str, ...]]:
    kept: list[EmailAttachment] = []
    oversized: list[str] = []
    total = 0
    for number, found in enumerate(files, start=1):
        filename = _safe_filename(found.filename, found.content_type, number)
        if total + len(found.data) > limit:
            oversized.append(filename)
            continue
        total += len(found.data)
        kept.append(EmailAttachment(filename, found.content_type, found.data))
    return tuple(kept), tuple(oversized)


def _safe_filename(filename: str | None, content_type: str, number: int) -> str:
    name = ""
    if filename:
        name = _repair_surrogates(filename)
        if "=?" in name:  # RFC 2047 in a parameter is not allowed, but common
            name = _decode_header_text(name)
        name = re.split(r"[/\\]", name)[-1]
        name = _FILENAME_INVISIBLE_RE.sub("", _CONTROL_RE.sub("", name))
        name = " ".join(_FILENAME_RESERVED_RE.sub("_", name).split()).strip(" .")
    if not name:
        return f"attachment-{number}{_EXTENSIONS.get(content_type, '.bin')}"
    if len(name) <= _MAX_FILENAME_CHARS:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and len(extension) <= 10:
        return f"{stem[: _MAX_FILENAME_CHARS - len(extension) - 1].rstrip()}.{extension}"
    return name[:_MAX_FILENAME_CHARS]


def _automated(
    message: Message, *, sender: str, subject: str, own_addresses: Collection[str]
) -> str | None:
    """Say why no reply may be sent to ``message``, or ``None``; the first reason that applies."""
    local_part = sender.rpartition("@")[0].strip('"')
    return_paths = {"".join(value.split()) for value in _raw_headers(message, "return-path")}
    auto_submitted = _raw_header(message, "auto-submitted")
    precedence = _first_token(_raw_header(message, "precedence") or "")
    suppress = re.split(r"[\s,]+", (_raw_header(message, "x-auto-response-suppress") or "").lower())
    reasons = (
        ("own-address", sender in {address.strip().lower() for address in own_addresses}),
        (
            "bounce",
            local_part in ("mailer-daemon", "postmaster")
            or _safely(message.get_content_type, "") == "multipart/report"
            or "<>" in return_paths,
        ),
        ("auto-submitted", auto_submitted is not None and _first_token(auto_submitted) != "no"),
        (
            "auto-reply",
            any(_raw_header(message, name) is not None for name in ("x-autoreply", "x-autorespond"))
            or not {"all", "oof"}.isdisjoint(suppress)
            or precedence == "auto_reply"
            or _AUTO_REPLY_SUBJECT_RE.match(subject) is not None,
        ),
        (
            "mailing-list",
            any(_raw_header(message, name) is not None for name in ("list-id", "list-unsubscribe")),
        ),
        ("precedence", precedence in ("bulk", "junk", "list")),
    )
    return next((reason for reason, applies in reasons if applies), None)


def _first_token(value: str) -> str:
    tokens = re.split(r"[\s;(]+", value.strip(), maxsplit=1)
    return tokens[0].lower()


# --- headers ----------------------------------------------------------------------------------


def _raw_headers(message: Message, name: str, *, limit: int = _MAX_HEADER_CHARS) -> list[str]:
    """Every ``name`` header as sent: unfolded, not decoded, cut to ``limit`` characters."""
    values: list[str] = []
    for key, value in message.raw_items():
        if key.lower() == name:
            text = value if isinstance(value, str) else str(value)
            values.append(_repair_surrogates(_LINE_BREAK_RE.sub("", text[: limit * 2])[:limit]))
    return values


def _raw_header(message: Message, name: str, *, limit: int = _MAX_HEADER_CHARS) -> str | None:
    values = _raw_headers(message, name, limit=limit)
    return values[0] if values else None


def _decode_header_text(value: str) -> str:
    """Decode RFC 2047 encoded words in an unstructured header value."""
    try:
        decoded = str(_POLICY.header_factory("subject", value))
    except Exception:
        return value  # keep the words as sent rather than lose them
    return _repair_surrogates(decoded)


def _clean_line(value: str) -> str:
    return " ".join(_CONTROL_RE.sub(" ", value).split())


def _first_address(value: str | None) -> tuple[str, str | None] | None:
    """Return the first usable address in an address header, lower-case, and its name."""
    if value is None:
        return None
    value = value[:_MAX_ADDRESS_CHARS]
    found = _address_in(value)
    if found is None and "=?" in value:
        # Some mailers encode the whole header, address and all, as one encoded word.
        found = _address_in(_decode_header_text(value))
    return found


def _address_in(value: str) -> tuple[str, str | None] | None:
    pairs = _address_pairs(value)
    usable = [address for _, spec in pairs if (address := _usable_address(spec, value))]
    # "info@example.com <jane@example.com>" is common, its name unquoted; the parsers take the
    # name for the address, so an address in angle brackets wins.
    lowered = "".join(value.lower().split())
    address = next((found for found in usable if f"<{found}>" in lowered), None)
    address = address or next(iter(usable), None)
    if address is not None:
        # The old parser reads "jane@example.com (Jane Smith)" as a name; the new one not.
        names = (name for name, spec in pairs if spec.strip().lower() == address)
        name = next((name for name in names if name.strip()), "")
        return address, _clean_line(_repair_surrogates(name)) or None
    # A From that neither parser reads right ("Jane Smith jane@example.com") still names one.
    bare = _BARE_ADDRESS_RE.search(value)
    return (bare.group().lower(), None) if bare else None


def _address_pairs(value: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    try:
        header = _POLICY.header_factory("from", value)
        pairs.extend((address.display_name, address.addr_spec) for address in header.addresses)
    except Exception:
        pass  # deeply nested comments exhaust the recursive parser; the old one may cope
    with contextlib.suppress(Exception):
        pairs.extend(getaddresses([value]))
    return pairs


def _usable_address(addr_spec: str, header: str) -> str | None:
    address = addr_spec.strip()
    local_part, at, domain = address.rpartition("@")
    if (
        not (at and local_part and domain)
        or _CONTROL_RE.search(address)
        or "<" in address
        or ">" in address
        or any(character.isspace() for character in domain)
    ):
        return None
    # Parsers "repair" a missing bracket into a local part with spaces; only a quoted local
    # part that the sender actually wrote may have them.
    if any(character.isspace() for character in local_part) and not (
        local_part.startswith('"') and local_part.endswith('"') and address in header
    ):
        return None
    return address.lower()


def _first_message_id(value: str | None) -> str | None:
    ids = _message_ids(value or "")
    return ids[0] if ids else None


def _message_ids(value: str) -> list[str]:
    """Every message id in a header, as ``<id>``; ids without brackets are taken as words."""
    found = [match.group(1) for match in _MSG_ID_RE.finditer(value)]
    if not found:
        found = value.replace(",", " ").split()
    ids = []
    for candidate in found:
        inner = "".join(_CONTROL_RE.sub("", candidate).split()).strip("<>")
        if inner:
            ids.append(f"<{inner}>")
    return ids


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except Exception:
        return None  # the parser raises TypeError, ValueError or OverflowError, by input
    # "-0000" means UTC with the sender's zone unknown (RFC 5322 3.3).
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# --- text -------------------------------------------------------------------------------------


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode body bytes, honouring the declared charset; never raises.

    A charset that is missing, unknown, ``us-ascii`` or ``utf-8`` is read as UTF-8 with each
    invalid byte read as windows-1252, so a windows-1252 signature pasted into a UTF-8 body
    keeps both. A declared charset that fails is retried as UTF-8, then read with replacement
    characters.
    """
    codec = _codec(charset)
    if codec is None or codec in _LENIENT_CODECS:
        return _decode_utf8_lenient(data)
    if codec == "iso8859-1":
        codec = "cp1252"  # as every mail client does: Windows mail labels its quotes latin-1
    for attempt, errors in ((codec, "strict"), ("utf-8", "strict"), (codec, "replace")):
        try:
            return data.decode(attempt, errors)
        except Exception:
            continue
    return _decode_utf8_lenient(data)


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        info = codecs.lookup(charset.strip().strip("\"'"))
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _UNSAFE_CODECS:
        return None
    return info.name


def _decode_utf8_lenient(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape").translate(_CP1252_FOR_ESCAPED_BYTE)


def _repair_surrogates(text: str) -> str:
    """Turn the bytes the parser smuggled in as surrogates back into characters."""
    if _SURROGATE_RE.search(text) is None:
        return text
    try:
        return _decode_utf8_lenient(text.encode("utf-8", errors="surrogateescape"))
    except UnicodeEncodeError:
        return _SURROGATE_RE.sub("\ufffd", text)


def _normalise_text(text: str) -> str:
    """LF line endings, no control characters but tab and newline, no trailing spaces."""
    text = _CONTROL_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _finish_text(text: str) -> str:
    return _BLANK_LINES_RE.sub("\n\n", _normalise_text(text)).strip()[:MAX_TEXT_CHARS]


def _safely(call: Callable[[], _T], default: _T) -> _T:
    try:
        return call()
    except Exception:
        return default


# --- quoted history ---------------------------------------------------------------------------


_ATTRIBUTION_RE: Final = re.compile(r"On\s.{1,400}?\swrote\s?:", re.IGNORECASE)
_ATTRIBUTION_DETAIL_RE: Final = re.compile(r"\d{1,2}[:.]\d{2}|@")  # a time or an address
_ORIGINAL_MESSAGE_RE: Final = re.compile(r"-{3,}\s*Original Message\s*-{3,}", re.IGNORECASE)
_FORWARD_MARKER_RE: Final = re.compile(
    r"-{3,}\s*Forwarded message\s*-{3,}|Begin forwarded message\s?:", re.IGNORECASE
)
_HEADER_LINE_RE: Final = re.compile(
    r"\s*\*?(from|sent|date|to|cc|bcc|subject|reply-to|importance)\s?:\*?(?:\s|$)", re.IGNORECASE
)
_SEPARATOR_RE: Final = re.compile(r"_{5,}|-{5,}|={5,}")
_DEVICE_SIGNATURE_RE: Final = re.compile(
    r"(?:Sent from my (?:iPhone|iPad|Android|BlackBerry|Samsung|Galaxy|Huawei|Pixel|mobile"
    r"|smartphone|phone)(?: [\w-]+){0,3}"
    r"|Sent from (?:Mail|Outlook) for (?:Windows|iOS|Android|Mac)(?: \d+)?"
    r"|Sent from Outlook(?: for (?:iOS|Android))?"
    r"|Get Outlook for (?:iOS|Android|Mac)"
    r"|Sent from Yahoo Mail(?: (?:for|on) (?:iPhone|iPad|Android))?"
    r")[.!]?(?:\s*(?:<[^<>\s]{1,300}>|\([^()\s]{1,300}\)))?",
    re.IGNORECASE,
)
_MAX_MARKER_LINE: Final = 500


class _State(Enum):
    KEEP = auto()
    SIGNATURE = auto()  # under a "-- " line: skipped, but a forwarded message may follow


def _strip_quoted(text: str, *, forwarded: bool) -> str:
    """:func:`strip_quoted`; when ``forwarded``, Outlook's first header block is a forward's."""
    original = _finish_text(text[:MAX_TEXT_CHARS])
    lines = original.split("\n")
    kept: list[str] = []
    state = _State.KEEP
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        marker = stripped if len(stripped) <= _MAX_MARKER_LINE else ""
        if _FORWARD_MARKER_RE.fullmatch(marker):
            _end_paragraph(kept)
            index, state = _after_header_lines(lines, index + 1), _State.KEEP
            continue
        if _ORIGINAL_MESSAGE_RE.fullmatch(marker):
            break
        if _starts_header_block(lines, index):
            if not forwarded:
                break
            forwarded = False  # only the first block is the forward's; later ones are history
            _end_paragraph(kept)
            index, state = _after_header_lines(lines, index), _State.KEEP
            continue
        if state is _State.SIGNATURE or stripped.startswith(">"):
            index += 1
            continue
        attribution_end = _attribution_end(lines, index)
        if attribution_end is not None:
            if not _quote_follows(lines, attribution_end):
                break  # history that is not marked with ">" runs to the end
            index = attribution_end
            continue
        if stripped == "--" and line.startswith("--"):
            state = _State.SIGNATURE
        elif not _DEVICE_SIGNATURE_RE.fullmatch(marker):
            kept.append(line)
        index += 1
    _drop_trailing_separators(kept)
    result = _BLANK_LINES_RE.sub("\n\n", "\n".join(kept)).strip()
    return result or original


def _attribution_end(lines: list[str], index: int) -> int | None:
    """If an "On ... wrote:" attribution starts at ``index``, return the line after it."""
    if not lines[index].lstrip()[:3].lower().startswith("on"):
        return None
    for end in (index + 1, index + 2):
        candidate = " ".join(line.strip() for line in lines[index:end])
        if (
            len(candidate) <= _MAX_MARKER_LINE
            and _ATTRIBUTION_RE.fullmatch(candidate)
            and _ATTRIBUTION_DETAIL_RE.search(candidate)
        ):
            return end
    return None


def _quote_follows(lines: list[str], index: int) -> bool:
    for line in lines[index : index + 5]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


def _starts_header_block(lines: list[str], index: int) -> bool:
    """Outlook's history block: ``From:``, then ``Sent:``/``Date:`` and ``To:``/``Subject:``."""
    first = _HEADER_LINE_RE.match(lines[index])
    if first is None or first.group(1).lower() != "from":
        return False
    names = set()
    for line in lines[index + 1 : index + 12]:
        header = _HEADER_LINE_RE.match(line)
        if header is not None:
            names.add(header.group(1).lower())
    return bool(names & {"sent", "date"}) and bool(names & {"to", "subject"})


def _after_header_lines(lines: list[str], index: int) -> int:
    """Skip the blank lines and ``From:``/``Date:``/... lines of a forwarded message's header."""
    while index < len(lines) and not lines[index].strip():
        index += 1
    while index < len(lines) and (
        not lines[index].strip() or _HEADER_LINE_RE.match(lines[index]) is not None
    ):
        index += 1
    return index


def _end_paragraph(lines: list[str]) -> None:
    """End what was kept with one blank line, where a forwarded message's header was."""
    _drop_trailing_separators(lines)
    if lines:
        lines.append("")


def _drop_trailing_separators(lines: list[str]) -> None:
    while lines and (not lines[-1].strip() or _SEPARATOR_RE.fullmatch(lines[-1].strip())):
        lines.pop()


# --- HTML ---------------------------------------------------------------------------------------


_TAG_CANDIDATE_RE: Final = re.compile(r"<([^<>]*)(>?)")
_TAG_NAME_START_RE: Final = re.compile(r"/?[A-Za-z]")
_SKIPPED_ELEMENTS: Final = frozenset({"head", "script", "style", "template", "title"})
_PARAGRAPH_ELEMENTS: Final = frozenset(
    {
        "address",
        "blockquote",
        "dl",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "p",
        "pre",
        "table",
    }
)
_LINE_ELEMENTS: Final = frozenset(
    {
        "article",
        "aside",
        "caption",
        "center",
        "dd",
        "details",
        "div",
        "dt",
        "fieldset",
        "figcaption",
        "footer",
        "form",
        "header",
        "li",
        "main",
        "nav",
        "ol",
        "section",
        "summary",
        "tr",
        "ul",
    }
)


def _tidy_markup(markup: str) -> str:
    """Make markup that :mod:`html.parser` reads in linear time.

    Comments go (an unclosed one hides the rest, as in a browser); declarations, marked
    sections and processing instructions go; a ``<`` that does not open a tag closed before the
    next ``<`` becomes ``&lt;``, as a browser would show it.
    """
    pieces: list[str] = []
    position = 0
    while (start := markup.find("<!--", position)) >= 0:
        pieces.append(markup[position:start])
        end = markup.find("-->", start + 2)
        if end < 0:
            position = len(markup)
            break
        position = end + 3
    pieces.append(markup[position:])
    return _TAG_CANDIDATE_RE.sub(_tidy_tag, "".join(pieces).replace("\x00", ""))


def _tidy_tag(match: re.Match[str]) -> str:
    inner, closed = match.group(1), match.group(2)
    if closed and _TAG_NAME_START_RE.match(inner):
        return match.group()
    if closed and inner[:1] in ("!", "?"):
        return ""
    return f"&lt;{inner}{closed}"


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML document, laid out as lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._pending_breaks = 0
        self._break_quote_depth = 0
        self._at_line_start = True
        self._space_pending = False
        self._skip_depth = 0
        self._pre_depth = 0
        self._quote_depth = 0
        self._list_depth = 0
        self._item_prefix = ""
        self._cell_separator = False
        self._cells: list[int] = []
        self._links: list[tuple[str, int]] = []

    def text(self) -> str:
        """Return the text collected so far."""
        return "".join(self._parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Lay out what an opening tag means for the text."""
        if tag in _SKIPPED_ELEMENTS:
            self._skip_depth += 1
            return
        if tag == "body":
            self._skip_depth = 0  # an unclosed <head> or <title> must not hide the body
        if self._skip_depth:
            return
        self._break_around(tag)
        if tag == "br":
            self._break(1, add=True)
        elif tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self._parts)))
        elif tag in ("ul", "ol"):
            self._list_depth += 1
        elif tag == "li":
            self._item_prefix = "  " * max(self._list_depth - 1, 0) + "- "
        elif tag == "blockquote":
            self._quote_depth += 1
        elif tag == "pre":
            self._pre_depth += 1
        else:
            self._open_cell(tag)

    def _open_cell(self, tag: str) -> None:
        if tag == "table":
            self._cells.append(0)
        elif tag == "tr" and self._cells:
            self._cells[-1] = 0
        elif tag in ("td", "th") and self._cells:
            self._cell_separator = self._cells[-1] > 0
            self._cells[-1] += 1

    def _break_around(self, tag: str) -> None:
        if tag in _PARAGRAPH_ELEMENTS:
            self._break(2)
        elif tag in _LINE_ELEMENTS:
            self._break(1)

    def handle_endtag(self, tag: str) -> None:
        """Lay out what a closing tag means for the text."""
        if tag in _SKIPPED_ELEMENTS:
            self._skip_depth = max(self._skip_depth - 1, 0)
            return
        if self._skip_depth:
            return
        if tag in ("ul", "ol"):
            self._list_depth = max(self._list_depth - 1, 0)
        elif tag == "li":
            self._item_prefix = ""
        elif tag == "blockquote":
            self._quote_depth = max(self._quote_depth - 1, 0)
        elif tag == "pre":
            self._pre_depth = max(self._pre_depth - 1, 0)
        elif tag == "table" and self._cells:
            self._cells.pop()
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            shown = _link_target(href, "".join(self._parts[start:]))
            if shown:
                self._space_pending = True
                self._write(f"({shown})")
        self._break_around(tag)

    def handle_data(self, data: str) -> None:
        """Add text, its whitespace collapsed as a browser would (kept inside ``<pre>``)."""
        if self._skip_depth:
            return
        if self._pre_depth:
            self._write(data.replace("\xa0", " "))
            return
        text = _WHITESPACE_RE.sub(" ", data)
        if text.startswith(" "):
            self._space_pending = True
        text = text.strip(" ")
        if text:
            self._write(text)
            self._space_pending = data[-1:].isspace()

    def _break(self, lines: int, *, add: bool = False) -> None:
        # A blank line is quoted only if it falls inside the quote, not where one starts or ends.
        if self._pending_breaks:
            self._break_quote_depth = min(self._break_quote_depth, self._quote_depth)
        else:
            self._break_quote_depth = self._quote_depth
        self._pending_breaks = (
            self._pending_breaks + lines if add else max(self._pending_breaks, lines)
        )

    def _write(self, text: str) -> None:
        """Append text, after the line break, indent, cell separator or space it needs."""
        if self._pending_breaks and self._parts:
            blank = "\n" + ("> " * self._break_quote_depth).rstrip()
            self._parts.append(blank * (self._pending_breaks - 1) + "\n")
            self._at_line_start = True
        if self._at_line_start:
            prefix = "> " * self._quote_depth + self._item_prefix
            if prefix:
                self._parts.append(prefix)
            self._item_prefix = ""
        elif self._cell_separator:
            self._parts.append(" | ")
        elif self._space_pending:
            self._parts.append(" ")
        self._pending_breaks = 0
        self._at_line_start = self._cell_separator = self._space_pending = False
        self._parts.append(text)


def _link_target(href: str, text: str) -> str | None:
    """What to show after a link's text: its address, when that says something more."""
    target = "".join(href.split())[:_MAX_LINK_CHARS]
    label = " ".join(text.split())
    lowered = target.lower()
    if not label or not lowered.startswith(("http://", "https://", "mailto:", "tel:")):
        return None
    if lowered.startswith("mailto:"):
        target = target[len("mailto:") :].split("?")[0]
    if _bare_link(target) == _bare_link(label):
        return None
    return target


def _bare_link(link: str) -> str:
    bare = link.lower()
    for prefix in ("mailto:", "tel:", "https://", "http://", "www."):
        bare = bare.removeprefix(prefix)
    return bare.rstrip("/")
