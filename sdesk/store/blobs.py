"""Content-addressed attachment storage: a blob's path is its sha256, never a sender's name."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sdesk.store.private import private_dir


class BlobStore:
    """Files under ``root``; ``put_later`` writes on a small thread pool so creating files (slow
    on some filesystems) overlaps parsing, and ``flush`` runs before every commit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[str]] = []
        self._folders: set[Path] = set()  # fan-out folders known to exist

    def put_later(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if self.path(digest).exists():
            return digest
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sdesk-blobs")
            self._pending.append(self._pool.submit(self._write, data, digest))
        return digest

    def flush(self) -> None:
        """Wait for every pending write; raise the first failure (the transaction then rolls
        back, so no row points at a blob that is not on disk)."""
        with self._lock:
            pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        self.flush()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        """Store ``data`` once; a crash mid-write leaves at most a temp file, never a torn blob."""
        return self._write(data, hashlib.sha256(data).hexdigest())

    def _write(self, data: bytes, digest: str) -> str:
        # Plain os calls: a mail sync writes hundreds of blobs, and tempfile's random names and
        # pathlib's objects held the interpreter lock longer than the writes themselves.
        target = self.path(digest)
        if target.exists():
            return digest
        folder = target.parent
        if folder not in self._folders:
            private_dir(folder)  # 0700, and the blob root above it if new
            self._folders.add(folder)
        tmp = f"{folder}/.tmp-{digest[:16]}-{os.getpid()}-{threading.get_ident()}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        try:
            try:
                fd = os.open(tmp, flags, 0o600)  # customer files: for the desk's user only
            except FileNotFoundError:  # the folder went away meanwhile
                private_dir(folder)
                fd = os.open(tmp, flags, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError) and exc.filename is None:
                exc.filename = tmp  # os.write names no file: say where (e.g. "disk full: ...")
            raise
        return digest

    def get(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()
