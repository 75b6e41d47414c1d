"""Bad input on the command line: one clear line on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Run


def assert_one_line_error(result, needle: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("sdesk: error:"), result.stderr
    assert needle in lines[0]


def test_unknown_ticket(sdesk: Run, tmp_path: Path) -> None:
    result = sdesk("--db", str(tmp_path / "d.db"), "show", "99999")
    assert_one_line_error(result, "no ticket #99999")


def test_bad_database_url(sdesk: Run) -> None:
    result = sdesk("--db", "nosuchdriver://x/y", "inbox")
    assert_one_line_error(result, "no database driver 'nosuchdriver'")
    assert result.returncode == 2  # a usage error, like Typer's own


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://[::1", "postgresql://u@host:notaport/db", "://nothing"]
)
def test_malformed_database_url_is_a_usage_error(sdesk: Run, url: str) -> None:
    result = sdesk("--db", url, "inbox")
    assert_one_line_error(result, f"bad database URL {url!r}")
    assert result.returncode == 2
    assert "internal error" not in result.stderr
    assert "postgresql+psycopg://user@host/db" in result.stderr  # what a good one looks like


def test_a_bad_url_from_the_environment_does_not_show_its_password(
    sdesk: Run, sdesk_env: dict[str, str]
) -> None:
    sdesk_env["SDESK_DATABASE_URL"] = "postgresql://desk:hunter2@[::1/desk"
    result = sdesk("inbox")
    assert_one_line_error(result, "bad database URL 'postgresql://desk:***@[::1/desk'")
    assert result.returncode == 2
    assert "hunter2" not in result.stderr


def test_database_driver_not_installed(sdesk: Run) -> None:
    import importlib.util

    assert importlib.util.find_spec("pymssql") is None  # the premise: a driver we lack
    result = sdesk("--db", "mssql+pymssql://u@localhost/desk", "inbox")
    assert_one_line_error(result, "its driver 'pymssql' is not installed (pip install 'pymssql')")
    assert result.returncode == 1


def test_database_in_a_missing_folder(sdesk: Run) -> None:
    assert_one_line_error(sdesk("--db", "/no/such/dir/d.db", "inbox"), "does not exist")


def test_database_path_is_a_folder(sdesk: Run, tmp_path: Path) -> None:
    assert_one_line_error(sdesk("--db", str(tmp_path), "inbox"), "is a directory")


def test_database_file_that_is_not_a_desk(sdesk: Run, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00garbage" * 200)
    assert_one_line_error(sdesk("--db", str(junk), "inbox"), "cannot open desk")


def test_bad_config_value(sdesk: Run, sdesk_env: dict[str, str], tmp_path: Path) -> None:
    sdesk_env["SDESK_DEFAULT_REGION"] = "not-a-region"
    assert_one_line_error(sdesk("--db", str(tmp_path / "d.db"), "inbox"), "default_region")


def test_broken_config_file(sdesk: Run, tmp_path: Path) -> None:
    cfg = tmp_path / "config" / "sdesk" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("desk_domain = [unclosed\n")
    assert_one_line_error(sdesk("--db", str(tmp_path / "d.db"), "inbox"), "not valid TOML")


def test_bad_export_date(sdesk: Run, tmp_path: Path) -> None:
    result = sdesk("--db", str(tmp_path / "d.db"), "export", "--since", "last tuesday")
    assert_one_line_error(result, "--since")


@pytest.mark.parametrize("args", [["show", "not-a-number"], ["no-such-command"], ["--nope"]])
def test_usage_errors_have_no_traceback(sdesk: Run, args: list[str]) -> None:
    result = sdesk(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Error" in result.stderr or "error" in result.stderr


def test_ingest_missing_path_fails_but_commits_the_rest(sdesk: Run, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(
        '{"channel": "sms", "from": {"phone": "+14155550100"}, "text": "hi", "external_id": "s1"}\n'
    )
    db = str(tmp_path / "d.db")
    result = sdesk("--db", db, "ingest", str(tmp_path / "missing.eml"), str(good))
    assert result.returncode == 1
    assert "missing.eml: no such file" in result.stderr
    assert "1 tickets created" in result.stdout
    assert "#" not in sdesk("--db", db, "show", "1001").stderr


def test_unreadable_file_is_one_failure_line(sdesk: Run, tmp_path: Path) -> None:
    # /proc/self/mem cannot be read from offset 0 (EIO), even by root: a real unreadable file.
    result = sdesk("--db", str(tmp_path / "d.db"), "ingest", "/proc/self/mem")
    assert result.returncode == 1
    assert "failed: /proc/self/mem: cannot read: Input/output error" in result.stderr
    assert "Traceback" not in result.stderr
