"""An alert acknowledged through the REST API (``POST /api/v1/alerts/{id}/ack``): an agent's
token acknowledges as that agent (recorded with how "api"), a retry with the same key gets the
first answer, a customer's token may not, and an unknown alert is a JSON 404."""

from __future__ import annotations

from sdesk.config_alerts import AlertRule
from sdesk.core.alerts import Decision, open_alerts
from tests.api.conftest import Live


def test_an_agents_token_acknowledges_once_and_others_may_not(live: Live) -> None:
    rule = AlertRule(name="down", event="channel.down", tier="fast", targets=["team"])
    [opened] = open_alerts(live.desk, [Decision(rule, "api-ack", "mail is down", "channel.down")])
    path = f"/alerts/{opened.alert_id}/ack"
    with live.client("ann") as ann:
        refused = ann.post(path)
        assert refused.status_code == 403 and refused.json()["error"] != ""
    with live.client("dana") as dana:
        first = dana.post(path, headers={"Idempotency-Key": "ack-1"})
        assert first.status_code == 200
        body = first.json()
        assert (body["alert_id"], body["already"], body["by"], body["how"]) == (
            opened.alert_id,
            False,
            "dana",
            "api",
        )
        again = dana.post(path, headers={"Idempotency-Key": "ack-1"})
        assert again.json() == body and again.headers.get("Idempotent-Replayed") == "true"
        later = dana.post(path)
        assert later.status_code == 200 and later.json()["already"] is True
        missing = dana.post("/alerts/999999/ack")
        assert missing.status_code == 404 and missing.json()["message"] == "no alert 999999"
