"""App-wide messages; widget-specific ones are nested on their widgets (STYLE practice 5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message

from sdesk.store.queries import TicketRow


@dataclass
class DeskChanged(Message):
    """Something in the store changed (another process or this one); ``new`` are new tickets."""

    new: tuple[TicketRow, ...] = ()


@dataclass
class PresenceChanged(Message):
    """Other agents' presence: ticket number → ((agent, activity), …)."""

    presence: dict[int, tuple[tuple[str, str], ...]]


@dataclass
class EscalationsChanged(Message):
    """Tickets with an alert escalating: ticket number → when its next step is due."""

    due: dict[int, datetime]
