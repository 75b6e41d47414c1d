"""A scheduler killed with SIGKILL mid-escalation and started again: no step lost, none taken
twice. The scheduler runs in a child process as ``sdesk serve`` runs it (the real APScheduler
and its job store in the desk's SQLite file, the lease); steps are a fraction of a minute
apart, so this test runs on the real clock, polling the desk with a deadline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from sdesk.core.alerts import signal as raise_signal
from sdesk.core.alerts import start_cursor_at_end
from sdesk.core.desk import Desk
from sdesk.store.alertmodels import Alert
from sdesk.store.engine import open_store
from tests.alerts.conftest import MakeDesk, PushServer, notices, steps

pytestmark = pytest.mark.timeout(90)
ROOT = Path(__file__).resolve().parents[2]
RULE = {"name": "down", "event": "channel.down", "tier": "fast", "targets": ["agent:alice"],
        "escalation": "quick"}  # fmt: skip
# 3 steps 0.6 s apart, 3 rounds: 9 steps an alert, about 5 s from first to last.
POLICY = {"name": "quick", "steps": [{"wait_minutes": 0.01}] * 3, "repeat": 2}
ALERTS, STEPS = 3, 9


def start(db: Path, settings_file: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.alerts.scheduler_proc", str(db), str(settings_file)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
    return proc


def stop(proc: subprocess.Popen[str]) -> str:
    """End the child; its error output, for the failure message."""
    proc.terminate()
    _out, err = proc.communicate(timeout=15)
    return err[-3000:]


def until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)  # polling another process's progress, bounded by the deadline
    return check()


def test_sigkill_mid_escalation_loses_no_step_and_repeats_none(
    make_desk: MakeDesk, push_server: PushServer, tmp_path: Path
) -> None:
    fixture_desk = make_desk(rules=[RULE], policies=[POLICY])  # the agents, on the test clock
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(fixture_desk.settings.model_dump_json(), encoding="utf-8")
    db = tmp_path / "desk.db"
    desk = Desk(open_store(db), fixture_desk.settings)  # the real clock, like the child's
    start_cursor_at_end(desk)  # the rules read what comes from now on

    proc = start(db, settings_file)
    try:
        for i in range(ALERTS):
            raise_signal(desk, "channel.down", key=f"link{i}", text=f"link {i} down")
        assert until(lambda: len(steps(desk)) >= 8, 30), (steps(desk), stop(proc))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        taken_before = len(steps(desk))
        assert taken_before < ALERTS * STEPS  # killed mid-escalation
        time.sleep(1.0)  # steps fall due while no scheduler runs (they must not be lost)
        proc = start(db, settings_file)

        def finished() -> bool:
            with desk.store.read() as s:
                rows = s.execute(select(Alert.next_at)).scalars().all()
            return len(rows) == ALERTS and all(r is None for r in rows)

        assert until(finished, 40), steps(desk)
    finally:
        proc.terminate()
        proc.wait(15)

    taken = Counter(steps(desk))
    assert len(taken) == ALERTS * STEPS  # none lost ...
    assert set(taken.values()) == {1}  # ... none taken twice
    pushes = notices(desk, medium="push")
    assert len(pushes) == ALERTS * STEPS and {n.state for n in pushes} == {"sent"}
    # A push in flight when the process died is sent again (at least once), and counted: it
    # may or may not have reached the server the first time.
    resent = sum(n.attempts for n in pushes)
    per_alert = Counter(m["title"].split(":", 1)[0] for m in push_server.received)
    assert len(per_alert) == ALERTS and min(per_alert.values()) >= STEPS
    assert ALERTS * STEPS <= len(push_server.received) <= ALERTS * STEPS + resent
    desk.close()
