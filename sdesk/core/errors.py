"""Errors the core raises on purpose; each message is one line an operator can act on."""


class DeskError(Exception):
    """Base of every refusal the core makes."""


class NotFound(DeskError):
    pass


class StaleTicket(DeskError):
    """The ticket changed since the caller read it; re-read and try again."""


class PermissionDenied(DeskError):
    pass


class NoRoute(DeskError):
    """A reply or call has nowhere to go (no address, no phone)."""
