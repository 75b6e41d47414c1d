"""The desk screen's top bar, with a short mark when a mailbox is down, erroring or silent, so
an operator notices that mail may not be coming in (the dashboard, ``d``, has the details).

Mixed into ``DeskScreen``. Health is read in a thread worker every few seconds, like every other
store read of the console; the bar is redrawn only when the mark changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.widgets import Static

from sdesk.core.health import MailboxStatus, mailbox_status
from sdesk.tui.render import plain
from sdesk.tui.threads import from_thread

if TYPE_CHECKING:
    from sdesk.tui.screens.desk import DeskScreen

    _Base = DeskScreen
else:
    _Base = object

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


class DeskHealth(_Base):
    """Mixed into ``DeskScreen``."""

    mail_mark: Text | None = None

    def show_topbar(self) -> None:
        me = self.sapp.me
        top = Text(end="")
        top.append(" sdesk ", style="bold reverse")
        top.append("  ")
        top.append_text(plain(f"{me.name or me.login} ({me.login}, {me.role})"))
        if self.mail_mark is not None:  # before the key hints: at 80 columns those are cut
            top.append("  ")
            top.append_text(self.mail_mark)
        top.append("   ? help · / search · f filter · d dashboard", style="dim")
        self.query_one("#topbar", Static).update(top)

    def watch_mailboxes(self) -> None:
        """Read health now and, on a live console, every few seconds (no mailboxes: never)."""
        if not self.sapp.desk.settings.mailboxes:
            return
        self.load_health()
        if self.sapp.live:
            self.set_interval(HEALTH_SECONDS, self.load_health)

    @work(thread=True, exclusive=True, group="health", exit_on_error=False)
    def load_health(self) -> None:
        desk = self.sapp.desk
        with desk.store.read() as session:
            statuses = mailbox_status(session, desk.settings.mailboxes, desk.clock())
        from_thread(self.app, self._health_loaded, statuses)

    def _health_loaded(self, statuses: list[MailboxStatus]) -> None:
        mark = health_mark(statuses)
        if mark != self.mail_mark:
            self.mail_mark = mark
            self.show_topbar()
