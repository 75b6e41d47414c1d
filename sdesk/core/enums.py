"""The domain's enums, re-exported from their leaf module ``sdesk.enums``.

They moved there so the store can use them without importing the core; this module keeps the
old import path working for code not yet updated.
"""

from __future__ import annotations

from sdesk.enums import (
    AutoKind,
    Channel,
    ContactKind,
    DeliveryState,
    MessageKind,
    Priority,
    RawState,
    Role,
    Status,
)

__all__ = [
    "AutoKind",
    "Channel",
    "ContactKind",
    "DeliveryState",
    "MessageKind",
    "Priority",
    "RawState",
    "Role",
    "Status",
]
