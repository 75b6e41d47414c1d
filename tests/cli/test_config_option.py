"""``--config PATH`` and ``SDESK_CONFIG``: one host, several desks, each command on the desk its
config names (``database_url``), whichever way the config file is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Run

pytestmark = pytest.mark.sqlite_only  # about choosing a config file, not about the database

MAIL = (
    "From: Ann <ann@example.org>\r\nTo: a@desk.test\r\nSubject: Desk {name}\r\n"
    "Message-ID: <{name}@example.org>\r\n\r\nHello.\r\n"
)


def two_desks(tmp_path: Path) -> tuple[Path, Path]:
    configs = []
    for name in ("A", "B"):
        cfg = tmp_path / f"{name}.toml"
        cfg.write_text(
            f'database_url = "{tmp_path / f"desk-{name}.db"}"\n'
            f'desk_domain = "{name.lower()}.desk.test"\n'
            f"[[mailboxes]]\n"
            f'name = "box{name}"\nhost = "127.0.0.1"\nport = 1\nsecurity = "none"\n'
            f'username = "u"\npassword_env = "SDESK_TEST_PASSWORD"\n'
            f'address = "{name.lower()}@desk.test"\n',
            encoding="utf-8",
        )
        configs.append(cfg)
    return configs[0], configs[1]


def test_each_command_works_on_the_desk_its_config_names(
    sdesk: Run, sdesk_env: dict[str, str], tmp_path: Path
) -> None:
    a, b = two_desks(tmp_path)
    for cfg, name in ((a, "A"), (b, "B")):
        mail = tmp_path / f"{name}.eml"
        mail.write_text(MAIL.format(name=name), encoding="utf-8")
        done = sdesk("--config", str(cfg), "ingest", str(mail))
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "desk-A.db").exists() and (tmp_path / "desk-B.db").exists()

    before = sdesk("--config", str(a), "inbox")  # before the command name
    assert "Desk A" in before.stdout and "Desk B" not in before.stdout, before.stdout
    after = sdesk("inbox", "--config", str(b))  # after it, the way --db works
    assert "Desk B" in after.stdout and "Desk A" not in after.stdout, after.stdout

    sdesk_env["SDESK_CONFIG"] = str(b)
    env = sdesk("inbox")
    assert "Desk B" in env.stdout and "Desk A" not in env.stdout, env.stdout
    wins = sdesk("--config", str(a), "inbox")  # the option wins over the environment
    assert "Desk A" in wins.stdout and "Desk B" not in wins.stdout, wins.stdout

    # A command that names the config file names the one it read.
    unknown = sdesk("fetch", "-m", "nope", "--config", str(a))
    assert unknown.returncode == 1
    assert "no mailbox 'nope'; configured: boxA" in unknown.stderr


def test_a_config_file_given_by_name_must_exist(
    sdesk: Run, sdesk_env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.toml"
    for args, how in (
        (("--config", str(missing), "inbox"), "--config"),
        (("inbox", "--config", str(tmp_path)), "--config"),
    ):
        result = sdesk(*args)
        assert result.returncode == 2, result.stderr
        what = "not found" if str(missing) in args else "is not a file"
        assert result.stderr.splitlines() == [
            f"sdesk: error: config file {args[args.index('--config') + 1]} {what} (given by {how})"
        ]
    sdesk_env["SDESK_CONFIG"] = str(missing)
    result = sdesk("inbox")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"sdesk: error: config file {missing} not found (given by SDESK_CONFIG)"
    ]
    assert not (tmp_path / "data").exists()  # no desk was made on the default path meanwhile
