"""The app's sign-in over a real socket: ``/auth/link`` queues a mail with a one-time code (the
same answer for an unknown address), ``/auth/token`` exchanges the code once for a customer
token that sees the customer's tickets; limits answer 429 with Retry-After."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from sdesk.store.models import Outbox
from tests.api.conftest import Live, serve
from tests.cabinet.site import SMTP_ENV, cabinet_settings

CODE = re.compile(r"enter this code instead: (\S+)")


@pytest.fixture(scope="module")
def mailing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv(SMTP_ENV, "unused")  # the mail is only queued: no dispatcher runs here
        yield from serve(tmp_path_factory.mktemp("signin"), cabinet_settings(9, 9))


def mails(live: Live) -> list[dict]:
    with live.desk.store.read() as session:
        rows = session.execute(select(Outbox).where(Outbox.kind == "signin")).scalars()
        return [{"to": r.recipient, **json.loads(r.payload)} for r in rows]


def test_a_code_by_mail_becomes_a_customer_token_once(mailing: Live) -> None:
    with httpx.Client(base_url=mailing.url, timeout=10) as c:
        asked = c.post("/auth/link", json={"email": "Ann@Example.org"})
        unknown = c.post("/auth/link", json={"email": "nobody@example.org"})
        [mail] = mails(mailing)
        code = CODE.search(mail["text"]).group(1)  # type: ignore[union-attr]
        got = c.post("/auth/token", json={"code": code})
        again = c.post("/auth/token", json={"code": code})
        wrong = c.post("/auth/token", json={"code": "not-a-code"})
    assert asked.status_code == unknown.status_code == 202
    assert asked.json() == unknown.json()  # nothing tells which addresses are customers'
    assert mail["to"] == "ann@example.org"
    assert got.status_code == 201, got.text
    assert got.json()["customer"]["name"] == "Ann"
    assert again.status_code == wrong.status_code == 401
    token = got.json()["token"]
    with httpx.Client(
        base_url=mailing.url, timeout=10, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        mine = c.get("/tickets").json()["items"]
    assert [t["customer"]["name"] for t in mine] == ["Ann"]


def test_too_many_links_for_one_address_is_429(mailing: Live) -> None:
    with httpx.Client(base_url=mailing.url, timeout=10) as c:
        codes = [c.post("/auth/link", json={"email": "bob@example.org"}) for _ in range(7)]
        bad = c.post("/auth/link", json={"email": "not an address"})
    assert [a.status_code for a in codes[:5]] == [202] * 5
    assert codes[-1].status_code == 429 and int(codes[-1].headers["Retry-After"]) >= 1
    assert bad.status_code == 422
