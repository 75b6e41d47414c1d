"""Mail whose text is encoded the way old or sloppy clients write it: undeclared ISO-2022,
raw 8-bit headers, 8-bit bytes inside encoded-words, UTF-7, uuencode, TNEF (winmail.dat);
and bounces told from ordinary mail by their structure."""

from __future__ import annotations

from sdesk.channels.email.parse import parse_email

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
