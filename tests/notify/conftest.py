"""The real aiosmtpd server of the integration tests, shared here."""

from tests.integration.conftest import (  # noqa: F401  (fixtures)
    mail_tls_cert,
    smtp_server,
    smtp_server_factory,
)
