"""``HttpService``: the desk's HTTP server (``sdesk.api.app``) on uvicorn, as one of the
supervised services (``channels/services.py``).

uvicorn runs in the service's thread with its own event loop; ``stop`` asks it to exit
(``should_exit``), and it finishes the requests under way before ``run`` returns. It installs
no signal handlers: the process's owner (``sdesk serve``, the console) handles SIGTERM/Ctrl-C
and stops every service.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable

import uvicorn

from sdesk.api.app import create_app
from sdesk.channels.services import Service
from sdesk.config import HttpSettings
from sdesk.core.desk import Desk
from sdesk.core.health import HealthRecorder, service_key

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handlers (they belong to the process's owner), and
    telling when its socket listens."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_started = on_started

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29 calls this
        return None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_started()


class HttpService(Service):
    name = "http"

    def __init__(self, desk: Desk, settings: HttpSettings) -> None:
        self.desk = desk
        self.settings = settings
        self.health = HealthRecorder(desk, service_key("http"))
        self.server: _Server | None = None
        self.started = threading.Event()  # set once the socket listens (tests wait on it)

    def config(self) -> uvicorn.Config:
        return uvicorn.Config(
            create_app(self.desk),
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
        )

    def run(self, stop: threading.Event) -> None:
        config = self.config()
        server = _Server(config, self._listening)
        self.server = server
        watcher = threading.Thread(
            target=self._watch, args=(stop, server), name="sdesk:http-stop", daemon=True
        )
        watcher.start()
        # uvicorn's own loop choice, as ``uvicorn.run`` makes it (uvloop when installed);
        # uvicorn < 0.36 chose by a global policy instead, which a service thread must not set.
        get_factory = getattr(config, "get_loop_factory", None)
        with asyncio.Runner(loop_factory=get_factory() if get_factory else None) as runner:
            runner.run(server.serve())
        if not stop.is_set():
            # uvicorn returns (it logs why) when it cannot bind: a crash for the supervisor.
            raise OSError(f"cannot serve HTTP on {self.settings.listen}")

    def _listening(self) -> None:
        self.started.set()
        self.health.connected()
        log.info("http: serving on %s", self.settings.listen)

    @staticmethod
    def _watch(stop: threading.Event, server: _Server) -> None:
        stop.wait()
        server.should_exit = True

    def crashed(self, message: str) -> None:
        self.health.failed(message)
