"""Ticket lists on the command line at fixed widths (issue 14, item 1 and the ``--limit`` /
``--format`` parts): ``sdesk inbox`` and ``sdesk search`` never cut a ticket number, status or
priority, fall back to one ticket per line when narrow, say how many more exist, and give exact
JSON and CSV for scripts."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest
from rich.cells import cell_len

from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Priority, Role, Status
from sdesk.core.inbound import ContactRef, Inbound, Sender
from sdesk.store.engine import open_store
from tests.cli.conftest import Run
from tests.cli.runner import invoke
from tests.conftest import FakeClock

FIRST = 10230  # five-digit ticket numbers: the old table cut them to "10…" at 80 columns
TICKETS = 45  # more than the default --limit of 40
LONG_LOGIN = "maximilian.oberhauser"
SUBJECTS = [
    "Не работает интернет после грозы, роутер мигает красным уже третий день подряд",
    "光纤断了，整个办公室都没有网络连接，请尽快派工程师过来看看，谢谢",
    "Billing: charged twice for the November invoice of the business fibre plan",
]
# Exact data checks: markup, an escape sequence, a bidi override, a formula.
HOSTILE = "[bold]x[/] \x1b[31mred\x1b[0m \u202eevil =1+1"
FORMULA = '=HYPERLINK("http://x.test","click")'
WIDTHS = (160, 80, 60, 40)


def _inbound(n: int, subject: str, priority: Priority) -> Inbound:
    name = "Сергей Владимирович Кузнецов-Щедрин" if n % 3 == 0 else "王小明 (北京分公司 客户服务部)"
    return Inbound(
        channel=Channel.EMAIL if n % 2 else Channel.TELEGRAM,
        sender=Sender(name, (ContactRef(ContactKind.EMAIL, f"c{n}@example.org"),)),
        subject=subject,
        text=f"Случай {n}: подробности",
        external_id=f"m{n}@example.org",
        message_id=f"m{n}@example.org",
        priority=priority,
    )


@pytest.fixture(scope="module")
def desk_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("lists") / "desk.db"
    clock = FakeClock()
    desk = Desk(open_store(path), Settings(first_ticket_number=FIRST), clock=clock)
    desk.add_agent("admin", role=Role.ADMIN)
    desk.add_agent(LONG_LOGIN, role=Role.ENGINEER, by="admin")
    priorities = list(Priority)
    for n in range(TICKETS):
        subject = SUBJECTS[n % len(SUBJECTS)]
        if n == 7:
            subject = HOSTILE
        if n == 8:
            subject = FORMULA
        desk.intake(_inbound(n, subject, priorities[n % len(priorities)]))
        clock.advance(minutes=37)
    for n in range(0, TICKETS, 5):
        desk.assign(FIRST + n, "admin", LONG_LOGIN)
    for n in range(1, TICKETS, 6):
        desk.set_status(FIRST + n, "admin", Status.PENDING)
    for n in range(3, TICKETS, 6):
        desk.set_status(FIRST + n, "admin", Status.RESOLVED)
    desk.close()
    return str(path)


def at_width(sdesk_env: dict[str, str], width: int) -> dict[str, str]:
    """COLUMNS sizes Rich's console when the output is not a terminal (here: a pipe)."""
    env = dict(sdesk_env, COLUMNS=str(width), TERM="dumb")
    env.pop("LINES", None)
    return env


def run_at(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``sdesk ARGS`` with ``env`` (``at_width``), in this process: output to a pipe."""
    return invoke(env, *args)


def as_json(sdesk: Run, db: str, *args: str) -> list[dict[str, object]]:
    result = sdesk("--db", db, *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return data


def check_rows_whole(out: str, rows: list[dict[str, object]], width: int) -> None:
    """Every row's number, priority and status appear whole, together, and no line is wider
    than the terminal."""
    lines = out.splitlines()
    for line in lines:
        assert cell_len(line.rstrip()) <= width, f"wider than {width}: {line!r}"
    for row in rows:
        # The row starts with its whole number (a table's first column, a line's "#N").
        number = str(row["number"])
        mine = [ln for ln in lines if ln.split() and ln.split()[0] in (number, f"#{number}")]
        assert len(mine) == 1, f"#{number} does not start exactly one line at {width}:\n{out}"
        words = mine[0].split()
        assert str(row["priority"]) in words, mine[0]
        assert str(row["status"]) in words, mine[0]


@pytest.mark.parametrize("width", WIDTHS)
def test_inbox_never_cuts_number_status_or_priority(
    sdesk: Run, sdesk_env: dict[str, str], desk_path: str, width: int
) -> None:
    rows = as_json(sdesk, desk_path, "inbox", "--all", "--limit", "100")
    assert len(rows) == TICKETS
    result = run_at(
        at_width(sdesk_env, width), "--db", desk_path, "inbox", "--all", "--limit", "100"
    )
    assert result.returncode == 0, result.stderr
    check_rows_whole(result.stdout, rows, width)
    header = result.stdout.splitlines()[1]
    if width >= 80:  # a table, with every header whole, even for 100 rows
        assert header.split() == [
            "#", "Ch", "Pri", "Status", "Customer", "Subject", "Age", "SLA", "Assignee",
        ]  # fmt: skip
        assert "…" in result.stdout  # the long subjects and customers shrank instead
    else:  # one ticket per line, each starting with its number
        numbered = [ln for ln in result.stdout.splitlines() if ln.startswith("#")]
        assert len(numbered) == TICKETS
        assert all(re.match(r"#\d{5} (low|normal|high|urgent) \w+ ", ln) for ln in numbered)


@pytest.mark.parametrize("width", WIDTHS)
def test_search_never_cuts_number_status_or_priority(
    sdesk: Run, sdesk_env: dict[str, str], desk_path: str, width: int
) -> None:
    rows = as_json(sdesk, desk_path, "search", "Случай")
    assert len(rows) == 40  # the default limit
    result = run_at(at_width(sdesk_env, width), "--db", desk_path, "search", "Случай")
    assert result.returncode == 0, result.stderr
    check_rows_whole(result.stdout, rows, width)


def test_wide_table_shows_long_subjects_whole(sdesk_env: dict[str, str], desk_path: str) -> None:
    out = run_at(at_width(sdesk_env, 200), "--db", desk_path, "inbox", "--all").stdout
    assert SUBJECTS[0] in out and SUBJECTS[1] in out


def test_customer_text_is_shown_not_obeyed(sdesk_env: dict[str, str], desk_path: str) -> None:
    out = run_at(
        at_width(sdesk_env, 160), "--db", desk_path, "inbox", "--all", "--limit", "100"
    ).stdout
    assert "\x1b" not in out and "\u202e" not in out
    assert "[bold]x[/] ␛[31mred␛[0m" in out  # markup stays text, ESC becomes visible


def test_limit_says_how_many_more_exist(sdesk: Run, desk_path: str) -> None:
    short = sdesk("--db", desk_path, "inbox", "--all")
    assert short.stdout.rstrip().splitlines()[-1] == (
        f"showing 40 of {TICKETS}; --limit {TICKETS} for all"
    )
    active = sdesk("--db", desk_path, "inbox", "--format", "json")  # the default: active ones
    assert {r["status"] for r in json.loads(active.stdout)} <= {"new", "open", "pending"}
    whole = sdesk("--db", desk_path, "inbox", "--all", "--limit", "100")
    assert "showing" not in whole.stdout
    pending = sdesk("--db", desk_path, "inbox", "--status", "pending", "--limit", "3")
    assert "showing 3 of 8; --limit 8 for all" in pending.stdout
    found = sdesk("--db", desk_path, "search", "Случай", "--limit", "10")
    assert f"showing 10 of {TICKETS}; --limit {TICKETS} for all" in found.stdout
    # For scripts the note goes to stderr: the data stays parseable.
    data = sdesk("--db", desk_path, "inbox", "--all", "--format", "json")
    assert len(json.loads(data.stdout)) == 40
    assert f"showing 40 of {TICKETS}" in data.stderr


def test_search_that_finds_nothing_prints_one_line(sdesk: Run, desk_path: str) -> None:
    result = sdesk("--db", desk_path, "search", "xyzzy")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "no tickets match 'xyzzy'\n"
    assert json.loads(sdesk("--db", desk_path, "search", "xyzzy", "-f", "json").stdout) == []
    header_only = sdesk("--db", desk_path, "search", "xyzzy", "-f", "csv").stdout
    assert list(csv.reader(io.StringIO(header_only))) == [
        ["number", "subject", "status", "priority", "channel", "customer", "assignee",
         "created_at", "last_message_at", "sla_due"],
    ]  # fmt: skip


def test_json_round_trips_exact_values(sdesk: Run, desk_path: str) -> None:
    rows = as_json(sdesk, desk_path, "inbox", "--all", "--limit", "100")
    by_number = {r["number"]: r for r in rows}
    assert by_number[FIRST + 7]["subject"] == HOSTILE  # exact: not sanitised, not cut
    assert by_number[FIRST + 8]["subject"] == FORMULA
    assert by_number[FIRST]["assignee"] == LONG_LOGIN
    assert by_number[FIRST + 1]["assignee"] is None
    assert by_number[FIRST + 1]["status"] == "pending"
    assert by_number[FIRST + 3]["status"] == "resolved"
    assert by_number[FIRST + 3]["sla_due"] is None  # finished: no deadline
    assert str(by_number[FIRST + 4]["sla_due"]).endswith("Z")
    assert str(by_number[FIRST + 4]["created_at"]).endswith("Z")
    assert set(by_number) == set(range(FIRST, FIRST + TICKETS))
    # The file carries the invisible characters escaped, the same string once parsed.
    raw = sdesk("--db", desk_path, "inbox", "--all", "--limit", "100", "-f", "json").stdout
    assert "\\u202e" in raw and "\u202e" not in raw


def test_csv_parses_with_the_csv_module(sdesk: Run, desk_path: str) -> None:
    rows = as_json(sdesk, desk_path, "inbox", "--all", "--limit", "100")
    result = sdesk("--db", desk_path, "inbox", "--all", "--limit", "100", "--format", "csv")
    assert result.returncode == 0, result.stderr
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(table) == len(rows)
    for got, want in zip(table, rows, strict=True):
        assert int(got["number"]) == want["number"]
        for key in ("status", "priority", "channel", "customer", "created_at"):
            assert got[key] == want[key]
        assert got["assignee"] == (want["assignee"] or "")
        if want["number"] == FIRST + 8:  # a formula stays text in a spreadsheet
            assert got["subject"] == "'" + FORMULA
        else:
            assert got["subject"] == want["subject"]  # multi-line-safe, exact, never cut


def read_pty(fd: int, proc: subprocess.Popen[bytes]) -> bytes:
    """Everything the child writes to its terminal until it exits (bounded: 60 s)."""
    out = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=10)
    return out


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_data_on_a_terminal_is_shown_not_obeyed(
    sdesk_env: dict[str, str], desk_path: str, fmt: str
) -> None:
    main, child = pty.openpty()
    cmd = [
        sys.executable,
        "-m",
        "sdesk",
        "--db",
        desk_path,
        "inbox",
        "--all",
        "--limit",
        "100",
        "-f",
        fmt,
    ]
    proc = subprocess.Popen(
        cmd, env=sdesk_env, stdin=subprocess.DEVNULL, stdout=child, stderr=subprocess.PIPE
    )
    os.close(child)
    try:
        out = read_pty(main, proc).decode("utf-8")
    finally:
        os.close(main)
    assert proc.returncode == 0
    assert "\x1b" not in out and "\u202e" not in out
    # JSON escapes ESC itself; CSV's raw ESC is turned into a visible placeholder.
    assert ("\\u001b[31mred" if fmt == "json" else "␛[31mred") in out
