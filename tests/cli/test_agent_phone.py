"""``sdesk agent phone``: the phone Twilio rings first when an agent calls a customer, checked
like any number dialled; one clear line when it is refused."""

from __future__ import annotations

import getpass
from pathlib import Path

from tests.cli.conftest import Run


def test_set_refuse_and_clear_an_agents_own_phone(sdesk: Run, tmp_path: Path) -> None:
    db = str(tmp_path / "desk.db")
    me = getpass.getuser()
    assert sdesk("--db", db, "agent", "add", me, "--role", "engineer").returncode == 0

    done = sdesk("--db", db, "agent", "phone", me, "+49 151 23456789")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{me}: phone +4915123456789"

    refused = sdesk("--db", db, "agent", "phone", me, "+49 900 1234567")
    assert refused.returncode != 0
    assert "premium-rate" in refused.stderr and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    cleared = sdesk("--db", db, "agent", "phone", me)
    assert cleared.returncode == 0 and cleared.stdout.strip() == f"{me}: phone cleared"
