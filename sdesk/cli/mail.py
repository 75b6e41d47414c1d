"""``sdesk fetch``, ``sdesk serve`` and ``sdesk doctor``: the email channel from the command line.

``fetch`` polls once through the same lease the daemon holds; ``serve`` runs the pollers and the
outbox dispatcher headless until stopped; ``doctor`` checks every mailbox step by step and says
exactly what is wrong.
"""

from __future__ import annotations

import signal
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

import typer

from sdesk.cli.common import EXIT_BUSY, DbOption, fail, open_desk
from sdesk.config import MailboxSettings, config_path
from sdesk.core.desk import Desk

MailboxOption = Annotated[
    str | None, typer.Option("--mailbox", "-m", help="Only this mailbox (its name in config).")
]


def _mailboxes(desk: Desk, name: str | None) -> list[MailboxSettings]:
    boxes = desk.settings.mailboxes
    if not boxes:
        fail(f"no mailboxes configured: add a [[mailboxes]] table to {config_path()}")
    if name is None:
        return list(boxes)
    chosen = [m for m in boxes if m.name == name]
    if not chosen:
        fail(f"no mailbox {name!r}; configured: {', '.join(m.name for m in boxes)}")
    return chosen


def fetch(ctx: typer.Context, db: DbOption = None, mailbox: MailboxOption = None) -> None:
    """Fetch new mail once from every mailbox (or one), then exit.

    Exit 75 (EX_TEMPFAIL) when the only trouble was a mailbox another live process is fetching
    (try again later); 1 when a mailbox failed.
    """
    from sdesk.channels.email.imap import MailboxError, MailboxPoller, lease_name
    from sdesk.core import leases

    desk = open_desk(ctx, db)
    failed = busy = False
    for box in _mailboxes(desk, mailbox):
        poller = MailboxPoller(desk, box)
        # Taken here first (fetch_once renews it) to name a live holder; a dead one on this host
        # gives the lease up at once.
        if not leases.acquire(desk, lease_name(box), poller.holder):
            held = leases.current(desk, lease_name(box))
            who = leases.describe(held[0]) if held else "another process"
            typer.echo(
                f"{box.name}: mailbox {box.name} is being fetched by {who}; try again later",
                err=True,
            )
            busy = True
            continue
        try:
            r = poller.fetch_once()
        except MailboxError as exc:
            typer.echo(f"{box.name}: {exc}", err=True)
            failed = True
            continue
        resets = f", rescanned after UIDVALIDITY change: {', '.join(r.resets)}" if r.resets else ""
        typer.echo(
            f"{box.name}: fetched {r.fetched}, new {r.stored}, duplicates {r.duplicates}, "
            f"quarantined {r.quarantined}, oversized {r.oversized}{resets}"
        )
    if failed or busy:
        raise typer.Exit(1 if failed else EXIT_BUSY)


def serve(ctx: typer.Context, db: DbOption = None) -> None:
    """Run the mail pollers and the outbox dispatcher until Ctrl-C or SIGTERM (for a team)."""
    from sdesk.channels.dispatcher import Dispatcher, email_senders
    from sdesk.channels.email.imap import MailboxPoller

    desk = open_desk(ctx, db)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    workers = [
        threading.Thread(
            target=MailboxPoller(desk, box).run,
            args=(stop,),
            kwargs={"on_error": _say_error(box.name)},
            name=f"imap:{box.name}",
            daemon=True,
        )
        for box in desk.settings.mailboxes
    ]
    dispatcher = Dispatcher(desk, email_senders(desk))
    workers.append(
        threading.Thread(target=dispatcher.run, args=(stop,), name="outbox", daemon=True)
    )
    for worker in workers:
        worker.start()
    typer.echo(f"serving {len(workers) - 1} mailbox(es) and the outbox; Ctrl-C stops")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        stop.set()
    for worker in workers:
        worker.join(15)
    typer.echo("stopped")


def _say_error(name: str) -> Callable[[str], None]:
    return lambda message: typer.echo(f"{name}: {message}", err=True)


def doctor(ctx: typer.Context, db: DbOption = None, mailbox: MailboxOption = None) -> None:
    """Check each mailbox: DNS, connection, TLS, login, folders, SMTP."""
    desk = open_desk(ctx, db)
    problems = 0
    boxes = _mailboxes(desk, mailbox)
    stored = _stored_health(desk, boxes)
    for box in boxes:
        typer.echo(f"mailbox {box.name} ({box.username} at {box.host}:{box.imap_port})")
        typer.echo(f"  info {stored[box.name]}")
        for ok, line in _check_mailbox(box):
            typer.echo(f"  {'ok  ' if ok else 'FAIL'} {line}")
            problems += not ok
    if problems:
        fail(f"{problems} problem(s) found; see above")
    typer.echo("all mailboxes look fine")


def _stored_health(desk: Desk, boxes: list[MailboxSettings]) -> dict[str, str]:
    """What the pollers last recorded, one line per mailbox: it tells a failing daemon apart
    from a mailbox that fails right now."""
    from sdesk.core.health import UNKNOWN, mailbox_status

    now = desk.clock()
    with desk.store.read() as session:
        statuses = mailbox_status(session, boxes, now)

    def ago(at: datetime | None) -> str:
        return f"{_span(now - at)} ago" if at is not None else "never"

    lines = {}
    for s in statuses:
        if s.state == UNKNOWN:
            line = "poller: never ran on this desk"
        else:
            line = f"poller: {s.state} since {ago(s.since)}, last good poll {ago(s.last_poll_at)}"
        line += f", {s.quarantined} quarantined"
        if s.last_error:
            line += f"; last error {ago(s.last_error_at)}: {s.last_error}"
        lines[s.name] = line
    return lines


def _span(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _check_mailbox(box: MailboxSettings) -> list[tuple[bool, str]]:
    from sdesk.channels.email.login import MailboxError, connect

    results = [_resolve(box.host)]
    if not results[0][0]:
        return results
    try:
        client = connect(box)
    except MailboxError as exc:
        return [*results, (False, str(exc))]
    results.append((True, f"connected ({box.security}) and logged in as {box.username}"))
    try:
        existing = {f[2] for f in client.list_folders()}
        for folder in box.folders:
            results.append(
                (
                    folder in existing,
                    f"folder {folder}" + ("" if folder in existing else " missing"),
                )
            )
        if box.after_intake == "move" and box.move_to not in existing:
            results.append((False, f"move_to folder {box.move_to} missing"))
        idle = client.has_capability("IDLE")
        results.append(
            (True, "IDLE supported" if idle else f"no IDLE: polls every {box.poll_seconds:g}s")
        )
    finally:
        client.logout()
    results.append(_check_smtp(box))
    return results


def _resolve(host: str) -> tuple[bool, str]:
    try:
        socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        return False, f"DNS: cannot resolve {host}: {exc.strerror}"
    return True, f"DNS: {host} resolves"


def _check_smtp(box: MailboxSettings) -> tuple[bool, str]:
    from sdesk.channels.secrets import SecretError, read_secret

    cfg = box.smtp
    if cfg is None:
        return False, "no [mailboxes.smtp] server: replies cannot be sent"
    context = ssl.create_default_context()
    try:
        if cfg.security == "tls":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=context
            )
        else:
            server = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
            if cfg.security == "starttls":
                server.starttls(context=context)
        with server:
            if cfg.username:
                server.login(cfg.username, read_secret(cfg, f"mailbox {box.name} smtp"))
            server.noop()
    except SecretError as exc:
        return False, f"SMTP {cfg.host}:{cfg.port}: {exc}"
    except smtplib.SMTPAuthenticationError as exc:
        return False, f"SMTP {cfg.host}:{cfg.port}: login refused ({exc.smtp_code})"
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        return False, f"SMTP {cfg.host}:{cfg.port}: {exc}"
    return True, f"SMTP {cfg.host}:{cfg.port} ({cfg.security}) accepts us"
