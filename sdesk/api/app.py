"""The desk's one HTTP application: every router the desk serves, mounted on one FastAPI app.

``sdesk serve`` runs it on uvicorn (``sdesk.api.server.HttpService``) when ``[http]`` is in the
config. Each part of the HTTP side is a router in a module of its own, added here:

- ``/telegram/webhook`` (``telegram.py``) when the bot runs in webhook mode;
- the REST API under ``/api/v1`` and the customer's web cabinet at ``/`` (issue 16);
- Twilio's webhooks under ``/twilio`` (issue 17); an alert call's key press under
  ``/twilio/alerts`` (``alerts.py``) when telephony is Twilio.

Handlers call the core through ``Desk`` methods like the console does (ARCHITECTURE.md, layers);
a store call blocks, so it runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

from fastapi import FastAPI

from sdesk.api import cabinet
from sdesk.core.desk import Desk


def create_app(desk: Desk) -> FastAPI:
    from sdesk.api.v1 import MOUNT, NO_TELEMETRY, create_api, outer_errors

    app = FastAPI(
        title="sdesk", docs_url=None, redoc_url=None, openapi_url=None, telemetry=NO_TELEMETRY
    )
    telegram = desk.settings.telegram
    if telegram is not None and telegram.mode == "webhook":
        from sdesk.api import telegram as telegram_webhook

        app.include_router(telegram_webhook.router(desk, telegram))
    app.mount(MOUNT, create_api(desk))  # the REST API (its own app: limits, JSON errors)
    outer_errors(app)
    app.include_router(cabinet.router(desk))  # the customer's web cabinet at /
    if desk.settings.telephony.provider == "twilio" and desk.settings.alerts.enabled:
        from sdesk.api import alerts as alert_routes

        # Before the telephony webhooks: their /twilio/{path} would take /twilio/alerts/... too.
        app.include_router(alert_routes.router(desk))
    if desk.settings.telephony.provider == "twilio":
        from sdesk.api import twilio as twilio_webhooks

        app.include_router(twilio_webhooks.router(desk))
    return app
