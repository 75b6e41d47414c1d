"""The web cabinet over a real socket (uvicorn on 127.0.0.1, httpx as the browser): sign-in
links work once and expire, CSRF is required on every form, another customer's ticket is a
404 like a missing one, customer text is escaped, and every page carries the security
headers."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import Response
from sqlalchemy import select

from sdesk.api.cabinet.guard import CSP, MAX_UPLOAD_BYTES, Cookies
from sdesk.config import HttpSettings
from sdesk.core.enums import Channel, Status
from sdesk.store.models import Event, Message, Ticket
from tests.cabinet.conftest import ANN, BOB
from tests.cabinet.site import Site, csrf, form_key
from tests.conftest import FakeClock

pytestmark = pytest.mark.timeout(60)
ANN_TICKET, BOB_TICKET = 1001, 1002


def tickets(site: Site) -> list[Ticket]:
    with site.desk.store.read() as s:
        return list(s.execute(select(Ticket).order_by(Ticket.id)).scalars())


def new_request(
    site: Site, client: httpx.Client, subject: str, text: str, **files: tuple[str, bytes, str]
) -> httpx.Response:
    form = client.get("/tickets/new")
    data = {"csrf": csrf(form), "key": form_key(form), "subject": subject, "text": text}
    return client.post("/tickets/new", data=data, files=files or None)


def test_signing_in_by_a_link_that_works_once(site: Site) -> None:
    with site.client() as browser:
        assert "Sign in" in browser.get("/").text
        sent = site.ask_link(browser, ANN)
        assert sent.status_code == 200 and "a sign-in link is on its way" in sent.text
        link = site.last_link()
        answer = site.open_link(browser, link)
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"]
        assert "sdesk_session=" in cookie and "HttpOnly" in cookie
        assert "SameSite=lax" in cookie and "Secure" not in cookie  # public_url is http here
        home = browser.get("/")
        assert "Printer on fire" in home.text and "Bob" not in home.text
        with site.client() as thief:  # the same link, a second time
            again = site.open_link(thief, link)
            assert again.status_code == 400 and "used already" in again.text
            assert "Printer on fire" not in thief.get("/").text
        signout = browser.post("/signout", data={"csrf": csrf(home)})
        assert signout.status_code == 303
        assert browser.get(f"/tickets/{ANN_TICKET}").status_code == 303  # back to sign-in


def test_an_unknown_address_looks_the_same_and_gets_no_mail(site: Site) -> None:
    with site.client() as browser:
        known = site.ask_link(browser, ANN)
        unknown = site.ask_link(browser, "nobody@example.org")
    assert unknown.status_code == known.status_code == 200
    assert unknown.text.replace("nobody@example.org", ANN) == known.text
    with site.desk.store.read() as s:
        kinds = list(s.execute(select(Event.kind).where(Event.kind == "signin.requested")))
    assert len(kinds) == 1


def test_a_link_expires(site: Site, clock: FakeClock) -> None:
    with site.client() as browser:
        site.ask_link(browser, ANN)
        clock.advance(minutes=21)
        answer = site.open_link(browser, site.last_link())
        assert answer.status_code == 400 and "expired" in answer.text
        assert "Printer on fire" not in browser.get("/").text


def test_forms_without_their_csrf_token_are_refused(site: Site) -> None:
    with site.client() as browser:
        site.sign_in(browser, ANN)
        form = browser.get("/tickets/new")
        data = {"key": form_key(form), "subject": "Forged", "text": "from evil.example"}
        assert browser.post("/tickets/new", data=data).status_code == 403
        assert browser.post("/tickets/new", data=data | {"csrf": "0" * 64}).status_code == 403
        good = data | {"csrf": csrf(form)}
        foreign = browser.post("/tickets/new", data=good, headers={"Origin": "https://evil.test"})
        assert foreign.status_code == 403
        cross = browser.post("/tickets/new", data=good, headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403
        refused = browser.post(f"/tickets/{ANN_TICKET}/reply", data={"text": "x", "key": "k1"})
        assert refused.status_code == 403 and "CSP" not in refused.text
        assert browser.post("/signout", data={}).status_code == 403
        assert browser.get("/").status_code == 200 and "Sign out" in browser.get("/").text
    assert [t.subject for t in tickets(site)] == ["Printer on fire", "Bob's secret invoice"]
    with site.client() as stranger:  # the sign-in form needs its cookie's token too
        assert stranger.post("/signin", data={"email": ANN, "csrf": "x" * 32}).status_code == 403


def test_another_customers_ticket_is_not_found_like_a_missing_one(site: Site) -> None:
    site.desk.set_status(BOB_TICKET, "dana", Status.RESOLVED)
    with site.client() as bob:
        site.sign_in(bob, BOB)
        made = new_request(
            site, bob, "Bob's file", "see it", file=("b.txt", b"bob's", "text/plain")
        )
        bob_file = re.findall(
            r'href="(/tickets/\d+/files/\d+)"', bob.get(made.headers["location"]).text
        )[0]
        assert bob.get(bob_file).content == b"bob's"
    with site.client() as browser:
        site.sign_in(browser, ANN)
        token = csrf(browser.get("/"))
        theirs = browser.get(f"/tickets/{BOB_TICKET}")
        missing = browser.get("/tickets/9999")
        assert theirs.status_code == missing.status_code == 404
        assert theirs.text == missing.text and "secret" not in theirs.text
        assert browser.get("/tickets/abc").status_code == 404
        posts = [
            browser.post(
                f"/tickets/{BOB_TICKET}/reply", data={"csrf": token, "text": "hi", "key": "k2"}
            ),
            browser.post(f"/tickets/{BOB_TICKET}/rate", data={"csrf": token, "score": "1"}),
        ]
        assert [p.status_code for p in posts] == [404, 404]
        assert browser.get(bob_file).status_code == 404
        file_id = bob_file.rsplit("/", 1)[1]
        assert browser.get(f"/tickets/{ANN_TICKET}/files/{file_id}").status_code == 404
    with site.desk.store.read() as s:
        bob = s.execute(select(Ticket).where(Ticket.number == BOB_TICKET)).scalar_one()
        texts = list(s.execute(select(Message.text).where(Message.ticket_id == bob.id)).scalars())
    assert bob.rating is None and "hi" not in texts


def test_a_script_in_a_subject_is_shown_as_text(site: Site) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with site.client() as browser:
        site.sign_in(browser, ANN)
        made = new_request(site, browser, evil, f"body {evil}")
        assert made.status_code == 303
        page = browser.get(made.headers["location"])
        listing = browser.get("/")
    for html in (page.text, listing.text):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<script" not in page.text  # no script of ours either: the CSP forbids them all


def test_every_answer_carries_the_security_headers(site: Site) -> None:
    with site.client() as browser:
        answers = [browser.get("/"), browser.get("/signin/whatever"), browser.get("/tickets/1")]
        answers.append(browser.post("/signin", data={}))  # refused: no CSRF cookie
        site.sign_in(browser, ANN)
        answers += [browser.get("/"), browser.get("/tickets/9999"), browser.get("/tickets/new")]
        answers.append(browser.get("/static/cabinet.css"))
    for answer in answers:
        assert answer.headers["content-security-policy"] == CSP, answer.url
        assert "default-src 'self'" in CSP and "script-src 'none'" in CSP
        assert "frame-ancestors 'none'" in CSP
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
    assert answers[0].headers["cache-control"] == "no-store"


def test_a_request_with_a_file_then_the_agents_reply_then_a_rating(site: Site) -> None:
    with site.client() as browser:
        site.sign_in(browser, ANN)
        form = browser.get("/tickets/new")
        data = {"csrf": csrf(form), "key": form_key(form), "subject": "Scanner", "text": "Jams."}
        files = {"file": ("../../etc/jam\u202egnp.exe", b"PNG-ish bytes", "image/png")}
        made = browser.post("/tickets/new", data=data, files=files)
        assert made.status_code == 303
        again = browser.post("/tickets/new", data=data, files=files)  # a second click
        assert again.headers["location"] == made.headers["location"]
        number = int(re.findall(r"/tickets/(\d+)", made.headers["location"])[0])
        page = browser.get(f"/tickets/{number}")
        assert "Jams." in page.text and "jamgnp.exe" in page.text
        link = re.findall(rf'href="(/tickets/{number}/files/\d+)"', page.text)[0]
        download = browser.get(link)
        assert download.content == b"PNG-ish bytes"
        assert download.headers["content-type"] == "application/octet-stream"
        assert download.headers["content-disposition"].startswith("attachment;")
        not_yet = browser.post(f"/tickets/{number}/rate", data={"csrf": csrf(page), "score": "5"})
        assert not_yet.status_code == 400 and "once it is resolved" in not_yet.text

        site.desk.reply(number, "dana", "Try the <b>blue</b> lever.")
        site.desk.set_status(number, "dana", Status.RESOLVED)
        page = browser.get(f"/tickets/{number}")
        assert "Dana Agent" in page.text and "Try the &lt;b&gt;blue&lt;/b&gt; lever." in page.text
        assert "How did we do?" in page.text
        rated = browser.post(
            f"/tickets/{number}/rate",
            data={"csrf": csrf(page), "score": "4", "comment": "quick"},
        )
        assert rated.status_code == 303
        assert "You rated this 4 of 5" in browser.get(f"/tickets/{number}").text

        reply = browser.post(
            f"/tickets/{number}/reply",
            data={"csrf": csrf(page), "key": form_key(page), "text": "It jams again."},
        )
        assert reply.status_code == 303
    with site.desk.store.read() as s:
        ticket = s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()
        messages = list(
            s.execute(
                select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)
            ).scalars()
        )
    assert ticket.channel == Channel.WEB.value and ticket.rating == 4
    assert ticket.status == Status.OPEN.value  # the customer's answer reopened it
    # The "resolved" notice (core/notify.py) is a system message the cabinet shows.
    assert [m.kind for m in messages] == ["inbound", "reply", "system", "inbound"]
    assert messages[1].delivery_state == "queued"  # shown in the cabinet; no warning


def test_oversized_bodies_are_refused_before_parsing(site: Site) -> None:
    with site.client() as browser:
        site.sign_in(browser, ANN)
        big = {"file": ("big.bin", b"x" * (MAX_UPLOAD_BYTES + 1), "application/octet-stream")}
        answer = new_request(site, browser, "Big", "see file", **big)
        assert answer.status_code == 413
        page = browser.get("/")
        padded = {"csrf": csrf(page), "padding": "x" * (300 * 1024)}
        assert browser.post("/signout", data=padded).status_code == 413  # by its length alone
    assert len(tickets(site)) == 2


def test_sign_in_requests_are_limited(site: Site) -> None:
    with site.client() as browser:
        answers = [site.ask_link(browser, ANN).status_code for _ in range(6)]
        assert answers == [200] * 5 + [429]
        limited = site.ask_link(browser, ANN)
        assert int(limited.headers["retry-after"]) >= 60
        assert "try again in" in limited.text


def test_cookies_are_secure_behind_https() -> None:
    cookies = Cookies(HttpSettings(public_url="https://help.example.com"))
    assert cookies.secure and cookies.session == "__Host-sdesk_session"
    carrier = Response()
    cookies.set_session(carrier, "t" * 43)
    header = carrier.headers["set-cookie"]
    assert header.startswith("__Host-sdesk_session=") and "Secure" in header
    assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
