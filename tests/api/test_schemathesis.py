"""schemathesis over the whole OpenAPI document against the live server: every operation with
generated valid and invalid input, an agent's token; no 5xx, every answer as the document says
(status code, content type, body schema). At least ``MIN_REQUESTS`` requests in all."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.api.conftest import Live, serve
from tests.cabinet.site import SMTP_ENV, cabinet_settings

EXAMPLES = 40  # per operation; 13 operations
MIN_REQUESTS = 500
sent = {"n": 0}
_lock = threading.Lock()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """With a mailbox that sends, so sign-in links can be asked for (queued, never sent)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(SMTP_ENV, "unused")
        yield from serve(
            tmp_path_factory.mktemp("fuzz"), cabinet_settings(9, 9), api_rate_per_minute=100_000
        )


@pytest.fixture(scope="module")
def api_schema(fuzzed: Live) -> schemathesis.BaseSchema:
    token["value"] = fuzzed.tokens["dana"]
    return schemathesis.openapi.from_url(f"{fuzzed.url}/openapi.json", config=CONFIG)


CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            # A schema-valid request may still be refused (422/409) for what no schema can
            # say: whose token it is, whether a phone number exists, if a ticket is resolved.
            "positive_data_acceptance": {"enabled": False},
            # An invalid body may also be refused for its size before it is parsed (413).
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429]
            },
        }
    }
)
schema = schemathesis.pytest.from_fixture("api_schema")
token = {"value": ""}


@schemathesis.auth()
class AgentToken:
    """The agent's bearer token on every generated request, as the document's security scheme
    says (so a case that drops it on purpose is one schemathesis knows about)."""

    def get(self, case: schemathesis.Case, ctx: schemathesis.AuthContext) -> str:
        return token["value"]

    def set(self, case: schemathesis.Case, data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_document(case: schemathesis.Case, fuzzed: Live) -> None:
    with _lock:
        sent["n"] += 1
    case.call_and_validate(
        base_url=fuzzed.url,
        timeout=30,
    )


def test_enough_requests_were_made() -> None:
    print(f"schemathesis: {sent['n']} requests")
    assert sent["n"] >= MIN_REQUESTS, f"only {sent['n']} generated requests"
