"""Rendering the cabinet's pages: Jinja2 with autoescape on for every template, so customer
text (subjects, messages, names, file names) is always HTML-escaped; templates never use
``|safe``. Every page goes out with the cabinet's security headers (``guard.HEADERS``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Response
from fastapi.responses import HTMLResponse

from sdesk.api.cabinet.guard import HEADERS

HERE = Path(__file__).parent
STATUS_WORDS = {
    "new": "Received",
    "open": "In progress",
    "pending": "Waiting for you",
    "resolved": "Resolved",
    "closed": "Closed",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every template, whatever its name
    undefined=jinja2.StrictUndefined,  # a missing value is a bug to see, not an empty string
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def _size(value: int) -> str:
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{value / 1024:.0f} KB"
    return f"{value / 1024 / 1024:.1f} MB"


_env.filters["when"] = _when
_env.filters["size"] = _size
_env.globals["status_word"] = lambda s: STATUS_WORDS.get(s, s)


def with_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    values.setdefault("me", None)
    values.setdefault("csrf", "")
    values.setdefault("notice", "")
    html = _env.get_template(template).render(**values)
    response = HTMLResponse(html, status_code=status)
    with_headers(response)
    return response


TITLES = {
    400: "That did not work",
    403: "Refused",
    404: "Not found",
    411: "Length required",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Not available",
}


def error(status: int, message: str, *, me: Any = None, csrf: str = "") -> HTMLResponse:
    return page(
        "error.html",
        status,
        title=TITLES.get(status, "Error"),
        message=message,
        me=me,
        csrf=csrf,
    )
