"""Settings: one TOML file in the user's config dir, every key overridable by ``SDESK_*``.

Nested keys use a double underscore in the environment: ``SDESK_SLA__URGENT_RESPONSE_MINUTES``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir, user_data_dir
from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

APP = "sdesk"


class ConfigError(Exception):
    """A wrong config value; the message names the key and what it should be."""


def data_dir() -> Path:
    return Path(user_data_dir(APP, appauthor=False))


def config_path() -> Path:
    return Path(user_config_dir(APP, appauthor=False)) / "config.toml"


class SLAPolicy(BaseModel):
    """Minutes from ticket creation to first response and to resolution, by priority."""

    low_response_minutes: int = Field(24 * 60, gt=0)
    normal_response_minutes: int = Field(8 * 60, gt=0)
    high_response_minutes: int = Field(4 * 60, gt=0)
    urgent_response_minutes: int = Field(60, gt=0)
    low_resolution_minutes: int = Field(7 * 24 * 60, gt=0)
    normal_resolution_minutes: int = Field(3 * 24 * 60, gt=0)
    high_resolution_minutes: int = Field(24 * 60, gt=0)
    urgent_resolution_minutes: int = Field(4 * 60, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SDESK_", env_nested_delimiter="__", extra="forbid"
    )

    database_url: str | None = Field(
        None, description="A SQLite path or SQLAlchemy URL; default: desk.db in the data dir."
    )
    desk_domain: str = Field(
        "sdesk.invalid", description="Right-hand side of the Message-IDs we generate."
    )
    default_region: str = Field(
        "US", min_length=2, max_length=2, description="Region for phone numbers without +code."
    )
    first_ticket_number: int = Field(1001, ge=1)
    sla: SLAPolicy = SLAPolicy()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def load_settings(path: Path | None = None) -> Settings:
    """Read the TOML file (if any), then let the environment override it."""
    path = path or config_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        # Environment wins over the file: pass the file as defaults under the env source.
        env_only = Settings()
        return Settings(**_deep_merge(data, env_only.model_dump(exclude_unset=True)))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"config key {key!r}: {err['msg']} (in {path} or SDESK_*)") from None


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def default_database() -> str:
    return str(data_dir() / "desk.db")
