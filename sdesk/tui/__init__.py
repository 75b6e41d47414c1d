"""The Textual console. Only this package imports Textual (see tests/unit/test_import_hygiene)."""

import gc
import os

# Start-up builds some 400,000 objects that live as long as the console (Textual, SQLAlchemy and
# pydantic classes, tables, styles); the collector walked them over and over while they were being
# made and found nothing to free: ~200 ms of the first paint, two full collections among them.
# ``SdeskApp.settle_memory`` turns it back on after the first paint, with those objects frozen.
gc.disable()

# Up to 120 frames a second (Textual's default is 60): a key that arrives while a frame is drawn
# then waits at most ~8 ms for the next one. Frames are drawn only when something changed, so
# an idle console costs nothing more. ``TEXTUAL_FPS`` in the environment still wins.
os.environ.setdefault("TEXTUAL_FPS", "120")
