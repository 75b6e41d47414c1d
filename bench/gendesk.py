"""Generate a large, realistic desk for the console benchmarks.

    python bench/gendesk.py OUT.db [--tickets N] [--messages M] [--seed S] [--check]

The schema comes from ``open_store`` (the real Alembic migration). The rows are then
bulk-inserted with the stdlib ``sqlite3`` module into the real tables, so the FTS5 triggers index
every ticket subject and message text exactly as on a live desk. The default size (100,000
tickets, 500,000 messages) takes about 2-3 minutes on one core and writes about 1 GiB.

The rows follow what the core writes (``sdesk.core.intake`` / ``acts`` / ``events``):

* customers are created by their first message and keep one contact per way they used to reach
  the desk (emails lower-case, phones E.164, Telegram ids, web/app account ids);
* tickets are numbered from 1001 in creation order; SLA due times come from the default
  ``SLAPolicy`` through ``sdesk.core.sla.due_times``; a chat conversation (``chat_key``) never has
  two tickets that are not closed at the same time, because intake would have joined them;
* inbound mail carries Message-ID / In-Reply-To / References chains through our replies; replies
  go out on the channel the customer last used (a call is answered by SMS) with an outbox row;
  notes and merge notices are ``internal``; ``version`` counts every change;
* ids of messages and events rise with time, as they do when a desk fills up message by message;
* the audit log has the events the acts record (created, received, replied, note, assigned,
  priority, status, resolved, closed, merged).

Not generated: ``raw_inbound`` (as after an import of records), blobs (attachment rows say
``stored = 0``, as after an export without blobs), channel cursors and leases.

Everything is drawn from one seeded ``random.Random`` so a seed always gives the same rows, except
that times are relative to the moment of generation ("created over the past 180 days").
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
import unicodedata
import uuid
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any


def _split(words: str) -> list[str]:
    return words.split()


US = 1_000_000
SECOND = US
MINUTE = 60 * US
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NEVER = 1 << 62
EPOCH = datetime(1970, 1, 1)
SPAN_DAYS = 180
DESK_DOMAIN = "sdesk.invalid"  # Settings.desk_domain's default
FIRST_NUMBER = 1001  # Settings.first_ticket_number's default
BATCH = 50_000
MAX_PER_TICKET = 20
MAX_REFERENCES = 20  # sdesk.core.replies.MAX_REFERENCES
SUBJECT_FROM_TEXT_CHARS = 80  # sdesk.core.intake.SUBJECT_FROM_TEXT_CHARS

CHANNELS = {"email": 50, "telegram": 15, "phone": 10, "sms": 10, "web": 10, "app": 5}
CONTACT_KIND = {
    "email": "email",
    "telegram": "telegram",
    "phone": "phone",
    "sms": "phone",
    "web": "account",
    "app": "account",
}
PRIORITIES = {"low": 15, "normal": 60, "high": 20, "urgent": 5}
# (younger than, status weights): new work is active, old work is closed, a backlog lingers.
STATUS_BY_AGE = (
    (1 * DAY, {"new": 45, "open": 35, "pending": 10, "resolved": 10, "closed": 0}),
    (7 * DAY, {"new": 6, "open": 30, "pending": 14, "resolved": 35, "closed": 15}),
    (30 * DAY, {"new": 1, "open": 7, "pending": 5, "resolved": 22, "closed": 65}),
    (NEVER, {"new": 0.2, "open": 2, "pending": 1.3, "resolved": 2.5, "closed": 94}),
)
# UTC hour of day -> relative intake volume; weekends get half.
HOUR_WEIGHT = [0.12, 0.08, 0.06, 0.06, 0.08, 0.15, 0.3, 0.55, 0.85, 1.0, 1.0, 0.95] + [
    0.9,
    0.95,
    1.0,
    0.95,
    0.9,
    0.8,
    0.65,
    0.5,
    0.4,
    0.32,
    0.25,
    0.18,
]

AGENTS = (
    ("admin", "Dana Whitfield", "admin"),
    ("m.okafor", "Michael Okafor", "supervisor"),
    ("s.lindqvist", "Sofia Lindqvist", "supervisor"),
    ("anna.k", "Anna Kowalska", "dispatcher"),
    ("j.moreno", "Javier Moreno", "dispatcher"),
    ("priya", "Priya Raman", "dispatcher"),
    ("t.becker", "Tobias Becker", "dispatcher"),
    ("l.chen", "Lina Chen", "dispatcher"),
    ("o.nowak", "Oliwia Nowak", "dispatcher"),
    ("r.haddad", "Rami Haddad", "dispatcher"),
    ("e.dubois", "Émile Dubois", "engineer"),
    ("k.tanaka", "Kenji Tanaka", "engineer"),
    ("m.rossi", "Marco Rossi", "engineer"),
    ("h.jensen", "Helga Jensen", "engineer"),
    ("d.ivanov", "Dmitri Ivanov", "engineer"),
    ("f.oconnor", "Fiona O'Connor", "engineer"),
    ("a.silva", "Ana Silva", "engineer"),
    ("b.adeyemi", "Bola Adeyemi", "engineer"),
    ("y.cohen", "Yael Cohen", "engineer"),
    ("p.novak", "Petr Novák", "engineer"),  # left the company: inactive, old tickets only
)
INACTIVE_LOGIN = "p.novak"
INACTIVE_SINCE_DAYS = 100
NEW_CUSTOMER_SHARE = 0.35  # of tickets, from a customer not seen before (when one is left)

FIRST_NAMES = _split(
    """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara
    Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony
    Betty Mark Sandra Steven Ashley Paul Emily Andrew Kimberly Joshua Donna Kevin Michelle Brian
    Carol George Amanda Timothy Melissa Ronald Deborah Jason Stephanie Ryan Rebecca Jacob Laura
    Gary Helen Nicholas Sharon Eric Cynthia Jonathan Kathleen Omar Fatima Wei Mei Hiroshi Yuki
    Raj Ananya Lars Ingrid José Zoë Søren Łukasz Renée Björn François Chloé Aurélie Jürgen Ömer
    Ayşe Nuñez Inès Mateo Lucía Olga Sergei Kwame Amara Thabo Chiara Giulia Niamh Siobhán Hana
    Tomáš Zsófia"""
)
LAST_NAMES = _split(
    """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
    Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Müller Schmidt
    Schneider Fischer Weber Kowalski Wiśniewski Novák Dvořák Horváth Nagy Rossi Russo Ferrari
    Bianchi Dubois Lefèvre Moreau Fernández Jiménez Sørensen Andersson Johansson Lindström
    O'Brien Murphy Kelly Ó_Súilleabháin Tanaka Suzuki Watanabe Kim Park Chen Wang Zhang Patel
    Shah Singh Okafor Mensah Ivanova Petrov Yılmaz Demir""".replace("_", " ")
)

EMAIL_DOMAINS = {
    "gmail.com": 30,
    "outlook.com": 12,
    "yahoo.com": 9,
    "hotmail.com": 6,
    "icloud.com": 6,
    "proton.me": 3,
    "gmx.de": 2,
    "web.de": 1,
    "aol.com": 2,
    "mail.com": 1,
}
AREA_CODES = _split(
    """201 202 206 212 213 214 215 303 305 310 312 313 314 404 407 410 415 469 503 512 602 617 646
    650 702 703 713 718 720 773 786 801 808 818 832 857 917 919 925 949"""
)
FOREIGN_PHONES = (("+44", "7", 9), ("+49", "15", 9), ("+33", "6", 8), ("+34", "6", 8))

COMMON = _split(
    """the i to and a it is my of in for that this on have not with be we you can but was are me
    from so at as there after when now please still no all just again do get your an if any
    since or would could what they one about our by it's doesn't can't i've we're out up time
    need help know like also some new back today yesterday morning evening week day days other
    more only then because which working work problem issue thanks thank been had has will am
    said told tried try see seems same while before already never every last first next two
    three few each very really much many something anything nothing someone here where why how
    number account service customer support team message email phone call called reply answer
    waiting wait hours minutes weeks month update updated fix fixed sure let us them their he
    she his her its than into over also well good bad fine ok okay able unable quite maybe
    perhaps still anymore hello"""
)

TOPICS: dict[str, tuple[int, str, tuple[str, ...]]] = {
    "internet": (
        20,
        """router internet wifi connection modem signal outage speed slow fiber disconnects
        dropping reboot restart firmware dns bandwidth lights blinking latency ping mbps packet
        loss technician installation port adapter network ethernet upload download static ip
        gateway mesh extender coverage line provider offline cable socket""",
        (
            "Internet keeps dropping since {day}",
            "{brand} router not connecting",
            "Slow speed on my {plan} plan",
            "No internet at home since {day}",
            "Wifi signal very weak upstairs",
            "Router {model} lights blinking red",
            "Connection drops every evening",
            "Fiber installation appointment in {city}",
            "Modem reboots by itself",
            "Outage in {city}?",
            "Packet loss and high ping",
            "Need static IP for my {plan} line",
            "Mesh extender {model} does not pair",
        ),
    ),
    "billing": (
        18,
        """invoice refund charge charged payment card bank statement overcharged subscription
        plan discount receipt balance debit credit vat tax transaction declined pricing upgrade
        downgrade cancel cancellation renewal fee late amount paid twice monthly annual billing
        deposit promo coupon paypal""",
        (
            "Charged twice for {month}",
            "Refund for invoice {n}",
            "Question about my {month} invoice",
            "Card payment declined",
            "Cancel my {plan} subscription",
            "Wrong VAT on invoice {n}",
            "Promo code not applied",
            "Late fee after I already paid",
            "Need a receipt for {month}",
            "Downgrade to {plan}",
            "Why did my bill go up?",
            "PayPal payment not showing",
        ),
    ),
    "account": (
        14,
        """password login reset username verification code locked profile settings security
        sign-in authenticate token session access permission blocked address recover recovery
        link expired captcha device trusted admin role two-factor""",
        (
            "Cannot log in to my account",
            "Password reset link expired",
            "Verification code never arrives",
            "Account locked after too many attempts",
            "Change the email address on my account",
            "Two-factor codes not working on new phone",
            "Please delete my account",
            "Someone else logged into my account?",
            "Add a second user to account {n}",
            "Username already taken",
        ),
    ),
    "delivery": (
        12,
        """package parcel courier tracking shipment delivered address warehouse delayed return
        exchange damaged box label pickup order shipping customs dispatch arrived missing wrong
        item size carrier signature doorstep neighbour""",
        (
            "Where is my order {n}?",
            "Parcel marked delivered but not received",
            "Damaged box, order {n}",
            "Wrong item delivered",
            "Change delivery address for order {n}",
            "Return label for {brand} {model}",
            "Courier did not come on {day}",
            "Tracking has not updated since {day}",
            "Package stuck in customs",
            "Exchange for a different size",
        ),
    ),
    "hardware": (
        12,
        """device screen battery charger keyboard printer toner jammed scanner laptop monitor
        warranty repair replacement serial broken overheating noise fan power button hinge
        cracked drivers usb hdmi bluetooth headset mouse dock""",
        (
            "{brand} {model} will not turn on",
            "Screen cracked, is it covered by warranty?",
            "Printer keeps jamming",
            "Battery drains in two hours",
            "Laptop overheating and fan noise",
            "Replacement for broken charger",
            "Dock {model} no video over HDMI",
            "Bluetooth headset will not pair",
            "Repair status for serial {n}",
        ),
    ),
    "app": (
        10,
        """app crash crashes update version android iphone ios notification notifications push
        freezes install uninstall cache error bug sync offline tablet widget dark mode
        permissions camera storage loading spinner blank""",
        (
            "App crashes on start after update",
            "No push notifications on {os}",
            "App stuck on loading screen",
            "Sync error {n} in the app",
            "Cannot install the app on my {os} phone",
            "Dark mode makes text unreadable",
            "App asks for camera permission every time",
            "Widget shows wrong balance",
        ),
    ),
    "tv": (
        7,
        """tv channels remote decoder picture sound hd recording guide package sports movies
        streaming buffering smart pairing antenna satellite dish subtitles""",
        (
            "TV channels missing since {day}",
            "Decoder {model} restarts during recordings",
            "Remote will not pair with the box",
            "Sports package not active",
            "Streaming keeps buffering in the evening",
            "No sound on HD channels",
            "Subtitles stuck on",
        ),
    ),
    "mobile": (
        7,
        """sim roaming voicemail data minutes coverage tower porting esim activation pin puk
        hotspot calls dropped abroad bundle topup prepaid""",
        (
            "SIM not activated",
            "Roaming charges in {country}",
            "Number porting from {brand} stuck",
            "eSIM activation fails",
            "PUK code needed",
            "Calls dropping in {city}",
            "Data bundle used up too fast",
            "Voicemail not working",
        ),
    ),
}
BRANDS = _split(
    """Netgear TP-Link Zyxel MikroTik Ubiquiti Huawei Asus Linksys Fritzbox Technicolor Sagemcom
    Nokia Samsung Lenovo Brother Epson Canon Xiaomi Motorola Dell"""
)
CITIES = _split(
    """Springfield Riverside Fairview Madison Georgetown Portland Salem Franklin Clinton Greenville
    Bristol Arlington Ashland Burlington Dover Hudson Kingston Lakewood Milton Newport Oakland
    Richmond Winchester Chester Aurora Dayton Trenton Bellevue"""
)
COUNTRIES = _split("Spain Italy Turkey Mexico Canada Germany France Japan Thailand Portugal")
MONTHS = _split(
    """January February March April May June July August September October November December"""
)
DAYS_SAID = _split(
    """Monday Tuesday Wednesday Thursday Friday Saturday Sunday yesterday last_week this_morning
    the_weekend""".replace("_", " ")
)
PLANS = (
    "Basic 100",
    "Fiber 500",
    "Fiber 1000",
    "Premium",
    "Family",
    "Business Pro",
    "Unlimited",
    "Start",
)
OSES = ("Android", "iOS", "Android 14", "iOS 17", "Pixel", "iPhone")

PREFIXES = _split("re un over pre inter micro multi auto tele hyper sub co non de mis")
ROOTS = _split(
    """connect config sync load stream port link route charge scan print cast frame cell grid wave
    view mark sign lock track pack pay post boot flash mount patch"""
)
SUFFIXES = _split("er ing ed able ment ation s ly")
SYLLABLE_ONSETS = _split("b c d f g h k l m n p r s t v z br tr st kr pl gr sh ch")
SYLLABLE_VOWELS = _split("a e i o u ai ou ea io")

ATTACHMENTS = (
    ("screenshot.png", "image/png", 40_000, 900_000),
    ("IMG_{n}.jpg", "image/jpeg", 300_000, 4_500_000),
    ("photo_{n}.jpg", "image/jpeg", 200_000, 3_000_000),
    ("invoice_{n}.pdf", "application/pdf", 30_000, 400_000),
    ("router-log-{n}.txt", "text/plain", 2_000, 90_000),
    ("Scan_{n}.pdf", "application/pdf", 100_000, 2_000_000),
    ("error.mp4", "video/mp4", 1_000_000, 20_000_000),
    ("config_{n}.xml", "application/xml", 1_000, 30_000),
)
DELIVERY_ERRORS = {
    "email": "550 5.1.1 <{to}>: recipient address rejected: user unknown",
    "telegram": "Forbidden: bot was blocked by the user",
    "sms": "Twilio 21610: attempt to send to unsubscribed recipient",
    "web": "push target expired",
    "app": "push target expired",
}


_CLOCK = {"start": time.monotonic()}


def say(line: str) -> None:
    """One progress line, stamped with the seconds since generation began."""
    print(f"[{time.monotonic() - _CLOCK['start']:6.1f}s] {line}", flush=True)


def stamp(us: int) -> str:
    """SQLAlchemy's SQLite DateTime text for naive UTC microseconds since the epoch."""
    return (EPOCH + timedelta(microseconds=us)).isoformat(" ", "microseconds")


def aware(us: int) -> datetime:
    return (EPOCH + timedelta(microseconds=us)).replace(tzinfo=UTC)


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    return (moment.astimezone(UTC).replace(tzinfo=None) - EPOCH) // timedelta(microseconds=1)


def ascii_fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in folded.encode("ascii", "ignore").decode() if c.isalnum()).lower()


def cumulative(weights: Iterable[float]) -> list[float]:
    return list(accumulate(weights))


def zipf(n: int, s: float, share: float) -> list[float]:
    raw = [1.0 / (i + 1) ** s for i in range(n)]
    total = sum(raw)
    return [w * share / total for w in raw]


def _ensure_sdesk_importable() -> None:
    try:
        import sdesk  # noqa: F401
    except ModuleNotFoundError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class _Generator:
    """Plans the whole desk in memory (without message texts), then writes it in id order."""

    def __init__(self, tickets: int, messages: int, seed: int, now: datetime) -> None:
        _ensure_sdesk_importable()
        from sdesk.config import SLAPolicy
        from sdesk.core.enums import Priority
        from sdesk.core.sla import due_times

        self.policy = SLAPolicy()
        self.priority_enum = Priority
        self.due_times = due_times
        self.rng = random.Random(seed)
        self.n_tickets = tickets
        self.n_messages = messages
        self.now = to_us(now)
        self.start = self.now - SPAN_DAYS * DAY
        self._counter = 0
        self._vocabulary()

    # -- helpers -------------------------------------------------------------------------------

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _expo(self, mean: float) -> int:
        return int(self.rng.expovariate(1.0 / mean))

    def _hex(self, digits: int) -> str:
        return f"{self.rng.getrandbits(digits * 4):0{digits}x}"

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _pick(self, weights: dict[str, float]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # -- vocabulary ------------------------------------------------------------------------------

    def _vocabulary(self) -> None:
        rng = self.rng
        letters = "abcdefghjkmnprstvwxz"
        models: set[str] = set()
        while len(models) < 120:
            models.add(
                "".join(rng.choice(letters) for _ in range(rng.randint(1, 3)))
                + str(rng.randint(2, 99) * 10 ** rng.randint(0, 2))
                + (rng.choice(("", "", "", "s", "x", "-pro", "v2")))
            )
        self.models = sorted(models)
        jargon = [p + r + s for p in PREFIXES for r in ROOTS for s in SUFFIXES]
        rng.shuffle(jargon)
        invented: set[str] = set()
        while len(invented) < 3000:
            invented.add(
                "".join(
                    rng.choice(SYLLABLE_ONSETS) + rng.choice(SYLLABLE_VOWELS)
                    for _ in range(rng.randint(2, 4))
                )
            )
        # The long tail: jargon first, invented words rarest, so some words hit a handful of rows.
        rare = sorted(invented)
        rng.shuffle(rare)
        self.tail = jargon[:1500] + rare
        extra = [w.lower() for w in BRANDS + CITIES] + self.models
        topic_words = {t: spec[1].split() for t, spec in TOPICS.items()}
        self.topics = list(TOPICS)
        self.topic_cw = cumulative(spec[0] for spec in TOPICS.values())
        self.pop: dict[str, tuple[list[str], list[float]]] = {}
        for topic, words in topic_words.items():
            others = [w for t, ws in topic_words.items() if t != topic for w in ws]
            population = COMMON + words + others + extra + self.tail
            weights = (
                zipf(len(COMMON), 1.0, 0.57)
                + zipf(len(words), 0.8, 0.29)
                + [0.04 / len(others)] * len(others)
                + [0.03 / len(extra)] * len(extra)
                + zipf(len(self.tail), 1.1, 0.07)
            )
            self.pop[topic] = (population, cumulative(weights))

    # -- people ----------------------------------------------------------------------------------

    def _people(self) -> None:
        rng = self.rng
        n = max(10, round(self.n_tickets * 0.3))
        self.cust_name: list[str] = []
        self.cust_named: list[bool] = []  # False: the sender gave no name (name = a contact)
        self.cust_contacts: list[dict[str, str]] = []
        self.cust_activity: list[float] = []
        seen: set[tuple[str, str]] = set()
        by_kind: dict[str, list[int]] = {"email": [], "phone": [], "telegram": [], "account": []}
        domains = list(EMAIL_DOMAINS)
        domain_cw = cumulative(EMAIL_DOMAINS.values())
        company_domains = [f"{w}.com" for w in self.tail[:300]] + [
            f"{w}-logistics.com" for w in self.tail[300:400]
        ]
        for c in range(n):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name = f"{first} {last}"
            kinds = [
                k
                for k, p in (("email", 0.62), ("phone", 0.42), ("telegram", 0.2), ("account", 0.2))
                if rng.random() < p
            ]
            if not kinds:
                kinds = [rng.choices(("email", "phone", "telegram", "account"), (5, 3, 2, 2))[0]]
            elif len(kinds) == 4:
                kinds.remove(rng.choice(kinds[1:]))
            contacts: dict[str, str] = {}
            for kind in kinds:
                while True:
                    value = self._contact_value(
                        kind, first, last, domains, domain_cw, company_domains
                    )
                    if (kind, value) not in seen:
                        seen.add((kind, value))
                        break
                contacts[kind] = value
                by_kind[kind].append(c)
            named = True
            if kinds == ["phone"] and rng.random() < 0.5:
                named = False  # caller id without a name
            elif "email" in kinds and "telegram" not in kinds and rng.random() < 0.08:
                named = False  # mail without a display name
            if not named:
                name = contacts["phone"] if kinds == ["phone"] else contacts["email"]
            self.cust_name.append(name)
            self.cust_named.append(named)
            self.cust_contacts.append(contacts)
            self.cust_activity.append(min(rng.paretovariate(1.3), 150.0))
        for kind, members in by_kind.items():  # tiny desks: every channel needs someone to use it
            if not members:
                c = rng.randrange(n)
                while True:
                    value = self._contact_value(
                        kind, "Sam", "Doe", domains, domain_cw, company_domains
                    )
                    if (kind, value) not in seen:
                        seen.add((kind, value))
                        break
                self.cust_contacts[c][kind] = value
                members.append(c)
        self.by_kind = {
            kind: (members, cumulative(self.cust_activity[m] for m in members))
            for kind, members in by_kind.items()
        }
        self.fresh = {kind: rng.sample(members, len(members)) for kind, members in by_kind.items()}
        self.cust_first_seen: list[dict[str, int]] = [{} for _ in range(n)]
        self.cust_email_tickets: dict[int, list[int]] = {}

    def _contact_value(
        self,
        kind: str,
        first: str,
        last: str,
        domains: list[str],
        domain_cw: list[float],
        company_domains: list[str],
    ) -> str:
        rng = self.rng
        if kind == "email":
            f, la = ascii_fold(first), ascii_fold(last)
            local = rng.choice(
                (
                    f"{f}.{la}",
                    f"{f}{la}{rng.randint(1, 99)}",
                    f"{f[0]}{la}",
                    f"{la}.{f}{rng.randint(60, 99)}",
                    f"{f}_{la}",
                    f"{f}{rng.randint(100, 9999)}",
                )
            )
            if rng.random() < 0.2:
                domain = rng.choice(company_domains)
            else:
                domain = domains[bisect_right(domain_cw, rng.random() * domain_cw[-1])]
            return f"{local}@{domain}".lower()
        if kind == "phone":
            if rng.random() < 0.1:
                code, lead, digits = rng.choice(FOREIGN_PHONES)
                rest = "".join(str(rng.randint(0, 9)) for _ in range(digits - len(lead) + 1))
                return f"{code}{lead}{rest}"
            return f"+1{rng.choice(AREA_CODES)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        if kind == "telegram":
            return str(rng.randint(100_000_000, 7_999_999_999))
        return str(rng.randint(100_000, 9_999_999))  # a web-cabinet / app account id

    def _agents(self) -> None:
        self.agent_login = {i + 1: a[0] for i, a in enumerate(AGENTS)}
        self.agent_name = {i + 1: a[1] for i, a in enumerate(AGENTS)}
        self.agent_role = {i + 1: a[2] for i, a in enumerate(AGENTS)}
        workers = [i for i, r in self.agent_role.items() if r in ("engineer", "dispatcher")]
        self.inactive = next(i for i, a in self.agent_login.items() if a == INACTIVE_LOGIN)
        self.active_workers = [i for i in workers if i != self.inactive]
        self.assignees = workers + [i for i, r in self.agent_role.items() if r == "supervisor"]
        self.leads = [i for i, r in self.agent_role.items() if r in ("dispatcher", "supervisor")]

    # -- tickets ---------------------------------------------------------------------------------

    def _creation_times(self) -> list[int]:
        rng = self.rng
        span = self.now - self.start - 10 * MINUTE
        out = []
        while len(out) < self.n_tickets:
            t = self.start + int(rng.random() * span)
            day, rest = divmod(t, DAY)
            weight = HOUR_WEIGHT[rest // HOUR] * (0.5 if (day + 3) % 7 >= 5 else 1.0)
            if rng.random() < weight:
                out.append(t)
        out.sort()
        return out

    def _status(self, created: int) -> str:
        age = self.now - created
        for limit, weights in STATUS_BY_AGE:
            if age < limit:
                return self._pick(weights)
        raise AssertionError("unreachable")

    def _counts(self, statuses: Sequence[str]) -> list[int]:
        rng = self.rng
        counts = [0] * len(statuses)
        new = [i for i, s in enumerate(statuses) if s == "new"]
        for i in new:
            counts[i] = rng.choices((1, 2, 3, 4), (60, 25, 10, 5))[0]
        rest = len(statuses) - len(new)
        mean = (self.n_messages - sum(counts)) / max(rest, 1) - 1
        for i, s in enumerate(statuses):
            if s != "new":
                counts[i] = 1 + min(MAX_PER_TICKET - 1, round(rng.expovariate(1 / max(mean, 0.05))))
        diff = self.n_messages - sum(counts)
        tries, patience = 0, 50 * abs(diff) + 10 * len(counts)
        while diff:
            tries += 1
            i = rng.randrange(len(counts))
            cap = 4 if statuses[i] == "new" and tries < patience else MAX_PER_TICKET
            if diff > 0 and counts[i] < cap:
                counts[i] += 1
                diff -= 1
            elif diff < 0 and counts[i] > 1:
                counts[i] -= 1
                diff += 1
        return counts

    def _subject(self, topic: str, channel: str) -> tuple[str, str | None]:
        """(ticket subject, first line of the first message for channels that send no subject)."""
        rng = self.rng
        template = rng.choice(TOPICS[topic][2])
        subject = template.format(
            day=rng.choice(DAYS_SAID),
            brand=rng.choice(BRANDS),
            model=rng.choice(self.models).upper(),
            city=rng.choice(CITIES),
            plan=rng.choice(PLANS),
            month=rng.choice(MONTHS),
            n=rng.randint(10_000, 9_999_999),
            os=rng.choice(OSES),
            country=rng.choice(COUNTRIES),
        )
        roll = rng.random()
        if roll < 0.06:
            subject = f"{subject} ({rng.choice(self.tail)})"
        elif roll < 0.09:
            subject = f"URGENT: {subject}"
        elif roll < 0.11 and channel == "email":
            subject = f"Fwd: {subject}"
        if channel in ("email", "web"):
            return subject, None
        line = subject
        if rng.random() < 0.5 and subject[1:2].islower():
            line = subject[0].lower() + subject[1:]
        if rng.random() < 0.3:
            population, cw = self.pop[topic]
            more = rng.choices(population, cum_weights=cw, k=rng.randint(4, 14))
            line = f"{line}, {' '.join(more)}"
        if len(line) > SUBJECT_FROM_TEXT_CHARS:
            return line[: SUBJECT_FROM_TEXT_CHARS - 1] + "…", line
        return line, line

    def _pick_customer(self, kind: str, channel: str, at: int) -> int:
        """Mostly the busy few, often someone new; never a chat that already has a live ticket."""
        members, cw = self.by_kind[kind]
        rng = self.rng
        fresh = self.fresh[kind]
        if fresh and rng.random() < NEW_CUSTOMER_SHARE:
            c = fresh.pop()
            if self.busy.get(f"{channel}:{self.cust_contacts[c][kind]}", -1) < at:
                return c
        if channel == "email":
            return members[bisect_right(cw, rng.random() * cw[-1])]
        for attempt in range(200):
            if attempt < 40:
                c = members[bisect_right(cw, rng.random() * cw[-1])]
            else:
                c = rng.choice(members)
            if self.busy.get(f"{channel}:{self.cust_contacts[c][kind]}", -1) < at:
                return c
        return c  # everyone on this channel has an open conversation; cannot happen at scale

    def plan(self) -> None:
        rng = self.rng
        self._people()
        self._agents()
        self.tickets: list[dict[str, Any]] = []
        self.msgs: list[list[Any]] = []
        self.events: list[tuple[int, int, int, str, str, dict[str, Any]]] = []
        self.busy: dict[str, int] = {}
        created = self._creation_times()
        statuses = [self._status(c) for c in created]
        counts = self._counts(statuses)
        channels = rng.choices(list(CHANNELS), weights=list(CHANNELS.values()), k=self.n_tickets)
        priorities = rng.choices(
            list(PRIORITIES), weights=list(PRIORITIES.values()), k=self.n_tickets
        )
        self.merges = 0
        step = max(1, self.n_tickets // 5)
        for i in range(self.n_tickets):
            self._ticket(i, created[i], channels[i], statuses[i], priorities[i], counts[i])
            if (i + 1) % step == 0:
                say(f"  planned {i + 1:,} tickets, {len(self.msgs):,} messages")

    def _ticket(self, i: int, c: int, ch: str, status: str, priority: str, n: int) -> None:
        rng = self.rng
        kind = CONTACT_KIND[ch]
        cust = self._pick_customer(kind, ch, c)
        ident = self.cust_contacts[cust][kind]
        topic = self.topics[bisect_right(self.topic_cw, rng.random() * self.topic_cw[-1])]
        subject, first_line = self._subject(topic, ch)
        response_due, resolution_due = self.due_times(
            self.policy, self.priority_enum(priority), aware(c)
        )
        t: dict[str, Any] = {
            "number": FIRST_NUMBER + i,
            "subject": subject,
            "status": status,
            "priority": priority,
            "channel": ch,
            "customer": cust,
            "assignee": None,
            "chat_key": None if ch == "email" else f"{ch}:{ident}",
            "created": c,
            "updated": c,
            "last_message": c,
            "first_response": None,
            "response_due": stamp(to_us(response_due)),
            "resolution_due": stamp(to_us(resolution_due)),
            "pending_until": None,
            "resolved": None,
            "closed": None,
            "merged_into": None,
            "version": 1,
            "topic": topic,
        }
        self.tickets.append(t)
        first_seen = self.cust_first_seen[cust]
        first_seen[kind] = min(first_seen.get(kind, NEVER), c)
        if ch == "email":
            self.cust_email_tickets.setdefault(cust, []).append(i)
            if (
                status == "closed"
                and 2 <= n <= 4
                and rng.random() < 0.06
                and self._merged(i, t, n, ident, first_line)
            ):
                return
        self._thread(i, t, n, ident, first_line)
        if t["chat_key"]:
            self.busy[t["chat_key"]] = t["closed"] if t["closed"] is not None else NEVER

    def _event(self, at: int, i: int, kind: str, actor: str, **data: Any) -> None:
        self.events.append((at, self._next(), i, kind, actor, data))

    def _fit(self, c: int, offsets: list[int]) -> list[int]:
        """Squeeze a ticket's timeline so nothing happens after now."""
        limit = max(self.now - c - 30 * SECOND, SECOND)
        top = max(offsets)
        if top <= limit:
            return offsets
        factor = limit / top
        return [int(o * factor) for o in offsets]

    def _author(self, t: dict[str, Any]) -> int:
        if t["assignee"] is not None and self.rng.random() < 0.85:
            return t["assignee"]
        return self.rng.choice(self.active_workers)

    def _inbound(
        self,
        i: int,
        t: dict[str, Any],
        at: int,
        ident: str,
        kind: str,
        spec: tuple[Any, ...],
        thread: dict[str, Any],
        target: int | None = None,
    ) -> list[Any]:
        """One message as intake stores it; ``target`` is where a merge moved it."""
        rng = self.rng
        ch = t["channel"]
        cust = t["customer"]
        author = self.cust_name[cust] if self.cust_named[cust] else ""
        created = at
        ext: str | None
        message_id = in_reply_to = references = None
        subject = ""
        auto = None
        if ch == "email":
            created = at - rng.randint(SECOND, 3 * MINUTE)
            domain = ident.split("@", 1)[1]
            ext = message_id = f"{self._hex(16)}.{self._hex(8)}@{domain}"
            parent = thread.get("last_email")
            if parent is None:
                subject = t["subject"]
            else:
                in_reply_to = parent[9]
                references = " ".join(((parent[11] or "").split() + [parent[9]])[-MAX_REFERENCES:])
                base = parent[12] if parent[12] else t["subject"]
                subject = base if base.lower().startswith("re:") else f"Re: {base}"
                if rng.random() < 0.012:
                    auto = "auto_reply"
                    spec = ("auto", t["topic"], 0, None)
        elif ch == "telegram":
            created = at - rng.randint(0, 2 * SECOND)
            ext = None  # the update id, numbered in time order once every message is planned
        elif ch == "phone":
            ext = f"CA{self._hex(32)}"
        elif ch == "sms":
            ext = f"SM{self._hex(32)}"
        else:
            ext = self._uuid()
            if ch == "web" and thread.get("first", True):
                subject = t["subject"]
        thread["first"] = False
        rec = self._record(
            ticket=i if target is None else target,
            kind="call" if ch == "phone" else kind,
            channel=ch,
            at=at,
            created=created,
            customer=cust,
            external_id=ext,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            subject=subject,
            author_name=author,
            address=ident,  # email: the sender's address; chats: the chat key's identity
            auto=auto,
            spec=spec,
        )
        if ch == "email":
            thread["last_email"] = rec
        thread["last_in"] = rec
        return rec

    def _record(
        self,
        *,
        ticket: int,
        kind: str,
        channel: str,
        at: int,
        spec: str | tuple[Any, ...],
        created: int | None = None,
        agent: int | None = None,
        customer: int | None = None,
        external_id: str | None = None,
        message_id: str | None = None,
        in_reply_to: str | None = None,
        references: str | None = None,
        subject: str = "",
        author_name: str = "",
        address: str | None = None,
        auto: str | None = None,
        state: str | None = None,
        error: str | None = None,
    ) -> list[Any]:
        """A planned message row (``spec`` is its text or how to write it), kept in ``msgs``.

        Fields by index: 0 id, 1 ticket index, 2 kind, 3 channel, 4 created, 5 received, 6 agent,
        7 customer index, 8 external_id, 9 message_id, 10 in_reply_to, 11 references, 12 subject,
        13 author_name, 14 author_address, 15 auto, 16 delivery_state, 17 delivery_error, 18 spec,
        19 planning order.
        """
        rec = [
            0, ticket, kind, channel, at if created is None else created, at, agent, customer,
            external_id, message_id, in_reply_to, references, subject, author_name, address, auto,
            state, error, spec, self._next(),
        ]  # fmt: skip
        self.msgs.append(rec)
        return rec

    def _merged(self, i: int, t: dict[str, Any], n: int, ident: str, line: str | None) -> bool:
        """A customer's duplicate mail merged into their open ticket; False when none is open."""
        rng = self.rng
        c = t["created"]
        offsets = [0]
        for _ in range(n - 2):
            offsets.append(offsets[-1] + max(self._expo(25 * MINUTE), 30 * SECOND))
        offsets.append(offsets[-1] + max(self._expo(HOUR), 2 * MINUTE))
        offsets = self._fit(c, offsets)
        merged_at = c + offsets[-1]
        target = None
        for j in reversed(self.cust_email_tickets[t["customer"]][:-1][-5:]):
            other = self.tickets[j]
            if (
                other["merged_into"] is None
                and (other["resolved"] or NEVER) > merged_at
                and (other["closed"] or NEVER) > merged_at
            ):
                target = j
                break
        if target is None:
            return False
        self.merges += 1
        dst = self.tickets[target]
        lead = rng.choice(self.leads)
        by = self.agent_login[lead]
        number = t["number"]
        self._event(c, i, "ticket.created", t["channel"], number=number, follows=None)
        thread: dict[str, Any] = {}
        for off in offsets[:-1]:
            spec = ("inbound", t["topic"], self._length("inbound", "email"), None)
            rec = self._inbound(i, t, c + off, ident, "inbound", spec, thread, target=target)
            self._event(c + off, i, "message.received", "email", message=rec, auto=rec[15])
            t["last_message"] = c + off
        t["version"] = n  # 1 at creation, +1 per appended mail (n - 2), +1 for the merge
        t.update(status="closed", closed=merged_at, updated=merged_at, merged_into=target)
        text = f"Ticket #{number} merged into this ticket by {by}."
        self._record(
            ticket=target,
            kind="system",
            channel="internal",
            at=merged_at,
            agent=lead,
            external_id=f"merge.{self._hex(32)}@{DESK_DOMAIN}",
            author_name=self.agent_name[lead],
            spec=text,
        )
        dst["last_message"] = max(dst["last_message"], t["last_message"])
        dst["updated"] = max(dst["updated"], merged_at)
        dst["version"] += 1
        self._event(merged_at, i, "ticket.merged", by, into=dst["number"])
        self._event(merged_at, target, "ticket.merged_in", by, source=number)
        return True

    def _length(self, kind: str, channel: str) -> int:
        rng = self.rng
        if kind == "reply":
            return 160 + self._expo(420)
        if kind == "note":
            return 100 + self._expo(180)
        if kind == "call":
            return 110 + self._expo(260)
        if channel == "email":
            return 120 + self._expo(620)
        return 100 + self._expo(160 if rng.random() < 0.85 else 600)

    def _kinds(self, n: int, status: str, inbound: str) -> list[str]:
        rng = self.rng
        kinds = [inbound]
        for _ in range(n - 1):
            prev, r = kinds[-1], rng.random()
            if status == "new":
                kinds.append("note" if r < 0.3 else inbound)
            elif prev == inbound:
                kinds.append("reply" if r < 0.72 else "note" if r < 0.9 else inbound)
            elif prev == "reply":
                kinds.append(inbound if r < 0.7 else "note" if r < 0.85 else "reply")
            else:
                kinds.append("reply" if r < 0.6 else inbound if r < 0.85 else "note")
        return kinds

    def _thread(self, i: int, t: dict[str, Any], n: int, ident: str, line: str | None) -> None:
        rng = self.rng
        c, ch, status, priority = t["created"], t["channel"], t["status"], t["priority"]
        chat = ch != "email"
        inbound = "call" if ch == "phone" else "inbound"
        kinds = self._kinds(n, status, inbound)
        response = getattr(self.policy, f"{priority}_response_minutes") * MINUTE

        # offsets from creation: the thread first, then triage and the status trail
        offsets = [0]
        replied = False
        for prev, kind in zip(kinds, kinds[1:], strict=False):
            at = offsets[-1]
            if kind == "reply" and not replied:
                replied = True
                at = max(at + 30 * SECOND, int(response * rng.uniform(0.03, 1.2)))
            elif kind == "reply":
                at += self._expo(12 * MINUTE if chat else 2 * HOUR)
            elif kind == inbound:
                if prev == "reply":
                    at += self._expo(25 * MINUTE if chat else 8 * HOUR)
                else:
                    at += self._expo(4 * MINUTE if chat else 90 * MINUTE)
            else:
                at += self._expo(HOUR)
            offsets.append(max(at, offsets[-1] + 5 * SECOND))
        first_reply = next((o for k, o in zip(kinds, offsets, strict=True) if k == "reply"), None)

        assignee = None
        active_share = {"new": 0.3, "open": 0.9, "pending": 0.95}.get(status, 0.97)
        if rng.random() < active_share:
            if (
                self.now - c > INACTIVE_SINCE_DAYS * DAY
                and status == "closed"
                and (rng.random() < 0.06)
            ):
                assignee = self.inactive
            else:
                assignee = rng.choice(self.assignees)
        n_fixed = len(offsets)
        if assignee is not None:
            if first_reply is not None:
                offsets.append(first_reply - int(rng.random() * min(first_reply, 30 * MINUTE)))
            else:
                offsets.append(self._expo(20 * MINUTE) + SECOND)
        hinted = ch in ("web", "app") and rng.random() < 0.5
        if priority != "normal" and not hinted:
            offsets.append(self._expo(10 * MINUTE) + SECOND)
        end = max(offsets)
        trail: list[tuple[str, int]] = []
        if status == "open" and first_reply is None:
            trail.append(("open", end + self._expo(20 * MINUTE)))
        elif status == "pending":
            trail.append(("pending", end + self._expo(15 * MINUTE)))
        elif status == "resolved":
            trail.append(("resolved", end + self._expo(3 * HOUR)))
        elif status == "closed":
            if rng.random() < (0.7 if self.now - c < 8 * DAY else 0.25):
                trail.append(("closed", end + self._expo(4 * HOUR)))
            else:
                resolved = end + self._expo(3 * HOUR)
                trail.append(("resolved", resolved))
                trail.append(("closed", resolved + rng.randint(DAY, 7 * DAY)))
        offsets.extend(o for _, o in trail)
        offsets = self._fit(c, offsets)
        extra = iter(offsets[n_fixed:])

        t["assignee"] = assignee
        number = t["number"]
        self._event(c, i, "ticket.created", ch, number=number, follows=None)
        if assignee is not None:
            at = c + next(extra)
            if self.agent_role[assignee] == "engineer" and rng.random() < 0.4:
                by = self.agent_login[assignee]
            else:
                by = self.agent_login[rng.choice(self.leads)]
            self._event(at, i, "ticket.assigned", by, to=self.agent_login[assignee])
            t["version"] += 1
            t["updated"] = max(t["updated"], at)
        if priority != "normal" and not hinted:
            at = c + next(extra)
            by = self.agent_login[rng.choice(self.leads)]
            self._event(at, i, "ticket.priority", by, previous="normal", priority=priority)
            t["version"] += 1
            t["updated"] = max(t["updated"], at)

        thread: dict[str, Any] = {}
        current = "new"
        for k, (kind, off) in enumerate(zip(kinds, offsets[:n_fixed], strict=True)):
            at = c + off
            if kind == inbound:
                spec = (kind, t["topic"], self._length(kind, ch), line if k == 0 else None)
                rec = self._inbound(i, t, at, ident, "inbound", spec, thread)
                if k:
                    t["version"] += 1
                    t["updated"] = max(t["updated"], at)
                    t["last_message"] = max(t["last_message"], at)
                self._event(at, i, "message.received", ch, message=rec, auto=rec[15])
            elif kind == "reply":
                rec = self._reply(i, t, at, thread)
                if t["first_response"] is None:
                    t["first_response"] = at
                current = "open"
                t["version"] += 1
                t["updated"] = max(t["updated"], at)
                t["last_message"] = max(t["last_message"], at)
                self._event(
                    at, i, "message.replied", self.agent_login[rec[6]], message=rec, channel=rec[3]
                )
            else:
                author = self._author(t)
                rec = self._record(
                    ticket=i,
                    kind="note",
                    channel="internal",
                    at=at,
                    agent=author,
                    external_id=f"note.{self._hex(32)}@{DESK_DOMAIN}",
                    author_name=self.agent_name[author],
                    spec=("note", t["topic"], self._length("note", ch), None),
                )
                t["version"] += 1
                t["updated"] = max(t["updated"], at)
                self._event(at, i, "note.added", self.agent_login[author], message=rec)

        for (new_status, _), off in zip(trail, extra, strict=True):
            at = c + off
            by = self.agent_login[self._author(t)]
            pending_until = None
            if new_status == "pending":
                t["pending_until"] = (at + rng.randint(DAY, 7 * DAY)) // HOUR * HOUR
                pending_until = aware(t["pending_until"])
            elif new_status == "resolved":
                t["resolved"] = at
            elif new_status == "closed":
                t["closed"] = at
                t["resolved"] = t["resolved"] or at
            kind = (
                f"ticket.{new_status}" if new_status in ("resolved", "closed") else "ticket.status"
            )
            self._event(
                at, i, kind, by, previous=current, status=new_status, pending_until=pending_until
            )
            current = new_status
            t["version"] += 1
            t["updated"] = max(t["updated"], at)

    def _reply(self, i: int, t: dict[str, Any], at: int, thread: dict[str, Any]) -> list[Any]:
        rng = self.rng
        author = self._author(t)
        last = thread["last_in"]
        channel = "sms" if last[3] == "phone" else last[3]
        message_id = f"sdesk.{t['number']}.{self._hex(20)}@{DESK_DOMAIN}"
        references = ((last[11] or "").split() + ([last[9]] if last[9] else []))[-MAX_REFERENCES:]
        subject = t["subject"]
        if f"[#{t['number']}]" not in subject:
            subject = f"{subject} [#{t['number']}]"
        if not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        state, error = "sent", None
        if self.now - at < 20 * MINUTE and rng.random() < 0.5:
            state = "queued"
        elif rng.random() < 0.02:
            state = "failed"
            error = DELIVERY_ERRORS[channel].format(to=last[14])
        rec = self._record(
            ticket=i,
            kind="reply",
            channel=channel,
            at=at,
            agent=author,
            external_id=message_id,
            message_id=message_id if channel == "email" else None,
            in_reply_to=last[9],
            references=" ".join(references) or None,
            subject=subject,
            author_name=self.agent_name[author],
            address=last[14],
            state=state,
            error=error,
            spec=("reply", t["topic"], self._length("reply", channel), None),
        )
        if channel == "email":
            thread["last_email"] = rec
        return rec

    # -- ordering --------------------------------------------------------------------------------

    def number(self) -> None:
        """Give messages, events and customers ids in the order a live desk would have."""
        self.msgs.sort(key=lambda r: (r[5], r[19]))
        update_id = 700_000_000 + self.rng.randint(0, 99_999_999)
        for n, rec in enumerate(self.msgs, 1):
            rec[0] = n
            if rec[3] == "telegram" and rec[8] is None:
                update_id += self.rng.randint(1, 40)  # other bots' and chats' updates between
                rec[8] = str(update_id)
        self.events.sort(key=lambda e: (e[0], e[1]))
        customers = len(self.cust_name)
        self.cust_created = []
        for c in range(customers):
            seen = self.cust_first_seen[c]
            if seen:
                self.cust_created.append(min(seen.values()))
            else:  # known from before the window (e.g. an import) and quiet since
                self.cust_created.append(self.start - self.rng.randint(DAY, 400 * DAY))
        order = sorted(range(customers), key=lambda c: (self.cust_created[c], c))
        self.cust_id = [0] * customers
        for n, c in enumerate(order, 1):
            self.cust_id[c] = n
        self.cust_order = order

    # -- texts -----------------------------------------------------------------------------------

    def _words(self, topic: str, k: int) -> list[str]:
        population, cw = self.pop[topic]
        return self.rng.choices(population, cum_weights=cw, k=k)

    def _prose(self, topic: str, target: int) -> str:
        rng = self.rng
        words = self._words(topic, max(5, int(target / 6.4)))
        r = rng.random()
        if r < 0.12:
            words.insert(rng.randrange(len(words)), f"order {rng.randint(10_000_000, 99_999_999)}")
        elif r < 0.18:
            words.insert(rng.randrange(len(words)), f"error 0x{rng.getrandbits(32):08X}")
        elif r < 0.22:
            words.insert(rng.randrange(len(words)), f"serial SN{self._hex(10).upper()}")
        elif r < 0.26:
            words.insert(rng.randrange(len(words)), rng.choice(self.models).upper())
        sentences = []
        pos = 0
        while pos < len(words):
            size = rng.randint(4, 16)
            chunk = words[pos : pos + size]
            pos += size
            if len(chunk) > 7 and rng.random() < 0.3:
                cut = rng.randint(3, len(chunk) - 3)
                chunk[cut - 1] += ","
            sentence = " ".join(chunk)
            end = "." if rng.random() < 0.85 else rng.choice("?!")
            sentences.append(sentence[0].upper() + sentence[1:] + end)
            if rng.random() < 0.12:
                sentences.append("\n\n")
        return " ".join(sentences).replace(" \n\n ", "\n\n").strip()

    def text(self, rec: list[Any]) -> str:
        spec = rec[18]
        if isinstance(spec, str):
            return spec
        style, topic, target, first_line = spec
        rng = self.rng
        channel = rec[3]
        customer = rec[7]
        head = tail = ""
        if style in ("inbound", "call"):
            name = self.cust_name[customer] if self.cust_named[customer] else ""
            first = name.split(" ", 1)[0]
            if style == "call":
                head = f"Inbound call, {rng.randint(0, 14)}:{rng.randint(0, 59):02d}. "
            elif channel == "email":
                head = (
                    rng.choice(
                        (
                            "Hello,",
                            "Hi,",
                            "Hi team,",
                            "Good morning,",
                            "Dear support,",
                            "Hello support team,",
                            "",
                        )
                    )
                    + "\n\n"
                )
                sign = rng.choice(
                    (
                        "Thanks,\n{first}",
                        "Regards,\n{name}",
                        "Best,\n{first}",
                        "Thank you\n{name}",
                        "{first}",
                        "Sent from my phone",
                    )
                )
                tail = "\n\n" + (sign.format(first=first, name=name) if name else "Thanks")
            elif rng.random() < 0.3:
                head = rng.choice(("hi ", "Hello, ", "Hey, ", "Good evening. "))
            if first_line:  # chats send no subject: intake takes the first line instead
                head = f"{first_line}\n"
        elif style == "reply":
            cname = self.cust_name[self.tickets[rec[1]]["customer"]]
            first = (
                cname.split(" ", 1)[0] if self.cust_named[self.tickets[rec[1]]["customer"]] else ""
            )
            head = f"{rng.choice(('Hi', 'Hello', 'Dear'))} {first or 'there'},\n\n"
            tail = f"\n\nBest regards,\n{rec[13]}\nSupport team"
        elif style == "note":
            head = rng.choice(
                (
                    "Checked the logs: ",
                    "Called the customer. ",
                    "Escalated to L2. ",
                    "FYI ",
                    "Internal: ",
                    "",
                    "",
                    "",
                )
            )
        elif style == "auto":
            head = "Automatic reply: I am out of the office until Monday with limited access to "
            head += "email. For urgent matters please contact my colleague.\n\n"
            target = 60
        budget = target - len(head) - len(tail)
        body = self._prose(topic, max(budget, 40))
        text = head + body + tail
        while len(text) < 100:
            body += " " + self._prose(topic, 60)
            text = head + body + tail
        if len(text) > 2000:
            keep = 2000 - len(head) - len(tail) - 2
            body = body[: body.rfind(" ", 0, keep)].rstrip(",") + "."
            text = head + body + tail
        return text

    def attachments(self, message: int, rec: list[Any]) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        if rec[2] != "inbound":
            return
        channel = rec[3]
        share = 0.04 if channel == "email" else 0.03 if channel in ("web", "app", "telegram") else 0
        if not share or rng.random() >= share:
            return
        for k in range(rng.choice((1, 1, 1, 2, 3)) if channel == "email" else 1):
            pattern, ctype, low, high = rng.choice(
                ATTACHMENTS[:3] if channel != "email" else ATTACHMENTS
            )
            inline = channel == "email" and ctype.startswith("image/") and rng.random() < 0.3
            yield (
                message,
                pattern.format(n=rng.randint(1000, 9999)),
                ctype,
                rng.randint(low, high),
                self._hex(64),
                int(inline),
                f"image{k:03d}.png@01DA{self._hex(8).upper()}" if inline else None,
                0,
            )


# -- writing -------------------------------------------------------------------------------------

TICKET_COLUMNS = (
    "id, number, subject, status, priority, channel, customer_id, assignee_id, group_id, chat_key, "
    "created_at, updated_at, last_message_at, first_response_at, first_response_due, "
    "resolution_due, pending_until, resolved_at, closed_at, merged_into_id, version"
)
MESSAGE_COLUMNS = (
    'id, ticket_id, kind, channel, external_id, message_id, in_reply_to, "references", subject, '
    "text, author_agent_id, author_customer_id, author_name, author_address, auto, created_at, "
    "received_at, delivery_state, delivery_error, raw_id, notes"
)
OUTBOX_COLUMNS = (
    "kind, channel, ticket_id, message_id, recipient, payload, state, attempts, next_attempt_at, "
    "last_error, created_at, sent_at, idempotency_key"
)


def _insert(db: sqlite3.Connection, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    marks = ", ".join("?" * (columns.count(",") + 1))
    db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _opt(us: int | None) -> str | None:
    return None if us is None else stamp(us)


def _write_people(db: sqlite3.Connection, g: _Generator) -> None:
    customers, contacts = [], []
    for c in g.cust_order:
        cid = g.cust_id[c]
        created = g.cust_created[c]
        customers.append((cid, g.cust_name[c], stamp(created), ""))
        display = g.cust_name[c] if g.cust_named[c] else ""
        for kind, value in g.cust_contacts[c].items():
            seen = g.cust_first_seen[c].get(kind, created)
            contacts.append((seen, cid, kind, value, display))
    contacts.sort(key=lambda r: (r[0], r[1]))
    db.execute("BEGIN")
    _insert(db, "customer", "id, name, created_at, note", customers)
    _insert(
        db,
        "contact",
        "id, customer_id, kind, value, display, created_at",
        [
            (n, cid, kind, value, disp, stamp(at))
            for n, (at, cid, kind, value, disp) in enumerate(contacts, 1)
        ],
    )
    agents = []
    hired = g.start - 30 * DAY
    for aid, login in g.agent_login.items():
        name = g.agent_name[aid]
        first, last = name.split(" ", 1)
        email = f"{ascii_fold(first)}.{ascii_fold(last)}@{DESK_DOMAIN}"
        phone = f"+1415555{aid:04d}"
        agents.append(
            (
                aid,
                login,
                name,
                g.agent_role[aid],
                email,
                phone,
                None,
                None,
                None,
                int(aid != g.inactive),
                stamp(hired + aid * HOUR),
            )
        )
    _insert(
        db,
        "agent",
        "id, login, name, role, email, phone, telegram_chat, push_target, group_id, active, "
        "created_at",
        agents,
    )
    db.execute("COMMIT")
    say(f"  {len(customers):,} customers, {len(contacts):,} contacts, {len(agents)} agents")


def _write_tickets(db: sqlite3.Connection, g: _Generator) -> None:
    rows = []
    for i, t in enumerate(g.tickets):
        rows.append(
            (
                i + 1,
                t["number"],
                t["subject"],
                t["status"],
                t["priority"],
                t["channel"],
                g.cust_id[t["customer"]],
                t["assignee"],
                None,
                t["chat_key"],
                stamp(t["created"]),
                stamp(t["updated"]),
                stamp(t["last_message"]),
                _opt(t["first_response"]),
                t["response_due"],
                t["resolution_due"],
                _opt(t["pending_until"]),
                _opt(t["resolved"]),
                _opt(t["closed"]),
                None if t["merged_into"] is None else t["merged_into"] + 1,
                t["version"],
            )
        )
    for start in range(0, len(rows), BATCH):
        db.execute("BEGIN")
        _insert(db, "ticket", TICKET_COLUMNS, rows[start : start + BATCH])
        db.execute("COMMIT")
        say(f"  tickets {min(start + BATCH, len(rows)):,}/{len(rows):,}")


def _write_messages(db: sqlite3.Connection, g: _Generator) -> tuple[int, int, int]:
    total = len(g.msgs)
    text_bytes = attachments = outbox = 0
    for start in range(0, total, BATCH):
        rows, atts, outs = [], [], []
        for rec in g.msgs[start : start + BATCH]:
            text = g.text(rec)
            text_bytes += len(text)
            mid = rec[0]
            ticket = g.tickets[rec[1]]
            customer = None if rec[7] is None else g.cust_id[rec[7]]
            rows.append(
                (
                    mid,
                    rec[1] + 1,
                    rec[2],
                    rec[3],
                    rec[8],
                    rec[9],
                    rec[10],
                    rec[11],
                    rec[12],
                    text,
                    rec[6],
                    customer,
                    rec[13],
                    rec[14],
                    rec[15],
                    stamp(rec[4]),
                    stamp(rec[5]),
                    rec[16],
                    rec[17],
                    None,
                    "",
                )
            )
            atts.extend(g.attachments(mid, rec))
            if rec[2] == "reply":
                outs.append(_outbox_row(g, rec, ticket, text))
        db.execute("BEGIN")
        _insert(db, "message", MESSAGE_COLUMNS, rows)
        if atts:
            _insert(
                db,
                "attachment",
                "message_id, filename, content_type, size, sha256, inline, content_id, stored",
                atts,
            )
        if outs:
            _insert(db, "outbox", OUTBOX_COLUMNS, outs)
        db.execute("COMMIT")
        attachments += len(atts)
        outbox += len(outs)
        done = min(start + BATCH, total)
        say(f"  messages {done:,}/{total:,} ({text_bytes / 1e6:,.0f} MB of text)")
    return text_bytes, attachments, outbox


def _outbox_row(
    g: _Generator, rec: list[Any], ticket: dict[str, Any], text: str
) -> tuple[Any, ...]:
    at, state, message_id = rec[5], rec[16], rec[8]
    payload = {
        "ticket": ticket["number"],
        "subject": rec[12],
        "message_id": message_id,
        "in_reply_to": rec[10],
        "references": (rec[11] or "").split(),
        "text": text,
    }
    if state == "sent":
        attempts, next_at, sent = 1, at, _opt(at + g.rng.randint(SECOND, 40 * SECOND))
    elif state == "failed":
        attempts, next_at, sent = 5, at + 6 * HOUR, None
    else:
        attempts, next_at, sent = 0, at, None
    return (
        "reply",
        rec[3],
        rec[1] + 1,
        rec[0],
        rec[14],
        json.dumps(payload, ensure_ascii=False),
        state,
        attempts,
        stamp(next_at),
        rec[17],
        stamp(at),
        sent,
        f"reply:{message_id}",
    )


def _write_events(db: sqlite3.Connection, g: _Generator) -> None:
    total = len(g.events)
    for start in range(0, total, BATCH):
        rows = []
        for n, (at, _, i, kind, actor, data) in enumerate(g.events[start : start + BATCH], start):
            if "message" in data:
                data = {**data, "message": data["message"][0]}
            rows.append(
                (
                    n + 1,
                    i + 1,
                    kind,
                    actor,
                    json.dumps(data, ensure_ascii=False, default=str),
                    stamp(at),
                )
            )
        db.execute("BEGIN")
        _insert(db, "event", "id, ticket_id, kind, actor, data, created_at", rows)
        db.execute("COMMIT")
        say(f"  events {min(start + BATCH, total):,}/{total:,}")


def generate_desk(
    path: Path, tickets: int = 100_000, messages: int = 500_000, seed: int = 1
) -> None:
    """Write a new desk at ``path`` (replacing any file there) with the given volume."""
    if tickets < 1 or not tickets <= messages <= MAX_PER_TICKET * tickets:
        raise ValueError(f"need 1 <= tickets <= messages <= {MAX_PER_TICKET} * tickets")
    _ensure_sdesk_importable()
    from sdesk.store.engine import open_store

    began = _CLOCK["start"] = time.monotonic()
    path = Path(path)
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        if p.is_file():
            p.unlink()
    store = open_store(path)  # the real schema, through the Alembic migration
    store.dispose()
    say(f"schema created by open_store (Alembic) at {path}")

    g = _Generator(tickets, messages, seed, datetime.now(UTC))
    g.plan()
    g.number()
    say(
        f"planned {len(g.tickets):,} tickets ({g.merges} merged), {len(g.msgs):,} messages, "
        f"{len(g.events):,} events; writing"
    )

    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=MEMORY")  # the desk is WAL; back to WAL when done
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-262144")
        db.execute("PRAGMA temp_store=MEMORY")
        _write_people(db, g)
        _write_tickets(db, g)
        text_bytes, attachments, outbox = _write_messages(db, g)
        _write_events(db, g)
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()
    size = path.stat().st_size
    say(
        f"wrote {path}: {size / 2**20:,.0f} MiB ({size:,} bytes), "
        f"{text_bytes / 1e6:,.0f} MB message text, {attachments:,} attachments, "
        f"{outbox:,} outbox rows in {time.monotonic() - began:.1f}s"
    )


def verify(path: Path, *, thorough: bool = False) -> None:
    """Open the desk through the ORM (no migration may run) and count and search it."""
    _ensure_sdesk_importable()
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import func, text
    from sqlmodel import select

    from sdesk.store.engine import MIGRATIONS, open_store
    from sdesk.store.models import Message, Ticket

    began = time.monotonic()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with sqlite3.connect(path) as raw:
        revision = raw.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    backups = set(path.parent.glob(f"{path.name}.before-*"))
    if revision != head:
        raise SystemExit(f"desk is at revision {revision}, code head is {head}")
    store = open_store(path)
    try:
        with store.read() as session:
            n_tickets = session.exec(select(func.count()).select_from(Ticket)).one()
            n_messages = session.exec(select(func.count()).select_from(Message)).one()
            hits = session.execute(
                text("SELECT count(*) FROM message_fts WHERE message_fts MATCH 'router'")
            ).scalar_one()
            subject_hits = session.execute(
                text("SELECT count(*) FROM ticket_fts WHERE ticket_fts MATCH 'router'")
            ).scalar_one()
            newest = session.exec(select(Ticket).order_by(Ticket.number.desc()).limit(1)).one()
            print(
                f"verify: revision {revision} (head), {n_tickets:,} tickets, "
                f"{n_messages:,} messages, 'router' in {hits:,} messages and "
                f"{subject_hits:,} subjects; newest #{newest.number} {newest.status} "
                f"created {newest.created_at.isoformat()} ({time.monotonic() - began:.1f}s)",
                flush=True,
            )
            if thorough:
                _thorough(session, text)
    finally:
        store.dispose()
    if set(path.parent.glob(f"{path.name}.before-*")) != backups:
        raise SystemExit("open_store ran an upgrade (a backup appeared)")


def _thorough(session: Any, text: Any) -> None:
    _ensure_sdesk_importable()
    from sdesk.core.contacts import normalise
    from sdesk.core.enums import ContactKind

    def one(sql: str) -> Any:
        return session.execute(text(sql)).scalar_one()

    print(f"  integrity_check: {one('PRAGMA integrity_check')}")
    print(f"  foreign_key_check: {session.execute(text('PRAGMA foreign_key_check')).all() or 'ok'}")
    for fts in ("message_fts", "ticket_fts"):  # raises when the index and the table disagree
        session.execute(text(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)"))
        print(f"  {fts} integrity-check: ok")
    session.rollback()
    bad = 0
    for kind, value in session.execute(text("SELECT kind, value FROM contact")).all():
        if normalise(ContactKind(kind), value) != value:
            bad += 1
    print(f"  contacts not in normal form: {bad}")
    for sql in (
        "SELECT count(*) FROM message WHERE length(text) NOT BETWEEN 100 AND 2000 "
        "AND kind != 'system'",
        "SELECT count(*) FROM ticket WHERE status IN ('resolved','closed') AND resolved_at IS NULL "
        "AND merged_into_id IS NULL",
        "SELECT count(*) FROM ticket t WHERE first_response_at IS NOT NULL AND status = 'new'",
        "SELECT count(*) FROM (SELECT chat_key FROM ticket WHERE chat_key IS NOT NULL "
        "AND status != 'closed' GROUP BY chat_key HAVING count(*) > 1)",
        "SELECT count(*) FROM ticket WHERE updated_at > strftime('%Y-%m-%d %H:%M:%f', 'now')",
        "SELECT count(*) FROM message m JOIN ticket t ON t.id = m.ticket_id "
        "WHERE m.received_at < t.created_at",
        "SELECT count(*) FROM ticket t WHERE (SELECT count(*) FROM event e "
        "WHERE e.ticket_id = t.id AND e.kind = 'ticket.created') != 1",
    ):
        print(f"  {one(sql):>6}  {sql}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the desk file to write (replaced if present)")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--check", action="store_true", help="also run integrity and consistency checks"
    )
    args = parser.parse_args(argv)
    if not args.tickets <= args.messages <= MAX_PER_TICKET * args.tickets or args.tickets < 1:
        parser.error(f"need 1 <= --tickets <= --messages <= {MAX_PER_TICKET} * --tickets")
    generate_desk(args.out, args.tickets, args.messages, args.seed)
    verify(args.out, thorough=args.check)


if __name__ == "__main__":
    main()
