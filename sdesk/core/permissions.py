"""Who may do what. The core enforces it; the console only hides what would be refused."""

from __future__ import annotations

from sdesk.core.enums import Role
from sdesk.core.errors import PermissionDenied

_ALL = frozenset(Role)
_LEADS = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})

ALLOWED: dict[str, frozenset[Role]] = {
    "reply": _ALL,
    "add_note": _ALL,
    "assign_self": _ALL,
    "assign": _LEADS,
    "set_status": _ALL,
    "set_arrival": _ALL,
    "set_priority": _LEADS,
    "merge": _LEADS,
    "call": _ALL,
    "manage_agents": frozenset({Role.ADMIN}),
}


def may(role: Role | str, act: str) -> bool:
    return Role(role) in ALLOWED[act]


def require(role: Role | str, act: str, login: str) -> None:
    if not may(role, act):
        raise PermissionDenied(f"{login} ({role}) may not {act.replace('_', ' ')}")
