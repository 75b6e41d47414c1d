"""``sdesk fetch``, ``sdesk serve`` and ``sdesk doctor``: the email channel from the command line.

``fetch`` runs one pass of each service through the same leases the daemon holds; ``serve`` runs
the pollers and the outbox dispatcher headless until stopped (both build them with
``sdesk.channels.services``); ``doctor`` checks every mailbox step by step and says exactly what
is wrong.
"""

from __future__ import annotations

import signal
import smtplib
import socket
import ssl
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from sdesk.cli.common import (
    EXIT_BUSY,
    ConfigOption,
    DbOption,
    config_file,
    fail,
    missing_desk,
    open_desk,
    resolve_db,
    settings_for,
)
from sdesk.config import MailboxSettings, Settings
from sdesk.core.desk import Desk

MailboxOption = Annotated[
    str | None, typer.Option("--mailbox", "-m", help="Only this mailbox (its name in config).")
]


def _mailboxes(settings: Settings, name: str | None, config: Path) -> list[MailboxSettings]:
    boxes = settings.mailboxes
    if not boxes and name is None and settings.telegram is not None:
        return []  # a desk with only its Telegram bot
    if not boxes:
        fail(f"no mailboxes configured: add a [[mailboxes]] table to {config}")
    if name is None:
        return list(boxes)
    chosen = [m for m in boxes if m.name == name]
    if not chosen:
        fail(f"no mailbox {name!r}; configured: {', '.join(m.name for m in boxes)}")
    return chosen


def fetch(
    ctx: typer.Context,
    db: DbOption = None,
    mailbox: MailboxOption = None,
    config: ConfigOption = None,
) -> None:
    """Fetch new mail once from every mailbox (or one) and send what the outbox holds, then exit.

    One pass of every service that has one (``sdesk.channels.services``), through the same
    leases as ``sdesk serve``. Exit 75 (EX_TEMPFAIL) when the only trouble was a mailbox (or the
    outbox) another live process holds (try again later); 1 when a mailbox failed.
    """
    from sdesk.channels.services import build_services

    desk = open_desk(ctx, db, config)
    boxes = _mailboxes(desk.settings, mailbox, config_file(ctx, config))
    failed = busy = False
    for service in build_services(desk, boxes, outbox=mailbox is None, telegram=mailbox is None):
        result = service.run_once()
        if result is None:
            continue
        if result.outcome == "done":
            typer.echo(result.line)
        else:
            # README "Exit statuses": errors are "sdesk: error: ..." lines; the others go on.
            typer.echo(f"sdesk: error: {_named_once(result.line)}", err=True)
        failed |= result.outcome == "failed"
        busy |= result.outcome == "busy"
    if failed or busy:
        raise typer.Exit(1 if failed else EXIT_BUSY)


def _named_once(line: str) -> str:
    """A service's failure line with the mailbox named once: the services prefix the mailbox's
    name ("support: ...") to what the poller said, which names it too ("mailbox support: ...")."""
    name, sep, rest = line.partition(": ")
    if sep and rest.startswith(f"mailbox {name}"):
        return rest
    return line


def serve(ctx: typer.Context, db: DbOption = None, config: ConfigOption = None) -> None:
    """Run the mail pollers and the outbox dispatcher until Ctrl-C or SIGTERM (for a team).

    On a stop, a reply being sent and a batch of mail being stored finish first; replies
    claimed but not yet handed to the server go back to the queue."""
    from sdesk.channels.services import Supervisor, build_services

    desk = open_desk(ctx, db, config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    supervisor = Supervisor(build_services(desk, on_error=_say_error))
    supervisor.start()
    boxes = len(desk.settings.mailboxes)
    bot = ", the Telegram bot" if desk.settings.telegram is not None else ""
    typer.echo(f"serving {boxes} mailbox(es){bot} and the outbox; Ctrl-C stops")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    left = supervisor.stop()
    if left:  # past the wait: they end with the process; what they had not committed is redone
        typer.echo(f"still busy when stopping: {', '.join(left)}", err=True)
    else:
        desk.close()
    typer.echo("stopped")


def _say_error(name: str, message: str) -> None:
    typer.echo(f"{name}: {message}", err=True)


def doctor(
    ctx: typer.Context,
    db: DbOption = None,
    mailbox: MailboxOption = None,
    config: ConfigOption = None,
) -> None:
    """Check each mailbox (DNS, connection, TLS, login, folders, SMTP), the Telegram bot
    (token, webhook against the mode, updates waiting) and Twilio (caller ID, account, token).

    It only looks: a desk that does not exist yet is reported, never created. A mailbox without
    SMTP is a warning (it can be read, not answered from); exit 1 only for a failed check."""
    settings = settings_for(ctx, config)
    boxes = _mailboxes(settings, mailbox, config_file(ctx, config))
    target = resolve_db(ctx, db, settings, make_dir=False)
    absent = missing_desk(target)
    if absent is not None:
        typer.echo(f"no desk at {absent} yet: sdesk fetch, serve or ingest creates it")
        stored = {box.name: "poller: never ran (no desk yet)" for box in boxes}
    else:
        desk = open_desk(ctx, db, config)
        try:
            stored = _stored_health(desk, boxes)
        finally:
            desk.close()
    problems = warnings = 0
    for box in boxes:
        typer.echo(f"mailbox {box.name} ({box.username} at {box.host}:{box.imap_port})")
        typer.echo(f"  info {stored.pop(box.name)}")
        for level, line in _check_mailbox(box):
            typer.echo(f"  {level:<4} {line}")
            problems += level == FAIL
            warnings += level == WARN
    for name, line in stored.items() if mailbox is None else ():
        typer.echo(name.replace(":", " ", 1))  # "service outbox": what the other services said
        typer.echo(f"  info {line}")
    telegram = settings.telegram
    if telegram is not None and mailbox is None:
        from sdesk.channels.telegram.doctor import check

        typer.echo(f"telegram bot ({telegram.mode} at {telegram.base_url})")
        public = settings.http.public_url if settings.http is not None else None
        for ok, line in check(telegram, public):
            typer.echo(f"  {'ok  ' if ok else 'FAIL'} {line}")
            problems += not ok
    if settings.http is not None and mailbox is None:
        from sdesk.core.signin import why_unavailable

        typer.echo(f"web cabinet ({settings.http.public_url or 'no public_url'})")
        why = why_unavailable(settings)
        typer.echo(f"  {WARN:<4} sign-in links cannot be mailed: {why}" if why else
                   "  ok   sign-in links go out by email")  # fmt: skip
        warnings += why is not None
    telephony = settings.telephony
    if telephony.provider == "twilio" and mailbox is None:
        from sdesk.channels.twilio.doctor import check as check_twilio

        typer.echo(f"telephony (twilio, {telephony.account_sid or 'no account'})")
        for ok, line in check_twilio(settings):
            typer.echo(f"  {'ok  ' if ok else 'FAIL'} {line}")
            problems += not ok
    if problems:
        fail(f"{problems} problem(s) found; see above")
    several = telegram is not None or telephony.provider == "twilio"
    what = "channels" if several else "mailboxes"
    if warnings:
        typer.echo(f"the {what} work, with {warnings} warning(s) above")
    else:
        typer.echo(f"all {what} look fine")


def _stored_health(desk: Desk, boxes: list[MailboxSettings]) -> dict[str, str]:
    """What the pollers (and the other services) last recorded, one line each: it tells a
    failing daemon apart from a mailbox that fails right now."""
    from sdesk.core.health import SERVICE, UNKNOWN, mailbox_status

    now = desk.clock()
    with desk.store.read() as session:
        statuses = mailbox_status(session, boxes, now)

    def ago(at: datetime | None) -> str:
        return f"{_span(now - at)} ago" if at is not None else "never"

    lines = {}
    for s in statuses:
        service = s.name.startswith(SERVICE)
        who = "service" if service else "poller"
        if s.state == UNKNOWN:
            line = f"{who}: never ran on this desk"
        else:
            line = f"{who}: {s.state} since {ago(s.since)}, last good poll {ago(s.last_poll_at)}"
        if not service:
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


OK, WARN, FAIL = "ok", "warn", "FAIL"
Check = tuple[str, str]  # (OK | WARN | FAIL, what was found)


def _level(ok: bool) -> str:
    return OK if ok else FAIL


def _check_mailbox(box: MailboxSettings) -> list[Check]:
    from sdesk.channels.email.login import MailboxError, connect

    results = [_resolve(box.host)]
    if results[0][0] != OK:
        return results
    try:
        client = connect(box)
    except MailboxError as exc:
        return [*results, (FAIL, str(exc))]
    results.append((OK, f"connected ({box.security}) and logged in as {box.username}"))
    try:
        existing = {f[2] for f in client.list_folders()}
        for folder in box.folders:
            results.append(
                (
                    _level(folder in existing),
                    f"folder {folder}" + ("" if folder in existing else " missing"),
                )
            )
        if box.after_intake == "move" and box.move_to not in existing:
            results.append((FAIL, f"move_to folder {box.move_to} missing"))
        idle = client.has_capability("IDLE")
        results.append(
            (OK, "IDLE supported" if idle else f"no IDLE: polls every {box.poll_seconds:g}s")
        )
    finally:
        client.logout()
    results.append(_check_smtp(box))
    return results


def _resolve(host: str) -> Check:
    try:
        socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        return FAIL, f"DNS: cannot resolve {host}: {exc.strerror}"
    return OK, f"DNS: {host} resolves"


def _check_smtp(box: MailboxSettings) -> Check:
    from sdesk.channels.secrets import SecretError, read_secret

    cfg = box.smtp
    if cfg is None:
        # A mailbox that is only read is a valid set-up (README "Mailboxes"): said, not failed.
        return WARN, "no [mailboxes.smtp] server: mail is read, replies cannot be sent from it"
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
        return FAIL, f"SMTP {cfg.host}:{cfg.port}: {exc}"
    except smtplib.SMTPAuthenticationError as exc:
        return FAIL, f"SMTP {cfg.host}:{cfg.port}: login refused ({exc.smtp_code})"
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        return FAIL, f"SMTP {cfg.host}:{cfg.port}: {exc}"
    return OK, f"SMTP {cfg.host}:{cfg.port} ({cfg.security}) accepts us"
