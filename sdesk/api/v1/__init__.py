"""The REST API v1 (issue 16): a FastAPI app of its own, mounted at ``/api/v1`` by
``sdesk.api.app``, with its limits and JSON errors and its document at ``/api/v1/openapi.json``
(kept in the repository as ``docs/openapi.json``; ``python -m sdesk.api.openapi`` writes it)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException

from sdesk.api.v1 import alerts, attachments, customers, errors, signin, tickets
from sdesk.api.v1.deps import Context
from sdesk.api.v1.limits import BodyLimit, RateLimiter
from sdesk.config import HttpSettings
from sdesk.core.desk import Desk

MOUNT = "/api/v1"
DESCRIPTION = (
    "The desk's REST API: open and follow tickets, write on them, upload and download files. "
    "Send a token from `sdesk token create` as `Authorization: Bearer ...`. Every POST takes an "
    "`Idempotency-Key` header: a retry with the same key gets the first answer."
)


# FastAPI's OpenTelemetry hooks look at the environment on every request (measured: about 8% of
# a ticket create's time); sdesk exports no telemetry. Older FastAPI ignores the argument.
NO_TELEMETRY: Any = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def outer_errors(app: FastAPI) -> None:
    """JSON errors for ``/api/...`` paths the outer app answers itself (a path the mount never
    sees, e.g. one that ``..`` segments moved out of it); other paths keep the app's own."""

    @app.exception_handler(StarletteHTTPException)
    async def api_not_found(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return errors.error_response(exc.status_code, str(exc.detail))
        return await http_exception_handler(request, exc)


def create_api(desk: Desk) -> FastAPI:
    settings = desk.settings.http or HttpSettings()
    api = FastAPI(
        title="sdesk API",
        version="1",
        description=DESCRIPTION,
        servers=[{"url": MOUNT}],
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(errors.refuse_unknown_query)],
        telemetry=NO_TELEMETRY,
    )
    ctx = Context(desk, RateLimiter(settings.api_rate_per_minute))
    errors.install(api)
    for module in (tickets, attachments, customers, signin, alerts):
        api.include_router(module.router(ctx))
    api.add_middleware(
        BodyLimit,
        json_bytes=settings.api_max_json_kb * 1024,
        upload_bytes=int(settings.api_max_upload_mb * 1024 * 1024) + 64 * 1024,
    )
    return api
