"""What the desk screen's action keys do: each asks what it needs (a picker, a prompt, a
confirmation), then runs the core act in a thread worker and reloads. The core enforces roles
and refuses changes made on stale data; its one-line errors are shown as they are."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work

from sdesk.core.arrival import parse_arrival
from sdesk.core.attachments import save_attachment
from sdesk.core.calls import telephony_problem
from sdesk.core.enums import Priority, Status
from sdesk.core.errors import DeskError, StaleTicket
from sdesk.store.queries import ACTIVE, AttachmentRow, MessageRow
from sdesk.tui.render import plain, safe, size
from sdesk.tui.screens.pickers import ChoiceScreen, ConfirmScreen, PromptScreen
from sdesk.tui.threads import from_thread
from sdesk.tui.widgets.inbox import InboxList

if TYPE_CHECKING:
    from sdesk.core.bulk import BulkResult
    from sdesk.tui.screens.desk_parts import DeskParts

    _Base = DeskParts
else:
    _Base = object

_DURATION = re.compile(r"^(\d{1,4})\s*(m|min|h|d|w)$", re.IGNORECASE)


_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
OTHER = -1  # the merge picker's "Other ticket number…" (no ticket has a negative number)


def parse_until(value: str, now: datetime) -> datetime | None:
    """``2h``, ``3d``, ``1w``, ``90m``, or ``YYYY-MM-DD [HH:MM]`` (local time) → aware UTC."""
    m = _DURATION.match(value.strip())
    if m:
        unit = _UNITS[m.group(2).lower()[0]]
        return now + timedelta(**{unit: int(m.group(1))})
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            local = datetime.strptime(value.strip(), fmt).astimezone()  # the operator's zone
        except ValueError:
            continue
        if fmt == "%Y-%m-%d":
            local = local.replace(hour=9)
        return local.astimezone(now.tzinfo)
    return None


class DeskActs(_Base):
    """Mixed into ``DeskScreen``."""

    # -- the runner ------------------------------------------------------------------------

    @work(thread=True, group="act", exit_on_error=False)
    def run_act(
        self,
        done: str,
        act: Callable[[], Any],
        then: Callable[[Any], None] | None = None,
        *,
        moves_away: bool = False,
        scroll_end: bool = False,
    ) -> None:
        """Run one core act off the UI thread. ``moves_away``: the ticket leaves the list's
        order (resolved, merged), so the cursor keeps its row; ``scroll_end``: show the thread's
        new last entry."""
        try:
            result = act()
        except StaleTicket as exc:
            from_thread(self.app, self._refused, str(exc), True)
            return
        except DeskError as exc:
            from_thread(self.app, self._refused, str(exc), False)
            return
        from_thread(self.app, self._acted, done, result, then, moves_away, scroll_end)

    def _refused(self, why: str, stale: bool) -> None:
        self.notify(safe(why), severity="error", markup=False, timeout=8)
        if stale:
            self.reload()  # show what changed; the operator decides again

    def _acted(
        self,
        done: str,
        result: Any,
        then: Callable[[Any], None] | None,
        moves_away: bool,
        scroll_end: bool,
    ) -> None:
        if done:
            self.notify(safe(done), markup=False)
        if then is not None:
            then(result)
        self.reload(stay=moves_away, scroll_end=scroll_end)
        self.refresh_bindings()

    def target_or_say(self) -> tuple[int, int] | None:
        found = self.target()
        if found is None:
            self.notify("select a ticket first", severity="warning", markup=False)
        return found

    # -- take next, marks and bulk acts ---------------------------------------------------

    def action_take_next(self) -> None:
        """One key from the inbox to work: the most urgent unassigned ticket, opened and
        assigned to the operator in one transaction (two agents never get the same one)."""
        desk, me = self.sapp.desk, self.sapp.me.login

        def took(number: int | None) -> None:
            if number is None:
                self.notify("no unassigned ticket is waiting", markup=False)
            else:
                self.open_ticket(number)

        self.run_act("", lambda: desk.take_next(me), then=took)

    def action_mark(self) -> None:
        inbox = self.query_one(InboxList)
        inbox.toggle_mark()
        self.filter_bar.show_marked(len(inbox.marked))

    def marked(self) -> list[int]:
        """The tickets marked for a bulk act, if any (the acts then apply to them all)."""
        return sorted(self.query_one(InboxList).marked)

    def clear_marks(self) -> None:
        self.query_one(InboxList).clear_marks()
        self.filter_bar.show_marked(0)

    def _bulk(self, done: str, act: Callable[[], BulkResult]) -> None:
        def finished(result: BulkResult) -> None:
            self.clear_marks()
            if result.skipped:
                lines = [f"#{n}: {why}" for n, why in result.skipped[:5]]
                more = len(result.skipped) - len(lines)
                if more > 0:
                    lines.append(f"and {more} more")
                self.notify(safe("not changed:\n" + "\n".join(lines)), severity="warning")

        self.run_act(done, act, then=finished, moves_away=True)

    # -- assignment, status, priority ------------------------------------------------------

    def action_assign_me(self) -> None:
        if marked := self.marked():
            desk, me = self.sapp.desk, self.sapp.me.login
            self._bulk(
                f"{len(marked)} tickets assigned to you", lambda: desk.bulk_assign(marked, me, me)
            )
            return
        if (t := self.target_or_say()) is None:
            return
        number, version = t
        me = self.sapp.me.login
        desk = self.sapp.desk
        self.run_act(
            f"#{number} assigned to you",
            lambda: desk.assign(number, me, me, expected_version=version),
        )

    def action_assign(self) -> None:
        marked = self.marked()
        t = None if marked else self.target_or_say()
        if not marked and t is None:
            return
        number, version = t if t is not None else (0, 0)  # 0: the marked tickets instead
        what = f"{len(marked)} marked tickets" if marked else f"#{number}"
        options: list[tuple[Text | str, str | None]] = [
            (plain(f"{a.login}  {a.name} ({a.role})"), a.login) for a in self.agents
        ]
        options.append(("(nobody: unassign)", ""))

        def chosen(login: str | None) -> None:
            if login is None:
                return
            desk, me = self.sapp.desk, self.sapp.me.login
            done = f"{what} assigned to {login}" if login else f"{what} unassigned"
            if marked:
                self._bulk(done, lambda: desk.bulk_assign(marked, login or None, me))
                return
            self.run_act(
                done,
                lambda: desk.assign(number, me, login or None, expected_version=version),
            )

        self.app.push_screen(ChoiceScreen(f"Assign {what} to", options), chosen)

    def action_status(self) -> None:
        marked = self.marked()
        t = None if marked else self.target_or_say()
        if not marked and t is None:
            return
        number, version = t if t is not None else (0, 0)  # 0: the marked tickets instead
        what = f"{len(marked)} marked tickets" if marked else f"#{number}"
        current = self.detail.ticket.status if self.detail and self.is_detail(number) else None
        options: list[tuple[Text | str, Status | None]] = [(s.value, s) for s in Status]

        def chosen(status: Status | None) -> None:
            if status is None:
                return
            desk, me = self.sapp.desk, self.sapp.me.login
            if marked:
                done = f"{what} set {status.value}"
                self._bulk(done, lambda: desk.bulk_set_status(marked, status, me))
                return
            self.run_act(
                f"#{number} is {status.value}",
                lambda: desk.set_status(number, me, status, expected_version=version),
                moves_away=not status.is_active,
            )

        self.app.push_screen(
            ChoiceScreen(
                f"Status of {what}", options, current=Status(current) if current else None
            ),
            chosen,
        )

    def action_priority(self) -> None:
        marked = self.marked()
        t = None if marked else self.target_or_say()
        if not marked and t is None:
            return
        number, version = t if t is not None else (0, 0)  # 0: the marked tickets instead
        what = f"{len(marked)} marked tickets" if marked else f"#{number}"
        options: list[tuple[Text | str, Priority | None]] = [
            (p.value, p) for p in reversed(Priority)
        ]

        def chosen(priority: Priority | None) -> None:
            if priority is None:
                return
            desk, me = self.sapp.desk, self.sapp.me.login
            if marked:
                done = f"{what} set {priority.value}"
                self._bulk(done, lambda: desk.bulk_set_priority(marked, priority, me))
                return
            self.run_act(
                f"#{number} priority {priority.value}",
                lambda: desk.set_priority(number, me, priority, expected_version=version),
            )

        self.app.push_screen(ChoiceScreen(f"Priority of {what}", options), chosen)

    def action_snooze(self) -> None:
        marked = self.marked()
        t = None if marked else self.target_or_say()
        if not marked and t is None:
            return
        number, version = t if t is not None else (0, 0)  # 0: the marked tickets instead
        what = f"{len(marked)} marked tickets" if marked else f"#{number}"
        now = self.sapp.desk.clock()
        morning = datetime.combine(now.astimezone().date() + timedelta(days=1), time(9))
        tomorrow = morning.astimezone().astimezone(now.tzinfo)
        options: list[tuple[Text | str, datetime | str | None]] = [
            ("1 hour", now + timedelta(hours=1)),
            ("4 hours", now + timedelta(hours=4)),
            ("Tomorrow 09:00", tomorrow),
            ("3 days", now + timedelta(days=3)),
            ("1 week", now + timedelta(weeks=1)),
            ("Other… (2h, 3d, 2026-12-01 14:00)", "other"),
        ]

        def snooze(until: datetime) -> None:
            desk, me = self.sapp.desk, self.sapp.me.login
            if marked:
                done = f"{what} pending until {until.astimezone():%d %b %H:%M}"
                self._bulk(
                    done, lambda: desk.bulk_set_status(marked, Status.PENDING, me, until=until)
                )
                return
            self.run_act(
                f"#{number} pending until {until.astimezone():%d %b %H:%M}",
                lambda: desk.set_status(
                    number, me, Status.PENDING, pending_until=until, expected_version=version
                ),
            )

        def typed(value: str | None) -> None:
            until = parse_until(value, now) if value else None
            if until is not None:
                snooze(until)

        def chosen(choice: datetime | str | None) -> None:
            if isinstance(choice, datetime):
                snooze(choice)
            elif choice == "other":
                self.app.push_screen(
                    PromptScreen(
                        f"{what} pending until",
                        placeholder="2h, 3d, 1w or 2026-12-01 14:00",
                        check=lambda v: (
                            None
                            if parse_until(v, now) and parse_until(v, now) > now  # type: ignore[operator]
                            else "a time in the future: 2h, 3d, 1w, or YYYY-MM-DD HH:MM"
                        ),
                    ),
                    typed,
                )

        picker = ChoiceScreen[datetime | str](f"Snooze {what} (pending) until", options)
        self.app.push_screen(picker, chosen)

    def action_arrival(self) -> None:
        """The field engineer's arrival time on the ticket; the customer is told at once."""
        t = self.target_or_say()
        if t is None:
            return
        number = t[0]
        desk, me = self.sapp.desk, self.sapp.me.login
        zone = desk.settings.alerts.business_hours.timezone

        def check(value: str) -> str | None:
            try:
                parse_arrival(value, desk.clock(), zone)
            except DeskError as exc:
                return str(exc)
            return None

        def typed(value: str | None) -> None:
            if not value:
                return
            self.run_act(  # parsed again in the act: a DeskError there is a refusal line
                f"#{number}: arrival {value.strip()}, the customer is told",
                lambda: desk.set_arrival(number, me, parse_arrival(value, desk.clock(), zone)),
            )

        self.app.push_screen(
            PromptScreen(
                f"#{number}: the engineer arrives at", placeholder="HH:MM or +45m", check=check
            ),
            typed,
        )

    def merge_marked(self, marked: list[int]) -> None:
        """Merge the marked tickets into one of them, chosen here (one transaction)."""
        options: list[tuple[Text | str, int | None]] = []
        for row in self.query_one(InboxList).rows:
            if row.number in marked:
                options.append((plain(f"#{row.number} {row.subject or ''}"), row.number))
        known = {n for _, n in options}
        options += [(f"#{n}", n) for n in marked if n not in known]

        def chosen(target: int | None) -> None:
            if target is None:
                return
            sources = [n for n in marked if n != target]
            question = Text(f"Merge {len(sources)} tickets into #{target}? ", style="bold")
            question.append("Their messages move there and they close.")

            def confirmed(yes: bool | None) -> None:
                if yes:
                    desk, me = self.sapp.desk, self.sapp.me.login
                    done = f"{len(sources)} tickets merged into #{target}"
                    self._bulk(done, lambda: desk.merge_many(target, sources, me))

            self.app.push_screen(ConfirmScreen(question), confirmed)

        self.app.push_screen(ChoiceScreen("Merge the marked tickets into", options), chosen)

    def action_merge(self) -> None:
        if len(marked := self.marked()) > 1:
            self.merge_marked(marked)
            return
        if (t := self.target_or_say()) is None:
            return
        number, version = t

        def check(value: str) -> str | None:
            value = value.lstrip("#")
            if not value.isdigit():
                return "type a ticket number, e.g. 1042"
            return "a ticket cannot be merged into itself" if int(value) == number else None

        def confirmed(target: int, yes: bool | None) -> None:
            if not yes:
                return
            desk, me = self.sapp.desk, self.sapp.me.login
            self.run_act(
                f"#{number} merged into #{target}",
                lambda: desk.merge(number, target, me, expected_version=version),
                then=lambda _r: self.open_ticket(target) if self.ticket_open else None,
                moves_away=True,
            )

        def ask(target: int) -> None:
            question = Text(f"Merge #{number} into #{target}? ", style="bold")
            question.append(f"Its messages move there and #{number} closes.")
            self.app.push_screen(ConfirmScreen(question), lambda yes: confirmed(target, yes))

        def typed(value: str | None) -> None:
            if value is not None:
                ask(int(value.lstrip("#")))

        def prompt() -> None:
            self.app.push_screen(
                PromptScreen(
                    f"Merge #{number} into ticket", placeholder="ticket number", check=check
                ),
                typed,
            )

        # The customer's other open tickets first (the card read with the ticket): merging
        # is mostly the same person writing twice. Any other number is one choice away.
        card = self.card if self.is_detail(number) else None
        others = (
            [t for t in card.tickets if t.number != number and t.status in ACTIVE] if card else []
        )
        if not others:
            prompt()
            return
        options: list[tuple[Text | str, int | None]] = [
            (plain(f"#{t.number} {t.status:<8} {t.subject or '(no subject)'}"), t.number)
            for t in others
        ]
        options.append(("Other ticket number…", OTHER))

        def chosen(target: int | None) -> None:
            if target == OTHER:
                prompt()
            elif target is not None:
                ask(target)

        who = card.name if card and card.name else "the customer"
        title = f"Merge #{number} into another ticket of {who}"
        self.app.push_screen(ChoiceScreen(title, options), chosen)

    # -- call ------------------------------------------------------------------------------

    def action_call(self) -> None:
        if (t := self.target_or_say()) is None:
            return
        number, version = t
        desk = self.sapp.desk
        problem = telephony_problem(desk)
        if problem:
            self.notify(safe(problem), severity="error", markup=False, timeout=8)
            return
        if self.card is None or not self.is_detail(number):
            self.notify("open the ticket first (Enter)", severity="warning", markup=False)
            return
        phones, name = self.card.phones, self.card.name or "the customer"
        if not phones:
            self.notify(safe(f"{name} has no phone number on the card"), severity="warning")
            return

        def confirmed(phone: str, yes: bool | None) -> None:
            if yes:
                me = self.sapp.me.login
                self.run_act(
                    f"calling {phone}: your phone rings first",
                    lambda: desk.call_customer(number, me, phone, expected_version=version),
                    scroll_end=True,
                )

        def ask(phone: str | None) -> None:
            if phone:
                question = Text("Call ", style="bold")
                question.append_text(plain(f"{name} at {phone}"))
                question.append(f" about #{number}?")
                self.app.push_screen(ConfirmScreen(question), lambda yes: confirmed(phone, yes))

        if len(phones) == 1:
            ask(phones[0])
        else:
            self.app.push_screen(ChoiceScreen(f"Call {name} on", [(p, p) for p in phones]), ask)

    def action_hang_up(self) -> None:
        if (t := self.target_or_say()) is None:
            return
        number, me, desk = t[0], self.sapp.me.login, self.sapp.desk
        self.run_act("", lambda: desk.phone.hang_up(number, me), then=self._hung_up)

    def _hung_up(self, what: str) -> None:
        self.notify(safe(what), markup=False)

    # -- delivery, attachments, other tickets ----------------------------------------------

    def action_retry(self) -> None:
        if (t := self.target_or_say()) is None or not self.is_detail(t[0]):
            self.notify("open the ticket first (Enter)", severity="warning", markup=False)
            return
        assert self.detail is not None
        failed = [m for m in self.detail.messages if m.delivery_state == "failed"]
        if not failed:
            self.notify("nothing failed on this ticket", markup=False)
            return

        def retry(m: MessageRow | None) -> None:
            if m is not None:
                desk, me = self.sapp.desk, self.sapp.me.login
                self.run_act("queued again", lambda: desk.retry_delivery(m.id, me))

        if len(failed) == 1:
            retry(failed[0])
            return
        options: list[tuple[Text | str, MessageRow | None]] = [
            (plain(f"{m.created_at:%d %b %H:%M} {m.delivery_error or ''}"), m) for m in failed
        ]
        self.app.push_screen(ChoiceScreen("Send again", options), retry)

    def action_save_attachment(self) -> None:
        if (t := self.target_or_say()) is None or not self.is_detail(t[0]):
            self.notify("open the ticket first (Enter)", severity="warning", markup=False)
            return
        assert self.detail is not None
        files = [a for m in self.detail.messages for a in m.attachments if a.stored]
        if not files:
            self.notify("no saved attachments on this ticket", markup=False)
            return
        downloads = Path.home() / "Downloads"
        default = str(downloads if downloads.is_dir() else Path.cwd())

        def folder_for(a: AttachmentRow) -> None:
            def typed(folder: str | None) -> None:
                if folder:
                    blobs = self.sapp.desk.store.blobs
                    self.run_act(
                        "",
                        lambda: save_attachment(blobs, a.sha256, a.filename, Path(folder)),
                        then=lambda path: self.notify(safe(f"saved {path}"), markup=False),
                    )

            self.app.push_screen(
                PromptScreen(
                    f"Save {a.filename} into folder",
                    value=default,
                    check=lambda v: (
                        None if Path(v).expanduser().is_dir() else f"{v} is not a folder"
                    ),
                ),
                typed,
            )

        if len(files) == 1:
            folder_for(files[0])
            return
        options: list[tuple[Text | str, AttachmentRow | None]] = [
            (plain(f"{a.filename}  ({size(a.size)})"), a) for a in files
        ]
        self.app.push_screen(
            ChoiceScreen("Save which attachment?", options),
            lambda a: folder_for(a) if a else None,
        )

    def action_other_tickets(self) -> None:
        if self.card is None or self.detail is None:
            self.notify("open a ticket first (Enter)", severity="warning", markup=False)
            return
        current = self.detail.ticket.number
        options: list[tuple[Text | str, int | None]] = [
            (plain(f"#{t.number} {t.status:<8} {t.subject}"), t.number)
            for t in self.card.tickets
            if t.number != current
        ]
        if not options:
            who = self.card.name or "this customer"
            self.notify(safe(f"{who} has no other tickets"), markup=False)
            return
        self.app.push_screen(
            ChoiceScreen(f"Tickets of {self.card.name}", options),
            lambda n: self.open_ticket(n) if n else None,
        )

    def is_detail(self, number: int) -> bool:
        return self.detail is not None and self.detail.ticket.number == number
