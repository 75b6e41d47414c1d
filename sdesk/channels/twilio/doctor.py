"""``sdesk doctor`` for telephony: the caller ID, the account and its auth token (one Accounts
fetch, which Twilio answers 401 for a wrong token), and where Twilio's callbacks would go. Each
line says what is wrong; the token is never shown."""

from __future__ import annotations

from twilio.base.exceptions import TwilioException, TwilioRestException

from sdesk.channels.twilio.client import TwilioConfigError, make_client, read_auth_token
from sdesk.config import Settings
from sdesk.core.calls import check_callable
from sdesk.core.errors import DeskError
from sdesk.core.health import one_line

Check = tuple[bool, str]


def check(settings: Settings) -> list[Check]:
    tel = settings.telephony
    results: list[Check] = []
    if not tel.from_number:
        results.append((False, "no [telephony] from_number: calls and texts have no caller ID"))
    else:
        try:
            results.append((True, f"caller ID {check_callable(tel.from_number, 'US')}"))
        except DeskError as exc:
            results.append((False, f"from_number: {exc}"))
    if not tel.account_sid:
        return [*results, (False, "no [telephony] account_sid")]
    try:
        token = read_auth_token(tel)
    except TwilioConfigError as exc:
        return [*results, (False, str(exc))]
    results.append((True, "auth token read"))
    try:
        account = make_client(tel, token=token).api.v2010.accounts(tel.account_sid).fetch()
    except TwilioRestException as exc:
        why = "the account or its auth token was refused" if exc.status == 401 else exc.msg
        return [*results, (False, one_line(f"Twilio: {why} (error {exc.code})"))]
    except (TwilioException, TwilioConfigError, OSError) as exc:
        return [*results, (False, one_line(f"Twilio could not be reached: {exc}"))]
    results.append((True, one_line(f"account {account.friendly_name} is {account.status}")))
    http = settings.http
    if http is not None and http.public_url:
        results.append((True, f"webhooks: {http.public_url.rstrip('/')}/twilio/sms, /voice"))
    else:
        results.append(
            (True, "no [http] public_url: calls are followed by polling; texts and calls to the "
                   "desk's number cannot reach it")
        )  # fmt: skip
    return results
