"""The key bar: the keys that work here and now, in one line of text.

Textual's ``Footer`` is a grid of one widget per key, rebuilt (mounted anew, with a screen layout)
on every focus change: the search box handing the focus back to the inbox cost a full layout in
the middle of showing the results, and the replaced widgets were never freed
(Textualize/textual#6666). One line of text, redrawn in place when the keys change, shows the
same thing. Keys are not clickable; the console is driven from the keyboard.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static

Signature = tuple[tuple[str, str, bool], ...]


class KeyBar(Static):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"keybar--key", "keybar--label", "keybar--off"}
    DEFAULT_CSS = """
    KeyBar { height: 1; background: $footer-background; color: $footer-foreground; }
    KeyBar > .keybar--key { color: $footer-key-foreground; text-style: bold; }
    KeyBar > .keybar--label { color: $footer-description-foreground; }
    KeyBar > .keybar--off { color: $text-disabled; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._shown: Signature | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.call_after_refresh(self.bindings_changed, self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        keys: dict[str, tuple[str, str, bool]] = {}  # action → first key shown for it
        palette: tuple[str, str, bool] | None = None
        for _node, binding, enabled, _tip in screen.active_bindings.values():
            entry = (self.app.get_key_display(binding), binding.description, enabled)
            if binding.action == "command_palette":
                palette = entry
            elif binding.show and binding.action not in keys:
                keys[binding.action] = entry
        signature = (*keys.values(), *([palette] if palette else []))
        if signature != self._shown:
            self._shown = signature
            self.update(self._render_keys(signature), layout=False)

    def _render_keys(self, keys: Signature) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        label_style = self.get_component_rich_style("keybar--label")
        off_style = self.get_component_rich_style("keybar--off")
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        for key, label, enabled in keys:
            out.append(f" {key}", style=key_style if enabled else off_style)
            out.append(f" {label} ", style=label_style if enabled else off_style)
        return out
