"""A local Telegram Bot API server for tests and ``bench/telegram.py``.

The real python-telegram-bot ``Bot`` talks to it over HTTP on 127.0.0.1, so the channel is
tested through the same client code, timeouts and error mapping it meets in production:

    with BotApiServer() as server:
        server.push(updates.text(customer, "hello"))
        bot = Bot(server.token, base_url=server.root_url + "/bot",
                  base_file_url=server.root_url + "/file/bot")

What is real (exactly-once in the channel relies on it, docs/ARCHITECTURE.md "Telegram"):

- ``getUpdates(offset, limit, timeout, allowed_updates)``: updates with ``update_id >= offset``,
  oldest first, at most ``limit`` (1-100); asking with an ``offset`` confirms (forgets) every
  update below it, a negative offset keeps only the last ``-offset``; without updates the call
  waits up to ``timeout`` seconds and returns as soon as one is pushed. A second ``getUpdates``
  while one waits ends the first with 409 ("terminated by other getUpdates request"), as
  Telegram does; while a webhook is set ``getUpdates`` answers 409.
- Answers are Bot API JSON, ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code":
  ..., "description": ..., "parameters": {"retry_after": n}}``, with the HTTP status of the
  error code, so PTB raises ``RetryAfter``, ``Forbidden``, ``InvalidToken``, ``Conflict``,
  ``BadRequest`` or ``NetworkError`` exactly as against Telegram.
- Request bodies as PTB sends them (form fields whose values are JSON, multipart/form-data for
  uploads) and as JSON, form-encoded or a query string.
- ``getFile`` + ``GET /file/bot<token>/<file_path>``; files over 20 MB → 400 "file is too big".
- Webhooks: ``setWebhook`` (HTTPS only), ``getWebhookInfo``, ``deleteWebhook``; and
  ``deliver_webhook()`` POSTs pending updates with the secret header as Telegram does,
  confirming only those the endpoint answered 2xx.

Injected faults are consumed in order per method: ``fail`` answers an error before the call
does anything (a failed ``getUpdates`` confirms nothing), ``delay`` holds the answer and then
performs the call, so a send that the client gave up on (``TimedOut``) may still have been
delivered, as with Telegram. Every wait is bounded and ``stop()`` ends them all.
"""

from __future__ import annotations

import base64
import contextlib
import email.parser
import email.policy
import hashlib
import itertools
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import PurePosixPath
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_TOKEN = "123456789:TEST-token-abcdefghijklmnopqrstuvwxyz"
MAX_LIMIT = 100
MAX_POLL_TIMEOUT_S = 50.0  # Telegram's own cap on a long poll; every wait here is bounded
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files (Bot API limit)
# Update kinds Telegram leaves out when allowed_updates is empty or never given.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Values PTB sends as plain strings (not JSON-encoded): kept as text even when they look like a
# number, so a customer's "123" stays "123".
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "file_id",
        "photo",
        "document",
        "audio",
        "voice",
        "video",
        "sticker",
        "animation",
        "video_note",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "ip_address",
        "action",
        "title",
        "first_name",
        "last_name",
        "phone_number",
        "address",
        "language_code",
    }
)
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendAudio",
        "sendVoice",
        "sendVideo",
        "sendVideoNote",
        "sendAnimation",
        "sendSticker",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
    }
)
FILE_PARAMS = ("photo", "document", "audio", "voice", "video", "video_note", "animation", "sticker")
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
BLOCKED = "Forbidden: bot was blocked by the user"


@dataclass(frozen=True)
class Sent:
    """One message the bot sent (``send*`` methods): its parameters, the uploaded files' bytes
    and names by field, and the Message the server answered (``answer``: what a
    ``callback_query`` on its buttons carries)."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    filenames: dict[str, str] = field(default_factory=dict)
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


class ApiError(Exception):
    """An error answer: its code is the HTTP status too, as with Telegram."""

    def __init__(self, code: int, description: str = "", *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description or DEFAULT_DESCRIPTIONS.get(code, "Error")
        if code == 429 and not description:
            self.description = f"Too Many Requests: retry after {retry_after or 1}"
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            payload["parameters"] = {"retry_after": self.retry_after}
        return payload


@dataclass
class _Fault:
    status: int = 0
    description: str = ""
    retry_after: int | None = None
    delay: float = 0.0


class BotApiServer:
    """The Bot API on 127.0.0.1 at a free port; see the module docstring for what is real."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, username: str = "sdesk_test_bot") -> None:
        self.token = token
        self.bot_id = int(token.split(":")[0])
        self.username = username
        self.root_url = ""
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.downloads: list[str] = []  # file paths fetched from /file/bot<token>/...
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_allowed_updates: list[str] = []
        self.allowed_updates: list[str] = []  # sticky, like Telegram's
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._queue: deque[dict[str, Any]] = deque()
        self._next_update_id = 1
        self._last_update_id = 0
        self._poll_generation = 0
        self._faults: dict[str, deque[_Fault]] = {}
        self._blocked: set[int] = set()
        self._files: dict[str, StoredFile] = {}
        self._paths: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._connections: set[socket.socket] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life ----------------------------------------------------------------------------------

    def start(self) -> BotApiServer:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        httpd.daemon_threads = True
        httpd.block_on_close = False  # a waiting long poll must not hold up stop()
        self._httpd = httpd
        self.root_url = f"http://127.0.0.1:{httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        with self._changed:
            self._changed.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self._lock:  # kept-alive connections end too: the client sees a server gone
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- updates -------------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        """Queue one update (``update_id`` assigned when missing) and wake a waiting poll."""
        return self.push_many([update])[0]

    def push_many(self, updates: Iterable[dict[str, Any]]) -> list[int]:
        ids: list[int] = []
        with self._changed:
            for update in updates:
                if "update_id" not in update:
                    update = {"update_id": self._next_update_id, **update}
                uid = int(update["update_id"])
                if uid <= self._last_update_id:
                    raise ValueError(
                        f"update_id {uid} is not above the last one ({self._last_update_id})"
                    )
                self._last_update_id = uid
                self._next_update_id = uid + 1
                self._queue.append(update)
                ids.append(uid)
            self._changed.notify_all()
        return ids

    def deliver_webhook(self, *, url: str | None = None, timeout: float = 5.0) -> list[int]:
        """POST the pending updates one by one, oldest first, to the webhook (or ``url``: a
        plain-HTTP test endpoint, as setWebhook itself insists on HTTPS) with the
        ``X-Telegram-Bot-Api-Secret-Token`` header when a secret is set, as Telegram does. An
        update answered 2xx is confirmed; the first other answer or error stops the round (it
        stays pending, as Telegram retries it later). Returns the delivered update_ids."""
        target = url or self.webhook_url
        if not target:
            raise ValueError("no webhook is set and no url was given")
        delivered: list[int] = []
        while True:
            with self._lock:
                if not self._queue:
                    return delivered
                update = self._queue[0]
                secret = self.webhook_secret
            request = urllib.request.Request(
                target, data=json.dumps(update).encode(), method="POST"
            )
            request.add_header("Content-Type", "application/json")
            if secret:
                request.add_header("X-Telegram-Bot-Api-Secret-Token", secret)
            try:
                with urllib.request.urlopen(request, timeout=timeout) as answer:
                    ok = 200 <= answer.status < 300
            except (urllib.error.URLError, OSError):
                ok = False
            if not ok:
                return delivered
            with self._changed:
                if self._queue and self._queue[0] is update:
                    self._queue.popleft()
            delivered.append(int(update["update_id"]))

    def drop_pending(self) -> int:
        """Forget every update not yet confirmed (as ``deleteWebhook(drop_pending_updates)``);
        returns how many there were."""
        with self._changed:
            dropped = len(self._queue)
            self._queue.clear()
            return dropped

    def pending(self) -> int:
        """Updates not yet confirmed by an offset above them."""
        with self._lock:
            return len(self._queue)

    # --- files and faults ----------------------------------------------------------------------

    def add_file(self, data: bytes, *, file_path: str = "documents/file_1.pdf") -> str:
        """Store a downloadable file; returns its file_id (``file_unique_id(file_id)`` gives the
        unique id). A path already taken gets a numbered variant, so files never overwrite."""
        with self._lock:
            seq = next(self._file_seq)
            path = file_path
            if path in self._paths:
                p = PurePosixPath(file_path)
                path = str(p.with_name(f"{p.stem}_{seq}{p.suffix}"))
            digest = hashlib.sha256(f"{self.bot_id}:{seq}:{path}".encode()).digest()
            kind = _FILE_ID_PREFIX.get(path.split("/", 1)[0], "BQACAgIAAxkBAA")
            file_id = kind + base64.urlsafe_b64encode(digest[:30]).decode().rstrip("=")
            unique = "AgAD" + base64.urlsafe_b64encode(digest[-9:]).decode().rstrip("=")
            stored = StoredFile(file_id, unique, path, bytes(data))
            self._files[file_id] = stored
            self._paths[path] = stored
            return file_id

    def file_unique_id(self, file_id: str) -> str:
        with self._lock:
            return self._files[file_id].file_unique_id

    def file_path(self, file_id: str) -> str:
        with self._lock:
            return self._files[file_id].file_path

    def file_data(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id].data

    def file_stats(self) -> tuple[int, int]:
        """How many files the server holds and their bytes."""
        with self._lock:
            return len(self._files), sum(len(f.data) for f in self._files.values())

    def downloaded_bytes(self, since: int = 0) -> int:
        """Bytes served by the downloads from ``downloads[since]`` on."""
        with self._lock:
            paths = self.downloads[since:]
            return sum(len(self._paths[p].data) for p in paths if p in self._paths)

    def fail(
        self,
        method: str,
        *,
        status: int,
        description: str = "",
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """The next ``times`` calls of ``method`` answer this error before doing anything
        (after ``delay`` seconds: a call the client waits on, cut short by ``stop``)."""
        with self._lock:
            queue = self._faults.setdefault(method, deque())
            for _ in range(times):
                queue.append(_Fault(status, description, retry_after, delay))

    def delay(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` wait ``seconds`` before they are performed."""
        with self._lock:
            queue = self._faults.setdefault(method, deque())
            for _ in range(times):
                queue.append(_Fault(delay=seconds))

    def block(self, chat_id: int) -> None:
        """Sends to ``chat_id`` answer 403 "bot was blocked by the user" from now on."""
        with self._lock:
            self._blocked.add(int(chat_id))

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(int(chat_id))

    def wait_sent(self, n: int, timeout: float = 5.0) -> list[Sent]:
        """The first ``n`` sent messages, waiting up to ``timeout`` s; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.sent) < n:
                left = deadline - time.monotonic()
                if left <= 0 or self._closing.is_set():
                    raise TimeoutError(
                        f"{len(self.sent)} of {n} messages sent within {timeout} s: "
                        + ", ".join(f"{s.method}({s.params.get('chat_id')})" for s in self.sent)
                    )
                self._changed.wait(left)
            return list(self.sent[:n])

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.calls if name == method]

    # --- the API -------------------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "sdesk test bot",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def call(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes]],
    ) -> Any:
        """Perform one API call; returns the ``result`` or raises ``ApiError``."""
        with self._lock:
            self.calls.append((method, params))
            faults = self._faults.get(method)
            fault = faults.popleft() if faults else None
        if fault is not None:
            if fault.delay and self._closing.wait(fault.delay):
                raise ApiError(502, "Bad Gateway: the test server is stopping")
            if fault.status:
                raise ApiError(fault.status, fault.description, retry_after=fault.retry_after)
        handler = _METHODS.get(method)
        if handler is None:
            raise ApiError(404, f"Not Found: method {method} is not served by the test server")
        return handler(self, params, files)

    def _get_updates(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        offset = _int(params.get("offset"), 0)
        limit = min(max(_int(params.get("limit"), MAX_LIMIT), 1), MAX_LIMIT)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), MAX_POLL_TIMEOUT_S)
        allowed = params.get("allowed_updates")
        deadline = time.monotonic() + timeout
        with self._changed:
            if self.webhook_url:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if isinstance(allowed, list):
                self.allowed_updates = [str(a) for a in allowed]
            self._poll_generation += 1
            me = self._poll_generation
            self._changed.notify_all()  # an older waiting poll ends with 409
            self._confirm(offset)
            while True:
                result = self._deliverable(limit)
                if result or self._closing.is_set():
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._changed.wait(left)
                if self._poll_generation != me:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            while len(self._queue) > -offset:
                self._queue.popleft()
        elif offset:
            while self._queue and self._queue[0]["update_id"] < offset:
                self._queue.popleft()

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        wanted = set(self.allowed_updates)
        out: list[dict[str, Any]] = []
        for update in self._queue:
            kind = next((k for k in update if k != "update_id"), "")
            if (kind in wanted) if wanted else (kind not in OPT_IN_UPDATES):
                out.append(update)
                if len(out) == limit:
                    break
        return out

    def _get_me(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        return self.bot_user()

    def _set_webhook(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        url = str(params.get("url") or "")
        with self._changed:
            if url and not url.startswith("https://"):
                raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
            self.webhook_url = url
            secret = params.get("secret_token")
            self.webhook_secret = str(secret) if secret else None
            allowed = params.get("allowed_updates")
            self.webhook_allowed_updates = list(allowed) if isinstance(allowed, list) else []
            if _bool(params.get("drop_pending_updates")):
                self._queue.clear()
            self._changed.notify_all()
        return True

    def _delete_webhook(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        with self._changed:
            self.webhook_url = ""
            self.webhook_secret = None
            if _bool(params.get("drop_pending_updates")):
                self._queue.clear()
        return True

    def _webhook_info(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        with self._lock:
            info: dict[str, Any] = {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._queue),
            }
            if self.webhook_url:
                info["max_connections"] = 40
                info["ip_address"] = "127.0.0.1"
                if self.webhook_allowed_updates:
                    info["allowed_updates"] = list(self.webhook_allowed_updates)
            return info

    def _get_file(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        file_id = str(params.get("file_id") or "")
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def download(self, path: str) -> bytes | None:
        with self._lock:
            stored = self._paths.get(path)
            self.downloads.append(path)
        return None if stored is None else stored.data

    def _send(
        self, params: dict[str, Any], files: dict[str, tuple[str, bytes]], method: str
    ) -> Any:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if method == "sendMessage" and not str(params.get("text") or "").strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if method == "sendMessage" and len(str(params["text"])) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        if len(str(params.get("caption") or "")) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        with self._changed:
            if isinstance(chat_id, int) and chat_id in self._blocked:
                raise ApiError(403, BLOCKED)
            message = self._message(chat_id)
            for name in ("text", "caption"):
                if params.get(name):
                    message[name] = str(params[name])
            markup = params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            reply = params.get("reply_parameters")
            if isinstance(reply, dict) and reply.get("message_id"):
                message["reply_to_message"] = {
                    "message_id": int(reply["message_id"]),
                    "date": message["date"],
                    "chat": message["chat"],
                }
            for name in FILE_PARAMS:
                if name in files:
                    filename, data = files[name]
                    message.update(self._attached(name, filename, data))
                elif isinstance(params.get(name), str) and params[name] in self._files:
                    stored = self._files[params[name]]
                    message.update(
                        self._described(name, stored, PurePosixPath(stored.file_path).name)
                    )
                elif isinstance(params.get(name), str):
                    raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            self.sent.append(
                Sent(
                    method,
                    params,
                    {name: data for name, (_, data) in files.items()},
                    {name: filename for name, (filename, _) in files.items()},
                    message,
                )
            )
            self._changed.notify_all()
            return message

    def _message(self, chat_id: Any) -> dict[str, Any]:
        """A new outgoing Message in ``chat_id`` (a private chat for a positive id)."""
        key = chat_id if isinstance(chat_id, int) else hash(chat_id)
        counter = self._message_ids.setdefault(key, itertools.count(1_000_001))
        if isinstance(chat_id, int) and chat_id > 0:
            chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": "Customer"}
        elif isinstance(chat_id, int):
            chat = {"id": chat_id, "type": "supergroup", "title": "Group"}
        else:
            chat = {"id": -1001000000000 - abs(key) % 10**9, "type": "channel", "title": chat_id}
        return {
            "message_id": next(counter),
            "from": self.bot_user(),
            "chat": chat,
            "date": int(time.time()),
        }

    def _attached(self, kind: str, filename: str, data: bytes) -> dict[str, Any]:
        folder = {"photo": "photos", "document": "documents"}.get(kind, kind + "s")
        name = PurePosixPath(filename or "file").name or "file"
        file_id = self.add_file(data, file_path=f"{folder}/file_{next(self._file_seq)}_{name}")
        return self._described(kind, self._files[file_id], name)

    def _described(self, kind: str, stored: StoredFile, filename: str) -> dict[str, Any]:
        base = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if kind == "photo":
            return {"photo": [{**base, "width": 1280, "height": 960}]}
        if kind == "document":
            return {"document": {**base, "file_name": filename}}
        return {kind: {**base, "duration": 1} if kind in ("voice", "audio") else base}

    def _true(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        return True

    def _edit(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        if params.get("inline_message_id"):
            return True
        with self._lock:
            message = self._message(params.get("chat_id"))
        message["message_id"] = _int(params.get("message_id"), 0)
        message["edit_date"] = message["date"]
        if params.get("text"):
            message["text"] = str(params["text"])
        return message

    def _my_commands(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        with self._lock:
            latest = [p for name, p in self.calls if name == "setMyCommands"]
        return latest[-1].get("commands", []) if latest else []


def _sender(method: str) -> Callable[[BotApiServer, dict[str, Any], dict[str, Any]], Any]:
    return lambda server, params, files: server._send(params, files, method)


_METHODS: dict[str, Callable[[BotApiServer, dict[str, Any], dict[str, Any]], Any]] = {
    "getMe": BotApiServer._get_me,
    "getUpdates": BotApiServer._get_updates,
    "setWebhook": BotApiServer._set_webhook,
    "deleteWebhook": BotApiServer._delete_webhook,
    "getWebhookInfo": BotApiServer._webhook_info,
    "getFile": BotApiServer._get_file,
    "answerCallbackQuery": BotApiServer._true,
    "sendChatAction": BotApiServer._true,
    "setMyCommands": BotApiServer._true,
    "deleteMyCommands": BotApiServer._true,
    "getMyCommands": BotApiServer._my_commands,
    "deleteMessage": BotApiServer._true,
    "logOut": BotApiServer._true,
    "close": BotApiServer._true,
    "editMessageText": BotApiServer._edit,
    "editMessageReplyMarkup": BotApiServer._edit,
    **{name: _sender(name) for name in SEND_METHODS - {"sendMediaGroup"}},
}

_FILE_ID_PREFIX = {
    "photos": "AgACAgIAAxkBAA",
    "documents": "BQACAgIAAxkBAA",
    "voice": "AwACAgIAAxkBAA",
    "music": "CQACAgIAAxkBAA",
    "videos": "BAACAgIAAxkBAA",
    "video_notes": "DQACAgIAAxkBAA",
    "stickers": "CAACAgIAAxkBAA",
}


def _int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: wrong integer value {value!r}") from None


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _decode_value(name: str, value: str) -> Any:
    """A form value as PTB encodes it: JSON for everything but plain strings."""
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def parse_body(
    content_type: str, body: bytes, query: str
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """Parameters and uploaded files of one request, whatever its encoding."""
    params: dict[str, Any] = {k: _decode_value(k, v) for k, v in parse_qsl(query)}
    files: dict[str, tuple[str, bytes]] = {}
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params, files
    if kind == "application/json":
        decoded = json.loads(body)
        if not isinstance(decoded, dict):
            raise ApiError(400, "Bad Request: the JSON body must be an object")
        params.update(decoded)
    elif kind == "application/x-www-form-urlencoded":
        text = body.decode("utf-8")
        params.update({k: _decode_value(k, v) for k, v in parse_qsl(text, keep_blank_values=True)})
    elif kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                files[name] = (filename, data)
            else:
                charset = part.get_content_charset() or "utf-8"
                params[name] = _decode_value(name, data.decode(charset))
    return params, files


def _handler_for(server: BotApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects of Telegram
        # Headers and body leave in two writes: with Nagle's algorithm on, the body waits for
        # the client's delayed ACK of the headers (~40 ms on Linux) on every small answer.
        disable_nagle_algorithm = True
        server_version = "sdesk-test-botapi/1"

        def setup(self) -> None:
            super().setup()
            with server._lock:
                server._connections.add(self.connection)

        def finish(self) -> None:
            with server._lock:
                server._connections.discard(self.connection)
            with contextlib.suppress(OSError):
                super().finish()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the token is in every path."""

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            url = urlsplit(self.path)
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                body = self._chunked()
            else:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
            path = unquote(url.path)
            if path.startswith("/file/bot"):
                self._file(path.removeprefix("/file/bot"))
                return
            token, _, method = path.removeprefix("/bot").partition("/")
            if not path.startswith("/bot") or not method:
                self._json(404, ApiError(404).body())
                return
            if token != server.token:
                self._json(401, ApiError(401).body())
                return
            try:
                params, files = parse_body(self.headers.get("Content-Type") or "", body, url.query)
                result = server.call(method, params, files)
            except ApiError as exc:
                self._json(exc.code, exc.body())
            except ValueError as exc:
                self._json(400, ApiError(400, f"Bad Request: {exc}").body())
            else:
                self._json(200, {"ok": True, "result": result})

        def _chunked(self) -> bytes:
            """A chunked body (httpx streams an upload of unknown length so)."""
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()

        def _file(self, rest: str) -> None:
            token, _, file_path = rest.partition("/")
            data = server.download(file_path) if token == server.token else None
            if data is None:
                self._send(404, b"Not Found", "text/plain")
            else:
                self._send(200, data, "application/octet-stream")

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json")

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            with contextlib.suppress(OSError):  # the client gave up (a timeout test)
                self.send_response(status, HTTPStatus(status).phrase)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

    return Handler


@contextlib.contextmanager
def running(token: str = DEFAULT_TOKEN) -> Iterator[BotApiServer]:
    """``with running() as server:`` a started server, stopped afterwards."""
    server = BotApiServer(token)
    server.start()
    try:
        yield server
    finally:
        server.stop()
