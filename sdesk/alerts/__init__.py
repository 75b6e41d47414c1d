"""Agent alerts: the rules that turn events into alerts, the escalation run by APScheduler,
and the notifiers (email through the outbox, push through apprise, SMS and voice through
Twilio, a toast in the agent's consoles). Headless: never imports Textual or the console.

The writes are the core's (``sdesk/core/alerts.py``); this package decides and delivers.
ARCHITECTURE.md, "Alerts and the scheduler".
"""
