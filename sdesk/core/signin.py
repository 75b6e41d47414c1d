"""One-time sign-in links by email, for the web cabinet and the mobile app (issue 16).

A customer types an address; when it is one of a customer's email contacts, a link
``{public_url}/signin/{code}`` is queued in the OUTBOX (the dispatcher mails it through the
desk's sending mailbox, like every reply: ARCHITECTURE.md, transactions). The answer is the
same whether or not the address is known (no account enumeration): unknown addresses get a row
without a code, which counts toward the limits like any other request.

- The code has 256 bits from ``secrets``; only its sha256 is stored. It works once
  (``redeem`` is a conditional UPDATE, so two redeems at once give the customer once) and
  expires after ``LINK_LIFETIME``.
- Limits: ``PER_ADDRESS`` requests per address and ``PER_CLIENT`` per client (the caller's
  IP) within ``WINDOW``; past them ``SigninThrottled`` says when to try again.
- The mail's text (with the link) sits in the outbox row until sent; once the link is used
  the row's text is blanked, so the database keeps no live link after its use.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.config import Settings
from sdesk.core import events, outbox, routes
from sdesk.core.autoreply import robot_address
from sdesk.core.contacts import normalise
from sdesk.core.enums import Channel, ContactKind
from sdesk.core.errors import DeskError
from sdesk.store.models import Contact, Customer, Outbox, SigninLink

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

LINK_LIFETIME = timedelta(minutes=20)
WINDOW = timedelta(hours=1)
PER_ADDRESS = 5  # links one address may ask for per WINDOW (a mail bomb stops here)
PER_CLIENT = 20  # requests one client (IP) may make per WINDOW, any addresses
KEEP = timedelta(days=2)  # older request rows are pruned (they no longer count for anything)
OUTBOX_KIND = "signin"
PURPOSES = ("cabinet", "app")
PATH = "/signin/"
MAX_CODE_CHARS = 100


class SigninUnavailable(DeskError):
    """The desk cannot send sign-in links (no mailbox with SMTP, no ``[http] public_url``)."""


class SigninThrottled(DeskError):
    """Too many requests for this address or from this client; ``retry_after`` in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def why_unavailable(settings: Settings) -> str | None:
    """One line saying why this desk cannot mail sign-in links, or None when it can."""
    http = settings.http
    if http is None or not http.public_url:
        return "[http] public_url is not set, so a sign-in link cannot name the cabinet"
    why = routes.why_not_sent(settings, Channel.EMAIL)
    return f"sign-in links go by email, and {why}" if why else None


def link_url(desk: Desk, code: str) -> str:
    http = desk.settings.http
    base = (http.public_url if http else None) or ""
    return f"{base.rstrip('/')}{PATH}{code}"


def request_link(desk: Desk, email: str, *, purpose: str, client: str = "") -> None:
    """Queue a sign-in link to ``email`` when it is a customer's contact; silently nothing
    when it is not. ``client`` (the caller's IP) is limited across addresses. Raises
    ``SigninUnavailable``, ``SigninThrottled``, or ``DeskError`` for a malformed address."""
    if purpose not in PURPOSES:
        raise DeskError(f"unknown sign-in purpose {purpose!r}")
    why = why_unavailable(desk.settings)
    if why is not None:
        raise SigninUnavailable(why)
    address = normalise(ContactKind.EMAIL, email)
    if address is None:
        raise DeskError("that is not an email address")
    address_hash, client_hash = digest(address), digest(client) if client else ""
    with desk.store.write() as session:
        now = desk.clock()
        session.execute(delete(SigninLink).where(col(SigninLink.created_at) < now - KEEP))
        _check_limits(session, now, address_hash, client_hash)
        customer = _customer(session, address)
        row = SigninLink(
            purpose=purpose,
            address_hash=address_hash,
            client_hash=client_hash,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
        session.add(row)
        if customer is None or robot_address(address):
            return  # no customer (or a robot's address): nothing is sent, nothing is said
        code = secrets.token_urlsafe(32)
        row.code_hash, row.customer_id = digest(code), customer.id
        session.flush()
        _queue_mail(session, desk, row, customer, address, code, now)
        events.record(
            session,
            "signin.requested",
            at=now,
            actor="web" if purpose == "cabinet" else purpose,
            customer=customer.id,
            purpose=purpose,
        )


def _check_limits(session: Session, now: datetime, address_hash: str, client_hash: str) -> None:
    since = now - WINDOW
    checks = [(col(SigninLink.address_hash) == address_hash, PER_ADDRESS, "this address")]
    if client_hash:
        checks.append((col(SigninLink.client_hash) == client_hash, PER_CLIENT, "your network"))
    for where, limit, who in checks:
        count, oldest = session.execute(
            select(func.count(), func.min(col(SigninLink.created_at))).where(
                where, col(SigninLink.created_at) > since
            )
        ).one()
        if count >= limit:
            wait = max(60, int((oldest + WINDOW - now).total_seconds()) + 1)
            raise SigninThrottled(
                f"too many sign-in requests for {who}; try again in {_minutes(wait)}", wait
            )


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _customer(session: Session, address: str) -> Customer | None:
    return session.execute(
        select(Customer)
        .join(Contact, col(Contact.customer_id) == col(Customer.id))
        .where(col(Contact.kind) == ContactKind.EMAIL.value, col(Contact.value) == address)
    ).scalar_one_or_none()


def _queue_mail(
    session: Session,
    desk: Desk,
    row: SigninLink,
    customer: Customer,
    address: str,
    code: str,
    now: datetime,
) -> None:
    assert row.id is not None
    name = customer.name.split()[0] if customer.name.split() and "@" not in customer.name else ""
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    lines = [
        f"Hello {name or 'there'},",
        "",
        "open this link to see your requests and write to us:",
        "",
        link_url(desk, code),
        "",
        f"It works once, within {minutes} minutes.",
    ]
    if row.purpose == "app":
        lines += ["", f"In the app, you can enter this code instead: {code}"]
    lines += ["", "If you did not ask for it, ignore this mail: nothing happens without it."]
    payload = {
        "subject": "Your sign-in link",
        "message_id": f"sdesk.signin.{uuid.uuid4().hex[:20]}@{desk.settings.desk_domain}",
        "text": "\n".join(lines),
        "automatic": True,  # Auto-Submitted: an out-of-office robot must not answer it
    }
    outbox.queue(
        session,
        kind=OUTBOX_KIND,
        channel=Channel.EMAIL.value,
        ticket_id=None,
        message_id=None,
        recipient=address,
        payload=payload,
        at=now,
        key=f"{OUTBOX_KIND}:{row.id}",
    )


def redeem(desk: Desk, code: str, *, purpose: str | None = None) -> int | None:
    """The customer id of a valid, unused, unexpired code, once; None otherwise (one answer for
    unknown, used and expired: the caller shows one message). ``purpose`` limits it to links
    asked for that purpose."""
    if not code or len(code) > MAX_CODE_CHARS or not code.isascii():
        return None
    with desk.store.write() as session:
        now = desk.clock()
        where = [
            col(SigninLink.code_hash) == digest(code),
            col(SigninLink.used_at).is_(None),
            col(SigninLink.expires_at) > now,
        ]
        if purpose is not None:
            where.append(col(SigninLink.purpose) == purpose)
        found = session.execute(
            select(col(SigninLink.id), col(SigninLink.customer_id)).where(*where)
        ).one_or_none()
        if found is None or found[1] is None:
            return None
        link_id, customer_id = found
        # Conditional: of two redeems at once, only one changes the row (PostgreSQL too).
        done = session.execute(
            update(SigninLink)
            .where(col(SigninLink.id) == link_id, col(SigninLink.used_at).is_(None))
            .values(used_at=now)
        )
        if getattr(done, "rowcount", 0) != 1:
            return None
        _blank_mail(session, link_id)
        events.record(session, "signin.redeemed", at=now, actor="web", customer=customer_id)
        return int(customer_id)


def _blank_mail(session: Session, link_id: int) -> None:
    """The used link's text leaves the outbox row (sent already: it was clicked)."""
    row = session.execute(
        select(Outbox).where(col(Outbox.idempotency_key) == f"{OUTBOX_KIND}:{link_id}")
    ).scalar_one_or_none()
    if row is not None:
        payload = json.loads(row.payload or "{}")
        payload["text"] = "(a sign-in link, used)"
        row.payload = json.dumps(payload, ensure_ascii=False)
