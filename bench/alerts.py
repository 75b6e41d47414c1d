"""Alerts benchmark: 10,000 events within 60 s through the rules and the escalation, with the
real scheduler (APScheduler 3 and its SQLAlchemyJobStore in the desk's SQLite file) in child
processes as ``sdesk serve`` runs it, one of them killed with SIGKILL midway.

    python bench/alerts.py            # no arguments; about 2 minutes

1. A desk in a temporary folder: one agent whose push URL (apprise ``ntfy://``) points at a
   ntfy-like endpoint on 127.0.0.1 in this process; one rule (``channel.down`` → fast, i.e.
   push) with a policy of 2 steps 3 s apart; each run of 5 events shares a key, so the 10,000
   events make 2,000 alerts, opened evenly over the minute (each event counted onto its
   alert), and 4,000 steps, each one push.
2. Baseline, same run: 200 bare apprise pushes to the same endpoint, one at a time, no desk:
   the notifier's own floor (p50/p99).
3. Two scheduler processes (``tests/alerts/scheduler_proc.py``): the holder of the
   ``scheduler`` lease and a standby asking for it every 0.25 s. Events are written at an even
   pace (batches of 20 every 0.12 s, one transaction each, through ``core.alerts.signals``)
   for about 60 s; at the midpoint the holder is killed with SIGKILL, the standby takes the
   lease (its holder is dead on this host) and a new standby is started.
4. When every alert has taken its last step (or 60 s more have passed), from the desk:
   lag of a step = when it ran − when it was due (the first step: − its opening event's time;
   later steps: − the time the scheduler set for it); p50/p99 nearest-rank.
   lost = steps that should have run and did not + events not counted onto any alert;
   repeated = steps taken twice (the database refuses them, checked anyway) + pushes received
   beyond one per step that are not a counted resend (a push in flight when its process died
   is sent again: ``resent``, printed).

The last line is machine-readable::

    bench alerts: events_per_s=<events taken by the rules per s> lag_p50_s=<s> lag_p99_s=<s> \
lost=<n> repeated=<n>

Targets: lag p99 <= 1 s, lost 0, repeated 0. The exit status is non-zero only if something was
lost or repeated.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from sdesk.config import Settings  # noqa: E402
from sdesk.config_alerts import AlertSettings  # noqa: E402
from sdesk.core.alerts import set_agent_reach, signals, start_cursor_at_end  # noqa: E402
from sdesk.core.desk import Desk  # noqa: E402
from sdesk.store.alertmodels import Alert, AlertNotice, AlertStep  # noqa: E402
from sdesk.store.engine import open_store  # noqa: E402
from sdesk.store.models import Event  # noqa: E402

EVENTS = 10_000
KEYS = 2_000
PER_KEY = EVENTS // KEYS  # a key's events come together: a burst grouped onto one alert
STEPS = 2
WAIT_MINUTES = 0.05  # 3 s between steps
BATCH = 20
SECONDS = 60.0
STANDBY = 0.25
BASELINE_PUSHES = 200


class Receiver:
    """ntfy's publish API on loopback: counts pushes per alert (from the title)."""

    def __init__(self) -> None:
        self.per_alert: Counter[int] = Counter()
        self.total = 0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                title = str(body.get("title", ""))
                with lock:
                    outer.total += 1
                    if " alert " in title:
                        outer.per_alert[int(title.split(" alert ", 1)[1].split(":", 1)[0])] += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id":"x","event":"message"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("inf")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def baseline(url: str) -> tuple[float, float]:
    import apprise

    times = []
    for i in range(BASELINE_PUSHES):
        sender = apprise.Apprise()
        sender.add(url)
        began = time.perf_counter()
        assert sender.notify(body=f"baseline {i}", title="baseline")
        times.append(time.perf_counter() - began)
    return pct(times, 50), pct(times, 99)


def scheduler(db: Path, settings_file: Path, workdir: Path, n: int) -> subprocess.Popen[str]:
    log = open(workdir / f"scheduler-{n}.log", "w")  # noqa: SIM115 (the child's lifetime)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.alerts.scheduler_proc", str(db), str(settings_file),
         str(STANDBY)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
        stderr=log, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
    return proc


def bench(workdir: Path) -> int:
    receiver = Receiver()
    url = f"ntfy://127.0.0.1:{receiver.port}/bench"
    base50, base99 = baseline(url)
    receiver.per_alert.clear()
    receiver.total = 0
    print(f"baseline: bare apprise push to loopback p50={base50:.4f}s p99={base99:.4f}s")

    db = workdir / "desk.db"
    alerts = AlertSettings(
        rules=[{"name": "down", "event": "channel.down", "tier": "fast",
                "targets": ["agent:bench"], "escalation": "quick"}],
        policies=[{"name": "quick", "steps": [{"wait_minutes": WAIT_MINUTES}] * STEPS}],
        poll_seconds=0.2,
    )  # fmt: skip
    settings = Settings(desk_domain="bench.test", alerts=alerts)
    desk = Desk(open_store(db), settings)
    desk.add_agent("bench")
    set_agent_reach(desk, "bench", push_target=url)
    start_cursor_at_end(desk)
    settings_file = workdir / "settings.json"
    settings_file.write_text(settings.model_dump_json(), encoding="utf-8")

    procs = [scheduler(db, settings_file, workdir, 0)]
    time.sleep(0.5)  # the first one takes the lease before the standby starts
    procs.append(scheduler(db, settings_file, workdir, 1))
    began = time.monotonic()
    batches = EVENTS // BATCH
    killed_at = None
    for b in range(batches):
        target = began + b * (SECONDS / batches)
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        signals(desk, [("channel.down", f"link{(b * BATCH + i) // PER_KEY}", "link down")
                       for i in range(BATCH)])  # fmt: skip
        if killed_at is None and b == batches // 2:
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait(10)
            killed_at = time.monotonic() - began
            procs.append(scheduler(db, settings_file, workdir, 2))
    written = time.monotonic() - began
    print(f"events written: {EVENTS} in {written:.1f}s; holder killed at {killed_at:.1f}s")

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with desk.store.read() as s:
            left = s.execute(
                select(func.count()).where(Alert.next_at.is_not(None))  # type: ignore[union-attr]
            ).scalar_one()
            counted = s.execute(select(func.coalesce(func.sum(Alert.count), 0))).scalar_one()
        if left == 0 and counted >= EVENTS:
            break
        time.sleep(0.2)
    done = time.monotonic() - began
    for proc in procs[1:]:
        proc.terminate()
    for proc in procs[1:]:
        proc.wait(30)

    with desk.store.read() as s:
        alerts_rows = s.execute(select(Alert.id, Alert.count, Alert.event_id)).all()
        step_rows = s.execute(
            select(AlertStep.alert_id, AlertStep.step, AlertStep.repeat, AlertStep.ran_at,
                   AlertStep.due_at)
        ).all()  # fmt: skip
        opened = dict(
            s.execute(
                select(Alert.id, Event.created_at).join(Event, Event.id == Alert.event_id)
            ).all()
        )
        resent_by_alert: Counter[int] = Counter()
        for alert_id, attempts in s.execute(
            select(AlertNotice.alert_id, AlertNotice.attempts).where(AlertNotice.attempts > 0)
        ):
            resent_by_alert[alert_id] += attempts
        last_taken = s.execute(select(func.max(Alert.last_seen_at))).scalar_one()
        first_event = s.execute(
            select(func.min(Event.created_at)).where(Event.kind == "channel.down")
        ).scalar_one()
    desk.close()

    taken = Counter((a, st, r) for a, st, r, _ran, _due in step_rows)
    lags = []
    for a, st, r, ran, due in step_rows:
        start = opened.get(a, due) if (st, r) == (0, 0) else due
        lags.append((ran - start).total_seconds())
    expected = len(alerts_rows) * STEPS
    lost_steps = max(0, expected - len(taken))
    lost_events = max(0, EVENTS - sum(c for _i, c, _e in alerts_rows))
    doubled_events = max(0, sum(c for _i, c, _e in alerts_rows) - EVENTS)
    repeated_steps = sum(n - 1 for n in taken.values() if n > 1)
    resent = sum(resent_by_alert.values())
    extra = sum(
        max(0, receiver.per_alert[a] - STEPS - resent_by_alert[a]) for a, _c, _e in alerts_rows
    )
    missing_pushes = sum(max(0, STEPS - receiver.per_alert[a]) for a, _c, _e in alerts_rows)
    lost = lost_steps + lost_events + missing_pushes
    repeated = repeated_steps + doubled_events + extra
    rate = EVENTS / max((last_taken - first_event).total_seconds(), 1e-3)
    print(
        f"alerts {len(alerts_rows)} (expected {KEYS}), steps {len(taken)} of {expected}, "
        f"pushes received {receiver.total}, resent after the kill {resent}; "
        f"all done {done:.1f}s after the first event"
    )
    print(f"lag: p50={pct(lags, 50):.3f}s p90={pct(lags, 90):.3f}s p99={pct(lags, 99):.3f}s "
          f"max={max(lags, default=0):.3f}s (baseline push alone p99={base99:.4f}s)")  # fmt: skip
    print(
        f"bench alerts: events_per_s={rate:.0f} lag_p50_s={pct(lags, 50):.3f} "
        f"lag_p99_s={pct(lags, 99):.3f} lost={lost} repeated={repeated}"
    )
    return 1 if lost or repeated else 0


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="sdesk-bench-alerts-"))
    try:
        return bench(workdir)
    finally:
        if os.environ.get("SDESK_BENCH_KEEP"):
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
