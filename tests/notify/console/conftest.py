"""The console fixtures of tests/tui (the demo desk at a frozen moment, the app factory)."""

from tests.tui.conftest import _utc, demo_desk, demo_path, make_app  # noqa: F401  (fixtures)
