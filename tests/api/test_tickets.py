"""The ticket routes over a real socket: create through intake, read with the thread, scope
(another customer's ticket is a 404), notes hidden from customers, agents' acts, rating."""

from __future__ import annotations

from sdesk.core.enums import Status
from tests.api.conftest import Live


def new_ticket(live: Live, who: str, **extra: object) -> dict:
    body = {"subject": "Printer on fire", "text": "It smokes.", **extra}
    with live.client(who) as c:
        answer = c.post("/tickets", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_customer_opens_a_ticket_and_reads_it_with_its_thread(live: Live) -> None:
    ticket = new_ticket(live, "ann", priority="high", channel="app")
    assert ticket["number"] > 0
    assert (ticket["status"], ticket["priority"], ticket["channel"]) == ("new", "high", "app")
    assert ticket["customer"]["name"] == "Ann"
    with live.client("ann") as c:
        read = c.get(f"/tickets/{ticket['number']}").json()
    assert [m["text"] for m in read["messages"]] == ["It smokes."]
    # The core's own read model sees it: the same ticket the console lists.
    detail = live.desk.store.read
    with detail() as session:
        from sdesk.store.queries import ticket_detail

        found = ticket_detail(session, ticket["number"])
    assert found is not None and found.ticket.subject == "Printer on fire"


def test_an_integration_opens_a_ticket_for_a_customer_found_by_contact(live: Live) -> None:
    ticket = new_ticket(live, "shop", customer={"name": "Ann", "email": "ANN@example.org"})
    with live.client("ann") as c:
        mine = c.get("/tickets").json()["items"]
    assert ticket["number"] in [t["number"] for t in mine]  # the same customer as her mail


def test_customer_a_can_neither_read_nor_detect_bs_ticket(live: Live) -> None:
    bobs = new_ticket(live, "bob")["number"]
    missing = 999_999
    with live.client("ann") as c:
        answers = [
            c.get(f"/tickets/{bobs}"),
            c.post(f"/tickets/{bobs}/messages", json={"text": "mine now"}),
            c.post(f"/tickets/{bobs}/rating", json={"score": 1}),
            c.get(f"/tickets/{bobs}/attachments/{'0' * 64}"),
        ]
        absent = c.get(f"/tickets/{missing}")
        listed = c.get("/tickets", params={"customer": bobs}).json()["items"]
        bob_id = live.desk.tokens.principal(live.tokens["bob"]).customer_id  # type: ignore[union-attr]
        card = c.get(f"/customers/{bob_id}")
        found = c.get("/customers", params={"contact": "bob@example.org"}).json()["items"]
    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    # The same answer as for a ticket that does not exist: nothing tells it is there.
    assert answers[0].json()["message"].replace(str(bobs), "N") == absent.json()["message"].replace(
        str(missing), "N"
    )
    assert all(t["customer"]["name"] == "Ann" for t in listed)
    assert card.status_code == 404 and found == []
    with live.client("bob") as c:
        assert [m["text"] for m in c.get(f"/tickets/{bobs}").json()["messages"]] == ["It smokes."]


def test_agent_acts_and_notes_stay_internal(live: Live) -> None:
    number = new_ticket(live, "ann")["number"]
    with live.client("dana") as c:
        note = c.post(f"/tickets/{number}/messages", json={"text": "secret", "internal": True})
        reply = c.post(f"/tickets/{number}/messages", json={"text": "On our way."})
        change = c.patch(
            f"/tickets/{number}", json={"assignee": "dana", "priority": "urgent", "status": "open"}
        )
        agent_view = c.get(f"/tickets/{number}").json()
    assert note.status_code == 201 and note.json()["message"]["kind"] == "note"
    assert reply.status_code == 201 and reply.json()["message"]["kind"] == "reply"
    assert change.status_code == 200, change.text
    assert (change.json()["assignee"], change.json()["priority"]) == ("dana", "urgent")
    assert "secret" in [m["text"] for m in agent_view["messages"]]
    with live.client("ann") as c:
        seen = c.get(f"/tickets/{number}").json()["messages"]
        refused = c.patch(f"/tickets/{number}", json={"status": "closed"})
        own_note = c.post(f"/tickets/{number}/messages", json={"text": "x", "internal": True})
        answer = c.post(f"/tickets/{number}/messages", json={"text": "Thanks!"})
    assert [m["text"] for m in seen] == ["It smokes.", "On our way."]
    assert all(m["kind"] != "note" for m in seen)
    assert refused.status_code == 403 and own_note.status_code == 403
    assert answer.status_code == 201 and answer.json()["ticket"] == number


def test_rating_a_resolved_ticket(live: Live) -> None:
    number = new_ticket(live, "ann")["number"]
    with live.client("ann") as c:
        early = c.post(f"/tickets/{number}/rating", json={"score": 5})
    live.desk.set_status(number, "dana", Status.RESOLVED)
    with live.client("ann") as c:
        rated = c.post(f"/tickets/{number}/rating", json={"score": 4, "comment": "quick"})
        bad = c.post(f"/tickets/{number}/rating", json={"score": 9})
    assert early.status_code == 409
    assert rated.status_code == 200 and rated.json()["rating"] == 4
    assert bad.status_code == 422 and "score" in bad.json()["message"]
    with live.desk.store.read() as session:
        from sqlalchemy import select

        from sdesk.store.models import Event

        data = session.execute(select(Event.data).where(Event.kind == "ticket.rated")).scalar()
    assert data is not None and '"via": "api"' in data


def test_the_resolved_notice_shows_in_the_customers_thread(live: Live) -> None:
    number = new_ticket(live, "ann", channel="app")["number"]
    live.desk.set_status(number, "dana", Status.RESOLVED)
    with live.client("ann") as c:
        texts = [m["text"] for m in c.get(f"/tickets/{number}").json()["messages"]]
    assert len(texts) == 2 and "resolved" in texts[1] and "reply" in texts[1]


def test_list_pages_with_a_cursor_and_filters(live: Live) -> None:
    made = [new_ticket(live, "bob", priority="low")["number"] for _ in range(5)]
    seen: list[int] = []
    cursor = None
    with live.client("bob") as c:
        for _ in range(10):
            params = {"limit": 2, "priority": "low", **({"cursor": cursor} if cursor else {})}
            page = c.get("/tickets", params=params).json()
            seen += [t["number"] for t in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        bad = c.get("/tickets", params={"cursor": "nonsense!"})
    assert seen == sorted(seen, reverse=True)
    assert set(made) <= set(seen) and len(seen) == len(set(seen))
    assert bad.status_code == 422


def test_customers_read_and_find_by_contact(live: Live) -> None:
    with live.client("ann") as c:
        me = c.get("/customers/me").json()
    assert ("email", "ann@example.org") in [(x["kind"], x["value"]) for x in me["contacts"]]
    with live.client("dana") as c:
        found = c.get("/customers", params={"contact": "Bob@Example.org"}).json()["items"]
        one = c.get(f"/customers/{me['id']}").json()
    assert [f["name"] for f in found] == ["Bob"]
    assert one["id"] == me["id"]
