"""Twilio: click-to-call, inbound calls and texts, SMS replies (issue 17).

``client.py`` makes the real ``twilio.rest.Client`` from ``[telephony]``; the outbox senders,
the call watcher (polling when no public URL) and the webhooks' handling live beside it.
"""
