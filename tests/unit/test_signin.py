"""One-time sign-in links and web sessions (core/signin.py, core/websession.py), on both
databases: the link is queued in the outbox for known addresses only, works once, expires,
and requests are limited per address and per client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from sdesk.config import HttpSettings, MailboxSettings, Settings, SmtpSettings
from sdesk.core import signin, websession
from sdesk.core.desk import Desk
from sdesk.core.errors import DeskError
from sdesk.core.signin import SigninThrottled, SigninUnavailable
from sdesk.store.engine import open_store
from sdesk.store.models import Outbox, SigninLink
from tests.conftest import FakeClock
from tests.factories import email

PUBLIC = "https://help.example.com"


def mail_settings(**extra: object) -> Settings:
    box = MailboxSettings(
        name="support",
        host="127.0.0.1",
        security="none",
        username="desk",
        password_env="NOPE",
        address="support@desk.test",
        smtp=SmtpSettings(host="127.0.0.1", port=2525, security="none"),
    )
    return Settings(
        desk_domain="desk.test", mailboxes=[box], http=HttpSettings(public_url=PUBLIC), **extra
    )


@pytest.fixture
def linked(desk_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Desk]:
    store = open_store(desk_url, attachments=tmp_path / "desk.db.files")
    d = Desk(store, mail_settings(), clock=clock)
    d.intake(email("a1@x", frm="ann@example.org", name="Ann Lee"))
    yield d
    d.close()


def queued_links(desk: Desk) -> list[tuple[str, str]]:
    with desk.store.read() as s:
        rows = s.execute(select(Outbox).where(Outbox.kind == "signin")).scalars().all()
        return [(r.recipient, json.loads(r.payload)["text"]) for r in rows]


def code_of(text: str) -> str:
    line = next(x for x in text.splitlines() if x.startswith(PUBLIC + "/signin/"))
    return line.rsplit("/", 1)[1]


def test_a_known_address_gets_a_link_that_works_once(linked: Desk) -> None:
    linked.request_signin_link("  ANN@example.org ", purpose="cabinet", client="10.0.0.1")
    [(to, text)] = queued_links(linked)
    assert to == "ann@example.org"
    assert "Hello Ann," in text and "within 20 minutes" in text
    code = code_of(text)
    assert len(code) >= 43  # 256 bits
    with linked.store.read() as s:
        row = s.execute(select(SigninLink)).scalar_one()
    assert row.code_hash == signin.digest(code) and code not in (row.code_hash or "")
    customer = linked.redeem_signin(code)
    assert customer is not None
    assert linked.redeem_signin(code) is None  # single use
    [(_, text)] = queued_links(linked)
    assert code not in text  # the used link left the outbox row


def test_an_unknown_address_is_answered_the_same_and_gets_nothing(linked: Desk) -> None:
    linked.request_signin_link("nobody@example.org", purpose="cabinet")
    assert queued_links(linked) == []
    with pytest.raises(DeskError, match="not an email address"):
        linked.request_signin_link("not an address", purpose="cabinet")


def test_a_link_expires(linked: Desk, clock: FakeClock) -> None:
    linked.request_signin_link("ann@example.org", purpose="app")
    [(_, text)] = queued_links(linked)
    assert "enter this code instead" in text
    clock.advance(minutes=21)
    assert linked.redeem_signin(code_of(text)) is None
    assert linked.redeem_signin("") is None and linked.redeem_signin("x" * 500) is None


def test_purpose_can_be_required(linked: Desk) -> None:
    linked.request_signin_link("ann@example.org", purpose="app")
    code = code_of(queued_links(linked)[0][1])
    assert linked.redeem_signin(code, purpose="cabinet") is None
    assert linked.redeem_signin(code, purpose="app") is not None


def test_requests_are_limited_per_address_and_per_client(linked: Desk, clock: FakeClock) -> None:
    for _ in range(signin.PER_ADDRESS):
        linked.request_signin_link("ann@example.org", purpose="cabinet")
    with pytest.raises(SigninThrottled, match="this address") as caught:
        linked.request_signin_link("ann@example.org", purpose="cabinet")
    assert 60 <= caught.value.retry_after <= 3601
    # unknown addresses count too: the limit says nothing about who is a customer
    for _ in range(signin.PER_ADDRESS):
        linked.request_signin_link("ghost@example.org", purpose="cabinet")
    with pytest.raises(SigninThrottled):
        linked.request_signin_link("ghost@example.org", purpose="cabinet")
    for n in range(signin.PER_CLIENT):
        linked.request_signin_link(f"p{n}@example.org", purpose="cabinet", client="10.9.9.9")
    with pytest.raises(SigninThrottled, match="your network"):
        linked.request_signin_link("other@example.org", purpose="cabinet", client="10.9.9.9")
    clock.advance(hours=1, seconds=1)
    linked.request_signin_link("ann@example.org", purpose="cabinet", client="10.9.9.9")


def test_no_smtp_or_no_public_url_is_said_plainly(desk: Desk) -> None:
    with pytest.raises(SigninUnavailable, match="public_url"):
        desk.request_signin_link("ann@example.org", purpose="cabinet")
    desk.settings = Settings(http=HttpSettings(public_url=PUBLIC))
    with pytest.raises(SigninUnavailable, match="no mailbox with SMTP"):
        desk.request_signin_link("ann@example.org", purpose="cabinet")


def test_web_sessions_open_look_up_and_close(linked: Desk, clock: FakeClock) -> None:
    linked.request_signin_link("ann@example.org", purpose="cabinet")
    customer = linked.redeem_signin(code_of(queued_links(linked)[0][1]))
    assert customer is not None
    token = linked.open_web_session(customer)
    info = linked.web_session(token)
    assert info is not None and info.customer_id == customer and info.name == "Ann Lee"
    assert websession.csrf_ok(token, info.csrf) and not websession.csrf_ok(token, "x")
    assert linked.web_session(token + "x") is None and linked.web_session("") is None
    linked.close_web_session(token)
    assert linked.web_session(token) is None
    again = linked.open_web_session(customer)
    clock.advance(days=8)
    assert linked.web_session(again) is None
