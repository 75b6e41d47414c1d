"""Twilio's webhooks on the desk's HTTP server: ``POST /twilio/<path>``, a router around the
framework-free ``channels/twilio/webhooks.Webhooks`` (signature check, then one act of the
desk). ``sdesk.api.app.create_app`` mounts it when ``[telephony] provider = "twilio"``.

The auth token is read once, when the router is built (a ``auth_token_command`` is not run per
request). Handlers store synchronously, so they run in a worker thread.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from sdesk.channels.twilio.client import TwilioConfigError, read_auth_token
from sdesk.channels.twilio.webhooks import MAX_BODY, Webhooks
from sdesk.core.desk import Desk

PREFIX = "/twilio"


def router(desk: Desk) -> APIRouter:
    routes = APIRouter(include_in_schema=False)
    try:
        hooks = Webhooks(desk, read_auth_token(desk.settings.telephony))
    except TwilioConfigError as exc:
        hooks = Webhooks(desk, None, str(exc))

    @routes.post(PREFIX + "/{path:path}")
    async def twilio_webhook(path: str, request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                break
        answer = await asyncio.to_thread(
            hooks.handle,
            path,
            request.url.query,
            body,
            request.headers.get("X-Twilio-Signature"),
        )
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type)

    return routes
