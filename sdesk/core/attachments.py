"""Attachments crossing the desk's edge: saved out into a folder the operator chose, or taken
in from the operator's disk to go out with a reply."""

from __future__ import annotations

import mimetypes
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sdesk.core.errors import DeskError
from sdesk.core.filenames import safe_filename
from sdesk.store.blobs import BlobStore


def save_attachment(blobs: BlobStore, sha256: str, filename: str, folder: Path) -> Path:
    """Copy the blob to ``folder`` under a safe name; never overwrite (adds " (2)", " (3)" …).

    The customer's filename is untrusted: only its safe basename is used, so it cannot leave the
    folder, hide its extension behind a bidi override or replace an existing file.
    """
    data = blobs.get(sha256)
    if data is None:
        raise DeskError(f"the content of {filename!r} is not in this desk (imported without it)")
    folder = folder.expanduser()
    if not folder.is_dir():
        raise DeskError(f"{folder} is not a folder")
    name = safe_filename(filename, "attachment.bin")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    target = folder / name
    for n in range(2, 1000):
        try:
            with open(target, "xb") as out:  # exclusive create: a file that exists is kept
                out.write(data)
            return target
        except FileExistsError:
            target = folder / (f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})")
        except OSError as exc:
            raise DeskError(f"cannot write {target}: {exc.strerror}") from None
    raise DeskError(f"{folder} already holds 1,000 files named like {name}")


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """A file an operator attached to a reply, already copied into the desk's blob store, so
    the outbox never depends on a file that may be moved or deleted before the send."""

    filename: str  # safe to show and to put in a MIME header
    content_type: str
    size: int
    sha256: str

    def payload(self) -> dict[str, str | int]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }


def guess_type(filename: str) -> str:
    """The content type by extension; unknown kinds go as opaque bytes, never as text."""
    guessed, encoding = mimetypes.guess_type(filename, strict=False)
    if guessed is None or encoding is not None:  # .tar.gz is gzip bytes, not a tar
        return "application/octet-stream"
    return guessed


def check_files(paths: Sequence[Path | str], max_bytes: int) -> str | None:
    """What is wrong with attaching ``paths`` (missing, not a file, over the cap), or None."""
    total = 0
    for path in map(Path, paths):
        try:
            info = path.expanduser().stat()
        except OSError as exc:
            return f"cannot attach {path}: {exc.strerror or exc}"
        if not stat.S_ISREG(info.st_mode):
            return f"cannot attach {path}: not a regular file"
        total += info.st_size
        if total > max_bytes:
            return (
                f"cannot attach {path.name}: the reply's files would be {size_text(total)}, over "
                f"the {size_text(max_bytes)} cap ([email] max_attachments_mb)"
            )
    return None


def stage_files(
    blobs: BlobStore, paths: Sequence[Path | str], max_bytes: int
) -> list[OutgoingFile]:
    """Copy the files into the blob store (by content) and describe them for the reply.

    Checked before and after reading, so a file that grows meanwhile cannot slip past the cap.
    """
    problem = check_files(paths, max_bytes)
    if problem:
        raise DeskError(problem)
    staged: list[OutgoingFile] = []
    total = 0
    for n, path in enumerate((Path(p).expanduser() for p in paths), 1):
        try:
            with open(path, "rb") as fh:
                data = fh.read(max_bytes - total + 1)
        except OSError as exc:
            raise DeskError(f"cannot read {path}: {exc.strerror or exc}") from None
        total += len(data)
        if total > max_bytes:
            raise DeskError(
                f"cannot attach {path.name}: the reply's files are over the "
                f"{size_text(max_bytes)} cap ([email] max_attachments_mb)"
            )
        name = safe_filename(path.name, f"attachment-{n}.bin")
        staged.append(OutgoingFile(name, guess_type(name), len(data), blobs.put(data)))
    return staged


def size_text(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"
