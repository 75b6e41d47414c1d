"""``/customers``: a customer's card (name, contacts), found by id or by one contact.

A customer's token sees only itself; another customer is a 404 like a missing one.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from sdesk.api.v1 import reads
from sdesk.api.v1.deps import Context, caller_dependency, scope_of
from sdesk.api.v1.errors import ERROR_RESPONSES, ApiError
from sdesk.api.v1.schemas import ContactOut, CustomerList, CustomerOut
from sdesk.core.tokens import Principal

MAX_FOUND = 20


def customer_out(c: reads.CustomerInfo) -> CustomerOut:
    return CustomerOut(
        id=c.id,
        name=c.name,
        created_at=c.created_at,
        contacts=[ContactOut(kind=k, value=v) for k, v in c.contacts],
    )


def router(ctx: Context) -> APIRouter:
    routes = APIRouter(tags=["customers"], responses=ERROR_RESPONSES)
    Caller = Annotated[Principal, Depends(caller_dependency(ctx))]
    desk = ctx.desk

    def card(who: Principal, customer_id: int) -> CustomerOut:
        scope = scope_of(who)
        with desk.store.read() as session:
            found = reads.customer(session, customer_id)
        if found is None or (scope is not None and found.id != scope):
            raise ApiError(404, f"no customer {customer_id}")
        return customer_out(found)

    @routes.get("/customers/me", response_model=CustomerOut)
    def me(who: Caller) -> CustomerOut:
        """The customer a customer's token belongs to."""
        if who.customer_id is None or scope_of(who) is None:
            raise ApiError(404, "this token is not a customer's")
        return card(who, who.customer_id)

    @routes.get("/customers", response_model=CustomerList)
    def find(
        who: Caller,
        contact: Annotated[
            str, Query(min_length=1, max_length=320, description="An email, phone or chat id.")
        ],
    ) -> CustomerList:
        """The customers whose contact this is, exactly (in any common format)."""
        scope = scope_of(who)
        with desk.store.read() as session:
            ids = reads.customers_by_contact(session, contact, ctx.region)[:MAX_FOUND]
            found = [reads.customer(session, i) for i in ids if scope is None or i == scope]
        return CustomerList(items=[customer_out(c) for c in found if c is not None])

    @routes.get("/customers/{customer_id}", response_model=CustomerOut)
    def read(customer_id: Annotated[int, Path(ge=1, le=2**62)], who: Caller) -> CustomerOut:
        """One customer with their contacts."""
        return card(who, customer_id)

    return routes
