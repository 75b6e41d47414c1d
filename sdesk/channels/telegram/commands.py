"""The bot's commands: /start, /new (a guided request), /status, /cancel.

They run inside the batch's transaction (``store``), so an answer is queued in the outbox with
the update that asked for it, exactly once, and the /new dialogue's state (``telegram_dialogue``)
moves with it: a restart resumes the dialogue where the customer left it.

/new: a category from inline buttons (``[telegram] categories``), the description, optional
photos or files, then Send: one new ticket, its subject led by the category, the files fetched
into it (``files.FileFetcher``), acknowledged with its number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sdesk.config import TelegramSettings
from sdesk.core.chats import ChatBatch, PendingFile
from sdesk.core.enums import Channel, ContactKind
from sdesk.core.inbound import ContactRef, Inbound, Sender
from sdesk.core.ratings import RATE_PREFIX

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "choose": "What is your request about? Choose a category.",
        "describe": "{category}. Please describe your request in one message.",
        "files": "Thank you. Add a photo or a file if it helps, then press Send.",
        "file_added": "Added {name}. Add more, or press Send.",
        "send": "Send",
        "cancel": "Cancel",
        "cancelled": "The request was cancelled. Write any time.",
        "buttons": "Please use the buttons above, or /cancel.",
        "no_tickets": "You have no open requests.",
        "tickets": "Your open requests:",
        "expired": "That button is no longer active.",
        "rated": "Thank you! Your rating ({score}/5) is saved.",
        "unknown": "Unknown command. /new opens a request, /status lists yours.",
    },
    "ru": {
        "choose": "О чём ваша заявка? Выберите категорию.",
        "describe": "{category}. Опишите, пожалуйста, заявку одним сообщением.",
        "files": "Спасибо. Добавьте фото или файл, если нужно, и нажмите «Отправить».",
        "file_added": "Добавлено: {name}. Добавьте ещё или нажмите «Отправить».",
        "send": "Отправить",
        "cancel": "Отмена",
        "cancelled": "Заявка отменена. Пишите в любое время.",
        "buttons": "Пожалуйста, нажмите кнопку выше или /cancel.",
        "no_tickets": "У вас нет открытых заявок.",
        "tickets": "Ваши открытые заявки:",
        "expired": "Эта кнопка больше не действует.",
        "rated": "Спасибо! Ваша оценка ({score}/5) сохранена.",
        "unknown": "Неизвестная команда. /new — новая заявка, /status — ваши заявки.",
    },
}
STATUS_WORDS = {
    "ru": {"new": "новая", "open": "в работе", "pending": "ожидает", "resolved": "решена"},
}
CALLBACK = "sdesk"  # callback data: "sdesk:cat:<n>", "sdesk:send", "sdesk:cancel"


def text(key: str, language: str | None, **values: str) -> str:
    code = (language or "").split("-")[0].lower()
    table = TEXTS.get(code, TEXTS["en"])
    return table.get(key, TEXTS["en"][key]).format(**values)


@dataclass(frozen=True, slots=True)
class Context:
    """One update's facts the commands need."""

    batch: ChatBatch
    settings: TelegramSettings
    bot_id: int
    update_id: int
    chat_id: str
    user_id: int
    sender: Sender
    language: str | None
    reply_to: str | None  # the customer's message the answer replies to

    def say(
        self,
        words: str,
        *,
        buttons: list[list[dict[str, str]]] | None = None,
        ticket_id: int | None = None,
        n: int = 0,
    ) -> None:
        payload: dict[str, Any] = {"text": words, "in_reply_to": self.reply_to}
        if buttons:
            payload["buttons"] = buttons
        self.batch.queue_bot_message(
            channel=Channel.TELEGRAM,
            kind="bot",
            recipient=self.chat_id,
            payload=payload,
            key=f"telegram:{self.bot_id}:{self.update_id}:{n}",
            ticket_id=ticket_id,
        )

    @property
    def dialogue(self) -> dict[str, Any] | None:
        return self.batch.dialogue(self.bot_id, self.chat_id)

    def set_dialogue(self, state: dict[str, Any] | None) -> None:
        self.batch.set_dialogue(self.bot_id, self.chat_id, state)


def command_of(message_text: str | None, username: str | None) -> str | None:
    """ "/new", "/new@desk_bot" → "new"; a command for another bot (in a group) → None."""
    if not message_text or not message_text.startswith("/"):
        return None
    word = message_text.split(maxsplit=1)[0][1:]
    name, _, target = word.partition("@")
    if target and username and target.lower() != username.lower():
        return None
    return name.lower() or None


def run_command(ctx: Context, name: str) -> bool:
    """Answer a command; False when it is none of ours (then it is an ordinary message)."""
    if name == "start":
        ctx.set_dialogue(None)
        greeting = ctx.settings.text(ctx.settings.greeting, ctx.language)
        ctx.say(greeting.replace("{desk}", ctx.settings.desk_name))
    elif name == "new":
        ctx.set_dialogue({"step": "category"})
        ctx.say(text("choose", ctx.language), buttons=_category_buttons(ctx))
    elif name == "status":
        ctx.say(_status(ctx))
    elif name == "cancel":
        ctx.set_dialogue(None)
        ctx.say(text("cancelled", ctx.language))
    else:
        return False
    return True


def _category_buttons(ctx: Context) -> list[list[dict[str, str]]]:
    rows = [
        [{"text": name, "data": f"{CALLBACK}:cat:{n}"}]
        for n, name in enumerate(ctx.settings.categories)
    ]
    return [*rows, [{"text": text("cancel", ctx.language), "data": f"{CALLBACK}:cancel"}]]


def _send_buttons(ctx: Context) -> list[list[dict[str, str]]]:
    return [
        [
            {"text": text("send", ctx.language), "data": f"{CALLBACK}:send"},
            {"text": text("cancel", ctx.language), "data": f"{CALLBACK}:cancel"},
        ]
    ]


def _status(ctx: Context) -> str:
    me = ContactRef(ContactKind.TELEGRAM, str(ctx.user_id))
    tickets = ctx.batch.open_tickets(me)
    if not tickets:
        return text("no_tickets", ctx.language)
    words = STATUS_WORDS.get((ctx.language or "").split("-")[0].lower(), {})
    lines = [text("tickets", ctx.language)]
    for t in tickets:
        lines.append(f"#{t.number} · {words.get(t.status, t.status)} · {t.subject}")
    return "\n".join(lines)


def dialogue_message(ctx: Context, body: str, files: list[PendingFile]) -> bool:
    """A message while /new waits for something; True when the dialogue took it."""
    state = ctx.dialogue
    if state is None:
        return False
    step = state.get("step")
    if step == "category":
        ctx.say(text("buttons", ctx.language))
    elif step == "description":
        if not body.strip():
            ctx.say(text("describe", ctx.language, category=str(state.get("category", ""))))
            return True
        ctx.set_dialogue({**state, "step": "files", "description": body, "files": []})
        ctx.say(text("files", ctx.language), buttons=_send_buttons(ctx))
    elif step == "files":
        known = list(state.get("files", []))
        for f in files:
            known.append([f.file_id, f.filename, f.content_type, f.size])
        extra = [body] if body.strip() and not files else []
        description = "\n".join([str(state.get("description", "")), *extra])
        ctx.set_dialogue({**state, "files": known[:10], "description": description})
        names = ", ".join(f.filename for f in files) or body[:40]
        ctx.say(text("file_added", ctx.language, name=names), buttons=_send_buttons(ctx))
    else:
        ctx.set_dialogue(None)
        return False
    return True


def callback(ctx: Context, data: str) -> None:
    """A button of the dialogue was pressed."""
    if data.startswith(RATE_PREFIX):  # the satisfaction request's buttons (core/notify.py)
        parts = data[len(RATE_PREFIX) :].split(":")
        ok = len(parts) == 2 and all(p.isdigit() for p in parts)
        if ok and ctx.batch.rate_by_button(ctx.chat_id, int(parts[0]), int(parts[1])):
            ctx.say(text("rated", ctx.language, score=parts[1]))
        else:
            ctx.say(text("expired", ctx.language))
        return
    state = ctx.dialogue
    if not data.startswith(CALLBACK + ":") or state is None:
        ctx.say(text("expired", ctx.language))
        return
    what = data.split(":")[1:]
    if what == ["cancel"]:
        ctx.set_dialogue(None)
        ctx.say(text("cancelled", ctx.language))
    elif what[:1] == ["cat"] and state.get("step") == "category":
        n = int(what[1]) if len(what) > 1 and what[1].isdigit() else -1
        if not 0 <= n < len(ctx.settings.categories):
            ctx.say(text("expired", ctx.language))
            return
        category = ctx.settings.categories[n]
        ctx.set_dialogue({"step": "description", "category": category})
        ctx.say(text("describe", ctx.language, category=category))
    elif what == ["send"] and state.get("step") == "files":
        ctx.set_dialogue(None)
        open_ticket(ctx, state)
    else:
        ctx.say(text("expired", ctx.language))


def open_ticket(ctx: Context, state: dict[str, Any]) -> None:
    """The dialogue's request as a new ticket (never joined to the chat's open one)."""
    category = str(state.get("category", ""))
    description = str(state.get("description", "")).strip()
    first = next((ln.strip() for ln in description.splitlines() if ln.strip()), "")
    subject = f"{category}: {first}" if first else category
    if len(subject) > 100:
        subject = subject[:99] + "…"
    inbound = Inbound(
        channel=Channel.TELEGRAM,
        sender=ctx.sender,
        text=description,
        subject=subject,
        external_id=f"{ctx.bot_id}:{ctx.update_id}",
        chat_id=ctx.chat_id,
        source=f"telegram:{ctx.bot_id}",
        meta={"category": category},
        new_ticket=True,
        notes=(f"opened with /new, category {category}",),
    )
    result = ctx.batch.intake(inbound)
    if result.message_id is not None:
        for file_id, name, content_type, size in state.get("files", []):
            pending = PendingFile(str(file_id), str(name), str(content_type), size)
            ctx.batch.pending_file(ctx.bot_id, result.message_id, pending)
    acknowledge(ctx, result.ticket_number, n=1)


def acknowledge(ctx: Context, number: int | None, *, n: int = 1) -> None:
    """A new ticket's number, when ``[telegram] acknowledge`` is on."""
    if number is None or not ctx.settings.acknowledge:
        return
    words = ctx.settings.text(ctx.settings.acknowledgement, ctx.language)
    ctx.say(words.replace("{ticket}", str(number)), ticket_id=ctx.batch.ticket_id(number), n=n)
