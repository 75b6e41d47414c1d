"""Console benchmark: the real Textual console on the large generated desk, against the raw store.

    python bench/console.py            # the full run (about 5 minutes)
    python bench/console.py --quick    # fewer samples, a smoke run

The desk is ``$SDESK_BENCH_DESK`` or ``/tmp/sdesk-bench/console-desk.db``; when that is missing and
``/tmp/bench/big.db`` exists, that one is used; otherwise ``bench/gendesk.py`` generates the
default desk (100,000 tickets / 500,000 messages, 2-3 minutes). The parent opens it once with
``open_store`` first, so a schema upgrade never lands inside a timed run. The operator is the first
agent of ``list_agents``. The console runs with ``live=True`` (polling every second, heartbeats),
headless under ``App.run_test``.

What is measured, and how:

* **Frames.** The app's ``_display`` is wrapped (on the instance, nothing in sdesk changes): every
  compositor update is also converted to terminal escape sequences (``render_segments``, which the
  headless driver skips but a real terminal pays for) and then time-stamped. A latency ends at the
  first frame after the key in which the state asked for is true, i.e. the moment a terminal
  would be handed the picture. Keys are sent the way the terminal driver sends them
  (``driver.send_message(events.Key)``). Pilot's ``press()``/``pause()`` are not used for timing:
  each call sleeps in ``wait_for_idle`` steps of 20 ms until the whole process (worker threads
  included) is idle, which would put a 20-40 ms floor under every sample.
* **first_paint_s**: a fresh ``python bench/console.py --paint-child`` process per run (the same
  file, stdlib-only at import). Time from the parent's ``Popen`` (wall clock) to the moment the
  app's own marker says the first inbox page was painted (``app.started + app.first_paint``,
  converted to wall clock in the child), so it includes interpreter start-up, imports, opening
  the desk and the app. Three runs each at 160x48 and 80x24, after one unmeasured warm-up run,
  once with the environment as it is (here usually ``PYTHONDONTWRITEBYTECODE=1``: sdesk's modules
  are compiled on every start) and once with bytecode allowed (``PYTHONDONTWRITEBYTECODE`` unset,
  ``PYTHONPYCACHEPREFIX`` in the desk's folder so the repository gets no ``__pycache__``; one
  warm-up run compiles it). The final line has the larger of the two sizes' medians, environment
  as is. ``app.first_paint`` (from app construction) and a breakdown are printed too.
* **cursor_p95_ms**: 160x48 (wide: the inbox and the ticket side by side; the ticket under the
  cursor is read by a thread worker and drawn in the side pane). From the top, 300 ``down`` keys
  at an operator's pace: the next key goes once the previous move is on screen and a pause after
  the previous key has passed, drawn from a seeded log-uniform distribution over 50-500 ms
  (median about 160 ms), never waiting for the preview. So quick runs of keys and rows looked at
  for a moment both occur, and preview work on the UI thread counts exactly as far as it delays
  a later key's frame (the samples that a preview got in before are also reported apart).
  Sample: key to the first frame showing the cursor on the next ticket. This crosses page
  boundaries (100-row pages, fetched 30 rows ahead). Also reported, not in the final line:
  ``pagedown`` on a settled console (160x48), and 150 ``down`` keys at 80x24 (no preview pane),
  same pauses.
* **open_p95_ms**: 80x24 (narrow: Enter replaces the inbox with the ticket). Key ``enter`` on the
  highlighted ticket to the first frame with ``screen.ticket_open`` and ``screen.detail`` holding
  that ticket; then ``escape`` (timed, reported as "back") and three rows down, on a settled
  console. 80 tickets from the inbox (every third row below the cursor run, rows ~150-390) and 2
  per search for 14 searches (older tickets far down the inbox), all distinct.
* **search_p95_ms**: 160x48. ``/``, type the words key by key (not timed), then ``enter`` to the
  first frame where ``screen.words`` is the query and the inbox holds the new rows (replaced by
  the ``load_inbox`` worker's result); then ``escape`` back to the inbox (not timed) and settle.
  34 queries from 400 random message texts (``random.Random(7)``, read-only ``sqlite3``): the 10
  most common content words, 8 mid-frequency words, 8 rare ones (seen once in the sample) and 8
  two-word queries of words from one message.
* **rss_mb**: peak RSS of the process running the two console sessions (a child): the larger of
  psutil polling every 50 ms and ``ru_maxrss``; MB = 2**20 bytes. For diagnosis the child also
  reports the garbage collector's pauses (``gc.callbacks``; a collection in any thread holds the
  GIL, so the UI waits too) and the number of objects alive at the end of each session.
* **baseline** (printed before the final line): the same reads through the store alone, in this
  (parent) process after the console child exited, so the desk file is equally warm:
  ``inbox_page`` (the first page, 20 times, and the 4 pages after it), ``ticket_detail`` +
  ``customer_card`` for each ticket the console opened, and ``search`` for each query. The
  console also calls ``inbox_counts`` on every inbox load and every search, timed as well.

Percentiles are nearest-rank. Targets: first paint <= 1.0 s, cursor p95 <= 30 ms, open p95 <=
80 ms, search p95 <= 150 ms, peak RSS <= 200 MB. The machine is shared: the load average is
printed at start and end. The exit status is 0 when targets are missed (this is a measurement)
and non-zero only when the benchmark itself failed. The last line is machine-readable::

    bench console: first_paint_s=… cursor_p95_ms=… open_p95_ms=… search_p95_ms=… rss_mb=…
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODULE_WALL = time.time()  # the paint child's clock reading once the stdlib is imported

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DESK = Path("/tmp/sdesk-bench/console-desk.db")
FALLBACK_DESK = Path("/tmp/bench/big.db")
MB = 1024 * 1024
TARGETS = {"first_paint_s": 1.0, "cursor_ms": 30.0, "open_ms": 80.0, "search_ms": 150.0}
RSS_TARGET_MB = 200.0
WIDE, NARROW = (160, 48), (80, 24)
PAUSE_MIN_S, PAUSE_MAX_S = 0.05, 0.5  # an operator's pauses between cursor keys (log-uniform)
APPEAR_S = 5.0  # what a key should bring must be on screen within this long
PAINT_RUNS = 3
SEED = 7
_STOP = """about after again also been before being could does doing from have having here into just
    like more much need only other over please same should some still such than that their them
    then there these they this those thanks thank very want were what when where which while will
    with would your yours hello regards best dear since because"""
STOPWORDS = frozenset(_STOP.split())  # not searched for: too common to mean anything


class BenchError(Exception):
    """Something the benchmark waited for did not happen; the message says what."""


# --- small helpers ---------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(values: Sequence[float]) -> str:
    if not values:
        return "no samples"
    return (
        f"n={len(values)} p50={pct(values, 50):.1f} p95={pct(values, 95):.1f} max={max(values):.1f}"
    )


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def child_env(extra: dict[str, str] | None = None, drop: Sequence[str] = ()) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TEXTUAL_ANIMATIONS", "none")
    for name in drop:
        env.pop(name, None)
    env.update(extra or {})
    return env


# --- the desk --------------------------------------------------------------------------------


def resolve_desk(explicit: Path | None) -> Path:
    """The desk to measure; generated with bench/gendesk.py when there is none."""
    if explicit is not None or os.environ.get("SDESK_BENCH_DESK"):
        path = explicit or Path(os.environ["SDESK_BENCH_DESK"])
        source = "given"
    elif DEFAULT_DESK.exists():
        path, source = DEFAULT_DESK, "default"
    elif FALLBACK_DESK.exists():
        path, source = FALLBACK_DESK, f"{DEFAULT_DESK} is missing; using the ready one"
    else:
        path, source = DEFAULT_DESK, "generated"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        print(f"desk {path} is missing; generating it with bench/gendesk.py ...", flush=True)
        cmd = [sys.executable, str(ROOT / "bench" / "gendesk.py"), str(partial)]
        done = subprocess.run(cmd, cwd=ROOT, env=child_env(), check=False)
        if done.returncode != 0:
            raise BenchError(f"bench/gendesk.py failed (exit {done.returncode})")
        for suffix in ("", "-wal", "-shm"):
            extra = Path(str(partial) + suffix)
            if extra.exists():
                extra.rename(Path(str(path) + suffix))
    print(f"desk {path} ({source}), {path.stat().st_size / MB:,.0f} MB", flush=True)
    return path


def open_desk(path: Path) -> Any:
    from sdesk.config import Settings
    from sdesk.core.desk import Desk
    from sdesk.store.engine import open_store

    return Desk(open_store(path), Settings())


def first_agent(desk: Any) -> Any:
    from sdesk.store.queries import agent_row, list_agents

    with desk.store.read() as session:
        agents = list_agents(session)
        if not agents:
            raise BenchError("the desk has no active agent to run the console as")
        me = agent_row(session, agents[0].login)
    if me is None:
        raise BenchError(f"agent {agents[0].login} vanished")
    return me


def desk_facts(path: Path) -> tuple[int, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tickets = db.execute("SELECT count(*) FROM ticket").fetchone()[0]
        messages = db.execute("SELECT count(*) FROM message").fetchone()[0]
    return tickets, messages


def sample_queries(path: Path, seed: int = SEED, texts: int = 400) -> list[str]:
    """Realistic searches: common, mid-frequency and rare words of random messages, and pairs."""
    rng = random.Random(seed)
    word = re.compile(r"[^\W\d_]{4,}")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        low, high = db.execute("SELECT min(id), max(id) FROM message").fetchone()
        bodies: list[str] = []
        for _ in range(texts * 3):
            if len(bodies) >= texts or low is None:
                break
            row = db.execute(
                "SELECT text FROM message WHERE id >= ? AND kind = 'inbound' ORDER BY id LIMIT 1",
                (rng.randint(low, high),),
            ).fetchone()
            if row and row[0]:
                bodies.append(row[0])
    per_text = [sorted({w.lower() for w in word.findall(b)} - STOPWORDS) for b in bodies]
    df = Counter(w for words in per_text for w in words)
    if len(df) < 40:
        raise BenchError(f"too few distinct words in {len(bodies)} sampled messages")
    ranked = [w for w, _ in sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))]
    common = ranked[:10]
    middle_pool = [w for w in ranked[10:] if 2 <= df[w] <= max(3, df[ranked[10]] // 4)]
    middle = rng.sample(middle_pool, min(8, len(middle_pool)))
    rare_pool = [w for w in ranked if df[w] == 1 and len(w) >= 5]
    rare = rng.sample(rare_pool, min(8, len(rare_pool)))
    pairs: list[str] = []
    rich = [words for words in per_text if len(words) >= 4]
    while len(pairs) < 8 and rich:
        words = rng.choice(rich)
        pair = " ".join(rng.sample(words, 2))
        if pair not in pairs:
            pairs.append(pair)
    queries: list[str] = []
    for q in common + middle + rare + pairs:
        if q not in queries:
            queries.append(q)
    return queries


# --- the console under test (runs in the children) -------------------------------------------


def _key_event(key: str) -> Any:
    from textual import events

    try:
        from textual.keys import _character_to_key
    except ImportError:  # a private helper; the names below cover what this benchmark types

        def _character_to_key(ch: str) -> str:
            return {"/": "slash", " ": "space"}.get(ch, ch)

    if len(key) == 1:
        name, char = (key if key.isalnum() else _character_to_key(key)), key
    else:
        name = key
        char = {"enter": "\r", "escape": "\x1b", "tab": "\t", "slash": "/", "space": " "}.get(key)
    return events.Key(name, char)


class Harness:
    """Sends keys like the terminal driver does and waits for the frame that shows their effect."""

    def __init__(self, app: Any) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.pilot: Any = None
        self.frames = 0
        self._want: Callable[[], bool] | None = None
        self._future: asyncio.Future[float] | None = None
        display = app._display

        def timed_display(screen: Any, renderable: Any) -> None:
            if isinstance(renderable, CompositorUpdate) and not app._batch_count:
                renderable.render_segments(app.console)  # what a real driver would write
            display(screen, renderable)
            now = time.perf_counter()
            self.frames += 1
            fut, want = self._future, self._want
            if fut is not None and want is not None and not fut.done() and want():
                fut.set_result(now)

        app._display = timed_display  # on this instance only

    def send(self, key: str) -> float:
        event = _key_event(key)
        event.set_sender(self.app)
        started = time.perf_counter()
        self.app._driver.send_message(event)
        return started

    async def press_until(self, key: str, want: Callable[[], bool], what: str) -> float:
        """Press ``key``; milliseconds until the first frame in which ``want()`` holds."""
        loop = asyncio.get_running_loop()
        self._future, self._want = loop.create_future(), want
        try:
            started = self.send(key)
            try:
                shown = await asyncio.wait_for(self._future, APPEAR_S)
            except TimeoutError:
                raise BenchError(
                    f"{what}: not on screen {APPEAR_S:.0f} s after pressing {key!r}"
                ) from None
        finally:
            self._future = self._want = None
        return (shown - started) * 1000

    async def until(self, want: Callable[[], bool], what: str, limit_s: float = APPEAR_S) -> None:
        deadline = time.perf_counter() + limit_s
        while True:
            if want():
                return
            if time.perf_counter() > deadline:
                raise BenchError(f"{what}: not there within {limit_s:.0f} s")
            await asyncio.sleep(0.002)

    def busy(self, *groups: str) -> bool:
        return any(
            w.is_running and (w.group in groups if groups else w.group not in ("poll", "heartbeat"))
            for w in self.app.workers
        )

    async def settle(self) -> None:
        """Every worker done (but the live poll and heartbeat), then the screen caught up."""
        await self.until(lambda: not self.busy(), "the workers to finish", 15.0)
        await self.pilot.pause()


@dataclass
class Session:
    """Samples taken by one console child."""

    first_paint: float | None = None
    cursor_wide: list[float] = field(default_factory=list)
    cursor_wide_behind: list[bool] = field(default_factory=list)
    previews: int = 0
    gc: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    objects: dict[str, int] = field(default_factory=dict)
    pagedown_wide: list[float] = field(default_factory=list)
    cursor_narrow: list[float] = field(default_factory=list)
    search: list[dict[str, Any]] = field(default_factory=list)
    opened: list[dict[str, Any]] = field(default_factory=list)
    back: list[float] = field(default_factory=list)
    waits_for_page: int = 0
    notes: list[str] = field(default_factory=list)


class _GcWatch:
    """Garbage-collector pauses (any thread: they hold the GIL, so the UI waits), in ms."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses[info["generation"]].append((time.perf_counter() - self._started) * 1000)

    def take(self) -> dict[str, list[float]]:
        taken = {f"gen{g}": list(p) for g, p in self.pauses.items()}
        for p in self.pauses.values():
            p.clear()
        return taken


def _count_previews(app: Any) -> Callable[[], int]:
    """Count ticket pane updates from now on (wraps this TicketView instance's
    ``show_picture``)."""
    from sdesk.tui.widgets.ticket import TicketView

    view = app.screen.query_one(TicketView)
    shown = [0]
    show = view.show_picture

    def counted(*args: Any, **kwargs: Any) -> Any:
        shown[0] += 1
        return show(*args, **kwargs)

    view.show_picture = counted
    return lambda: shown[0]


async def _run_console(
    app: Any, size: tuple[int, int], body: Callable[..., Any], session: Session, label: str
) -> None:
    import gc

    harness = Harness(app)
    watch = _GcWatch()
    async with app.run_test(size=size) as pilot:
        harness.pilot = pilot
        await harness.until(lambda: app.first_paint is not None, "the first inbox page", 60.0)
        await harness.settle()
        gc.callbacks.append(watch)
        try:
            await body(harness)
        finally:
            gc.callbacks.remove(watch)
        session.gc[label] = watch.take()
        gc.collect()  # after the measurements: count what is alive, not what awaits collection
        session.objects[label] = len(gc.get_objects())


def _parts(app: Any) -> tuple[Any, Any, Any]:
    from textual.widgets import Input

    from sdesk.tui.widgets.inbox import InboxList

    screen = app.screen
    return screen, screen.query_one(InboxList), screen.query_one("#search", Input)


def _pauses(count: int) -> list[float]:
    """Seconds between paced keys: log-uniform in [PAUSE_MIN_S, PAUSE_MAX_S], seeded."""
    rng = random.Random(SEED)
    low, high = math.log(PAUSE_MIN_S), math.log(PAUSE_MAX_S)
    return [math.exp(rng.uniform(low, high)) for _ in range(count)]


async def _paced_downs(
    h: Harness, count: int, out: list[float], session: Session, behind: list[bool] | None = None
) -> None:
    """``count`` down keys at operator pace; ``behind`` flags samples a ticket preview overtook."""
    screen, inbox, _ = _parts(h.app)
    last = 0.0
    for i, pause in enumerate(_pauses(count)):
        if inbox.cursor >= len(inbox.rows) - 1:  # at the window's end: let the next page come
            if not inbox.more_after:
                session.notes.append(f"cursor reached the end of the inbox after {i} keys")
                return
            session.waits_for_page += 1
            rows = len(inbox.rows)
            await h.until(lambda rows=rows: len(inbox.rows) > rows, "the next inbox page")
        wait = pause - (time.perf_counter() - last)
        if wait > 0:
            await asyncio.sleep(wait)
        number, shown = inbox.current.number, screen.detail
        last = time.perf_counter()
        out.append(
            await h.press_until(
                "down",
                lambda n=number: inbox.current is not None and inbox.current.number != n,
                f"cursor move {i + 1}",
            )
        )
        if behind is not None:
            behind.append(screen.detail is not shown)  # a preview landed before this frame
        if (i + 1) % 100 == 0:
            progress(f"    {i + 1} keys, {summary(out[-100:])} ms (last 100)")


async def _search_once(h: Harness, words: str) -> tuple[float, int, bool]:
    """Open the search box, type ``words``, time Enter until the results are on screen."""
    screen, inbox, box = _parts(h.app)
    await h.press_until("slash", lambda: box.display and box.has_focus, "the search box")
    if box.value:
        box.value = ""
    for ch in words:
        h.send(ch)
    await h.until(lambda: box.value == words, f"typing {words!r}")
    before = inbox.rows
    ms = await h.press_until(
        "enter",
        lambda: screen.words == words and inbox.rows is not before,
        f"results for {words!r}",
    )
    return ms, len(inbox.rows), bool(inbox.more_after)


async def _leave_search(h: Harness) -> None:
    screen, inbox, _ = _parts(h.app)
    before = inbox.rows
    await h.press_until(
        "escape", lambda: screen.words is None and inbox.rows is not before, "back to the inbox"
    )
    await h.settle()


async def _open_current(h: Harness, session: Session, source: str) -> None:
    screen, inbox, _ = _parts(h.app)
    number = inbox.current.number
    ms = await h.press_until(
        "enter",
        lambda: (
            screen.ticket_open
            and screen.detail is not None
            and screen.detail.ticket.number == number
        ),
        f"ticket #{number}",
    )
    session.opened.append(
        {"number": number, "ms": ms, "source": source, "messages": len(screen.detail.messages)}
    )
    await h.settle()
    session.back.append(
        await h.press_until("escape", lambda: not screen.ticket_open, "the inbox again")
    )
    await h.settle()


async def _down_to_fresh(h: Harness, seen: set[int], step: int) -> bool:
    """Move ``step`` rows down (and on, past tickets already opened); False at the end."""
    _, inbox, _ = _parts(h.app)
    moved = 0
    while moved < step or inbox.current.number in seen:
        if inbox.cursor >= len(inbox.rows) - 1:
            if not inbox.more_after:
                return False
            rows = len(inbox.rows)
            await h.until(lambda rows=rows: len(inbox.rows) > rows, "the next inbox page")
        number = inbox.current.number
        await h.press_until(
            "down",
            lambda n=number: inbox.current is not None and inbox.current.number != n,
            "cursor move",
        )
        moved += 1
    await h.settle()
    return True


def app_child(desk_path: Path, plan_path: Path) -> int:
    """Both console sessions in this process; JSON results on stdout's last line."""
    from sdesk.tui.startup import collector_paused

    with collector_paused():  # as sdesk/cli/console.py runs the console
        return _app_child(desk_path, plan_path)


def _app_child(desk_path: Path, plan_path: Path) -> int:
    import resource

    plan = json.loads(plan_path.read_text())
    rss = _RssPoller()
    rss.start()
    from sdesk.tui.app import SdeskApp

    desk = open_desk(desk_path)
    me = first_agent(desk)
    session = Session()
    queries: list[str] = plan["queries"]
    n_down, n_narrow, n_open, n_search_open = (
        plan["downs"],
        plan["narrow_downs"],
        plan["inbox_opens"],
        plan["search_opens"],
    )

    async def wide(h: Harness) -> None:
        session.first_paint = h.app.first_paint
        progress(f"  160x48: {n_down} paced down keys from the top ...")
        shows = _count_previews(h.app)
        await _paced_downs(h, n_down, session.cursor_wide, session, session.cursor_wide_behind)
        session.previews = shows()
        await h.settle()
        _, inbox, _ = _parts(h.app)
        progress("  160x48: pagedown x10 (settled) ...")
        for _ in range(10):
            await h.settle()
            if inbox.cursor >= len(inbox.rows) - 1:
                break
            number = inbox.current.number
            session.pagedown_wide.append(
                await h.press_until(
                    "pagedown",
                    lambda n=number: inbox.current is not None and inbox.current.number != n,
                    "page down",
                )
            )
        progress(f"  160x48: {len(queries)} searches ...")
        for q in queries:
            ms, found, more = await _search_once(h, q)
            session.search.append({"q": q, "ms": ms, "rows": found, "more": more})
            await h.settle()
            await _leave_search(h)
        progress(f"    {summary([s['ms'] for s in session.search])} ms")

    async def narrow(h: Harness) -> None:
        progress(f"  80x24: {n_narrow} paced down keys ...")
        await _paced_downs(h, n_narrow, session.cursor_narrow, session)
        await h.settle()
        seen: set[int] = set()
        progress(f"  80x24: opening {n_open} inbox tickets (every third row) ...")
        for _ in range(n_open):
            if not await _down_to_fresh(h, seen, 3):
                session.notes.append("the inbox ended before all inbox opens")
                break
            seen.add(_parts(h.app)[1].current.number)
            await _open_current(h, session, "inbox")
        screen, inbox, _ = _parts(h.app)
        rare_first = queries[::-1]
        progress(f"  80x24: opening {n_search_open} tickets from search results ...")
        for q in rare_first:
            if sum(o["source"] == "search" for o in session.opened) >= n_search_open:
                break
            await _search_once(h, q)
            await h.settle()
            for row in (0, 4):
                fresh = [i for i, r in enumerate(inbox.rows) if r.number not in seen]
                targets = [i for i in fresh if i >= row]
                if not targets:
                    break
                while inbox.cursor < targets[0]:
                    number = inbox.current.number
                    await h.press_until(
                        "down", lambda n=number: inbox.current.number != n, "cursor move"
                    )
                await h.settle()
                seen.add(inbox.current.number)
                await _open_current(h, session, "search")
            await _leave_search(h)
        opens = [o["ms"] for o in session.opened]
        progress(f"    {summary(opens)} ms")

    started = time.perf_counter()
    try:
        asyncio.run(_run_console(SdeskApp(desk, me), WIDE, wide, session, "160x48"))
        progress(f"  wide session done in {time.perf_counter() - started:.0f} s")
        asyncio.run(_run_console(SdeskApp(desk, me), NARROW, narrow, session, "80x24"))
    finally:
        rss.stop()
        desk.close()
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    result = {
        "first_paint_in_session": session.first_paint,
        "cursor_wide": session.cursor_wide,
        "cursor_wide_behind": session.cursor_wide_behind,
        "previews": session.previews,
        "gc": session.gc,
        "objects": session.objects,
        "pagedown_wide": session.pagedown_wide,
        "cursor_narrow": session.cursor_narrow,
        "search": session.search,
        "opened": session.opened,
        "back": session.back,
        "waits_for_page": session.waits_for_page,  # over both sessions
        "notes": session.notes,
        "rss_polled": rss.peak,
        "rss_kernel": usage,
        "seconds": time.perf_counter() - started,
    }
    print(json.dumps(result), flush=True)
    return 0


class _RssPoller(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self._done = threading.Event()

    def run(self) -> None:
        try:
            import psutil
        except ImportError:
            return  # ru_maxrss alone then
        me = psutil.Process()
        while not self._done.is_set():
            self.peak = max(self.peak, me.memory_info().rss)
            self._done.wait(0.05)

    def stop(self) -> None:
        self._done.set()
        self.join()


def paint_child(desk_path: Path, width: int, height: int) -> int:
    """One cold start to the first painted inbox page; one JSON line on stdout."""
    from sdesk.tui.startup import collector_paused

    with collector_paused():  # as sdesk/cli/console.py starts the console
        return _paint_child(desk_path, width, height)


def _paint_child(desk_path: Path, width: int, height: int) -> int:
    from sdesk.tui.app import SdeskApp

    imported = time.time()
    desk = open_desk(desk_path)
    me = first_agent(desk)
    opened = time.time()
    app = SdeskApp(desk, me)
    frame: list[float] = []

    async def run() -> None:
        harness = Harness(app)
        harness._want = lambda: bool(getattr(app.screen, "loaded", False))
        harness._future = asyncio.get_running_loop().create_future()
        async with app.run_test(size=(width, height)):
            await harness.until(lambda: app.first_paint is not None, "the first inbox page", 60)
            frame.append(harness._future.result() if harness._future.done() else math.nan)

    asyncio.run(run())
    now_wall, now_perf = time.time(), time.perf_counter()
    painted = app.started + app.first_paint
    desk.close()
    print(
        json.dumps(
            {
                "module": MODULE_WALL,
                "imported": imported,
                "opened": opened,
                "paint": now_wall - (now_perf - painted),
                "frame": now_wall - (now_perf - frame[0]),
                "first_paint": app.first_paint,
            }
        ),
        flush=True,
    )
    return 0


# --- the parent --------------------------------------------------------------------------------


@dataclass
class PaintRun:
    total: float  # Popen to the painted page
    startup: float  # Popen to this file's first line (interpreter, stdlib)
    imports: float  # sdesk, textual, sqlalchemy …
    desk: float  # open_store + agent lookup
    app: float  # app.first_paint: construction to the painted page
    frame: float  # Popen to the first frame holding the page (before the app's marker)
    rss: float  # MB, ru_maxrss of the child


def paint_run(desk: Path, size: tuple[int, int], env: dict[str, str]) -> PaintRun:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--paint-child", str(desk)]
    cmd += [str(size[0]), str(size[1])]
    spawned = time.time()
    child = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
    )
    killer = threading.Timer(120, child.kill)
    killer.start()
    try:
        assert child.stdout is not None
        out = child.stdout.read()  # until the child exits
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage
    finally:
        killer.cancel()
    child.returncode = code = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    if code:
        raise BenchError(f"the first-paint child failed (exit {code}); see its stderr above")
    r = json.loads(out.strip().splitlines()[-1])
    rss = usage.ru_maxrss * 1024 / MB  # KiB on Linux
    return PaintRun(
        total=r["paint"] - spawned,
        startup=r["module"] - spawned,
        imports=r["imported"] - r["module"],
        desk=r["opened"] - r["imported"],
        app=r["first_paint"],
        frame=r["frame"] - spawned,
        rss=rss,
    )


def measure_paint(desk: Path, quick: bool) -> dict[str, dict[tuple[int, int], list[PaintRun]]]:
    runs = 1 if quick else PAINT_RUNS
    dont = os.environ.get("PYTHONDONTWRITEBYTECODE")
    cache = desk.parent / "sdesk-bench-pycache"
    modes = {
        f"as is (PYTHONDONTWRITEBYTECODE={dont or 'unset'})": child_env(),
        "bytecode allowed": child_env(
            {"PYTHONPYCACHEPREFIX": str(cache)}, drop=["PYTHONDONTWRITEBYTECODE"]
        ),
    }
    results: dict[str, dict[tuple[int, int], list[PaintRun]]] = {}
    for label, env in modes.items():
        print(f"first paint, {label}: warm-up run, then {runs} per size ...", flush=True)
        paint_run(desk, WIDE, env)  # not measured: caches (and, with bytecode, the .pyc files)
        results[label] = {}
        for size in (WIDE, NARROW):
            results[label][size] = []
            for _ in range(runs):
                r = paint_run(desk, size, env)
                results[label][size].append(r)
                print(
                    f"  {size[0]}x{size[1]}: {r.total:.3f} s = start-up {r.startup:.3f} + "
                    f"imports {r.imports:.3f} + desk {r.desk:.3f} + app {r.app:.3f} "
                    f"(first frame with rows at {r.frame:.3f} s; RSS {r.rss:.0f} MB)",
                    flush=True,
                )
    return results


def run_app_child(desk: Path, plan: dict[str, Any], workdir: Path) -> dict[str, Any]:
    plan_path = workdir / "console-plan.json"
    plan_path.write_text(json.dumps(plan))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--app-child", str(desk), str(plan_path)]
    child = subprocess.Popen(
        cmd, cwd=ROOT, env=child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
    )
    try:
        out, _ = child.communicate(timeout=540)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise BenchError("the console child did not finish within 540 s") from None
    finally:
        plan_path.unlink(missing_ok=True)
    if child.returncode:
        raise BenchError(f"the console child failed (exit {child.returncode}); see its stderr")
    return json.loads(out.strip().splitlines()[-1])


def baseline(desk_path: Path, numbers: list[int], queries: list[str]) -> dict[str, list[float]]:
    """The console's reads straight through the store, in milliseconds."""
    from sdesk.store.inbox import inbox_counts, inbox_page, key_of, search
    from sdesk.store.queries import customer_card, ticket_detail

    desk = open_desk(desk_path)
    me = first_agent(desk)
    out: dict[str, list[float]] = {k: [] for k in ("page1", "page_next", "counts", "detail")}
    out["search"] = []

    def timed(key: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = fn()
        out[key].append((time.perf_counter() - started) * 1000)
        return result

    try:
        with desk.store.read() as session:
            for _ in range(20):
                page = timed("page1", lambda: inbox_page(session, limit=100))
            for _ in range(4):
                after = key_of(page.rows[-1])
                page = timed("page_next", lambda a=after: inbox_page(session, after=a, limit=100))
            for _ in range(10):
                timed("counts", lambda: inbox_counts(session, me.login))
        for number in numbers:  # a session per ticket, as the load_ticket worker does
            with desk.store.read() as session:
                timed(
                    "detail",
                    lambda n=number, s=session: (ticket_detail(s, n), customer_card(s, n)),
                )
        for q in queries:
            with desk.store.read() as session:
                timed("search", lambda q=q, s=session: search(s, q))
    finally:
        desk.close()
    return out


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def bench(desk_arg: Path | None, quick: bool) -> int:
    wall = time.perf_counter()
    import textual

    print(
        f"python {sys.version.split()[0]}, textual {textual.__version__}, {os.cpu_count()} CPUs, "
        f"load average {load_average()}",
        flush=True,
    )
    desk_path = resolve_desk(desk_arg)
    desk = open_desk(desk_path)  # any schema upgrade happens here, not in a timed start
    me = first_agent(desk)
    desk.close()
    tickets, messages = desk_facts(desk_path)
    print(f"  {tickets:,} tickets, {messages:,} messages; operator {me.login} ({me.role})")
    queries = sample_queries(desk_path)
    if quick:
        queries = queries[::4]
    print(f"  {len(queries)} queries: {', '.join(repr(q) for q in queries)}", flush=True)

    paint = measure_paint(desk_path, quick)
    as_is = next(iter(paint))
    medians = {
        label: {size: statistics.median(r.total for r in runs) for size, runs in by_size.items()}
        for label, by_size in paint.items()
    }
    first_paint = max(medians[as_is].values())

    plan = {
        "queries": queries,
        "downs": 60 if quick else 300,
        "narrow_downs": 30 if quick else 150,
        "inbox_opens": 10 if quick else 80,
        "search_opens": 4 if quick else 28,
    }
    print(
        f"console child: {plan['downs']} + {plan['narrow_downs']} cursor keys, "
        f"{len(queries)} searches, {plan['inbox_opens'] + plan['search_opens']} opens ...",
        flush=True,
    )
    result = run_app_child(desk_path, plan, desk_path.parent)
    print(f"  done in {result['seconds']:.0f} s", flush=True)
    for note in result["notes"]:
        print(f"  note: {note}")

    print("baseline: the same reads through the store alone ...", flush=True)
    numbers = [o["number"] for o in result["opened"]]
    base = baseline(desk_path, numbers, queries)

    cursor = result["cursor_wide"]
    opens = [o["ms"] for o in result["opened"]]
    searches = [s["ms"] for s in result["search"]]
    rss_mb = max(result["rss_polled"], result["rss_kernel"]) / MB

    print()
    print(f"sdesk console benchmark: {tickets:,} tickets, {messages:,} messages")
    for label, by_size in paint.items():
        for size, runs in by_size.items():
            apps = [r.app for r in runs]
            print(
                f"  first paint {size[0]}x{size[1]}, {label}: median {medians[label][size]:.3f} s "
                f"of {[round(r.total, 3) for r in runs]}; app.first_paint median "
                f"{statistics.median(apps):.3f} s; imports median "
                f"{statistics.median(r.imports for r in runs):.3f} s"
            )
    fp = result["first_paint_in_session"]
    print(f"  app.first_paint in the measured 160x48 session: {fp:.3f} s")
    print(f"  cursor down 160x48 (paced, ms): {summary(cursor)}")
    behind = result["cursor_wide_behind"]
    print(
        f"    frames a ticket preview got in before (ms): "
        f"{summary([ms for ms, b in zip(cursor, behind, strict=False) if b])}; "
        f"others: {summary([ms for ms, b in zip(cursor, behind, strict=False) if not b])}; "
        f"previews shown during the run: {result['previews']}; keys that waited for the next "
        f"page (not timed): {result['waits_for_page']}"
    )
    print(f"  cursor pagedown 160x48 (settled, ms): {summary(result['pagedown_wide'])}")
    print(f"  cursor down 80x24 (paced, ms): {summary(result['cursor_narrow'])}")
    for source in ("inbox", "search"):
        part = [o["ms"] for o in result["opened"] if o["source"] == source]
        print(f"  open 80x24, tickets from the {source} (ms): {summary(part)}")
    print(f"  open 80x24, all (ms): {summary(opens)}")
    print(f"  back to the inbox 80x24 (ms): {summary(result['back'])}")
    worst = sorted(result["search"], key=lambda s: -s["ms"])[:5]
    print(f"  search 160x48 (ms): {summary(searches)}")
    print(
        "    slowest: "
        + ", ".join(f"{s['q']!r} {s['ms']:.0f} ms ({s['rows']} rows)" for s in worst)
    )
    for label, gens in result["gc"].items():
        g2 = gens["gen2"]
        young = sum(gens["gen0"]) + sum(gens["gen1"])
        print(
            f"  GC pauses, {label} session: {len(g2)} full collections, "
            f"{sum(g2):.0f} ms in all, longest {max(g2, default=0):.0f} ms (young generations "
            f"{young:.0f} ms); {result['objects'][label]:,} objects alive at the end"
        )
    print(
        f"  console peak RSS: {rss_mb:.1f} MB (polled {result['rss_polled'] / MB:.1f}, "
        f"ru_maxrss {result['rss_kernel'] / MB:.1f})"
    )
    print(f"  baseline inbox_page, first page (ms): {summary(base['page1'])}")
    print(f"  baseline inbox_page, next pages (ms): {summary(base['page_next'])}")
    print(f"  baseline ticket_detail + customer_card (ms): {summary(base['detail'])}")
    print(f"  baseline search (ms): {summary(base['search'])}")
    print(
        f"  baseline inbox_counts, run by every inbox load and search (ms): "
        f"{summary(base['counts'])}"
    )
    checks = (
        ("first paint (s)", first_paint, TARGETS["first_paint_s"], 3),
        ("cursor p95 (ms)", pct(cursor, 95), TARGETS["cursor_ms"], 1),
        ("open p95 (ms)", pct(opens, 95), TARGETS["open_ms"], 1),
        ("search p95 (ms)", pct(searches, 95), TARGETS["search_ms"], 1),
        ("peak RSS (MB)", rss_mb, RSS_TARGET_MB, 1),
    )
    for name, value, target, digits in checks:
        print(
            f"  {name:18}{value:>10.{digits}f}    target <= {target:<8g}{_verdict(value <= target)}"
        )
    print(f"  load average {load_average()}; benchmark took {time.perf_counter() - wall:.0f} s")
    print(
        f"baseline: page_p50_ms={pct(base['page1'], 50):.1f} "
        f"page_p95_ms={pct(base['page1'], 95):.1f}"
    )
    print(
        f"baseline: detail_p50_ms={pct(base['detail'], 50):.1f} "
        f"detail_p95_ms={pct(base['detail'], 95):.1f}"
    )
    print(
        f"baseline: search_p50_ms={pct(base['search'], 50):.1f} "
        f"search_p95_ms={pct(base['search'], 95):.1f}"
    )
    print(
        f"bench console: first_paint_s={first_paint:.3f} cursor_p95_ms={pct(cursor, 95):.1f} "
        f"open_p95_ms={pct(opens, 95):.1f} search_p95_ms={pct(searches, 95):.1f} "
        f"rss_mb={rss_mb:.1f}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the sdesk console (see docstring).")
    parser.add_argument("--desk", type=Path, help="desk to use (default: see docstring)")
    parser.add_argument("--quick", action="store_true", help="fewer samples: a smoke run")
    parser.add_argument("--paint-child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--app-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.paint_child:
            path, width, height = args.paint_child
            return paint_child(Path(path), int(width), int(height))
        if args.app_child:
            return app_child(Path(args.app_child[0]), Path(args.app_child[1]))
        return bench(args.desk, args.quick)
    except BenchError as exc:
        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
        if not (args.paint_child or args.app_child):
            print(f"bench console: FAILED {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
