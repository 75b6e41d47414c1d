"""The Textual console. Only this package imports Textual (see tests/unit/test_import_hygiene)."""

import os

# Up to 120 frames a second (Textual's default is 60): a key that arrives while a frame is drawn
# then waits at most ~8 ms for the next one. Frames are drawn only when something changed, so
# an idle console costs nothing more. ``TEXTUAL_FPS`` in the environment still wins.
os.environ.setdefault("TEXTUAL_FPS", "120")
