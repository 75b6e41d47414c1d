"""``sdesk alerts`` (list, ack, test a rule) and ``sdesk oncall``."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sdesk.cli.common import ConfigOption, DbOption, State, fail, open_desk
from sdesk.cli.render import plain
from sdesk.core.alerts import Decision, open_alerts
from sdesk.core.oncall import now_and_next
from sdesk.store.alertviews import list_alerts

app = typer.Typer(help="Agent alerts: list, acknowledge, test a rule.", no_args_is_help=True)


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "—"


def _in(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "no step left"
    seconds = int((at - now).total_seconds())
    return "due now" if seconds <= 0 else f"next step in {seconds // 60}m{seconds % 60:02d}s"


@app.command("list")
def list_(
    ctx: typer.Context,
    everything: Annotated[bool, typer.Option("--all", help="Acknowledged ones too.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Active alerts, who was told how and when, and what was held back (and why)."""
    desk = open_desk(ctx, db, config)
    with desk.store.read() as session:
        views = list_alerts(session, everything=everything)
    out = Console(highlight=False)
    if not views:
        out.print("no active alerts" if not everything else "no alerts")
        return
    now = desk.clock()
    for a in views:
        head = Text(f"alert {a.id} [{a.tier}] {a.state}")
        if a.count > 1:
            head.append(f" ×{a.count}")
        head.append("  ")
        head.append_text(plain(a.title))
        out.print(head)
        if a.state == "active":
            out.print(f"  {_in(a.next_at, now)}; rule {a.rule}; raised {_when(a.created_at)}")
        else:
            out.print(f"  acknowledged by {a.acked_by} ({a.acked_how}) at {_when(a.acked_at)}")
        for n in a.notices:
            line = Text(f"  {_when(n.sent_at or n.created_at)}  {n.agent} by {n.medium}: {n.state}")
            if n.reason:
                line.append(" — ")
                line.append_text(plain(n.reason))
            out.print(line)


@app.command("ack")
def ack(
    ctx: typer.Context,
    alert_id: Annotated[int, typer.Argument(help="The alert's number (sdesk alerts list).")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Acknowledge an alert: its escalation stops."""
    desk = open_desk(ctx, db, config)
    state: State | None = ctx.find_root().obj
    who = (state.agent if state else None) or getpass.getuser()
    acked = desk.acknowledge_alert(alert_id, who, "cli")
    if acked.already:
        typer.echo(f"alert {alert_id} was already acknowledged by {acked.by} ({acked.how})")
    else:
        typer.echo(f"alert {alert_id} acknowledged by {who}")


@app.command("test")
def test(
    ctx: typer.Context,
    rule: Annotated[str, typer.Argument(help="A rule's name from [alerts] rules.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show who would be told, how and when.")
    ] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Who a rule would tell, how and when (with --dry-run nothing is sent); without it, a
    test alert is raised for the running scheduler to escalate."""
    desk = open_desk(ctx, db, config)
    found = desk.settings.alerts.rule(rule)
    if found is None:
        names = ", ".join(r.name for r in desk.settings.alerts.rules) or "none"
        fail(f"no alert rule {rule!r} (rules: {names})")
    from sdesk.alerts.rules import dry_run as plan

    now = desk.clock()
    steps = plan(desk, found, now)
    if not dry_run:
        [opened] = open_alerts(
            desk, [Decision(found, f"test:{rule}:{now.isoformat()}", f"test of rule {rule}",
                            "test")]
        )  # fmt: skip
        typer.echo(f"raised test alert {opened.alert_id}; the scheduler escalates it")
        return
    if not steps:
        typer.echo(f"rule {rule}: nobody would be told (its targets name no active agent)")
        return
    table = Table("After", "Step", "Who", "How")
    for step, login, medium, minutes in steps:
        table.add_row(f"{minutes:g} min", str(step + 1), plain(login), medium)
    Console().print(table)
    typer.echo("dry run: nothing was sent")


def oncall(
    ctx: typer.Context,
    rotation: Annotated[str | None, typer.Argument(help="One rotation; default: all.")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Who is on call now and who is next."""
    desk = open_desk(ctx, db, config)
    settings = desk.settings.alerts
    names = [r.name for r in settings.rotations]
    if rotation is not None and rotation not in names:
        fail(f"no rotation {rotation!r} (rotations: {', '.join(names) or 'none'})")
    if not names:
        typer.echo("no on-call rotations configured ([[alerts.rotations]])")
        return
    now = desk.clock()
    for name in [rotation] if rotation else names:
        current, following = now_and_next(settings, name, now)
        typer.echo(f"{name}: now {current.agent or 'nobody'} until {_when(current.end)}")
        if following is not None:
            typer.echo(f"{name}: next {following.agent or 'nobody'} until {_when(following.end)}")


__all__ = ["app", "oncall"]
