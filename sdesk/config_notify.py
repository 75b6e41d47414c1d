"""Settings of customer notifications (``[notify]``): which notices go out, their templates in
English and Russian (more languages by adding a code), and the per-recipient cap. A leaf beside
``sdesk.config``: pydantic only.

Placeholders in templates: ``{customer}``, ``{ticket}``, ``{subject}``, ``{link}`` (the cabinet
line, empty without ``[http] public_url``), ``{arrival}`` (the engineer's arrival time).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

NOTICES = ("resolved", "closed", "arrival")

DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "resolved": (
            "Hello {customer},\n\nyour request #{ticket} ({subject}) has been resolved. "
            "If it is not, just reply to this message and the ticket reopens.{link}"
        ),
        "closed": (
            "Hello {customer},\n\nyour request #{ticket} ({subject}) is closed. How satisfied "
            "are you? Rate us 1 to 5 by replying with a single digit (1 bad, 5 great).{link}"
        ),
        "arrival": (
            "Hello {customer},\n\nabout your request #{ticket}: our engineer will arrive "
            "at {arrival}."
        ),
        "link": "\n\nYour request online: {url}",
    },
    "ru": {
        "resolved": (
            "Здравствуйте, {customer}!\n\nВаше обращение №{ticket} ({subject}) решено. "
            "Если это не так, просто ответьте на это сообщение, и обращение откроется снова.{link}"
        ),
        "closed": (
            "Здравствуйте, {customer}!\n\nВаше обращение №{ticket} ({subject}) закрыто. "
            "Оцените нашу работу от 1 до 5, ответив одной цифрой (1 плохо, 5 отлично).{link}"
        ),
        "arrival": (
            "Здравствуйте, {customer}!\n\nПо обращению №{ticket}: наш инженер приедет в {arrival}."
        ),
        "link": "\n\nВаше обращение на сайте: {url}",
    },
}


class NotifySettings(BaseModel):
    """``[notify]``: the customer is told when their ticket is resolved or closed (with a
    satisfaction request) and when an engineer's arrival time is set."""

    resolved: bool = Field(True, description="Tell the customer when the ticket is resolved.")
    closed: bool = Field(True, description="Ask for a rating when the ticket is closed.")
    arrival: bool = Field(True, description="Tell the customer the engineer's arrival time.")
    language: str = Field(
        "en", min_length=2, max_length=8, description="The desk's language for the notices."
    )
    templates: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Per language code, per notice: overrides of the built-in templates.",
    )
    per_recipient_limit: int = Field(
        10, ge=0, description="At most this many notices to one address per window."
    )
    per_recipient_hours: float = Field(24, gt=0, le=24 * 30, description="The cap's window.")
    rating_hours: float = Field(
        24 * 14, gt=0, description="How long after a satisfaction request a digit is a rating."
    )

    def template(self, notice: str, language: str | None) -> str:
        """The template for ``notice`` in ``language`` ("ru-RU" → "ru"), else the desk's, else
        English; a configured override wins over the built-in text."""
        for code in ((language or "").split("-")[0].lower(), self.language, "en"):
            for source in (self.templates, DEFAULT_TEMPLATES):
                text = source.get(code, {}).get(notice)
                if text is not None:
                    return text
        return ""
