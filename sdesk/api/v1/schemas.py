"""The REST API's request and response bodies (pydantic): what ``/api/v1/openapi.json`` shows.

Every string a client sends has a length cap, every list a count cap, so a request's cost is
bounded before the core sees it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sdesk.enums import Priority, Status

ApiChannel = Literal["web", "app", "api"]
MAX_TEXT = 100_000
MAX_SUBJECT = 500


class Strict(BaseModel):
    """Unknown fields are refused (a typo is an error, not silently dropped)."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """Every error: a short code and a sentence saying what is wrong."""

    error: str = Field(description="A short code, e.g. not_found, validation, rate_limited.")
    message: str = Field(description="What is wrong, in one line.")


class CustomerIn(Strict):
    name: str = Field("", max_length=200)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=40)


class FileIn(Strict):
    """A small file sent inline with a new ticket; larger ones go by multipart upload."""

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field("application/octet-stream", max_length=200)
    data_base64: str = Field(description="The file's bytes, base64.")


class NewTicket(Strict):
    customer: CustomerIn | None = Field(
        None, description="Who writes (an email or phone is needed); a customer's token omits it."
    )
    subject: str = Field("", max_length=MAX_SUBJECT)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    priority: Priority = Priority.NORMAL
    channel: ApiChannel = "api"
    attachments: list[FileIn] = Field(default_factory=list, max_length=10)


class NewMessage(Strict):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    internal: bool = Field(False, description="An internal note (agent tokens only).")
    channel: ApiChannel = "api"


class TicketChange(Strict):
    """What an agent changes; absent fields stay as they are. ``assignee`` null unassigns."""

    status: Status | None = None
    priority: Priority | None = None
    assignee: str | None = Field(None, max_length=64)
    pending_until: datetime | None = None
    expected_version: int | None = Field(None, ge=1, le=2**31)


class RatingIn(Strict):
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=2000)


class CustomerRef(BaseModel):
    id: int
    name: str


class TicketOut(BaseModel):
    number: int
    subject: str
    status: str
    priority: str
    channel: str
    customer: CustomerRef
    assignee: str | None
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime
    rating: int | None
    version: int


class AttachmentOut(BaseModel):
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str | None = Field(description="Where to download it; null when only its name is known.")


class MessageOut(BaseModel):
    id: int
    kind: str = Field(description="inbound, reply, call; note and system for agents only.")
    channel: str
    author: str
    text: str
    created_at: datetime
    attachments: list[AttachmentOut]
    delivery_state: str | None = None


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None = Field(description="?cursor= for the next page; null: the end.")


class MessageCreated(BaseModel):
    ticket: int = Field(description="The ticket's number (writing on a closed one opens one).")
    message: MessageOut


class ContactOut(BaseModel):
    kind: str
    value: str


class CustomerOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    contacts: list[ContactOut]


class CustomerList(BaseModel):
    items: list[CustomerOut]


class LinkRequest(Strict):
    email: str = Field(min_length=3, max_length=320)


class LinkSent(BaseModel):
    message: str


class CodeExchange(Strict):
    code: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    token: str = Field(description="A customer token: send it as Authorization: Bearer ...")
    customer: CustomerRef
