"""Saving an attachment out of the desk into a folder the operator chose."""

from __future__ import annotations

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
