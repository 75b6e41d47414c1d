"""A footer that rebuilds itself only when the keys it shows change.

Textual's ``Footer`` recomposes on every bindings update (each focus change, each
``refresh_bindings``), and the replaced key widgets are not freed (Textualize/textual#6666): on a
console that moves its cursor all day that is thousands of objects a minute and ever longer
garbage-collector pauses. The keys, labels and enabled states rarely change, so compare first.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class DeskFooter(Footer):
    _shown: tuple[tuple[str, str, str, bool], ...] | None = None

    def _signature(self, screen: Screen) -> tuple[tuple[str, str, str, bool], ...]:
        return tuple(
            (binding.key, binding.action, binding.description, enabled)
            for (_, binding, enabled, _tip) in screen.active_bindings.values()
            if binding.show or binding.action == "command_palette"
        )

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            signature = self._signature(screen)
            if signature == self._shown:
                return
            self._shown = signature
        super().bindings_changed(screen)
