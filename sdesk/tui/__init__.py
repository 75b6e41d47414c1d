"""The Textual console. Only this package imports Textual (see tests/unit/test_import_hygiene)."""
