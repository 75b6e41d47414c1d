"""Deterministic, realistic synthetic mail corpora for benchmarks (mbox, Maildir, .eml).

As a module: ``generate_messages``, ``write_mbox``, ``write_maildir``, ``write_eml_dir``.
As a script::

    python bench/mailgen.py mbox OUT.mbox -n 50000
    python bench/mailgen.py maildir DIR -n 1000
    python bench/mailgen.py eml DIR -n 1000

Output depends only on ``n`` and ``seed`` (the customer pool and the date spread scale with
``n``, so a smaller corpus is not a prefix of a larger one). Messages use LF line endings;
the average message is ~5.5 KiB.

Mix, by message: ~43% text/plain, ~28% multipart/alternative, ~10% HTML-only, ~10% with one
or two PDF/PNG attachments, ~3% inline images, ~3% auto-replies, ~1% DSN bounces, ~2%
mailing-list mail. About a third are replies (In-Reply-To/References naming earlier generated
Message-IDs, quoted history); ~15% are Cyrillic (KOI8-R, windows-1251), ~3% ISO-2022-JP, ~4%
UTF-8 with emoji; ~1% carry no Message-ID. Senders come from a pool of ~n/8 customers.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import html
import math
import os
import random
import re
import sys
import time
import unicodedata
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import TypeVar

__all__ = ["generate_messages", "write_eml_dir", "write_maildir", "write_mbox"]

Entity = tuple[list[str], bytes]  # (header lines, already-encoded body)
T = TypeVar("T")


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    """Compact literal tables: ``_words("a b")``, ``_words("a b|c", "|")``."""
    return tuple(text.split(sep))


DESK_DOMAIN = "desk.example.com"
MX_HOST = f"mx1.{DESK_DOMAIN}"
START = datetime(2024, 1, 8, tzinfo=UTC)  # a Monday
SPAN_DAYS = 24
THREAD_MEMORY = 3000  # recent threads kept for replies: bounds memory for any n

CATEGORIES = ("plain", "alt", "html", "attach", "inline", "auto", "dsn", "list")
CATEGORY_CUM = (0.43, 0.71, 0.81, 0.91, 0.94, 0.97, 0.98, 1.0)
REPLY_SHARE = 0.36  # of customer-written mail (plain..inline), i.e. ~1/3 of the corpus
LANGS = ("en", "emoji", "ru_koi8", "ru_1251", "ja")
LANG_CUM = (0.78, 0.82, 0.89, 0.97, 1.0)

SUPPORT_TO = (
    ("Support", f"support@{DESK_DOMAIN}"),
    ("Acme Help Desk", f"helpdesk@{DESK_DOMAIN}"),
    ("", f"support@{DESK_DOMAIN}"),
    ("Billing", f"billing@{DESK_DOMAIN}"),
)
SUPPORT_AUTHOR = f"Support <support@{DESK_DOMAIN}>"

# --- people and organisations ------------------------------------------------------------------

EN_FIRST = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Chris Karen Daniel Emily Matthew Olivia "
    "Priya Wei Ahmed Fatima Lucas Emma Noah Sophie Liam Chloe Raj Hannah Mark Grace Kevin Megan"
)
EN_LAST = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Wilson "
    "Anderson Taylor Thomas Moore Jackson Martin Lee Thompson White Harris Clark Lewis "
    "Walker Patel Chen Khan O'Connor Nguyen Kowalski Schmidt Rossi Hughes Baker Fischer"
)
INTL_NAMES = tuple(
    tuple(pair.split(" ", 1))
    for pair in _words(
        "José García|Zoë Müller|François Lefèvre|Łukasz Wiśniewski|Siobhán Ó Briain|"
        "Björn Andersson|Ana Conceição|Jürgen Weiß|Renée Dubois|Ayşe Yılmaz|Tomáš Dvořák|"
        "Søren Jørgensen|Inés Peña|Mikael Häkkinen|Zoltán Kovács|Chloé Bérubé|Đorđe Petrović|"
        "Małgorzata Nowak|André Gonçalves|Åsa Lindström",
        "|",
    )
)
EN_COMPANIES = _words(
    "Northwind Traders|Contoso|Fabrikam|Globex|Initech|Umbrella Logistics|Stark Components|"
    "Wayne Shipping|Acme Widgets|Hooli|Vandelay Industries|Pied Piper|Dunder Mifflin|"
    "Soylent Foods|Tyrell Systems|Cyberdyne Labs|Wonka Confectionery|Oceanic Travel|"
    "Monarch Print|Blue Harbor Dental|Greenfield Farms|Summit Legal|Brightside Clinic|"
    "Redwood Analytics|Silverline Telecom|Atlas Freight|Keystone Realty|Maple Leaf Bakery|"
    "Orion Robotics|Lakeside Hotels",
    "|",
)
EN_TLDS = ("com", "com", "com", "co.uk", "de", "io", "net", "nl")
EN_FREEMAIL = (
    ("gmail.com", "gmail"),
    ("gmail.com", "gmail"),
    ("outlook.com", "outlook"),
    ("hotmail.com", "outlook"),
    ("yahoo.com", "roundcube"),
    ("icloud.com", "iphone"),
    ("proton.me", "roundcube"),
)
EN_TITLES = _words(
    "Office Manager|IT Administrator|Head of Operations|Accounts Payable|Procurement Lead|"
    "CTO|Customer Success Manager|Finance Director|Team Lead",
    "|",
)
RU_FIRST_M = _words("Иван Алексей Дмитрий Сергей Михаил Андрей Николай Павел Артём Егор")
RU_FIRST_F = _words("Анна Мария Екатерина Ольга Наталья Татьяна Юлия Елена Ирина Светлана")
RU_LAST = _words(
    "Иванов Петров Смирнов Кузнецов Соколов Попов Лебедев Козлов Новиков Морозов Волков "
    "Фёдоров Семёнов Ершов Зайцев"
)
RU_COMPANIES = (
    ("Ромашка", "romashka.ru"),
    ("Вектор", "vektor-group.ru"),
    ("СтройИнвест", "stroyinvest.ru"),
    ("Альфа-Логистик", "alfa-logistic.ru"),
    ("ТехноСервис", "tekhnoservis.ru"),
    ("СибТранс", "sibtrans.ru"),
)
RU_FREEMAIL = (
    ("mail.ru", "mailru"),
    ("bk.ru", "mailru"),
    ("list.ru", "mailru"),
    ("yandex.ru", "yandex"),
    ("ya.ru", "yandex"),
    ("rambler.ru", "roundcube"),
)
RU_TITLES = _words(
    "менеджер по закупкам|главный бухгалтер|системный администратор|"
    "руководитель отдела логистики|офис-менеджер",
    "|",
)
JA_LAST = (
    ("山田", "yamada"),
    ("佐藤", "sato"),
    ("鈴木", "suzuki"),
    ("高橋", "takahashi"),
    ("田中", "tanaka"),
    ("伊藤", "ito"),
    ("渡辺", "watanabe"),
    ("中村", "nakamura"),
)
JA_FIRST = (
    ("太郎", "taro"),
    ("花子", "hanako"),
    ("一郎", "ichiro"),
    ("美咲", "misaki"),
    ("健", "ken"),
    ("直子", "naoko"),
    ("翔", "sho"),
    ("愛", "ai"),
)
JA_COMPANIES = (
    ("山田商事", "yamada-shoji.co.jp"),
    ("東京テクノ", "tokyo-techno.co.jp"),
    ("さくら電機", "sakura-denki.co.jp"),
    ("西日本運輸", "nishi-unyu.co.jp"),
)
JA_FREEMAIL = (("docomo.ne.jp", "iphone"), ("yahoo.co.jp", "becky"), ("gmail.com", "becky"))
JA_DEPTS = ("総務部", "経理部", "情報システム部", "営業部")

CLIENTS = {
    "en": (
        ("gmail", 0.3),
        ("outlook", 0.35),
        ("apple", 0.1),
        ("iphone", 0.08),
        ("thunderbird", 0.09),
        ("roundcube", 0.08),
    ),
    "ru": (("outlook", 0.4), ("thunderbird", 0.25), ("gmail", 0.15), ("roundcube", 0.2)),
    "ja": (("outlook", 0.5), ("becky", 0.25), ("thunderbird", 0.25)),
}
MAILERS = {
    "outlook": ("X-Mailer", "Microsoft Outlook 16.0"),
    "apple": ("X-Mailer", "Apple Mail (2.3774.300.61.1.2)"),
    "iphone": ("X-Mailer", "iPhone Mail (21C66)"),
    "thunderbird": ("User-Agent", "Mozilla Thunderbird"),
    "roundcube": ("User-Agent", "Roundcube Webmail/1.6.5"),
    "becky": ("X-Mailer", "Becky! ver. 2.81.03 [ja]"),
}
TZS = {
    "en": ((0, 0.35), (1, 0.25), (-5, 0.2), (-8, 0.1), (10, 0.05), (5.5, 0.05)),
    "ru": ((3, 0.8), (5, 0.1), (7, 0.1)),
    "ja": ((9, 1.0),),
}

# --- text ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Topic:
    """Subjects paired with the sentence that opens the request, plus follow-up details."""

    tech: bool  # long bodies get a pasted log (tech) or a table of orders (not tech)
    cases: tuple[tuple[str, str], ...]
    details: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Texts:
    """Everything a customer writes, in one language."""

    topics: tuple[_Topic, ...]
    generic: tuple[str, ...]
    tech: tuple[str, ...]
    greetings: tuple[str, ...]
    closings: tuple[str, ...]
    thanks: str
    fixed: str
    not_fixed: tuple[str, ...]
    info: tuple[str, ...]
    chase: tuple[str, ...]
    agent: tuple[str, ...]
    agents: tuple[str, ...]
    log_intro: str
    table_intro: str
    statuses: tuple[str, ...]


EN = _Texts(
    topics=(
        _Topic(
            True,
            (
                (
                    "Can't log in to my account",
                    "I have been trying to log in since this morning but keep getting an "
                    '"invalid credentials" error.',
                ),
                (
                    "Password reset link not working",
                    "The password reset email never arrives, and I have checked the spam folder.",
                ),
                (
                    "Locked out after changing my phone (2FA)",
                    "I changed my phone last week and now the two-factor codes are rejected.",
                ),
                (
                    "Login keeps failing with error {code}",
                    "Every time I try to log in I get error {code} and end up on the login page.",
                ),
                (
                    "SSO login broken since this morning",
                    "Since this morning single sign-on fails for everyone here with error {code}.",
                ),
            ),
            (
                "My username is {email} in case you need it.",
                "Other people on my team can log in without any problem, so it seems to be me.",
                "I tried Chrome, Firefox and Edge, and all of them show exactly the same thing.",
                "It worked fine on Friday and nothing has changed on our side.",
            ),
        ),
        _Topic(
            False,
            (
                (
                    "Invoice #{num} is incorrect",
                    "The amount on invoice #{num} does not match the quote from your sales team.",
                ),
                (
                    "Charged twice for order {num}",
                    "We were charged twice for order {num}, on {date} and again two days later.",
                ),
                (
                    "Refund request for order #{num}",
                    "I would like a refund for order #{num}, it is not what we ordered.",
                ),
                (
                    "Question about my last invoice",
                    "The last invoice shows {qty} licences but we only have {qty2} active users.",
                ),
                (
                    "VAT number missing on invoice {num}",
                    "Our VAT number is missing from invoice {num}, so our accounts team cannot "
                    "process the payment.",
                ),
            ),
            (
                "Could you please issue a corrected invoice?",
                "Our purchase order number is PO-{num2}, it needs to appear on the invoice.",
                "The payment was made by bank transfer on {date}, reference {acct}.",
                "Our accounts team closes the month on Friday.",
            ),
        ),
        _Topic(
            False,
            (
                (
                    "Order {num} hasn't arrived",
                    "I placed order {num} on {date} and it still has not arrived.",
                ),
                (
                    "Wrong item delivered (order #{num})",
                    "We received the wrong size for order #{num}: we ordered large, got medium.",
                ),
                (
                    "Tracking number not updating",
                    'The tracking page for order {num} has said "in transit" for over a week.',
                ),
                (
                    "Delivery address change for order {num}",
                    "Please send order {num} to our new office address rather than the old one.",
                ),
                (
                    "Parcel damaged on arrival",
                    "The parcel for order {num} arrived damaged and two of the items are broken.",
                ),
            ),
            (
                "The courier left a note saying nobody was home, but I was there all day.",
                "Can you confirm whether the order has actually been dispatched?",
                "We need the items for an event next week.",
                "From our records the payment went through on {date}.",
            ),
        ),
        _Topic(
            True,
            (
                (
                    "Export to CSV fails with error {code}",
                    "Since the last update the export to CSV fails with error {code}.",
                ),
                (
                    "App crashes when opening reports",
                    "The desktop app crashes as soon as I open the monthly report.",
                ),
                (
                    "Dashboard shows wrong totals",
                    "The totals on the dashboard do not match the numbers in the detailed report.",
                ),
                (
                    "Sync stuck at {pct}%",
                    "The sync has been stuck at {pct}% since yesterday afternoon.",
                ),
                (
                    "Error {code} when uploading files",
                    "Uploading anything bigger than about 10 MB fails with error {code}.",
                ),
            ),
            (
                "We are on version 4.{minor} on Windows 11, fully updated.",
                "It started happening after the update on {date}, before that it worked fine.",
                "From the logs it looks like the request times out after about 30 seconds.",
            ),
        ),
        _Topic(
            True,
            (
                (
                    "Printer on the {floor} floor is jammed again",
                    "The printer on the {floor} floor is jammed again and shows error {code}.",
                ),
                (
                    "VPN disconnects every few minutes",
                    "The VPN drops every five to ten minutes, which makes remote work impossible.",
                ),
                (
                    "Need access to the shared drive",
                    "I need read and write access to the Finance shared drive for the audit.",
                ),
                (
                    "Laptop won't boot after update",
                    "After last night's update my laptop gets stuck on the logo screen.",
                ),
                (
                    "Outlook keeps asking for my password",
                    "Outlook keeps prompting for my password even though I type it correctly.",
                ),
            ),
            (
                "My asset tag is LT-{num} if that helps.",
                "I am working from home this week.",
                "My manager has already approved this.",
            ),
        ),
        _Topic(
            False,
            (
                (
                    "Please update our billing address",
                    "We have moved offices and need the billing address on our account updated.",
                ),
                (
                    "Add a new user to our account",
                    "Please add {email2} as an admin user on our account.",
                ),
                (
                    "Cancel my subscription",
                    "I would like to cancel my subscription at the end of the billing period.",
                ),
                (
                    "Upgrade to the annual plan",
                    "We would like to move from the monthly {plan} plan to the annual one.",
                ),
                (
                    "Change of account owner",
                    "Our account owner has left the company, please transfer ownership to me.",
                ),
            ),
            ("Our account number is {acct}.", "Please confirm once this is done."),
        ),
    ),
    generic=(
        "Could you please look into this as soon as possible?",
        "Let me know if you need any more information from my side.",
        "We are on the {plan} plan, account number {acct}.",
        "I called your hotline yesterday but could not get through to anyone.",
        "Sorry for the long email, I wanted to give you all the details.",
        "I raised a similar ticket a few months ago and it was sorted quickly then.",
        "We have a deadline on Friday, so a quick answer would really help.",
        "Please call me on my mobile if that is easier.",
        "This is the second time I am writing about this.",
    ),
    tech=(
        "This is blocking our whole team, so any help would be much appreciated.",
        "I have already tried clearing the browser cache and restarting the computer.",
        "It has happened three times this week, always in the morning.",
        "From what I can tell, the problem only affects some of our users.",
    ),
    greetings=(
        "Hi,",
        "Hello,",
        "Hi there,",
        "Hello support team,",
        "Dear Sir or Madam,",
        "Good morning,",
        "Hi team,",
        "Dear Support,",
    ),
    closings=(
        "Best regards,",
        "Kind regards,",
        "Thanks,",
        "Many thanks,",
        "Regards,",
        "Thanks in advance,",
        "Cheers,",
    ),
    thanks="Thanks for getting back to me.",
    fixed="That fixed it, thank you very much!",
    not_fixed=(
        "I tried what you suggested but unfortunately it did not help.",
        "It worked for a day, but the problem is back since this morning.",
    ),
    info=(
        "Please find the screenshot attached.",
        "The order number is {num} and it happened around {time} yesterday.",
        "Yes, the account email is {email}.",
        "It happens every time, not just occasionally.",
        "We are using version 4.{minor}.",
        "From our side nothing has changed in the configuration.",
    ),
    chase=(
        "Any update on this? It has been a few days and the issue is still there.",
        "Just following up on my email below.",
        "Sorry to chase, but this is now urgent for us.",
        "Is there any news on this?",
    ),
    agent=(
        "Thank you for contacting us. Could you please send us a screenshot of the error and "
        "the exact time it happened?",
        "Thanks for your message. I have passed this on to the right team and will get back to "
        "you shortly.",
        "Sorry to hear about the trouble. Could you confirm the order number and the email "
        "address used for the purchase?",
        "We have deployed a fix for this issue. Could you please try again and let us know?",
    ),
    agents=("Sam Carter", "Alex Morgan", "Jordan Lee", "Taylor Reed", "Casey Brooks"),
    log_intro="Here is the relevant part of the log:",
    table_intro="These are the orders in question:",
    statuses=("shipped", "pending", "delivered", "cancelled", "on hold"),
)

RU = _Texts(
    topics=(
        _Topic(
            True,
            (
                (
                    "Не могу войти в личный кабинет",
                    "С самого утра не могу зайти в личный кабинет, пишет «неверный пароль».",
                ),
                (
                    "Не приходит письмо для сброса пароля",
                    "Письмо для сброса пароля так и не пришло, папку «Спам» проверял.",
                ),
                ("Ошибка {code} при входе", "При входе в систему появляется ошибка {code}."),
            ),
            (
                "У коллег всё работает, проблема только с моей учётной записью.",
                "Мой логин {email}, если нужно.",
                "Пробовал разные браузеры, результат одинаковый.",
            ),
        ),
        _Topic(
            False,
            (
                (
                    "Неверная сумма в счёте №{num}",
                    "Сумма в счёте №{num} не совпадает с коммерческим предложением.",
                ),
                (
                    "Двойное списание по заказу {num}",
                    "Оплата по заказу {num} прошла дважды, деньги списаны с карты два раза.",
                ),
                (
                    "Прошу вернуть деньги за заказ №{num}",
                    "Прошу вернуть деньги за заказ №{num}, товар нам не подошёл.",
                ),
                (
                    "Нет счёта-фактуры за декабрь",
                    "Бухгалтерия не может провести оплату без счёта-фактуры за декабрь.",
                ),
            ),
            (
                "В счёте указано {qty} лицензий, а пользователей у нас всего {qty2}.",
                "Просим выставить исправленный счёт.",
                "Оплата была произведена {date} платёжным поручением №{num2}.",
            ),
        ),
        _Topic(
            False,
            (
                (
                    "Заказ {num} до сих пор не доставлен",
                    "Заказ {num} был оформлен {date}, но до сих пор не доставлен.",
                ),
                (
                    "Не обновляется трек-номер",
                    "Трек-номер по заказу {num} уже неделю не обновляется, статус «в пути».",
                ),
                ("Привезли не тот товар (заказ №{num})", "По заказу №{num} привезли не тот товар."),
            ),
            (
                "Подскажите, пожалуйста, когда ожидать доставку?",
                "Прошу доставить замену на новый адрес офиса.",
            ),
        ),
        _Topic(
            True,
            (
                (
                    "Ошибка {code} при выгрузке отчёта",
                    "При выгрузке отчёта в Excel появляется ошибка {code}.",
                ),
                (
                    "Программа вылетает при открытии отчёта",
                    "После обновления программа закрывается при открытии отчёта.",
                ),
                (
                    "Не работает VPN",
                    "VPN отключается каждые пять-десять минут, работать невозможно.",
                ),
                (
                    "Принтер на {floor} этаже снова не печатает",
                    "Принтер на {floor} этаже снова зажевал бумагу.",
                ),
                (
                    "Синхронизация зависла на {pct}%",
                    "Синхронизация зависла на {pct}% ещё со вчерашнего дня.",
                ),
            ),
            (
                "Версия программы 4.{minor}, Windows 10.",
                "Пробовал перезагрузить компьютер и очистить кэш браузера — не помогло.",
            ),
        ),
    ),
    generic=(
        "Если нужна дополнительная информация, пишите, я всегда на связи.",
        "Номер договора {acct}.",
        "Вчера звонил на горячую линию, но так и не дождался ответа оператора.",
        "Срок сдачи отчётности в пятницу, поэтому вопрос срочный.",
        "Пишу уже второй раз по этому вопросу.",
    ),
    tech=(
        "Прошу разобраться как можно скорее, у нас из-за этого стоит работа.",
        "Коллеги из соседнего отдела с такой проблемой не сталкивались.",
        "Ситуация повторяется уже третий раз за неделю.",
    ),
    greetings=("Добрый день!", "Здравствуйте!", "Добрый день, коллеги!", "Доброе утро!"),
    closings=(
        "С уважением,",
        "Спасибо,",
        "Заранее спасибо,",
        "С уважением и надеждой на скорый ответ,",
    ),
    thanks="Спасибо за ответ.",
    fixed="Всё заработало, спасибо большое!",
    not_fixed=("Попробовал, как вы советовали, но не помогло.", "Проблема снова появилась."),
    info=(
        "Скриншот во вложении.",
        "Номер заказа {num}, ошибка появилась вчера около {time}.",
        "Логин {email}.",
    ),
    chase=(
        "Есть новости по моему вопросу?",
        "Напоминаю о своём обращении, проблема всё ещё не решена.",
    ),
    agent=(
        "Спасибо за обращение. Уточните, пожалуйста, номер заказа и приложите скриншот ошибки.",
        "Мы передали ваш вопрос в бухгалтерию, ответим в течение рабочего дня.",
        "Исправление уже выпущено, попробуйте, пожалуйста, ещё раз.",
    ),
    agents=("Ольга Белова", "Дмитрий Орлов", "Анна Крылова"),
    log_intro="Вот текст ошибки из журнала:",
    table_intro="Список заказов:",
    statuses=("отправлен", "в обработке", "доставлен", "отменён"),
)

JA = _Texts(
    topics=(
        _Topic(
            True,
            (
                ("ログインできません", "今朝からログインできない状態が続いております。"),
                ("パスワード再設定メールが届きません", "パスワード再設定のメールが届きません。"),
                (
                    "エラー{code}が表示されます",
                    "ログイン時にエラー{code}が表示され、先に進めません。",
                ),
            ),
            ("他の担当者は問題なくログインできております。", "ブラウザを変えても同じ状態です。"),
        ),
        _Topic(
            False,
            (
                ("請求書の金額について", "請求書の金額が見積もりと異なっているようです。"),
                (
                    "注文番号{num}の返金のお願い",
                    "注文番号{num}について、返金をお願いできますでしょうか。",
                ),
                (
                    "請求書の再発行のお願い",
                    "お手数ですが、請求書の再発行をお願いできますでしょうか。",
                ),
            ),
            ("経理の締め日が近いため、早めにご対応いただけますと助かります。",),
        ),
        _Topic(
            False,
            (
                ("注文番号{num}の配送状況について", "注文番号{num}の商品がまだ届いておりません。"),
                ("商品がまだ届きません", "先週注文した商品がまだ届いておりません。"),
            ),
            (
                "追跡番号の情報が更新されておりません。",
                "配送予定日を教えていただけますでしょうか。",
            ),
        ),
    ),
    generic=(
        "お手数ですが、ご確認のほどよろしくお願いいたします。",
        "至急ご対応いただけますと幸いです。",
        "ご不明な点がございましたら、ご連絡ください。",
    ),
    tech=("エラーの画面を添付いたします。",),
    greetings=("ご担当者様", "サポートセンター 御中"),
    closings=("何卒よろしくお願い申し上げます。", "よろしくお願いいたします。"),
    thanks="ご回答ありがとうございます。",
    fixed="無事に解決いたしました。ありがとうございました。",
    not_fixed=("ご提案の方法を試しましたが、改善されませんでした。",),
    info=("スクリーンショットを添付いたします。", "注文番号は{num}です。"),
    chase=(
        "その後の状況はいかがでしょうか。",
        "お忙しいところ恐縮ですが、ご確認いただけますでしょうか。",
    ),
    agent=(
        "お問い合わせいただきありがとうございます。\n"
        "お手数ですが、エラー画面のスクリーンショットをお送りいただけますでしょうか。",
        "ご連絡ありがとうございます。\n担当部署に確認のうえ、改めてご連絡いたします。",
    ),
    agents=("佐々木", "小林", "加藤"),
    log_intro="エラーログを以下に貼り付けます。",
    table_intro="対象の注文は以下の通りです。",
    statuses=("発送済み", "処理中", "配達済み"),
)
TEXTS = {"en": EN, "ru": RU, "ja": JA}

EMOJI = ("🙂", "🙏", "👍", "😕", "😩", "🚀", "🔥", "❤️", "😡", "🤔", "✅", "📎", "🎉", "😅")
LOG_MESSAGES = (
    "request to https://api.example.com/v2/items failed: HTTP 502 Bad Gateway (attempt {a}/5)",
    "connection reset by peer while reading response body",
    "sync batch {num} rejected: checksum mismatch",
    "token refresh failed: invalid_grant",
    "worker heartbeat missed, restarting",
    "export job {num} aborted after 30000 ms",
    "retrying in {a}s",
    "SMTP relay refused message: 451 4.7.1 try again later",
)
LOG_LEVELS = ("ERROR", "ERROR", "WARN", "INFO", "DEBUG")
TRACEBACK = """Traceback (most recent call last):
  File "/opt/app/lib/sync/client.py", line 214, in push
    resp = self.session.post(url, json=batch, timeout=30)
  File "/usr/lib/python3.10/site-packages/requests/sessions.py", line 637, in post
    return self.request("POST", url, data=data, json=json, **kwargs)
  File "/usr/lib/python3.10/site-packages/requests/adapters.py", line 532, in send
    raise ReadTimeout(e, request=request)
requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.example.com', port=443): \
Read timed out. (read timeout=30)"""
STEPS = """Steps to reproduce:
1. Log in as an admin user
2. Go to Reports > Monthly
3. Choose "Export" and select CSV
4. Wait about 30 seconds

Expected: the file downloads
Actual: the spinner keeps going, then error {code}"""
DISCLAIMER = (
    "CONFIDENTIALITY NOTICE: This e-mail message, including any attachments, is for the sole "
    "use of the intended recipient(s) and may contain confidential and privileged information. "
    "Any unauthorized review, use, disclosure or distribution is prohibited. If you are not the "
    "intended recipient, please contact the sender by reply e-mail and destroy all copies of "
    "the original message."
)
MONTHS = _words(
    "January February March April May June July August September October November December"
)
DAYS = _words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
RU_MONTHS_GEN = _words(
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
)
RU_DAYS = _words("Понедельник Вторник Среда Четверг Пятница Суббота Воскресенье")

KOI8_SAFE = str.maketrans({"«": '"', "»": '"', "—": "-", "–": "-", "№": "N", "…": "..."})
TRANSLIT = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "ß": "ss",
        "ı": "i",
        "đ": "d",
        "æ": "ae",
        **dict(zip("абвгдеёзийклмнопрстуфыэ", "abvgdeeziyklmnoprstufye", strict=True)),
        **{"ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ь": ""},
        **{"ю": "yu", "я": "ya"},
    }
)
FROM_RE = re.compile(rb"^(>*From )", re.MULTILINE)
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _ascii_slug(text: str) -> str:
    """Lower-case ASCII transliteration for e-mail local parts and domains."""
    text = unicodedata.normalize("NFKD", text.lower().translate(TRANSLIT))
    return re.sub(r"[^a-z0-9]+", "", text.encode("ascii", "ignore").decode())


def _wrap(text: str, width: int, flowed: bool = False) -> str:
    """Greedy word wrap (much faster than textwrap); flowed lines keep a trailing space."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line + " " if flowed else line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


def _quote(text: str) -> str:
    """Quote ``text`` the way MUAs do ("> ", or ">" on nested and empty lines)."""
    return "\n".join(
        (">" + ln) if (not ln or ln.startswith(">")) else ("> " + ln) for ln in text.split("\n")
    )


def _history(head: str, text: str, subject: str) -> str:
    """Quoted history: Outlook pastes a header block, other clients prefix lines with ">"."""
    if head.startswith("-----Original"):
        return f"{head}\nSubject: {subject}\n\n{text}"
    return f"{head}\n{_quote(text)}"


def _encode_header(value: str, charset: str) -> str:
    """RFC 2047-encode ``value`` unless it is ASCII (folded with LF)."""
    if value.isascii():
        return value
    if charset == "koi8-r":
        value = value.translate(KOI8_SAFE)
    return Header(value, charset, maxlinelen=76).encode(linesep="\n")


def _text_entity(text: str, subtype: str, charset: str, cte: str, params: str = "") -> Entity:
    """A text/* leaf with the body encoded in ``charset`` and ``cte``."""
    data = text.encode(charset)
    if cte == "base64":
        payload = base64.encodebytes(data)
    elif cte == "quoted-printable":
        payload = binascii.b2a_qp(data)
    else:
        payload = data
    if not payload.endswith(b"\n"):
        payload += b"\n"
    headers = [f"Content-Type: text/{subtype}; charset={charset}{params}"]
    return [*headers, f"Content-Transfer-Encoding: {cte}"], payload


def _render(entity: Entity) -> bytes:
    headers, body = entity
    return ("\n".join(headers) + "\n\n").encode("ascii") + body


def _multipart(
    subtype: str, boundary: str, parts: list[Entity], params: str = "", preamble: bool = False
) -> Entity:
    delim = b"--" + boundary.encode("ascii")
    chunks = [b"This is a multi-part message in MIME format.\n\n"] if preamble else []
    for part in parts:
        chunks += [delim, b"\n", _render(part), b"\n"]
    chunks += [delim, b"--\n"]
    ctype = f'Content-Type: multipart/{subtype};{params}\n\tboundary="{boundary}"'
    return [ctype], b"".join(chunks)


@dataclass(slots=True)
class _Customer:
    name: str  # display name, "" for a bare address
    first: str
    last: str
    addr: str
    lang: str  # en | emoji | ru_koi8 | ru_1251 | ja
    texts: _Texts
    charset: str  # body charset for ru/ja; en picks per message
    client: str
    tz: timezone
    company: str
    title: str
    phone: str
    disclaimer: bool

    @property
    def author(self) -> str:
        """How MUAs show the sender in quote attributions."""
        return f"{self.name} <{self.addr}>" if self.name else self.addr


@dataclass(slots=True)
class _Thread:
    customer: _Customer
    subject: str
    ids: list[str]
    text: str  # plain text of the latest message (new text and quote), truncated
    sent: datetime


@dataclass(slots=True)
class _Mail:
    """One generated message: envelope sender, delivery time (UTC epoch) and raw bytes."""

    sender: str
    when: float
    raw: bytes


class _Generator:
    """Stateful generator; memory is bounded by the customer pool and ``THREAD_MEMORY``."""

    def __init__(self, n: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.n = max(n, 1)
        self.threads: deque[_Thread] = deque(maxlen=THREAD_MEMORY)
        self.pools: dict[str, tuple[list[_Customer], list[float]]] = {}
        self._make_customers(max(8, n // 8))
        self.hour_weight = [_hour_weight(h) for h in range(168)]
        total = sum(self.hour_weight[h % 168] for h in range(SPAN_DAYS * 24))
        self.per_hour = self.n / total
        self.clock = 0.0  # hours since START

    # --- setup ---------------------------------------------------------------------------------

    def _make_customers(self, count: int) -> None:
        rng = self.rng
        for lang, share in zip(LANGS, _shares(LANG_CUM), strict=True):
            people = [self._customer(lang) for _ in range(max(2, round(count * share)))]
            cum, total = [], 0.0
            for _ in people:  # lognormal activity: a few busy customers, a long tail
                total += rng.lognormvariate(0.0, 1.1)
                cum.append(total)
            self.pools[lang] = (people, cum)

    def _customer(self, lang: str) -> _Customer:
        rng = self.rng
        charset, company, title, domain, client = "utf-8", "", "", "", ""
        cls = _lang_class(lang)
        if cls == "en":
            if rng.random() < 0.2:
                first, last = rng.choice(INTL_NAMES)
            else:
                first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
            name = rng.choice((f"{first} {last}", f"{first} {last}", f"{last}, {first}", ""))
            if rng.random() < 0.45:
                domain, client = rng.choice(EN_FREEMAIL)
            else:
                company = rng.choice(EN_COMPANIES)
                domain = f"{_ascii_slug(company)}.{rng.choice(EN_TLDS)}"
                title = rng.choice(EN_TITLES)
            phone = rng.choice(
                (
                    f"+1 (555) 01{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
                    f"+44 20 7946 0{rng.randint(100, 999)}",
                )
            )
            f, la = _ascii_slug(first), _ascii_slug(last)
        elif cls == "ru":
            female = rng.random() < 0.5
            first = rng.choice(RU_FIRST_F if female else RU_FIRST_M)
            last = rng.choice(RU_LAST) + ("а" if female else "")
            name = rng.choice((f"{first} {last}", f"{last} {first}", f"{first} {last}", ""))
            charset = "koi8-r" if lang == "ru_koi8" else "windows-1251"
            if rng.random() < 0.5:
                domain, client = rng.choice(RU_FREEMAIL)
            else:
                company, domain = rng.choice(RU_COMPANIES)
                company = f"ООО «{company}»"
                title = rng.choice(RU_TITLES)
            phone = f"+7 (495) {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
            f, la = _ascii_slug(first), _ascii_slug(last)
        else:
            (last, la), (first, f) = rng.choice(JA_LAST), rng.choice(JA_FIRST)
            name = f"{last} {first}"  # family name first
            charset = "iso-2022-jp"
            if rng.random() < 0.4:
                domain, client = rng.choice(JA_FREEMAIL)
            else:
                company, domain = rng.choice(JA_COMPANIES)
                company = f"株式会社{company}"
                title = rng.choice(JA_DEPTS)
            phone = f"03-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
        local = rng.choice(
            (
                f"{f}.{la}",
                f"{f[0]}{la}",
                f"{f}{la[0]}",
                f"{f}_{la}",
                f"{f}.{la}{rng.randint(1, 99)}",
                f"{f}{rng.randint(70, 2005)}",
            )
        )
        return _Customer(
            name=name,
            first=first,
            last=last,
            addr=f"{local}@{domain}",
            lang=lang,
            texts=TEXTS[cls],
            charset=charset,
            client=client or _weighted(rng, CLIENTS[cls]),
            tz=timezone(timedelta(hours=_weighted(rng, TZS[cls]))),
            company=company,
            title=title,
            phone=phone,
            disclaimer=bool(company) and cls == "en" and rng.random() < 0.3,
        )

    # --- main loop -----------------------------------------------------------------------------

    def mails(self) -> Iterator[_Mail]:
        rng = self.rng
        for _ in range(self.n):
            # Poisson arrivals whose rate follows office hours (UTC), ~SPAN_DAYS in total.
            rate = self.per_hour * self.hour_weight[int(self.clock) % 168]
            self.clock += rng.expovariate(rate)
            received = START + timedelta(hours=self.clock)
            category = CATEGORIES[_bisect(CATEGORY_CUM, rng.random())]
            if category == "dsn":
                yield self._dsn(received)
            elif category == "list":
                yield self._list_mail(received)
            elif category == "auto":
                yield self._auto_reply(received)
            else:
                yield self._customer_mail(received, category)

    # --- shared helpers ------------------------------------------------------------------------

    def _pick_customer(self) -> _Customer:
        people, cum = self.pools[LANGS[_bisect(LANG_CUM, self.rng.random())]]
        return self.rng.choices(people, cum_weights=cum)[0]

    def _pick_thread(self) -> _Thread | None:
        """A recent thread (recency-biased); it becomes the most recently active one."""
        if not self.threads:
            return None
        back = min(len(self.threads) - 1, int(self.rng.expovariate(1 / 150)))
        idx = len(self.threads) - 1 - back
        thread = self.threads[idx]
        del self.threads[idx]
        self.threads.append(thread)
        return thread

    def _fill(self, c: _Customer) -> dict[str, str]:
        """Values for the ``{placeholders}`` in the text tables."""
        rng = self.rng
        day = START + timedelta(days=rng.randint(-20, 20))
        qty = rng.randint(5, 60)
        codes = ("E1042", "0x80070005", "ERR_CONNECTION_RESET", "HTTP 500", "E_SYNC_409", "403")
        cls = _lang_class(c.lang)
        return {
            "num": str(rng.randint(10000, 9999999)),
            "num2": str(rng.randint(1000, 99999)),
            "code": rng.choice(codes),
            "date": f"{day:%d.%m.%Y}" if cls == "ru" else f"{MONTHS[day.month - 1]} {day.day}",
            "acct": f"AC-{rng.randint(100000, 999999)}",
            "plan": rng.choice(("Business", "Pro", "Enterprise", "Team")),
            "floor": rng.choice(("2nd", "3rd", "4th", "5th"))
            if cls == "en"
            else str(rng.randint(2, 9)),
            "pct": str(rng.randint(3, 97)),
            "minor": str(rng.randint(0, 12)),
            "qty": str(qty),
            "qty2": str(qty - rng.randint(1, 4)),
            "email": c.addr,
            "email2": f"new.user{rng.randint(1, 99)}@{c.addr.split('@')[1]}",
            "time": f"{rng.randint(8, 18)}:{rng.randint(0, 59):02d}",
        }

    def _body_target(self) -> int:
        return int(min(8192, max(200, self.rng.lognormvariate(math.log(520), 0.9))))

    def _charset(self, c: _Customer, text: str) -> str:
        if c.charset != "utf-8":
            return c.charset
        if text.isascii():
            return {"gmail": "UTF-8", "thunderbird": "UTF-8"}.get(c.client, "us-ascii")
        if c.client == "outlook":
            try:
                text.encode("windows-1252")
                return "windows-1252"
            except UnicodeEncodeError:
                pass
        return "utf-8" if self.rng.random() < 0.6 else "UTF-8"

    def _cte(self, c: _Customer, charset: str, subtype: str, text: str) -> str:
        """Transfer encoding the sending client would pick for this part."""
        if charset == "iso-2022-jp" or (text.isascii() and subtype == "plain"):
            long_lines = any(len(line) > 76 for line in text.split("\n"))
            return "quoted-printable" if long_lines and c.client == "gmail" else "7bit"
        rng = self.rng
        if c.client in ("gmail", "apple", "iphone"):
            return "quoted-printable" if rng.random() < 0.8 else "base64"
        if c.client == "outlook":
            return "quoted-printable" if subtype == "html" or rng.random() < 0.7 else "base64"
        if c.client in ("mailru", "yandex"):
            return "base64" if rng.random() < 0.7 else "8bit"
        return "8bit" if rng.random() < 0.6 else "quoted-printable"

    def _msgid(self, c: _Customer, when: datetime) -> str:
        rng = self.rng
        domain = c.addr.split("@")[1]
        stamp = int(when.timestamp())
        match c.client:
            case "gmail":
                return f"<CA{_rand(rng, B64 + '+_-', 44)}@mail.gmail.com>"
            case "outlook":
                host = rng.choice(("DB9PR04MB", "AM0PR07MB", "PAXPR08MB", "VI1PR03MB"))
                host += str(rng.randint(1000, 9999))
                region = rng.choice(("eurprd04", "eurprd07", "namprd12", "namprd11"))
                return f"<{host}{rng.getrandbits(128):032X}@{host}.{region}.prod.outlook.com>"
            case "apple" | "iphone":
                return f"<{str(_uuid(rng)).upper()}@{domain}>"
            case "thunderbird":
                return f"<{_uuid(rng)}@{domain}>"
            case "mailru":
                return f"<{stamp}.{rng.randint(100000, 999999)}@f{rng.randint(100, 999)}.mail.ru>"
            case "yandex":
                return f"<{rng.randint(10000, 99999)}{stamp}@mail.yandex.ru>"
            case "becky":
                tag = f"{rng.getrandbits(32):08X}.{rng.randint(1000, 9999)}"
                return f"<{when:%Y%m%d%H%M%S}.{tag}@{domain}>"
        return f"<{rng.getrandbits(128):032x}@{domain}>"

    def _boundary(self, c: _Customer, level: int) -> str:
        rng = self.rng
        match c.client:
            case "gmail":
                return f"0000000000{rng.getrandbits(48):012x}{level}"
            case "outlook":
                return f"_00{level * 2}_{rng.getrandbits(128):032X}prod_"
            case "apple" | "iphone":
                return f"Apple-Mail={str(_uuid(rng)).upper()}"
            case "thunderbird":
                return "------------" + _rand(rng, B64, 24)
            case "mailru":
                return f"--ALT--{rng.getrandbits(64):016x}{level}"
        return f"=_{rng.getrandbits(128):032x}"

    def _trace(self, c: _Customer, received: datetime, envelope: str) -> list[str]:
        """Return-Path, Received, authentication and provider X- headers."""
        rng = self.rng
        domain = c.addr.split("@")[1]
        rcvd = format_datetime(received).replace("+0000", "+0000 (UTC)")
        if c.client == "gmail":
            pool = rng.choice(("lj1", "wr1", "ej1", "pl1", "qt1"))
            relay = f"mail-{pool}-f{rng.randint(41, 199)}.google.com"
            ip = f"209.85.{rng.randint(128, 255)}.{rng.randint(1, 254)}"
        elif c.client == "outlook":
            site = f"{rng.choice(('db8', 'am6', 'vi1', 'he1'))}eur0{rng.randint(1, 5)}"
            relay = f"mail-{site}on20{rng.randint(10, 99)}.outbound.protection.outlook.com"
            ip = f"40.107.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        else:
            relay = f"{rng.choice(('mx', 'smtp', 'mail', 'out'))}{rng.randint(1, 9)}.{domain}"
            ip = ".".join(str(rng.randint(lo, 254)) for lo in (5, 0, 0, 1))
        headers = [
            f"Return-Path: <{envelope}>",
            f"Delivered-To: support@{DESK_DOMAIN}",
            f"Received: from {relay} ({relay} [{ip}])\n\t(using TLSv1.3 with cipher "
            "TLS_AES_256_GCM_SHA384 (256/256 bits)\n\t key-exchange X25519 server-signature "
            f"RSA-PSS (2048 bits) server-digest SHA256)\n\tby {MX_HOST} (Postfix) with ESMTPS "
            f"id {_rand(rng, B64, 14)}\n\tfor <support@{DESK_DOMAIN}>; {rcvd}",
        ]
        if rng.random() < 0.6 or c.client in ("gmail", "outlook"):
            sel = {"gmail": "20230601", "outlook": "selector1"}.get(c.client, "default")
            stamp = int(received.timestamp())
            headers.append(
                f"Authentication-Results: {MX_HOST};\n\tdkim=pass (2048-bit key) "
                f'header.d={domain} header.i=@{domain} header.b="{_rand(rng, B64, 8)}";\n\t'
                f"spf=pass smtp.mailfrom={domain};\n\tdmarc=pass (p=none dis=none) "
                f"header.from={domain}"
            )
            sig = base64.b64encode(rng.randbytes(256)).decode()
            folded = "\n\t ".join(sig[i : i + 70] for i in range(0, len(sig), 70))
            body_hash = base64.b64encode(rng.randbytes(32)).decode()
            headers.append(
                f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n\td={domain}; s={sel}; "
                f"t={stamp}; x={stamp + 604800};\n\t"
                "h=to:subject:message-id:date:from:mime-version:from:to:cc:subject\n\t "
                f":date:message-id:reply-to;\n\tbh={body_hash};\n\tb={folded}"
            )
        if c.client == "gmail":
            headers.append(
                f"X-Gm-Message-State: AOJu0Y{_rand(rng, B64, 58)}\n\t{_rand(rng, B64, 30)}=="
            )
            headers.append(f"X-Google-Smtp-Source: AGHT+I{_rand(rng, B64, 70)}=")
        elif c.client == "outlook":
            antispam = "\n\t".join(_rand(rng, B64, 76) for _ in range(2))
            headers += [
                "X-MS-Has-Attach: ",
                "X-MS-TNEF-Correlator: ",
                f"Thread-Index: AQHa{_rand(rng, B64, 40)}==",
                "Accept-Language: en-GB, en-US",
                "x-ms-publictraffictype: Email",
                "X-MS-Exchange-AntiSpam-MessageData-ChunkCount: 1",
                f"X-MS-Exchange-AntiSpam-MessageData-0:\n\t{antispam}",
                "X-MS-Exchange-CrossTenant-AuthAs: Internal",
                f"X-MS-Exchange-CrossTenant-id: {_uuid(rng)}",
            ]
        return headers

    def _date_header(self, sent: datetime, c: _Customer) -> str:
        value = format_datetime(sent.astimezone(c.tz))
        if value.endswith("+0300") and self.rng.random() < 0.3:
            value += " (MSK)"
        return value

    # --- bodies --------------------------------------------------------------------------------

    def _new_text(self, c: _Customer, fill: dict[str, str], topic: _Topic, lead: str) -> list[str]:
        """Paragraphs of a new request: greeting, the problem, details, maybe a pasted log."""
        rng = self.rng
        t = c.texts
        ja = c.texts is JA
        target = self._body_target() // (2 if ja else 1)
        extra = list(t.generic) + (list(t.tech) if topic.tech else [])
        pool = [*rng.sample(topic.details, k=rng.randint(1, len(topic.details)))]
        pool += rng.sample(extra, k=rng.randint(1, min(5, len(extra))))
        rng.shuffle(pool)
        sentences = [lead, *pool][::-1]  # consumed with pop()
        paras = [rng.choice(t.greetings)]
        if ja:
            who = f"{c.company}の{c.last}" if c.company else c.last
            paras.append(f"お世話になっております。\n{who}です。")
        size = 0
        while sentences and size < target:
            take = [sentences.pop() for _ in range(min(len(sentences), rng.randint(1, 3)))]
            para = ("\n" if ja else " ").join(self._decorate(s.format_map(fill), c) for s in take)
            paras.append(para)
            size += len(para)
        if size < target - 250:
            paras.append(self._filler(c, topic.tech, target - size, fill))
        return paras

    def _decorate(self, sentence: str, c: _Customer) -> str:
        if c.lang == "emoji" and self.rng.random() < 0.35:
            return f"{sentence} {self.rng.choice(EMOJI)}"
        if c.lang == "en" and c.client in ("outlook", "apple", "iphone"):
            return sentence.replace("'", "\u2019")  # smart apostrophes
        return sentence

    def _filler(self, c: _Customer, tech: bool, size: int, fill: dict[str, str]) -> str:
        """A pasted log, stack trace, repro steps or order table: how tickets get long."""
        rng = self.rng
        t = c.texts
        if not tech:
            lines = [t.table_intro, ""]
            for _ in range(min(25, max(2, size // 60))):
                day = START - timedelta(days=rng.randint(1, 60))
                amount = rng.randint(1000, 250000) / 100
                num = rng.randint(100000, 9999999)
                status = rng.choice(t.statuses)
                lines.append(f"  #{num:<9} {day:%Y-%m-%d}  {amount:>9.2f} EUR  {status}")
            return "\n".join(lines)
        kind = rng.random()
        if kind < 0.15 and t is EN:
            return STEPS.format_map(fill)
        if kind < 0.3:
            return f"{t.log_intro}\n\n{TRACEBACK}"
        lines = [t.log_intro, ""]
        when = START + timedelta(seconds=rng.randint(0, SPAN_DAYS * 86400))
        while size > 0:
            when += timedelta(milliseconds=rng.randint(5, 90000))
            msg = rng.choice(LOG_MESSAGES).format(a=rng.randint(1, 5), num=rng.randint(1000, 99999))
            line = (
                f"{when:%Y-%m-%d %H:%M:%S},{when.microsecond // 1000:03d} "
                f"{rng.choice(LOG_LEVELS):5} [worker-{rng.randint(1, 8)}] sync.client: {msg}"
            )
            lines.append(line)
            size -= len(line) + 1
        return "\n".join(lines)

    def _signature(self, c: _Customer, short: bool) -> str:
        rng = self.rng
        closing = rng.choice(c.texts.closings)
        if c.texts is JA:
            sep = "━━━━━━━━━━━━━━━━━━━━"
            lines = [c.company, c.title, c.name, f"TEL: {c.phone}", c.addr]
            return "\n".join([closing, "", sep, *(x for x in lines if x), sep])
        display = f"{c.first} {c.last}"
        if short or not (c.company or rng.random() < 0.3):
            sig = f"{closing}\n{c.first if rng.random() < 0.5 else display}"
        else:
            sig = "\n".join(x for x in (closing, display, c.title, c.company, c.phone) if x)
            if c.client in ("thunderbird", "roundcube") and rng.random() < 0.5:
                sig = sig.replace("\n", "\n-- \n", 1)
        if c.client == "iphone":
            sig += "\n\nSent from my iPhone"
        if c.disclaimer:
            sig += "\n\n" + DISCLAIMER
        return sig

    def _attribution(self, c: _Customer, author: str, to: str, when: datetime) -> str:
        """The line (or Outlook header block) that introduces quoted history."""
        t = when.astimezone(c.tz)
        if c.texts is RU:
            day = f"{RU_DAYS[t.weekday()]}, {t.day} {RU_MONTHS_GEN[t.month - 1]} {t.year}"
            return f"{day}, {t:%H:%M} {t:%z}, от {author}:"
        if c.texts is JA or c.client == "outlook":
            if c.texts is JA:
                sent = f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}"
            else:
                sent = f"{DAYS[t.weekday()]}, {MONTHS[t.month - 1]} {t.day}, {t.year} "
                sent += f"{t.hour % 12 or 12}:{t:%M} {'AM' if t.hour < 12 else 'PM'}"
            return f"-----Original Message-----\nFrom: {author}\nSent: {sent}\nTo: {to}"
        if c.client == "gmail":
            clock = f"{t.hour % 12 or 12}:{t:%M} {'AM' if t.hour < 12 else 'PM'}"
            day = f"{DAYS[t.weekday()][:3]}, {MONTHS[t.month - 1][:3]} {t.day}, {t.year}"
            return f"On {day} at {clock} {author} wrote:"
        if c.client in ("apple", "iphone"):
            return f"On {t.day} {MONTHS[t.month - 1][:3]} {t.year}, at {t:%H:%M}, {author} wrote:"
        return f"On {t:%d/%m/%Y %H:%M}, {author} wrote:"

    def _reply_text(self, c: _Customer, fill: dict[str, str], answering: bool) -> list[str]:
        """New text of a reply: an answer to the agent's questions, or a chaser."""
        rng = self.rng
        t = c.texts
        if answering:
            said = [t.thanks] if rng.random() < 0.5 else []
            if rng.random() < 0.3:
                said.append(t.fixed)
            else:
                if rng.random() < 0.5:
                    said.append(rng.choice(t.not_fixed))
                said += rng.sample(t.info, k=rng.randint(1, min(2, len(t.info))))
        else:
            said = rng.sample(t.chase, k=rng.randint(1, 2))
        ja = t is JA
        paras = [("\n" if ja else " ").join(self._decorate(s.format_map(fill), c) for s in said)]
        if rng.random() < 0.5:
            paras.insert(0, t.greetings[0] if not ja else "お世話になっております。")
        if answering and rng.random() < 0.15 and t is not JA:  # a pasted log, asked for
            paras.append(self._filler(c, True, self._body_target() // 2, fill))
        return paras

    def _agent_text(self, c: _Customer) -> str:
        """The support agent's answer the customer replies to (its id is not in the corpus)."""
        t = c.texts
        agent, said = self.rng.choice(t.agents), self.rng.choice(t.agent)
        if t is RU:
            return f"Здравствуйте, {c.first}!\n\n{said}\n\nС уважением,\n{agent}\nСлужба поддержки"
        if t is JA:
            return f"{c.name}様\n\n{said}\n\nサポートセンター {agent}"
        said = _wrap(said, 72)
        return f"Hi {c.first},\n\n{said}\n\nKind regards,\n{agent}\nCustomer Support"

    def _render_plain(
        self, c: _Customer, paras: list[str], sig: str, quote: str, bottom_post: bool
    ) -> tuple[str, bool]:
        """Plain text and whether it is format=flowed."""
        rng = self.rng
        ja = c.texts is JA
        flowed = c.client == "thunderbird" and not ja and rng.random() < 0.6
        width = 0 if c.client in ("outlook", "iphone") or ja or rng.random() < 0.2 else 72
        out = [_wrap(p, width, flowed) if width and "\n" not in p else p for p in paras]
        body = "\n\n".join(out) + "\n\n" + sig
        if quote:
            body = f"{quote}\n\n{body}" if bottom_post else f"{body}\n\n{quote}"
        return body + "\n", flowed

    def _render_html(
        self,
        c: _Customer,
        charset: str,
        paras: list[str],
        sig: str,
        quote_head: str,
        quote_text: str,
        cid: str = "",
    ) -> str:
        """The same content as HTML, in the sending client's house style."""

        def block(p: str) -> str:
            if p.count("\n") > 3 and c.texts is not JA:
                return f'<pre style="font-size:9pt">{html.escape(p)}</pre>'
            return html.escape(p).replace("\n", "<br>\n")

        parts = [block(p) for p in paras]
        sig_html = html.escape(sig).replace("\n", "<br>\n")
        img = f'<br><img src="cid:{cid}" width="120" height="40" alt="logo">' if cid else ""
        head = html.escape(quote_head).replace("\n", "<br>\n")
        qt = html.escape(quote_text).replace("\n", "<br>\n")
        client = c.client
        if client == "gmail":
            body = "".join(f"<div>{p}</div>\n<div><br></div>\n" for p in parts)
            doc = f'<div dir="ltr">{body}<div class="gmail_signature">{sig_html}{img}</div></div>\n'
            if qt:
                doc += (
                    f'<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">{head}<br>'
                    '</div>\n<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
                    f'border-left:1px solid rgb(204,204,204);padding-left:1ex">\n{qt}\n'
                    "</blockquote></div>\n"
                )
            return doc
        if client == "outlook":
            body = "".join(
                p + "\n"
                if p.startswith("<pre")
                else f'<p class="MsoNormal">{p}<o:p></o:p></p>\n'
                '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>\n'
                for p in parts
            )
            quote = ""
            if qt:
                quote = (
                    '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm '
                    f'0cm 0cm">\n<p class="MsoNormal">{head}</p>\n</div>\n'
                    f'<p class="MsoNormal">{qt}</p>\n'
                )
            return (
                OUTLOOK_HEAD.format(charset=charset)
                + f'<div class="WordSection1">\n{body}<p class="MsoNormal">{sig_html}{img}'
                f"<o:p></o:p></p>\n{quote}</div>\n</body>\n</html>\n"
            )
        if client in ("apple", "iphone"):
            body = "".join(f"<div>{p}</div><div><br></div>\n" for p in parts)
            quote = ""
            if qt:
                quote = f'<div><br><blockquote type="cite"><div>{head}</div>\n<div>{qt}</div>'
                quote += "</blockquote></div>\n"
            return (
                '<html><head><meta http-equiv="content-type" content="text/html; '
                f'charset={charset}"></head><body style="overflow-wrap: break-word; '
                '-webkit-nbsp-mode: space; line-break: after-white-space;">\n'
                f"{body}<div>{sig_html}{img}</div>\n{quote}</body></html>\n"
            )
        body = "".join(f"    {p}\n" if p.startswith("<pre") else f"    <p>{p}</p>\n" for p in parts)
        quote = ""
        if qt:
            quote = f'    <div class="moz-cite-prefix">{head}<br></div>\n'
            quote += f'    <blockquote type="cite">{qt}</blockquote>\n'
        return (
            '<!DOCTYPE html>\n<html>\n  <head>\n    <meta http-equiv="Content-Type" '
            f'content="text/html; charset={charset}">\n  </head>\n  <body style="font-family: '
            f'Verdana, sans-serif; font-size: 10pt">\n{body}    <div class="moz-signature">'
            f"{sig_html}{img}</div>\n{quote}  </body>\n</html>\n"
        )

    def _attachment(self, c: _Customer, image: bool, size_max: int = 60) -> Entity:
        """A PDF or PNG of random bytes, 2 KiB..``size_max`` KiB (mostly small), base64."""
        rng = self.rng
        size = int(2048 * (size_max / 2) ** (rng.random() ** 3))
        num = rng.randint(1000, 99999)
        cls = _lang_class(c.lang)
        if image:
            head, tail, ctype = (
                b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
                b"IEND\xaeB`\x82",
                "image/png",
            )
            names = {
                "ru": ("Снимок экрана.png", "скриншот.png", "image001.png"),
                "ja": ("スクリーンショット.png", "image001.png"),
                "en": (
                    "screenshot.png",
                    f"Screenshot 2024-01-{num % 28 + 1:02d} at 10.{num % 60:02d}.png",
                    "image001.png",
                    "error.png",
                ),
            }[cls]
        else:
            head, tail, ctype = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", b"\n%%EOF\n", "application/pdf"
            names = {
                "ru": (f"Счёт_{num}.pdf", "Акт сверки.pdf", "scan.pdf"),
                "ja": ("請求書.pdf", f"見積書_{num}.pdf"),
                "en": (f"invoice_{num}.pdf", "contract_signed.pdf", f"Scan_{num}.pdf", "PO.pdf"),
            }[cls]
        name = rng.choice(names)
        data = head + rng.randbytes(max(0, size - len(head) - len(tail))) + tail
        if name.isascii():
            name_param, file_param = f'; name="{name}"', f'; filename="{name}"'
        elif c.client in ("thunderbird", "apple", "iphone", "roundcube"):  # RFC 2231
            pct = "".join(
                chr(b) if chr(b).isalnum() and b < 128 else f"%{b:02X}" for b in name.encode()
            )
            name_param = f'; name="{_encode_header(name, "utf-8")}"'
            file_param = f";\n\tfilename*=UTF-8''{pct}"
        else:  # Outlook and Gmail put RFC 2047 words inside quotes
            words = _encode_header(name, "utf-8" if c.client == "gmail" else c.charset)
            name_param, file_param = f'; name="{words}"', f'; filename="{words}"'
        headers = [
            f"Content-Type: {ctype}{name_param}",
            f"Content-Disposition: attachment{file_param}",
            "Content-Transfer-Encoding: base64",
        ]
        if c.client == "gmail":
            att_id = f"f_{_rand(rng, 'abcdefghijklmnopqrstuvwxyz0123456789', 10)}0"
            headers += [f"Content-ID: <{att_id}>", f"X-Attachment-Id: {att_id}"]
        return headers, base64.encodebytes(data)

    # --- message kinds -------------------------------------------------------------------------

    def _customer_mail(self, received: datetime, category: str) -> _Mail:
        rng = self.rng
        thread = self._pick_thread() if rng.random() < REPLY_SHARE else None
        c = thread.customer if thread else self._pick_customer()
        fill = self._fill(c)
        sent = received - timedelta(seconds=rng.randint(1, 40))
        quote, quote_head, quote_text = "", "", ""
        if thread:
            base = thread.subject
            prefix = "RE: " if c.client == "outlook" else "Re: "
            if rng.random() < 0.05:
                prefix = "Re[2]: " if c.client == "mailru" else prefix * 2
            subject = prefix + base
            answering = rng.random() < 0.6
            paras = self._reply_text(c, fill, answering)
            if answering:  # replying to the agent's answer, which quotes the customer
                agent_sent = thread.sent + (sent - thread.sent) * rng.uniform(0.2, 0.9)
                own = self._attribution(c, c.author, SUPPORT_AUTHOR, thread.sent)
                nested = _history(own, thread.text, prefix + base)
                quote_text = self._agent_text(c) + "\n\n" + nested
                quote_head = self._attribution(c, SUPPORT_AUTHOR, c.author, agent_sent)
            else:  # chasing their own earlier message
                quote_text = thread.text
                quote_head = self._attribution(c, c.author, SUPPORT_AUTHOR, thread.sent)
            quote = _history(quote_head, quote_text, base)
            bottom = c.client == "thunderbird" and rng.random() < 0.5
        else:
            topic = rng.choice(c.texts.topics)
            base, lead = (s.format_map(fill) for s in rng.choice(topic.cases))
            if c.lang == "emoji" and rng.random() < 0.4:
                base = f"{base} {rng.choice(EMOJI)}"
            subject = base
            paras = self._new_text(c, fill, topic, lead)
            bottom = False
        sig = self._signature(c, short=bool(thread))
        plain, flowed = self._render_plain(c, paras, sig, quote, bottom)
        charset = self._charset(c, plain)
        if charset == "koi8-r":
            plain = plain.translate(KOI8_SAFE)
        fparams = "; format=flowed" if flowed else ""

        def plain_part() -> Entity:
            cte = self._cte(c, charset, "plain", plain)
            return _text_entity(plain, "plain", charset, cte, fparams)

        def html_part(cid: str = "") -> Entity:
            doc = self._render_html(c, charset, paras, sig, quote_head, quote_text, cid)
            if charset == "koi8-r":
                doc = doc.translate(KOI8_SAFE)
            return _text_entity(doc, "html", charset, self._cte(c, charset, "html", doc))

        def alternative(level: int, cid: str = "") -> Entity:
            parts = [plain_part(), html_part(cid)]
            return _multipart("alternative", self._boundary(c, level), parts)

        if category == "plain":
            entity = plain_part()
        elif category == "alt":
            entity = alternative(0)
        elif category == "html":
            entity = html_part()
        elif category == "attach":
            body = alternative(1) if rng.random() < 0.5 else plain_part()
            count = 1 if rng.random() < 0.85 else 2
            atts = [self._attachment(c, image=rng.random() < 0.4) for _ in range(count)]
            preamble = c.client == "thunderbird"
            entity = _multipart("mixed", self._boundary(c, 0), [body, *atts], preamble=preamble)
        else:  # an inline image in the HTML part (signature logo, pasted screenshot)
            cid = f"image001.png@01DA{rng.getrandbits(32):08X}.{rng.getrandbits(32):08X}"
            img_headers, img_body = self._attachment(c, image=True, size_max=24)
            img = (
                [
                    img_headers[0].split(";")[0] + '; name="image001.png"',
                    "Content-Transfer-Encoding: base64",
                    f"Content-ID: <{cid}>",
                    'Content-Disposition: inline; filename="image001.png"',
                ],
                img_body,
            )
            if c.client == "gmail":  # alternative(plain, related(html, img))
                related = _multipart("related", self._boundary(c, 1), [html_part(cid), img])
                entity = _multipart("alternative", self._boundary(c, 0), [plain_part(), related])
            else:  # related(alternative(plain, html), img)
                params = ' type="multipart/alternative";'
                parts = [alternative(1, cid), img]
                entity = _multipart("related", self._boundary(c, 0), parts, params=params)
        msgid = "" if rng.random() < 0.01 else self._msgid(c, sent)
        headers = self._trace(c, received, c.addr)
        headers += self._client_headers(c, sent, subject, charset, msgid, thread)
        raw = ("\n".join(headers) + "\n").encode("ascii") + _render(entity)
        if msgid:
            text = plain.rstrip("\n")
            if len(text) > 1500:
                text = text[:1500].rsplit("\n", 1)[0]
            if thread:
                thread.ids = [*thread.ids[-19:], msgid]
                thread.text, thread.sent = text, sent
            else:
                self.threads.append(_Thread(c, base, [msgid], text, sent))
        return _Mail(c.addr, received.timestamp(), raw)

    def _client_headers(
        self,
        c: _Customer,
        sent: datetime,
        subject: str,
        charset: str,
        msgid: str,
        thread: _Thread | None,
    ) -> list[str]:
        rng = self.rng
        hdr_cs = c.charset if c.charset != "utf-8" and c.client != "gmail" else "utf-8"
        from_value = formataddr((c.name, c.addr), hdr_cs) if c.name else c.addr
        to_name, to_addr = rng.choice(SUPPORT_TO)
        headers = ["MIME-Version: 1.0"] if c.client == "gmail" else []
        headers += [f"From: {from_value}", f"Date: {self._date_header(sent, c)}"]
        if msgid:
            headers.append(f"Message-ID: {msgid}")
        if thread:
            refs = thread.ids if len(thread.ids) <= 10 else [thread.ids[0], *thread.ids[-9:]]
            headers.append(f"In-Reply-To: {thread.ids[-1]}")
            headers.append("References: " + "\n ".join(refs))
        headers.append(f"Subject: {_encode_header(subject, hdr_cs)}")
        headers.append(f"To: {formataddr((to_name, to_addr)) if to_name else to_addr}")
        if rng.random() < 0.1:
            headers.append(f"Cc: {rng.choice(EN_FIRST).lower()}@{c.addr.split('@')[1]}")
        if c.client in MAILERS:
            headers.append("{}: {}".format(*MAILERS[c.client]))
        if c.client == "outlook":
            headers.append(f"Thread-Topic: {_encode_header(subject.split(': ')[-1], hdr_cs)}")
            language = {"ru": "ru-RU", "ja": "ja-JP"}.get(_lang_class(c.lang), "en-GB")
            headers.append(f"Content-Language: {language}")
        if c.client != "gmail":
            headers.append("MIME-Version: 1.0")
        return headers

    def _auto_reply(self, received: datetime) -> _Mail:
        """An out-of-office answer to one of the desk's replies (Auto-Submitted)."""
        rng = self.rng
        thread = self._pick_thread()
        c = thread.customer if thread else self._pick_customer()
        sent = received - timedelta(seconds=rng.randint(1, 5))
        back = sent + timedelta(days=rng.randint(2, 14))
        orig = f"Re: {thread.subject}" if thread else "Your request"
        name = c.name or f"{c.first} {c.last}"
        if c.texts is RU:
            subject = f"Автоответ: {orig}"
            text = (
                f"Здравствуйте!\n\nЯ в отпуске до {back:%d.%m.%Y} и не имею доступа к почте. "
                f"По срочным вопросам звоните по телефону {c.phone}.\n\n{name}"
            )
        elif c.texts is JA:
            subject = f"自動返信: {orig}"
            text = (
                f"誠に恐れ入りますが、{back.month}月{back.day}日まで不在にしております。\n"
                f"戻り次第、ご連絡いたします。\n\n{c.name}"
            )
        else:
            subject = rng.choice(
                (f"Out of Office: {orig}", f"Automatic reply: {orig}", "Out of Office")
            )
            text = _wrap(
                "Thank you for your email. I am out of the office until "
                f"{DAYS[back.weekday()]} {back.day} {MONTHS[back.month - 1]} with limited access "
                f"to email. For urgent matters please call our office on {c.phone}.",
                72,
            )
            text += f"\n\nBest regards,\n{c.first} {c.last}"
        text += "\n"
        charset = self._charset(c, text)
        if charset == "koi8-r":
            text = text.translate(KOI8_SAFE)
        entity = _text_entity(text, "plain", charset, self._cte(c, charset, "plain", text))
        msgid = "" if rng.random() < 0.01 else self._msgid(c, sent)
        hdr_cs = c.charset if c.charset != "utf-8" else "utf-8"
        headers = self._trace(c, received, c.addr)
        headers += [
            f"From: {formataddr((c.name, c.addr), hdr_cs) if c.name else c.addr}",
            f"To: support@{DESK_DOMAIN}",
            f"Subject: {_encode_header(subject, hdr_cs)}",
            f"Date: {self._date_header(sent, c)}",
        ]
        if msgid:
            headers.append(f"Message-ID: {msgid}")
        if thread:
            headers.append(f"In-Reply-To: {thread.ids[-1]}")
            headers.append(f"References: {thread.ids[-1]}")
        headers.append("Auto-Submitted: auto-replied")
        if c.client == "outlook":
            headers.append("X-Auto-Response-Suppress: All")
        elif rng.random() < 0.5:
            headers.append("X-Autoreply: yes")
        headers.append("MIME-Version: 1.0")
        raw = ("\n".join(headers) + "\n").encode("ascii") + _render(entity)
        return _Mail(c.addr, received.timestamp(), raw)

    def _dsn(self, received: datetime) -> _Mail:
        """A Postfix-style RFC 3464 bounce of one of the desk's replies."""
        rng = self.rng
        thread = self._pick_thread()
        c = thread.customer if thread else self._pick_customer()
        mta = f"mx{rng.randint(1, 3)}.{c.addr.split('@')[1]}"
        qid = _rand(rng, B64, 12)
        when = format_datetime(received)
        stamp = int(received.timestamp())
        orig_sent = format_datetime(received - timedelta(seconds=rng.randint(2, 600)))
        diag = rng.choice(
            (
                f"550 5.1.1 <{c.addr}>: Recipient address rejected: User unknown in virtual "
                "mailbox table",
                "552 5.2.2 Mailbox full: quota exceeded",
                "554 5.7.1 Message rejected as spam by Content Filtering",
            )
        )
        notice = (
            f"This is the mail system at host {mta}.\n\nI'm sorry to have to inform you that "
            "your message could not\nbe delivered to one or more recipients. It's attached "
            "below.\n\nFor further assistance, please send mail to postmaster.\n\nIf you do so, "
            "please include this problem report. You can\ndelete your own text from the attached "
            f"returned message.\n\n                   The mail system\n\n<{c.addr}>: host "
            f"{mta}[10.0.0.{rng.randint(2, 250)}] said: {diag}\n    (in reply to RCPT TO command)\n"
        )
        report = (
            f"Reporting-MTA: dns; {mta}\nX-Postfix-Queue-ID: {qid}\nX-Postfix-Sender: rfc822; "
            f"support@{DESK_DOMAIN}\nArrival-Date: {orig_sent}\n\nFinal-Recipient: rfc822; "
            f"{c.addr}\nOriginal-Recipient: rfc822;{c.addr}\nAction: failed\n"
            f"Status: {diag.split(' ')[1]}\nRemote-MTA: dns; {mta}\nDiagnostic-Code: smtp; {diag}\n"
        )
        subject = f"Re: {thread.subject}" if thread else "Your support request"
        orig = [
            f"From: {SUPPORT_AUTHOR}",
            f"To: {c.addr}",
            f"Subject: {_encode_header(subject, 'utf-8')}",
            f"Date: {orig_sent}",
            f"Message-ID: <{rng.getrandbits(96):024x}@{DESK_DOMAIN}>",
        ]
        if thread:
            orig += [f"In-Reply-To: {thread.ids[-1]}", f"References: {thread.ids[-1]}"]
        orig += [
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        parts: list[Entity] = [
            (
                ["Content-Description: Notification", "Content-Type: text/plain; charset=us-ascii"],
                notice.encode("ascii"),
            ),
            (
                ["Content-Description: Delivery report", "Content-Type: message/delivery-status"],
                report.encode("ascii"),
            ),
        ]
        if rng.random() < 0.5:
            desc = "Content-Description: Undelivered Message Headers"
            parts.append(
                ([desc, "Content-Type: text/rfc822-headers"], ("\n".join(orig) + "\n").encode())
            )
        else:
            body = "Hello,\n\nThank you for your message, we are looking into it.\n\nSupport\n"
            desc = "Content-Description: Undelivered Message"
            parts.append(
                (
                    [desc, "Content-Type: message/rfc822", "Content-Transfer-Encoding: 8bit"],
                    ("\n".join(orig) + "\n\n" + body).encode(),
                )
            )
        entity = _multipart(
            "report",
            f"{qid}.{stamp}/{mta}",
            parts,
            params=" report-type=delivery-status;",
            preamble=True,
        )
        headers = [
            "Return-Path: <>",
            f"Delivered-To: support@{DESK_DOMAIN}",
            f"Received: from {mta} ({mta} [10.0.0.{rng.randint(2, 250)}])\n\tby {MX_HOST} "
            f"(Postfix) with ESMTPS id {_rand(rng, B64, 14)}\n\tfor <support@{DESK_DOMAIN}>; "
            f"{when}",
            f"Received: by {mta} (Postfix)\n\tid {qid}; {when}",
            f"Date: {when}",
            f"From: MAILER-DAEMON@{mta} (Mail Delivery System)",
            "Subject: Undelivered Mail Returned to Sender",
            f"To: support@{DESK_DOMAIN}",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            f"Message-ID: <{stamp}.{qid}@{mta}>",
        ]
        raw = ("\n".join(headers) + "\n").encode("ascii") + _render(entity)
        return _Mail("MAILER-DAEMON", received.timestamp(), raw)

    def _list_mail(self, received: datetime) -> _Mail:
        """Mailing-list or newsletter mail that reached the support address."""
        rng = self.rng
        name, list_id, sender, subjects, texts = rng.choice(LISTS)
        subject = rng.choice(subjects).format(n=rng.randint(2, 52), d=received.day)
        paras = rng.sample(texts, k=rng.randint(2, len(texts)))
        unsub = f"https://{list_id.split('.', 1)[1]}/u/{_rand(rng, B64, 24)}"
        plain = "\n\n".join(_wrap(p, 72) for p in paras)
        plain += f"\n\n--\nYou received this because you are subscribed to {name}.\n"
        plain += f"Unsubscribe: {unsub}\n"
        td = '<tr><td style="padding:12px 24px;font:14px/1.5 Arial,sans-serif;color:#333333">'
        rows = "".join(f"{td}{html.escape(p)}</td></tr>\n" for p in paras)
        doc = (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><meta name="viewport" '
            'content="width=device-width"></head>\n<body style="margin:0;background:#f4f4f4">\n'
            '<table role="presentation" width="100%" cellpadding="0" cellspacing="0">\n'
            f'{rows}<tr><td style="padding:12px 24px;font:11px Arial;color:#999">'
            f'<a href="{unsub}">Unsubscribe</a></td></tr>\n</table></body></html>\n'
        )
        parts = [
            _text_entity(plain, "plain", "utf-8", "quoted-printable"),
            _text_entity(doc, "html", "utf-8", "quoted-printable"),
        ]
        entity = _multipart("alternative", f"=_list{rng.getrandbits(64):016x}", parts)
        host = sender.split("@")[1].rstrip(">")
        fake = _Customer(
            "", "", "", f"x@{host}", "en", EN, "utf-8", "roundcube", UTC, "", "", "", False
        )
        headers = self._trace(fake, received, f"bounces+{rng.getrandbits(40):x}@{host}")
        headers += [
            f"From: {sender}",
            f"To: support@{DESK_DOMAIN}",
            f"Subject: {subject}",
            f"Date: {format_datetime(received - timedelta(seconds=rng.randint(5, 300)))}",
            f"Message-ID: <{rng.getrandbits(96):024x}.{rng.randint(1, 9999)}@{host}>",
            f"List-Id: {name} <{list_id}>",
            f"List-Unsubscribe: <mailto:unsubscribe@{host}?subject=unsubscribe>, <{unsub}>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Precedence: list",
            "MIME-Version: 1.0",
        ]
        raw = ("\n".join(headers) + "\n").encode("ascii") + _render(entity)
        return _Mail(f"bounces@{host}", received.timestamp(), raw)


OUTLOOK_HEAD = """<html xmlns:v="urn:schemas-microsoft-com:vml" \
xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" \
xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<meta name="Generator" content="Microsoft Word 15 (filtered medium)">
<style><!--
/* Font Definitions */
@font-face
\t{{font-family:"Cambria Math";
\tpanose-1:2 4 5 3 5 4 6 3 2 4;}}
@font-face
\t{{font-family:Calibri;
\tpanose-1:2 15 5 2 2 2 4 3 2 4;}}
/* Style Definitions */
p.MsoNormal, li.MsoNormal, div.MsoNormal
\t{{margin:0cm;
\tfont-size:11.0pt;
\tfont-family:"Calibri",sans-serif;
\tmso-fareast-language:EN-US;}}
a:link, span.MsoHyperlink
\t{{mso-style-priority:99;
\tcolor:#0563C1;
\ttext-decoration:underline;}}
span.EmailStyle17
\t{{mso-style-type:personal-compose;
\tfont-family:"Calibri",sans-serif;
\tcolor:windowtext;}}
.MsoChpDefault
\t{{mso-style-type:export-only;
\tfont-family:"Calibri",sans-serif;
\tmso-fareast-language:EN-US;}}
@page WordSection1
\t{{size:612.0pt 792.0pt;
\tmargin:72.0pt 72.0pt 72.0pt 72.0pt;}}
div.WordSection1
\t{{page:WordSection1;}}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--><!--[if gte mso 9]><xml>
<o:shapelayout v:ext="edit">
<o:idmap v:ext="edit" data="1" />
</o:shapelayout></xml><![endif]-->
</head>
<body lang="EN-GB" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
"""

LISTS = (
    (
        "Acme Cloud Status",
        "status.acmecloud.io",
        "Acme Cloud Status <noreply@status.acmecloud.io>",
        (
            "[Acme Cloud] Degraded performance in EU-West",
            "[Acme Cloud] Incident resolved: API latency",
        ),
        (
            "We are investigating reports of elevated error rates for API requests in the "
            "EU-West region. Some customers may see timeouts when syncing data.",
            "The issue was caused by a faulty load balancer configuration deployed at 09:12 UTC.",
            "A fix has been implemented and we are monitoring the results. No data was lost.",
            "Subscribe to updates on our status page to be notified when this incident is "
            "resolved.",
        ),
    ),
    (
        "IT Announcements",
        "it-announce.lists.example.org",
        "IT Announcements <it-announce@lists.example.org>",
        ("[it-announce] Planned network maintenance", "[it-announce] New VPN client rollout"),
        (
            "On Saturday between 02:00 and 04:00 UTC the network team will replace the core "
            "switches in the main office. Remote access may be unavailable during this window.",
            "The new VPN client will be installed automatically over the next two weeks. Please "
            "restart your laptop when prompted.",
            "Reminder: never share your password by email. IT will never ask you for it.",
            "Questions? Reply to this list or call the IT service desk on extension 4400.",
        ),
    ),
    (
        "Helpdesk Weekly",
        "weekly.news.helpdeskweekly.com",
        "Helpdesk Weekly <newsletter@news.helpdeskweekly.com>",
        ("Helpdesk Weekly #{n}: SLAs that actually work", "Helpdesk Weekly #{n}: automation tips"),
        (
            "This week: how to write an SLA your team can meet, three automation rules that save "
            "an hour a day, and a checklist for onboarding new agents.",
            "Reader question: should first response time include weekends? Our take, and what "
            "the data from 400 support teams says.",
            "Tool of the week: canned responses that do not sound canned.",
            "Upcoming webinar on Thursday: measuring customer effort without surveys.",
        ),
    ),
    (
        "Vendor Partners",
        "partners.vendor.example.net",
        '"Vendor Partner Program" <partners@vendor.example.net>',
        ("Partner newsletter - January {d}", "Your quarterly partner update"),
        (
            "Our new pricing for partners takes effect on the first of next month.",
            "Certification exams are now available online, free of charge for gold partners.",
            "Please make sure your company profile in the partner portal is up to date.",
            "Thank you for another great quarter together.",
        ),
    ),
)


# --- small utilities ---------------------------------------------------------------------------


def _rand(rng: random.Random, alphabet: str, k: int) -> str:
    return "".join(rng.choices(alphabet, k=k))


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _weighted(rng: random.Random, options: tuple[tuple[T, float], ...]) -> T:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _bisect(cum: tuple[float, ...], x: float) -> int:
    for i, edge in enumerate(cum):
        if x < edge:
            return i
    return len(cum) - 1


def _shares(cum: tuple[float, ...]) -> list[float]:
    return [b - a for a, b in zip((0.0, *cum[:-1]), cum, strict=True)]


def _lang_class(lang: str) -> str:
    return "ru" if lang.startswith("ru") else "ja" if lang == "ja" else "en"


def _hour_weight(hour_of_week: int) -> float:
    day, hour = divmod(hour_of_week, 24)
    if day >= 5:
        return 0.15 if 9 <= hour < 20 else 0.05
    if 8 <= hour < 18:
        return 1.0
    return 0.4 if 6 <= hour < 22 else 0.08


# --- public API --------------------------------------------------------------------------------


def _mails(n: int, seed: int) -> Iterator[_Mail]:
    return _Generator(n, seed).mails() if n > 0 else iter(())


def generate_messages(n: int, seed: int = 1) -> Iterator[bytes]:
    """Yield ``n`` raw RFC 5322 messages (LF line endings), deterministic for ``(n, seed)``."""
    for mail in _mails(n, seed):
        yield mail.raw


def write_mbox(path: Path, n: int, seed: int = 1) -> int:
    """Stream ``n`` messages into an mboxrd file (``>From `` escaping); return bytes written."""
    written = 0
    with open(path, "wb", buffering=1 << 20) as fh:
        for mail in _mails(n, seed):
            from_line = f"From {mail.sender} {time.asctime(time.gmtime(mail.when))}\n"
            raw = mail.raw
            if b"From " in raw:  # cheap pre-check: the regex is slow on 250 MB
                raw = FROM_RE.sub(rb">\1", raw)
            chunk = from_line.encode("ascii") + raw + b"\n"
            fh.write(chunk)
            written += len(chunk)
    return written


def write_maildir(path: Path, n: int, seed: int = 1) -> None:
    """Write ``n`` messages into a Maildir (``new/``), mtimes set to the delivery time."""
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    for i, mail in enumerate(_mails(n, seed)):
        target = path / "new" / f"{int(mail.when)}.M{i:06d}P{seed}.mailgen"
        target.write_bytes(mail.raw)
        os.utime(target, (mail.when, mail.when))


def write_eml_dir(path: Path, n: int, seed: int = 1) -> None:
    """Write ``n`` messages as ``000001.eml``, ``000002.eml``... into ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    width = max(6, len(str(n)))
    for i, mail in enumerate(_mails(n, seed), 1):
        target = path / f"{i:0{width}d}.eml"
        target.write_bytes(mail.raw)
        os.utime(target, (mail.when, mail.when))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a realistic synthetic mail corpus.")
    parser.add_argument("format", choices=("mbox", "maildir", "eml"))
    parser.add_argument("out", type=Path, help="mbox file, or Maildir / .eml directory")
    parser.add_argument("-n", type=int, default=50_000, help="number of messages (50000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    writers: dict[str, Callable[[Path, int, int], object]] = {
        "mbox": write_mbox,
        "maildir": write_maildir,
        "eml": write_eml_dir,
    }
    started = time.perf_counter()
    writers[args.format](args.out, args.n, args.seed)
    elapsed = time.perf_counter() - started
    print(f"wrote {args.n} messages to {args.out} in {elapsed:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
