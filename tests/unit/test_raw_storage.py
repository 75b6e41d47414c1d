"""Raw messages kept compressed (store/rawcodec.py), the exact bytes still recoverable: for a
quarantine retry, for the idempotency keys, and on a desk upgraded from before migration 0007.
On both databases."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import random
import zlib
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path

import pytest
import zstandard
from sqlalchemy import text

from bench.mailgen import generate_messages
from sdesk.channels.email.parse import parse_email
from sdesk.core.batch import Unparsed, intake_many
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel
from sdesk.core.intake import Outcome
from sdesk.store.engine import _alembic_config, open_store
from sdesk.store.maildict import MAIL1
from sdesk.store.models import RawInbound
from sdesk.store.rawcodec import (
    BLOBS,
    IDENTITY,
    ZLIB_BLOBS,
    ZLIB_MAIL1,
    ZSTD_MAIL1,
    RawUnreadable,
    pack,
    references,
    unpack,
)
from tests.conftest import FakeClock

# Bytes a careless round trip would change: CRLF and bare LF mixed, trailing blanks, 8-bit
# header bytes, a NUL, no final newline, and an unparseable-looking top.
ODD = (
    b"From: Ann \xe9l\xe8ve <ann@example.org>\r\nSubject: odd  \t\r\n"
    b"Message-ID: <odd@example.org>\n\r\nbody with a NUL \x00 and   \r\n" * 20 + b"no newline"
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_rows(desk: Desk) -> list[tuple[bytes, str | None, int | None, str]]:
    with desk.store.read() as session:
        rows = session.execute(
            text("SELECT raw, raw_codec, raw_size, sha256 FROM raw_inbound ORDER BY id")
        )
        return [(bytes(r[0]), r[1], r[2], r[3]) for r in rows]


def test_a_realistic_corpus_is_stored_in_well_under_half_its_size(desk: Desk) -> None:
    mails = list(generate_messages(400, seed=5))
    intake_many(desk, [parse_email(m, source=f"gen#{i}") for i, m in enumerate(mails)])
    rows = stored_rows(desk)
    assert len(rows) == len(mails)
    by_digest = {row[3]: row for row in rows}
    text_in = text_kept = all_kept = 0
    for mail in mails:
        kept, codec, size, _ = by_digest[sha(mail)]
        assert size == len(mail) and unpack(kept, codec, desk.store.blobs.get) == mail  # exact
        all_kept += len(kept)
        if b"base64" not in mail:  # attachments are compressed data already: text mail alone
            text_in, text_kept = text_in + len(mail), text_kept + len(kept)
    print(f"text mail kept in {text_kept / text_in:.3f}, all {all_kept / len(b''.join(mails)):.3f}")
    assert text_kept <= 0.40 * text_in
    assert all_kept <= 0.35 * sum(map(len, mails))  # attachment bodies: in the blob store


def test_quarantine_retry_gets_the_exact_bytes_back(desk: Desk) -> None:
    desk.quarantine(channel=Channel.EMAIL, raw=ODD, error="old parser bug", source="box#1")
    [(kept, codec, size, digest)] = stored_rows(desk)
    assert codec == ZSTD_MAIL1 and len(kept) < len(ODD) // 4 and size == len(ODD)
    assert digest == sha(ODD)
    [listed] = desk.quarantined()
    assert listed.size == len(ODD)  # the message's size, not the compressed one

    seen: list[bytes] = []

    def parse(raw: bytes):  # the real parser, after noting what it was given
        seen.append(raw)
        return parse_email(raw, source="box#1")

    [(_, result)] = desk.retry_quarantined(parse)
    assert sha(seen[0]) == sha(ODD) and seen[0] == ODD
    assert not isinstance(result, str) and result.outcome is Outcome.CREATED
    assert desk.quarantined() == []


def test_intake_many_quarantines_compressed_and_idempotency_keys_stay_the_raw_digest(
    desk: Desk,
) -> None:
    no_id = b"From: bo@example.org\nSubject: no id\n\n" + b"the same words again and again\n" * 40
    bad = Unparsed(Channel.EMAIL, ODD, "unparseable", "box#9")
    first = intake_many(desk, [parse_email(no_id, source="a"), bad])
    again = intake_many(desk, [parse_email(no_id, source="b"), bad])
    assert [r.outcome for r in first] == [Outcome.CREATED, Outcome.QUARANTINED]
    assert [r.outcome for r in again] == [Outcome.DUPLICATE, Outcome.DUPLICATE]
    with desk.batch() as batch:  # the importer's skip-before-parsing, by the raw digest
        assert batch.raw_seen(Channel.EMAIL, sha(no_id)) and batch.raw_seen(Channel.EMAIL, sha(ODD))
    with desk.store.read() as session:
        key = session.execute(text("SELECT external_id FROM message")).scalar_one()
    assert key == f"sha256:{sha(no_id)}"  # the key of the exact bytes, whatever is stored
    assert [(c, s) for _, c, s, _ in stored_rows(desk)] == [
        (ZSTD_MAIL1, len(no_id)),
        (ZSTD_MAIL1, len(ODD)),
    ]


def test_a_desk_from_before_0007_keeps_and_retries_its_raw_rows_exactly(
    desk: Desk, desk_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    from alembic import command

    newer = b"From: cy@example.org\nSubject: quarantined by 0007\n\n" + b"compressed text\n" * 30
    desk.quarantine(channel=Channel.EMAIL, raw=newer, error="bug", source="box#1")
    with desk.store.engine.connect() as conn:
        command.downgrade(_alembic_config(conn), "0006")  # an older sdesk reads raw as is
        conn.commit()
        assert conn.exec_driver_sql("SELECT raw FROM raw_inbound").scalar_one() == newer
        # A row as sdesk before 0007 wrote it: the bytes themselves.
        conn.exec_driver_sql(
            "INSERT INTO raw_inbound (channel, sha256, external_id, source, raw, state, error, "
            "received_at) VALUES ('email', %s, NULL, 'box#2', %s, 'quarantined', 'bug', "
            "'2026-01-01 00:00:00')"
            if desk.store.engine.dialect.name == "postgresql"
            else "INSERT INTO raw_inbound (channel, sha256, external_id, source, raw, state, "
            "error, received_at) VALUES ('email', ?, NULL, 'box#2', ?, 'quarantined', 'bug', "
            "'2026-01-01 00:00:00')",
            (sha(ODD), ODD),
        )
        conn.commit()
    desk.close()

    upgraded = Desk(
        open_store(desk_url, attachments=tmp_path / "desk.db.files"), desk.settings, clock=clock
    )
    try:
        assert [r.size for r in upgraded.quarantined()] == [len(newer), len(ODD)]
        got: list[bytes] = []
        results = upgraded.retry_quarantined(lambda raw: got.append(raw) or parse_email(raw))
        assert got == [newer, ODD] and [sha(g) for g in got] == [sha(newer), sha(ODD)]
        assert all(not isinstance(r, str) for _, r in results)
        assert [(c, s) for _, c, s, _ in stored_rows(upgraded)] == [(None, None), (None, None)]
    finally:
        upgraded.close()


def test_damaged_stored_bytes_are_refused_and_stay_quarantined(desk: Desk) -> None:
    desk.quarantine(channel=Channel.EMAIL, raw=ODD, error="bug", source="box#1")
    with desk.store.write() as session:  # one byte flipped in the middle of the stream
        kept = bytearray(stored_rows(desk)[0][0])
        kept[len(kept) // 2] ^= 0xFF
        session.execute(text("UPDATE raw_inbound SET raw = :raw"), {"raw": bytes(kept)})
    [(_, outcome)] = desk.retry_quarantined(parse_email)
    assert isinstance(outcome, str) and "damaged" in outcome
    assert len(desk.quarantined()) == 1


@pytest.mark.parametrize("raw", [b"", b"x", os.urandom(4096)])
def test_what_deflate_cannot_shrink_is_kept_as_it_came(raw: bytes) -> None:
    assert pack(raw) == (raw, IDENTITY) and unpack(raw, IDENTITY) == unpack(raw, None) == raw


def test_an_unknown_codec_is_an_error_not_garbage() -> None:
    with pytest.raises(RawUnreadable, match="'zstd-9'"):
        unpack(b"abc", "zstd-9")


def test_the_dictionary_of_the_mail1_codecs_never_changes() -> None:
    # Rows written with it are readable only with exactly these bytes: a new one is a new codec.
    assert len(MAIL1) == 5584
    assert sha(MAIL1) == "d574194559789373d77d0f5ee4cb1d9d1c7588bf7897cad72f71fd31d8d8c7d9"


def test_rows_written_with_zlib_by_earlier_versions_still_read_exactly() -> None:
    """Desks written before zstd hold ``zlib-mail1`` and ``zlib-mail1+blobs`` rows: the same
    layouts around a zlib stream with MAIL1 as its preset dictionary."""

    def deflate(data: bytes) -> bytes:
        z = zlib.compressobj(6, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, MAIL1)
        return z.compress(data) + z.flush()

    assert unpack(deflate(ODD), ZLIB_MAIL1) == ODD
    mail = with_attachment(PDF)
    new, codec = pack(mail, [(PDF, sha(PDF))])
    assert codec == BLOBS
    # The same references ahead of a zlib stream of the same rest of the message.
    head_len = 4 + 2 + 46 * len(references(new, codec))
    stream = zstandard.ZstdDecompressor(
        dict_data=zstandard.ZstdCompressionDict(MAIL1, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    ).decompress(new[head_len:])
    legacy = new[:head_len] + deflate(stream)
    assert references(legacy, ZLIB_BLOBS) == [sha(PDF)]
    assert unpack(legacy, ZLIB_BLOBS, blobs={sha(PDF): PDF}.get) == mail


def with_attachment(data: bytes, *, crlf: bool = False, copies: int = 1) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "ann@example.org", "help@desk.test", "the invoice"
    msg["Message-ID"] = f"<att-{crlf}-{copies}@example.org>"
    msg.set_content("Please find the invoice attached.\n")
    for i in range(copies):
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=f"inv{i}.pdf")
    return msg.as_bytes(policy=SMTP if crlf else default)


PDF = random.Random(7).randbytes(30_000)  # compressed data, as a PDF's or a PNG's


@pytest.mark.parametrize("crlf", [False, True])
def test_attachment_bodies_are_kept_once_in_the_blob_store(desk: Desk, crlf: bool) -> None:
    mail = with_attachment(PDF, crlf=crlf, copies=2)
    desk.intake(parse_email(mail))
    [(kept, codec, size, _)] = stored_rows(desk)
    assert codec == BLOBS and size == len(mail)
    assert len(kept) < len(mail) - 40_000 + 2_000  # one base64 body (40 kB) is a reference
    assert len(kept) > 30_000  # the second copy of the same bytes stays in the stream
    with desk.store.read() as session:
        row = session.get(RawInbound, 1)
        assert row is not None and row.original(desk.store.blobs.get) == mail
    with pytest.raises(RawUnreadable, match="attachment files"):
        unpack(kept, codec)
    desk.store.blobs.path(sha(PDF)).unlink()
    with pytest.raises(RawUnreadable, match=f"{sha(PDF)} of the raw message is missing"):
        unpack(kept, codec, desk.store.blobs.get)


def test_a_body_not_written_as_sdesk_would_write_it_stays_in_the_stream(desk: Desk) -> None:
    standard = with_attachment(PDF)
    body = base64.encodebytes(PDF)  # 76 characters a line; this mailer wrote one long line
    mail = standard.replace(body, base64.b64encode(PDF) + b"\n")
    assert mail != standard
    desk.intake(parse_email(mail))
    [(kept, codec, _, _)] = stored_rows(desk)
    assert codec == ZSTD_MAIL1 and unpack(kept, codec) == mail


def test_a_message_packed_later_is_kept_as_it_came_then_packed_as_intake_would(
    desk: Desk,
) -> None:
    """A large sync's rows (``pack_later``) hold the exact bytes until ``compact_raw`` packs
    them, and then the same bytes and codec as a message packed in its own transaction."""
    mails = [with_attachment(PDF, crlf=True), ODD]
    for mail in mails:
        desk.intake(dataclasses.replace(parse_email(mail), pack_later=True))
    assert [(kept, codec, size) for kept, codec, size, _ in stored_rows(desk)] == [
        (mail, None, len(mail)) for mail in mails
    ]
    if desk.store.engine.dialect.name == "sqlite":  # found by the partial index, no scan
        query = (
            "EXPLAIN QUERY PLAN SELECT id FROM raw_inbound "
            "WHERE raw_codec IS NULL AND id > 0 ORDER BY id LIMIT 200"
        )
        with desk.store.read() as session:
            plan = session.execute(text(query)).all()
        assert any("ix_raw_inbound_unpacked" in str(row[-1]) for row in plan)
    report = desk.compact_raw()
    assert report.rows == 2 and report.bytes_before == sum(map(len, mails))
    rows = stored_rows(desk)
    assert [(kept, codec) for kept, codec, _, _ in rows] == [
        pack(mails[0], [(PDF, sha(PDF))]),
        pack(ODD),
    ]
    for (kept, codec, size, digest), mail in zip(rows, mails, strict=True):
        assert unpack(kept, codec, desk.store.blobs.get) == mail
        assert (size, digest) == (len(mail), sha(mail))


def test_compacting_stops_between_transactions_when_asked(desk: Desk) -> None:
    mails = [ODD + b"%d" % n for n in range(5)]
    for mail in mails:
        desk.intake(dataclasses.replace(parse_email(mail), pack_later=True))
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return True

    from sdesk.core.compact import compact_raw

    report = compact_raw(desk, rows_a_transaction=2, stop=stop)
    assert report.rows == 2 and asked == [1]  # one transaction done whole, then stopped
    assert [codec for _, codec, _, _ in stored_rows(desk)] == [ZSTD_MAIL1] * 2 + [None] * 3
    assert desk.compact_raw().rows == 3


def test_references_name_the_blobs_a_packed_row_needs() -> None:
    mail = with_attachment(PDF)
    packed, codec = pack(mail, [(PDF, sha(PDF))])
    assert references(packed, codec) == [sha(PDF)]
    assert references(memoryview(packed), codec) == [sha(PDF)]
    assert references(*pack(ODD)) == [] and references(ODD, None) == []
    with pytest.raises(RawUnreadable, match="unknown"):
        references(packed, "zstd-mail9")
    with pytest.raises(RawUnreadable, match="cut short"):
        references(packed[:20], codec)
    with pytest.raises(RawUnreadable, match="no attachment references"):
        references(b"junk", codec)


def test_downgrading_to_0006_puts_every_rows_exact_bytes_back(desk: Desk, tmp_path: Path) -> None:
    from alembic import command

    mail = with_attachment(PDF)
    desk.intake(parse_email(mail))
    assert stored_rows(desk)[0][1] == BLOBS
    with desk.store.engine.connect() as conn:
        cfg = _alembic_config(conn)
        if conn.dialect.name == "postgresql":  # SQLite's default is the desk's <db>.files
            cfg.attributes["blobs"] = tmp_path / "desk.db.files"
        command.downgrade(cfg, "0006")
        conn.commit()
        assert conn.exec_driver_sql("SELECT raw FROM raw_inbound").scalar_one() == mail


def test_compact_packs_the_rows_an_older_sdesk_kept_as_they_came(desk: Desk) -> None:
    mail = with_attachment(PDF)
    desk.intake(parse_email(mail))
    desk.quarantine(channel=Channel.EMAIL, raw=ODD, error="bug", source="box#1")
    with desk.store.write() as session:  # as sdesk before migration 0007 left them
        for raw_id, raw in ((1, mail), (2, ODD)):
            session.execute(
                text(
                    "UPDATE raw_inbound SET raw = :r, raw_codec = NULL, raw_size = NULL "
                    "WHERE id = :i"
                ),
                {"r": raw, "i": raw_id},
            )
    report = desk.compact_raw()
    assert report.rows == 2 and report.bytes_before == len(mail) + len(ODD)
    assert report.bytes_after < 0.2 * report.bytes_before
    assert [(c, s) for _, c, s, _ in stored_rows(desk)] == [
        (BLOBS, len(mail)),
        (ZSTD_MAIL1, len(ODD)),
    ]
    with desk.store.read() as session:
        row = session.get(RawInbound, 1)
        assert row is not None and row.original(desk.store.blobs.get) == mail
    got: list[bytes] = []
    desk.retry_quarantined(lambda raw: got.append(raw) or parse_email(raw))
    assert got == [ODD]
    assert desk.compact_raw().rows == 0  # nothing left to do
