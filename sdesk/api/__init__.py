"""The desk's HTTP side (FastAPI): for now the Telegram webhook (``telegram.py``); the REST API
(issue 16) grows here on the same app."""
