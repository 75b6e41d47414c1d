"""The demo desk's script: who works there, who writes in, about what, and how each ticket's
week goes. Data only; ``sdesk.demo`` plays it through the core."""

from __future__ import annotations

from sdesk.core.enums import Channel, ContactKind, Priority, Role
from sdesk.core.inbound import ContactRef, Sender

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
        "merge": (15, 15), "auto": (2, 5), "bounce": (1, 3), "rate": (20, 1200)}
# the satisfaction survey after a resolution: most answer it, mostly happily
RATED = 0.85
RATING_ODDS = ((5, 4, 3, 2, 1), (55, 27, 8, 5, 5))
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
KIND = {E: ContactKind.EMAIL, TG: ContactKind.TELEGRAM, CALL: ContactKind.PHONE,
         SMS: ContactKind.PHONE, WEB: ContactKind.ACCOUNT, APP: ContactKind.ACCOUNT}
LETTER = {kind.value[0]: kind for kind in ContactKind}  # e, p, t, a
KEY_PREFIX = {TG: "tg-update-", CALL: "CA", SMS: "SM", WEB: "web-", APP: "app-"}
NAMES = {login: name for login, name, *_ in AGENTS}
# fmt: on
