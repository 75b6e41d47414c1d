"""``/tickets``: open, read, list, write on, change and rate tickets.

Every write goes through the core like the console's: a new ticket or a customer's message is
an ``Inbound`` for ``Desk.intake`` (so the customer is found by contact like on every channel,
and the console shows it at its next refresh); an agent's acts are ``Desk.reply``, ``add_note``,
``assign``, ``set_status``, ``set_priority``, with the agent's role checked by the core.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from sdesk.api.v1 import reads
from sdesk.api.v1.deps import (
    Context,
    IdempotencyKey,
    agent_only,
    answer_response,
    caller_dependency,
    check_key,
    json_body,
    once,
    request_digest,
    scope_of,
)
from sdesk.api.v1.errors import ERROR_RESPONSES, ApiError, from_desk
from sdesk.api.v1.schemas import (
    MessageCreated,
    NewMessage,
    NewTicket,
    RatingIn,
    TicketChange,
    TicketDetailOut,
    TicketOut,
    TicketPage,
)
from sdesk.api.v1.views import (
    Views,
    account_chat,
    decoded,
    external_id,
    message_out,
    ticket_out,
)
from sdesk.core.enums import Channel, Priority, Status
from sdesk.core.errors import DeskError
from sdesk.core.idempotency import Answer
from sdesk.core.inbound import Inbound
from sdesk.core.intake import IntakeResult, Outcome
from sdesk.core.tokens import Principal, TokenKind
from sdesk.store.failures import StoreError
from sdesk.store.rawsql import RawSql


def router(ctx: Context) -> APIRouter:
    routes = APIRouter(tags=["tickets"], responses=ERROR_RESPONSES)
    Caller = Annotated[Principal, Depends(caller_dependency(ctx))]
    desk = ctx.desk
    views = Views(ctx)

    @routes.post("/tickets", status_code=201, response_model=TicketDetailOut)
    async def create_ticket(body: NewTicket, who: Caller, key: IdempotencyKey = None) -> Response:
        """Open a ticket for a customer (found by email or phone like on every channel).

        The intake, the answer and the Idempotency-Key's record are one transaction."""
        # Async: what comes before the transaction reads nothing from the store, and the
        # transaction runs on the group-commit writer (core/group.py), awaited here.
        check_key(key)
        external = external_id(who, key)
        inbound = Inbound(
            channel=Channel(body.channel),
            sender=views.sender(who, body.customer),
            customer_id=who.customer_id if who.kind is TokenKind.CUSTOMER else None,
            chat_id=account_chat(who.customer_id) if who.customer_id is not None else None,
            text=body.text,
            subject=body.subject,
            priority=Priority(body.priority),
            external_id=external,
            attachments=tuple(
                decoded(n, f.filename, f.content_type, f.data_base64)
                for n, f in enumerate(body.attachments, 1)
            ),
            new_ticket=True,
            source=f"api token {who.name}",
        )

        def respond(session: Session, result: IntakeResult) -> Answer:
            number = result.ticket_number
            if result.outcome is Outcome.DUPLICATE:  # stored by a request that died after
                found = reads.message_ticket(session, external)
                number = found[0] if found else None
            sql = RawSql(session)
            row = reads.summary_raw(sql, number) if number else None
            if row is None:
                raise ApiError(409, "the ticket could not be opened; retry")
            agent = who.kind is TokenKind.AGENT
            thread = reads.thread_raw(sql, row[-1], public=not agent)
            out = TicketDetailOut(
                **ticket_out(row).model_dump(),
                messages=[message_out(row[0], m, agent=agent) for m in thread],
            )
            return Answer(201, json_body(out))

        claim = (who.token_id, key, request_digest("POST", "/tickets", body)) if key else None
        try:
            answer = await desk.requests.intake_once_async(inbound, respond, claim)
        except (DeskError, StoreError) as exc:
            raise from_desk(exc) from None
        return answer_response(answer)

    @routes.get("/tickets", response_model=TicketPage)
    def list_tickets(
        who: Caller,
        status: Status | None = None,
        priority: Priority | None = None,
        channel: Channel | None = None,
        assignee: Annotated[str | None, Query(max_length=64)] = None,
        customer: Annotated[int | None, Query(ge=1, le=2**62)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, Query(max_length=40)] = None,
    ) -> TicketPage:
        """Tickets newest first, a page at a time; a customer's token lists only theirs."""
        after = reads.decode_cursor(cursor) if cursor else None
        if cursor and after is None:
            raise ApiError(422, "cursor: not a cursor this API gave")
        scope = scope_of(who)
        if scope is not None and customer is not None and customer != scope:
            return TicketPage(items=[], next_cursor=None)
        flt = reads.TicketFilter(
            customer_id=scope if scope is not None else customer,
            status=status.value if status else None,
            priority=priority.value if priority else None,
            channel=channel.value if channel else None,
            assignee=assignee,
        )
        with desk.store.read() as session:
            rows, last = reads.ticket_page(session, flt, limit, after)
        return TicketPage(
            items=[ticket_out(r) for r in rows],
            next_cursor=reads.encode_cursor(last) if last is not None else None,
        )

    @routes.get("/tickets/{number}", response_model=TicketDetailOut)
    def read_ticket(number: int, who: Caller) -> TicketDetailOut:
        """The ticket with its thread (internal notes only for agents' tokens)."""
        return views.detail(who, number)

    @routes.post("/tickets/{number}/messages", status_code=201, response_model=MessageCreated)
    def add_message(
        number: int, body: NewMessage, who: Caller, key: IdempotencyKey = None
    ) -> Response:
        """Write on the ticket: the customer's message, or an agent's reply or internal note."""

        def act() -> tuple[int, MessageCreated]:
            scope = views.visible(who, number)
            if who.kind is not TokenKind.AGENT:
                if body.internal:
                    raise ApiError(403, "internal notes are for agents' tokens")
                return 201, views.customer_message(who, scope, body.text, body.channel, (), key)
            login = agent_only(who)
            if body.internal:
                message_id = desk.add_note(scope.number, login, body.text)
            else:
                message_id = desk.reply(scope.number, login, body.text).message_id
            return 201, views.created(who, scope.number, message_id)

        digest = request_digest("POST", f"/tickets/{number}/messages", body)
        return once(ctx, who, key, digest, act)

    @routes.patch("/tickets/{number}", response_model=TicketOut)
    def change_ticket(number: int, body: TicketChange, who: Caller) -> TicketOut:
        """Change status, priority or assignee (agents' tokens; the core checks the role)."""
        scope = views.visible(who, number)
        login = agent_only(who)
        version = body.expected_version
        if "assignee" in body.model_fields_set:
            desk.assign(scope.number, login, body.assignee, expected_version=version)
            version = None  # checked once, before the first change
        if body.priority is not None:
            desk.set_priority(scope.number, login, body.priority, expected_version=version)
            version = None
        if body.status is not None:
            desk.set_status(
                scope.number,
                login,
                body.status,
                until=body.pending_until,
                expected_version=version,
            )
        return views.summary(scope.id)

    @routes.post("/tickets/{number}/rating", response_model=TicketOut)
    def rate_ticket(
        number: int, body: RatingIn, who: Caller, key: IdempotencyKey = None
    ) -> Response:
        """The customer's rating of a resolved (or closed) ticket: 1 to 5, with a comment."""

        def act() -> tuple[int, TicketOut]:
            scope = views.visible(who, number)
            if who.kind is TokenKind.AGENT:
                raise ApiError(403, "a rating is the customer's: use their token")
            if scope.status not in (Status.RESOLVED.value, Status.CLOSED.value):
                raise ApiError(
                    409, f"ticket #{scope.number} is {scope.status}: rate it once resolved"
                )
            desk.rate(scope.number, body.score, body.comment, via="api")
            return 200, views.summary(scope.id)

        digest = request_digest("POST", f"/tickets/{number}/rating", body)
        return once(ctx, who, key, digest, act)

    return routes
