"""The call watcher: looks up the calls under way when Twilio cannot tell sdesk itself.

Without ``[http] public_url`` Twilio has nowhere to post status callbacks, so each call sdesk
placed (or took) and that has not ended is fetched every ``[telephony] poll_seconds`` and its
state recorded (``Telephony.call_status``, idempotent like a callback). With a public URL the
callbacks do the work and the watcher looks every 30 s only, for a callback that was lost.
"""

from __future__ import annotations

import logging
import threading

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from sdesk.channels.services import PassResult, Service
from sdesk.channels.twilio.client import TwilioConfigError, make_client
from sdesk.core.desk import Desk
from sdesk.core.health import HealthRecorder, one_line, service_key

log = logging.getLogger(__name__)
SAFETY_NET_SECONDS = 30.0
MAX_PER_PASS = 50  # calls looked up in one pass (a desk has few calls under way at once)


class CallWatcher(Service):
    name = "twilio:calls"

    def __init__(self, desk: Desk, client: Client | None = None) -> None:
        self.desk = desk
        self._client = client
        self.health = HealthRecorder(desk, service_key(self.name))
        http = desk.settings.http
        callbacks = http is not None and bool(http.public_url)
        self.every = SAFETY_NET_SECONDS if callbacks else desk.settings.telephony.poll_seconds

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = make_client(self.desk.settings.telephony)
        return self._client

    def look(self) -> int:
        """One pass: every call under way fetched and recorded; returns how many changed."""
        changed = 0
        for call in self.desk.phone.active_calls()[:MAX_PER_PASS]:
            try:
                found = self.client.calls(call.sid).fetch()
            except TwilioRestException as exc:
                if exc.status == 404:
                    log.warning("twilio: call %s is unknown to Twilio", call.sid)
                    continue
                raise
            duration = int(found.duration) if found.duration not in (None, "") else None
            if self.desk.phone.call_status(call.sid, str(found.status), duration):
                changed += 1
        return changed

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.look()
                self.health.polled()
            except (TwilioException, TwilioConfigError, OSError) as exc:
                self.health.failed(one_line(f"Twilio: {exc}"))
            stop.wait(self.every)

    def run_once(self) -> PassResult | None:
        try:
            changed = self.look()
        except (TwilioException, TwilioConfigError, OSError) as exc:
            return PassResult(f"twilio calls: {one_line(str(exc))}", "failed")
        return PassResult(f"twilio calls: {changed} changed") if changed else None

    def crashed(self, message: str) -> None:
        self.health.failed(message)
