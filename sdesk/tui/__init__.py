"""The Textual console. Only this package imports Textual (see tests/unit/test_import_hygiene).

Importing it changes nothing: the collector's start-up pause is ``tui/startup.py``'s context
manager around the console's start, the frame rate is set per screen by the app."""
