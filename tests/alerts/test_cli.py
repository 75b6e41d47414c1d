"""``sdesk alerts list / ack / test RULE --dry-run`` and ``sdesk oncall``, run as the real
command in a subprocess on a desk the test prepared."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from sdesk.core.alerts import signal
from sdesk.core.oncall import on_call
from sdesk.store.models import Agent, AgentGroup
from tests.alerts.conftest import MakeDesk, alerts_of, runtime
from tests.conftest import T0

RULE = {"name": "down", "event": "channel.down", "tier": "urgent", "targets": ["oncall:primary"],
        "escalation": "page"}  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


def sdesk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[[alerts.rules]]
name = "down"
event = "channel.down"
tier = "urgent"
targets = ["oncall:primary"]
escalation = "page"
[[alerts.rotations]]
name = "primary"
agents = ["alice", "bob"]
start = {T0.isoformat()}
[[alerts.overrides]]
rotation = "primary"
agent = "carol"
start = 2099-01-01T00:00:00Z
end = 2099-01-02T00:00:00Z
""",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SDESK_CONFIG": str(config)}
    return subprocess.run(
        [sys.executable, "-m", "sdesk", "--db", str(tmp_path / "desk.db"), *args],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_list_ack_test_and_oncall(make_desk: MakeDesk, tmp_path: Path) -> None:
    desk = make_desk(rules=[RULE])
    rt = runtime(desk)
    signal(desk, "channel.down", key="k", text="core switch [red]down\x1b[31m")
    rt.tail()
    [alert] = alerts_of(desk)

    listed = sdesk(tmp_path, "alerts", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"alert {alert.id} [urgent] active" in listed.stdout
    assert "alice by sms: sent" in listed.stdout
    assert "\x1b" not in listed.stdout and "core switch [red]down" in listed.stdout

    dry = sdesk(tmp_path, "alerts", "test", "down", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing was sent" in dry.stdout
    # The command plans from the real clock: whoever the weekly rotation has on call now.
    now = on_call(desk.settings.alerts, "primary", datetime.now(UTC)).agent
    assert now in ("alice", "bob")
    assert "sms" in dry.stdout and "voice" in dry.stdout and now in dry.stdout
    assert len(alerts_of(desk)) == 1

    unknown = sdesk(tmp_path, "alerts", "test", "nope", "--dry-run")
    assert unknown.returncode == 1 and "no alert rule 'nope' (rules: down)" in unknown.stderr

    acked = sdesk(tmp_path, "--agent", "bob", "alerts", "ack", str(alert.id))
    assert acked.returncode == 0, acked.stderr
    assert f"alert {alert.id} acknowledged by bob" in acked.stdout
    [a] = alerts_of(desk)
    assert (a.state, a.acked_by, a.acked_how) == ("acknowledged", "bob", "cli")
    again = sdesk(tmp_path, "alerts", "ack", "999")
    assert again.returncode == 1 and "no alert 999" in again.stderr
    assert "no active alerts" in sdesk(tmp_path, "alerts", "list").stdout

    push = "ntfy://127.0.0.1:9/c"
    reach = sdesk(tmp_path, "agent", "reach", "carol", "--push", push, "--group", "night")
    assert reach.returncode == 0, reach.stderr
    assert reach.stdout.strip() == "agent carol: group, push_target set"
    with desk.store.read() as s:
        carol = s.execute(select(Agent).where(Agent.login == "carol")).scalar_one()
        group = s.execute(select(AgentGroup).where(AgentGroup.id == carol.group_id)).scalar_one()
    assert (carol.push_target, group.name) == (push, "night")

    oncall = sdesk(tmp_path, "oncall")
    assert oncall.returncode == 0, oncall.stderr
    lines = oncall.stdout.splitlines()
    assert lines[0].startswith("primary: now ") and lines[1].startswith("primary: next ")
    assert "carol" not in oncall.stdout  # her override is far in the future
