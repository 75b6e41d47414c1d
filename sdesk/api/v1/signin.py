"""``/auth``: how the mobile app gets a customer's token without a password.

``POST /auth/link`` mails the customer a one-time link with its code (``core/signin.py``: the
same answer whether or not the address is a customer's, limited per address and per client);
``POST /auth/token`` exchanges the code, once and before it expires, for a customer token.
Neither takes a bearer token, and neither is keyed by ``Idempotency-Key``: a second link
request mails a second link (within the limits), and a code works once by design.
"""

import secrets
from typing import Annotated

from fastapi import APIRouter, Body, Request
from starlette.concurrency import run_in_threadpool

from sdesk.api.v1 import reads
from sdesk.api.v1.deps import Context
from sdesk.api.v1.errors import ERROR_RESPONSES, ApiError
from sdesk.api.v1.schemas import CodeExchange, CustomerRef, LinkRequest, LinkSent, TokenOut
from sdesk.core import signin
from sdesk.core.errors import DeskError
from sdesk.core.tokens import TokenKind

PURPOSE = "app"
SENT = "if this address is one of our customers', a sign-in link and code are on their way"


def router(ctx: Context) -> APIRouter:
    routes = APIRouter(tags=["auth"], responses=ERROR_RESPONSES)
    desk = ctx.desk

    @routes.post("/auth/link", status_code=202, response_model=LinkSent)
    async def send_link(request: Request, body: Annotated[LinkRequest, Body()]) -> LinkSent:
        """Mail a one-time sign-in link (with a code for the app) to a customer's address."""
        client = request.client.host if request.client else ""
        try:
            await run_in_threadpool(
                signin.request_link, desk, body.email, purpose=PURPOSE, client=client
            )
        except signin.SigninThrottled as exc:
            raise ApiError(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
        except signin.SigninUnavailable as exc:
            raise ApiError(503, str(exc)) from None
        except DeskError as exc:
            raise ApiError(422, f"email: {exc}") from None
        return LinkSent(message=SENT)

    @routes.post("/auth/token", status_code=201, response_model=TokenOut)
    def exchange(body: CodeExchange) -> TokenOut:
        """Exchange a sign-in code (once, before it expires) for a customer token."""
        customer_id = signin.redeem(desk, body.code.strip(), purpose=PURPOSE)
        if customer_id is None:
            raise ApiError(401, "the code is unknown, used or expired; ask for a new link")
        name = f"app-{customer_id}-{secrets.token_hex(4)}"
        token = desk.tokens.create(name, TokenKind.CUSTOMER, customer_id=customer_id)
        with desk.store.read() as session:
            found = reads.customer(session, customer_id)
        return TokenOut(
            token=token,
            customer=CustomerRef(id=customer_id, name=found.name if found else ""),
        )

    return routes
