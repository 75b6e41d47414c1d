"""REST API benchmark: 8 clients creating tickets against ``sdesk serve``, with a same-run
baseline.

    python bench/api.py            # no arguments; about 80 seconds

1. A desk (SQLite file in a temporary folder) with an integration token; ``sdesk serve`` started
   as a real subprocess with ``[http]`` on a free loopback port (the rate limit raised, so it
   measures the desk, not the limiter).
2. sdesk: 8 client threads in this process, each with its own keep-alive connection
   (``http.client``: the lightest client, so the clients take little of the CPU the server
   needs), POST ``/api/v1/tickets`` back to back for 30 s: a customer (one of 500 email
   addresses, so intake finds known customers and adds new ones), a subject, a first message,
   and an ``Idempotency-Key`` as a careful client sends. Each request's time is taken from
   send to the whole answer read. A 201 is a success; anything else (or a broken connection)
   an error. Afterwards every created ticket is checked to be in the database once.
3. baseline: the same clients for 30 s against a bare FastAPI app on uvicorn (a subprocess,
   the same uvicorn settings) whose endpoint parses the same JSON body into a pydantic model
   and inserts one row into a SQLite file (WAL, synchronous=NORMAL, like the desk) in a worker
   thread, answering 201 with a small JSON body: the cost of a JSON API writing at all.

Printed: each run's tickets/s, p50/p99 latency, errors and the server process's CPU time per
ticket (steadier than the rate on a shared machine); the line before the last is the
baseline's; the last line::

    bench api: tickets_per_s=<sdesk> p99_ms=<sdesk> errors=<sdesk>

Targets: tickets_per_s >= 300, p99_ms <= 100, errors = 0. The exit status is 0 even when a
target is missed (a measurement), non-zero when a run could not be made or tickets were lost.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLIENTS = 8
SECONDS = 30.0
CUSTOMERS = 500


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited early ({proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start listening")


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    numbers: list[int] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server process used during the run

    def line(self, name: str) -> str:
        lat = sorted(self.latencies)
        p50 = lat[len(lat) // 2] * 1000 if lat else float("inf")
        per = self.server_cpu / len(lat) * 1000 if lat else float("inf")
        return (
            f"{name}: tickets_per_s={self.rate:.0f} p50_ms={p50:.1f} "
            f"p99_ms={self.p99_ms:.1f} errors={self.errors} server_cpu_ms_per_ticket={per:.2f}"
        )

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def p99_ms(self) -> float:
        lat = sorted(self.latencies)
        return lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("inf")


def drive(port: int, path: str, token: str | None) -> Result:
    """CLIENTS threads posting tickets for SECONDS; each its own keep-alive connection."""
    result = Result()
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS + 1)
    stop_at = [0.0]

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        mine: list[float] = []
        numbers: list[int] = []
        errors = 0
        i = 0
        start.wait()
        while time.monotonic() < stop_at[0]:
            i += 1
            who = (n * 7919 + i) % CUSTOMERS
            body = json.dumps(
                {
                    "customer": {"name": f"Customer {who}", "email": f"c{who}@example.org"},
                    "subject": f"Order {n}-{i} has not arrived",
                    "text": f"Hello, my order {n}-{i} was due on Monday and has not arrived.",
                    "priority": "normal",
                    "channel": "api",
                }
            )
            headers["Idempotency-Key"] = f"bench-{n}-{i}"
            began = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            took = time.perf_counter() - began
            if answer.status == 201:
                mine.append(took)
                numbers.append(int(json.loads(data).get("number", 0)))
            else:
                errors += 1
        conn.close()
        with lock:
            result.latencies += mine
            result.numbers += numbers
            result.errors += errors

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    began = time.monotonic()
    stop_at[0] = began + SECONDS
    start.wait()
    for t in threads:
        t.join(SECONDS + 60)
    result.seconds = time.monotonic() - began
    return result


BASELINE_APP = textwrap.dedent(
    """
    import sqlite3, sys, threading
    import uvicorn
    from fastapi import FastAPI
    from pydantic import BaseModel

    class Customer(BaseModel):
        name: str = ""
        email: str | None = None

    class Body(BaseModel):
        customer: Customer
        subject: str
        text: str
        priority: str
        channel: str

    db = sys.argv[2]
    local = threading.local()
    setup = sqlite3.connect(db)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute(
        "CREATE TABLE ticket (id INTEGER PRIMARY KEY, email TEXT, subject TEXT, text TEXT)"
    )
    setup.close()

    def conn():
        c = getattr(local, "c", None)
        if c is None:
            c = local.c = sqlite3.connect(db, isolation_level=None, timeout=60)
            c.execute("PRAGMA synchronous=NORMAL")
        return c

    app = FastAPI()

    @app.post("/tickets", status_code=201)
    def create(body: Body) -> dict:
        c = conn()
        c.execute("BEGIN IMMEDIATE")
        cur = c.execute(
            "INSERT INTO ticket (email, subject, text) VALUES (?, ?, ?)",
            (body.customer.email, body.subject, body.text),
        )
        c.execute("COMMIT")
        return {"number": cur.lastrowid}

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False, lifespan="off", server_header=False)
    """
)


def measured(proc: subprocess.Popen[bytes], run: Callable[[], Result]) -> Result:
    """The run, with the CPU time its server spent (on a shared machine a steadier figure than
    the rate: it does not count the time others' processes took)."""
    server = psutil.Process(proc.pid)
    before = sum(server.cpu_times()[:2])
    result = run()
    result.server_cpu = sum(server.cpu_times()[:2]) - before
    return result


def run_sdesk(tmp: Path) -> Result:
    from sdesk.config import Settings
    from sdesk.core.desk import Desk
    from sdesk.core.tokens import TokenKind

    port = free_port()
    db = tmp / "desk.db"
    config = tmp / "config.toml"
    config.write_text(f'[http]\nlisten = "127.0.0.1:{port}"\napi_rate_per_minute = 1000000\n')
    desk = Desk.open(db, Settings())
    token = desk.tokens.create("bench", TokenKind.INTEGRATION)
    desk.close()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XDG_CONFIG_HOME": str(tmp / "xdg-config"),
        "XDG_DATA_HOME": str(tmp / "xdg-data"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdesk", "serve", "--db", str(db), "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "serve.log", "wb"),  # noqa: SIM115  # closed with the process
    )
    try:
        wait_listening(port, proc)
        result = measured(proc, lambda: drive(port, "/api/v1/tickets", token))
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    stored = sqlite3.connect(db)
    try:
        count = stored.execute("SELECT count(*) FROM ticket WHERE channel = 'api'").fetchone()[0]
    finally:
        stored.close()
    if count != len(result.numbers) or len(set(result.numbers)) != len(result.numbers):
        raise SystemExit(
            f"lost or doubled tickets: {len(result.numbers)} created, {count} stored, "
            f"{len(set(result.numbers))} distinct numbers"
        )
    return result


def run_baseline(tmp: Path) -> Result:
    port = free_port()
    script = tmp / "baseline.py"
    script.write_text(BASELINE_APP)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(port), str(tmp / "baseline.db")],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "baseline.log", "wb"),  # noqa: SIM115  # closed with the process
    )
    try:
        wait_listening(port, proc)
        return measured(proc, lambda: drive(port, "/tickets", None))
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="sdesk-bench-api-") as folder:
        tmp = Path(folder)
        (tmp / "sdesk").mkdir()
        (tmp / "base").mkdir()
        print(f"{CLIENTS} clients, {SECONDS:.0f} s per run", flush=True)
        sdesk = run_sdesk(tmp / "sdesk")
        print(sdesk.line("sdesk"), flush=True)
        baseline = run_baseline(tmp / "base")
        print(baseline.line("baseline (bare FastAPI + one SQLite insert)"), flush=True)
    print(
        f"bench api: tickets_per_s={sdesk.rate:.0f} p99_ms={sdesk.p99_ms:.1f} errors={sdesk.errors}"
    )


if __name__ == "__main__":
    main()
