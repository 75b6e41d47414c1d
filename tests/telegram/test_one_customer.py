"""One person across email, SMS and Telegram is one customer: the shared phone number links
them (a Telegram user who shares their own number joins the customer known by it, and a
customer found twice is merged into one)."""

from __future__ import annotations

from sqlalchemy import select

from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind
from sdesk.core.inbound import ContactRef, Inbound, Sender
from sdesk.store.models import Contact, Customer
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import fetch, tickets
from tests.telegram.updates import Updates

PHONE = "+14155550123"


def test_email_sms_and_telegram_by_a_shared_phone_are_one_customer(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1)
    # Telegram first: a customer known by their Telegram id only.
    server.push(tg.text(ann, "Hello from Telegram"))
    fetch(desk)
    # Mail from a web form that asked for the phone: email + phone, a second customer so far.
    desk.intake(
        Inbound(
            channel=Channel.EMAIL,
            sender=Sender(
                name="Ann Lee",
                contacts=(
                    ContactRef(ContactKind.EMAIL, "ann@example.org"),
                    ContactRef(ContactKind.PHONE, PHONE),
                ),
            ),
            subject="Invoice question",
            text="Hello by mail",
            external_id="<mail-1@example.org>",
            message_id="<mail-1@example.org>",
        )
    )
    # An SMS from the phone: the mail's customer.
    desk.intake(
        Inbound(
            channel=Channel.SMS,
            sender=Sender(contacts=(ContactRef(ContactKind.PHONE, "(415) 555-0123"),)),
            text="Hello by SMS",
            external_id="SM0001",
            chat_id=PHONE,
        )
    )
    with desk.store.read() as s:
        assert len(list(s.execute(select(Customer)).scalars())) == 2
    # Telegram vouches for the number: the two are one person.
    server.push(tg.contact(ann, PHONE, own=True))
    fetch(desk)
    with desk.store.read() as s:
        customers = list(s.execute(select(Customer)).scalars())
        contacts = {(c.kind, c.value, c.customer_id) for c in s.execute(select(Contact)).scalars()}
    assert len(customers) == 1
    only = customers[0].id
    assert contacts == {
        ("telegram", str(ann.id), only),
        ("email", "ann@example.org", only),
        ("phone", PHONE, only),
    }
    assert {t.customer_id for t in tickets(desk)} == {only}
    assert {t.channel for t in tickets(desk)} == {"telegram", "email", "sms"}
    # And the next SMS finds the same person.
    result = desk.intake(
        Inbound(
            channel=Channel.SMS,
            sender=Sender(contacts=(ContactRef(ContactKind.PHONE, PHONE),)),
            text="again",
            external_id="SM0002",
            chat_id=PHONE,
        )
    )
    assert result.ticket_number in {t.number for t in tickets(desk)}
