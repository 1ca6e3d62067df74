"""Properties of email parsing on hostile input: random bytes, mangled fixtures, odd messages.

Whatever the bytes, :func:`parse_email` returns a :class:`ParsedEmail` or raises
:class:`MalformedEmailError`, and the text it returns is bounded and free of NUL characters.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from pathlib import Path

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from channels.email.parse import (
    MAX_TEXT_CHARS,
    MalformedEmailError,
    ParsedEmail,
    clean_subject,
    html_to_text,
    parse_email,
    strip_quoted,
)

FIXTURES = {
    path.stem: path.read_bytes() for path in (Path(__file__).parent / "fixtures").glob("*.eml")
}
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FILENAME_FORBIDDEN = set("/\\") | {chr(code) for code in range(32)} | {"\x7f"}


def check(raw: bytes, **options: object) -> ParsedEmail | None:
    """Parse ``raw`` and check what holds for every result; ``None`` if it was refused."""
    try:
        parsed = parse_email(raw, **options)  # type: ignore[arg-type]
    except MalformedEmailError:
        return None
    assert isinstance(parsed, ParsedEmail)
    for text in (parsed.text, parsed.full_text):
        assert "\x00" not in text
        assert len(text) <= MAX_TEXT_CHARS
    assert "\n" not in parsed.subject and "\r" not in parsed.subject
    assert parsed.sender == parsed.sender.lower() and "@" in parsed.sender
    for attachment in parsed.attachments:
        assert attachment.data
        assert 0 < len(attachment.filename) <= 120
        assert not FILENAME_FORBIDDEN & set(attachment.filename)
    for message_id in (parsed.message_id, parsed.in_reply_to, *parsed.references):
        assert message_id is None or (message_id.startswith("<") and message_id.endswith(">"))
    assert parsed.date is None or parsed.date.tzinfo is not None
    return parsed


# --- (a) random bytes -------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(raw: bytes) -> None:
    check(raw)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_after_a_from_line(raw: bytes) -> None:
    check(b"From: jane@example.com\r\n" + raw)


# --- (b) mangled fixtures ---------------------------------------------------------------------

SNIPPETS = [
    b"\r\n",
    b"\n\n",
    b"\x00",
    b"\xff\xfe",
    b'Content-Type: multipart/mixed; boundary="b"\r\n',
    b"Content-Type: multipart/alternative; boundary=\r\n",
    b"Content-Type: message/rfc822\r\n",
    b"Content-Type: text/html; charset=x-unknown\r\n",
    b'Content-Type: text/plain; charset="utf-7"\r\n',
    b"Content-Type: text/plain; charset=punycode\r\n",
    b"Content-Type: text/plain; charset=utf-16\r\n",
    b"Content-Type: text/plain; charset*=''%ff%fe\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Transfer-Encoding: x-uuencode\r\n",
    b"Content-Disposition: attachment; filename*0*=utf-8''%E2; filename*1=\"../x\"\r\n",
    b"From: =?utf-8?q?=FF=FE?= <a@b>\r\n",
    b'From: "unterminated <\r\n',
    b"Subject: =?x-unknown?b?////?=\r\n",
    b"Message-ID: <<<>>>\r\n",
    b"References: <a@b> <<c@d>\r\n",
    b"Date: Mon, 99 Foo 99999 99:99:99 +9999\r\n",
    b"Auto-Submitted: \r\n",
    b"--b\r\n",
    b"--b--\r\n",
    b"--000000000000a1b2c3d4e5f60718\r\n",
    b"=\r\n",
    b"=A3=\r\n",
    b"<!--",
    b"<a ",
    b"<![if x]>",
    b"<script>",
    b"> quoted\r\n",
    b"On Tue, 1 Dec 2026 at 09:12, X <x@y> wrote:\r\n",
    b"-- \r\n",
    b"---------- Forwarded message ---------\r\n",
    b"From: x\r\nSent: y\r\nTo: z\r\n",
]


@st.composite
def mangled_fixture(draw: st.DrawFn) -> bytes:
    data = bytearray(FIXTURES[draw(st.sampled_from(sorted(FIXTURES)))])
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        if kind == "flip" and data:
            data[position] ^= draw(st.integers(min_value=1, max_value=255))
        elif kind == "truncate":
            del data[position:]
        elif kind == "insert":
            data[position:position] = draw(st.sampled_from(SNIPPETS))
        else:
            del data[position : position + draw(st.integers(min_value=1, max_value=64))]
    return bytes(data)


@FUZZ
@given(mangled_fixture())
def test_mangled_fixtures(raw: bytes) -> None:
    check(raw, own_addresses=("complaints@northgate-homes.org.uk",))


@settings(deadline=None, max_examples=100)
@given(st.sampled_from(sorted(FIXTURES)), st.integers(min_value=0, max_value=10_000))
def test_fixtures_with_a_tiny_attachment_limit(name: str, limit: int) -> None:
    parsed = check(FIXTURES[name], max_attachment_bytes=limit)
    if parsed is not None:
        assert sum(len(attachment.data) for attachment in parsed.attachments) <= limit


# --- (c) messages built from parts ------------------------------------------------------------

# Header text: anything printable but line breaks, which EmailMessage refuses in headers.
header_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"]), max_size=60
)
body_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r"), max_size=400
)
plain_words = st.text(alphabet="abcdefghij klmnop\n\u00a3\u00e9\u2019\u65e5>-:", max_size=300)
local_part = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=20)
# Display names as people have them; the stdlib generator mangles names of other characters
# (unquoted "@" or commas beside encoded words, lines folded without a space), which no
# parser can then read back.
display_name = st.text(alphabet="AaBbZz \u00e9\u00c9\u00f6\u0141\u00e7'-", max_size=30)
domain = st.from_regex(r"[a-z][a-z0-9-]{0,10}\.(org|uk|com)", fullmatch=True)
content_types = st.sampled_from(
    ["application/pdf", "image/jpeg", "image/png", "text/plain", "application/octet-stream"]
)
attachment = st.tuples(st.one_of(st.none(), header_text), content_types, st.binary(max_size=300))


def _encodable(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


@st.composite
def built_message(draw: st.DrawFn) -> tuple[bytes, str, str, list[tuple[str | None, str, bytes]]]:
    address = f"{draw(local_part).strip('.') or 'x'}@{draw(domain)}"
    sender = f"{draw(display_name)} <{address}>" if draw(st.booleans()) else address
    body = draw(plain_words)
    charsets = ["utf-8"] + [name for name in ("iso-8859-15", "koi8-r") if _encodable(body, name)]
    charset = draw(st.sampled_from(charsets))
    html = f"<p>{draw(body_text)}</p>" if draw(st.booleans()) and body.strip() else None
    files = draw(st.lists(attachment, max_size=4))
    subject = draw(header_text)
    generation_policy = draw(st.sampled_from([policy.default, policy.SMTP]))
    try:
        mail = _build(
            sender=sender, subject=subject, body=body, charset=charset, html=html, files=files
        )
        raw = mail.as_bytes(policy=generation_policy)
    except Exception:  # the stdlib cannot write every odd header; not what is tested here
        reject()
    return raw, address, body, files


def _build(
    *,
    sender: str,
    subject: str,
    body: str,
    charset: str,
    html: str | None,
    files: list[tuple[str | None, str, bytes]],
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["Subject"] = subject
    mail.set_content(body, charset=charset)
    if html is not None:  # only with a plain part that has text, which is then preferred
        mail.add_alternative(html, subtype="html")
    for filename, content_type, data in files:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    # Fixed boundaries: the generator would draw random ones, which hypothesis cannot replay.
    for number, part in enumerate(mail.walk()):
        if part.is_multipart():
            part.set_boundary(f"(boundary-{number})")
    return mail


@FUZZ
@given(built_message())
def test_built_messages(built: tuple[bytes, str, str, list[tuple[str | None, str, bytes]]]) -> None:
    raw, address, body, files = built

    parsed = check(raw)

    assert parsed is not None
    assert parsed.sender == address.lower()
    expected_body = "\n".join(line.rstrip() for line in body.split("\n")).strip()
    assert parsed.full_text.split() == expected_body.split()
    assert [a.data for a in parsed.attachments] == [data for _, _, data in files if data]


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "Message-ID",
                "In-Reply-To",
                "References",
                "Date",
                "Reply-To",
                "Return-Path",
                "Auto-Submitted",
                "Precedence",
                "List-Id",
                "Content-Type",
                "Content-Disposition",
                "Content-Transfer-Encoding",
                "X-Auto-Response-Suppress",
                "Subject",
            ]
        ),
        st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80),
        max_size=6,
    ),
    body_text,
)
def test_random_header_values(headers: dict[str, str], body: str) -> None:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    raw = ("From: jane@example.com\r\n" + lines + "\r\n" + body).encode()

    assert check(raw) is not None


# --- the text helpers -------------------------------------------------------------------------

any_text = st.text(max_size=2000)
# Text without the characters strip_quoted removes: it only drops and trims lines of it.
clean_text = st.text(
    alphabet=st.characters(
        blacklist_categories=["Cs", "Cc"], blacklist_characters="\ufeff", whitelist_characters="\n"
    ),
    max_size=1000,
)
quotey_text = st.lists(
    st.sampled_from(
        [
            "> quoted",
            ">> deeper",
            "On Tue, 1 Dec 2026 at 09:12, X <x@y> wrote:",
            "-- ",
            "--",
            "Sent from my iPhone",
            "-----Original Message-----",
            "________________________________",
            "From: Housing",
            "Sent: Tuesday",
            "To: Jane",
            "Subject: Damp",
            "---------- Forwarded message ---------",
            "Begin forwarded message:",
            "",
            "my own words",
            "more of my words",
        ]
    ),
    max_size=30,
).map("\n".join)


@FUZZ
@given(st.one_of(clean_text, quotey_text))
def test_strip_quoted_only_removes_lines(text: str) -> None:
    stripped = strip_quoted(text)

    lines = {line.strip() for line in text.split("\n")}
    assert {line.strip() for line in stripped.split("\n")} <= lines | {""}
    assert bool(stripped) == bool(text.strip())


@FUZZ
@given(any_text)
def test_strip_quoted_never_raises(text: str) -> None:
    stripped = strip_quoted(text)

    assert "\x00" not in stripped and len(stripped) <= MAX_TEXT_CHARS


@FUZZ
@given(
    st.one_of(
        any_text,
        st.lists(
            st.sampled_from(
                [
                    "<p>",
                    "</p>",
                    "<a href='https://x'>",
                    "</a>",
                    "<li>",
                    "<ul>",
                    "</ul>",
                    "<br>",
                    "<table>",
                    "<td>",
                    "<tr>",
                    "<blockquote>",
                    "</blockquote>",
                    "<pre>",
                    "</pre>",
                    "<!--",
                    "-->",
                    "<![if x]>",
                    "<script>",
                    "</script>",
                    "<",
                    ">",
                    "&amp;",
                    "&#x0;",
                    "&",
                    '"',
                    "'",
                    "=",
                    " ",
                    "\n",
                    "text",
                    "<head>",
                    "<body>",
                    "<style>",
                ]
            ),
            max_size=60,
        ).map("".join),
    )
)
def test_html_to_text_never_raises(html: str) -> None:
    text = html_to_text(html)

    assert "\x00" not in text and len(text) <= MAX_TEXT_CHARS
    assert text == text.strip()


@FUZZ
@given(any_text)
def test_clean_subject_is_idempotent(subject: str) -> None:
    topic = clean_subject(subject)

    assert clean_subject(topic) == topic
    assert "\n" not in topic and "\r" not in topic
