"""Unit fixtures shared by the act tests."""

from __future__ import annotations

import pytest

from sdesk.core.desk import Desk
from sdesk.core.enums import Role
from tests.factories import email


@pytest.fixture
def staffed(desk: Desk) -> Desk:
    desk.add_agent("dana", name="Dana", role=Role.DISPATCHER)
    desk.add_agent("eli", name="Eli", role=Role.ENGINEER)
    desk.intake(email("root@x", subject="VPN down", text="Cannot connect"))
    return desk
