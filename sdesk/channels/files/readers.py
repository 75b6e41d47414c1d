"""Walk the paths an admin names and yield one item per message, streaming, in stable order.

Nothing here parses a message: readers only cut files into raw messages or JSON records, so a
broken message costs itself and never the file around it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from sdesk.channels.files.mbox import BOM, CHUNK, is_separator_start, iter_mbox, looks_like_headers

EMAIL_SUFFIXES = {".eml", ".msg.eml", ".email"}
MBOX_SUFFIXES = {".mbox", ".mbx"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
MAX_JSON_LINE = 64 * 1024 * 1024
_HINTS = (
    ("eml", tuple(EMAIL_SUFFIXES)),
    ("mbox", tuple(MBOX_SUFFIXES)),
    ("jsonl", tuple(JSONL_SUFFIXES)),
)
HEAD_BYTES = 16384  # what a file is judged on
NOT_A_MESSAGE = "not a mail, mbox or JSON Lines file"


@dataclass(frozen=True, slots=True)
class Item:
    """One message's worth of input. ``kind`` says how to read ``raw``/``record``."""

    kind: Literal["email", "json", "error", "skipped"]
    source: str  # "file", "file:line" or "file#n": where an operator finds it again
    raw: bytes = b""
    record: Any = None
    error: str = ""  # why it failed or was skipped
    consumed: int = 0  # bytes of input this item used, for progress


def total_bytes(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        if path.is_dir():
            for root, _dirs, files in os.walk(path):
                total += sum(_size(Path(root) / f) for f in files)
        else:
            total += _size(path)
    return total


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def iter_items(paths: list[Path], *, max_message_bytes: int) -> Iterator[Item]:
    for path in paths:
        if not path.exists():
            yield Item("error", str(path), error="no such file or folder")
        elif path.is_dir():
            yield from _iter_dir(path, max_message_bytes)
        else:
            yield from _iter_file(path, max_message_bytes, explicit=True)


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _iter_dir(root: Path, max_message_bytes: int) -> Iterator[Item]:
    """Every file under ``root``, except hidden ones and a Maildir's own machinery (its ``tmp``,
    deliveries in progress, and the index files beside ``cur``/``new``), which are not reported.
    A folder that cannot be listed is a failure of its own; the walk goes on."""
    try:
        yield from _walk(root, max_message_bytes)
    except OSError as exc:
        yield Item("error", str(root), error=f"cannot read the folder: {exc.strerror or exc}")


def _walk(root: Path, max_message_bytes: int) -> Iterator[Item]:
    maildir = _is_maildir(root)
    if maildir:
        for sub in ("cur", "new"):
            for entry in sorted((root / sub).iterdir()):
                if entry.is_file() and not entry.name.startswith("."):
                    yield from _iter_file(entry, max_message_bytes, explicit=True)
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue  # Maildir++ subfolders are .Name; walk them but not tmp or hidden files
        if entry.is_dir():
            if not (maildir and entry.name in ("cur", "new", "tmp")):
                yield from _iter_dir(entry, max_message_bytes)
        elif maildir:
            continue
        elif entry.is_file():
            yield from _iter_file(entry, max_message_bytes, explicit=False)
        else:
            yield Item("skipped", str(entry), error="not a file (a broken link, a pipe, a device)")
    for entry in sorted(root.glob(".*")):
        if entry.is_dir() and _is_maildir(entry):
            yield from _iter_dir(entry, max_message_bytes)


def sniff(path: Path) -> str | None:
    """The kind, "eml", "mbox" or "jsonl", or None when neither the content nor the name says."""
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return None
    return sniff_head(head, path.name, complete=len(head) < HEAD_BYTES)


def sniff_head(head: bytes, name: str, *, complete: bool) -> str | None:
    """What the first bytes of a file say it is; the name is a hint that content overrides.

    mbox: a first line ``From `` that follows the From_ grammar or is followed by headers; JSON
    Lines: the first non-blank line is a JSON object; a mail: an RFC 5322 header block. A UTF-8
    BOM is ignored. ``complete``: ``head`` is the whole file.
    """
    head = head.removeprefix(BOM)
    text = head.lstrip(b"\r\n")
    if text.startswith(b"From "):
        eol = text.find(b"\n")
        if eol >= 0 or complete:
            line = text if eol < 0 else text[:eol]
            if is_separator_start(line, text, len(line) + 1, complete=complete):
                return "mbox"
    first = text.lstrip()
    if first.startswith(b"{"):
        eol = first.find(b"\n")
        if eol < 0 and not complete:
            return "jsonl"  # a first line longer than the head: its brace is all we see
        try:
            if isinstance(json.loads(first if eol < 0 else first[:eol]), dict):
                return "jsonl"
        except ValueError:
            pass
    if looks_like_headers(head, 0, complete=complete):
        return "eml"
    lower = name.lower()
    for kind, suffixes in _HINTS:
        if lower.endswith(suffixes):
            return kind
    return None


def _iter_file(path: Path, max_message_bytes: int, *, explicit: bool) -> Iterator[Item]:
    """One file. A file named on the command line is read as a mail when nothing says otherwise
    (the parser quarantines it if it is not one); in a folder it is skipped, and named."""
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
            kind = sniff_head(head, path.name, complete=len(head) < HEAD_BYTES)
            if kind is None and not explicit:
                size = _size(path)
                reason = "empty file" if not head else NOT_A_MESSAGE
                yield Item("skipped", str(path), error=reason, consumed=size)
                return
            if kind not in ("mbox", "jsonl"):
                if len(head) >= HEAD_BYTES:  # a small mail is read once
                    head += fh.read(max_message_bytes + 1 + len(BOM) - len(head))
                raw = head.removeprefix(BOM)[: max_message_bytes + 1]
                yield Item("email", str(path), raw=raw, consumed=_size(path))
                return
            fh.seek(0)
            if kind == "mbox":
                yield from _iter_mbox(fh, str(path), max_message_bytes)
            else:
                yield from _iter_jsonl(fh, str(path))
    except OSError as exc:
        yield Item("error", str(path), error=f"cannot read: {exc.strerror or exc}")


def _iter_mbox(
    fh: BinaryIO, name: str, max_message_bytes: int, chunk: int = CHUNK
) -> Iterator[Item]:
    for index, (raw, consumed) in enumerate(iter_mbox(fh, max_message_bytes, chunk), start=1):
        yield Item("email", f"{name}#{index}", raw=raw, consumed=consumed)


def _iter_jsonl(fh: BinaryIO, name: str) -> Iterator[Item]:
    for number, line in enumerate(fh, start=1):
        source = f"{name}:{number}"
        if number == 1:
            line = line.removeprefix(BOM)
        if not line.strip():
            continue
        if len(line) > MAX_JSON_LINE:
            yield Item("error", source, error="line longer than 64 MiB", consumed=len(line))
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield Item("error", source, error=f"not JSON: {exc}", consumed=len(line))
            continue
        yield Item("json", source, record=record, consumed=len(line))
