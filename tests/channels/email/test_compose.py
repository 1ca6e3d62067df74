"""Emails the bot writes: headers for threading and against loops, safe text and HTML."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from channels.email.compose import (
    BODY_FONT_PX,
    LARGE_PRINT_FONT_PX,
    ComposeError,
    compose,
    header_safe,
    subject_for,
)
from conversations.envelopes import Choice, OutboundKind, OutboundMessage
from conversations.wording import default_labels
from core.clock import LONDON

WORDS = default_labels("email")
NOW = datetime(2026, 12, 23, 10, 0, tzinfo=LONDON)


def _compose(message: OutboundMessage, recipient: str = "sam@example.org") -> EmailMessage:
    mail = compose(
        message,
        recipient=recipient,
        from_address="complaints@riverside.example",
        from_name="Riverside Homes complaints",
        words=WORDS,
        now=NOW,
    )
    # What the SMTP server receives, read back as a mail client would.
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _message(**fields: object) -> OutboundMessage:
    values: dict[str, object] = {
        "channel": "email",
        "recipient": "sam@example.org",
        "text": "We have logged your complaint.",
    }
    values.update(fields)
    return OutboundMessage.model_validate(values)


def _part(mail: EmailMessage, subtype: str) -> str:
    body = mail.get_body(preferencelist=(subtype,))
    assert body is not None
    return str(body.get_content())


def test_an_acknowledgement_threads_under_the_residents_email_with_its_reference() -> None:
    mail = _compose(
        _message(
            kind=OutboundKind.ACKNOWLEDGEMENT,
            reference="C-7K3Q-9XFD",
            in_reply_to="<abc@mail.example.org>",
        )
    )
    assert mail["Subject"] == "[C-7K3Q-9XFD] We have logged your complaint"
    assert mail["In-Reply-To"] == "<abc@mail.example.org>"
    assert mail["References"] == "<abc@mail.example.org>"
    assert mail["From"] == "Riverside Homes complaints <complaints@riverside.example>"
    assert mail["Reply-To"] == "complaints@riverside.example"
    assert mail["To"] == "sam@example.org"
    assert str(mail["Message-ID"]).endswith("@riverside.example>")
    assert mail["Date"] is not None


def test_every_email_is_marked_automatic_so_no_robot_answers_it() -> None:
    """RFC 3834; Exchange's out-of-office replies honour X-Auto-Response-Suppress."""
    mail = _compose(_message())
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"


def test_each_email_has_its_own_message_id() -> None:
    assert _compose(_message())["Message-ID"] != _compose(_message())["Message-ID"]


def test_the_body_is_plain_text_and_html_alternatives() -> None:
    mail = _compose(_message(text="First paragraph.\n\nSecond line one\nline two"))
    assert mail.get_content_type() == "multipart/alternative"
    assert _part(mail, "plain").startswith("First paragraph.\n\nSecond line one\nline two")
    page = _part(mail, "html")
    assert '<html lang="en">' in page
    assert "<p>First paragraph.</p>" in page
    assert "<p>Second line one<br>\nline two</p>" in page
    assert f"font-size:{BODY_FONT_PX}px" in page


def test_large_print_is_larger_type() -> None:
    """CHC-3.1: a resident who asked for large print gets it in the HTML part."""
    page = _part(_compose(_message(large_print=True)), "html")
    assert f"font-size:{LARGE_PRINT_FONT_PX}px" in page


def test_choices_become_numbered_lines_and_an_ordered_list() -> None:
    message = _message(
        text="Is this a repair or a complaint?",
        choices=(Choice(id="repair", label="Report a repair"), Choice(id="c", label="Complain")),
    )
    mail = _compose(message)
    plain = _part(mail, "plain")
    assert "1. Report a repair\n2. Complain" in plain
    assert WORDS["choices_intro"] in plain
    assert "<ol><li>Report a repair</li><li>Complain</li></ol>" in _part(mail, "html")


def test_lines_that_are_all_bullets_become_a_list() -> None:
    page = _part(_compose(_message(text="You told us:\n\n- the boiler\n- the damp")), "html")
    assert "<ul><li>the boiler</li><li>the damp</li></ul>" in page


def test_html_in_what_a_resident_wrote_is_shown_not_run() -> None:
    page = _part(
        _compose(_message(text='You said: <script>alert("x")</script> & <b>hi</b>')), "html"
    )
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;hi&lt;/b&gt;" in page


def test_web_addresses_become_links_after_escaping() -> None:
    page = _part(
        _compose(_message(text="Go to https://www.housing-ombudsman.org.uk/residents/.")), "html"
    )
    assert (
        '<a href="https://www.housing-ombudsman.org.uk/residents/">'
        "https://www.housing-ombudsman.org.uk/residents/</a>." in page
    )


@pytest.mark.parametrize(
    "subject",
    [
        "Hello\r\nBcc: victim@example.org",
        "Hello\nBcc: victim@example.org",
        "Hello\rBcc: victim@example.org",
        "Hello\x00\x1b\tBcc: victim@example.org",
    ],
)
def test_header_injection_in_a_subject_is_neutralised(subject: str) -> None:
    mail = _compose(_message(subject=subject))
    assert mail["Bcc"] is None
    assert mail["Subject"] == "Hello Bcc: victim@example.org"
    raw = mail.as_bytes()
    assert b"\nBcc:" not in raw


def test_a_staff_notice_is_marked_and_urgent_ones_stand_out() -> None:
    mail = _compose(
        _message(
            kind=OutboundKind.STAFF_NOTICE,
            urgent=True,
            reference="C-7K3Q-9XFD",
            text="Gas smell reported.",
        ),
        recipient="team@riverside.example",
    )
    assert mail["Subject"] == "[C-7K3Q-9XFD] URGENT: Complaints bot notice"
    assert mail["Importance"] == "high"
    assert mail["X-Complaints-Notice"] == "staff"


def test_subject_keeps_a_given_subject_and_adds_the_reference_once() -> None:
    assert subject_for(_message(subject="Hello", reference="C-1"), WORDS) == "[C-1] Hello"
    assert subject_for(_message(subject="[C-1] Hello", reference="C-1"), WORDS) == "[C-1] Hello"
    assert subject_for(_message(), WORDS) == WORDS["reply"]


def test_a_recipient_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(ComposeError):
        _compose(_message(), recipient="not an address")


def test_a_recipient_carrying_a_line_break_cannot_add_headers() -> None:
    with pytest.raises(ComposeError):
        _compose(_message(), recipient="sam@example.org\r\nBcc: victim@example.org")


def test_header_safe_bounds_length() -> None:
    assert len(header_safe("x" * 5000)) == 200


def test_a_letter_subject_gets_the_reference_in_brackets_in_front() -> None:
    message = _message(reference="C-7K3Q-9XFD", subject="Your complaint is closed")
    assert _compose(message)["Subject"] == "[C-7K3Q-9XFD] Your complaint is closed"
