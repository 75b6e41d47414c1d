"""``sdesk/tui/compat.py`` against the installed Textual: each test fails when Textual stops
behaving the way the console relies on (a private name gone or changed), before the console
breaks in a way no other test would name."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from rich.console import RenderableType
from textual.app import App, ComposeResult
from textual.geometry import Size
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.theme import Theme
from textual.widgets import Static

import sdesk.tui
from sdesk.tui.compat import (
    FrameWatchingApp,
    call_from_thread_soon,
    notifications,
    registered_theme,
    set_frame_rate,
    update_scrollbars,
)


class Frames(FrameWatchingApp):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[Screen[Any], RenderableType | None]] = []

    def compose(self) -> ComposeResult:
        yield Static("hello", id="hello")

    def frame_shown(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        self.frames.append((screen, renderable))


async def test_frame_shown_is_called_for_each_frame() -> None:
    app = Frames()
    async with app.run_test(size=(40, 5)) as pilot:
        await pilot.pause()
        drawn = [r for _, r in app.frames if r is not None]
        assert drawn, "no frame reached App._display"
        before = len(app.frames)
        app.query_one("#hello", Static).update("changed")
        await pilot.pause()
        await pilot.pause()
        assert len(app.frames) > before, "a repaint did not pass through App._display"
        assert all(screen is app.screen for screen, _ in app.frames[before:])


async def test_registered_theme_is_the_registry_entry() -> None:
    app = App[None]()
    async with app.run_test():
        mine = Theme(name="compat-test", primary="#123456")
        app.register_theme(mine)
        assert registered_theme(app, "compat-test") is mine
        assert registered_theme(app, "textual-dark") is app.get_theme("textual-dark")
        assert registered_theme(app, "no-such-theme") is None


class Tall(ScrollView):
    DEFAULT_CSS = "Tall { height: 10; overflow-y: auto; overflow-x: hidden; }"


class Scrolling(App[None]):
    def compose(self) -> ComposeResult:
        yield Tall()


async def test_update_scrollbars_shows_hides_and_clamps() -> None:
    app = Scrolling()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(Tall)
        await pilot.pause()
        assert not view.show_vertical_scrollbar
        tall = Size(view.scrollable_content_region.width, 100)
        view.set_reactive(ScrollView.virtual_size, tall)
        update_scrollbars(view, tall)
        assert view.show_vertical_scrollbar
        assert view.vertical_scrollbar.window_virtual_size == 100
        assert view.vertical_scrollbar.window_size == 10
        view.scroll_to(y=80, animate=False, immediate=True)
        await pilot.pause()
        assert view.scroll_y == 80
        short = Size(tall.width, 30)
        view.set_reactive(ScrollView.virtual_size, short)
        update_scrollbars(view, short)
        assert view.scroll_y == 20, "the scroll offset was not clamped to the new size"
        small = Size(tall.width, 5)
        view.set_reactive(ScrollView.virtual_size, small)
        update_scrollbars(view, small)
        assert not view.show_vertical_scrollbar
        assert view.scroll_y == 0


async def test_call_from_thread_soon_runs_on_the_ui_thread() -> None:
    app = App[None]()
    ran: list[tuple[str, bool]] = []
    async with app.run_test() as pilot:
        ui = threading.get_ident()

        def callback(word: str) -> None:
            ran.append((word, threading.get_ident() == ui))

        def broken() -> None:
            raise ValueError("a callback's failure is logged, not fatal")

        posted: list[bool] = []

        def worker() -> None:
            posted.append(call_from_thread_soon(app, broken))
            posted.append(call_from_thread_soon(app.screen, callback, "hello"))

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        await pilot.pause()
        await pilot.pause()
        assert posted == [True, True]
        assert ran == [("hello", True)]
        assert app.is_running
    closed: list[bool] = []
    thread = threading.Thread(
        target=lambda: closed.append(call_from_thread_soon(app, callback, "late"))
    )
    thread.start()
    thread.join()
    assert closed == [False]
    assert ran == [("hello", True)]


class Plain(Screen[None]):
    pass


async def test_set_frame_rate_sets_the_screen_update_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEXTUAL_FPS", raising=False)
    app = App[None]()
    async with app.run_test() as pilot:
        screen = Plain()
        await app.push_screen(screen)
        fresh = Plain()
        assert set_frame_rate(fresh, 120)
        assert not set_frame_rate(fresh, 30), "a screen's timer is made once"
        timer = fresh._update_timer  # what Textual's own code reads
        assert timer.name == "screen_update"
        assert timer._interval == pytest.approx(1 / 120)
        await app.push_screen(fresh)
        fresh.refresh()
        await pilot.pause()
        assert fresh._update_timer is timer, "Textual replaced the timer"
        assert not set_frame_rate(screen, 120), "the other screen already had its own"
    monkeypatch.setenv("TEXTUAL_FPS", "30")
    assert not set_frame_rate(Plain(), 120), "TEXTUAL_FPS in the environment wins"
    assert os.environ["TEXTUAL_FPS"] == "30"


async def test_notifications_lists_the_toasts() -> None:
    app = App[None]()
    async with app.run_test() as pilot:
        app.notify("one", markup=False)
        app.notify("two", title="second", markup=False)
        await pilot.pause()
        assert [(n.title, n.message) for n in notifications(app)] == [
            ("", "one"),
            ("second", "two"),
        ]
        app.clear_notifications()
        assert notifications(app) == []


# -- nothing outside compat.py reaches into Textual ------------------------------------------

TUI = Path(sdesk.tui.__file__).parent


def _modules() -> list[Path]:
    return sorted(p for p in TUI.rglob("*.py") if p.name != "compat.py")


def _textual_private_names(cls: type) -> set[str]:
    """The private names Textual's classes in ``cls``'s ancestry define or assign on ``self``."""
    names: set[str] = set()
    for base in cls.__mro__:
        if not base.__module__.startswith("textual"):
            continue
        names.update(n for n in vars(base) if n.startswith("_") and not n.startswith("__"))
        for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(base)))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
                and node.attr.startswith("_")
            ):
                names.add(node.attr)
    return names


def _private_module(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "textual" and any(p.startswith("_") for p in parts)


def test_no_private_textual_import_outside_compat() -> None:
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not _private_module(node.module), f"{path}: from {node.module} import"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not _private_module(alias.name), f"{path}: import {alias.name}"


def test_no_other_objects_private_attributes_outside_compat() -> None:
    """``x._name`` only on ``self`` (a widget's own state) anywhere but compat.py."""
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                raise AssertionError(f"{path}:{node.lineno}: ._{node.attr[1:]}")


def test_own_private_names_are_not_textuals() -> None:
    """A console class's ``self._name`` is its own: no Textual base class has that name (an
    override or a read of Textual's internals would hide there)."""
    for path in _modules():
        name = ".".join(path.relative_to(TUI.parent.parent).with_suffix("").parts)
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and cls.__module__ == name):
                continue
            theirs = _textual_private_names(cls)
            if not theirs:
                continue
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
            mine = {
                n.attr
                for n in ast.walk(tree)
                if isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Name)
                and n.value.id == "self"
            }
            mine |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            clash = sorted(mine & theirs)
            assert not clash, f"{cls.__qualname__} in {path}: Textual's own {clash}"
