"""Customer text reaches Textual and Rich through one path (ARCHITECTURE.md rule 8), checked
two ways:

* the source of ``sdesk/tui``: no ``notify`` gets anything but a literal or ``safe(...)``, and no
  widget, ``Text`` or ``update`` gets an f-string, a concatenation or a bare value that holds a
  customer field (subject, name, text, filename...) without ``safe``/``plain`` around it;
* the running console: a hostile urgent ticket's toast, and a notify with markup and escapes,
  show only visible text.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

import sdesk.tui
from sdesk.core.desk import Desk
from sdesk.core.enums import Priority
from sdesk.core.text import safe
from sdesk.tui.compat import notifications
from tests.factories import email
from tests.tui.conftest import AppFactory, make_desk, running, settle

TUI = Path(sdesk.tui.__file__).parent

# Where a string becomes something drawn: widgets and their updates, Rich and Textual text.
SINKS = {
    "Static", "Label", "Button", "Option", "Input", "Text", "Content", "ConfirmScreen",
    "update", "append", "assemble", "add_row", "add_option", "from_markup",
}  # fmt: skip
SINK_ATTRIBUTES = {"border_title", "border_subtitle", "title", "sub_title", "placeholder"}
# Read-model fields that carry what customers (or mail servers) wrote.
CUSTOMER_FIELDS = {
    "subject", "customer", "name", "author", "text", "filename", "value", "note", "notes",
    "address", "email", "phone", "phones", "sender", "body", "delivery_error", "last_error",
    "error", "source", "words", "content_type", "html", "raw", "why", "problem", "done",
}  # fmt: skip
# As local variables these hold a built ``Text`` or a figure, not a customer's string.
LOCAL_NAMES = {"text", "value"}
SANITISERS = {"safe", "plain", "safe_text", "len", "size", "short", "when", "age", "span"}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _customer_names(node: ast.AST) -> list[str]:
    """Customer fields read in ``node``, except inside a sanitiser's (or counter's) call."""
    if isinstance(node, ast.Call) and _name(node.func) in SANITISERS:
        return []
    found = []
    if isinstance(node, ast.Attribute) and node.attr in CUSTOMER_FIELDS:
        found.append(node.attr)
    elif isinstance(node, ast.Name) and node.id in CUSTOMER_FIELDS - LOCAL_NAMES:
        found.append(node.id)
    for child in ast.iter_child_nodes(node):
        found += _customer_names(child)
    return found


def _unsafe(arg: ast.expr) -> str | None:
    """Why ``arg`` may carry raw customer text into a sink, or None."""
    if isinstance(arg, ast.Constant):
        return None
    if isinstance(arg, ast.Call) and _name(arg.func) in SANITISERS:
        return None
    if isinstance(arg, ast.Call) and _name(arg.func) in ("format", "str", "join"):
        names = _customer_names(arg)
        return f"{_name(arg.func)}() of {', '.join(sorted(set(names)))}" if names else None
    if isinstance(arg, ast.JoinedStr | ast.BinOp | ast.Name | ast.Attribute | ast.Subscript):
        names = _customer_names(arg)
        if names:
            return f"{type(arg).__name__} with {', '.join(sorted(set(names)))}"
    return None


def _strict(arg: ast.expr) -> str | None:
    """A toast takes only a literal or ``safe(...)``: nothing to judge by field names."""
    if isinstance(arg, ast.Constant) or (
        isinstance(arg, ast.Call) and _name(arg.func) in ("safe", "plain")
    ):
        return None
    return f"{type(arg).__name__}, not a literal or safe(...)"


def violations(source: str, filename: str = "<source>") -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name == "notify":
                args = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "message")]
                args += [k.value for k in node.keywords if k.arg == "title"]
                checks = [_strict(a) for a in args]
            elif name in SINKS:
                args = [*node.args, *(k.value for k in node.keywords if k.arg != "style")]
                checks = [_unsafe(a) for a in args]
            else:
                continue
            found += [f"{filename}:{node.lineno} {name}(): {why}" for why in checks if why]
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in SINK_ATTRIBUTES:
                    why = _unsafe(node.value)
                    if why:
                        found.append(f"{filename}:{node.lineno} .{target.attr} = {why}")
    return found


def test_the_console_source_sends_customer_text_only_through_safe_or_plain() -> None:
    files = sorted(TUI.rglob("*.py"))
    assert len(files) > 10, files  # the scan really reads the console's modules
    found = [v for f in files for v in violations(f.read_text(), str(f.relative_to(TUI)))]
    assert found == []


@pytest.mark.parametrize(
    "line",
    [
        'self.notify(f"#{t.subject}")',
        'self.notify(f"#{t.number}")',  # a toast takes safe(...) even for numbers
        "self.notify(message)",
        'self.notify(safe(x), title=f"From {t.customer}")',
        'self.notify("x" + row.subject)',
        'yield Static(f"{t.subject}", markup=False)',
        "yield Label(card.name)",
        'self.query_one(Static).update("Re: " + detail.subject)',
        'out.append(f"  {m.author}", style="bold")',
        "out.append(m.text)",
        'Text("{}".format(t.subject))',
        'Option(" ".join(a.filename for a in files))',
        'panel.border_title = f"Tickets of {card.name}"',
        'Input(placeholder=f"reply to {t.customer}")',
    ],
)
def test_the_scan_finds_raw_customer_text(line: str) -> None:
    assert violations(line), f"not caught: {line}"


@pytest.mark.parametrize(
    "line",
    [
        'self.notify("select a ticket first", severity="warning")',
        'self.notify(safe(f"#{t.number} {t.subject}"), title="New urgent ticket")',
        "out.append_text(plain(t.subject))",
        'out.append(f"#{t.number}  ", style="bold")',
        'out.append(f" {size(a.size)}")',
        'Text(f"{len(t.name)} chars")',
        "Static(plain(card.name), markup=False)",
        'panel.border_title = Text("Mailboxes")',
    ],
)
def test_the_scan_lets_safe_text_through(line: str) -> None:
    assert violations(line) == []


# -- the running console -----------------------------------------------------------------

HOSTILE = "\x1b]52;c;SGVsbG8=\x07\x1b]2;pwned\x07\x9b31m\u202e\u200b [/] [@click=app.quit]"


def _toasts(app: object) -> list[tuple[str, str]]:
    return [(str(n.title), str(n.message)) for n in notifications(app)]


def _clean(text: str) -> bool:
    return not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u200b" for c in text)


async def test_a_hostile_urgent_ticket_toasts_visible_text_only(
    demo_path: Path, demo_desk: Desk, make_app: AppFactory
) -> None:
    other = make_desk(demo_path)
    try:
        app = make_app(demo_desk)
        async with running(app, size=(120, 40)) as pilot:
            while app.stamp is None:
                await pilot.pause(0.05)
            hostile = email("evil@x", name=f"Mal {HOSTILE}", subject=f"Outage {HOSTILE}")
            result = other.intake(dataclasses.replace(hostile, priority=Priority.URGENT))
            for _ in range(100):
                if any(t == "New urgent ticket" for t, _m in _toasts(app)):
                    break
                await pilot.pause(0.05)
            await settle(pilot)
            toasts = [m for t, m in _toasts(app) if t == "New urgent ticket"]
            assert toasts, _toasts(app)
            assert toasts[0].startswith(f"#{result.ticket_number} Outage ␛]52;c;SGVsbG8=")
            assert "[/] [@click=app.quit]" in toasts[0]  # shown, not parsed
            assert all(_clean(m) for m in toasts)
            assert app.is_running  # the markup did not quit or crash it
    finally:
        other.close()


async def test_notify_from_any_widget_is_made_safe(demo_desk: Desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk, live=False)
    async with running(app) as pilot:
        app.screen.notify(f"from {HOSTILE}", title=f"T {HOSTILE}")
        app.notify("Press [b]ctrl+q[/b] to quit")  # Textual's own toasts use markup
        app.notify(safe("[b]kept[/b]"))
        await settle(pilot)
        shown = _toasts(app)
        assert shown[0][1].startswith("from ␛]52;c;SGVsbG8=␛]2;pwned")
        assert shown[0][0].startswith("T ␛]52;c;SGVsbG8=")
        assert all(_clean(t) and _clean(m) for t, m in shown)
        assert shown[1][1] == "Press ctrl+q to quit"
        assert shown[2][1] == "[b]kept[/b]"
        assert all(not n.markup for n in notifications(app))
