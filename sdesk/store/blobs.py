"""Content-addressed attachment storage: a blob's path is its sha256, never a sender's name."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path


class BlobStore:
    """Files under ``root``; ``put_later`` writes on a small thread pool so creating files (slow
    on some filesystems) overlaps parsing, and ``flush`` runs before every commit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[str]] = []

    def put_later(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if self.path(digest).exists():
            return digest
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sdesk-blobs")
            self._pending.append(self._pool.submit(self.put, data))
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
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()
