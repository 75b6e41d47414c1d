"""Every update type the issue lists, through the real PTB ``Bot`` against the local Bot API
server, into a real SQLite desk (``sdesk fetch``'s pass): what each becomes, and that the
server was asked with the offsets that confirm exactly what was stored."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from sdesk.channels.telegram.intake import stored_update_ids
from sdesk.core.batch import DEFER_FTS_FROM
from sdesk.core.chats import FILE_RETRY
from sdesk.core.desk import Desk
from sdesk.store.inbox import search
from sdesk.store.models import Contact, RawInbound, TelegramFile
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import attachments, fetch, inbound, tickets
from tests.telegram.updates import Updates


def test_text_opens_a_ticket_and_the_next_message_joins_it(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1)
    ids = server.push_many([tg.text(ann, "The printer is jammed"), tg.text(ann, "Still jammed")])
    result = fetch(desk)
    assert result.outcome == "done", result.line
    assert "new 2" in result.line
    [ticket] = tickets(desk)
    assert ticket.channel == "telegram" and ticket.subject == "The printer is jammed"
    assert [m.text for m in inbound(desk)] == ["The printer is jammed", "Still jammed"]
    assert stored_update_ids(desk) == set(ids)
    assert server.pending() == 0  # the pass's last poll confirmed them
    offsets = [p.get("offset") for m, p in server.calls if m == "getUpdates"]
    assert max(int(o) for o in offsets if o is not None) == max(ids) + 1


def test_every_media_kind_is_readable_and_files_are_attachments(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1)
    server.push_many(
        [
            tg.photo(ann, caption="the screen", sizes=3),
            tg.document(ann, file_name="report.pdf", caption="the report"),
            tg.voice(ann, duration=65),
            tg.audio(ann, title="Call recording", duration=95),
            tg.video(ann, caption="how it fails", duration=12),
            tg.video_note(ann, duration=9),
            tg.sticker(ann, emoji="👍"),
            tg.location(ann, latitude=55.7558, longitude=37.6173),
            tg.venue(ann, title="Central office", address="Tverskaya st. 1"),
        ]
    )
    assert fetch(desk).outcome == "done"
    got = inbound(desk)
    texts = [m.text for m in got]
    assert texts[0] == "the screen"
    assert texts[1] == "the report"
    assert texts[2] == "[voice message 1:05]"
    assert texts[3].startswith("[audio ") and "Call recording" in texts[3] and "1:35" in texts[3]
    assert texts[4] == "how it fails\n[video 0:12]"
    assert texts[5] == "[video note 0:09]"
    assert texts[6] == "[sticker 👍]"
    assert texts[7] == "[location 55.755800, 37.617300]"
    assert texts[8].startswith("[venue Central office, Tverskaya st. 1 (55.757500")
    # The largest photo size, the document under its own name, the other media as files.
    photo = attachments(desk, got[0].id)
    assert [a.content_type for a in photo] == ["image/jpeg"] and photo[0].size == 42_000
    assert [a.filename for a in attachments(desk, got[1].id)] == ["report.pdf"]
    for m in got[2:6]:
        assert len(attachments(desk, m.id)) == 1, m.text
    for m in got[6:]:
        assert attachments(desk, m.id) == [], m.text
    data = desk.store.blobs.get(photo[0].sha256)
    assert data is not None and data.startswith(b"\xff\xd8\xff")


def test_a_reply_threads_onto_the_ticket_of_the_message_it_answers(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1)
    first = tg.text(ann, "VPN is down")
    server.push(first)
    fetch(desk)
    # A second request of the same chat through /new: the chat's newest open ticket is now
    # another one, so only the reply's reference can lead back to the first.
    question = tg.bot_message(ann.id, "What is your request about?")
    server.push_many(
        [
            tg.command(ann, "/new"),
            tg.callback(ann, "sdesk:cat:0", message=question),
            tg.text(ann, "New laptop please"),
            tg.callback(ann, "sdesk:send", message=question),
        ]
    )
    fetch(desk)
    one, two = tickets(desk)
    assert two.subject == "Question: New laptop please"
    server.push(tg.reply(ann, first, "VPN is down again"))
    fetch(desk)
    [reply] = [m for m in inbound(desk) if m.text == "VPN is down again"]
    assert reply.ticket_id == one.id
    assert reply.in_reply_to == f"tg:{ann.id}:{first['message']['message_id']}"
    server.push(tg.text(ann, "and the laptop?"))
    fetch(desk)
    [plain] = [m for m in inbound(desk) if m.text == "and the laptop?"]
    assert plain.ticket_id == two.id  # no reference: the chat's newest open ticket


def test_an_edit_changes_the_stored_message_and_keeps_its_history(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1)
    first = tg.text(ann, "The printer on floor 3 is jammed")
    server.push_many([first, tg.edited(first, "The printer on floor 2 is jammed")])
    fetch(desk)
    [message] = inbound(desk)
    assert message.text == "The printer on floor 2 is jammed"
    assert "before: The printer on floor 3 is jammed" in message.notes
    assert len(stored_update_ids(desk)) == 2


def test_an_edit_in_a_batch_that_defers_indexing_is_stored_at_once_and_searchable(
    desk: Desk, server: BotApiServer, tg: Updates, caplog: pytest.LogCaptureFixture
) -> None:
    # A batch of DEFER_FTS_FROM or more updates indexes its messages once at the end; an edit
    # of a message from the same batch used to ask the index to delete text it never had
    # ("database disk image is malformed"), and the batch fell back to update by update.
    caplog.set_level(logging.WARNING)
    people = [tg.customer(n) for n in range(1, 6)]
    texts = [tg.text(people[n % 5], f"ordinary question number {n}") for n in range(DEFER_FTS_FROM)]
    target = tg.text(people[0], "the quokka printer is jammed")
    ids = server.push_many([*texts, target, tg.edited(target, "the zanzibar printer is jammed")])
    result = fetch(desk)
    assert result.outcome == "done", result.line
    assert f"new {len(ids)}" in result.line and "quarantined 0" in result.line
    assert not [r for r in caplog.records if "update by update" in r.getMessage()]
    [edited] = [m for m in inbound(desk) if "printer" in m.text]
    assert edited.text == "the zanzibar printer is jammed"
    assert "before: the quokka printer is jammed" in edited.notes
    assert stored_update_ids(desk) == set(ids)
    with desk.store.read() as session:
        assert [r.id for r in search(session, "zanzibar").rows] == [edited.ticket_id]
        assert search(session, "quokka").rows == ()
        # FTS5's own check: every indexed term matches the message table.
        session.connection().exec_driver_sql(
            "INSERT INTO message_fts(message_fts) VALUES ('integrity-check')"
        )


def test_an_album_in_a_batch_that_defers_indexing_is_stored_at_once(
    desk: Desk, server: BotApiServer, tg: Updates, caplog: pytest.LogCaptureFixture
) -> None:
    # The album's later photos add notes ("file ... arriving…") to its message, stored
    # earlier in the same batch and not indexed yet: the update must leave the index alone.
    caplog.set_level(logging.WARNING)
    ann = tg.customer(1)
    texts = [tg.text(ann, f"ordinary question number {n}") for n in range(DEFER_FTS_FROM)]
    ids = server.push_many([*texts, *tg.album(ann, photos=3, caption="the broken walrus")])
    result = fetch(desk)
    assert f"new {len(ids)}" in result.line and "late files 3" in result.line, result.line
    assert not [r for r in caplog.records if "update by update" in r.getMessage()]
    [album] = [m for m in inbound(desk) if m.text == "the broken walrus"]
    assert len(attachments(desk, album.id)) == 3
    with desk.store.read() as session:
        assert [r.id for r in search(session, "walrus").rows] == [album.ticket_id]
        session.connection().exec_driver_sql(
            "INSERT INTO message_fts(message_fts) VALUES ('integrity-check')"
        )


def test_an_album_is_one_message_with_every_photo_within_and_across_batches(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1)
    album = tg.album(ann, photos=3, caption="Photos of the problem")
    server.push_many(album)
    bob = tg.customer(2)
    later = tg.album(bob, photos=2, caption="two more")
    server.push(later[0])
    fetch(desk)
    server.push(later[1])  # the album's second photo comes in the next batch
    fetch(desk)
    got = inbound(desk)
    assert [m.text for m in got] == ["Photos of the problem", "two more"]
    assert len(attachments(desk, got[0].id)) == 3
    assert len(attachments(desk, got[1].id)) == 2


def test_a_shared_own_phone_joins_the_customer_and_someone_elses_does_not(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1)
    server.push_many(
        [
            tg.text(ann, "hello"),
            tg.contact(ann, "+14155550123", own=True),
            tg.contact(ann, "+14155550999", own=False, first_name="Boss"),
        ]
    )
    fetch(desk)
    with desk.store.read() as s:
        contacts = {(c.kind, c.value) for c in s.execute(select(Contact)).scalars()}
    assert ("phone", "+14155550123") in contacts
    assert ("telegram", str(ann.id)) in contacts
    assert ("phone", "+14155550999") not in contacts
    texts = [m.text for m in inbound(desk)]
    assert texts[1] == f"[contact {ann.first_name} {ann.last_name} 14155550123]"


def test_group_chats_are_ignored_unless_accepted(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1)
    ids = server.push_many([tg.group_text(ann, tg.group(), "hi all"), tg.text(ann, "hi bot")])
    result = fetch(desk)
    assert "ignored 1" in result.line
    assert [m.text for m in inbound(desk)] == ["hi bot"]
    assert stored_update_ids(desk) == set(ids)  # taken (and confirmed), not lost or redone


def test_a_malformed_update_is_quarantined_raw_and_the_rest_flows(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1)
    ids = server.push_many([tg.text(ann, "before"), tg.malformed(), tg.text(ann, "after")])
    result = fetch(desk)
    assert "quarantined 1" in result.line
    assert [m.text for m in inbound(desk)] == ["before", "after"]
    with desk.store.read() as s:
        [raw] = list(s.execute(select(RawInbound)).scalars())
        assert raw.state == "quarantined" and raw.channel == "telegram"
        assert b"not a number" in raw.original(desk.store.blobs.get)
    assert stored_update_ids(desk) == set(ids)
    fetch(desk)
    assert len(inbound(desk)) == 2  # a second pass takes nothing twice


def test_a_failed_download_never_holds_the_queue_and_is_fetched_later(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1)
    server.fail("getFile", status=500, description="Internal Server Error", times=1)
    server.push_many([tg.document(ann, file_name="scan.pdf", caption="scan"), tg.text(ann, "ok")])
    assert fetch(desk).outcome == "done"  # stores both; the download fails and waits
    got = inbound(desk)
    assert [m.text for m in got] == ["scan", "ok"]
    assert "file scan.pdf arriving…" in got[0].notes
    assert attachments(desk, got[0].id) == []
    with desk.store.read() as s:
        [row] = list(s.execute(select(TelegramFile)).scalars())
    assert (
        row.state == "pending"
        and row.attempts == 1
        and "Internal Server Error" in (row.last_error or "")
    )
    assert fetch(desk).outcome == "done"  # not due yet: the backoff holds it
    assert attachments(desk, got[0].id) == []
    later = desk.clock() + FILE_RETRY[0]
    desk.clock = lambda: later
    assert "late files 1" in fetch(desk).line
    [message] = [m for m in inbound(desk) if m.id == got[0].id]
    assert [a.filename for a in attachments(desk, message.id)] == ["scan.pdf"]
    assert "file scan.pdf fetched" in message.notes
    with desk.store.read() as s:
        [row] = list(s.execute(select(TelegramFile)).scalars())
    assert row.state == "done"


def test_a_file_over_the_limit_is_named_not_fetched(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    assert desk.settings.telegram is not None
    limit = desk.settings.telegram.max_file_mb * 1024 * 1024
    ann = tg.customer(1)
    big = tg.document(ann, file_name="huge.bin", mime_type="application/octet-stream", size=10)
    big["message"]["document"]["file_size"] = limit + 1
    server.push(big)
    fetch(desk)
    [m] = inbound(desk)
    assert attachments(desk, m.id) == []
    assert "file huge.bin not fetched" in m.notes and "over the limit" in m.notes
    assert not [c for c, _ in server.calls if c == "getFile"]


def test_a_poll_that_times_out_fails_the_pass_and_the_next_takes_everything_once(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    assert desk.settings.telegram is not None
    desk.settings.telegram.timeout_seconds = 1
    ids = server.push_many([tg.text(tg.customer(1), f"m{n}") for n in range(3)])
    server.delay("getUpdates", 3)
    failed = fetch(desk)
    assert failed.outcome == "failed" and "Timed out" in failed.line, failed.line
    assert inbound(desk) == []
    assert fetch(desk).outcome == "done"
    assert [m.text for m in inbound(desk)] == ["m0", "m1", "m2"]
    assert stored_update_ids(desk) == set(ids)
