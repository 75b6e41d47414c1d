"""The OpenAPI document kept in the repository is the one the code serves."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from sdesk.api.openapi import text
from tests.api.conftest import Live

KEPT = Path(__file__).parents[2] / "docs" / "openapi.json"
REGENERATE = "python -m sdesk.api.openapi > docs/openapi.json"


def test_the_kept_document_matches_the_code() -> None:
    assert KEPT.read_text() == text(), f"docs/openapi.json is stale; run: {REGENERATE}"


def test_the_server_serves_it(live: Live) -> None:
    served = httpx.get(f"{live.url}/openapi.json", timeout=10).json()
    assert served == json.loads(KEPT.read_text())
