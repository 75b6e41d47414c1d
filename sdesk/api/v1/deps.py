"""What every handler shares: the desk, the caller (from the bearer token) and ``once`` for
POSTs with an ``Idempotency-Key``.

Handlers are plain ``def`` functions: FastAPI runs them in its worker threads, so the store's
blocking calls never hold the event loop (ARCHITECTURE.md, "HTTP side").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from sdesk.api.v1.errors import ApiError, from_desk
from sdesk.api.v1.limits import RateLimiter
from sdesk.core.desk import Desk
from sdesk.core.errors import DeskError
from sdesk.core.idempotency import MAX_KEY_CHARS, Answer
from sdesk.core.tokens import Principal, TokenKind
from sdesk.store.failures import StoreError

bearer = HTTPBearer(auto_error=False, description="A token from `sdesk token create`.")


@dataclass
class Context:
    desk: Desk
    limiter: RateLimiter

    @property
    def region(self) -> str:
        return self.desk.settings.default_region


def caller_dependency(ctx: Context) -> Callable[..., Awaitable[Principal]]:
    async def caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        """Async, so a token seen a moment ago costs no trip to a worker thread."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(
                401,
                "send a token: Authorization: Bearer ...",
                headers={"WWW-Authenticate": "Bearer"},
            )
        token = credentials.credentials
        who = ctx.desk.tokens.cached(token)
        if who is None:
            who = await run_in_threadpool(ctx.desk.tokens.principal, token)
        if who is None:
            raise ApiError(
                401, "the token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
            )
        wait = ctx.limiter.take(who.token_id)
        if wait > 0:
            raise ApiError(
                429,
                "too many requests for this token; slow down",
                headers={"Retry-After": RateLimiter.retry_after(wait)},
            )
        return who

    return caller


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=MAX_KEY_CHARS,
        description="Retrying with the same key returns the first answer; never acts twice.",
    ),
]


def json_body(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def request_digest(method: str, path: str, body: Any) -> str:
    """The request as the key's owner sent it: another body with the same key is refused."""
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    basis = json.dumps([method, path, body], sort_keys=True, default=str).encode()
    return hashlib.sha256(basis).hexdigest()


def once(
    ctx: Context,
    who: Principal,
    key: str | None,
    digest: str,
    act: Callable[[], tuple[int, BaseModel]],
) -> Response:
    """Run ``act`` (which returns the status and the body) once per Idempotency-Key: a retry
    gets the first answer, error answers included."""
    check_key(key)
    if not key:
        status, model = _run(act)
        return Response(json_body(model), status_code=status, media_type="application/json")
    try:
        first = ctx.desk.requests.claim(who.token_id, key, digest)
    except (DeskError, StoreError) as exc:
        raise from_desk(exc) from None
    if first is not None:
        return answer_response(first)
    try:
        status, model = _run(act)
        body = json_body(model)
    except ApiError as exc:
        if exc.status in (409, 429, 503):  # may pass: a retry should run the act again
            ctx.desk.requests.release(who.token_id, key)
            raise
        status, body = exc.status, json.dumps({"error": exc.code, "message": exc.message}).encode()
    except BaseException:
        ctx.desk.requests.release(who.token_id, key)
        raise
    ctx.desk.requests.finish(who.token_id, key, Answer(status, body))
    return Response(body, status_code=status, media_type="application/json")


def check_key(key: str | None) -> None:
    if key is not None and (not key.strip() or not key.isprintable()):
        raise ApiError(422, "Idempotency-Key: use 1 to 200 printable characters")


def answer_response(answer: Answer) -> Response:
    """A stored or fresh answer; a replayed one says so (``Idempotent-Replayed: true``)."""
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return Response(
        answer.body, status_code=answer.status, media_type="application/json", headers=headers
    )


def _run(act: Callable[[], tuple[int, BaseModel]]) -> tuple[int, BaseModel]:
    try:
        return act()
    except (DeskError, StoreError) as exc:
        raise from_desk(exc) from None


def agent_only(who: Principal) -> str:
    if who.kind is not TokenKind.AGENT or who.agent_login is None:
        raise ApiError(403, "only an agent's token may do this")
    return who.agent_login


def scope_of(who: Principal) -> int | None:
    """The customer a token is limited to (None: any)."""
    return who.customer_id if who.kind is TokenKind.CUSTOMER else None


def plain_json(status: int, model: BaseModel) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"), status_code=status)
