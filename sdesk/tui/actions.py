"""Every console action, declared once: its key, footer label, help text, command-palette entry
and the permission it needs all come from here (STYLE practice 4). Keys are remappable from the
config's ``[console.keys]`` table by binding id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding

from sdesk.core.enums import Role
from sdesk.core.permissions import may


@dataclass(frozen=True, slots=True)
class ActionSpec:
    id: str
    key: str
    action: str
    label: str
    help: str
    group: str
    permission: str | None = None  # the core act it needs (sdesk.core.permissions)
    needs_ticket: bool = False
    footer: bool = True
    namespace: str = ""  # "screen" when a widget's key runs the screen's action

    def binding(self) -> Binding:
        return Binding(
            self.key,
            f"{self.namespace}.{self.action}" if self.namespace else self.action,
            self.label,
            show=self.footer,
            tooltip=self.help,
            id=self.id,
        )

    def allowed(self, role: Role | str) -> bool:
        return self.permission is None or may(role, self.permission)


_T, _I, _W, _G = "Ticket", "Inbox", "Writing", "Console"

DESK_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("open", "enter", "open", "Open", "Open the selected ticket", _I, footer=False),
    ActionSpec(
        "back", "escape", "back", "Back", "Back to the inbox; closes search", _I, footer=False
    ),
    ActionSpec("search", "slash", "search", "Search", "Full-text search of all tickets", _I),
    ActionSpec("filter", "f", "filter_menu", "Filter", "Filter by channel, status, priority", _I),
    ActionSpec("mine", "M", "toggle_mine", "Mine", "Only tickets assigned to me", _I, footer=False),
    ActionSpec(
        "unassigned", "U", "toggle_unassigned", "Unassigned", "Only unassigned", _I, footer=False
    ),
    ActionSpec(
        "clear", "X", "clear_filters", "Clear", "Clear filters and search", _I, footer=False
    ),
    ActionSpec(
        "take_next",
        "t",
        "take_next",
        "Next",
        "Take the most urgent unassigned ticket: open it, assigned to you",
        _I,
        "assign_self",
    ),
    ActionSpec(
        "mark",
        "space",
        "mark",
        "Mark",
        "Mark the ticket for a bulk act (assign, status, priority, snooze, merge)",
        _I,
        needs_ticket=True,
        footer=False,
    ),
    ActionSpec(
        "reply", "r", "reply", "Reply", "Reply to the customer", _T, "reply", needs_ticket=True
    ),
    ActionSpec(
        "note", "n", "note", "Note", "Add an internal note", _T, "add_note", needs_ticket=True
    ),
    ActionSpec(
        "assign_me", "a", "assign_me", "Take", "Assign to me", _T, "assign_self", needs_ticket=True
    ),
    ActionSpec(
        "assign",
        "A",
        "assign",
        "Assign",
        "Assign to…",
        _T,
        "assign",
        needs_ticket=True,
        footer=False,
    ),
    ActionSpec(
        "status", "s", "status", "Status", "Set the status", _T, "set_status", needs_ticket=True
    ),
    ActionSpec(
        "priority",
        "p",
        "priority",
        "Priority",
        "Set the priority",
        _T,
        "set_priority",
        needs_ticket=True,
        footer=False,
    ),
    ActionSpec(
        "snooze",
        "z",
        "snooze",
        "Snooze",
        "Pending until…",
        _T,
        "set_status",
        needs_ticket=True,
        footer=False,
    ),
    ActionSpec(
        "merge",
        "m",
        "merge",
        "Merge",
        "Merge into another ticket",
        _T,
        "merge",
        needs_ticket=True,
        footer=False,
    ),
    ActionSpec("call", "c", "call", "Call", "Call the customer", _T, "call", needs_ticket=True),
    ActionSpec(
        "arrival",
        "E",
        "arrival",
        "ETA",
        "Set the field engineer's arrival time (HH:MM or +45m); the customer is told at once",
        _T,
        "set_arrival",
        needs_ticket=True,
        footer=False,
    ),
    ActionSpec(
        "hang_up",
        "H",
        "hang_up",
        "Hang up",
        "End the ticket's call under way",
        _T,
        "call",
        needs_ticket=True,
        footer=False,
    ),
    ActionSpec(
        "retry",
        "y",
        "retry",
        "Retry",
        "Send a failed reply again",
        _T,
        "reply",
        needs_ticket=True,
        footer=False,
    ),
    ActionSpec(
        "save",
        "w",
        "save_attachment",
        "Save file",
        "Save an attachment into a folder",
        _T,
        needs_ticket=True,
        footer=False,
    ),
    ActionSpec(
        "card",
        "C",
        "toggle_card",
        "Card",
        "The customer's card in place of the thread, or the thread back",
        _T,
        needs_ticket=True,
        footer=False,
    ),
    ActionSpec(
        "canned_reply",
        "ctrl+t",
        "canned_reply",
        "Canned",
        "Reply with a canned response (opens the reply box)",
        _T,
        "reply",
        needs_ticket=True,
        footer=False,
    ),
    ActionSpec(
        "others",
        "o",
        "other_tickets",
        "Other tickets",
        "The customer's other tickets",
        _T,
        needs_ticket=True,
        footer=False,
    ),
)

REPLY_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "send", "ctrl+s", "send", "Send", "Send the reply / save the note", _W, namespace="screen"
    ),
    ActionSpec(
        "canned", "ctrl+t", "canned", "Canned", "Insert a canned response", _W, namespace="screen"
    ),
    ActionSpec(
        "editor", "ctrl+o", "editor", "$EDITOR", "Edit the text in $EDITOR", _W, namespace="screen"
    ),
    ActionSpec(
        "attach",
        "ctrl+f",
        "attach",
        "Files",
        "Attach a file to the reply, remove one, quote the customer or not",
        _W,
        namespace="screen",
    ),
    ActionSpec(
        "close_reply",
        "escape",
        "close_reply",
        "Close",
        "Close; the draft is kept",
        _W,
        namespace="screen",
    ),
)

# `e` opens $EDITOR from the ticket, ctrl+o from inside the text box (`e` types an e there,
# and TextArea keeps ctrl+e for end of line).
EDITOR_ACTION = ActionSpec(
    "edit",
    "e",
    "edit_in_editor",
    "Editor",
    "Write the reply in $EDITOR",
    _T,
    "reply",
    needs_ticket=True,
    footer=False,
)

APP_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("help", "question_mark,f1", "help", "Help", "Show every key", _G),
    ActionSpec("dashboard", "d", "dashboard", "Dashboard", "Charts of the desk", _G, footer=False),
    ActionSpec(
        "alerts",
        "exclamation_mark",
        "alerts",
        "Alerts",
        "Active alerts, who is on call; acknowledge",
        _G,
        footer=False,
    ),
    ActionSpec(
        "palette", "ctrl+p", "command_palette", "Commands", "Command palette", _G, footer=False
    ),
    ActionSpec(
        "quit",
        "q",
        "leave",
        "Quit",
        "Leave the console (asks when drafts are unsent)",
        _G,
        footer=False,
    ),
)

ALL_ACTIONS: tuple[ActionSpec, ...] = (*DESK_ACTIONS, EDITOR_ACTION, *REPLY_ACTIONS, *APP_ACTIONS)


def bindings(specs: Iterable[ActionSpec]) -> list[Binding]:
    return [spec.binding() for spec in specs]


def keys_for(spec: ActionSpec, keymap: dict[str, str]) -> str:
    """The keys as the user has them (after ``[console.keys]``), for the help screen."""
    return keymap.get(spec.id, spec.key)


_KEY_NAMES = {
    "question_mark": "?",
    "exclamation_mark": "!",
    "slash": "/",
    "escape": "Esc",
    "enter": "Enter",
}


def key_label(keys: str) -> str:
    """Textual's key names as people read them: ``question_mark,f1`` → ``? / f1``."""
    return " / ".join(_KEY_NAMES.get(k, k) for k in keys.split(","))


def by_id(spec_id: str) -> ActionSpec:
    return next(s for s in ALL_ACTIONS if s.id == spec_id)


def by_action(name: str) -> ActionSpec | None:
    return next((s for s in ALL_ACTIONS if s.action == name), None)
