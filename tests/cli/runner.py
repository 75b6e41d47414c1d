"""``sdesk ARGS`` run inside the test process, as a new process would run it.

Starting ``python -m sdesk`` costs about a second of CPU (the interpreter, then ~600 modules);
the CLI tests ran it over a hundred times, most of them to check what a command prints and
its exit status, which Typer's ``CliRunner`` sees just as well. ``invoke`` calls the real entry
point (``sdesk.cli.main``, so the error-to-exit-status mapping of ``run_guarded`` is the one
under test) with what a fresh process would get: exactly the given environment, an empty stdin
that is not a terminal, its own stdout and stderr, a root logger with no handlers (so the
``sdesk: ...`` warning lines reach stderr as they do for a user), a temporary folder looked up
afresh (``tempfile`` keeps the first answer, and a test may give ``TMPDIR``), the signal handlers
put back afterwards, and no thread left running. Tests of what only a real process shows (the
exit status the OS sees, signals, a lock held by another process, a terminal, the installed
script) use the ``sdesk_process`` fixture instead.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Mapping

from click.testing import CliRunner

# A new process starts with these at their defaults; a command may set them (ingest, serve).
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# A thread the command started and did not stop would keep a real process from exiting.
THREAD_GRACE_S = 10.0


def exit_status(code: object) -> tuple[int, str]:
    """The status and stderr text Python gives ``sys.exit(code)``."""
    if code is None:
        return 0, ""
    if isinstance(code, int):
        return code, ""
    return 1, f"{code}\n"


def invoke(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``sdesk ARGS`` with the environment ``env`` (exactly: other variables are unset)."""
    from sdesk.cli import main

    overrides: dict[str, str | None] = {k: None for k in os.environ if k not in env}
    overrides.update(env)
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_signals = {sig: signal.getsignal(sig) for sig in SIGNALS}
    saved_argv, saved_tempdir = sys.argv, tempfile.tempdir
    threads = set(threading.enumerate())
    status, tail = 0, ""
    with CliRunner().isolation(env=overrides) as (out, err, _):
        root.handlers.clear()  # pytest's capture handlers: logging.basicConfig would keep them
        root.setLevel(logging.WARNING)
        sys.argv = ["sdesk", *args]
        tempfile.tempdir = None
        try:
            main()
        except SystemExit as exc:
            status, tail = exit_status(exc.code)
        except Exception:  # what the interpreter does with an uncaught exception
            status, tail = 1, traceback.format_exc()
        finally:
            sys.argv, tempfile.tempdir = saved_argv, saved_tempdir
            for handler in root.handlers:
                handler.flush()
            root.handlers[:] = saved_handlers
            root.setLevel(saved_level)
            for sig, handler in saved_signals.items():
                signal.signal(sig, handler)
        sys.stderr.write(tail)
        sys.stdout.flush()
        sys.stderr.flush()
        stdout = out.getvalue().decode("utf-8", "replace")
        stderr = err.getvalue().decode("utf-8", "replace")
    _no_thread_left(threads, args)
    return subprocess.CompletedProcess(["sdesk", *args], status, stdout, stderr)


def _no_thread_left(before: set[threading.Thread], args: tuple[str, ...]) -> None:
    """A non-daemon thread the command left running would hang a real process at exit."""
    deadline = time.monotonic() + THREAD_GRACE_S
    for thread in set(threading.enumerate()) - before:
        if not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
            assert not thread.is_alive(), f"sdesk {' '.join(args)} left thread {thread.name}"
