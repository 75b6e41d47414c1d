"""The local Twilio server and the Twilio-set-up desk of tests/twilio, shared here."""

from tests.twilio.conftest import (  # noqa: F401  (fixtures)
    desk,
    served,
    twilio,
    twilio_server,
)
