"""Parsing inbound email: real-world shapes as ``.eml`` fixtures, and tables for the helpers."""

from __future__ import annotations

import contextlib
import email
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from channels.email.parse import (
    MAX_ATTACHMENT_BYTES,
    MAX_TEXT_CHARS,
    EmailAttachment,
    MalformedEmailError,
    ParsedEmail,
    clean_subject,
    html_to_text,
    parse_email,
    strip_quoted,
)

FIXTURES = Path(__file__).parent / "fixtures"
OWN_ADDRESS = "complaints@northgate-homes.org.uk"


def load(name: str) -> bytes:
    return (FIXTURES / f"{name}.eml").read_bytes()


def parse(name: str, **options: object) -> ParsedEmail:
    return parse_email(load(name), own_addresses=(OWN_ADDRESS,), **options)  # type: ignore[arg-type]


def message(headers: str, body: str = "Hello", *, sender: str = "jane@example.com") -> bytes:
    """A minimal message: the From line, ``headers`` (one per line), a blank line, the body."""
    head = f"From: {sender}\n" + "".join(f"{line}\n" for line in headers.splitlines() if line)
    return (head + "\n" + body).encode("utf-8")


def with_attachments(*files: tuple[str, str, bytes]) -> bytes:
    """A message with a short text body and ``(filename, content type, data)`` attachments."""
    mail = EmailMessage()
    mail["From"] = "Jane Okafor <jane.okafor@gmail.com>"
    mail["To"] = OWN_ADDRESS
    mail["Subject"] = "Evidence"
    mail.set_content("Please see the attached.")
    for filename, content_type, data in files:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return mail.as_bytes()


# --- fixtures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    fixture: str
    sender: str
    sender_name: str | None
    topic: str
    text: str
    attachments: tuple[tuple[str, str], ...] = ()
    automated: str | None = None


CASES = [
    Case(
        "gmail_reply",
        "jane.okafor@gmail.com",
        "Jane Okafor",
        "[C-7K3Q-9XFD] We have logged your complaint C-7K3Q-9XFD",
        "Thank you. The mould in the back bedroom has come back since the visit on\n"
        "Monday and my son\u2019s asthma is worse. Can someone come this week?\n\nJane",
    ),
    Case(
        "outlook_reply",
        "margaret.hughes@outlook.com",
        "Hughes, Margaret",
        "[C-4M2P-8HWA] Our stage 1 response to your complaint C-4M2P-8HWA",
        "I don\u2019t accept the offer of \u00a350. The leak damaged my carpet and I paid"
        " \u00a3240 to replace it \u2013 I have the receipt. I want this taken to stage 2.\n\n"
        "Margaret Hughes",
    ),
    Case(
        "apple_mail_reply",
        "ravi.patel@icloud.com",
        "Ravi Patel",
        "[R-2B8K-5NQT] Your repair appointment",
        "The repair man didn\u2019t turn up again today. I waited in from 8 till 1 and took the"
        " morning off work.",
    ),
    Case(
        "html_only",
        "tbaker1962@yahoo.co.uk",
        "Tom Baker",
        "Complaint about communal heating",
        "Dear Northgate Homes,\n\n"
        "The communal heating in Alder Court has failed three times this month. I have had to"
        " buy two electric heaters costing \u00a385.\n\n"
        "Date | Hours without heating\n2 November | 14\n9 November | 30\n\n"
        "What I want:\n\n"
        "- the boiler fixed properly\n- compensation for:\n  - the heaters\n"
        "  - extra electricity\n\n"
        "Photos are on my album (https://photos.example.com/alder-court). You can email me at"
        " tbaker1962@yahoo.co.uk.\n\n"
        "Tom Baker\nFlat 12, Alder Court",
    ),
    Case(
        "forwarded",
        "aisha.rahman@gmail.com",
        "Aisha Rahman",
        "Complaint about noise from flat 14",
        "I sent this in October and nobody replied. Please treat it as a complaint.\n\n"
        "Aisha\n\n"
        "Hello,\n\n"
        "The tenant in flat 14 plays loud music every night until 3am. I have\n"
        "reported it four times on the phone. I work early shifts and cannot sleep.\n\n"
        "Aisha Rahman\nFlat 13, Birch House",
    ),
    Case(
        "outlook_forward",
        "d.wright@hotmail.co.uk",
        "Daniel Wright",
        "Broken entry door at Cedar House",
        "Still not fixed after five weeks. Anyone can walk into the building.\n\nDan\n\n"
        "The main entry door at Cedar House does not lock. The magnet has come off the frame."
        "\n\nDaniel Wright, flat 6",
    ),
    Case(
        "latin1",
        "g.moreau@orange.fr",
        "Gilles Moreau",
        "Extractor fan from the caf\u00e9",
        "The caf\u00e9 downstairs vents its extractor fan \u00bd metre from my bedroom\n"
        "window. The smell is there from 7am. I have spent \u00a330 on air fresheners.\n\n"
        "Gilles Moreau",
    ),
    Case(
        "broken_charset",
        "piotr.nowak@o2.pl",
        "Piotr Nowak",
        "New windows",
        "Since the new windows were fitted the flat is colder, not warmer. The fitter said"
        " \u201cit\u2019s the seals\u201d and nobody came back. My gas bill is \u00a340 a month"
        " higher.\n\nPiotr",
    ),
    Case(
        "unknown_charset",
        "chidi.eze@btinternet.com",
        "Chidi Eze",
        "Rent statement wrong",
        "My rent statement shows arrears of \u00a3212.50 but I pay by direct debit \u2013"
        " every month.",
    ),
    Case(
        "with_attachments",
        "jane.okafor@gmail.com",
        "Jane Okafor",
        "Photos of the mould and my receipt",
        "Here are the photos of the mould and the receipt for the dehumidifier.",
        attachments=(
            ("attachment-1.png", "image/png"),
            ("mould \u2013 bedroom.jpg", "image/jpeg"),
            ("repair-receipt.pdf", "application/pdf"),
        ),
    ),
    Case(
        "rfc2047_subject",
        "zoe.kowalska@wp.pl",
        "Zo\u00eb Kowalska",
        "Probl\u00e8me de chauffage \u2013 flat 3",
        "The radiators in flat 3 are cold again.\n\nZo\u00eb",
    ),
    Case(
        "auto_reply",
        "margaret.hughes@outlook.com",
        "Hughes, Margaret",
        "Automatic reply: [C-4M2P-8HWA] An update on your complaint C-4M2P-8HWA",
        "I am away until 14 December with no access to email.",
        automated="auto-submitted",
    ),
    Case(
        "bounce",
        "mailer-daemon@mx.northgate-homes.org.uk",
        "Mail Delivery System",
        "Undelivered Mail Returned to Sender",
        "This is the mail system at host mx.northgate-homes.org.uk.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n\n"
        "<old.address@example.net>: host mx.example.net[203.0.113.7] said: 550 5.1.1\n"
        "    <old.address@example.net>: Recipient address rejected: User unknown",
        attachments=(("forwarded-message.eml", "message/rfc822"),),
        automated="bounce",
    ),
    Case(
        "mailing_list",
        "news@riverside-tenants.example.org",
        "Riverside Tenants Forum",
        "[Riverside Tenants] December newsletter",
        "Our next meeting is on 10 December at the community centre.",
        automated="mailing-list",
    ),
    Case(
        "no_message_id",
        "margaret.hughes@outlook.com",
        None,
        "complaint",
        "The lift at Oak Tower has been broken since Friday. I am 84 and live on the 9th floor.",
    ),
    Case(
        "attached_email",
        "aisha.rahman@gmail.com",
        "Aisha Rahman",
        "Email from your contractor",
        "The contractor sent me the attached email. They are blaming me for the leak.",
        attachments=(("forwarded-message.eml", "message/rfc822"),),
    ),
    Case(
        "broken_boundary",
        "tbaker1962@yahoo.co.uk",
        "Tom Baker",
        "heating",
        "Still no heating.",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.fixture)
def test_fixture(case: Case) -> None:
    parsed = parse(case.fixture)

    assert parsed.sender == case.sender
    assert parsed.sender_name == case.sender_name
    assert parsed.topic == case.topic
    assert parsed.text == case.text
    assert [(a.filename, a.content_type) for a in parsed.attachments] == list(case.attachments)
    assert parsed.oversized == ()
    assert parsed.automated == case.automated


@pytest.mark.parametrize(
    ("fixture", "message_id", "in_reply_to", "references"),
    [
        (
            "gmail_reply",
            "<CAF3x+9kQv2m=Yp8rT1n0Lw-dE4sGhA7@mail.gmail.com>",
            "<174291.C-7K3Q-9XFD.2@northgate-homes.org.uk>",
            (
                "<174290.C-7K3Q-9XFD.1@northgate-homes.org.uk>",
                "<174291.C-7K3Q-9XFD.2@northgate-homes.org.uk>",
            ),
        ),
        (
            "outlook_reply",  # Message-ID folded onto its own line
            "<DB9PR02MB72413F0A9C1E2B7D44C1A0E5D8F12@DB9PR02MB7241.eurprd02.prod.outlook.com>",
            "<174300.C-4M2P-8HWA.5@northgate-homes.org.uk>",
            ("<174300.C-4M2P-8HWA.5@northgate-homes.org.uk>",),
        ),
        ("html_only", "<1187342213.3412876.1733229411230@mail.yahoo.com>", None, ()),
        ("no_message_id", None, None, ()),
    ],
)
def test_thread_headers(
    fixture: str, message_id: str | None, in_reply_to: str | None, references: tuple[str, ...]
) -> None:
    parsed = parse(fixture)

    assert parsed.message_id == message_id
    assert parsed.in_reply_to == in_reply_to
    assert parsed.references == references


@pytest.mark.parametrize(
    ("fixture", "date"),
    [
        ("gmail_reply", datetime(2026, 12, 3, 10, 14, 2, tzinfo=UTC)),
        ("latin1", datetime(2026, 11, 28, 11, 20, 5, tzinfo=timezone(timedelta(hours=1)))),
        ("html_only", datetime(2026, 12, 1, 18, 36, 51, tzinfo=UTC)),  # "+0000 (UTC)"
        ("no_message_id", None),
    ],
)
def test_date(fixture: str, date: datetime | None) -> None:
    assert parse(fixture).date == date


def test_full_text_keeps_the_quoted_history() -> None:
    parsed = parse("gmail_reply")

    assert parsed.full_text.startswith("Thank you. The mould")
    assert "> We have logged your complaint C-7K3Q-9XFD." in parsed.full_text
    assert "C-7K3Q-9XFD" not in parsed.text


def test_full_text_of_a_forward_keeps_its_headers() -> None:
    parsed = parse("forwarded")

    assert "Subject: Complaint about noise from flat 14" in parsed.full_text
    assert "Subject:" not in parsed.text


@pytest.mark.parametrize(
    "fixture", ["gmail_reply", "outlook_reply", "apple_mail_reply", "forwarded"]
)
def test_html_alternative_gives_the_same_text(fixture: str) -> None:
    mail = email.message_from_bytes(load(fixture), policy=policy.default)
    assert isinstance(mail, EmailMessage)
    html_part = mail.get_body(("html",))
    assert isinstance(html_part, EmailMessage)

    from_html = strip_quoted(html_to_text(html_part.get_content()))

    assert from_html.split() == parse(fixture).text.split()


def test_no_from_is_malformed() -> None:
    with pytest.raises(MalformedEmailError):
        parse("no_from")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n\r\n",
        b"Subject: hello\n\nno sender",
        b"From: \n\nhi",
        b"From: Jane Smith\n\nhi",
        b"From: undisclosed-recipients:;\n\nhi",
        b"From: <>\n\nhi",
        b"From: MAILER-DAEMON\n\nhi",
    ],
)
def test_unusable_sender_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedEmailError):
        parse_email(raw)


def test_deeply_nested_parts_are_malformed_not_a_crash() -> None:
    nested = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (level, level)
        for level in range(3000)
    )
    with pytest.raises(MalformedEmailError):
        parse_email(b"From: a@example.com\n" + nested)


@pytest.mark.parametrize(
    ("from_header", "sender", "sender_name"),
    [
        ("Jane <JANE@Example.COM>", "jane@example.com", "Jane"),
        ('"Smith, Jane" <jane@example.com>', "jane@example.com", "Smith, Jane"),
        ("jane@example.com (Jane Smith)", "jane@example.com", "Jane Smith"),
        (
            "=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <j@example.de>",
            "j@example.de",
            "J\u00fcrgen M\u00fcller",
        ),
        ("=?iso-8859-1?q?Ren=E9e?= <renee@example.fr>", "renee@example.fr", "Ren\u00e9e"),
        ("Jane Smith jane@example.com", "jane@example.com", None),  # brackets forgotten
        ("Jane <jane@example.com", "jane@example.com", "Jane"),
        ("info@example.com <jane@example.com>", "jane@example.com", None),
        ("(" * 900 + "jane@example.com", "jane@example.com", None),  # too deep for the parsers
        (
            '"Jane <jane@old.example>" <jane@new.example>',
            "jane@new.example",
            "Jane <jane@old.example>",
        ),
        ("=?utf-8?b?wqAgPGphbmVAZXhhbXBsZS5jb20+?=", "jane@example.com", None),  # all encoded
        ("a@example.com, b@example.com", "a@example.com", None),
        ('"   " <jane@example.com>', "jane@example.com", None),
        ("Jane\t\t Smith <jane@example.com>", "jane@example.com", "Jane Smith"),
    ],
)
def test_sender(from_header: str, sender: str, sender_name: str | None) -> None:
    parsed = parse_email(message("Subject: x", sender=from_header))

    assert (parsed.sender, parsed.sender_name) == (sender, sender_name)


def test_raw_utf8_in_the_from_name() -> None:
    raw = "From: Zoë Kowalska <zoe@example.pl>\nSubject: Café\n\nhi".encode()

    parsed = parse_email(raw)

    assert (parsed.sender_name, parsed.subject) == ("Zo\u00eb Kowalska", "Caf\u00e9")


def test_reply_to() -> None:
    parsed = parse_email(message("Reply-To: Jane at work <Jane.Okafor@Work.example>"))

    assert parsed.reply_to == "jane.okafor@work.example"
    assert parse("gmail_reply").reply_to is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Message-ID:  <abc@example.com>  ", "<abc@example.com>"),
        ("Message-ID: abc@example.com", "<abc@example.com>"),
        ("Message-ID: <abc@example.com", "<abc@example.com>"),
        ("Message-ID: <abc\n @example.com>", "<abc@example.com>"),
        ("Message-ID: <>", None),
        ("Message-ID:", None),
        ("Message-ID: <<<<", None),
    ],
)
def test_message_id_normalised(header: str, expected: str | None) -> None:
    assert parse_email(message(header)).message_id == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("In-Reply-To: <a@example.com> (Jane's message of Tue)", "<a@example.com>"),
        ('In-Reply-To: Your message of "Tue, 1 Dec" <a@example.com>', "<a@example.com>"),
        ("In-Reply-To: <a@example.com> <b@example.com>", "<a@example.com>"),
        ("In-Reply-To: a@example.com", "<a@example.com>"),
    ],
)
def test_in_reply_to_takes_the_first_id(header: str, expected: str) -> None:
    assert parse_email(message(header)).in_reply_to == expected


def test_references_in_order_without_repeats() -> None:
    header = "References: <a@x> <b@x>,<a@x>\n <c@x>\t<b@x> <d@x>"

    assert parse_email(message(header)).references == ("<a@x>", "<b@x>", "<c@x>", "<d@x>")


def test_long_references_are_all_kept() -> None:
    ids = [f"<{n}.C-7K3Q-9XFD@northgate-homes.org.uk>" for n in range(200)]
    header = "References: " + "\n ".join(ids)

    assert parse_email(message(header)).references == tuple(ids)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Date: Tue, 1 Dec 2026 10:00:00 -0000", datetime(2026, 12, 1, 10, tzinfo=UTC)),
        (
            "Date: Tue, 1 Dec 2026 10:00:00 +0530",
            datetime(2026, 12, 1, 10, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        ("Date: 1 Dec 2026 10:00 GMT", datetime(2026, 12, 1, 10, tzinfo=UTC)),
        ("Date: yesterday", None),
        ("Date: Tue, 32 Dec 2026 10:00:00 +0000", None),
        ("Date: Tue, 1 Dec 2026 10:00:00 +9999", None),
        ("Date:", None),
    ],
)
def test_date_header(header: str, expected: datetime | None) -> None:
    assert parse_email(message(header)).date == expected


@pytest.mark.parametrize(
    ("header", "subject", "topic"),
    [
        (
            "Subject: Re: broken\n\t boiler   again",
            "Re: broken boiler again",
            "broken boiler again",
        ),
        ("Subject: =?utf-8?B?UmU6IEJvaWxlcg==?=", "Re: Boiler", "Boiler"),
        ("Subject: =?x-unknown?q?caf=C3=A9?=", "caf\u00e9", "caf\u00e9"),
        (
            "Subject: [EXTERNAL] RE: [C-7K3Q-9XFD] Damp",
            "[EXTERNAL] RE: [C-7K3Q-9XFD] Damp",
            "[C-7K3Q-9XFD] Damp",
        ),
        ("", "", ""),
    ],
)
def test_subject(header: str, subject: str, topic: str) -> None:
    parsed = parse_email(message(header))

    assert (parsed.subject, parsed.topic) == (subject, topic)


# --- automated mail ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "sender", "expected"),
    [
        ("Subject: Damp in my flat", "jane@example.com", None),
        ("Auto-Submitted: auto-generated", "jane@example.com", "auto-submitted"),
        ("Auto-Submitted: auto-replied (vacation)", "jane@example.com", "auto-submitted"),
        ("Auto-Submitted: no", "jane@example.com", None),
        ("Auto-Submitted: No (a person wrote this)", "jane@example.com", None),
        ("Precedence: bulk", "jane@example.com", "precedence"),
        ("Precedence: junk", "jane@example.com", "precedence"),
        ("Precedence: list", "jane@example.com", "precedence"),
        ("Precedence: first-class", "jane@example.com", None),
        ("Precedence: auto_reply", "jane@example.com", "auto-reply"),
        ("List-Id: <tenants.example.org>", "jane@example.com", "mailing-list"),
        ("List-Unsubscribe: <mailto:leave@example.org>", "jane@example.com", "mailing-list"),
        ("X-Autoreply: yes", "jane@example.com", "auto-reply"),
        ("X-Autorespond: on", "jane@example.com", "auto-reply"),
        ("X-Auto-Response-Suppress: All", "jane@example.com", "auto-reply"),
        ("X-Auto-Response-Suppress: DR, OOF, AutoReply", "jane@example.com", "auto-reply"),
        ("X-Auto-Response-Suppress: DR", "jane@example.com", None),
        ("Subject: Automatic reply: Your complaint", "jane@example.com", "auto-reply"),
        ("Subject: Out of Office AutoReply: Damp", "jane@example.com", "auto-reply"),
        ("Subject: Re: Automatic reply: Your complaint", "jane@example.com", None),
        ("Return-Path: <>", "jane@example.com", "bounce"),
        ("Return-Path: < >", "jane@example.com", "bounce"),
        ("Return-Path: <jane@example.com>", "jane@example.com", None),
        ("Subject: Undeliverable", "MAILER-DAEMON@mx.example.com", "bounce"),
        ("Subject: Undeliverable", "postmaster@example.com", "bounce"),
        (
            "Content-Type: multipart/report; report-type=disposition-notification; boundary=b",
            "jane@example.com",
            "bounce",
        ),
        ("Subject: Re: Damp", OWN_ADDRESS.upper(), "own-address"),
        ("Auto-Submitted: auto-replied", OWN_ADDRESS, "own-address"),
        ("Auto-Submitted: auto-replied\nPrecedence: bulk", "postmaster@example.com", "bounce"),
        ("List-Id: <tenants.example.org>\nPrecedence: list", "jane@example.com", "mailing-list"),
    ],
)
def test_automated(headers: str, sender: str, expected: str | None) -> None:
    parsed = parse_email(message(headers, sender=sender), own_addresses=[f" {OWN_ADDRESS} "])

    assert parsed.automated == expected


# --- bodies and charsets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("charset", "body", "expected"),
    [
        ("utf-8", "\u00a3".encode(), "\u00a3"),
        ("utf-8", b"\xa3 and \xc2\xa3", "\u00a3 and \u00a3"),  # a windows-1252 byte among UTF-8
        ("iso-8859-1", b"\x93hi\x94 \xa3", "\u201chi\u201d \u00a3"),  # read as mail clients do
        ("x-unknown", "\u00e9".encode(), "\u00e9"),
        ("windows-1252", b"\x80", "\u20ac"),
        ("shift_jis", "\u65e5\u672c".encode("shift_jis"), "\u65e5\u672c"),
        (
            "koi8-r",
            "\u043f\u0440\u0438\u0432\u0435\u0442".encode("koi8-r"),
            "\u043f\u0440\u0438\u0432\u0435\u0442",
        ),
        ("us-ascii", "\u00e9".encode(), "\u00e9"),
        ("iso-8859-8", "caf\u00e9".encode(), "caf\u00e9"),  # mislabelled UTF-8
        ("iso-8859-8", b"\xe0\xe1 \xff", "\u05d0\u05d1 \ufffd"),  # neither: replaced
        ("punycode", b"abc-xyz", "abc-xyz"),  # a codec that is no charset
        ("base64", b"abc", "abc"),
        (None, b"caf\xe9", "caf\u00e9"),
        ("utf-8", b"a\x00b\x07c\r\nd\re\x0cf", "abc\nd\nef"),
    ],
)
def test_charset(charset: str | None, body: bytes, expected: str) -> None:
    content_type = f"text/plain; charset={charset}" if charset else "text/plain"
    head = (
        f"From: jane@example.com\nContent-Type: {content_type}\nContent-Transfer-Encoding: 8bit\n\n"
    )

    assert parse_email(head.encode() + body).text == expected


def test_text_attachment_is_not_the_body() -> None:
    raw = b"""From: jane@example.com
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

The log of my calls is attached.
--b
Content-Type: text/plain
Content-Disposition: attachment

12 Nov: called, no answer
--b
Content-Type: text/html; name="letter.html"

<p>Dear Sir</p>
--b--
"""
    parsed = parse_email(raw)

    assert parsed.text == "The log of my calls is attached."
    assert [(a.filename, a.data) for a in parsed.attachments] == [
        ("attachment-1.txt", b"12 Nov: called, no answer"),
        ("letter.html", b"<p>Dear Sir</p>"),
    ]


def test_inline_text_parts_are_joined() -> None:
    raw = b"""From: jane@example.com
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

Before the photo.
--b
Content-Type: image/jpeg
Content-Disposition: inline; filename=IMG_0042.jpg
Content-Transfer-Encoding: base64

/9j/2wBDAP/Z
--b
Content-Type: text/plain

After the photo.
--b--
"""
    parsed = parse_email(raw)

    assert parsed.text == "Before the photo.\n\nAfter the photo."
    assert [a.filename for a in parsed.attachments] == ["IMG_0042.jpg"]


def test_empty_plain_alternative_falls_back_to_html() -> None:
    raw = b"""From: jane@example.com
Content-Type: multipart/alternative; boundary=b

--b
Content-Type: text/plain

--b
Content-Type: text/html

<p>Only <b>here</b>.</p>
--b--
"""
    assert parse_email(raw).text == "Only here."


def test_signature_parts_are_not_attachments() -> None:
    raw = b"""From: jane@example.com
Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary=b

--b
Content-Type: text/plain

Signed complaint.
--b
Content-Type: application/pgp-signature; name="signature.asc"

-----BEGIN PGP SIGNATURE-----
-----END PGP SIGNATURE-----
--b--
"""
    parsed = parse_email(raw)

    assert (parsed.text, parsed.attachments) == ("Signed complaint.", ())


def test_message_without_body() -> None:
    parsed = parse_email(b"From: jane@example.com\nSubject: (no text)\n")

    assert (parsed.text, parsed.full_text, parsed.attachments) == ("", "", ())


def test_very_long_body_is_cut() -> None:
    line = "The damp has spread from the bathroom ceiling to the hall and the landing.\n"
    body = line * (200_000 // len(line) + 1)
    raw = (
        f"From: jane@example.com\nSubject: Long\nContent-Type: text/plain; charset=utf-8\n\n{body}"
    )

    started = time.perf_counter()
    parsed = parse_email(raw.encode())
    elapsed = time.perf_counter() - started

    assert len(raw) > 200_000
    assert len(parsed.full_text) <= MAX_TEXT_CHARS
    assert len(parsed.text) <= MAX_TEXT_CHARS
    assert parsed.text.startswith(line.strip())
    assert elapsed < 2


def test_defects_are_named() -> None:
    assert parse("broken_boundary").defects == (
        "StartBoundaryNotFoundDefect",
        "MultipartInvariantViolationDefect",
    )
    assert parse("gmail_reply").defects == ()


# --- attachments ------------------------------------------------------------------------------


def test_attachment_bytes_are_decoded() -> None:
    png, jpeg, pdf = (attachment.data for attachment in parse("with_attachments").attachments)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert jpeg.startswith(b"\xff\xd8\xff") and jpeg.endswith(b"\xff\xd9")
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")


def test_attached_email_is_kept_whole_and_not_read_as_text() -> None:
    parsed = parse("attached_email")

    (attached,) = parsed.attachments
    inner = email.message_from_bytes(attached.data, policy=policy.default)
    assert inner["Subject"] == "Leak at Flat 13"
    assert "caused by the tenant" in attached.data.decode()
    assert "caused by the tenant" not in parsed.full_text


def test_oversized_attachment_is_left_out() -> None:
    raw = with_attachments(
        ("mould.jpg", "image/jpeg", b"j" * 600), ("big.pdf", "application/pdf", b"p" * 500)
    )

    parsed = parse_email(raw, max_attachment_bytes=1000)

    assert [a.filename for a in parsed.attachments] == ["mould.jpg"]
    assert parsed.oversized == ("big.pdf",)


def test_smaller_attachment_after_an_oversized_one_still_fits() -> None:
    raw = with_attachments(
        ("mould.jpg", "image/jpeg", b"j" * 600),
        ("big.pdf", "application/pdf", b"p" * 500),
        ("note.txt", "text/plain", b"n" * 400),
    )

    parsed = parse_email(raw, max_attachment_bytes=1000)

    assert parsed.attachments == (
        EmailAttachment("mould.jpg", "image/jpeg", b"j" * 600),
        EmailAttachment("note.txt", "text/plain", b"n" * 400),
    )
    assert parsed.oversized == ("big.pdf",)


def test_default_attachment_limit() -> None:
    assert MAX_ATTACHMENT_BYTES == 10 * 1024 * 1024
    raw = with_attachments(("video.mp4", "video/mp4", b"v" * (MAX_ATTACHMENT_BYTES + 1)))

    assert parse_email(raw).oversized == ("video.mp4",)


def test_empty_attachments_are_skipped() -> None:
    raw = with_attachments(("empty.pdf", "application/pdf", b""), ("photo.jpg", "image/jpeg", b"j"))

    assert [a.filename for a in parse_email(raw).attachments] == ["photo.jpg"]


def attachment_named(disposition: str, content_type: str = "application/octet-stream") -> bytes:
    return (
        "From: jane@example.com\nContent-Type: multipart/mixed; boundary=b\n\n"
        "--b\nContent-Type: text/plain\n\nSee attached.\n"
        f"--b\nContent-Type: {content_type}\nContent-Disposition: {disposition}\n"
        "Content-Transfer-Encoding: base64\n\naGVsbG8=\n--b--\n"
    ).encode("utf-8", errors="surrogateescape")


@pytest.mark.parametrize(
    ("disposition", "content_type", "filename"),
    [
        ('attachment; filename="receipt.pdf"', "application/pdf", "receipt.pdf"),
        ('attachment; filename="../../etc/passwd"', "text/plain", "passwd"),
        ('attachment; filename="C:\\\\Users\\\\Jane\\\\photo.jpg"', "image/jpeg", "photo.jpg"),
        ("attachment; filename*=utf-8''%E2%82%AC%20rent.pdf", "application/pdf", "\u20ac rent.pdf"),
        ('attachment; filename="=?UTF-8?B?w6l0YXQucGRm?="', "application/pdf", "\u00e9tat.pdf"),
        ('attachment; filename="photo\u202egpj.exe"', "image/jpeg", "photogpj.exe"),
        ('attachment; filename="what? <really>.pdf"', "application/pdf", "what_ _really_.pdf"),
        ('attachment; filename=".htaccess"', "text/plain", "htaccess"),
        ('attachment; filename=".."', "application/pdf", "attachment-1.pdf"),
        ("attachment", "image/jpeg", "attachment-1.jpg"),
        ("attachment", "application/x-unheard-of", "attachment-1.bin"),
        ("inline", "image/png", "attachment-1.png"),
        (f'attachment; filename="{"a" * 200}.pdf"', "application/pdf", f"{'a' * 116}.pdf"),
        (f'attachment; filename="{"b" * 200}"', "application/pdf", "b" * 120),
    ],
)
def test_attachment_filename(disposition: str, content_type: str, filename: str) -> None:
    (attachment,) = parse_email(attachment_named(disposition, content_type)).attachments

    assert attachment.filename == filename
    assert attachment.data == b"hello"


# --- clean_subject ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "topic"),
    [
        ("Damp in my bedroom", "Damp in my bedroom"),
        ("", ""),
        ("Re: Damp in my bedroom", "Damp in my bedroom"),
        ("RE: RE: Damp", "Damp"),
        ("re: Fwd: Re:  Damp", "Damp"),
        ("Fwd: Re: FW: Fw: Damp", "Damp"),
        ("Re : Re: Damp", "Damp"),
        ("Re:: Damp", "Damp"),
        ("Re[2]: Damp", "Damp"),
        ("Re(3): Fwd[2]: Damp", "Damp"),
        ("AW: WG: Schimmel", "Schimmel"),
        ("TR: R\u00e9f: Humidit\u00e9", "Humidit\u00e9"),
        ("R\u00c9F: chauffage", "chauffage"),
        ("[External] Re: Damp", "Damp"),
        ("[EXT] [Caution] RE: FW: Damp", "Damp"),
        ("Re: [External] Damp", "[External] Damp"),
        ("[External] Damp", "[External] Damp"),
        (
            "Re: [C-7K3Q-9XFD] We have logged your complaint",
            "[C-7K3Q-9XFD] We have logged your complaint",
        ),
        ("[C-7K3Q-9XFD] Re: Damp", "[C-7K3Q-9XFD] Re: Damp"),
        ("Ref: C-7K3Q-9XFD", "Ref: C-7K3Q-9XFD"),
        ("Repairs: still waiting", "Repairs: still waiting"),
        ("Fwdx: not a prefix", "Fwdx: not a prefix"),
        ("Re:", ""),
        ("Re: Re: ", ""),
        ("  Re:\r\n\tDamp  \n in   hall ", "Damp in hall"),
        ("Re\uff1a \u96e8\u6f0f\u308a", "\u96e8\u6f0f\u308a"),  # full-width colon
        ("Automatic reply: Damp", "Automatic reply: Damp"),
        ("Re: Re: " * 5000 + "Damp", "Damp"),
    ],
)
def test_clean_subject(subject: str, topic: str) -> None:
    assert clean_subject(subject) == topic


# --- strip_quoted -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Just my words.", "Just my words.", id="nothing-to-strip"),
        pytest.param("", "", id="empty"),
        pytest.param(
            "Still broken.\n\n> We will visit on Monday.\n>> Is it fixed?",
            "Still broken.",
            id="quoted-lines-any-depth",
        ),
        pytest.param(
            "Still broken.\n\nOn Tue, 1 Dec 2026 at 09:12, Housing <h@example.org> wrote:\n"
            "> We will visit on Monday.",
            "Still broken.",
            id="gmail-attribution",
        ),
        pytest.param(
            "Still broken.\n\nOn Tue, 1 Dec 2026 at 09:12, Northgate Homes complaints <\n"
            "complaints@northgate-homes.org.uk> wrote:\n\n> We will visit on Monday.",
            "Still broken.",
            id="gmail-attribution-wrapped",
        ),
        pytest.param(
            "Still broken.\n\nOn 1 Dec 2026, at 09:12, Housing <h@example.org> wrote:\n\n"
            "> We will visit on Monday.",
            "Still broken.",
            id="apple-attribution",
        ),
        pytest.param(
            "Still broken.\n\nOn 01/12/2026 09:12, Housing wrote:\nWe will visit on Monday.\n"
            "Housing team",
            "Still broken.",
            id="attribution-over-unquoted-history",
        ),
        pytest.param(
            "On Monday the surveyor came, and this is what he wrote:\nthe wall is wet.",
            "On Monday the surveyor came, and this is what he wrote:\nthe wall is wet.",
            id="a-sentence-is-no-attribution",
        ),
        pytest.param(
            "On Tue, 1 Dec 2026 at 09:12, Housing <h@example.org> wrote:\n"
            "> When can we visit?\n\nAny weekday morning.",
            "Any weekday morning.",
            id="bottom-posting",
        ),
        pytest.param(
            "> When can we visit?\nAny weekday morning.\n> Is anyone vulnerable?\n"
            "My son has asthma.",
            "Any weekday morning.\nMy son has asthma.",
            id="inline-replies",
        ),
        pytest.param(
            "Still broken.\n\n-----Original Message-----\nFrom: Housing\nSent: Tuesday\n\n"
            "We will visit.",
            "Still broken.",
            id="outlook-original-message",
        ),
        pytest.param(
            "Still broken.\n\n________________________________\n"
            "From: Housing <h@example.org>\nSent: 01 December 2026 09:12\n"
            "To: Jane <jane@example.com>\nSubject: Your repair\n\nWe will visit.",
            "Still broken.",
            id="outlook-header-block",
        ),
        pytest.param(
            "Still broken.\n\n*From:* Housing <h@example.org>\n*Date:* Tue, 1 Dec 2026\n"
            "*Subject:* Your repair\n*To:* Jane\n\nWe will visit.",
            "Still broken.",
            id="header-block-in-bold",
        ),
        pytest.param(
            "From: Flat 3\nTo: the housing officer\n\nThe damp is back.",
            "From: Flat 3\nTo: the housing officer\n\nThe damp is back.",
            id="a-from-line-alone-is-no-header-block",
        ),
        pytest.param(
            "The damp is back.\n\n-- \nJane Okafor\n07700 900123",
            "The damp is back.",
            id="signature-dash-dash-space",
        ),
        pytest.param(
            "The damp is back.\n--\nJane Okafor",
            "The damp is back.",
            id="signature-dash-dash",
        ),
        pytest.param(
            "Cold -- again.\n--- not a signature",
            "Cold -- again.\n--- not a signature",
            id="dashes-in-text",
        ),
        pytest.param("Still waiting.\n\nSent from my iPhone", "Still waiting.", id="iphone"),
        pytest.param(
            "Still waiting.\nSent from my Samsung Galaxy smartphone.", "Still waiting.", id="galaxy"
        ),
        pytest.param(
            "Still waiting.\n\nGet Outlook for iOS (https://aka.ms/o0ukef)",
            "Still waiting.",
            id="outlook-mobile-with-link",
        ),
        pytest.param(
            "Still waiting.\n\nSent from Mail for Windows", "Still waiting.", id="mail-for-windows"
        ),
        pytest.param(
            "Sent from my sister's address because mine is blocked.",
            "Sent from my sister's address because mine is blocked.",
            id="sent-from-in-a-sentence",
        ),
        pytest.param(
            "See below.\n\n---------- Forwarded message ---------\nFrom: Jane <j@example.com>\n"
            "Date: Tue, 14 Oct 2026 at 21:17\nSubject: Noise\nTo: <repairs@example.org>\n\n\n"
            "The music is loud every night.",
            "See below.\n\nThe music is loud every night.",
            id="gmail-forward",
        ),
        pytest.param(
            "See below.\n\nSent from my iPhone\n\nBegin forwarded message:\n\n"
            "From: Jane <j@example.com>\nSubject: Noise\nDate: 14 October 2026 at 21:17:02 BST\n"
            "To: repairs@example.org\n\nThe music is loud every night.",
            "See below.\n\nThe music is loud every night.",
            id="apple-forward",
        ),
        pytest.param(
            "See below.\n-- \nJane\n\n-------- Forwarded Message --------\nSubject: Noise\n"
            "Date: Tue, 14 Oct 2026\nFrom: Jane\nTo: repairs@example.org\n\nLoud music.",
            "See below.\n\nLoud music.",
            id="forward-after-signature",
        ),
        pytest.param(
            "> only\n> quoted\n> lines",
            "> only\n> quoted\n> lines",
            id="nothing-left-keeps-everything",
        ),
        pytest.param(
            "\r\n  Windows line endings \r\n\r\n\r\n\r\nhere\r\n",
            "Windows line endings\n\nhere",
            id="crlf",
        ),
    ],
)
def test_strip_quoted(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected


# --- html_to_text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param("", "", id="empty"),
        pytest.param("plain words", "plain words", id="no-markup"),
        pytest.param(
            "<html><head><title>T</title><style>p{color:red}</style></head>"
            "<body><script>alert('x')</script><p>Hello</p></body></html>",
            "Hello",
            id="head-script-style-dropped",
        ),
        pytest.param(
            "<p>&pound;85 &amp; &#8220;more&#8221;&nbsp;now &eacute;t&eacute; &bogus; &#xD800;</p>",
            "\u00a385 & \u201cmore\u201d now \u00e9t\u00e9 &bogus; \ufffd",
            id="entities",
        ),
        pytest.param("<p>one</p><p>two</p>", "one\n\ntwo", id="paragraphs"),
        pytest.param("<div>one</div><div>two</div>", "one\ntwo", id="divs"),
        pytest.param("one<br>two<br/><br>three", "one\ntwo\n\nthree", id="breaks"),
        pytest.param("<p>a</p><br><br><br><br><p>b</p>", "a\n\nb", id="blank-lines-collapsed"),
        pytest.param("  lots   of\n\n  space  ", "lots of space", id="whitespace-collapsed"),
        pytest.param("<b>bold</b> <i>and</i> <u>more</u>", "bold and more", id="inline"),
        pytest.param(
            '<a href="https://example.org/photos">my photos</a>',
            "my photos (https://example.org/photos)",
            id="link-with-text",
        ),
        pytest.param(
            '<a href="https://example.org/">https://example.org</a>',
            "https://example.org",
            id="link-same-as-text",
        ),
        pytest.param(
            '<a href="https://www.example.org/">www.example.org</a>',
            "www.example.org",
            id="link-text-without-scheme",
        ),
        pytest.param(
            '<a href="mailto:jane@example.com">jane@example.com</a>',
            "jane@example.com",
            id="mailto-same",
        ),
        pytest.param(
            '<a href="mailto:jane@example.com?subject=Hi">Email me</a>',
            "Email me (jane@example.com)",
            id="mailto-different",
        ),
        pytest.param('<a href="javascript:alert(1)">click</a>', "click", id="javascript-href"),
        pytest.param('<a href="#top">top</a>', "top", id="anchor-href"),
        pytest.param('<a href="https://example.org"><img src="x.png"></a>', "", id="image-link"),
        pytest.param(
            "<ul><li>one</li><li>two<ul><li>two a</li><li>two b<ol><li>deep</li></ol></li>"
            "</ul></li><li>three</li></ul>",
            "- one\n- two\n  - two a\n  - two b\n    - deep\n- three",
            id="nested-lists",
        ),
        pytest.param(
            "<ul><li></li><li>only</li></ul><p>after</p>", "- only\n\nafter", id="empty-item"
        ),
        pytest.param(
            "<table><tr><th>Room</th><th>Problem</th></tr>\n<tr><td>Bedroom</td>\n"
            "<td>Mould</td></tr></table>",
            "Room | Problem\nBedroom | Mould",
            id="table",
        ),
        pytest.param(
            "<table><tr><td><div>Logo</div></td><td><div>Address</div></td></tr></table>",
            "Logo\nAddress",
            id="layout-table",
        ),
        pytest.param(
            "<p>Yes.</p><blockquote><p>Can we visit?</p><p>Monday?</p></blockquote><p>Bye</p>",
            "Yes.\n\n> Can we visit?\n>\n> Monday?\n\nBye",
            id="blockquote",
        ),
        pytest.param("<pre>  a\n    b</pre>", "a\n    b", id="pre-keeps-spaces"),
        pytest.param("before<!-- hidden -->after", "beforeafter", id="comment"),
        pytest.param("before<!-- never closed <p>gone</p>", "before", id="unclosed-comment"),
        pytest.param(
            "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings/></xml><![endif]-->"
            "<![if !supportLists]>&middot; <![endif]>item",
            "\u00b7 item",
            id="word-conditionals",
        ),
        pytest.param("<p>a < b and c > d</p>", "a < b and c > d", id="bare-angle-brackets"),
        pytest.param("I <3 my flat <a", "I <3 my flat <a", id="unclosed-tag-is-text"),
        pytest.param("<p>a</p></p></div></ul></blockquote>b", "a\n\nb", id="stray-end-tags"),
        pytest.param("<head><title>Subject</title><body>text", "text", id="unclosed-head"),
        pytest.param("<p>x\x00y\x07z</p>", "xyz", id="control-characters"),
        pytest.param("<![x <p>kept</p>", "<![x\n\nkept", id="odd-marked-section"),
    ],
)
def test_html_to_text(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        pytest.param("<a " * 33_000, id="unclosed-start-tags"),
        pytest.param("<!--" * 25_000, id="unclosed-comments"),
        pytest.param('<a b="' * 16_000, id="unclosed-quotes"),
        pytest.param("<a b='x" * 15_000, id="unclosed-single-quotes"),
        pytest.param("<a" * 50_000, id="tag-openers"),
        pytest.param('<a b="x>' + "<p>" * 100_000, id="quote-never-closed"),
        pytest.param("<ul><li>" * 30_000, id="deep-lists"),
        pytest.param("<p>" + "word " * 400_000 + "</p>", id="two-megabytes"),
    ],
)
def test_html_to_text_is_fast_on_hostile_markup(html: str) -> None:
    started = time.perf_counter()
    text = html_to_text(html)

    assert time.perf_counter() - started < 3
    assert len(text) <= MAX_TEXT_CHARS


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            b"From: a@example.com\nContent-Type: text/plain" + b";" * 100_000 + b"\n\nhi",
            id="semicolons-in-content-type",
        ),
        pytest.param(b'From: "' * 20_000 + b"<a@example.com>\n\nhi", id="quotes-in-from"),
        pytest.param(
            b"From: a@example.com\nSubject: " + b"Re: " * 100_000 + b"\n\nhi", id="re-re-re"
        ),
        pytest.param(b"From: a@example.com\n\n" + b"> quoted\n" * 100_000, id="quoted-lines"),
        pytest.param(
            b"From: a@example.com\nContent-Type: text/html\n\n" + b"<a " * 100_000,
            id="html-tag-soup",
        ),
        pytest.param(
            b"From: a@example.com\nContent-Type: multipart/mixed; boundary=x\n\n"
            + b"--x\nContent-Type: text/plain; "
            + b"a=b;" * 500
            + b"\n\nhi\n" * 1,
            id="parameters",
        ),
        pytest.param(
            b"From: a@example.com\nReferences: " + b"<a@b> " * 100_000 + b"\n\nhi",
            id="many-references",
        ),
    ],
)
def test_parse_is_fast_on_hostile_messages(raw: bytes) -> None:
    started = time.perf_counter()
    with contextlib.suppress(MalformedEmailError):
        parse_email(raw)

    assert time.perf_counter() - started < 3
