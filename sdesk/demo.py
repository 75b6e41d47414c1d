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

from sdesk.core.clock import as_utc
from sdesk.core.contacts import contact
from sdesk.core.desk import Desk
from sdesk.core.enums import AutoKind, Channel, ContactKind, Priority, Role, Status
from sdesk.core.errors import DeskError
from sdesk.core.inbound import ContactRef, Inbound, InboundAttachment, Sender
from sdesk.store.models import Agent, Customer, Message, Ticket

# fmt: off
# The tables stay compact on purpose: one line per record reads better than ruff's one per field.
E, TG, CALL, SMS, WEB, APP = (Channel.EMAIL, Channel.TELEGRAM, Channel.PHONE, Channel.SMS,
                              Channel.WEB, Channel.APP)
LOW, NORMAL, HIGH, URGENT = Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT
DISPATCHER, SUPERVISOR = "mia.chen", "sam.rivera"
COMPANY = "Northwind Fiber"

# login, name, role, phone (fictional 555-01xx numbers)
AGENTS = (
    ("admin", "Grace Okafor", Role.ADMIN, "+12125550140"),
    ("mia.chen", "Mia Chen", Role.DISPATCHER, "+12125550141"),
    ("dmitri.volkov", "Dmitri Volkov", Role.ENGINEER, "+14155550142"),
    ("lena.hoffmann", "Lena Hoffmann", Role.ENGINEER, "+14155550143"),
    ("sam.rivera", "Samuel Rivera", Role.SUPERVISOR, "+13125550144"),
)
ENGLISH_POOL = ("dmitri.volkov", "lena.hoffmann", "dmitri.volkov", "lena.hoffmann", DISPATCHER)
LANG_ENGINEER = {"ru": "dmitri.volkov", "de": "lena.hoffmann"}

# per language: name, contact kinds, email local part (or a whole address; default first.last)
# kinds: e = email, t = Telegram, p = phone (calls and SMS), a = web/app account
CUSTOMERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (("Emma Clark", "ep"), ("Liam Johnson", "ea"), ("Olivia Martinez", "et"),
           ("Noah Williams", "p"), ("Ava Thompson", "epa"), ("James Anderson", "e"),
           ("Sophia Nguyen", "ta"), ("Benjamin Lee", "ep"), ("Isabella Garcia", "a"),
           ("Lucas Brown", "pt"), ("Mia Robinson", "e"), ("Henry Walker", "ea"),
           ("Charlotte Hall", "t"), ("Alexander Young", "ep"), ("Amelia King", "pa"),
           ("Daniel Wright", "ep"), ("Harper Scott", "et"), ("Michael Green", "p"),
           ("Evelyn Adams", "ea"), ("Ethan Baker", "tp"), ("Abigail Nelson", "e"),
           ("Jacob Carter", "a"), ("Emily Mitchell", "ep"), ("Logan Perez", "t"),
           ("Ella Roberts", "ea"), ("Jack Turner", "p"), ("Grace Phillips", "e"),
           ("Owen Campbell", "ta"), ("Chloe Parker", "ep"), ("Ryan Evans", "ea")),
    "xx": (("Account Team", "e", "no-reply@account-verify.example"),),  # a phisher: story only
    "ru": (("Ольга Смирнова", "et", "olga.smirnova"), ("Иван Петров", "t", "ivan.petrov"),
           ("Анна Соколова", "ea", "anna.sokolova"), ("Сергей Иванов", "t", "s.ivanov"),
           ("Екатерина Морозова", "et", "kate.morozova")),
    "de": (("Jürgen Müller", "ea", "j.mueller"), ("Käthe Weiß", "e", "kaethe.weiss"),
           ("Björn Schröder", "ea", "bjoern.schroeder"), ("Günter Groß", "e", "g.gross"),
           ("Sabine Krüger", "ea", "sabine.krueger")),
}
DOMAINS = {"en": ("example.com", "example.net", "example.org"),
           "ru": ("yandex.example", "mail.example"), "de": ("gmx.example", "web.example")}

# code, language, call summary, subject, first message, the engineer's answer
ISSUES = (
    ("reboot", "en", "router keeps rebooting", "Router reboots every few minutes",
     "Since last night my router (NW-AX3000) restarts itself every 5-10 minutes.",
     "Your router keeps dropping its session, so I've pushed firmware 3.2.1 to it remotely."),
    ("slow", "en", "internet very slow in the evening", "Speed drops to 5 Mbit/s every evening",
     "I pay for 500 Mbit/s but from 7pm to 11pm speed tests show 3-6 Mbit/s, wired.",
     "Your street's node is congested in the evening; we're moving you to a quieter port."),
    ("down", "en", "no internet at all", "No internet since this morning",
     "Nothing works since around 8am. The router shows a red globe light. Restarted it twice.",
     "There's a fibre cut in your area; the field team expects to restore it within 3 hours."),
    ("billing", "en", "charged twice this month", "Charged twice this month",
     "My card was charged $49.99 twice on the 1st. Please refund the duplicate payment.",
     "I've confirmed the duplicate charge and refunded $49.99; allow 3-5 business days."),
    ("login", "en", "can't log in to the cabinet", "Cannot log in to my account",
     "The cabinet says 'invalid credentials' although I reset my password twice today.",
     "Your account was locked after failed attempts. I've unlocked it; please reset once more."),
    ("static", "en", "wants a static IP", "Static IP address for my home office",
     "I need a static IPv4 address for a VPN to my office. What does it cost?",
     "It's $5/month; I've reserved 203.0.113.57. Shall I add it to your plan?"),
    ("api", "en", "status API returns 502", "Status API returning 502 Bad Gateway",
     "Our monitoring gets HTTP 502 from /v2/status on about one request in ten since yesterday.",
     "An unhealthy API gateway node is out of rotation now; can you confirm from your side?"),
    ("cancel", "en", "wants to cancel", "Please cancel my subscription",
     "I'm moving abroad. Please cancel my plan from the 30th; how do I return the router?",
     "Cancelled from the 30th. Drop the router at any of our shops or use the prepaid label."),
    ("office", "en", "whole office offline", "URGENT: whole office offline",
     "All 25 people in our office lost internet 20 minutes ago. We have a business SLA.",
     "Engineers are replacing a damaged line card at the street cabinet; back within the hour."),
    ("ru-down", "ru", "нет интернета", "Нет интернета с утра",
     "С восьми утра интернета нет совсем, на роутере горит красный индикатор.",
     "В вашем районе повреждён кабель, бригада уже работает. Восстановим в течение 3 часов."),
    ("ru-bill", "ru", "двойное списание", "Дважды списали абонентскую плату",
     "1-го числа с карты дважды списали 1500 ₽. Верните, пожалуйста, лишний платёж.",
     "Двойное списание подтверждаю, возврат 1500 ₽ оформлен: 3–5 рабочих дней."),
    ("ru-slow", "ru", "низкая скорость вечером", "Вечером скорость падает до 5 Мбит/с",
     "По тарифу 500 Мбит/с, а вечером спидтест показывает 3–6 Мбит/с. Подключение по кабелю.",
     "Вечером перегружен узел на вашей улице. Ночью переключим вас на свободный порт."),
    ("de-bill", "de", "Rechnung doppelt abgebucht", "Rechnung doppelt abgebucht",
     "Die Märzrechnung über 39,99 € wurde zweimal abgebucht. Kontoauszug anbei.",
     "Die doppelte Abbuchung ist bestätigt; 39,99 € kommen in 3–5 Werktagen zurück."),
    ("de-wifi", "de", "WLAN bricht ständig ab", "WLAN bricht ständig ab",
     "Seit dem Update vom Montag bricht das WLAN mehrmals pro Stunde ab. Per Kabel läuft alles.",
     "Das Update hat den Funkkanal auf Automatik gestellt. Ich habe Kanal 36 fest eingestellt."),
    ("de-down", "de", "kein Internet", "Kein Internet seit heute früh",
     "Seit ca. 7 Uhr kein Internet, die Status-LED blinkt rot. Neustart hat nichts gebracht.",
     "Am Verteiler in Ihrem Gebiet gibt es eine Störung, die Techniker sind vor Ort."),
    ("phish", "xx", "", "[/] \x1b[31mURGENT\x1b[0m [bold]Verify your account[/bold] now",
     "\x1b[1;31mYour account is [red]locked[/red].\x1b[0m Confirm [@click=app.quit]here[/].", ""),
)
# per language: greeting, sign-off, still broken, thanks, nudge, second answer, question,
# agent's greeting, agent's sign-off
PHRASES = {
    "en": ("Hello,", "Thanks,", "Still the same for me, nothing has changed.",
           "That did it - everything works now. Thank you!", "Hello? Is anyone there?",
           "I've applied a fix on our side and monitoring looks clean now. Please check again.",
           "Before we go on, please confirm the account holder's name and the service address;"
           " the ticket is on hold until then.", "Hi {},", "Best regards,"),
    "ru": ("Здравствуйте!", "С уважением,", "Ничего не изменилось, проблема осталась.",
           "Спасибо, всё заработало!", "Есть кто-нибудь? Жду ответа.",
           "Мы применили исправление на нашей стороне, мониторинг в норме. Проверьте, пожалуйста.",
           "Уточните, пожалуйста, ФИО владельца договора и адрес подключения — до ответа заявка"
           " на паузе.", "Здравствуйте, {}!", "С уважением,"),
    "de": ("Guten Tag,", "Viele Grüße", "Leider unverändert, das Problem besteht weiterhin.",
           "Danke, jetzt funktioniert alles wieder!", "Hallo? Ist da jemand?",
           "Wir haben auf unserer Seite korrigiert, das Monitoring ist unauffällig. Bitte prüfen.",
           "Bitte bestätigen Sie Vertragsinhaber und Anschlussadresse; bis dahin pausiert das"
           " Ticket.", "Hallo {},", "Viele Grüße"),
}
PHRASES["xx"] = PHRASES["en"]
NOTES = ("Line diagnostics: SNR 28 dB, no CRC errors in the last 24 h.",
         "Billing checked: account in good standing.", "Business customer: watch the SLA.",
         "Possibly related to Tuesday's maintenance on node 14.", "Escalated to the NOC.",
         "Called back, no answer; will retry after lunch.", "Needs a field visit if this fails.",
         "Same symptom as last month, see this customer's earlier tickets.")
# customer, channel, issue, fate, priority, minutes ago, flags, assignee ("" = by language)
STORIES = (
    ("Ольга Смирнова", E, "ru-down", "closed", HIGH, 4300, "", ""),
    ("Ольга Смирнова", TG, "ru-down", "dup", NORMAL, 4275, "", ""),  # merged into the first
    ("Ольга Смирнова", TG, "ru-slow", "open", NORMAL, 1300, "", ""),
    ("Emma Clark", CALL, "reboot", "resolved", HIGH, 2900, "", "lena.hoffmann"),
    ("Emma Clark", E, "slow", "open", NORMAL, 1500, "png", "@me"),
    ("Account Team", E, "phish", "new", NORMAL, 50, "", ""),
    ("Mia Robinson", E, "static", "pending", LOW, 2000, "auto", "@me"),
    ("Daniel Wright", E, "cancel", "open", NORMAL, 900, "bounce", DISPATCHER),
    ("Jürgen Müller", WEB, "de-bill", "resolved", NORMAL, 3500, "pdf", ""),
)
QUOTA = {E: 22, TG: 10, CALL: 9, SMS: 7, WEB: 7, APP: 6}  # the other 61 tickets
FATES = {"closed": 13, "resolved": 12, "pending": 7, "open": 14, "new": 7, "breach": 4,
         "near": 4}
# what follows a ticket's first message; "?" marks an act that happens half the time;
# numbers pick PHRASES: 2 still broken, 3 thanks, 5 second answer, 6 question
SCRIPTS = {"closed": "assign ?nudge reply ?note in:2 reply:5 in:3 resolved closed",
           "resolved": "assign ?nudge reply ?note in:2 reply:5 ?note resolved",
           "open": "assign ?nudge reply ?note ?resolved in:2",
           "pending": "assign ?nudge reply:6 pending ?note",
           "new": "?assign", "breach": "assign ?note", "near": "?assign", "dup": "merge:0"}
GAPS = {"prio": (2, 6), "assign": (3, 20), "nudge": (1, 10), "reply": (10, 90), "note": (5, 40),
        "in": (40, 400), "pending": (1, 3), "resolved": (5, 60), "closed": (1440, 2880),
        "merge": (15, 15), "auto": (2, 5), "bounce": (1, 3)}
# minutes ago a ticket of each fate starts; "near" is set so its first response is nearly due
AGES = {"closed": (6500, 10000), "resolved": (1500, 6400), "pending": (700, 5000),
        "open": (400, 4300), "new": (5, 150), "breach": (180, 2800)}
NEAR = {URGENT: (38, 52), HIGH: (200, 228), NORMAL: (435, 465)}
FIXED_PRIORITIES = {"breach": (URGENT, HIGH, URGENT, HIGH), "near": (URGENT, HIGH, NORMAL, NORMAL),
                    "new": (LOW, LOW, NORMAL, LOW, NORMAL, NORMAL, LOW)}
PRIORITY_ODDS = ((LOW, NORMAL, HIGH, URGENT), (2, 6, 3, 1))  # for the other fates
AREAS = ("212", "415", "312", "617", "206")

BOUNCED = "Our reply bounced (mailbox full). Will call the customer."
OUT_OF_OFFICE = "I'm out of the office until Monday with limited access to email."
DAEMON = Sender("Mail Delivery System",
                (ContactRef(ContactKind.EMAIL, "mailer-daemon@mx.northwind.example"),))
BOUNCE = ("Delivery has failed to these recipients:\n\n{0}\n\nRemote server returned"
          " '552 5.2.2 <{0}>: Mailbox full, quota exceeded'")
Step = tuple[int, str, str]  # minutes after the ticket opened, act, argument
_KIND = {E: ContactKind.EMAIL, TG: ContactKind.TELEGRAM, CALL: ContactKind.PHONE,
         SMS: ContactKind.PHONE, WEB: ContactKind.ACCOUNT, APP: ContactKind.ACCOUNT}
_LETTER = {kind.value[0]: kind for kind in ContactKind}  # e, p, t, a
_KEY_PREFIX = {TG: "tg-update-", CALL: "CA", SMS: "SM", WEB: "web-", APP: "app-"}
_NAMES = {login: name for login, name, *_ in AGENTS}
# fmt: on


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
        own = _KIND[channel]
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
        return self.person.refs[_KIND[self.channel]].value


def _people(rng: random.Random) -> dict[str, _Person]:
    rows = [(lang, *row, "")[:4] for lang, table in CUSTOMERS.items() for row in table]
    people = {}
    for i, (lang, name, kinds, mail) in enumerate(rows):
        if "@" not in mail:
            mail = f"{mail or name.lower().replace(' ', '.')}@{DOMAINS[lang][i % 2]}"
        phone, tg = f"+1{AREAS[i % len(AREAS)]}55501{i:02d}", rng.randrange(10**8, 7 * 10**9)
        values = {"e": mail, "p": phone, "t": tg, "a": f"NW-{480100 + i}"}
        refs = [contact(_LETTER[k], values[k]) for k in kinds]
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
        fits = [p for p in pool if _KIND[channel] in p.refs and (p.name, channel) not in used]
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
        key = f"{_KEY_PREFIX.get(p.channel, '')}{90000 + self.serial}"  # update id, call SID...
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
            d.reply(n, who, self.letter(p, body, agent=_NAMES.get(who, who)))
        elif act == "note":
            d.add_note(n, who, BOUNCED if arg == "bounce" else self.rng.choice(NOTES))
        elif act == "assign":
            d.assign(n, DISPATCHER, who)
        elif act == "prio":
            d.set_priority(n, DISPATCHER, p.priority)
        elif act == "merge":
            d.merge(n, self.plans[int(arg)].number, DISPATCHER)
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


def seed_demo(desk: Desk, *, now: datetime | None = None, seed: int = 7) -> DemoStats:
    """Fill an empty desk with a week of work ending at ``now``; one seed gives one desk."""
    if _count(desk, Ticket):
        raise DeskError("the demo fills an empty desk only; this one has tickets")
    with desk.store.read() as s:  # agents added beforehand (say, with `sdesk agent add`) stay
        logins = set(s.execute(select(Agent.login)).scalars())
    now = as_utc(now or desk.clock())
    rng, me = random.Random(seed), _console_login()
    plans = _plans(rng, now, me or SUPERVISOR)  # the console's user works some tickets too
    run, saved = _Run(desk, rng, plans, now - timedelta(days=30)), desk.clock
    desk.clock = run.clock
    try:
        for login, name, role, phone in AGENTS:
            email = f"{name.lower().replace(' ', '.')}@northwind.example"
            by = None if role is Role.ADMIN else "admin"  # the admin comes first, lets others in
            if login not in logins:
                desk.add_agent(login, name=name, role=role, email=email, phone=phone, by=by)
        if me and me not in logins | _NAMES.keys():
            desk.add_agent(me, name=me, role=Role.SUPERVISOR, by="admin")
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
        desk.clock = saved
    return DemoStats(*(_count(desk, m) for m in (Ticket, Message, Customer, Agent)))
