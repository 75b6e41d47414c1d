"""Agent alerts over the REST API: acknowledge one (``POST /alerts/{id}/ack``), as the agent
whose token it is, like the console's key, an SMS ``ACK N`` or the voice call's key press
(``Desk.acknowledge_alert``, recorded with who, how "api" and when)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from pydantic import BaseModel, Field

from sdesk.api.v1.deps import (
    Context,
    IdempotencyKey,
    agent_only,
    caller_dependency,
    once,
    request_digest,
)
from sdesk.api.v1.errors import ERROR_RESPONSES
from sdesk.core.tokens import Principal


class AlertAck(BaseModel):
    alert_id: int
    already: bool = Field(description="It was acknowledged before: by and how say by whom.")
    by: str = Field(description="The agent who acknowledged it.")
    how: str = Field(description="console, sms, voice, api or cli.")
    at: datetime
    cancelled: int = Field(description="Notices not yet sent that now will not be.")


def router(ctx: Context) -> APIRouter:
    routes = APIRouter(tags=["alerts"], responses=ERROR_RESPONSES)
    Caller = Annotated[Principal, Depends(caller_dependency(ctx))]

    @routes.post("/alerts/{alert_id}/ack", response_model=AlertAck)
    def acknowledge(
        alert_id: Annotated[int, Path(ge=1, le=2**62)], who: Caller, key: IdempotencyKey = None
    ) -> Response:
        """Stop the alert's escalation (agents' tokens)."""

        def act() -> tuple[int, AlertAck]:
            login = agent_only(who)
            acked = ctx.desk.acknowledge_alert(alert_id, login, "api")
            return 200, AlertAck(
                alert_id=acked.alert_id,
                already=acked.already,
                by=acked.by,
                how=acked.how,
                at=acked.at,
                cancelled=acked.cancelled,
            )

        return once(ctx, who, key, request_digest("POST", f"/alerts/{alert_id}/ack", {}), act)

    return routes
