"""Alerts on the desk's HTTP server: Twilio's post of the key pressed in an alert's voice call
(``/twilio/alerts/{notice}/gather``), its signature checked with twilio's
``RequestValidator`` against the URL Twilio was given (``[http] public_url``) before anything
is read. The acknowledgement itself is ``sdesk/alerts/ack.voice_gather``.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from twilio.request_validator import RequestValidator

from sdesk.alerts.ack import voice_gather
from sdesk.alerts.notifiers import VOICE_PATH, callback_base
from sdesk.channels.twilio.client import TwilioConfigError, read_auth_token
from sdesk.core.desk import Desk

TWIML = "application/xml"
JSON = "application/json"


def router(desk: Desk) -> APIRouter:
    routes = APIRouter(include_in_schema=False)
    try:
        validator: RequestValidator | None = RequestValidator(
            read_auth_token(desk.settings.telephony)
        )
    except TwilioConfigError:  # said by ``sdesk doctor``; here every post is refused
        validator = None
    base = callback_base(desk.settings)

    @routes.post(VOICE_PATH + "/{notice_id}/gather")
    async def alert_gather(notice_id: int, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        signature = request.headers.get("X-Twilio-Signature", "")
        if validator is None:
            return Response('{"error": "telephony is not set up"}', 503, media_type=JSON)
        if not signature or not validator.validate(url, form, signature):
            return Response('{"error": "bad Twilio signature"}', 403, media_type=JSON)
        twiml = await asyncio.to_thread(voice_gather, desk, notice_id, form)
        return Response(twiml, 200, media_type=TWIML)

    return routes
