"""IMAP poller benchmark: ``MailboxPoller`` against a real Dovecot, and IDLE delivery latency.

    python bench/imap.py        # no arguments; about 1.5 minutes

Everything runs in this one process against one throwaway Dovecot
(``tests/integration/mailservers.py``), so the poller and its baseline meet the same server,
the same mailbox and the same machine load:

1. start Dovecot, generate 5,000 messages with ``mailgen`` (seed 1) and APPEND them to INBOX
   over one IMAP session (timed, but not part of any measurement);
2. three rounds, each of three runs over the same INBOX:
   a. baseline: a bare ``imapclient`` loop over INBOX: connect + STARTTLS + LOGIN, SELECT
      readonly, ``UID SEARCH 1:*``, then per chunk of ``fetching.CHUNK`` (100) UIDs the
      poller's two round trips, ``FETCH (RFC822.SIZE)`` and ``FETCH (BODY.PEEK[])``, and each
      message parsed with ``email.message_from_bytes(raw, policy=compat32)`` (compat32 is
      sdesk's ``PARSE_POLICY``) with every leaf part's payload decoded, keeping nothing; then
      LOGOUT;
   b. poller: ``MailboxPoller.fetch_once()`` from that same INBOX into an empty desk (a fresh
      SQLite file, schema already created): wall time from the connect (first byte) to the
      last batch's commit and the LOGOUT. Every run must store all 5,000 messages once. The
      sync keeps the raw messages as they came; the poller packs them after it, before it
      waits for news (``pack_unpacked``): that is timed and printed on its own, outside
      msgs/s, since the mail is in the inbox by then;
   c. informational, not the target's baseline: (a) again with imaplib's protocol trace off,
      as the poller's ``connect`` leaves it (``login.quiet_protocol_log``). imapclient as
      shipped sets imaplib's debug level to 5, which formats every response, bodies included,
      with ``%r`` for a logger that drops it; (a) keeps that cost, the poller does not, and
      this line shows how much of the ratio that is;
3. each side's fastest run is its figure (the same statistic for both: fair to whichever
   caches the first round warmed, Dovecot's index/cache files or the page cache, and to the
   other load of a shared host, which hits the poller twice as hard, as it uses both cores).
   ``msgs_per_s`` = 5,000 / the fastest poller run; ``ratio`` = fastest poller / fastest
   baseline, target <= 1.5. Every round's own poller/baseline ratio is printed too;
4. latency: a fresh desk and a fresh folder (``Latency``) watched by ``MailboxPoller.run`` in a
   thread (IDLE). One warm-up message is delivered and awaited (the poller has connected, synced
   and entered IDLE), then 40 mailgen messages (seed 7, each given a known Message-ID) are
   APPENDed one at a time over one delivering IMAP session, at random intervals of 0.2-1.0 s
   (seed 7), like an MTA dropping mail into the store. Delivered = just after the APPEND's OK;
   stored = when a read-only sqlite3 connection on the desk file, polled every 10 ms by a
   watcher thread, first sees that Message-ID in ``message.message_id``. Latency = stored -
   delivered; p50/p95 are nearest-rank over the 40 (a message not stored within 10 s counts as
   infinite). Target p95 <= 2 s.

While the poller and the baseline run, ``IMAPClient.fetch`` is wrapped to count and time FETCH
commands by item list: the split "IMAP FETCH round trips" vs "everything else" (connect, parse,
intake, commits) is printed for both, and a warning if the poller's FETCH pattern no longer
matches the baseline's (then this baseline must be updated to mirror
``sdesk.channels.email.fetching.fetch_chunks``). Client CPU is ``time.process_time()`` of this
process; on a large sync the poller also parses in a second process, whose CPU is printed
beside it (from ``RUSAGE_CHILDREN``), so the two columns compare all the work each side did.

The exit status is 0 even when targets are missed (this is a measurement) and non-zero only if
the poller failed or lost messages. The last line is machine-readable::

    bench imap: msgs_per_s=<poller msgs/s> ratio=<poller_s/baseline_s> latency_p50_s=<s> \
latency_p95_s=<s>
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import gc
import math
import os
import random
import resource
import shutil
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from imapclient import IMAPClient  # noqa: E402

if TYPE_CHECKING:
    from sdesk.channels.email.imap import SyncReport
    from sdesk.config import MailboxSettings
    from sdesk.core.desk import Desk
    from tests.integration.mailservers import DovecotServer

MB = 1024 * 1024
N = 5000
SEED = 1
ROUNDS = 3  # baseline + poller pairs; each side's fastest run is compared
RATIO_TARGET = 1.5
LATENCY_P95_TARGET_S = 2.0
LAT_N = 40
LAT_SEED = 7
LAT_FOLDER = "Latency"
LAT_INTERVAL_S = (0.2, 1.0)
LAT_POLL_S = 0.01
LAT_TIMEOUT_S = 10.0
PASSWORD_ENV = "SDESK_BENCH_IMAP_PASSWORD"
PARSE_POLICY = email.policy.compat32  # == sdesk.channels.email.message.PARSE_POLICY


def say(text: str = "") -> None:
    print(text, flush=True)


# --- FETCH accounting ----------------------------------------------------------------------------


@dataclass
class FetchTally:
    """FETCH commands issued through ``IMAPClient.fetch`` while ``watching()``: count and time."""

    calls: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    body_bytes: int = 0

    @contextlib.contextmanager
    def watching(self) -> Iterator[FetchTally]:
        original = IMAPClient.fetch
        tally = self

        def fetch(client: IMAPClient, messages: Any, data: Any, modifiers: Any = None) -> Any:
            started = time.perf_counter()
            try:
                result = original(client, messages, data, modifiers)
            finally:
                tally.seconds += time.perf_counter() - started
            items = [data] if isinstance(data, str | bytes) else list(data)
            tally.calls[" ".join(i.decode() if isinstance(i, bytes) else i for i in items)] += 1
            for values in result.values():
                tally.body_bytes += len(values.get(b"BODY[]") or b"")
            return result

        IMAPClient.fetch = fetch  # type: ignore[method-assign]
        try:
            yield self
        finally:
            IMAPClient.fetch = original  # type: ignore[method-assign]

    def pattern(self) -> str:
        return ", ".join(f"{items} x{n}" for items, n in sorted(self.calls.items()))


# --- baseline ------------------------------------------------------------------------------------


@dataclass
class BaselineRun:
    seconds: float
    cpu: float
    connect: float  # connect + STARTTLS + LOGIN
    select_search: float
    fetch: float  # both FETCHes of every batch
    parse: float
    logout: float
    messages: int
    parts: int
    tally: FetchTally


def baseline(server: DovecotServer, batch: int, *, trace_off: bool = False) -> BaselineRun:
    """The bare loop described in the module docstring; ``trace_off``: with imaplib's protocol
    trace turned off as the poller's ``connect`` turns it off (informational, step 2c)."""
    from sdesk.channels.email.login import quiet_protocol_log

    tally = FetchTally()
    gc.collect()
    with tally.watching():
        cpu0, t0 = time.process_time(), time.perf_counter()
        context = ssl.create_default_context(cafile=str(server.cafile))
        client = IMAPClient(server.host, port=server.port, ssl=False, timeout=60)
        if trace_off:
            quiet_protocol_log(client)
        client.starttls(context)
        client.login(server.user, server.password)
        t1 = time.perf_counter()
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search(["UID", "1:*"]))
        t2 = time.perf_counter()
        fetch = parse = 0.0
        messages = parts = 0
        for start in range(0, len(uids), batch):
            chunk = uids[start : start + batch]
            a = time.perf_counter()
            sizes = client.fetch(chunk, ["RFC822.SIZE"])
            bodies = client.fetch([u for u in chunk if u in sizes], ["BODY.PEEK[]"])
            b = time.perf_counter()
            for uid in chunk:
                raw = bodies[uid][b"BODY[]"]
                msg = email.message_from_bytes(raw, policy=PARSE_POLICY)
                for part in msg.walk():
                    if not part.is_multipart():
                        part.get_payload(decode=True)
                        parts += 1
                messages += 1
            fetch += b - a
            parse += time.perf_counter() - b
        t3 = time.perf_counter()
        client.logout()
        t4 = time.perf_counter()
        cpu = time.process_time() - cpu0
    return BaselineRun(
        seconds=t4 - t0,
        cpu=cpu,
        connect=t1 - t0,
        select_search=t2 - t1,
        fetch=fetch,
        parse=parse,
        logout=t4 - t3,
        messages=messages,
        parts=parts,
        tally=tally,
    )


def describe_baseline(label: str, run: BaselineRun) -> None:
    say(
        f"  {label}: {run.seconds:.2f}s ({run.messages / run.seconds:.1f} msgs/s, "
        f"{run.parts:,} leaf parts), client CPU {run.cpu:.2f}s"
    )
    say(
        f"    connect+STARTTLS+LOGIN {run.connect:.3f}s, SELECT+SEARCH {run.select_search:.3f}s, "
        f"FETCH {run.fetch:.2f}s, parse+decode {run.parse:.2f}s, LOGOUT {run.logout:.3f}s"
    )


# --- desk & mailbox ------------------------------------------------------------------------------


def mailbox_settings(server: DovecotServer, **extra: Any) -> MailboxSettings:
    from sdesk.config import MailboxSettings

    os.environ[PASSWORD_ENV] = server.password
    values: dict[str, Any] = {
        "name": "support",
        "host": server.host,
        "port": server.port,
        "security": "starttls",
        "username": server.user,
        "password_env": PASSWORD_ENV,
        "address": "support@desk.test",
    }
    values.update(extra)
    return MailboxSettings(**values)


def open_desk(path: Path, mailbox: MailboxSettings) -> Desk:
    from sdesk.config import Settings
    from sdesk.core.desk import Desk
    from sdesk.store.engine import open_store

    return Desk(open_store(path), Settings(desk_domain="desk.test", mailboxes=[mailbox]))


def table_counts(db: Path, *tables: str) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def fill(server: DovecotServer, messages: Iterator[bytes], folder: str = "INBOX") -> int:
    """APPEND every message over one IMAP session (imaplib maps LF to CRLF); return the count."""
    count = 0
    with server.session() as imap:
        for raw in messages:
            typ, data = imap.append(folder, None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {typ} {data!r}")
            count += 1
    return count


# --- poller throughput ---------------------------------------------------------------------------


@dataclass
class PollerRun:
    seconds: float
    cpu: float
    child_cpu: float  # the poller's parser process (reaped by the end of fetch_once)
    report: SyncReport
    tally: FetchTally
    counts: dict[str, int]
    db_mb: float  # the desk's files after the sync
    pack_seconds: float  # packing the raw messages after the sync (``pack_unpacked``)
    packed: int  # rows it packed

    def complete(self) -> bool:
        """Every message of INBOX fetched and stored once (or counted as a duplicate or
        quarantined), and the desk holds one message row per stored one."""
        rep = self.report
        return (
            rep.fetched == N
            and rep.stored + rep.duplicates + rep.quarantined == N
            and self.counts["message"] == rep.stored
        )


def describe_poller(label: str, poll: PollerRun) -> None:
    rep = poll.report
    say(
        f"  {label}: {poll.seconds:.2f}s ({N / poll.seconds:.1f} msgs/s), client CPU "
        f"{poll.cpu:.2f}s + parser process {poll.child_cpu:.2f}s; fetched={rep.fetched} "
        f"stored={rep.stored} duplicates={rep.duplicates} quarantined={rep.quarantined} "
        f"oversized={rep.oversized}"
    )
    say(
        f"    FETCH {poll.tally.seconds:.2f}s, everything else (connect, parse, intake, "
        f"commits; overlapped with the FETCHes on a large sync) "
        f"{poll.seconds - poll.tally.seconds:.2f}s"
    )
    say(
        "    desk: "
        + ", ".join(f"{k}={v:,}" for k, v in poll.counts.items())
        + f"; {poll.db_mb:.1f} MB on disk after the sync"
    )
    say(
        f"    then, not in msgs/s: packed {poll.packed:,} raw messages in "
        f"{poll.pack_seconds:.2f}s (the poller does it before it waits for news); "
        f"SQLite reuses the pages it freed"
    )


def poller_run(server: DovecotServer, workdir: Path) -> PollerRun:
    from sdesk.channels.email.imap import MailboxPoller

    db = workdir / "desk.db"
    mailbox = mailbox_settings(server)
    desk = open_desk(db, mailbox)
    try:
        poller = MailboxPoller(desk, mailbox, cafile=str(server.cafile))
        tally = FetchTally()
        gc.collect()
        with tally.watching():
            child0 = children_cpu()
            cpu0, t0 = time.process_time(), time.perf_counter()
            report = poller.fetch_once()
            seconds = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
            child_cpu = children_cpu() - child0
        db_mb = sum(p.stat().st_size for p in workdir.glob("desk.db*")) / MB
        # After the sync, as the poller does before it waits for news (not part of msgs/s:
        # the mail is in the inbox by then): the raw messages the sync kept as they came.
        t1 = time.perf_counter()
        packed = poller.pack_unpacked()
        pack_seconds = time.perf_counter() - t1
    finally:
        desk.close()
    counts = table_counts(db, "message", "ticket", "customer", "raw_inbound")
    rows = packed.rows if packed is not None else 0
    return PollerRun(seconds, cpu, child_cpu, report, tally, counts, db_mb, pack_seconds, rows)


def children_cpu() -> float:
    """User + system seconds of this process's reaped children (Dovecot's master outlives the
    runs, so this is the poller's parser process)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- IDLE latency --------------------------------------------------------------------------------


def with_message_id(raw: bytes, mid: str) -> bytes:
    """``raw`` with its Message-ID header (if any) replaced by ``<mid>``."""
    head, sep, body = raw.partition(b"\n\n")
    kept: list[bytes] = []
    dropping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and dropping:
            continue
        dropping = line.lower().startswith(b"message-id:")
        if not dropping:
            kept.append(line)
    return b"\n".join([f"Message-ID: <{mid}>".encode(), *kept]) + sep + body


class Watcher(threading.Thread):
    """Polls the desk file read-only every ``LAT_POLL_S``; notes when each expected id shows up."""

    def __init__(self, db: Path) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.lock = threading.Lock()
        self.pending: set[str] = set()
        self.stored: dict[str, float] = {}
        self.polls = 0
        self._halt = threading.Event()

    def expect(self, mid: str) -> None:
        with self.lock:
            self.pending.add(mid)

    def done(self, mid: str) -> bool:
        with self.lock:
            return mid in self.stored

    def stop(self) -> None:
        self._halt.set()
        self.join(5)

    def run(self) -> None:
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as conn:
            while not self._halt.is_set():
                with self.lock:
                    pending = list(self.pending)
                if pending:
                    marks = ",".join("?" * len(pending))
                    rows = conn.execute(
                        f"SELECT message_id FROM message WHERE message_id IN ({marks})", pending
                    ).fetchall()
                    now = time.perf_counter()
                    self.polls += 1
                    with self.lock:
                        for (mid,) in rows:
                            if mid in self.pending:
                                self.pending.discard(mid)
                                self.stored[mid] = now
                self._halt.wait(LAT_POLL_S)


@dataclass
class LatencyRun:
    latencies: list[float]  # per message, delivery order; inf = not stored in time
    gaps: list[float]  # the random wait before each delivery
    warmup: float
    polls: int
    errors: list[str]
    counts: dict[str, int]


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def wait_stored(watcher: Watcher, mid: str, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if watcher.done(mid):
            return True
        time.sleep(LAT_POLL_S)
    return watcher.done(mid)


def latency_run(server: DovecotServer, workdir: Path) -> LatencyRun:
    import mailgen

    from sdesk.channels.email.imap import MailboxPoller

    server.create_folder(LAT_FOLDER)
    db = workdir / "latency.db"
    mailbox = mailbox_settings(server, folders=[LAT_FOLDER])
    desk = open_desk(db, mailbox)
    rng = random.Random(LAT_SEED)
    mids = [f"bench-latency-{i}.{rng.getrandbits(48):012x}@bench.test" for i in range(LAT_N + 1)]
    raws = [
        with_message_id(raw, mid)
        for raw, mid in zip(mailgen.generate_messages(LAT_N + 1, LAT_SEED), mids, strict=True)
    ]
    gaps = [rng.uniform(*LAT_INTERVAL_S) for _ in range(LAT_N)]
    delivered: dict[str, float] = {}
    errors: list[str] = []
    stop = threading.Event()
    poller = MailboxPoller(desk, mailbox, cafile=str(server.cafile))
    runner = threading.Thread(
        target=poller.run, args=(stop,), kwargs={"on_error": errors.append}, daemon=True
    )
    watcher = Watcher(db)
    watcher.start()
    runner.start()
    try:
        # One delivering client for the whole run, like an MTA's connection to the store.
        with server.session() as imap:

            def deliver(raw: bytes, mid: str) -> None:
                watcher.expect(mid)
                typ, data = imap.append(LAT_FOLDER, None, None, raw)
                delivered[mid] = time.perf_counter()
                if typ != "OK":
                    raise RuntimeError(f"APPEND failed: {typ} {data!r}")

            started = time.perf_counter()
            deliver(raws[0], mids[0])
            if not wait_stored(watcher, mids[0], 30.0):
                raise RuntimeError(f"warm-up message not stored within 30 s; errors: {errors}")
            warmup = time.perf_counter() - started
            time.sleep(1.0)  # back in IDLE after the warm-up's sync
            say(f"  warm-up message stored {warmup:.2f}s after start; delivering {LAT_N} ...")
            for i, gap in enumerate(gaps, start=1):
                time.sleep(gap)
                deliver(raws[i], mids[i])
            deadline = time.perf_counter() + LAT_TIMEOUT_S
            while time.perf_counter() < deadline and not all(map(watcher.done, mids)):
                time.sleep(LAT_POLL_S)
    finally:
        stop.set()
        runner.join(15)
        watcher.stop()
        desk.close()
    if runner.is_alive():
        errors.append("poller thread did not stop within 15 s of stop.set()")
    latencies = [
        max(0.0, watcher.stored[m] - delivered[m]) if m in watcher.stored else math.inf
        for m in mids[1:]
    ]
    counts = table_counts(db, "message", "ticket")
    return LatencyRun(latencies, gaps, warmup, watcher.polls, errors, counts)


# --- driver --------------------------------------------------------------------------------------


def _fmt(x: float, digits: int) -> str:
    return "inf" if math.isinf(x) else f"{x:.{digits}f}"


def bench(workdir: Path) -> int:
    import mailgen

    from sdesk.channels.email.fetching import CHUNK
    from tests.integration.mailservers import DovecotServer, make_self_signed_cert

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    version = subprocess.run(
        ["dovecot", "--version"], capture_output=True, text=True, check=False,
        env={**os.environ, "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/sbin"},
    ).stdout.strip()  # fmt: skip
    say(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}")
    say(f"dovecot {version or '?'}; workdir {workdir}")

    server = DovecotServer(make_self_signed_cert(workdir / "tls"))
    try:
        started = time.perf_counter()
        server.start()
        say(f"dovecot up on {server.host}:{server.port} in {time.perf_counter() - started:.2f}s")

        say(f"filling INBOX with {N:,} mailgen messages (seed {SEED}), one IMAP session ...")
        started = time.perf_counter()
        appended = fill(server, mailgen.generate_messages(N, SEED))
        status = server.status("INBOX")
        fill_s = time.perf_counter() - started
        say(
            f"  {appended:,} APPENDs in {fill_s:.1f}s ({appended / fill_s:.0f}/s, not timed); "
            f"INBOX MESSAGES={status['MESSAGES']}"
        )
        if status["MESSAGES"] != N:
            say(f"bench imap: FAILED INBOX holds {status['MESSAGES']} messages, expected {N}")
            return 2

        say(
            f"{ROUNDS} rounds, each a baseline (imapclient fetch in chunks of {CHUNK} + compat32 "
            "parse) then the poller (MailboxPoller.fetch_once() into an empty desk) ..."
        )
        bases: list[BaselineRun] = []
        polls: list[PollerRun] = []
        quiet: list[BaselineRun] = []
        for r in range(1, ROUNDS + 1):
            bases.append(baseline(server, CHUNK))
            describe_baseline(f"baseline #{r}", bases[-1])
            run_dir = workdir / f"poller-{r}"
            run_dir.mkdir()
            try:
                polls.append(poller_run(server, run_dir))
            except Exception as exc:
                say(f"  poller raised {type(exc).__name__}: {exc}")
                say(f"bench imap: FAILED poller raised {type(exc).__name__}")
                return 1
            describe_poller(f"poller #{r}", polls[-1])
            shutil.rmtree(run_dir, ignore_errors=True)
            quiet.append(baseline(server, CHUNK, trace_off=True))
            describe_baseline(f"baseline #{r}, imaplib trace off", quiet[-1])
            lost = [p for p in polls if not p.complete()]
            if lost:
                rep = lost[0].report
                say(
                    f"  ERROR: of {N} messages the poller fetched {rep.fetched}, stored "
                    f"{rep.stored} (+{rep.duplicates} duplicates, {rep.quarantined} quarantined); "
                    f"the desk holds {lost[0].counts['message']} message rows"
                )
                say("bench imap: FAILED the poller lost or doubled messages")
                return 1
        base = min(bases, key=lambda b: b.seconds)
        poll = min(polls, key=lambda p: p.seconds)
        rep = poll.report

        say(f"  FETCH pattern, baseline: {base.tally.pattern()}")
        say(f"  FETCH pattern, poller:   {poll.tally.pattern()}")
        if poll.tally.calls != base.tally.calls:
            say(
                "  WARNING: the poller's FETCH commands differ from the baseline's; update "
                "baseline() to mirror sdesk.channels.email.fetching.fetch_chunks"
            )
        say(
            f"  bytes fetched: baseline {base.tally.body_bytes / MB:.1f} MB, "
            f"poller {poll.tally.body_bytes / MB:.1f} MB"
        )

        say(f"latency: IDLE poller on a fresh desk + folder {LAT_FOLDER!r} ...")
        try:
            lat = latency_run(server, workdir)
        except Exception as exc:
            say(f"  latency run raised {type(exc).__name__}: {exc}")
            say(f"bench imap: FAILED latency run raised {type(exc).__name__}")
            return 1
    finally:
        server.close()

    ratio = poll.seconds / base.seconds
    done = [x for x in lat.latencies if not math.isinf(x)]
    p50, p95 = nearest_rank(lat.latencies, 0.50), nearest_rank(lat.latencies, 0.95)
    say(
        f"  {len(done)}/{LAT_N} stored; gaps {min(lat.gaps):.2f}-{max(lat.gaps):.2f}s; "
        f"{lat.polls:,} desk polls; desk: message={lat.counts['message']} "
        f"ticket={lat.counts['ticket']} (incl. warm-up)"
    )
    if done:
        mean = sum(done) / len(done)
        say(f"  latency min {min(done):.3f}s, mean {mean:.3f}s, max {max(done):.3f}s")
    slow = [(i, x) for i, x in enumerate(lat.latencies, start=1) if x > 1.0]
    for i, x in slow[:10]:
        nxt = f"next delivery {lat.gaps[i]:.2f}s later" if i < LAT_N else "last delivery"
        say(f"  slow: message {i} took {_fmt(x, 3)}s ({nxt})")
    for message in lat.errors:
        say(f"  poller error: {message}")

    poll_rate = N / poll.seconds
    checks = (
        ("ratio poller/baseline", f"{ratio:.2f}", f"<= {RATIO_TARGET}", ratio <= RATIO_TARGET),
        (
            "IDLE latency p95 (s)",
            _fmt(p95, 3),
            f"<= {LATENCY_P95_TARGET_S}",
            p95 <= LATENCY_P95_TARGET_S,
        ),
    )
    say()
    say(f"sdesk IMAP benchmark: {N:,} messages in Dovecot, chunks of {CHUNK}")
    # The poller needs both cores (it parses in a second process), the baseline one: anything
    # else running meanwhile slows the poller more, so the ratio is only as good as the load.
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    say(f"  load average at the end {load} (at the start: see the first line)")
    say(f"  runs (s), baseline: {' '.join(f'{b.seconds:.2f}' for b in bases)}; "
        f"poller: {' '.join(f'{p.seconds:.2f}' for p in polls)}")  # fmt: skip
    pair_ratios = sorted(p.seconds / b.seconds for b, p in zip(bases, polls, strict=True))
    say(
        f"  ratio of each round's pair: {' '.join(f'{x:.2f}' for x in pair_ratios)} "
        f"(median {statistics.median(pair_ratios):.2f}); fastest poller / fastest baseline:"
    )
    say(f"  {'':28}{'baseline':>12}{'poller':>12}")
    say(f"  {'wall time (s)':28}{base.seconds:>12.2f}{poll.seconds:>12.2f}")
    say(f"  {'msgs/s':28}{N / base.seconds:>12.1f}{poll_rate:>12.1f}")
    say(f"  {'client CPU (s)':28}{base.cpu:>12.2f}{poll.cpu:>12.2f}")
    say(f"  {'+ parser process CPU (s)':28}{'':>12}{poll.child_cpu:>12.2f}")
    say(f"  {'FETCH round trips (s)':28}{base.tally.seconds:>12.2f}{poll.tally.seconds:>12.2f}")
    say(f"  IDLE latency over {LAT_N}: p50 {_fmt(p50, 3)}s, p95 {_fmt(p95, 3)}s")
    calm = min(q.seconds for q in quiet)
    say(
        f"  baseline with imaplib's trace off, as the poller connects (not the target's "
        f"baseline): fastest {calm:.2f}s; poller / it {poll.seconds / calm:.2f}"
    )
    for name, value, target, ok in checks:
        say(f"  {name:28}{value:>12}    target {target:8}{'PASS' if ok else 'FAIL'}")
    failed = not poll.complete()
    if failed:
        say(f"  ERROR: the poller accounted for {rep.fetched} of {N} messages")
    say(
        f"bench imap: msgs_per_s={poll_rate:.1f} ratio={ratio:.2f} "
        f"latency_p50_s={_fmt(p50, 3)} latency_p95_s={_fmt(p95, 3)}"
    )
    return 1 if failed else 0


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="sdesk-bench-imap-"))
    workdir.chmod(0o755)  # dovecot's unprivileged helpers read the cert from here
    try:
        return bench(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
