"""Tokens, Idempotency-Key and limits over a real socket: revoked → 401, a retry gets the first
answer, another body with the same key → 422, two at once → one ticket, 413 before parsing,
broken JSON → 400, too deep → 400, over the rate → 429 with Retry-After."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from sdesk.core.tokens import TokenKind
from sdesk.store.models import ApiRequest, Ticket
from tests.api.conftest import Live, serve


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A desk with small limits: 4 KB of JSON, 5 requests a minute per token."""
    yield from serve(tmp_path_factory.mktemp("small"), api_max_json_kb=4, api_rate_per_minute=5)


def tickets(live: Live) -> int:
    with live.desk.store.read() as session:
        return int(session.execute(select(func.count()).select_from(Ticket)).scalar_one())


BODY = {"customer": {"email": "carl@example.org"}, "subject": "Order 7", "text": "Where is it?"}


def test_no_token_a_wrong_one_and_a_revoked_one_get_401(live: Live) -> None:
    token = live.desk.tokens.create("temp", TokenKind.INTEGRATION)
    with httpx.Client(base_url=live.url, timeout=10) as c:
        none = c.get("/tickets")
        wrong = c.get("/tickets", headers={"Authorization": "Bearer sdk_nope"})
        before = c.get("/tickets", headers={"Authorization": f"Bearer {token}"})
        live.desk.tokens.revoke("temp")
        after = c.get("/tickets", headers={"Authorization": f"Bearer {token}"})
    assert before.status_code == 200
    assert [r.status_code for r in (none, wrong, after)] == [401, 401, 401]
    assert after.json()["error"] == "unauthorized"
    assert after.headers["WWW-Authenticate"] == "Bearer"


def test_a_retry_with_the_same_key_gets_the_first_answer(live: Live) -> None:
    before = tickets(live)
    with live.client("shop") as c:
        first = c.post("/tickets", json=BODY, headers={"Idempotency-Key": "order-7"})
        again = c.post("/tickets", json=BODY, headers={"Idempotency-Key": "order-7"})
        other = c.post(
            "/tickets", json={**BODY, "text": "changed"}, headers={"Idempotency-Key": "order-7"}
        )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    assert tickets(live) == before + 1


def test_two_requests_at_once_with_one_key_open_one_ticket(live: Live) -> None:
    before = tickets(live)
    start = threading.Barrier(6)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def post() -> None:
        with live.client("shop") as c:
            start.wait(10)
            answer = c.post("/tickets", json=BODY, headers={"Idempotency-Key": "burst-1"})
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [a.status_code for a in answers] == [201] * 6
    assert len({a.json()["number"] for a in answers}) == 1
    assert tickets(live) == before + 1
    with live.desk.store.read() as session:
        keys = session.execute(
            select(ApiRequest.state).where(ApiRequest.key == "burst-1")
        ).scalars()
        assert list(keys) == ["done"]


def test_keys_are_per_token(live: Live) -> None:
    with live.client("ann") as a, live.client("bob") as b:
        one = a.post("/tickets", json={"text": "a"}, headers={"Idempotency-Key": "k"})
        two = b.post("/tickets", json={"text": "b"}, headers={"Idempotency-Key": "k"})
    assert one.status_code == two.status_code == 201
    assert one.json()["number"] != two.json()["number"]


def test_broken_json_is_400_and_a_bad_field_422(live: Live) -> None:
    with live.client("shop") as c:
        broken = c.post(
            "/tickets", content=b'{"text": "x",', headers={"Content-Type": "application/json"}
        )
        wrong = c.post("/tickets", json={**BODY, "priority": "whenever"})
        extra = c.post("/tickets", json={**BODY, "sneaky": 1})
        nobody = c.post("/tickets", json={"text": "who am I"})
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_json"
    assert wrong.status_code == 422 and wrong.json()["message"].startswith("priority")
    assert extra.status_code == 422 and "sneaky" in extra.json()["message"]
    assert nobody.status_code == 422 and "customer" in nobody.json()["message"]


def test_a_body_over_the_limit_is_413_before_parsing(small: Live) -> None:
    huge = json.dumps({**BODY, "text": "x" * 10_000}).encode()
    with small.client("dana") as c:
        declared = c.post("/tickets", content=huge, headers={"Content-Type": "application/json"})

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            for start in range(0, len(huge), 1000):
                yield huge[start : start + 1000]

        streamed = c.post(
            "/tickets", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert declared.status_code == streamed.status_code == 413
    assert declared.json()["error"] == "too_large"


def test_json_nested_too_deep_is_400(small: Live) -> None:
    deep = b'{"text": ' + b"[" * 200 + b"]" * 200 + b"}"
    with small.client("bob") as c:
        answer = c.post("/tickets", content=deep, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"] == "too_deep"


def test_over_the_rate_is_429_with_retry_after_per_token(small: Live) -> None:
    with small.client("ann") as c:
        codes = [c.get("/tickets").status_code for _ in range(7)]
        last = c.get("/tickets")
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    assert last.status_code == 429 and int(last.headers["Retry-After"]) >= 1
    with small.client("shop") as c:  # another token has its own budget
        assert c.get("/tickets").status_code == 200
