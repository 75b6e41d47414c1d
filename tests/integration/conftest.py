"""Fixtures with real mail servers: Dovecot for IMAP, aiosmtpd for SMTP (see mailservers.py).

* ``dovecot``: a fresh, running :class:`DovecotServer` per test (own ports, config, Maildir).
  Without dovecot installed the test is skipped, or fails when ``CI`` is set.
* ``dovecot_factory``: ``make(**DovecotServer kwargs)`` for variants or a second server.
* ``smtp_server``: a running :class:`SmtpServer` per test (no AUTH, STARTTLS offered).
* ``smtp_server_factory``: ``make(auth=("user", "pw"), starttls=True, require_starttls=False)``.
* ``mail_tls_cert``: the session's self-signed cert (``.cert`` is the CA file to verify with).

Every server made here is stopped at teardown, whatever the test did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.mailservers import (
    DovecotServer,
    SmtpServer,
    TlsCert,
    make_self_signed_cert,
    require_dovecot,
)


def pytest_configure(config: pytest.Config) -> None:
    # aiosmtpd warns on every connection when AUTH is required without TLS; on loopback in
    # tests that is intended.
    config.addinivalue_line(
        "filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning"
    )


@pytest.fixture(scope="session")
def mail_tls_cert(tmp_path_factory: pytest.TempPathFactory) -> TlsCert:
    return make_self_signed_cert(tmp_path_factory.mktemp("mail-tls"))


@pytest.fixture
def dovecot_factory(
    tmp_path: Path, mail_tls_cert: TlsCert
) -> Iterator[Callable[..., DovecotServer]]:
    require_dovecot()
    servers: list[DovecotServer] = []

    def make(**kwargs: Any) -> DovecotServer:
        server = DovecotServer(mail_tls_cert, **kwargs)
        servers.append(server)
        server.start()
        return server

    try:
        yield make
    finally:
        # Logs stay in the test's tmp_path for post-mortems; the servers' folders go.
        errors = []
        for i, server in enumerate(servers):
            try:
                server.close(keep_log=tmp_path / f"dovecot-{i}.log")
            except Exception as e:  # close the others anyway
                errors.append(e)
        if errors:
            raise errors[0]


@pytest.fixture
def dovecot(dovecot_factory: Callable[..., DovecotServer]) -> DovecotServer:
    return dovecot_factory()


@pytest.fixture
def smtp_server_factory(mail_tls_cert: TlsCert) -> Iterator[Callable[..., SmtpServer]]:
    servers: list[SmtpServer] = []

    def make(
        *,
        auth: tuple[str, str] | None = None,
        starttls: bool = True,
        require_starttls: bool = False,
    ) -> SmtpServer:
        server = SmtpServer(
            auth=auth,
            cert=mail_tls_cert if starttls else None,
            require_starttls=require_starttls,
        )
        servers.append(server)
        server.start()
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def smtp_server(smtp_server_factory: Callable[..., SmtpServer]) -> SmtpServer:
    return smtp_server_factory()
