"""An MMS's files, fetched from Twilio into the message's attachments.

Twilio's webhook names each file by URL (``MediaUrl0``...); the file itself is a REST resource
of the account (HTTP basic auth with the account SID and token, and a redirect to the storage
that holds it). It is fetched while the webhook is answered, so each file gets a short timeout
and a size cap (``[telephony] max_media_mb``; Twilio's own MMS limit is 5 MB): a file that cannot
be fetched or is too big stays a link in the message's notes with the reason, and the text is
stored all the same (ARCHITECTURE.md, rule 3: never drop).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

import requests

from sdesk.channels.twilio.client import rebase
from sdesk.config import TelephonySettings
from sdesk.core.filenames import safe_filename
from sdesk.core.health import one_line
from sdesk.core.inbound import InboundAttachment

TIMEOUT = 8.0  # seconds a file may take: Twilio waits 15 s for the webhook's answer
CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Fetched:
    """One MMS file: its attachment, or why it stayed a link (``note``)."""

    attachment: InboundAttachment | None
    note: str | None = None


def fetch_media(
    settings: TelephonySettings, token: str, url: str, content_type: str, index: int
) -> Fetched:
    limit = int(settings.max_media_mb * 1024 * 1024)
    where = rebase(url, settings.api_base_url) if settings.api_base_url else url
    kind = content_type or "a file"
    if not where.startswith(("https://", "http://")):
        return Fetched(None, f"MMS {kind}: {url} (not fetched: not an http(s) URL)")
    try:
        with requests.get(
            where,
            auth=(settings.account_sid or "", token),
            timeout=TIMEOUT,
            stream=True,
            allow_redirects=True,
        ) as answer:
            if answer.status_code != 200:
                reason = f"Twilio answered {answer.status_code}"
                return Fetched(None, f"MMS {kind}: {url} (not fetched: {reason})")
            declared = int(answer.headers.get("Content-Length") or 0)
            if declared > limit:
                return Fetched(None, f"MMS {kind}: {url} (not fetched: {_mb(declared)} MB)")
            data = bytearray()
            for chunk in answer.iter_content(CHUNK):
                data += chunk
                if len(data) > limit:
                    return Fetched(None, f"MMS {kind}: {url} (not fetched: over {_mb(limit)} MB)")
            kind = answer.headers.get("Content-Type", "").split(";")[0].strip() or kind
    except (requests.RequestException, ValueError) as exc:
        reason = one_line(f"{type(exc).__name__}: {exc}")
        return Fetched(None, f"MMS {kind}: {url} (not fetched: {reason})")
    extension = mimetypes.guess_extension(kind) or ".bin"
    name = safe_filename(f"mms-{index + 1}{extension}", f"mms-{index + 1}.bin")
    return Fetched(InboundAttachment(filename=name, content_type=kind, data=bytes(data)))


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}"
