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

EMAIL_SUFFIXES = {".eml", ".msg.eml", ".email"}
MBOX_SUFFIXES = {".mbox", ".mbx"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
MAX_JSON_LINE = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Item:
    """One message's worth of input. ``kind`` says how to read ``raw``/``record``."""

    kind: Literal["email", "json", "error"]
    source: str  # "file", "file:line" or "file#n": where an operator finds it again
    raw: bytes = b""
    record: Any = None
    error: str = ""
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
    if _is_maildir(root):
        for sub in ("cur", "new"):
            for entry in sorted((root / sub).iterdir()):
                if entry.is_file() and not entry.name.startswith("."):
                    yield from _iter_file(entry, max_message_bytes, explicit=True)
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue  # Maildir++ subfolders are .Name; walk them but not tmp or hidden files
        if entry.is_dir() and entry.name not in ("cur", "new", "tmp"):
            yield from _iter_dir(entry, max_message_bytes)
        elif entry.is_file() and not _is_maildir(root):
            yield from _iter_file(entry, max_message_bytes, explicit=False)
    for entry in sorted(root.glob(".*")):
        if entry.is_dir() and _is_maildir(entry):
            yield from _iter_dir(entry, max_message_bytes)


def _sniff(path: Path) -> str | None:
    name = path.name.lower()
    if any(name.endswith(s) for s in EMAIL_SUFFIXES):
        return "eml"
    if any(name.endswith(s) for s in MBOX_SUFFIXES):
        return "mbox"
    if any(name.endswith(s) for s in JSONL_SUFFIXES):
        return "jsonl"
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return None
    if head.startswith(b"From "):
        return "mbox"
    if head.lstrip().startswith(b"{"):
        return "jsonl"
    return None


def _iter_file(path: Path, max_message_bytes: int, *, explicit: bool) -> Iterator[Item]:
    kind = _sniff(path)
    if kind is None:
        if not explicit:
            return  # a stray file in a folder (README, index) is not a message
        kind = "eml"
    try:
        if kind == "eml":
            size = path.stat().st_size
            with path.open("rb") as fh:
                raw = fh.read(max_message_bytes + 1)
            yield Item("email", str(path), raw=raw, consumed=size)
        elif kind == "mbox":
            with path.open("rb") as fh:
                yield from _iter_mbox(fh, str(path), max_message_bytes)
        else:
            with path.open("rb") as fh:
                yield from _iter_jsonl(fh, str(path))
    except OSError as exc:
        yield Item("error", str(path), error=f"cannot read: {exc.strerror or exc}")


def _iter_mbox(fh: BinaryIO, name: str, max_message_bytes: int) -> Iterator[Item]:
    """Split at From_ lines that follow a blank line, undoing mboxrd ``>From`` quoting.

    Memory stays bounded by one message (capped at ``max_message_bytes``).
    """
    lines: list[bytes] = []
    size = consumed = 0
    index = 0
    previous_blank = True

    def flush() -> Item | None:
        nonlocal index
        if not lines:
            return None
        index += 1
        body = b"".join(lines)
        # The blank line before the next From_ belongs to the separator, not the message.
        if body.endswith(b"\r\n"):
            body = body[:-2]
        elif body.endswith(b"\n"):
            body = body[:-1]
        return Item("email", f"{name}#{index}", raw=body, consumed=consumed)

    for line in fh:
        if line.startswith(b"From ") and previous_blank:
            item = flush()
            if item is not None:
                yield item
            lines, size, consumed = [], 0, len(line)
            previous_blank = False
            continue
        consumed += len(line)
        previous_blank = line in (b"\n", b"\r\n")
        if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
            line = line[1:]
        if size <= max_message_bytes:
            lines.append(line)
            size += len(line)
    item = flush()
    if item is not None:
        yield item


def _iter_jsonl(fh: BinaryIO, name: str) -> Iterator[Item]:
    for number, line in enumerate(fh, start=1):
        source = f"{name}:{number}"
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
