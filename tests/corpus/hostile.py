"""Raw messages generated in code: hostile/broken ones for robustness, realistic ones for content.

Brokenness is built byte by byte on purpose (the stdlib would repair it); well-formed mail uses
``email.message.EmailMessage`` where that is simpler.
"""

from __future__ import annotations

import base64
import zlib
from email.message import EmailMessage

CRLF = b"\r\n"
BASE_HEADERS = (
    b"From: Ivan Petrov <ivan@example.com>\r\n"
    b"To: desk@example.org\r\n"
    b"Date: Tue, 02 Jan 2024 09:30:00 +0300\r\n"
    b"MIME-Version: 1.0\r\n"
)


def _msg(
    subject: bytes | str,
    body: bytes,
    *,
    headers: bytes = b"",
    ctype: bytes = b"text/plain; charset=utf-8",
    mid: str = "",
) -> bytes:
    """A message with the usual headers plus ``headers``; everything else verbatim."""
    if isinstance(subject, str):
        subject = subject.encode("utf-8")
    ident = (mid or f"<{zlib.crc32(subject + body[:64])}.{len(body)}@example.com>").encode()
    return (
        BASE_HEADERS
        + b"Subject: "
        + subject
        + CRLF
        + b"Message-ID: "
        + ident
        + CRLF
        + b"Content-Type: "
        + ctype
        + CRLF
        + headers
        + CRLF
        + body
    )


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", CRLF)


def _ew(text: str, charset: str) -> bytes:
    """One RFC 2047 B encoded-word."""
    return b"=?" + charset.encode() + b"?B?" + base64.b64encode(text.encode(charset)) + b"?="


def _multipart(
    boundary: bytes,
    parts: list[bytes],
    *,
    close: bool = True,
    subtype: bytes = b"mixed",
    subject: str = "multipart",
) -> bytes:
    body = b"".join(b"--" + boundary + CRLF + p + CRLF for p in parts)
    if close:
        body += b"--" + boundary + b"--" + CRLF
    return _msg(
        subject,
        b"preamble\r\n" + body,
        ctype=b"multipart/" + subtype + b'; boundary="' + boundary + b'"',
    )


def _part(ctype: bytes, body: bytes, extra: bytes = b"") -> bytes:
    return b"Content-Type: " + ctype + CRLF + extra + CRLF + body


RU = "Здравствуйте! Не работает принтер в бухгалтерии, третий этаж. Помогите, пожалуйста."
JA = "こんにちは。経理部のプリンターが故障しました。至急修理をお願いします。"


def _attachment_names() -> bytes:
    names = [
        b'filename="../../etc/passwd"',
        b'filename="..\\\\..\\\\win.ini"',
        b'filename="/abs/path/secret.txt"',
        b'filename="evil\x00name.txt"',
        b'filename="esc\x1b[31mred\x1b]0;pwned\x07.txt"',
        'filename="invoice\u202efdp.exe"'.encode(),
        'filename="отчёт за январь.pdf"'.encode(),
        b'filename="=?utf-8?B?' + base64.b64encode("счёт.xlsx".encode()) + b'?="',
        b'filename="...hidden"',
        b'filename="' + b"a" * 400 + b'.pdf"',
        b'filename=""',
        b'filename="zero\xe2\x80\x8bwidth\xef\xbb\xbf.doc"',
    ]
    parts = [_part(b"text/plain", b"see attachments")]
    parts += [
        _part(b"application/octet-stream", b"data", b"Content-Disposition: attachment; " + n + CRLF)
        for n in names
    ]
    return _multipart(b"NAMES", parts, subject="attachment names")


def _rfc2231() -> bytes:
    disp = (
        b"Content-Disposition: attachment;\r\n"
        b" filename*0*=utf-8''%D0%B4%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80;\r\n"
        b" filename*1*=%20%E2%84%96%205;\r\n"
        b' filename*2=".pdf"\r\n'
    )
    bad = b"Content-Disposition: attachment; filename*=x-bogus''%FF%FE%41.txt\r\n"
    parts = [
        _part(b"text/plain", b"contract attached"),
        _part(b"application/pdf", b"%PDF-1.4", disp),
        _part(b"text/plain", b"x", bad),
    ]
    return _multipart(b"R2231", parts, subject="rfc2231")


def _rfc822_nested(depth: int) -> bytes:
    inner = b"From: deep@example.com\r\nSubject: level 0\r\n\r\ninnermost text\r\n"
    for i in range(1, depth + 1):
        b = f"L{i}".encode()
        inner = (
            f"From: a{i}@example.com\r\nSubject: level {i}\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="{b.decode()}"\r\n\r\n'
        ).encode() + (
            b"--"
            + b
            + CRLF
            + _part(b"text/plain", f"wrapper {i}".encode())
            + CRLF
            + b"--"
            + b
            + CRLF
            + _part(b"message/rfc822", inner)
            + CRLF
            + b"--"
            + b
            + b"--"
            + CRLF
        )
    return inner


def _deep_nest(levels: int) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
        for i in range(1, levels)
    )
    closing = b"".join(b"\r\n--n%d--" % i for i in range(levels - 1, 0, -1))
    body = opening + b"Content-Type: text/plain\r\n\r\ninnermost" + closing + CRLF
    return _msg(
        "deep nest", b"--n0\r\n" + body + b"--n0--\r\n", ctype=b'multipart/mixed; boundary="n0"'
    )


def _many_addresses(n: int) -> bytes:
    to = b",\r\n ".join(b'"User %d" <user%d@example.com>' % (i, i) for i in range(n))
    return (
        b"From: spammer@example.com\r\nTo: " + to + b"\r\nSubject: many\r\n"
        b"Message-ID: <many@example.com>\r\n\r\nhello\r\n"
    )


def _folded_header(lines: int) -> bytes:
    subject = b"\r\n ".join(b"word%d" % i for i in range(lines))
    long = b"\r\n\t".join(b"x" * 60 for _ in range(lines))
    return _msg(subject, b"body\r\n", headers=b"X-Long: " + long + CRLF)


def _mixed_endings() -> bytes:
    return (
        b"From: a@example.com\r\nTo: b@example.com\nSubject: mixed\rMessage-ID: <mix@x>\r\n"
        b"Content-Type: multipart/mixed; boundary=MX\n\r\n"
        b"--MX\rContent-Type: text/plain\r\rline one\r\nline two\nline three\r"
        b"\n--MX\r\nContent-Type: text/plain; name=a.txt\n\nattached\r--MX--\n"
    )


def _qp_mess() -> bytes:
    body = (
        b"Soft=\r\nbreak and =\nLF soft and trailing space soft= \r\nbreak =3D equals\r\n"
        b"bad escapes =ZZ =4 == lone=\r\n=E2=80=9Cquoted=E2=80=9D=\r\n="
    )
    return _msg("qp mess", body, headers=b"Content-Transfer-Encoding: quoted-printable\r\n")


def _duplicates() -> bytes:
    return (
        b"From: first@example.com\r\nFrom: second@example.com\r\nSubject: first subject\r\n"
        b"Subject: second subject\r\nMessage-ID: <dup1@x>\r\nMessage-ID: <dup2@x>\r\n"
        b"Date: Tue, 02 Jan 2024 09:30:00 +0000\r\nDate: garbage\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Type: multipart/mixed; b=1\r\n"
        b"\r\nbody\r\n"
    )


def _param_flood_parts(count: int) -> bytes:
    """Many multiparts, each with a parameter list the stdlib's parser is quadratic in."""
    flood = b"".join(b"; p%d*%d*=utf-8''%%41" % (i, i) for i in range(40)) + b'; x="' + b";" * 4000
    parts = [
        b'Content-Type: multipart/mixed; boundary="in%d"' % i
        + flood
        + b"\r\n\r\n--in%d\r\nContent-Type: text/plain\r\n\r\nx\r\n--in%d--" % (i, i)
        for i in range(count)
    ]
    return _multipart(b"FLOOD", parts, subject="param flood")


def _nest_then_sibling(levels: int) -> bytes:
    """A nest deeper than the cap, then an ordinary part after it."""
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="d%d"\r\n\r\n--d%d\r\n' % (i, i)
        for i in range(levels)
    )
    closing = b"".join(b"\r\n--d%d--" % i for i in range(levels - 1, -1, -1))
    nest = opening + b"Content-Type: text/plain\r\n\r\ntoo deep" + closing
    return _multipart(b"SIB", [nest, _part(b"text/plain", b"after the nest")], subject="sibling")


def hostile_messages() -> list[tuple[str, bytes]]:
    """At least 30 hostile or broken raw messages, each with a distinct name."""
    cp1251_body = RU.encode("cp1251")
    msgs: list[tuple[str, bytes]] = [
        ("declared_utf8_but_cp1251", _msg("wrong charset", cp1251_body)),
        ("undeclared_8bit_body", _msg("no charset", RU.encode("koi8-r") * 3, ctype=b"text/plain")),
        (
            "unknown_charset_name",
            _msg("klingon", "café ünïcode".encode(), ctype=b"text/plain; charset=x-klingon-9"),
        ),
        (
            "non_text_codec_charsets",
            _msg(
                "=?base64?B?aGVsbG8=?= =?rot13?Q?uryyb?=",
                b"body in idna?",
                ctype=b"text/plain; charset=idna",
            ),
        ),
        (
            "raw_8bit_koi8r_subject",
            _msg(
                RU[:20].encode("koi8-r"), RU.encode("koi8-r"), ctype=b"text/plain; charset=koi8-r"
            ),
        ),
        ("encoded_word_wrong_charset", _msg("=?x-unknown?Q?caf=C3=A9?= ok", b"body")),
        ("encoded_word_unterminated", _msg("=?utf-8?B?0J/RgNC40LLQtdGC start", b"body")),
        (
            "encoded_word_bad_base64",
            _msg("=?utf-8?B?!!!@@@###?= and =?utf-8?B?QUJD=RA?= x", b"body"),
        ),
        (
            "koi8r_subject_body",
            _msg(_ew(RU[:30], "koi8-r"), RU.encode("koi8-r"), ctype=b"text/plain; charset=koi8-r"),
        ),
        (
            "cp1251_subject_body",
            _msg(
                _ew(RU[:30], "windows-1251"), cp1251_body, ctype=b"text/plain; charset=windows-1251"
            ),
        ),
        (
            "iso2022jp_subject_body",
            _msg(
                _ew(JA[:10], "iso-2022-jp"),
                JA.encode("iso-2022-jp"),
                ctype=b"text/plain; charset=ISO-2022-JP",
            ),
        ),
        (
            "multipart_missing_boundary",
            _msg("no boundary", b"--x\r\n\r\nbody text\r\n--x--\r\n", ctype=b"multipart/mixed"),
        ),
        (
            "boundary_never_closed",
            _multipart(
                b"OPEN",
                [_part(b"text/plain", b"first"), _part(b"text/plain; name=b.txt", b"2")],
                close=False,
            ),
        ),
        (
            "empty_boundary",
            _msg(
                "empty boundary", b"--\r\n\r\nx\r\n----\r\n", ctype=b'multipart/mixed; boundary=""'
            ),
        ),
        (
            "boundary_not_in_body",
            _msg(
                "boundary absent",
                b"just text\r\n",
                ctype=b"multipart/alternative; boundary=NOWHERE",
            ),
        ),
        (
            "html_only_script_style",
            _msg(
                "html only",
                b"<html><head><style>.x{color:red} STYLETEXT</style>"
                b"<script>alert('SCRIPTTEXT')</script></head><body><p>Hello <b>desk</b></p>"
                b"<!-- COMMENTTEXT --><table><tr><td>cell</td></tr></table></body></html>",
                ctype=b"text/html; charset=utf-8",
            ),
        ),
        ("attachment_names_hostile", _attachment_names()),
        ("rfc2231_continuations", _rfc2231()),
        (
            "nested_rfc822",
            _multipart(
                b"NEST",
                [
                    _part(b"text/plain", b"forwarding"),
                    _part(
                        b"message/rfc822",
                        b"From: x@example.com\r\nSubject: =?utf-8?Q?Fwd_me?=\r\n\r\ninner body\r\n",
                    ),
                ],
            ),
        ),
        ("rfc822_nested_50_deep", _rfc822_nested(50)),
        (
            "nul_bytes_headers_body",
            _msg(b"hel\x00lo", b"a\x00b\x00c", headers=b"X-Nul: \x00\x00\r\n", mid="<n\x00ul@x>"),
        ),
        ("mime_nest_10000", _deep_nest(10_000)),
        ("addresses_50000", _many_addresses(50_000)),
        ("folded_header_5000_lines", _folded_header(5_000)),
        ("no_headers", b"Hello, my printer is broken.\r\nPlease help.\r\n"),
        ("binary_garbage", bytes((i * 7919 + 13) % 256 for i in range(8192))),
        ("empty_input", b""),
        ("mixed_line_endings", _mixed_endings()),
        ("cr_only_line_endings", b"From: cr@example.com\rSubject: cr only\r\rbody\rline\r"),
        (
            "terminal_escapes",
            _msg(
                b"\x1b]0;pwned\x07 hi \x1b[2J",
                b"body \x1b]0;pwned\x07\x1b[2J",
                headers=b"X-Esc: \x1b[31m\r\n",
            ),
        ),
        (
            "rich_markup_subject",
            _msg(
                "[/] [@click=app.quit]x[/] [bold red]alarm",
                b"[link=file:///etc/passwd]x[/link]",
                headers=b'Reply-To: "[b]boss[/b]" <boss@x.org>\r\n',
            ),
        ),
        (
            "parts_2000",
            _multipart(
                b"P2K", [_part(b"text/plain; name=p%d.txt" % i, b"%d" % i) for i in range(2000)]
            ),
        ),
        (
            "invalid_base64_body",
            _msg(
                "bad b64",
                b"!!!notbase64***\r\nQUJD\r\nRE=\r\nV\r\n",
                headers=b"Content-Transfer-Encoding: base64\r\n",
            ),
        ),
        ("qp_soft_break_mess", _qp_mess()),
        ("message_id_garbage", _msg("mid", b"x", mid="<<<>>> garbage <also bad> \x01")),
        ("message_id_whitespace", _msg("mid2", b"x", mid="<a b@c> (comment)")),
        (
            "references_garbage",
            _msg(
                "refs",
                b"x",
                headers=(
                    b"In-Reply-To: <ok@x> <> <bad id> junk\r\n"
                    b"References: " + b" ".join(b"<r%d@x>" % (i % 150) for i in range(400)) + CRLF
                ),
            ),
        ),
        ("duplicate_headers", _duplicates()),
        ("huge_single_line_5mb", _msg("huge line", b"A" * 5_000_000)),
        ("newline_soup_10mb", _msg("newlines", b"\n" * 10_000_000)),
        (
            "dash_boundary_soup",
            _msg(
                "dashes",
                b"--" + b"-" * 60 + b"\r\n" + b"-" * 4_000_000,
                ctype=b'multipart/mixed; boundary="' + b"-" * 60 + b'"',
            ),
        ),
        (
            "html_deep_nesting",
            _msg(
                "deep html",
                b"<div>" * 100_000 + b"deep text" + b"</div>" * 100_000,
                ctype=b"text/html",
            ),
        ),
        (
            "html_3mb",
            _msg(
                "big html",
                b"<p>para <b>bold</b> &amp; more</p>\n" * 90_000,
                ctype=b"text/html; charset=utf-8",
            ),
        ),
        (
            "bad_dates_and_types",
            _msg(
                "dates",
                b"x",
                ctype=b'garbage/;;;="unterminated',
                headers=b"Date: Mon, 1 Jan 99999 10:00:00 +9999\r\n",
            ),
        ),
        ("headers_only_no_blank_line", b"From: a@example.com\r\nSubject: no body"),
        (
            "address_headers_pathological",
            b"From: " + b"(" * 5000 + b" Nested@Example.com\r\nTo: " + b" " * 8000 + b"x\r\n"
            b"Cc: " + b":" * 5000 + b"\r\nReply-To: " + b"a " * 4000 + b"<\r\nSubject: addr\r\n"
            b"\r\nbody\r\n",
        ),
        (
            "attachment_bad_cte_and_size",
            _multipart(
                b"CTE",
                [
                    _part(
                        b"application/zip",
                        b"\x00\xff" * 1000,
                        b"Content-Transfer-Encoding: x-uuencode-ish\r\n"
                        b"Content-Disposition: attachment; filename=a.zip\r\n",
                    ),
                    _part(
                        b"image/png",
                        b"!!@@##",
                        b"Content-Transfer-Encoding: base64\r\nContent-ID: <<img@x>>\r\n",
                    ),
                ],
            ),
        ),
        ("param_flood_parts", _param_flood_parts(1200)),
        ("short_lines_6mb", _msg("short lines", b"a\r\n" * 2_000_000)),
        (
            "header_lines_400k",
            _msg("header flood", b"body\r\n", headers=b"X-Flood: y\r\n" * 400_000),
        ),
        (
            "rfc2231_mixed_sections",
            _multipart(
                b"MIX2231",
                [
                    _part(b"text/plain", b"see attachment"),
                    _part(
                        b"application/pdf",
                        b"%PDF",
                        b"Content-Disposition: attachment; filename*=utf-8''a.pdf;"
                        b" filename*0=b; filename*1=c.pdf\r\n",
                    ),
                ],
            ),
        ),
        ("nest_then_sibling", _nest_then_sibling(40)),
    ]
    return msgs


def _realistic_headers(subject: str, mid: str) -> dict[str, str]:
    return {
        "Return-Path": "<maria@example.com>",
        "Received": "from mx.example.com (mx.example.com [192.0.2.1]) by desk.example.org "
        "with ESMTPS id 4Tz; Tue, 02 Jan 2024 09:30:05 +0000",
        "DKIM-Signature": "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=s1; "
        "h=from:to:subject:date:message-id; bh=" + "A" * 44 + "; b=" + "B" * 300,
        "From": "Maria Ivanova <Maria.Ivanova@Example.com>",
        "To": "Service Desk <desk@example.org>",
        "Cc": "boss@example.com",
        "Subject": subject,
        "Date": "Tue, 02 Jan 2024 12:30:00 +0300",
        "Message-ID": mid,
        "X-Mailer": "Thunderbird 115",
    }


def _email(subject: str, mid: str, **extra: str) -> EmailMessage:
    m = EmailMessage()
    for k, v in {**_realistic_headers(subject, mid), **extra}.items():
        m[k.replace("_", "-")] = v
    return m


TEXT = (
    "Hello,\n\nThe printer on the third floor jams on every second page since Monday.\n"
    "Could someone have a look today?\n\nThanks,\nMaria\n"
)


def realistic_messages() -> list[tuple[str, bytes]]:
    """Well-formed messages of the kinds a desk receives, for positive assertions."""
    out: list[tuple[str, bytes]] = []
    m = _email("Printer jams", "<plain-1@example.com>")
    m.set_content(TEXT)
    out.append(("plain", m.as_bytes()))

    m = _email("Printer jams (html)", "<alt-1@example.com>")
    m.set_content(TEXT)
    m.add_alternative(
        "<html><body><p>Hello,</p><p>The printer <b>jams</b>.</p></body></html>", subtype="html"
    )
    out.append(("alternative", m.as_bytes()))

    m = _email("Scan attached", "<att-1@example.com>")
    m.set_content(TEXT)
    m.add_attachment(
        b"%PDF-1.4\n" + bytes(range(256)) * 40,
        maintype="application",
        subtype="pdf",
        filename="scan 2024-01.pdf",
    )
    out.append(("attachment", m.as_bytes()))

    m = _email("Screenshot", "<img-1@example.com>")
    m.set_content(TEXT)
    m.add_alternative('<p>See the error:</p><img src="cid:shot1@example.com">', subtype="html")
    m.get_payload()[1].add_related(
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 500,
        maintype="image",
        subtype="png",
        cid="<shot1@example.com>",
        filename="shot.png",
    )
    out.append(("inline_image", m.as_bytes()))

    m = _email("Принтер не печатает", "<koi-1@example.com>")
    m.set_content(RU + "\n", charset="koi8-r")
    out.append(("koi8r", m.as_bytes()))

    raw = (
        b"From: =?ISO-2022-JP?B?"
        + base64.b64encode("田中".encode("iso-2022-jp"))
        + b"?= <tanaka@example.jp>\r\nTo: desk@example.org\r\nSubject: "
        + _ew(JA[:12], "iso-2022-jp")
        + b"\r\nDate: Tue, 02 Jan 2024 18:00:00 +0900\r\n"
        b"Message-ID: <jp-1@example.jp>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit"
        b"\r\n\r\n" + JA.encode("iso-2022-jp") + CRLF
    )
    out.append(("iso2022jp", raw))

    m = _email(
        "Re: Printer jams [#1042]",
        "<reply-2@example.com>",
        In_Reply_To="<desk-1042-1@example.org>",
        References="<plain-1@example.com> <desk-1042-1@example.org>",
    )
    m.set_content("Still broken.\n\n> Did you try turning it off?\n")
    out.append(("reply", m.as_bytes()))

    m = _email(
        "Automatic reply: Printer jams",
        "<ooo-1@example.com>",
        Auto_Submitted="auto-replied",
        X_Auto_Response_Suppress="All",
    )
    m.set_content("I am out of the office until Monday.\n")
    out.append(("out_of_office", m.as_bytes()))

    out.append(("dsn_bounce", _dsn()))
    return out


def _dsn() -> bytes:
    original = (
        b"From: desk@example.org\r\nTo: nobody@example.net\r\nSubject: [#1042] Update\r\n"
        b"Message-ID: <desk-1042-2@example.org>\r\n\r\nYour ticket was updated.\r\n"
    )
    parts = [
        _part(
            b"text/plain; charset=us-ascii",
            b"This is the mail system at host mx.example.net.\r\n\r\n"
            b"I'm sorry to have to inform you that your message could not be delivered.",
        ),
        _part(
            b"message/delivery-status",
            b"Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; "
            b"nobody@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n",
        ),
        _part(b"message/rfc822", original),
    ]
    body = b"".join(b"--DSN1\r\n" + p + CRLF for p in parts) + b"--DSN1--\r\n"
    return (
        b"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
        b"To: desk@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Date: Tue, 02 Jan 2024 10:00:00 +0000\r\nMessage-ID: <dsn-1@mx.example.net>\r\n"
        b"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report;"
        b' report-type=delivery-status;\r\n boundary="DSN1"\r\n\r\n' + body
    )
