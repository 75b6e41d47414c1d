"""``sdesk token``: create prints the token once as its last line, list never shows it, revoke
ends it; wrong options are one-line errors."""

from __future__ import annotations

from pathlib import Path

from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind
from sdesk.core.inbound import ContactRef, Inbound, Sender
from tests.cli.conftest import Run


def seeded(tmp_path: Path) -> str:
    db = str(tmp_path / "desk.db")
    desk = Desk.open(db)
    desk.intake(
        Inbound(
            channel=Channel.EMAIL,
            sender=Sender("Ann", (ContactRef(ContactKind.EMAIL, "ann@example.org"),)),
            subject="hi",
            text="hello",
            external_id="<a@example.org>",
        )
    )
    desk.add_agent("dana")
    desk.close()
    return db


def test_create_list_revoke(sdesk: Run, tmp_path: Path) -> None:
    db = seeded(tmp_path)
    made = sdesk("token", "create", "ann-app", "--customer", "ANN@example.org", "--db", db)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("sdk_") and len(token) > 40
    agent = sdesk("token", "create", "dana-cli", "--agent", "dana", "--db", db)
    shop = sdesk("token", "create", "shop", "--integration", "--db", db)
    assert agent.returncode == shop.returncode == 0
    listed = sdesk("token", "list", "--db", db)
    assert "ann-app" in listed.stdout and "ann@example.org" in listed.stdout
    assert token not in listed.stdout and token[4:20] not in listed.stdout
    desk = Desk.open(db)
    try:
        who = desk.tokens.principal(token)
        assert who is not None and who.kind == "customer"
        assert sdesk("token", "revoke", "ann-app", "--db", db).returncode == 0
        assert desk.tokens.principal(token) is None
    finally:
        desk.close()


def test_wrong_options_are_one_line_errors(sdesk: Run, tmp_path: Path) -> None:
    db = seeded(tmp_path)
    both = sdesk("token", "create", "x", "--integration", "--agent", "dana", "--db", db)
    nobody = sdesk("token", "create", "x", "--customer", "who@example.org", "--db", db)
    gone = sdesk("token", "revoke", "never-made", "--db", db)
    assert both.returncode == 2 and "exactly one" in both.stderr
    assert nobody.returncode == 1 and "no customer" in nobody.stderr
    assert gone.returncode == 1 and "no token" in gone.stderr
    for r in (both, nobody, gone):
        assert "Traceback" not in r.stderr
        assert r.stdout.strip() == ""
