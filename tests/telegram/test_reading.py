"""``reading.read_raw`` (the common updates read straight from their JSON) gives exactly what
PTB's ``Update.de_json`` gives through ``reading.from_ptb``, and leaves to ``de_json`` every
shape it does not vouch for."""

from __future__ import annotations

import copy
import json
from typing import Any

from telegram import Update

from sdesk.channels.telegram.intake import parse_message
from sdesk.channels.telegram.reading import Read, from_ptb, read_raw
from tests.telegram.updates import HOSTILE_TEXTS, Updates, realistic_mix


def _ptb(raw: dict[str, Any]) -> Read:
    return from_ptb(Update.de_json(raw, None), raw)


def _same(raw: dict[str, Any]) -> bool:
    """Whether the fast reader takes ``raw``; when it does, it must read it as PTB does, down
    to the ``Inbound`` and the files."""
    fast = read_raw(raw)
    if fast is None:
        return False
    slow = _ptb(raw)
    assert fast == slow, raw
    if fast.message is not None:
        data = raw.get("message") or raw.get("edited_message")
        assert fast.message is not None and slow.message is not None and data is not None
        mine = parse_message(fast.message, data, 1, raw["update_id"], "RU")
        theirs = parse_message(slow.message, data, 1, raw["update_id"], "RU")
        assert mine == theirs, raw
    return True


def test_every_update_of_the_realistic_mix_reads_as_ptb_reads_it(tg: Updates) -> None:
    mix = realistic_mix(tg, 600, customers=60)
    # As it comes from the wire (the mix shares nested dicts between updates).
    raws = [json.loads(json.dumps({"update_id": n, **u})) for n, u in enumerate(mix)]
    taken = sum(_same(raw) for raw in raws)
    assert taken == len(raws)  # every kind the mix has is a common one


def test_each_builder_either_reads_as_ptb_or_is_left_to_it(tg: Updates) -> None:
    ann = tg.customer(1)
    first = tg.text(ann, "first")
    group = tg.group()
    builders = [
        first,
        tg.text(ann, "a reply", reply_to=first),
        tg.command(ann, "/status"),
        tg.edited(first, "first, edited"),
        tg.photo(ann, caption="the screen", sizes=4),
        *tg.album(ann, photos=2, documents=1),
        tg.document(ann, file_name="../../x", caption="a file"),
        tg.voice(ann, duration=65),
        tg.sticker(ann, emoji="👍"),
        tg.contact(ann, "+79161234567"),
        tg.contact(ann, "+79160000000", own=False, first_name="Boris"),
        tg.group_text(ann, group, "in a group"),
        *(tg.text(ann, text) for text in HOSTILE_TEXTS),
    ]
    for n, update in enumerate(builders):
        assert _same(json.loads(json.dumps({"update_id": n, **update}))), update
    # The rarer kinds go to de_json, and read the same way from there.
    for update in (
        tg.audio(ann),
        tg.video(ann, caption="how it fails"),
        tg.video_note(ann),
        tg.location(ann),
        tg.venue(ann),
        tg.callback(ann, "sdesk:send", message=tg.bot_message(ann.id, "Send?")),
    ):
        raw = {"update_id": 99, **update}
        assert read_raw(raw) is None
        assert _ptb(raw).kind in ("message", "callback_query")


def test_an_unexpected_field_or_type_is_left_to_de_json(tg: Updates) -> None:
    ann = tg.customer(1)
    plain = {"update_id": 1, **tg.text(ann, "hello")}
    assert read_raw(plain) is not None

    def changed(path: tuple[str, ...], value: Any) -> dict[str, Any]:
        raw = copy.deepcopy(plain)
        where = raw
        for key in path[:-1]:
            where = where[key]
        where[path[-1]] = value
        return raw

    for odd in (
        changed(("message", "date"), "yesterday"),
        changed(("message", "message_id"), "1"),
        changed(("message", "text"), {"nested": True}),
        changed(("message", "from", "is_bot"), "no"),
        changed(("message", "chat"), None),
        changed(("message", "entities"), [{"type": "bold"}]),
        changed(("message", "poll"), {"id": "1"}),
        changed(("message", "photo"), [{"file_id": "x"}]),
        changed(("edited_message",), {}),
        {"update_id": 2, **tg.malformed()},
    ):
        assert read_raw(odd) is None, odd
