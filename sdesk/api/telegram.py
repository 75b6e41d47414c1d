"""The Telegram webhook on the desk's HTTP server: a router around the framework-free
``channels/telegram/webhook.handle`` (which checks the secret header and answers 200 only after
the commit). ``sdesk.api.app.create_app`` mounts it when the bot runs in webhook mode.

The handler stores synchronously (the desk's write transaction), so it runs in a worker thread:
the event loop keeps answering other requests meanwhile.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, FastAPI, Request, Response

from sdesk.channels.telegram.webhook import PATH, handle, read_secrets
from sdesk.config import TelegramSettings
from sdesk.core.desk import Desk

__all__ = ["PATH", "create_app", "router"]


def router(desk: Desk, settings: TelegramSettings) -> APIRouter:
    routes = APIRouter(include_in_schema=False)
    secrets = read_secrets(settings)  # once: a token_command is not run per request

    @routes.post(PATH)
    async def telegram_webhook(request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        status, text = await asyncio.to_thread(
            handle, desk, settings, headers, body, secrets=secrets
        )
        return Response(content=text, status_code=status, media_type="text/plain")

    return routes


def create_app(desk: Desk, settings: TelegramSettings) -> FastAPI:
    """An app with the webhook alone (its tests; the desk's server is ``sdesk.api.app``)."""
    app = FastAPI(title="sdesk", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(router(desk, settings))
    return app
