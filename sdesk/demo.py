"""A demo desk: a realistic week of an ISP help desk, made only through ``Desk``'s public acts.

Every act runs at its own moment of the past week under a fake clock, so ages, SLA countdowns and
the audit log look lived-in. The same seed always gives the same desk (ids aside).
"""

from __future__ import annotations

import getpass
import random
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from sdesk.config_notify import NotifySettings
from sdesk.core.clock import as_utc
from sdesk.core.contacts import contact
from sdesk.core.desk import Desk
from sdesk.core.enums import AutoKind, Channel, ContactKind, Priority, Role, Status
from sdesk.core.errors import DeskError
from sdesk.core.inbound import ContactRef, Inbound, InboundAttachment, Sender
from sdesk.demo_data import (
    AGENTS,
    AGES,
    APP,
    AREAS,
    BOUNCE,
    BOUNCED,
    CALL,
    COMPANY,
    CUSTOMERS,
    DAEMON,
    DISPATCHER,
    DOMAINS,
    ENGLISH_POOL,
    FATES,
    FIXED_PRIORITIES,
    GAPS,
    ISSUES,
    KEY_PREFIX,
    KIND,
    LANG_ENGINEER,
    LETTER,
    NAMES,
    NEAR,
    NORMAL,
    NOTES,
    OUT_OF_OFFICE,
    PHRASES,
    PRIORITY_ODDS,
    QUOTA,
    RATED,
    RATING_ODDS,
    SCRIPTS,
    STORIES,
    SUPERVISOR,
    WEB,
    E,
    Step,
)
from sdesk.store.models import Agent, Customer, Message, Ticket


@dataclass(frozen=True, slots=True)
class DemoStats:
    """What the seeded desk holds."""

    tickets: int
    messages: int
    customers: int
    agents: int


@dataclass(slots=True)
class _Person:
    name: str
    lang: str
    refs: dict[ContactKind, ContactRef]

    def sender(self, channel: Channel) -> Sender:
        """All their contacts, the channel's own first, so every channel finds ONE customer."""
        own = KIND[channel]
        return Sender(self.name, tuple(sorted(self.refs.values(), key=lambda r: r.kind != own)))


@dataclass(slots=True)
class _Plan:
    """One ticket's story: who writes where about what, how it ends, and the acts on the way."""

    person: _Person
    channel: Channel
    issue: tuple[str, ...]
    fate: str
    priority: Priority
    start: datetime
    assignee: str
    flags: str = ""
    steps: list[Step] = field(default_factory=list)
    number: int = 0
    refs: list[str] = field(default_factory=list)  # the customer's Message-IDs, for threading

    @property
    def chat(self) -> str:
        return self.person.refs[KIND[self.channel]].value


def _people(rng: random.Random) -> dict[str, _Person]:
    rows = [(lang, *row, "")[:4] for lang, table in CUSTOMERS.items() for row in table]
    people = {}
    for i, (lang, name, kinds, mail) in enumerate(rows):
        if "@" not in mail:
            mail = f"{mail or name.lower().replace(' ', '.')}@{DOMAINS[lang][i % 2]}"
        phone, tg = f"+1{AREAS[i % len(AREAS)]}55501{i:02d}", rng.randrange(10**8, 7 * 10**9)
        values: dict[str, str | int] = {"e": mail, "p": phone, "t": tg, "a": f"NW-{480100 + i}"}
        refs = [contact(LETTER[k], values[k]) for k in kinds]
        people[name] = _Person(name, lang, {r.kind: r for r in refs if r})
    return people


def _assignee(rng: random.Random, person: _Person, wanted: str, me: str) -> str:
    if wanted == "@me":
        return me
    return wanted or LANG_ENGINEER.get(person.lang) or rng.choice(ENGLISH_POOL)


def _plans(rng: random.Random, now: datetime, me: str) -> list[_Plan]:
    people, issues = _people(rng), {i[0]: i for i in ISSUES}
    plans = []
    for who, ch, code, fate, prio, ago, flags, wanted in STORIES:
        person, start = people[who], now - timedelta(minutes=ago)
        boss = _assignee(rng, person, wanted, me)
        plans.append(_Plan(person, ch, issues[code], fate, prio, start, boss, flags))
    used = {(p.person.name, p.channel) for p in plans}
    seen = {p.person.name for p in plans}
    channels = [ch for ch, n in QUOTA.items() for _ in range(n)]
    fates = [f for f, n in FATES.items() for _ in range(n)]
    rng.shuffle(channels)
    rng.shuffle(fates)
    fixed = {fate: list(prios) for fate, prios in FIXED_PRIORITIES.items()}
    pool = [p for p in people.values() if p.lang != "xx"]
    for channel, fate in zip(channels, fates, strict=True):
        # a chat keeps one open ticket, so each person gets at most one ticket per chat channel
        fits = [p for p in pool if KIND[channel] in p.refs and (p.name, channel) not in used]
        person = rng.choice([p for p in fits if p.name not in seen] or fits)
        seen.add(person.name)
        if channel.is_chat:
            used.add((person.name, channel))
        issue = rng.choice([i for i in ISSUES if i[1] == person.lang])
        prio = fixed[fate].pop() if fate in fixed else rng.choices(*PRIORITY_ODDS)[0]
        low, high = NEAR[prio] if fate == "near" else AGES[fate]
        start = now - timedelta(minutes=rng.randint(low, high))
        boss = _assignee(rng, person, "", me)
        plans.append(_Plan(person, channel, issue, fate, prio, start, boss))
    for p in plans:
        p.steps = _steps(rng, p, (now - p.start).total_seconds() / 60)
    return plans


def _steps(rng: random.Random, p: _Plan, age: float) -> list[Step]:
    """The acts that follow a ticket's first message, each some minutes after the one before."""
    words = SCRIPTS[p.fate].split()
    if p.priority is not NORMAL and p.channel not in (WEB, APP):  # web/app carry a hint
        words.insert(0, "prio")
    if "auto" in p.flags or "bounce" in p.flags:  # a robot answers our first reply
        at = next(i for i, w in enumerate(words) if w.startswith(("reply", "pending")))
        at += 2 if "pending" in words else 1  # an auto-reply leaves a pending ticket pending
        words[at:at] = ["auto"] if "auto" in p.flags else ["bounce", "note:bounce"]
    s: list[Step] = []
    t = 0
    for word in words:
        act, _, arg = word.removeprefix("?").partition(":")
        if word.startswith("?") and rng.random() < 0.5:
            continue
        if act == "nudge" and (p.channel in (E, CALL)):
            continue
        t += rng.randint(*GAPS[act])
        s.append((t, act, arg))
    if t > age - 2:  # squeeze the story so nothing happens after "now"
        s = [(int(m * (age - 2) / t), act, arg) for m, act, arg in s]
    return s


def _rate(rng: random.Random, plans: list[_Plan], now: datetime) -> None:
    """Most customers whose ticket was resolved answer the survey some minutes later.

    ``rng`` is a stream of its own, so the ratings leave the rest of the week as it was."""
    for p in plans:
        resolved = [m for m, act, _ in p.steps if act == "resolved"]
        if p.fate not in ("resolved", "closed") or not resolved or rng.random() > RATED:
            continue
        latest = int((now - p.start).total_seconds() / 60) - 1  # nothing after "now"
        score = rng.choices(*RATING_ODDS)[0]
        p.steps.append((min(resolved[-1] + rng.randint(*GAPS["rate"]), latest), "rate", str(score)))


def _png(w: int = 48, h: int = 32) -> bytes:
    """A small gradient, like a cropped screenshot."""
    rows = b"".join(
        b"\0" + b"".join(bytes((5 * x, 7 * y, 180)) for x in range(w)) for y in range(h)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _pdf(line: str) -> bytes:
    """A one-page PDF showing one line of ASCII text, with a correct xref table."""
    text = b"BT /F1 14 Tf 72 720 Td (%s) Tj ET" % line.encode()
    objs = (
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources"
        b" << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    )
    out, xref = b"%PDF-1.4\n", b"xref\n0 6\n0000000000 65535 f \n"
    for i, body in enumerate(objs, 1):
        xref += b"%010d 00000 n \n" % len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    return out + xref + b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % len(out)


# fmt: off
_FILES = {"png": ("speedtest.png", "image/png", _png), "pdf": ("Kontoauszug-März.pdf",
          "application/pdf", lambda: _pdf("Kontoauszug Maerz: 2x 39,99 EUR Northwind Fiber"))}
# fmt: on


class _Run:
    """Carries the plans out in time order; ``clock`` stands in for the desk's clock meanwhile."""

    def __init__(self, desk: Desk, rng: random.Random, plans: list[_Plan], now: datetime) -> None:
        self.desk, self.rng, self.plans, self.now, self.serial = desk, rng, plans, now, 0

    def clock(self) -> datetime:
        return self.now

    def inbound(self, p: _Plan, text: str, subject: str, thread: bool = True, **how: Any) -> None:
        """The customer (or a robot: ``sender``, ``auto``) writes on the plan's channel, threaded
        like the real thing; ``how`` holds more ``Inbound`` fields."""
        self.serial += 1
        sender: Sender = how.pop("sender", None) or p.person.sender(p.channel)
        key = f"{KEY_PREFIX.get(p.channel, '')}{90000 + self.serial}"  # update id, call SID...
        if p.channel is E:
            domain = sender.contacts[0].value.split("@")[1]
            key = f"{self.rng.getrandbits(64):016x}.{self.serial}@{domain}"
            refs = tuple(p.refs) if thread else ()
            p.refs.append(key)
            sent = self.now - timedelta(seconds=self.rng.randint(5, 50))
            how.update(message_id=key, in_reply_to=refs[-1:], references=refs, sent_at=sent)
        else:
            how["chat_id"] = p.chat
        how.update(received_at=self.now, priority=p.priority if p.channel in (WEB, APP) else None)
        result = self.desk.intake(Inbound(p.channel, sender, text, key, subject, **how))
        p.number = p.number or result.ticket_number or 0

    def letter(self, p: _Plan, body: str, *, agent: str = "", first: bool = False) -> str:
        """Dress a text the way its channel carries it: a letter, a chat line, a call summary."""
        say, given = PHRASES[p.person.lang], p.person.name.split()[0]
        if agent and p.channel is E:
            return f"{say[7].format(given)}\n\n{body}\n\n{say[8]}\n{agent}\n{COMPANY} Support"
        if agent:
            return f"{body}\n— {agent.split()[0]}, {COMPANY}"
        if p.channel is E:
            return f"{say[0]}\n\n{body}\n\n{say[1]}\n{p.person.name}"
        if p.channel is CALL:
            said = body if first else f'called back: "{body}"'
            return f"Inbound call, {self.rng.randint(1, 9)} min: {said}"
        return body

    def act(self, p: _Plan, act: str, arg: str) -> None:
        d, n, who, say = self.desk, p.number, p.assignee, PHRASES[p.person.lang]
        tagged = f"Re: {p.issue[3]} [#{n}]" if p.channel is E else ""
        if act == "open":
            _, _, short, subject, body, _ = p.issue
            files = tuple(
                InboundAttachment(name, mime, make())
                for flag, (name, mime, make) in _FILES.items()
                if flag in p.flags
            )
            text = self.letter(p, short if p.channel is CALL else body, first=True)
            self.inbound(p, text, subject if p.channel in (E, WEB, APP) else "", attachments=files)
        elif act in ("in", "nudge"):
            text = self.letter(p, say[int(arg or 4)])
            self.inbound(p, text, tagged, self.rng.random() < 0.7)  # some mail loses References
        elif act == "auto":
            self.inbound(p, OUT_OF_OFFICE, f"Automatic reply: {tagged}", auto=AutoKind.AUTO_REPLY)
        elif act == "bounce":
            text, subject = BOUNCE.format(p.chat), f"Undeliverable: {tagged}"
            self.inbound(p, text, subject, False, auto=AutoKind.BOUNCE, sender=DAEMON)
        elif act == "reply":
            body = say[int(arg)] if arg else p.issue[5]
            d.reply(n, who, self.letter(p, body, agent=NAMES.get(who, who)))
        elif act == "note":
            d.add_note(n, who, BOUNCED if arg == "bounce" else self.rng.choice(NOTES))
        elif act == "assign":
            d.assign(n, DISPATCHER, who)
        elif act == "prio":
            d.set_priority(n, DISPATCHER, p.priority)
        elif act == "merge":
            d.merge(n, self.plans[int(arg)].number, DISPATCHER)
        elif act == "rate":
            d.rate(n, int(arg))
        else:
            until = self.now + timedelta(days=self.rng.randint(1, 3))
            d.set_status(n, who, Status(act), pending_until=until)


def _count(desk: Desk, model: type) -> int:
    with desk.store.read() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar() or 0)


def _console_login() -> str | None:
    """The Unix user: the console's default agent."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER in a bare container
        return None
    ok = 0 < len(login) <= 64 and login.isprintable() and " " not in login
    return login if ok else None


def _display_name(login: str) -> str:
    """The Unix account's full name (GECOS), else the login: the name canned responses sign
    with (``{agent}``), which was the bare login for the console's own user."""
    try:
        import pwd

        gecos = pwd.getpwnam(login).pw_gecos.split(",")[0].strip()
    except (ImportError, KeyError):
        return login
    return gecos or login  # shown through the console's plain(), like every name


def seed_demo(
    desk: Desk,
    *,
    now: datetime | None = None,
    seed: int = 7,
    operator: str | None = "",
) -> DemoStats:
    """Fill an empty desk with a week of work ending at ``now``; one seed gives one desk."""
    if _count(desk, Ticket):
        raise DeskError("the demo fills an empty desk only; this one has tickets")
    with desk.store.read() as s:  # agents added beforehand (say, with `sdesk agent add`) stay
        logins = set(s.execute(select(col(Agent.login))).scalars())
    now = as_utc(now or desk.clock())
    # The console's user (default: the Unix login) works some tickets; None: nobody extra.
    rng, me = random.Random(seed), (_console_login() if operator == "" else operator)
    plans = _plans(rng, now, me or SUPERVISOR)  # the console's user works some tickets too
    _rate(random.Random(f"{seed}:ratings"), plans, now)
    run, saved = _Run(desk, rng, plans, now - timedelta(days=30)), desk.clock
    desk.clock = run.clock
    # A seeded week is history: its resolutions tell no customer (no notices, core/notify.py).
    settings = desk.settings
    silent = NotifySettings(resolved=False, closed=False, arrival=False)
    desk.settings = settings.model_copy(update={"notify": silent})
    try:
        for login, name, role, phone in AGENTS:
            email = f"{name.lower().replace(' ', '.')}@northwind.example"
            by = None if role is Role.ADMIN else "admin"  # the admin comes first, lets others in
            if login not in logins:
                desk.add_agent(login, name=name, role=role, email=email, phone=phone, by=by)
        if me and me not in logins | NAMES.keys():
            desk.add_agent(me, name=_display_name(me), role=Role.SUPERVISOR, by="admin")
        timeline = [(p.start, i, 0, "open", "") for i, p in enumerate(plans)]
        timeline += [
            (p.start + timedelta(minutes=m), i, k, kind, arg)
            for i, p in enumerate(plans)
            for k, (m, kind, arg) in enumerate(p.steps, 1)
        ]
        for at, i, _, kind, arg in sorted(timeline, key=lambda e: e[:3]):
            run.now = at
            run.act(plans[i], kind, arg)
    finally:
        desk.clock, desk.settings = saved, settings
    return DemoStats(*(_count(desk, m) for m in (Ticket, Message, Customer, Agent)))
