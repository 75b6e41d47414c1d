"""JSON errors: every refusal is ``{"error": code, "message": text}`` with the right status.

Broken JSON is a 400, a body that does not fit the schema a 422 naming the field, the core's
refusals map to 403/404/409/422, a busy desk to 503 with Retry-After. Nothing a client sends
should reach the generic 500 handler; it exists so a bug still answers JSON, never a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from sdesk.api.v1.schemas import ErrorBody
from sdesk.core.errors import DeskError, NotFound, PermissionDenied, StaleTicket
from sdesk.core.idempotency import KeyInFlight, KeyReused
from sdesk.store.failures import StoreError

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation",
    429: "rate_limited",
    503: "unavailable",
}

# Documented on every operation, so a client (and schemathesis) knows each error's shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": name.replace("_", " ")}
    for code, name in _CODES.items()
    if code not in (405, 406, 415)
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _CODES.get(status, "error")
        self.headers = headers or {}


def error_response(
    status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=code or _CODES.get(status, "error"), message=message)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def from_desk(exc: Exception) -> ApiError:
    """The API error a core refusal means."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, NotFound):
        return ApiError(404, message)
    if isinstance(exc, PermissionDenied):
        return ApiError(403, message)
    if isinstance(exc, KeyReused):
        return ApiError(422, message, code="idempotency_key_reused")
    if isinstance(exc, StaleTicket | KeyInFlight):
        return ApiError(409, message)
    if isinstance(exc, StoreError):
        return ApiError(503, "the desk is busy; try again shortly", headers={"Retry-After": "2"})
    return ApiError(422, message, code="refused")


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def allowed_methods(app: FastAPI, request: Request) -> set[str]:
    """Every method some route takes at this path."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return methods


async def refuse_unknown_query(request: Request) -> None:
    """A query parameter the operation does not take is an error, like an unknown body field
    (a typo in a filter must not silently list everything). Async: a plain function would
    cost every request a trip to a worker thread."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known: set[str] = set()
    todo = [dependant]
    while todo:  # the operation's parameters and its dependencies' (a short tree)
        current = todo.pop()
        known |= {p.alias for p in current.query_params}
        todo += current.dependencies
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        raise ApiError(422, f"unknown query parameter {unknown[0]!r}")


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "the body is not valid JSON", "invalid_json")
        first = errors[0] if errors else {}
        where = _field(first.get("loc", ()))
        what = str(first.get("msg", "invalid"))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return error_response(422, f"{where}: {what}{more}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names only the first route's methods
            headers["Allow"] = ", ".join(sorted(allowed_methods(app, request)))
        return error_response(exc.status_code, str(exc.detail), headers=headers or None)

    @app.exception_handler(DeskError)
    async def desk_error(_: Request, exc: DeskError) -> JSONResponse:
        err = from_desk(exc)
        return error_response(err.status, err.message, err.code, err.headers)

    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> JSONResponse:
        err = from_desk(exc)
        return error_response(err.status, err.message, err.code, err.headers)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("api: %s %s failed", request.method, request.url.path)
        return error_response(500, "internal error; it has been logged", "internal")
