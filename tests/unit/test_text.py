"""Untrusted text is shown literally: no live escapes, no invisible reordering."""

from __future__ import annotations

import pytest
from rich.console import Console

from sdesk.cli.render import plain
from sdesk.core.text import Safe, safe, safe_text

HOSTILE = [
    "\x1b]0;pwned\x07title",
    "\x1b[2J\x1b[Hcleared",
    "\x9b31mC1 CSI",
    "nul\x00byte",
    "del\x7f",
    "rtl \u202eevil.exe",
    "zero\u200bwidth\ufeff",
    "isolate\u2066x\u2069",
    "line\u2028separator\u2029",
    "[/]",
    "[@click=app.quit]x[/]",
    "[bold]not bold",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_no_control_or_bidi_survives(value: str) -> None:
    out = safe_text(value)
    assert not any(ord(c) < 32 and c not in "\n\t" for c in out)
    assert not any(0x7F <= ord(c) <= 0x9F for c in out)
    assert not any(c in out for c in "\u202e\u200b\ufeff\u2066\u2069\u2028\u2029")


def test_visible_text_is_kept() -> None:
    assert safe_text("Привет, [мир] 👋\n  tab\there") == "Привет, [мир] 👋\n  tab\there"
    assert safe_text("a\x1b[31mred") == "a\u241b[31mred"


@pytest.mark.parametrize("value", HOSTILE)
def test_rich_renders_it_literally(value: str) -> None:
    console = Console(record=True, width=200, color_system=None)
    console.print(plain(value))
    rendered = console.export_text()
    assert "\x1b" not in rendered
    if value.startswith("["):
        assert value in rendered  # markup is shown, not interpreted


def test_safe_is_the_only_way_to_safe_text() -> None:
    hostile = "\x1b]2;pwned\x07\x9b\u202e\u200b\u2028[b]x[/b]"
    made = safe(hostile)
    assert isinstance(made, Safe) and made == "␛]2;pwned\ufffd\ufffd\ufffd\ufffd[b]x[/b]"
    assert safe(made) is made  # already safe: kept
    assert type(made + hostile) is str and type(f"{made}") is str  # built from it: not Safe
    assert safe("a\nb", single_line=True) == "a b"
