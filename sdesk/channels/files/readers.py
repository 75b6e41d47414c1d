"""Walk the paths an admin names and yield one item per message, streaming, in stable order.

Nothing here parses a message: readers only cut files into raw messages or JSON records, so a
broken message costs itself and never the file around it.
"""

from __future__ import annotations

import json
import os
import re
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


def sniff(path: Path) -> str | None:
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
    kind = sniff(path)
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


_SEPARATOR = re.compile(rb"\r?\n(\r?\n)From ")
_QUOTED_FROM = re.compile(rb"(?m)^>(>*From )")
CHUNK = 1 << 20


def _iter_mbox(
    fh: BinaryIO, name: str, max_message_bytes: int, chunk: int = CHUNK
) -> Iterator[Item]:
    """Split at From_ lines that follow a blank line, undoing mboxrd ``>From`` quoting.

    Reads in 1 MiB chunks and searches them with a regex (a Python loop over lines costs more
    than parsing the mail). Memory stays bounded: a message over ``max_message_bytes`` keeps its
    first ``max_message_bytes + 1`` bytes, enough for the parser to see it is oversize.
    """
    buf = fh.read(chunk)
    pos = 0
    eof = not buf
    index = 0
    while pos < len(buf):
        head_end = buf.find(b"\n", pos)
        while head_end < 0 and not eof:
            buf, pos, eof = _refill(fh, buf, pos, chunk)
            head_end = buf.find(b"\n", pos)
        if head_end < 0:
            return  # a From_ line with nothing after it
        start = head_end + 1
        kept = b""  # the head of an oversize message
        while True:
            match = _SEPARATOR.search(buf, start)
            if match is not None:
                end, next_pos = match.start(1), match.end(1)
                break
            if eof:
                end = next_pos = len(buf)
                break
            if len(buf) - start > max_message_bytes + 8 and not kept:
                kept = buf[start : start + max_message_bytes + 1]
            if kept:
                start = len(buf) - 8  # keep a little for a separator split across chunks
            buf, pos, eof = _refill(fh, buf, start, chunk)
            start = 0
        raw = kept or buf[start:end]
        if next_pos == len(buf):  # the last message: drop the file's trailing blank line
            raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1] if raw.endswith(b"\n") else raw
        if b">" in raw:
            raw = _QUOTED_FROM.sub(rb"\1", raw)
        index += 1
        yield Item("email", f"{name}#{index}", raw=raw, consumed=next_pos - pos)
        pos = next_pos


def _refill(fh: BinaryIO, buf: bytes, keep_from: int, chunk: int) -> tuple[bytes, int, bool]:
    more = fh.read(chunk)
    return buf[keep_from:] + more, 0, not more


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
