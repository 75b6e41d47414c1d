"""The bot's side of the conversation and the operator's replies, through the outbox and the
real PTB ``Bot``: /start, /new (resumed after a restart), /status, the acknowledgement, replies
split on line boundaries and answering the customer's last message, attachments, and the
failures a Bot API answers with (429 retry_after, 403 blocked, 5xx)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from sdesk.channels.services import OutboxService
from sdesk.channels.telegram.sender import MAX_TEXT, split_text
from sdesk.core.desk import Desk
from sdesk.store.models import Outbox
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import attachments, fetch, inbound, messages, send, tickets
from tests.telegram.updates import Updates


def test_start_greets_in_the_users_language_as_plain_text_replying_to_them(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1, language_code="en")
    ivan = tg.customer(2, language_code="ru")
    start = tg.command(ann, "/start")
    server.push_many([start, tg.command(ivan, "/start")])
    fetch(desk)
    send(desk)
    one, two = server.wait_sent(2)
    assert one.method == "sendMessage" and one.params["chat_id"] == ann.id
    assert one.params["text"].startswith("Hello!")
    assert "parse_mode" not in one.params
    assert one.params["reply_parameters"]["message_id"] == start["message"]["message_id"]
    assert two.params["text"].startswith("Здравствуйте!")
    assert tickets(desk) == []  # a command is no request


def test_the_first_message_of_a_ticket_is_acknowledged_with_its_number(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1, language_code="en")
    server.push_many([tg.text(ann, "help"), tg.text(ann, "more detail")])
    fetch(desk)
    send(desk)
    [ack] = server.wait_sent(1)
    number = tickets(desk)[0].number
    assert f"#{number}" in ack.params["text"]
    send(desk)
    assert len(server.sent) == 1  # once, not per message or per pass


def test_new_is_a_guided_request_that_survives_a_restart(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1, language_code="en")
    server.push(tg.command(ann, "/new"))
    fetch(desk)
    send(desk)
    [choose] = server.wait_sent(1)
    keyboard = choose.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Question", "Problem", "Request", "Cancel"]
    pressed = keyboard[1][0]["callback_data"]
    server.push(tg.callback(ann, pressed, message=choose.answer))
    fetch(desk)  # each pass is a new TelegramService, as after a restart: the state is stored
    server.push(tg.text(ann, "The printer prints blank pages"))
    fetch(desk)
    server.push(tg.photo(ann, sizes=2))
    fetch(desk)
    send(desk)
    sent = server.wait_sent(4)
    assert sent[1].params["text"].startswith("Problem. Please describe")
    assert [c for c, _ in server.calls].count("answerCallbackQuery") == 1
    server.push(tg.callback(ann, "sdesk:send", message=sent[-1].answer))
    fetch(desk)
    send(desk)
    [ticket] = tickets(desk)
    assert ticket.subject == "Problem: The printer prints blank pages"
    [request] = inbound(desk)
    assert request.text == "The printer prints blank pages"
    assert [a.content_type for a in attachments(desk, request.id)] == ["image/jpeg"]
    ack = server.wait_sent(5)[-1]
    assert f"#{ticket.number}" in ack.params["text"]


def test_status_lists_the_customers_open_tickets(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1, language_code="en")
    server.push(tg.text(ann, "Printer jammed"))
    fetch(desk)
    send(desk)
    server.push(tg.command(ann, "/status"))
    fetch(desk)
    send(desk)
    status = server.wait_sent(2)[-1]
    number = tickets(desk)[0].number
    assert status.params["text"] == f"Your open requests:\n#{number} · new · Printer jammed"


def test_a_reply_is_split_on_line_boundaries_and_answers_the_last_message(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    desk.settings.telegram.acknowledge = False  # type: ignore[union-attr]
    ann = tg.customer(1)
    server.push(tg.text(ann, "first"))
    last = tg.text(ann, "second")
    server.push(last)
    fetch(desk)
    line = "x" * 99
    text = "\n".join([line] * 60)  # 5,999 characters: two parts, cut after a line
    number = tickets(desk)[0].number
    desk.reply(number, "eli", text)
    send(desk)
    one, two = server.wait_sent(2)
    assert len(one.params["text"]) <= MAX_TEXT and one.params["text"].endswith(line)
    assert one.params["text"] + "\n" + two.params["text"] == text
    assert one.params["reply_parameters"]["message_id"] == last["message"]["message_id"]
    assert "reply_parameters" not in two.params
    assert all("parse_mode" not in s.params for s in (one, two))
    # The customer answers our reply: it threads onto the ticket by its reference.
    [reply] = [m for m in messages(desk) if m.kind == "reply"]
    assert (
        reply.delivery_state == "sent"
        and reply.message_id == f"tg:{ann.id}:{two.answer['message_id']}"
    )


def test_split_text_keeps_every_character() -> None:
    long_line = "y" * (MAX_TEXT + 10)
    assert split_text(long_line) == ["y" * MAX_TEXT, "y" * 10]
    assert split_text("a\nb") == ["a\nb"]
    assert split_text("") == [""]


def test_attachments_go_as_photo_and_document(
    desk: Desk, server: BotApiServer, tg: Updates, tmp_path: Path
) -> None:
    desk.settings.telegram.acknowledge = False  # type: ignore[union-attr]
    ann = tg.customer(1)
    server.push(tg.text(ann, "send me the form"))
    fetch(desk)
    pic = tmp_path / "shot.png"
    pic.write_bytes(b"\x89PNG\r\n\x1a\n" + b"p" * 100)
    form = tmp_path / "form.pdf"
    form.write_bytes(b"%PDF-1.7\n" + b"d" * 200)
    desk.reply(tickets(desk)[0].number, "eli", "Here you are", files=[pic, form])
    send(desk)
    text, photo, document = server.wait_sent(3)
    assert text.params["text"] == "Here you are"
    assert photo.method == "sendPhoto" and photo.files["photo"] == pic.read_bytes()
    assert document.method == "sendDocument" and document.files["document"] == form.read_bytes()
    assert document.filenames["document"] == "form.pdf"


def test_retry_after_holds_that_row_and_the_others_go_on(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    desk.settings.telegram.acknowledge = False  # type: ignore[union-attr]
    ann, bob = tg.customer(1), tg.customer(2)
    server.push_many([tg.text(ann, "a"), tg.text(bob, "b")])
    fetch(desk)
    first, second = tickets(desk)
    desk.reply(first.number, "eli", "to ann")
    desk.reply(second.number, "eli", "to bob")
    server.fail("sendMessage", status=429, retry_after=30)
    before = desk.clock()
    send(desk)
    [sent] = server.wait_sent(1)
    assert sent.params["text"] == "to bob"
    with desk.store.read() as s:
        rows = {r.recipient: r for r in s.execute(select(Outbox)).scalars()}
    held = rows[str(ann.id)]
    assert held.state == "queued" and held.attempts == 0 and "429" in (held.last_error or "")
    wait = held.next_attempt_at.replace(tzinfo=before.tzinfo) - before
    assert timedelta(seconds=29) <= wait <= timedelta(seconds=40)


def test_a_blocked_user_fails_the_reply_for_good_with_the_reason(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    desk.settings.telegram.acknowledge = False  # type: ignore[union-attr]
    ann = tg.customer(1)
    server.push(tg.text(ann, "hi"))
    fetch(desk)
    server.block(ann.id)
    desk.reply(tickets(desk)[0].number, "eli", "hello?")
    result = send(desk)
    assert result is not None and "failed 1" in result.line
    [reply] = [m for m in messages(desk) if m.kind == "reply"]
    assert reply.delivery_state == "failed"
    assert "bot was blocked by the user" in (reply.delivery_error or "")


def test_a_server_error_is_retried_later(desk: Desk, server: BotApiServer, tg: Updates) -> None:
    desk.settings.telegram.acknowledge = False  # type: ignore[union-attr]
    ann = tg.customer(1)
    server.push(tg.text(ann, "hi"))
    fetch(desk)
    server.fail("sendMessage", status=502)
    desk.reply(tickets(desk)[0].number, "eli", "hello")
    result = send(desk)
    assert result is not None and "to retry 1" in result.line
    [reply] = [m for m in messages(desk) if m.kind == "reply"]
    assert reply.delivery_state == "queued" and "Bad Gateway" in (reply.delivery_error or "")


def test_a_retry_after_a_failure_midway_sends_only_what_is_missing(
    desk: Desk, server: BotApiServer, tg: Updates, tmp_path: Path
) -> None:
    desk.settings.telegram.acknowledge = False  # type: ignore[union-attr]
    ann = tg.customer(1)
    server.push(tg.text(ann, "the form please"))
    fetch(desk)
    form = tmp_path / "form.pdf"
    form.write_bytes(b"%PDF-1.7\n" + b"d" * 200)
    desk.reply(tickets(desk)[0].number, "eli", "Here it is", files=[form])
    server.fail("sendDocument", status=502)
    outbox = OutboxService(desk)  # one dispatcher, as in sdesk serve
    first = outbox.run_once()
    assert first is not None and "to retry 1" in first.line
    with desk.store.write() as s:  # the backoff's wait, skipped
        for row in s.execute(select(Outbox)).scalars():
            row.next_attempt_at = desk.clock() - timedelta(seconds=1)
    second = outbox.run_once()
    assert second is not None and "sent 1" in second.line
    assert [s.method for s in server.sent] == ["sendMessage", "sendDocument"]  # text once


def test_a_send_that_times_out_is_retried_later(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    assert desk.settings.telegram is not None
    desk.settings.telegram.acknowledge = False
    ann = tg.customer(1)
    server.push(tg.text(ann, "hi"))
    fetch(desk)
    desk.settings.telegram.timeout_seconds = 1
    server.delay("sendMessage", 2.5)
    desk.reply(tickets(desk)[0].number, "eli", "hello")
    result = send(desk)
    assert result is not None and "to retry 1" in result.line
    [reply] = [m for m in messages(desk) if m.kind == "reply"]
    assert reply.delivery_state == "queued" and "Timed out" in (reply.delivery_error or "")
