"""Files on tickets: upload (multipart) as a message with files, download by content hash.

A download is found through the caller's scope (the ticket must be theirs, a note's file is for
agents only), is served as an attachment with an ASCII-safe filename and ``nosniff``, and as
its stored type only when that type cannot run in a browser.
"""

import hashlib
import re
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from sdesk.api.v1 import reads
from sdesk.api.v1.deps import (
    Context,
    IdempotencyKey,
    agent_only,
    caller_dependency,
    once,
    request_digest,
)
from sdesk.api.v1.errors import ERROR_RESPONSES, ApiError
from sdesk.api.v1.schemas import ApiChannel, MessageCreated
from sdesk.api.v1.views import Views, file_in
from sdesk.core.filenames import safe_filename
from sdesk.core.tokens import Principal, TokenKind

# Types a browser shows but never runs; anything else downloads as opaque bytes.
INLINE_SAFE = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}
)
MAX_FILES = 10
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266): no quote, CR, LF
    or path can get through."""
    name = safe_filename(filename, "attachment.bin")
    ascii_name = "".join(_ascii(c) for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _ascii(c: str) -> str:
    return c if c.isascii() and c.isprintable() and c not in '"\\;' else "_"


def router(ctx: Context) -> APIRouter:
    routes = APIRouter(tags=["attachments"], responses=ERROR_RESPONSES)
    Caller = Annotated[Principal, Depends(caller_dependency(ctx))]
    desk = ctx.desk
    views = Views(ctx)
    cap = int(desk.settings.http.api_max_upload_mb * 1024 * 1024) if desk.settings.http else None

    @routes.post("/tickets/{number}/attachments", status_code=201, response_model=MessageCreated)
    def upload(
        number: int,
        who: Caller,
        files: Annotated[list[UploadFile], File(description="One to ten files.")],
        text: Annotated[str, Form(max_length=100_000)] = "",
        channel: Annotated[ApiChannel, Form()] = "api",
        key: IdempotencyKey = None,
    ) -> Response:
        """Add files to the ticket as a message (the customer's, or an agent's reply)."""
        if not files or len(files) > MAX_FILES:
            raise ApiError(422, f"files: send 1 to {MAX_FILES} files")
        loaded = [(f.filename or "", f.content_type or "", f.file.read()) for f in files]
        total = sum(len(data) for _, _, data in loaded)
        if cap is not None and total > cap:
            raise ApiError(413, "the files are larger than this desk takes")
        digest = request_digest(
            "POST",
            f"/tickets/{number}/attachments",
            [text, channel, [(n, t, hashlib.sha256(d).hexdigest()) for n, t, d in loaded]],
        )

        def act() -> tuple[int, MessageCreated]:
            scope = views.visible(who, number)
            if who.kind is not TokenKind.AGENT:
                attached = tuple(file_in(n, *f) for n, f in enumerate(loaded, 1))
                message = text or "(files attached)"
                return 201, views.customer_message(who, scope, message, channel, attached, key)
            login = agent_only(who)
            # Desk.reply copies files from paths into the blob store (core/attachments.py).
            with tempfile.TemporaryDirectory(prefix="sdesk-upload-") as tmp:
                paths = []
                for n, (name, _, data) in enumerate(loaded, 1):
                    folder = Path(tmp) / str(n)
                    folder.mkdir()
                    path = folder / safe_filename(name, f"attachment-{n}.bin")
                    path.write_bytes(data)
                    paths.append(path)
                result = desk.reply(scope.number, login, text or "(files attached)", files=paths)
            return 201, views.created(who, scope.number, result.message_id)

        return once(ctx, who, key, digest, act)

    @routes.get(
        "/tickets/{number}/attachments/{sha256}",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}, "description": "The file."}},
    )
    def download(number: int, sha256: str, who: Caller) -> Response:
        """One file of the ticket, by the sha256 its message lists."""
        if not _SHA256.match(sha256):
            raise ApiError(404, "no such file on this ticket")
        scope = views.visible(who, number)
        with desk.store.read() as session:
            found = reads.attachment(
                session, scope.id, sha256, public=who.kind is not TokenKind.AGENT
            )
        if found is None or not found.stored:
            raise ApiError(404, "no such file on this ticket")
        try:
            data = desk.store.blobs.path(sha256).read_bytes()
        except OSError:
            raise ApiError(404, "the file's content is missing from the desk") from None
        kind = found.content_type
        if kind not in INLINE_SAFE:
            kind = "application/octet-stream"
        return Response(
            data,
            media_type=kind,
            headers={
                "Content-Disposition": content_disposition(found.filename),
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )

    return routes
