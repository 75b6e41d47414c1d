"""Mail whose text is encoded the way old or sloppy clients write it: undeclared ISO-2022,
raw 8-bit headers, 8-bit bytes inside encoded-words, UTF-7, uuencode, TNEF (winmail.dat);
and bounces told from ordinary mail by their structure."""

from __future__ import annotations

import base64
import binascii
import struct
import time

import compressed_rtf

from sdesk.channels.email.parse import parse_email
from sdesk.core.enums import AutoKind

HEAD = (
    b"From: Ann Lee <ann@example.org>\r\nTo: support@desk.test\r\n"
    b"Date: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n"
)


def _mail(headers: bytes, body: bytes) -> bytes:
    return HEAD + headers + b"\r\n" + body


def test_undeclared_iso_2022_jp_body_and_subject_are_decoded() -> None:
    jp = "こんにちは、プリンターが動きません。"
    raw = _mail(
        b"Subject: " + "印刷できない".encode("iso-2022-jp") + b"\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n",
        jp.encode("iso-2022-jp") + b"\r\n",
    )
    assert b"\x1b$B" in raw and b"charset" not in raw
    inbound = parse_email(raw)
    assert inbound.subject == "印刷できない"
    assert inbound.text == jp


def test_undeclared_iso_2022_kr_body_is_decoded() -> None:
    kr = "안녕하세요, 프린터가 고장났습니다."
    raw = _mail(b"Subject: printer\r\n", kr.encode("iso-2022-kr") + b"\r\n")
    assert b"\x1b$)C" in raw
    assert parse_email(raw).text == kr


def test_raw_latin1_subject_without_any_charset_is_cp1252_not_a_guess() -> None:
    raw = _mail("Subject: Frösche im Teich\r\n".encode("latin-1"), b"see subject\r\n")
    assert parse_email(raw).subject == "Frösche im Teich"
    raw = _mail("Subject: Frösche\r\n".encode("latin-1"), b"see subject\r\n")
    assert parse_email(raw).subject == "Frösche"


def test_raw_utf8_subject_is_utf8() -> None:
    raw = _mail("Subject: Frösche\r\n".encode(), b"see subject\r\n")
    assert parse_email(raw).subject == "Frösche"


def test_raw_8bit_subject_takes_an_undeclared_bodys_charset() -> None:
    body = "Здравствуйте! Принтер в бухгалтерии снова не печатает, помогите пожалуйста."
    raw = _mail(
        "Subject: Ошибка печати\r\n".encode("koi8-r"),
        (body * 4).encode("koi8-r") + b"\r\n",
    )
    inbound = parse_email(raw)
    assert inbound.text.startswith("Здравствуйте!")
    assert inbound.subject == "Ошибка печати"


def test_raw_8bit_bytes_inside_an_encoded_word_are_read_in_its_charset() -> None:
    raw = _mail("Subject: =?iso-8859-1?Q?Fr\xf6sche_im?= Teich\r\n".encode("latin-1"), b"x\r\n")
    assert parse_email(raw).subject == "Frösche im Teich"
    raw = _mail("Subject: =?koi8-r?Q?Ошибка?=\r\n".encode("koi8-r"), b"x\r\n")
    assert parse_email(raw).subject == "Ошибка"
    raw = _mail("Subject: =?utf-8?q?Fr\u00f6sche?=\r\n".encode(), b"x\r\n")
    assert parse_email(raw).subject == "Frösche"


def test_utf7_body_and_header_decode() -> None:
    text = "Grüße — 1 + 1 = 2, C++ und 日本語"
    body = text.encode("utf-7").replace(b"+-", b"+")  # a sloppy writer: bare "+" signs
    raw = _mail(
        b"Subject: =?unicode-1-1-utf-7?Q?Gr+APwA3w-e?=\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-7\r\n",
        body + b"\r\n",
    )
    inbound = parse_email(raw)
    assert inbound.text == text
    assert inbound.subject == "Grüße"
    assert not inbound.notes


def test_raw_utf7_subject_of_a_utf7_mail_decodes() -> None:
    raw = _mail(
        b"Subject: Gr+APwA3w-e aus C++\r\nContent-Type: text/plain; charset=utf-7\r\n",
        b"Hallo+ACE-\r\n",
    )
    inbound = parse_email(raw)
    assert (inbound.subject, inbound.text) == ("Grüße aus C++", "Hallo!")


def test_ordinary_mail_from_postmaster_is_not_a_bounce() -> None:
    raw = (
        b"Return-Path: <postmaster@example.org>\r\n"
        b"From: Postmaster <postmaster@example.org>\r\nTo: support@desk.test\r\n"
        b"Subject: Our mail server moves on Friday\r\nMessage-ID: <pm1@example.org>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Hello, please update the relay address in the desk's SMTP settings. Thanks, Bob\r\n"
    )
    inbound = parse_email(raw)
    assert inbound.auto is None
    assert inbound.sender.contacts[0].value == "postmaster@example.org"


def _dsn(outer: bytes) -> bytes:
    return (
        b"Return-Path: <>\r\nFrom: Mail Delivery System <postmaster@mx.example.net>\r\n"
        b"To: support@desk.test\r\nSubject: Delivery report\r\n"
        b"Message-ID: <dsn1@mx.example.net>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: " + outer + b'; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\n\r\n"
        b"--B--\r\n"
    )


def test_delivery_status_report_is_a_bounce() -> None:
    inbound = parse_email(_dsn(b"multipart/report; report-type=delivery-status"))
    assert inbound.auto is AutoKind.BOUNCE
    assert inbound.text == "Your message could not be delivered."


def test_dsn_part_makes_a_bounce_without_report_type_or_null_path() -> None:
    raw = _dsn(b"multipart/mixed").replace(b"Return-Path: <>\r\n", b"")
    raw = raw.replace(b"postmaster@", b"relay@")
    assert parse_email(raw).auto is AutoKind.BOUNCE
    # the same part without DSN fields proves nothing
    raw = raw.replace(b"Action: failed\r\nStatus: 5.1.1\r\n", b"").replace(b"Final-", b"X-")
    assert parse_email(raw).auto is None


def test_mailer_daemon_with_a_bounce_subject_and_no_structure_is_a_bounce() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
        b"To: support@desk.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n"
        b"This is the mail system at host mx.example.net.\r\n"
    )
    assert parse_email(raw).auto is AutoKind.BOUNCE


FILE = bytes(range(256)) * 3 + b"tail"


def _uu(data: bytes, name: str, *, zero_line: bytes = b"`") -> bytes:
    lines = [f"begin 644 {name}".encode()]
    lines += [binascii.b2a_uu(data[i : i + 45]).rstrip(b"\n") for i in range(0, len(data), 45)]
    return b"\r\n".join([*lines, zero_line, b"end"]) + b"\r\n"


def test_x_uuencode_part_is_decoded_even_with_blank_stripped_lines() -> None:
    # Old encoders end with a " " line; a mail system that strips trailing blanks leaves it
    # empty, where the stdlib's decoder gives up and returns the encoded text.
    encoded = _uu(FILE, "report.pdf", zero_line=b"").replace(b" \r\n", b"\r\n")
    raw = _mail(
        b'Subject: file\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n',
        b"--B\r\nContent-Type: text/plain\r\n\r\nthe file\r\n"
        b"--B\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: x-uuencode\r\n\r\n" + encoded + b"--B--\r\n",
    )
    inbound = parse_email(raw)
    assert inbound.text == "the file"
    (att,) = inbound.attachments
    assert att.data == FILE
    assert att.filename == "report.pdf"  # from the begin line: the part has no name


def test_inline_uuencoded_block_becomes_an_attachment() -> None:
    raw = _mail(
        b"Subject: logs\r\n",
        b"Hello,\r\n\r\nthe log is below.\r\n\r\n" + _uu(FILE, "screen shot.jpg") + b"\r\nBye\r\n",
    )
    inbound = parse_email(raw)
    (att,) = inbound.attachments
    assert (att.filename, att.data, att.content_type) == ("screen shot.jpg", FILE, "image/jpeg")
    assert "begin 644" not in inbound.text and "M" not in inbound.text.split("below.")[1][:3]
    assert inbound.text.startswith("Hello,\n\nthe log is below.")
    assert inbound.text.endswith("[uuencoded file: screen shot.jpg]\n\nBye")
    assert any("screen shot.jpg" in note for note in inbound.notes)


def test_begin_line_in_prose_is_left_alone() -> None:
    text = b"begin 644 is what the old tool printed\r\nAND THEN: END\r\nend\r\n"
    inbound = parse_email(_mail(b"Subject: prose\r\n", text))
    assert inbound.attachments == () and "begin 644 is what" in inbound.text


# A TNEF stream built by hand (MS-OXTNEF): signature, key, then attributes of level, id, type,
# length, data and a checksum (the data's byte sum mod 65536); MAPI properties as lists of
# (type, id, value count, length, padded value). tnefparse 1.4 reads these identically.
def _attr(level: int, att: int, kind: int, data: bytes) -> bytes:
    head = struct.pack("<BHHI", level, att, kind, len(data))
    return head + data + struct.pack("<H", sum(data) & 0xFFFF)


def _prop(kind: int, prop: int, value: bytes) -> bytes:
    return struct.pack("<HHII", kind, prop, 1, len(value)) + value + b"\x00" * (-len(value) % 4)


def _tnef(
    body: str | None = None,
    files: tuple[tuple[str, str, bytes], ...] = (),
    rtf: bytes | None = None,
) -> bytes:
    out = struct.pack("<IH", 0x223E9F78, 0x0102)
    out += _attr(1, 0x9006, 0x0008, struct.pack("<I", 0x10000))  # attTnefVersion
    out += _attr(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))  # attOemCodepage
    props = []
    if body is not None:  # PR_BODY, PT_STRING8
        props.append(_prop(0x001E, 0x1000, body.encode("cp1252") + b"\x00"))
    if rtf is not None:  # PR_RTF_COMPRESSED, PT_BINARY
        props.append(_prop(0x0102, 0x1009, rtf))
    if props:  # attMsgProps
        out += _attr(1, 0x9003, 0x0006, struct.pack("<I", len(props)) + b"".join(props))
    for short, long, data in files:
        out += _attr(2, 0x9002, 0x0006, b"\x01\x00" + b"\xff" * 12)  # attAttachRendData
        out += _attr(2, 0x8010, 0x0001, short.encode("cp1252") + b"\x00")  # attAttachTitle
        out += _attr(2, 0x800F, 0x0006, data)  # attAttachData
        long_name = _prop(0x001F, 0x3707, (long + "\x00").encode("utf-16-le"))
        out += _attr(2, 0x9005, 0x0006, struct.pack("<I", 1) + long_name)  # attAttachment
    return out


PDF = b"%PDF-1.4\n" + bytes(range(256)) + b"\x00\x00"  # ends in NUL bytes, kept exactly


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def test_exchange_tnef_only_mail_gives_its_body_and_files() -> None:
    text = "Hallo, die Rechnung für Köln anbei."
    blob = _tnef(text, (("RECHNU~1.PDF", "Rechnung März.pdf", PDF),))
    raw = _mail(
        b"Subject: Rechnung\r\nMIME-Version: 1.0\r\nContent-Type: application/ms-tnef; "
        b'name="winmail.dat"\r\nContent-Transfer-Encoding: base64\r\n',
        _b64(blob),
    )
    inbound = parse_email(raw)
    assert inbound.text == text
    (att,) = inbound.attachments
    assert (att.filename, att.content_type) == ("Rechnung März.pdf", "application/pdf")
    assert att.data == PDF


def test_winmail_dat_next_to_a_text_body_gives_its_files() -> None:
    blob = _tnef("the same text", (("A.TXT", "notes.txt", b"abc"), ("B.CSV", "data.csv", b"1,2")))
    raw = _mail(
        b'Subject: files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n',
        b"--B\r\nContent-Type: text/plain\r\n\r\nsee the files\r\n"
        b"--B\r\nContent-Type: application/octet-stream; name=winmail.dat\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + _b64(blob) + b"--B--\r\n",
    )
    inbound = parse_email(raw)
    assert inbound.text == "see the files"
    assert [(a.filename, a.data) for a in inbound.attachments] == [
        ("notes.txt", b"abc"),
        ("data.csv", b"1,2"),
    ]


def test_tnef_rtf_body_becomes_text() -> None:
    rtf = rb"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Arial;}}\f0 Drucker in K\'f6ln defekt.\par}"
    raw = _mail(
        b"Subject: rtf\r\nContent-Type: application/ms-tnef\r\n"
        b"Content-Transfer-Encoding: base64\r\n",
        _b64(_tnef(rtf=compressed_rtf.compress(rtf))),
    )
    inbound = parse_email(raw)
    assert inbound.text == "Drucker in Köln defekt."
    assert inbound.attachments == ()


def test_broken_tnef_is_kept_as_received_with_a_note() -> None:
    blob = _tnef("body", (("A.TXT", "a.txt", b"abc" * 100),))
    for broken in (blob[:-150], blob[:40] + b"\xff" * 8 + blob[48:], b"not tnef at all"):
        raw = _mail(
            b"Subject: broken\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="B"\r\n',
            b"--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
            b"--B\r\nContent-Type: application/ms-tnef; name=winmail.dat\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + _b64(broken) + b"--B--\r\n",
        )
        inbound = parse_email(raw)
        assert inbound.text == "hi"
        (att,) = inbound.attachments
        assert (att.filename, att.data) == ("winmail.dat", broken)
        assert any("winmail.dat (TNEF) unreadable" in note for note in inbound.notes)


def test_tnef_counts_are_bounded_by_the_data() -> None:
    # MAPI lists of 2^32-1 properties, or a multi-valued property of 2^32-1 values: refused
    # at once instead of looping on counts the bytes cannot hold.
    many = struct.pack("<I", 0xFFFFFFFF) + b"\x00" * 64
    mv_short = struct.pack("<IHHI", 1, 0x1002, 0x0E07, 0xFFFFFFFF) + b"\x00" * 64
    for props in (many, mv_short):
        blob = struct.pack("<IH", 0x223E9F78, 1) + _attr(1, 0x9003, 0x0006, props)
        raw = _mail(b"Subject: x\r\nContent-Type: application/ms-tnef\r\n", blob)
        started = time.monotonic()
        inbound = parse_email(raw)
        assert time.monotonic() - started < 0.5
        assert [a.filename for a in inbound.attachments] == ["winmail.dat"]
