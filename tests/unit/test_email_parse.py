"""RFC 5322/MIME parser: hostile input is bounded and survivable, real mail is read right."""

from __future__ import annotations

import base64
import email
import time
import unicodedata
from datetime import UTC, datetime

import pytest

from sdesk.channels.email import parse
from sdesk.channels.email.parse import (
    PARSE_POLICY,
    EmailLimits,
    UnparseableEmail,
    detect_auto,
    message_ids,
    normalise_message_id,
    parse_email,
    safe_filename,
)
from sdesk.core.enums import AutoKind, Channel, ContactKind
from sdesk.core.inbound import ContactRef, Inbound, Sender
from tests.corpus.hostile import JA, RU, hostile_messages, realistic_messages

HOSTILE = hostile_messages()
REALISTIC = realistic_messages()
H = dict(HOSTILE)
R = dict(REALISTIC)
BOUND_S = 2.0


def _assert_safe_name(name: str) -> None:
    assert name and len(name) <= 150
    assert "/" not in name and "\\" not in name
    assert not name.startswith(".")
    assert not any(unicodedata.category(ch)[0] == "C" for ch in name), repr(name)


def test_corpus_is_big_and_names_are_distinct() -> None:
    assert len(HOSTILE) >= 30
    assert len(H) == len(HOSTILE)
    assert len(R) == len(REALISTIC) >= 8


@pytest.mark.parametrize(("name", "raw"), HOSTILE, ids=[n for n, _ in HOSTILE])
def test_hostile_message_parses_or_is_unparseable_within_bound(name: str, raw: bytes) -> None:
    started = time.monotonic()
    try:
        inbound = parse_email(raw, source=name)
    except UnparseableEmail as exc:
        elapsed = time.monotonic() - started
        assert exc.reason and "\n" not in exc.reason
    else:
        elapsed = time.monotonic() - started
        assert isinstance(inbound, Inbound) and inbound.channel is Channel.EMAIL
        assert inbound.raw == raw and inbound.source == name
        assert "\x00" not in inbound.text and "\x00" not in inbound.subject
        assert "\r" not in inbound.subject and "\n" not in inbound.subject
        assert "\r" not in inbound.text
        assert len(inbound.text) <= EmailLimits().max_text_chars
        assert inbound.html is None or "\x00" not in inbound.html
        for attachment in inbound.attachments:
            _assert_safe_name(attachment.filename)
        for note in inbound.notes:
            assert note and "\n" not in note and len(note) < 200
        assert inbound.received_at is not None and inbound.received_at.tzinfo is not None
    assert elapsed < BOUND_S, f"{name} took {elapsed:.2f}s"


@pytest.mark.parametrize(("name", "raw"), REALISTIC, ids=[n for n, _ in REALISTIC])
def test_realistic_message_is_clean(name: str, raw: bytes) -> None:
    inbound = parse_email(raw)
    assert inbound.notes == ()
    assert inbound.message_id and inbound.external_id == inbound.message_id
    assert inbound.sender.contacts and inbound.sender.contacts[0].kind is ContactKind.EMAIL
    assert inbound.text.strip()
    assert inbound.sent_at is not None and inbound.sent_at.utcoffset().total_seconds() == 0


def test_realistic_plain_fields() -> None:
    inbound = parse_email(R["plain"], source="inbox")
    assert inbound.subject == "Printer jams"
    assert inbound.sender.name == "Maria Ivanova"
    assert inbound.sender.contacts == (ContactRef(ContactKind.EMAIL, "maria.ivanova@example.com"),)
    assert inbound.message_id == "plain-1@example.com"
    assert inbound.sent_at == datetime(2024, 1, 2, 9, 30, tzinfo=UTC)
    assert inbound.text.startswith("Hello,\n\nThe printer")
    assert inbound.meta == {"to": "desk@example.org", "cc": "boss@example.com"}
    assert inbound.auto is None and inbound.html is None and inbound.attachments == ()


def test_alternative_prefers_plain_and_keeps_html() -> None:
    inbound = parse_email(R["alternative"])
    assert inbound.text.startswith("Hello,") and "<p>" not in inbound.text
    assert inbound.html is not None and "<b>jams</b>" in inbound.html
    assert inbound.attachments == ()


def test_attachment_is_decoded() -> None:
    (att,) = parse_email(R["attachment"]).attachments
    assert att.filename == "scan 2024-01.pdf" and att.content_type == "application/pdf"
    assert att.data is not None and att.data.startswith(b"%PDF-1.4") and att.size == len(att.data)
    assert not att.inline


def test_inline_image_is_flagged_with_content_id() -> None:
    inbound = parse_email(R["inline_image"])
    (img,) = inbound.attachments
    assert img.inline and img.content_id == "shot1@example.com"
    assert img.content_type == "image/png" and img.data is not None
    assert img.data.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("source", "name", "subject", "body"),
    [
        (H, "koi8r_subject_body", RU[:30], RU),
        (H, "cp1251_subject_body", RU[:30], RU),
        (H, "iso2022jp_subject_body", JA[:10], JA),
        (R, "koi8r", "Принтер не печатает", RU),
        (R, "iso2022jp", JA[:12], JA),
    ],
)
def test_subject_and_body_decoded_in_declared_charset(
    source: dict[str, bytes], name: str, subject: str, body: str
) -> None:
    inbound = parse_email(source[name])
    assert inbound.subject == subject
    assert inbound.text.strip() == body


def test_japanese_display_name_is_decoded() -> None:
    assert parse_email(R["iso2022jp"]).sender.name == "田中"


@pytest.mark.parametrize(
    "name", ["undeclared_8bit_body", "declared_utf8_but_cp1251", "raw_8bit_koi8r_subject"]
)
def test_missing_or_wrong_charset_is_guessed(name: str) -> None:
    inbound = parse_email(H[name])
    assert inbound.text.startswith("Здравствуйте!")


def test_raw_8bit_subject_uses_the_body_charset() -> None:
    assert parse_email(H["raw_8bit_koi8r_subject"]).subject == RU[:20]


def test_unknown_charsets_never_crash() -> None:
    assert parse_email(H["unknown_charset_name"]).text == "café ünïcode"
    assert parse_email(H["encoded_word_wrong_charset"]).subject == "café ok"
    assert parse_email(H["non_text_codec_charsets"]).text == "body in idna?"


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("encoded_word_unterminated", "=?utf-8?B?0J/RgNC40LLQtdGC start"),
        ("encoded_word_bad_base64", "=?utf-8?B?!!!@@@###?= and =?utf-8?B?QUJD=RA?= x"),
    ],
)
def test_broken_encoded_words_stay_literal(name: str, subject: str) -> None:
    assert parse_email(H[name]).subject == subject


def test_html_only_drops_script_style_and_comments() -> None:
    inbound = parse_email(H["html_only_script_style"])
    assert "Hello desk" in inbound.text and "cell" in inbound.text
    for hidden in ("STYLETEXT", "SCRIPTTEXT", "COMMENTTEXT", "color:red", "<"):
        assert hidden not in inbound.text
    assert inbound.html is not None and "<script>" in inbound.html


def test_huge_html_falls_back_to_the_strip() -> None:
    inbound = parse_email(H["html_3mb"])
    assert inbound.text.startswith("para bold & more")
    assert any("HTML part" in note for note in inbound.notes)
    assert parse_email(H["html_deep_nesting"]).text == "deep text"


def test_hostile_attachment_names_are_safe_for_display() -> None:
    names = [a.filename for a in parse_email(H["attachment_names_hostile"]).attachments]
    assert names[:9] == [
        "passwd",
        "win.ini",
        "secret.txt",
        "evilname.txt",
        "esc[31mred]0;pwned.txt",
        "invoicefdp.exe",
        "отчёт за январь.pdf",
        "счёт.xlsx",
        "hidden",
    ]
    assert len(names[9]) == 150 and names[9].endswith(".pdf")
    assert names[10:] == ["attachment-11.bin", "zerowidth.doc"]
    for name in names:
        _assert_safe_name(name)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("/abs/path", "path"),
        ("C:\\Users\\x\\report.pdf", "report.pdf"),
        ("..", "fallback.bin"),
        ("   ", "fallback.bin"),
        ("\x00\x1b\u202e\u200b", "fallback.bin"),
        (".bashrc", "bashrc"),
        ("a\tb\nc.txt", "a b c.txt"),
        ("x" * 300 + ".tar.gz", "x" * 147 + ".gz"),
    ],
)
def test_safe_filename(raw: str, expected: str) -> None:
    assert safe_filename(raw, "fallback.bin") == expected


def test_rfc2231_continuations_are_joined_and_decoded() -> None:
    names = [a.filename for a in parse_email(H["rfc2231_continuations"]).attachments]
    assert names[0] == "договор № 5.pdf"
    _assert_safe_name(names[1])  # bogus charset: latin-1 fallback, still a safe name


def test_nested_rfc822_is_one_attachment() -> None:
    inbound = parse_email(H["nested_rfc822"])
    assert inbound.text == "forwarding"
    (att,) = inbound.attachments
    assert att.content_type == "message/rfc822" and att.filename == "Fwd me.eml"
    assert att.data is not None and att.data.startswith(b"From: x@example.com")


def test_rfc822_nested_50_deep_is_not_descended() -> None:
    inbound = parse_email(H["rfc822_nested_50_deep"])
    assert inbound.subject == "level 50" and inbound.text == "wrapper 50"
    (att,) = inbound.attachments
    assert att.filename == "level 49.eml"
    assert att.data is not None and b"innermost text" in att.data


def test_dsn_bounce() -> None:
    inbound = parse_email(R["dsn_bounce"])
    assert inbound.auto is AutoKind.BOUNCE
    assert inbound.text.startswith("This is the mail system")
    types = [a.content_type for a in inbound.attachments]
    assert types == ["message/delivery-status", "message/rfc822"]
    assert inbound.attachments[1].filename == "[#1042] Update.eml"


def test_out_of_office_is_auto_reply() -> None:
    assert parse_email(R["out_of_office"]).auto is AutoKind.AUTO_REPLY
    assert parse_email(R["reply"]).auto is None


def _headers(text: str) -> email.message.Message:
    return email.message_from_string(text + "\n\nbody", policy=PARSE_POLICY)


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ("From: a@x\nSubject: hi", None),
        ("From: MAILER-DAEMON@x\nSubject: failure", AutoKind.BOUNCE),
        ("From: Mail System <postmaster@x>", None),
        ("From: Mail System <postmaster@x>\nSubject: Undeliverable: hi", AutoKind.BOUNCE),
        ("From: postmaster@x\nSubject: Backup failed", None),
        ("From: postmaster@x\nReturn-Path: <>", AutoKind.BOUNCE),
        ("From: MAILER-DAEMON@x\nSubject: hello", AutoKind.AUTO_REPLY),
        ("Content-Type: multipart/report; report-type=delivery-status; b=1", AutoKind.BOUNCE),
        ("Return-Path: <>\nContent-Type: multipart/report; report-type=x", AutoKind.BOUNCE),
        ("Return-Path: <>\nFrom: a@x", AutoKind.AUTO_REPLY),
        ("Auto-Submitted: auto-replied", AutoKind.AUTO_REPLY),
        ("Auto-Submitted: no", None),
        ("Auto-Submitted: No (a person)", None),
        ("X-Autoreply: yes", AutoKind.AUTO_REPLY),
        ("X-Autorespond: 1", AutoKind.AUTO_REPLY),
        ("X-Auto-Response-Suppress: All", AutoKind.AUTO_REPLY),
        ("Subject: Automatic reply: your ticket", AutoKind.AUTO_REPLY),
        ("Subject: Out of Office until May", AutoKind.AUTO_REPLY),
        ("Subject: =?utf-8?Q?Auto:_away?=", AutoKind.AUTO_REPLY),
        ("List-Id: <dev.lists.example.org>", AutoKind.LIST),
        ("List-Unsubscribe: <mailto:u@x>", AutoKind.LIST),
        ("Precedence: list", AutoKind.LIST),
        ("Precedence: bulk", AutoKind.BULK),
        ("Precedence: junk", AutoKind.BULK),
    ],
)
def test_detect_auto_on_stdlib_message(headers: str, kind: AutoKind | None) -> None:
    assert detect_auto(_headers(headers)) is kind


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@example.com>", "abc@example.com"),
        ("  <abc@example.com>\r\n ", "abc@example.com"),
        ("abc@example.com", "abc@example.com"),
        ("<first@x> <second@x>", "first@x"),
        ("<abc@x> (comment)", "abc@x"),
        ("<>", None),
        ("", None),
        (None, None),
        ("<a b@c>", None),
        ("garbage with spaces", None),
        ("<<<>>> garbage", None),
        ("<ctl\x01@x>", None),
        ("<" + "a" * 999 + ">", None),
        ("<" + "a" * 998 + ">", "a" * 998),
    ],
)
def test_normalise_message_id(value: str | None, expected: str | None) -> None:
    assert normalise_message_id(value) == expected


def test_message_ids_extraction() -> None:
    assert message_ids("<a@x> <b@x>\r\n <a@x> (dup) <> <c d@x>") == ("a@x", "b@x")
    assert message_ids("bare@x other@y") == ("bare@x", "other@y")
    assert message_ids(None) == () and message_ids("junk") == ()
    many = message_ids(" ".join(f"<m{i}@x>" for i in range(300)))
    assert len(many) == 100 and many[0] == "m0@x" and many[1] == "m201@x"
    assert many[-1] == "m299@x"


def test_reply_threading_headers() -> None:
    inbound = parse_email(R["reply"])
    assert inbound.in_reply_to == ("desk-1042-1@example.org",)
    assert inbound.references == ("plain-1@example.com", "desk-1042-1@example.org")
    assert inbound.subject == "Re: Printer jams [#1042]"


def test_garbage_references_are_filtered_and_capped() -> None:
    inbound = parse_email(H["references_garbage"])
    assert inbound.in_reply_to == ("ok@x",)
    assert len(inbound.references) == 100 and inbound.references[0] == "r0@x"


@pytest.mark.parametrize("name", ["message_id_garbage", "message_id_whitespace"])
def test_garbage_message_id_leaves_the_key_to_the_core(name: str) -> None:
    inbound = parse_email(H[name])
    assert inbound.message_id is None and inbound.external_id is None


def test_50000_addresses_are_capped_with_a_note() -> None:
    inbound = parse_email(H["addresses_50000"])
    assert "To header had 50000 addresses; first 200 kept" in inbound.notes
    to = inbound.meta["to"].split(", ")
    assert to[0] == "user0@example.com" and len(to) <= 200
    assert len(inbound.meta["to"]) <= 4000


def test_deep_mime_nest_is_cut_with_a_note() -> None:
    inbound = parse_email(H["mime_nest_10000"])
    assert "MIME nesting deeper than 20 levels; inner parts skipped" in inbound.notes
    assert inbound.subject == "deep nest"


def test_part_count_is_capped() -> None:
    inbound = parse_email(H["parts_2000"])
    assert "more than 500 MIME parts; the rest skipped" in inbound.notes
    assert 400 < len(inbound.attachments) < 500


def test_oversize_message_keeps_headers_only() -> None:
    raw = R["attachment"]
    inbound = parse_email(raw, limits=EmailLimits(max_message_bytes=1000))
    assert inbound.text == f"(message of {len(raw)} bytes exceeds the size cap; headers kept)"
    assert inbound.subject == "Scan attached" and inbound.message_id == "att-1@example.com"
    assert inbound.sender.contacts[0].value == "maria.ivanova@example.com"
    assert inbound.attachments == () and inbound.raw == raw
    assert any("stored headers only" in note for note in inbound.notes)


def test_oversize_attachment_is_dropped_with_a_note() -> None:
    inbound = parse_email(R["attachment"], limits=EmailLimits(max_attachment_bytes=1024))
    assert inbound.attachments == ()
    assert "attachment scan 2024-01.pdf over 1 KiB dropped" in inbound.notes
    assert inbound.text.startswith("Hello,")


def test_text_is_capped() -> None:
    inbound = parse_email(H["huge_single_line_5mb"])
    assert inbound.text == "A" * 1_000_000
    small = parse_email(R["plain"], limits=EmailLimits(max_text_chars=10))
    assert small.text == "Hello,\n\nTh" and small.notes


def test_boundary_problems_degrade_to_text() -> None:
    missing = parse_email(H["multipart_missing_boundary"])
    assert "body text" in missing.text and missing.notes
    assert "--" in parse_email(H["empty_boundary"]).text
    assert parse_email(H["boundary_not_in_body"]).text == "just text"
    unclosed = parse_email(H["boundary_never_closed"])
    assert unclosed.text == "first" and [a.filename for a in unclosed.attachments] == ["b.txt"]


def test_line_endings_mixed_and_cr_only() -> None:
    mixed = parse_email(H["mixed_line_endings"])
    assert mixed.subject == "mixed" and mixed.message_id == "mix@x"
    assert mixed.text == "line one\nline two\nline three"
    assert [a.filename for a in mixed.attachments] == ["a.txt"]
    cr = parse_email(H["cr_only_line_endings"])
    assert cr.subject == "cr only" and cr.text == "body\nline"


def test_nul_bytes_are_stripped() -> None:
    inbound = parse_email(H["nul_bytes_headers_body"])
    assert inbound.subject == "hello" and inbound.text == "abc"
    assert inbound.message_id == "nul@x"


def test_terminal_and_markup_text_is_kept_as_data() -> None:
    """Neutralising is the display's job (ARCHITECTURE.md rule 8); the parser keeps one line."""
    escaped = parse_email(H["terminal_escapes"])
    assert "pwned" in escaped.subject and "\n" not in escaped.subject
    markup = parse_email(H["rich_markup_subject"])
    assert markup.subject == "[/] [@click=app.quit]x[/] [bold red]alarm"
    assert markup.reply_to == "boss@x.org"


def test_transfer_encoding_damage_is_survived() -> None:
    qp = parse_email(H["qp_soft_break_mess"]).text
    assert qp.startswith("Softbreak and LF soft") and "“quoted”" in qp
    parse_email(H["invalid_base64_body"])
    inbound = parse_email(H["attachment_bad_cte_and_size"])
    assert [a.filename for a in inbound.attachments] == ["a.zip", "attachment-2.png"]
    assert inbound.attachments[1].content_id == "img@x"


def test_duplicate_headers_first_wins() -> None:
    inbound = parse_email(H["duplicate_headers"])
    assert inbound.subject == "first subject" and inbound.message_id == "dup1@x"
    assert inbound.sender.contacts[0].value == "first@example.com"
    assert inbound.sent_at == datetime(2024, 1, 2, 9, 30, tzinfo=UTC)


def test_bad_date_is_none_and_received_at_is_passed_through() -> None:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    inbound = parse_email(H["bad_dates_and_types"], received_at=when)
    assert inbound.received_at == when and inbound.text == "x"
    for date in ("Mon, 1 Jan 99999 10:00:00 +9999", "Tue, 31 Feb 2024 10:00:00 +0000", "soon"):
        assert parse_email(b"From: a@x\r\nDate: " + date.encode() + b"\r\n\r\nx").sent_at is None
    odd = parse_email(b"From: a@x\r\nDate: 2 Jan 2024 12:30 -0730 (PST)\r\n\r\nx").sent_at
    assert odd == datetime(2024, 1, 2, 20, 0, tzinfo=UTC)


def test_sender_fallbacks() -> None:
    base = b"Subject: s\r\nMessage-ID: <s@x>\r\n"
    only_sender = parse_email(base + b"From: Ops Team\r\nSender: ops@x.org\r\n\r\nbody")
    assert only_sender.sender == Sender(
        name="Ops Team", contacts=(ContactRef(ContactKind.EMAIL, "ops@x.org"),)
    )
    return_path = parse_email(base + b"Return-Path: <Bot@X.org>\r\n\r\nbody")
    assert return_path.sender.contacts == (ContactRef(ContactKind.EMAIL, "bot@x.org"),)
    nobody = parse_email(base + b"From: Just A Name\r\n\r\nbody")
    assert nobody.sender.name == "Just A Name" and nobody.sender.contacts == ()


def test_no_headers_body_only_and_garbage_is_unparseable() -> None:
    inbound = parse_email(H["no_headers"])
    assert inbound.text == "Hello, my printer is broken.\nPlease help."
    assert inbound.sender.contacts == () and "no headers; body only" in inbound.notes
    with pytest.raises(UnparseableEmail, match="not text"):
        parse_email(H["binary_garbage"])
    with pytest.raises(UnparseableEmail, match="empty"):
        parse_email(H["empty_input"])
    with pytest.raises(UnparseableEmail, match="not bytes"):
        parse_email("From: a@x\n\nstr, not bytes")  # type: ignore[arg-type]


def test_parse_policy_is_compat32() -> None:
    assert PARSE_POLICY is email.policy.compat32


def test_one_stray_byte_keeps_the_declared_charset() -> None:
    body = ("Здравствуйте! Не работает принтер. " * 5).encode() + b"\xff end"
    raw = b"From: a@x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
    inbound = parse_email(raw)
    assert inbound.text.startswith("Здравствуйте!") and inbound.text.endswith("\ufffd end")


def test_pathological_address_headers_are_fast_and_survivable() -> None:
    started = time.monotonic()
    inbound = parse_email(H["address_headers_pathological"])
    assert time.monotonic() - started < 0.5
    assert inbound.sender.contacts == (ContactRef(ContactKind.EMAIL, "nested@example.com"),)
    assert inbound.reply_to is None and inbound.text == "body"


def test_costly_message_keeps_headers_and_a_text_excerpt() -> None:
    """40 MB of short lines would take the stdlib's feedparser 5-10 s: headers + excerpt."""
    raw = (
        b"From: Ivan <ivan@example.com>\r\nSubject: flood\r\nMessage-ID: <flood@x>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + b"line\n" * 8_000_000
    )
    started = time.monotonic()
    inbound = parse_email(raw)
    assert time.monotonic() - started < BOUND_S
    assert inbound.subject == "flood" and inbound.message_id == "flood@x"
    assert inbound.sender.contacts == (ContactRef(ContactKind.EMAIL, "ivan@example.com"),)
    assert inbound.text.startswith("line\nline\n") and len(inbound.text) <= 64 * 1024
    assert any("too costly to split into parts" in note for note in inbound.notes)
    assert inbound.raw == raw


def test_costly_multipart_keeps_the_text_part_of_the_excerpt() -> None:
    raw = H["short_lines_6mb"].replace(b"Content-Type: text/plain; charset=utf-8", b"X: y")
    raw = raw.replace(
        b"\r\n\r\na\r\n",
        b"\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
        b"Content-Type: text/plain\r\n\r\nthe text\r\n--B\r\nContent-Type: text/plain\r\n"
        b"Content-Disposition: attachment; filename=big.txt\r\n\r\na\r\n",
        1,
    )
    inbound = parse_email(raw)
    assert inbound.text == "the text" and inbound.attachments == ()
    assert any("headers and a text excerpt kept" in note for note in inbound.notes)


def test_header_and_line_floods_are_cut_with_notes() -> None:
    headers = parse_email(H["header_lines_400k"])
    assert headers.subject == "header flood" and headers.text == "body"
    assert "header block over 100000 lines; the rest skipped" in headers.notes
    lines = parse_email(H["short_lines_6mb"])
    assert lines.subject == "short lines" and lines.text.startswith("a\na\n")


def test_large_attachment_is_parsed_whole() -> None:
    """Real big attachments (base64, 77-byte lines) stay within the parse budget."""
    data = bytes(range(256)) * (8 * 1024 * 4)  # 8 MiB
    body = b"--B\r\nContent-Type: text/plain\r\n\r\nscan attached\r\n--B\r\n"
    body += b"Content-Type: application/pdf; name=scan.pdf\r\n"
    body += b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(data)
    raw = b"From: a@x\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" + body + b"--B--\r\n"
    started = time.monotonic()
    inbound = parse_email(raw)
    assert time.monotonic() - started < BOUND_S
    (att,) = inbound.attachments
    assert att.filename == "scan.pdf" and att.data == data and inbound.notes == ()
    assert inbound.text == "scan attached"


def test_recursion_in_the_stdlib_parser_falls_back_to_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = parse.parse_bytes
    calls: list[int] = []

    def recursing(raw: bytes, **kwargs: int) -> tuple[email.message.Message, bool]:
        calls.append(len(raw))
        if len(calls) == 1:
            raise RecursionError("maximum recursion depth exceeded")
        return real(raw, **kwargs)

    monkeypatch.setattr(parse, "parse_bytes", recursing)
    inbound = parse_email(R["attachment"])
    assert "MIME structure too deeply nested; headers and a text excerpt kept" in inbound.notes
    assert inbound.subject == "Scan attached" and inbound.text.startswith("Hello,")
    assert inbound.attachments == ()


def test_deep_nest_is_cut_but_later_parts_are_kept() -> None:
    inbound = parse_email(H["nest_then_sibling"])
    assert inbound.text == "after the nest"
    assert "MIME nesting deeper than 20 levels; inner parts skipped" in inbound.notes


def test_quadratic_parameter_lists_are_bounded() -> None:
    started = time.monotonic()
    inbound = parse_email(H["param_flood_parts"])
    assert time.monotonic() - started < BOUND_S
    assert "more than 500 MIME parts; the rest skipped" in inbound.notes
    assert inbound.text.startswith("x\n\nx")


def test_rfc2231_filename_wins_and_bad_sections_do_not_crash() -> None:
    raw = (
        b"From: a@x\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
        b"Content-Type: application/pdf; name=plain.pdf\r\nContent-Disposition: attachment;"
        b" filename=\"fallback.pdf\"; filename*=utf-8''%D1%81%D1%87%D1%91%D1%82.pdf\r\n\r\n"
        b"%PDF\r\n--B--\r\n"
    )
    assert [a.filename for a in parse_email(raw).attachments] == ["счёт.pdf"]
    mixed = parse_email(H["rfc2231_mixed_sections"])
    assert mixed.text == "see attachment" and len(mixed.attachments) == 1
    _assert_safe_name(mixed.attachments[0].filename)


def test_nested_message_bytes_are_kept_as_received() -> None:
    (att,) = parse_email(H["nested_rfc822"]).attachments
    inner = b"From: x@example.com\r\nSubject: =?utf-8?Q?Fwd_me?=\r\n\r\ninner body\r\n"
    assert att.data == inner  # byte for byte, as in the raw message
    dsn = parse_email(R["dsn_bounce"]).attachments[1]
    assert dsn.data is not None and dsn.data.startswith(b"From: desk@example.org\r\nTo: ")
    assert dsn.data.endswith(b"\r\n\r\nYour ticket was updated.\r\n")


def test_raw_8bit_parameters_and_headers_keep_their_bytes() -> None:
    """compat32 would wrap these in ``Header`` objects whose str() is U+FFFD soup."""
    raw = (
        "From: Пётр <petr@example.com>\r\nSubject: Счёт\r\n"
        'Content-Type: text/plain; charset=utf-8; name="счёт.txt"\r\n\r\nтекст'
    ).encode()
    inbound = parse_email(raw)
    assert inbound.subject == "Счёт" and inbound.sender.name == "Пётр"
    assert [a.filename for a in inbound.attachments] == ["счёт.txt"]


def _mime_tree(msg: email.message.Message) -> list[object]:
    return [
        (
            part.get_content_type(),
            [type(d).__name__ for d in part.defects],
            part.preamble,
            part.epilogue,
            part._payload if isinstance(part._payload, str) else len(part._payload),
        )
        for part in msg.walk()
    ]


ODD_BOUNDARIES = [
    "simple",
    "a.b*c+d?(e)[f]{g}|h^i$j",  # every regex special character
    "==_Part_0_12345.67890--",  # ends in the close marker's dashes
    "back\\slash",
    "x" * 70,
]


@pytest.mark.parametrize("boundary", ODD_BOUNDARIES)
@pytest.mark.parametrize("nl", ["\n", "\r\n"])
def test_multipart_boundaries_split_as_the_stdlib_splits_them(boundary: str, nl: str) -> None:
    from email.feedparser import BytesFeedParser

    from sdesk.channels.email.message import BoundedMessage, parse_bytes

    inner = f"in-{boundary}"
    text = nl.join(
        [
            f'Content-Type: multipart/mixed; boundary="{boundary}"',
            "",
            "preamble",
            f"--{boundary}",
            "Content-Type: text/plain",
            "",
            f"one --{boundary}x not a boundary",
            f"--{boundary}x",
            f"--{boundary} \t",  # trailing white space: still a boundary
            f'Content-Type: multipart/alternative; boundary="{inner}"',
            "",
            f"--{inner}",
            "",
            "two",
            f"--{inner}--",
            f"--{boundary}",
            f"--{boundary}",  # a doubled boundary line
            "",
            "three",
            f"--{boundary}--  ",
            "epilogue",
        ]
    )
    for raw in (text.encode(), text.encode() + nl.encode(), text.rsplit(nl, 2)[0].encode()):
        stdlib = BytesFeedParser(BoundedMessage, policy=PARSE_POLICY)
        stdlib.feed(raw)
        ours, complete = parse_bytes(raw, max_depth=20, max_parts=1000)
        assert complete
        assert _mime_tree(ours) == _mime_tree(stdlib.close())
