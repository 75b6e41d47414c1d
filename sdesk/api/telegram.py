"""The Telegram webhook served over HTTP: a small FastAPI app around the framework-free
``channels/telegram/webhook.handle`` (which checks the secret header and answers 200 only after
the commit). Run with uvicorn: ``serve(desk, host, port)``.

The handler stores synchronously (the desk's write transaction), so it runs in a worker thread:
the event loop keeps answering other requests meanwhile.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request, Response

from sdesk.channels.telegram.webhook import handle, read_secrets
from sdesk.config import TelegramSettings
from sdesk.core.desk import Desk

PATH = "/telegram/webhook"


def create_app(desk: Desk, settings: TelegramSettings) -> FastAPI:
    app = FastAPI(title="sdesk", docs_url=None, redoc_url=None, openapi_url=None)
    secrets = read_secrets(settings)  # once: a token_command is not run per request

    @app.post(PATH)
    async def telegram_webhook(request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        status, text = await asyncio.to_thread(
            handle, desk, settings, headers, body, secrets=secrets
        )
        return Response(content=text, status_code=status, media_type="text/plain")

    return app


def serve(
    desk: Desk, settings: TelegramSettings, *, host: str = "127.0.0.1", port: int = 8080
) -> None:
    """Serve the webhook until interrupted (uvicorn handles SIGINT/SIGTERM)."""
    import uvicorn

    uvicorn.run(create_app(desk, settings), host=host, port=port, log_level="warning")
