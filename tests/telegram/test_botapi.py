"""The local Bot API server (tests/telegram/botapi.py) proven with the real python-telegram-bot
``Bot``: the channel's exactly-once tests are only as good as these semantics."""

from __future__ import annotations

import asyncio
import http.client
import http.server
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyParameters,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from tests.telegram.botapi import BotApiServer
from tests.telegram.updates import HOSTILE_FILE_NAMES, HOSTILE_TEXTS, Updates, realistic_mix

CHAT = 700_000_042


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer() as running:
        yield running


def make_bot(server: BotApiServer, token: str | None = None) -> Bot:
    return Bot(
        token or server.token,
        base_url=server.root_url + "/bot",
        base_file_url=server.root_url + "/file/bot",
    )


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    async with make_bot(server) as client:  # initialize() calls getMe
        yield client


async def wait_for_poll(server: BotApiServer, polls: int) -> None:
    """Until the server has received ``polls`` getUpdates calls (the last one now waiting)."""
    deadline = time.monotonic() + 5.0
    while len(server.calls_of("getUpdates")) < polls:
        assert time.monotonic() < deadline, "getUpdates never reached the server"
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # past the handler's first look at the queue, into the wait


# --- getMe and the token -------------------------------------------------------------------------


async def test_get_me_returns_the_bot_user(server: BotApiServer, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (server.bot_id, "sdesk_test_bot", True)
    assert bot.username == "sdesk_test_bot"


async def test_a_wrong_token_is_unauthorized(server: BotApiServer) -> None:
    with pytest.raises(InvalidToken):
        await make_bot(server, "987654321:WRONG-token").get_me()


# --- getUpdates: offsets and long polls ----------------------------------------------------------


async def test_an_update_stays_until_an_offset_above_it_is_asked(
    server: BotApiServer, bot: Bot
) -> None:
    tg = Updates(server)
    ann = tg.customer(1)
    ids = server.push_many([tg.text(ann, "one"), tg.text(ann, "two"), tg.text(ann, "three")])
    assert ids == [1, 2, 3]

    first = await bot.get_updates(timeout=0)
    again = await bot.get_updates(timeout=0)  # no offset: nothing was confirmed
    assert [u.update_id for u in first] == [u.update_id for u in again] == ids
    assert [u.message.text for u in first if u.message] == ["one", "two", "three"]

    rest = await bot.get_updates(offset=2, timeout=0)  # confirms update 1 only
    assert [u.update_id for u in rest] == [2, 3]
    assert server.pending() == 2

    assert await bot.get_updates(offset=4, timeout=0) == ()
    assert server.pending() == 0
    assert [p.get("offset") for p in server.calls_of("getUpdates")] == [None, None, 2, 4]


async def test_limit_takes_the_oldest_first(server: BotApiServer, bot: Bot) -> None:
    tg = Updates(server)
    server.push_many(tg.text(tg.customer(i % 7), f"m{i}") for i in range(150))
    page = await bot.get_updates(limit=100, timeout=0)
    assert [u.update_id for u in page] == list(range(1, 101))
    page = await bot.get_updates(offset=101, limit=100, timeout=0)
    assert [u.update_id for u in page] == list(range(101, 151))
    assert server.pending() == 50  # asked, not yet confirmed


async def test_a_negative_offset_keeps_only_the_last_updates(
    server: BotApiServer, bot: Bot
) -> None:
    tg = Updates(server)
    server.push_many(tg.text(tg.customer(1), f"m{i}") for i in range(5))
    assert [u.update_id for u in await bot.get_updates(offset=-2, timeout=0)] == [4, 5]
    assert server.pending() == 2


async def test_allowed_updates_filters_and_is_remembered(server: BotApiServer, bot: Bot) -> None:
    tg = Updates(server)
    ann = tg.customer(1)
    question = tg.bot_message(ann.id, "Category?", buttons=[("Network", "cat:network")])
    server.push_many([tg.text(ann, "hi"), tg.callback(ann, "cat:network", message=question)])
    only = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in only if u.callback_query] == ["cat:network"]
    assert len(await bot.get_updates(timeout=0)) == 1  # the setting sticks, as on Telegram
    assert len(await bot.get_updates(timeout=0, allowed_updates=[])) == 2


async def test_a_long_poll_without_updates_returns_empty_after_its_timeout(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9


async def test_a_push_during_a_long_poll_returns_it_at_once(server: BotApiServer, bot: Bot) -> None:
    tg = Updates(server)
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await wait_for_poll(server, 1)
    assert not poll.done()
    uid = server.push(tg.text(tg.customer(1), "wake up"))
    updates = await asyncio.wait_for(poll, 10)  # far below the 30 s poll: it came back early
    assert [u.update_id for u in updates] == [uid]


async def test_a_second_poll_ends_the_waiting_one_with_conflict(
    server: BotApiServer, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await wait_for_poll(server, 1)
    async with make_bot(server) as second:  # another instance of the bot (PTB allows one poll)
        assert await second.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 10)


async def test_stopping_the_server_ends_a_waiting_poll(server: BotApiServer, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await wait_for_poll(server, 1)
    await asyncio.to_thread(server.stop)
    result = await asyncio.wait_for(asyncio.gather(poll, return_exceptions=True), 10)
    assert result[0] == () or isinstance(result[0], NetworkError)


# --- errors: 429, 403, 5xx, timeouts, 409 --------------------------------------------------------


async def test_429_surfaces_as_retry_after_and_sends_nothing(
    server: BotApiServer, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB 22's coming type for retry_after
    server.fail("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "hello")
    assert caught.value.retry_after == timedelta(seconds=3)
    assert server.sent == []
    await bot.send_message(CHAT, "hello")  # one failure was asked for, the next call goes
    assert [s.params["text"] for s in server.sent] == ["hello"]


async def test_a_blocked_chat_is_forbidden_and_others_still_get_messages(
    server: BotApiServer, bot: Bot
) -> None:
    server.block(CHAT)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "are you there?")
    with pytest.raises(Forbidden):
        await bot.send_document(CHAT, document=InputFile(b"x", filename="x.txt"))
    await bot.send_message(CHAT + 1, "hi")
    assert [s.params["chat_id"] for s in server.sent] == [CHAT + 1]


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_surfaces_as_network_error_and_confirms_nothing(
    server: BotApiServer, bot: Bot, status: int
) -> None:
    tg = Updates(server)
    ids = server.push_many([tg.text(tg.customer(1), "a"), tg.text(tg.customer(1), "b")])
    server.fail("getUpdates", status=status, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError) as caught:
            await bot.get_updates(offset=ids[1], timeout=0)
        assert not isinstance(caught.value, TimedOut)
    assert server.pending() == 2  # the failed calls confirmed nothing
    assert [u.update_id for u in await bot.get_updates(offset=ids[1], timeout=0)] == ids[1:]


async def test_a_reply_slower_than_the_read_timeout_is_timed_out_yet_delivered(
    server: BotApiServer, bot: Bot
) -> None:
    server.delay("getMe", 2.0)
    with pytest.raises(TimedOut):
        await bot.get_me(read_timeout=0.3)
    server.delay("sendMessage", 1.5)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "maybe", read_timeout=0.3)
    # Telegram may deliver a send the client gave up on: an outbox must expect it.
    assert [s.params["text"] for s in server.wait_sent(1, timeout=10)] == ["maybe"]


async def test_wait_sent_says_what_was_sent_when_it_gives_up(
    server: BotApiServer, bot: Bot
) -> None:
    await bot.send_message(CHAT, "only one")
    with pytest.raises(TimeoutError, match=r"1 of 2 messages sent .*sendMessage\(700000042\)"):
        server.wait_sent(2, timeout=0.2)


# --- sending -------------------------------------------------------------------------------------


async def test_send_message_is_recorded_and_answered_with_a_message(
    server: BotApiServer, bot: Bot
) -> None:
    text = "Hello,\nyour ticket #1042 is open. [bold]not markup[/] *nor this*"
    message = await bot.send_message(
        CHAT, text, reply_parameters=ReplyParameters(message_id=17), disable_notification=True
    )
    again = await bot.send_message(CHAT, "second")
    assert (message.chat.id, message.text, message.from_user and message.from_user.is_bot) == (
        CHAT,
        text,
        True,
    )
    assert message.reply_to_message is not None and message.reply_to_message.message_id == 17
    assert again.message_id == message.message_id + 1
    sent = server.wait_sent(2)
    assert [s.method for s in sent] == ["sendMessage", "sendMessage"]
    assert sent[0].params["chat_id"] == CHAT and sent[0].params["text"] == text
    assert sent[0].params["reply_parameters"] == {"message_id": 17}
    assert sent[0].params["disable_notification"] is True
    assert "parse_mode" not in sent[0].params


async def test_an_inline_keyboard_comes_back_for_a_callback(server: BotApiServer, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Printer", callback_data="cat:1")]])
    await bot.send_message(CHAT, "Category?", reply_markup=keyboard)
    (sent,) = server.wait_sent(1)
    assert sent.params["reply_markup"] == keyboard.to_dict()
    tg = Updates(server)
    server.push(tg.callback(tg.customer(42), "cat:1", message=sent.answer))
    (update,) = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None and query.data == "cat:1" and query.message is not None
    assert query.message.message_id == sent.answer["message_id"]
    assert await bot.answer_callback_query(query.id)
    assert server.calls_of("answerCallbackQuery") == [{"callback_query_id": query.id}]


async def test_a_text_that_looks_like_json_stays_text(server: BotApiServer, bot: Bot) -> None:
    for text in ("123", "true", '{"a": 1}', "null"):
        message = await bot.send_message(CHAT, text)
        assert message.text == text
    assert [s.params["text"] for s in server.sent] == ["123", "true", '{"a": 1}', "null"]


async def test_message_limits_are_enforced_as_telegram_does(bot: Bot) -> None:
    await bot.send_message(CHAT, "x" * 4096)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)text is empty"):
        await bot.send_message(CHAT, " ")


async def test_uploads_are_recorded_with_their_bytes_and_downloadable(
    server: BotApiServer, bot: Bot
) -> None:
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
    pdf = b"%PDF-1.7\n" + b"\x00\x01binary\r\n" * 500
    sent_photo = await bot.send_photo(CHAT, photo=photo, caption="the broken part")
    sent_doc = await bot.send_document(
        CHAT, document=InputFile(pdf, filename="../../x.pdf"), caption="invoice"
    )
    first, second = server.wait_sent(2)
    assert (first.method, first.files, first.params["caption"]) == (
        "sendPhoto",
        {"photo": photo},
        "the broken part",
    )
    assert (second.method, second.files["document"], second.filenames["document"]) == (
        "sendDocument",
        pdf,
        "../../x.pdf",
    )
    assert sent_doc.document is not None and sent_doc.document.file_name == "x.pdf"
    for file_id, data in ((sent_photo.photo[-1].file_id, photo), (sent_doc.document.file_id, pdf)):
        got = await (await bot.get_file(file_id)).download_as_bytearray()
        assert bytes(got) == data


async def test_send_by_file_id_needs_a_known_file(server: BotApiServer, bot: Bot) -> None:
    file_id = server.add_file(b"%PDF-1.7 report", file_path="documents/report.pdf")
    message = await bot.send_document(CHAT, document=file_id)
    assert message.document is not None and message.document.file_id == file_id
    assert server.sent[0].params["document"] == file_id and server.sent[0].files == {}
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_photo(CHAT, photo="AgACAgIAAxkBAAnope")


# --- files ---------------------------------------------------------------------------------------


async def test_get_file_and_download(server: BotApiServer, bot: Bot) -> None:
    data = bytes(range(256)) * 1000
    file_id = server.add_file(data, file_path="documents/file_1.pdf")
    other = server.add_file(b"other", file_path="documents/file_1.pdf")  # same path asked
    tg_file = await bot.get_file(file_id)
    assert tg_file.file_size == len(data)
    assert tg_file.file_unique_id == server.file_unique_id(file_id)
    assert tg_file.file_path == f"{server.root_url}/file/bot{server.token}/documents/file_1.pdf"
    assert bytes(await tg_file.download_as_bytearray()) == data
    assert bytes(await (await bot.get_file(other)).download_as_bytearray()) == b"other"
    assert server.downloads[0] == "documents/file_1.pdf"
    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_the_bookkeeping_the_benchmark_reads(server: BotApiServer, bot: Bot) -> None:
    tg = Updates(server)
    server.push_many([tg.document(tg.customer(1), size=1000), tg.text(tg.customer(2), "x")])
    assert server.file_stats() == (1, 1000)
    (first, _) = await bot.get_updates(timeout=0)
    assert first.message is not None and first.message.document is not None
    await (await bot.get_file(first.message.document.file_id)).download_as_bytearray()
    assert (len(server.downloads), server.downloaded_bytes(), server.downloaded_bytes(1)) == (
        1,
        1000,
        0,
    )
    assert server.drop_pending() == 2
    assert server.pending() == 0 and await bot.get_updates(timeout=0) == ()


async def test_a_file_over_20_mb_cannot_be_fetched(server: BotApiServer, bot: Bot) -> None:
    file_id = server.add_file(b"\0" * (20 * 1024 * 1024 + 1), file_path="videos/big.mp4")
    with pytest.raises(BadRequest, match="(?i)file is too big"):
        await bot.get_file(file_id)


# --- webhooks ------------------------------------------------------------------------------------


async def test_webhook_set_info_delete_and_the_conflict_with_polling(
    server: BotApiServer, bot: Bot
) -> None:
    tg = Updates(server)
    server.push_many([tg.text(tg.customer(1), "a"), tg.text(tg.customer(2), "b")])
    assert await bot.set_webhook("https://desk.example/tg/hook", secret_token="s3cret-Token_1")
    assert (server.webhook_url, server.webhook_secret) == (
        "https://desk.example/tg/hook",
        "s3cret-Token_1",
    )
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("https://desk.example/tg/hook", 2)
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)

    assert await bot.delete_webhook()  # keeps pending updates by default
    assert (server.webhook_url, server.webhook_secret) == ("", None)
    assert len(await bot.get_updates(timeout=0)) == 2

    await bot.set_webhook("https://desk.example/tg/hook")
    assert await bot.delete_webhook(drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 0)
    assert await bot.get_updates(timeout=0) == ()


class Endpoint:
    """A webhook receiver on 127.0.0.1 that answers ``status`` and records what it got."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.got: list[tuple[str | None, dict[str, Any]]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append(
                    (self.headers.get("X-Telegram-Bot-Api-Secret-Token"), json.loads(body))
                )
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/tg"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


async def test_webhook_delivery_confirms_only_what_the_endpoint_took(
    server: BotApiServer, bot: Bot
) -> None:
    tg = Updates(server)
    ids = server.push_many([tg.text(tg.customer(1), "a"), tg.text(tg.customer(2), "b")])
    await bot.set_webhook("https://desk.example/tg", secret_token="s3cret")
    endpoint = Endpoint(status=500)
    try:
        assert await asyncio.to_thread(server.deliver_webhook, url=endpoint.url) == []
        assert server.pending() == 2  # refused: Telegram keeps it and retries
        endpoint.status = 200
        assert await asyncio.to_thread(server.deliver_webhook, url=endpoint.url) == ids
    finally:
        endpoint.close()
    assert server.pending() == 0
    assert [(secret, update["update_id"]) for secret, update in endpoint.got] == [
        ("s3cret", ids[0]),
        ("s3cret", ids[0]),
        ("s3cret", ids[1]),
    ]


async def test_a_webhook_needs_https(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)HTTPS URL must be provided"):
        await bot.set_webhook("http://desk.example/hook")


# --- the updates builders ------------------------------------------------------------------------


async def test_every_builder_parses_in_ptb_and_its_files_download(
    server: BotApiServer, bot: Bot
) -> None:
    tg = Updates(server)
    ann, group = tg.customer(5), tg.group()
    first = tg.text(ann, "My printer is broken")
    question = tg.bot_message(ann.id, "Category?", buttons=[("Printer", "cat:printer")])
    built = [
        first,
        tg.command(ann, "/start"),
        tg.command(ann, "/new"),
        tg.command(ann, "status"),
        tg.reply(ann, first, "any news?"),
        tg.edited(first, "My printer on floor 2 is broken"),
        tg.photo(ann, caption="paper jam", sizes=4),
        tg.document(ann, file_name="invoice.pdf"),
        tg.voice(ann),
        tg.audio(ann),
        tg.video(ann, caption="noise"),
        tg.video_note(ann),
        tg.sticker(ann),
        tg.location(ann),
        tg.venue(ann),
        tg.contact(ann, "+79161234567"),
        tg.contact(ann, "+4915112345678", own=False, first_name="Bob"),
        *tg.album(ann, photos=2, documents=1, caption="scans"),
        tg.group_text(ann, group, "hello group"),
        tg.callback(ann, "cat:printer", message=question),
    ]
    server.push_many(built)
    got = await bot.get_updates(limit=100, timeout=0)
    assert len(got) == len(built)
    msgs = [u.effective_message for u in got]
    assert all(m is not None for m in msgs)
    by_kind: dict[str, Any] = {}
    for update in got:
        message = update.message or update.edited_message
        if message is None:
            continue
        for kind in ("photo", "document", "voice", "audio", "video", "video_note", "sticker"):
            if getattr(message, kind):
                by_kind.setdefault(kind, getattr(message, kind))
    assert set(by_kind) == {
        "photo",
        "document",
        "voice",
        "audio",
        "video",
        "video_note",
        "sticker",
    }
    assert [p.width for p in by_kind["photo"]] == [90, 320, 800, 1280]  # smallest first
    for kind, media in by_kind.items():
        item = media[-1] if kind == "photo" else media
        data = bytes(await (await bot.get_file(item.file_id)).download_as_bytearray())
        assert len(data) == item.file_size > 0, kind

    original, reply, edit = got[0].message, got[4].message, got[5].edited_message
    assert original is not None and reply is not None and reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == original.message_id
    assert edit is not None and edit.message_id == original.message_id
    assert edit.edit_date is not None and edit.text == "My printer on floor 2 is broken"
    assert got[1].message is not None and got[1].message.text == "/start"
    assert got[1].message.entities[0].type == "bot_command"
    own, foreign = got[15].message, got[16].message
    assert own is not None and own.contact is not None and own.contact.user_id == ann.id
    assert foreign is not None and foreign.contact is not None and foreign.contact.user_id is None
    venue = got[14].message
    assert venue is not None and venue.venue is not None and venue.location is not None
    album = [u.message for u in got[17:20]]
    assert len({m.media_group_id for m in album if m is not None}) == 1
    assert [m.caption for m in album if m is not None] == ["scans", None, None]
    in_group = got[20].message
    assert in_group is not None and in_group.chat.type == "supergroup" and in_group.chat.id < 0
    callback = got[21].callback_query
    assert callback is not None and callback.data == "cat:printer"
    assert callback.message is not None and callback.message.message_id == question["message_id"]


async def test_hostile_texts_and_names_travel_unchanged(server: BotApiServer, bot: Bot) -> None:
    tg = Updates(server)
    ann = tg.customer(9)
    server.push_many(tg.text(ann, text) for text in HOSTILE_TEXTS)
    server.push_many(tg.document(ann, file_name=name, size=10) for name in HOSTILE_FILE_NAMES)
    got = await bot.get_updates(limit=100, timeout=0)
    texts = [u.message.text for u in got if u.message and u.message.text is not None]
    names = [u.message.document.file_name for u in got if u.message and u.message.document]
    assert texts == list(HOSTILE_TEXTS)
    assert names == list(HOSTILE_FILE_NAMES)
    assert max(len(t) for t in texts) == 4096


def test_the_benchmark_mix_has_its_shares() -> None:
    mix = realistic_mix(Updates(seed=3), 2000, customers=200)
    kinds = {"edited_message": 0, "photo": 0, "document": 0, "text": 0}
    for update in mix:
        message = update.get("message", {})
        key = next((k for k in ("photo", "document", "text") if k in message), None)
        if "edited_message" in update:
            kinds["edited_message"] += 1
        elif key:
            kinds[key] += 1
    assert len(mix) == 2000
    assert 0.6 < kinds["text"] / 2000 < 0.8
    assert 0.07 < kinds["photo"] / 2000 < 0.14
    assert 0.05 < kinds["document"] / 2000 < 0.11
    assert 0.03 < kinds["edited_message"] / 2000 < 0.1
    assert len({(u.get("message") or u["edited_message"])["chat"]["id"] for u in mix}) > 150


# --- raw HTTP: the encodings PTB does not use ----------------------------------------------------


def post(url: str, body: bytes | None, content_type: str | None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_json_form_and_query_bodies_and_error_shapes(server: BotApiServer) -> None:
    api = f"{server.root_url}/bot{server.token}"
    status, answer = post(
        f"{api}/sendMessage",
        json.dumps({"chat_id": CHAT, "text": "json"}).encode(),
        "application/json",
    )
    assert (status, answer["ok"], answer["result"]["text"]) == (200, True, "json")
    status, answer = post(
        f"{api}/sendMessage",
        b"chat_id=42&text=%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82",
        "application/x-www-form-urlencoded",
    )
    assert (status, answer["result"]["chat"]["id"], answer["result"]["text"]) == (200, 42, "привет")
    status, answer = post(f"{api}/getUpdates?offset=5&timeout=0", None, None)
    assert (status, answer) == (200, {"ok": True, "result": []})
    assert server.calls_of("getUpdates") == [{"offset": 5, "timeout": 0}]

    status, answer = post(f"{server.root_url}/bot1:bad/getMe", None, None)
    assert (status, answer) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    status, answer = post(f"{api}/noSuchMethod", b"{}", "application/json")
    assert (status, answer["ok"], answer["error_code"]) == (404, False, 404)
    server.fail("getMe", status=429, retry_after=7)
    status, answer = post(f"{api}/getMe", None, None)
    assert (status, answer) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )


def test_a_chunked_body_is_read_whole(server: BotApiServer) -> None:
    port = int(server.root_url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        chunks = iter([b'{"chat_id": 7, ', b'"text": "in two chunks"}'])
        conn.request(
            "POST",
            f"/bot{server.token}/sendMessage",
            body=chunks,
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        answer = conn.getresponse()
        assert (answer.status, json.loads(answer.read())["result"]["text"]) == (
            200,
            "in two chunks",
        )
    finally:
        conn.close()
