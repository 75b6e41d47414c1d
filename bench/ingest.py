"""Mail ingest benchmark: ``sdesk ingest`` of a synthetic mbox against a parse-only baseline.

    python bench/ingest.py              # 50,000 messages
    python bench/ingest.py --quick      # 2,000 messages, smoke run
    python bench/ingest.py -n 10000 --keep
    python bench/ingest.py --db postgresql+psycopg://sdesk@127.0.0.1/bench   # an empty database

Steps, each measured in its own subprocess (wall time, peak RSS):

1. write an mbox with ``mailgen`` into a temp dir (not timed);
2. baseline: stream the mbox, split it at From_ lines, parse each message with
   ``sdesk.channels.email.parse.PARSE_POLICY`` and decode every leaf part, keeping nothing;
3. ingest: ``python -m sdesk --db <tmp>/desk.db ingest <mbox>`` (or ``--db URL``: a desk on
   PostgreSQL, given as an empty database; the baseline is the same parse loop);
4. re-ingest the same mbox into the same desk (all duplicates), reported separately.

Peak RSS is the larger of psutil polling of the child's process tree every 50 ms and the
kernel's ``ru_maxrss`` for that child (``os.wait4``; ``RUSAGE_CHILDREN`` would mix all
children). MB = 2**20 bytes. Targets: ingest/baseline time ratio <= 1.5, ingest peak RSS
<= 250 MB. The exit status is 0 even when targets are missed (this is a measurement) and
non-zero only if the ingest itself failed. The last line is machine-readable::

    bench ingest: msgs_per_s=<ingest msgs/s> ratio=<ingest_s/baseline_s> rss_mb=<ingest peak>
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # psutil and mailgen are imported lazily: the baseline child needs neither
    import psutil

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
RATIO_TARGET = 1.5
RSS_TARGET_MB = 250.0
POLL_S = 0.05
QUICK_N = 2000
TAIL_LINES = 25


# --- baseline (runs in the child) --------------------------------------------------------------


def parse_only(mbox: Path) -> int:
    """Parse every message of an mboxrd file and decode every leaf part; return the count."""
    import email

    try:
        from sdesk.channels.email.parse import PARSE_POLICY as policy
    except Exception as exc:  # the package may not be there yet; still measure something
        from email.policy import compat32 as policy

        print(
            f"warning: cannot import sdesk.channels.email.parse.PARSE_POLICY ({exc!r}); "
            "the baseline uses email.policy.compat32",
            file=sys.stderr,
        )

    def touch(lines: list[bytes]) -> None:
        raw = b"".join(lines)
        if raw.endswith(b"\n\n"):  # the blank line that separates mbox messages
            raw = raw[:-1]
        msg = email.message_from_bytes(raw, policy=policy)
        for part in msg.walk():
            if not part.is_multipart():
                part.get_payload(decode=True)

    count = 0
    lines: list[bytes] | None = None
    with mbox.open("rb") as fh:
        for line in fh:
            if line.startswith(b"From "):
                if lines is not None:
                    touch(lines)
                    count += 1
                lines = []
            elif lines is not None:
                if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                    line = line[1:]  # mboxrd un-escaping
                lines.append(line)
    if lines is not None:
        touch(lines)
        count += 1
    return count


# --- measurement ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    """One measured subprocess."""

    label: str
    cmd: list[str]
    returncode: int
    seconds: float
    rss_polled: int  # bytes, psutil, whole process tree
    rss_kernel: int  # bytes, ru_maxrss of the child (and its reaped descendants)
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def rss_mb(self) -> float:
        return max(self.rss_polled, self.rss_kernel) / MB

    def rate(self, n: int) -> float:
        return n / self.seconds if self.seconds > 0 else float("inf")


class _PeakRss(threading.Thread):
    """Polls the RSS of a process and all its descendants; keeps the maximum of the sums."""

    def __init__(self, proc: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.peak = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self._sample()
            self._done.wait(POLL_S)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def _sample(self) -> None:
        import psutil

        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
        except psutil.Error:  # exited, zombie, or already reaped
            return
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
        self.peak = max(self.peak, total)


def measure(label: str, cmd: list[str], workdir: Path, env: dict[str, str]) -> Run:
    """Run ``cmd`` (stdin not a TTY, output to files) and measure wall time and peak RSS."""
    import psutil

    out_path, err_path = workdir / f"{label}.stdout", workdir / f"{label}.stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=ROOT, env=env
        )
        sampler = _PeakRss(psutil.Process(child.pid))
        sampler.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)  # per-child rusage, unlike getrusage()
        except BaseException:
            child.kill()
            child.wait()
            sampler.stop()
            raise
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
    return Run(
        label=label,
        cmd=cmd,
        returncode=child.returncode,
        seconds=seconds,
        rss_polled=sampler.peak,
        rss_kernel=usage.ru_maxrss * 1024,  # KiB on Linux
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
    )


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines()[-lines:])


def _report_failure(run: Run) -> None:
    print(f"\nERROR: {run.label} failed (exit {run.returncode}): {' '.join(run.cmd)}")
    if run.stderr.strip():
        print(f"  stderr (last {TAIL_LINES} lines):\n{_tail(run.stderr)}")
    if run.stdout.strip():
        print(f"  stdout (last {TAIL_LINES} lines):\n{_tail(run.stdout)}")
    if "No module named" in run.stderr or "ImportError" in run.stderr:
        print("  hint: is the sdesk CLI (`python -m sdesk ... ingest`) implemented and importable?")


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --- driver --------------------------------------------------------------------------------------


def bench(n: int, seed: int, workdir: Path, keep: bool = False, db_url: str | None = None) -> int:
    """Generate, measure, print the table; return the exit status."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import mailgen

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(workdir / "xdg" / var.split("_")[1].lower())  # keep the real desk clean
    mbox = workdir / "corpus.mbox"
    db = db_url or str(workdir / "desk.db")

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}")
    print(f"workdir {workdir}{' (kept)' if keep else ''}")
    print(f"generating {n:,} messages (seed {seed}, not timed) ...", flush=True)
    started = time.perf_counter()
    size = mailgen.write_mbox(mbox, n, seed)
    print(f"  {mbox.name}: {size / MB:.1f} MB in {time.perf_counter() - started:.1f}s")

    print("baseline: parse-only loop ...", flush=True)
    baseline = measure(
        "baseline",
        [sys.executable, str(Path(__file__).resolve()), "--parse-only", str(mbox)],
        workdir,
        env,
    )
    if not baseline.ok:
        _report_failure(baseline)
        print("bench ingest: baseline failed")
        return 2
    for line in baseline.stderr.splitlines():
        print(f"  {line}")
    parsed = baseline.stdout.split()[-1] if baseline.stdout.split() else "?"
    if parsed != str(n):
        print(f"  warning: baseline parsed {parsed} messages, expected {n}")
    print(f"  {baseline.seconds:.2f}s, peak RSS {baseline.rss_mb:.1f} MB")

    cmd = [sys.executable, "-m", "sdesk", "--db", db, "ingest", str(mbox)]
    print(f"ingest: python {' '.join(cmd[1:])} ...", flush=True)
    ingest = measure("ingest", cmd, workdir, env)
    if not ingest.ok:
        _report_failure(ingest)
        print(f"bench ingest: FAILED exit={ingest.returncode}")
        return 1
    print(f"  {ingest.seconds:.2f}s, peak RSS {ingest.rss_mb:.1f} MB; CLI summary:")
    print(_tail(ingest.stdout, 10) or "    (no output)")

    print("re-ingest (all duplicates) ...", flush=True)
    again = measure("reingest", cmd, workdir, env)
    if again.ok:
        print(_tail(again.stdout, 10) or "    (no output)")
    else:
        _report_failure(again)

    ratio = ingest.seconds / baseline.seconds
    rows = (
        ("wall time (s)", f"{baseline.seconds:.2f}", f"{ingest.seconds:.2f}"),
        ("msgs/s", f"{baseline.rate(n):.1f}", f"{ingest.rate(n):.1f}"),
        ("peak RSS (MB)", f"{baseline.rss_mb:.1f}", f"{ingest.rss_mb:.1f}"),
        (
            "  polled / ru_maxrss",
            f"{baseline.rss_polled / MB:.0f} / {baseline.rss_kernel / MB:.0f}",
            f"{ingest.rss_polled / MB:.0f} / {ingest.rss_kernel / MB:.0f}",
        ),
    )
    print()
    backend = db.split(":", 1)[0] if "://" in db else "sqlite"
    print(f"sdesk ingest benchmark: {n:,} messages, mbox {size / MB:.1f} MB, desk on {backend}")
    print(f"  {'':24}{'baseline':>14}{'ingest':>14}")
    for name, left, right in rows:
        print(f"  {name:24}{left:>14}{right:>14}")
    checks = (
        ("ratio ingest/baseline", f"{ratio:.2f}", f"<= {RATIO_TARGET}", ratio <= RATIO_TARGET),
        (
            "ingest peak RSS (MB)",
            f"{ingest.rss_mb:.1f}",
            f"<= {RSS_TARGET_MB:.0f}",
            ingest.rss_mb <= RSS_TARGET_MB,
        ),
    )
    for name, value, target, ok in checks:
        print(f"  {name:24}{value:>14}    target {target:8}{_verdict(ok)}")
    if again.ok:
        print(
            f"  re-ingest (all duplicates): {again.seconds:.2f}s ({again.rate(n):.1f} msgs/s), "
            f"peak RSS {again.rss_mb:.1f} MB"
        )
    else:
        print(f"  re-ingest (all duplicates): FAILED exit={again.returncode}")
    print(
        f"bench ingest: msgs_per_s={ingest.rate(n):.1f} ratio={ratio:.2f} "
        f"rss_mb={ingest.rss_mb:.1f}"
    )
    return 0 if again.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark sdesk mail ingest (see docstring).")
    parser.add_argument("-n", type=int, default=50_000, help="messages to ingest (50000)")
    parser.add_argument("--quick", action="store_true", help=f"smoke run, n={QUICK_N}")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (1)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (mbox, db, logs)")
    parser.add_argument(
        "--db", metavar="URL", help="the desk: an empty database's URL (default: a new SQLite file)"
    )
    parser.add_argument("--parse-only", type=Path, metavar="MBOX", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.parse_only:  # the baseline child
        print(parse_only(args.parse_only))
        return 0
    n = QUICK_N if args.quick else args.n
    workdir = Path(tempfile.mkdtemp(prefix="sdesk-bench-ingest-"))
    try:
        return bench(n, args.seed, workdir, keep=args.keep, db_url=args.db)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
