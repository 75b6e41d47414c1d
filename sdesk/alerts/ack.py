"""Acknowledging from outside the console: an SMS reply ``ACK 1042`` and the key press in an
alert's voice call. Framework-free, like ``channels/telegram/webhook.handle``: the HTTP side
(``sdesk/api/alerts.py``, and the SMS webhook of the telephony channel) only calls these."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select
from sqlmodel import col

from sdesk.core.alerts import AlertError
from sdesk.core.desk import Desk
from sdesk.store.alertmodels import AlertNotice
from sdesk.store.models import Agent

ACK = re.compile(r"^\s*ack\s*#?\s*(\d{1,12})\s*[.!]?\s*$", re.IGNORECASE)


def parse_ack(text: str) -> int | None:
    """The alert an SMS acknowledges (``ACK 1042``, ``ack #1042``), or None."""
    m = ACK.match(text or "")
    return int(m.group(1)) if m else None


def ack_by_sms(desk: Desk, phone: str, text: str) -> str | None:
    """Acknowledge the alert an agent's SMS names; the answer to text back, or None when the
    message is not an ACK or not from an agent's phone (it is then an ordinary inbound SMS:
    a customer who writes "ack 12" is a customer writing)."""
    alert_id = parse_ack(text)
    if alert_id is None:
        return None
    with desk.store.read() as session:
        login = session.execute(
            select(col(Agent.login)).where(col(Agent.phone) == phone, col(Agent.active))
        ).scalar()
    if login is None:
        return None
    try:
        acked = desk.acknowledge_alert(alert_id, login, "sms")
    except AlertError as exc:
        return str(exc)
    if acked.already:
        return f"Alert {alert_id} was already acknowledged by {acked.by} ({acked.how})."
    return f"Alert {alert_id} acknowledged. Thank you."


def voice_gather(desk: Desk, notice_id: int, form: Mapping[str, str]) -> str:
    """Twilio's post of the key pressed in an alert's call: 1 acknowledges, as the agent the
    call was for. Returns the TwiML to answer with."""
    with desk.store.read() as session:
        notice = session.get(AlertNotice, notice_id)
    if notice is None or notice.medium != "voice":
        return _say("This alert is unknown. Goodbye.")
    if form.get("Digits") != "1":
        return _say("Not acknowledged. Goodbye.")
    if notice.ref and form.get("CallSid") and form.get("CallSid") != notice.ref:
        return _say("This call does not match the alert. Goodbye.")
    acked = desk.acknowledge_alert(notice.alert_id, notice.agent, "voice")
    if acked.already:
        return _say(f"Already acknowledged by {acked.by}. Goodbye.")
    return _say("Acknowledged. Thank you.")


def _say(text: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Say>{text}</Say></Response>'
