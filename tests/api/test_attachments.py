"""Files over a real socket: inline on create and by multipart upload, downloaded byte for byte
with a safe Content-Disposition; another customer's file, a note's file and an upload over the
limit are refused."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator

import pytest

from tests.api.conftest import Live, serve


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from serve(tmp_path_factory.mktemp("files"), api_max_upload_mb=0.5)


def test_upload_and_download_round_trip(files: Live) -> None:
    photo = os.urandom(200_000)
    with files.client("ann") as c:
        ticket = c.post("/tickets", json={"text": "see the photo"}).json()
        number = ticket["number"]
        up = c.post(
            f"/tickets/{number}/attachments",
            files=[("files", ('../../etc/"bad";\r\nname.png', photo, "image/png"))],
            data={"text": "the photo"},
        )
        assert up.status_code == 201, up.text
        [meta] = up.json()["message"]["attachments"]
        down = c.get(meta["url"].removeprefix("/api/v1"))
    assert down.status_code == 200 and down.content == photo
    assert meta["sha256"] == hashlib.sha256(photo).hexdigest()
    disposition = down.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition
    assert down.headers["X-Content-Type-Options"] == "nosniff"
    assert down.headers["Content-Type"] == "image/png"
    with files.client("bob") as c:  # another customer: not found, like no file at all
        assert c.get(f"/tickets/{number}/attachments/{meta['sha256']}").status_code == 404


def test_inline_files_on_create_and_active_types_download_as_bytes(files: Live) -> None:
    page = b"<script>alert(1)</script>"
    body = {
        "text": "page attached",
        "attachments": [
            {
                "filename": "page.html",
                "content_type": "text/html",
                "data_base64": base64.b64encode(page).decode(),
            }
        ],
    }
    with files.client("ann") as c:
        ticket = c.post("/tickets", json=body).json()
        [meta] = ticket["messages"][0]["attachments"]
        down = c.get(meta["url"].removeprefix("/api/v1"))
        bad = c.post(
            "/tickets",
            json={**body, "attachments": [{**body["attachments"][0], "data_base64": "%%%"}]},
        )
    assert down.content == page
    assert down.headers["Content-Type"] == "application/octet-stream"
    assert bad.status_code == 422


def test_an_agents_upload_is_a_reply_and_oversize_is_413(files: Live) -> None:
    """On Ann's ticket by email and on one she opened by the API."""
    with files.client("ann") as c:
        number = c.get("/tickets", params={"channel": "email"}).json()["items"][0]["number"]
        api_ticket = c.post("/tickets", json={"text": "x"}).json()["number"]
    with files.client("dana") as c:
        up = c.post(
            f"/tickets/{number}/attachments",
            files=[("files", ("manual.pdf", b"%PDF-1.4 manual", "application/pdf"))],
        )
        big = c.post(
            f"/tickets/{number}/attachments",
            files=[("files", ("big.bin", os.urandom(700_000), "application/octet-stream"))],
        )
        on_api = c.post(
            f"/tickets/{api_ticket}/attachments",
            files=[("files", ("manual.pdf", b"%PDF-1.4 manual", "application/pdf"))],
        )
    assert up.status_code == 201 and up.json()["message"]["kind"] == "reply"
    assert big.status_code == 413
    assert on_api.status_code == 201, on_api.text  # the app reads it from the API
    with files.client("ann") as c:
        [reply] = [
            m for m in c.get(f"/tickets/{number}").json()["messages"] if m["kind"] == "reply"
        ]
        got = c.get(reply["attachments"][0]["url"].removeprefix("/api/v1"))
    assert got.content == b"%PDF-1.4 manual"
