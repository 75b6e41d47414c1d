"""The desk's top bar: who works here, the main keys, and a short mark when a mailbox is down,
erroring or silent, so an operator notices that mail may not be coming in (the dashboard, ``d``,
has the details).

The bar owns its mailbox health: it reads it in a thread worker, like every other store read of
the console, at mount and on a live console every few seconds, and redraws itself only when the
mark changes (posting ``TopBar.HealthChanged`` then).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from sdesk.core.desk import Desk
from sdesk.core.health import MailboxStatus, mailbox_status
from sdesk.store.queries import AgentRow
from sdesk.tui.render import plain
from sdesk.tui.threads import from_thread

HEALTH_SECONDS = 5.0  # how often a live console reads mailbox health


def health_mark(statuses: Sequence[MailboxStatus]) -> Text | None:
    """A mark like "⚠ support: error" or "⚠ 3 mailboxes: down"; None when all is well."""
    troubled = [s for s in statuses if s.troubled]
    if not troubled:
        return None
    mark = Text("⚠ ", style="bold red", end="")
    if len(troubled) == 1:
        mark.append_text(plain(troubled[0].name, "bold red"))
        mark.append(f": {troubled[0].state}", style="bold red")
    else:
        mark.append(f"{len(troubled)} mailboxes: down", style="bold red")
    return mark


class TopBar(Static):
    """One line: the agent, the mailbox mark (if any), the main keys."""

    @dataclass
    class HealthChanged(Message):
        """The mailbox mark changed (None: all mailboxes are well again)."""

        mark: Text | None

    def __init__(self, desk: Desk, me: AgentRow, *, live: bool, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.desk = desk
        self.me = me
        self.live = live
        self.mail_mark: Text | None = None

    def on_mount(self) -> None:
        self.draw()
        self.follow_health()

    def draw(self) -> None:
        me = self.me
        top = Text(end="")
        top.append(" sdesk ", style="bold reverse")
        top.append("  ")
        top.append_text(plain(f"{me.name or me.login} ({me.login}, {me.role})"))
        if self.mail_mark is not None:  # before the key hints: at 80 columns those are cut
            top.append("  ")
            top.append_text(self.mail_mark)
        top.append("   ? help · / search · f filter · d dashboard", style="dim")
        self.update(top)

    def follow_health(self) -> None:
        """Read health now and, on a live console, every few seconds (no mailboxes: never)."""
        if not self.desk.settings.mailboxes:
            return
        self.load_health()
        if self.live:
            self.set_interval(HEALTH_SECONDS, self.load_health)

    @work(thread=True, exclusive=True, group="health", exit_on_error=False)
    def load_health(self) -> None:
        desk = self.desk
        with desk.store.read() as session:
            statuses = mailbox_status(session, desk.settings.mailboxes, desk.clock())
        from_thread(self, self._health_loaded, statuses)

    def _health_loaded(self, statuses: list[MailboxStatus]) -> None:
        mark = health_mark(statuses)
        if mark != self.mail_mark:
            self.mail_mark = mark
            self.draw()
            self.post_message(self.HealthChanged(mark))
