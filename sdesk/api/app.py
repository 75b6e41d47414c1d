"""The desk's one HTTP application: every router the desk serves, mounted on one FastAPI app.

``sdesk serve`` runs it on uvicorn (``sdesk.api.server.HttpService``) when ``[http]`` is in the
config. Each part of the HTTP side is a router in a module of its own, added here:

- ``/telegram/webhook`` (``telegram.py``) when the bot runs in webhook mode;
- the REST API under ``/api/v1`` and the customer's web cabinet at ``/`` (issue 16);
- Twilio's webhooks under ``/twilio`` (issue 17).

Handlers call the core through ``Desk`` methods like the console does (ARCHITECTURE.md, layers);
a store call blocks, so it runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

from fastapi import FastAPI

from sdesk.api import cabinet
from sdesk.core.desk import Desk


def create_app(desk: Desk) -> FastAPI:
    app = FastAPI(title="sdesk", docs_url=None, redoc_url=None, openapi_url=None)
    telegram = desk.settings.telegram
    if telegram is not None and telegram.mode == "webhook":
        from sdesk.api import telegram as telegram_webhook

        app.include_router(telegram_webhook.router(desk, telegram))
    app.include_router(cabinet.router(desk))  # the customer's web cabinet at /
    return app
