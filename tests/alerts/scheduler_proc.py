"""A scheduler process for the restart test and the benchmark: the desk's ``AlertService``
under the ``Supervisor``, as ``sdesk serve`` runs it, until SIGTERM (or a SIGKILL).

    python -m tests.alerts.scheduler_proc DESK_DB SETTINGS_JSON [STANDBY_SECONDS]

With STANDBY_SECONDS it asks for the lease that often while another process holds it (a
standby taking over at once from a holder killed on this host).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

from sdesk.alerts.service import AlertService
from sdesk.channels.services import Supervisor
from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store


def main() -> None:
    db, settings_file = sys.argv[1], sys.argv[2]
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    logging.getLogger("sdesk.alerts").setLevel(logging.INFO)
    settings = Settings.model_validate_json(Path(settings_file).read_text(encoding="utf-8"))
    desk = Desk(open_store(db), settings)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    standby = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    supervisor = Supervisor([AlertService(desk, standby_seconds=standby)])
    supervisor.start()
    print("started", flush=True)
    done.wait(600)  # bounded: a test that forgets it never leaves it running for long
    supervisor.stop(10)
    desk.close()


if __name__ == "__main__":
    main()
