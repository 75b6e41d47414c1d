"""Print the REST API's OpenAPI document: ``python -m sdesk.api.openapi > docs/openapi.json``.

The document is kept in the repository; ``tests/api/test_openapi.py`` fails when it and the
code drift apart. It does not depend on any desk's data, so a desk in a temporary folder
builds it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from sdesk.config import Settings


def document() -> dict[str, Any]:
    from sdesk.api.v1 import create_api
    from sdesk.core.desk import Desk
    from sdesk.store.engine import open_store

    with tempfile.TemporaryDirectory(prefix="sdesk-openapi-") as tmp:
        desk = Desk(open_store(Path(tmp) / "desk.db"), Settings())
        try:
            return create_api(desk).openapi()
        finally:
            desk.close()


def text() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    sys.stdout.write(text())


if __name__ == "__main__":
    main()
