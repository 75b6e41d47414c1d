"""Alembic environment: always run in-process by ``sdesk.store.engine`` with a live connection."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import sdesk.store.alertmodels  # registers the alert tables on the metadata (0013)
import sdesk.store.models  # noqa: F401  (registers the tables on the metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
