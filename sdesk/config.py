"""Settings: one TOML file in the user's config dir, every key overridable by ``SDESK_*``.

Nested keys use a double underscore in the environment: ``SDESK_SLA__URGENT_RESPONSE_MINUTES``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_config_dir, user_data_dir
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from sdesk.config_alerts import AlertSettings
from sdesk.config_notify import NotifySettings

APP = "sdesk"


class ConfigError(Exception):
    """A wrong config value; the message names the key and what it should be."""


class MissingConfig(ConfigError):
    """A config file named by ``--config`` / ``SDESK_CONFIG`` that is not there (a usage
    error: exit 2)."""


def data_dir() -> Path:
    return Path(user_data_dir(APP, appauthor=False))


CONFIG_ENV = "SDESK_CONFIG"  # a config file for admins who run several desks on one host


def config_path() -> Path:
    """The config file: ``SDESK_CONFIG`` when set, else ``config.toml`` in the config dir."""
    return given_config() or default_config_path()


def default_config_path() -> Path:
    return Path(user_config_dir(APP, appauthor=False)) / "config.toml"


def given_config(option: str | None = None) -> Path | None:
    """The config file asked for by name (``--config``, else ``SDESK_CONFIG``), or None. It
    must exist: a file named on purpose and missing is a mistake, never an empty config."""
    named = option or os.environ.get(CONFIG_ENV)
    if not named:
        return None
    path = Path(named).expanduser()
    if not path.is_file():
        how = "--config" if option else CONFIG_ENV
        what = "is not a file" if path.exists() else "not found"
        raise MissingConfig(f"config file {path} {what} (given by {how})")
    return path


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


class CannedResponse(BaseModel):
    """A prepared answer; ``{customer}``, ``{ticket}`` and ``{agent}`` are filled in."""

    name: str = Field(min_length=1, max_length=60)
    text: str = Field(min_length=1)


DEFAULT_CANNED = [
    CannedResponse(
        name="Acknowledge",
        text="Hello {customer},\n\nthank you for your message. We are looking into it and will "
        "get back to you shortly.\n\n{agent}\nTicket #{ticket}",
    ),
    CannedResponse(
        name="Need more details",
        text="Hello {customer},\n\ncould you tell us a little more: what you did, what you "
        "expected and what happened instead?\n\n{agent}\nTicket #{ticket}",
    ),
    CannedResponse(
        name="Resolved",
        text="Hello {customer},\n\nthis should be fixed now. If anything is still wrong, just "
        "reply to this message and ticket #{ticket} reopens.\n\n{agent}",
    ),
]


class ConsoleSettings(BaseModel):
    """How the console looks and which keys do what."""

    theme: Literal["dark", "light"] = Field("dark", description="Colour theme.")
    keys: dict[str, str] = Field(
        default_factory=dict,
        description='Binding id → keys, e.g. {reply = "r,ctrl+r"}; see the help screen (?).',
    )
    refresh_seconds: float = Field(
        1.0, ge=0.2, le=30, description="How often the console looks for others' changes."
    )


class TelephonySettings(BaseModel):
    """Calls and SMS through Twilio (``sdesk/channels/twilio``). ``none`` keeps the call key but
    says telephony is not set up. The auth token never sits in this file: ``auth_token_env``
    names an environment variable, ``auth_token_command`` a command printing it."""

    provider: Literal["none", "twilio"] = "none"
    from_number: str | None = Field(None, description="Caller id in E.164, e.g. +4930123456.")
    account_sid: str | None = Field(None, description="The Twilio account (AC...).")
    auth_token_env: str | None = Field(None, description="Environment variable holding it.")
    auth_token_command: str | None = Field(None, description="Command printing it.")
    api_base_url: str | None = Field(
        None, description="A Twilio-compatible server's root instead of Twilio's (tests, an edge)."
    )
    allowed_countries: list[str] = Field(
        default_factory=list,
        description="ISO regions calls and SMS may go to, e.g. ['DE', 'AT']; empty: the desk's.",
    )
    agent_daily_calls: int = Field(50, ge=0, description="Calls one agent may place a day.")
    desk_daily_calls: int = Field(500, ge=0, description="Calls the whole desk may place a day.")
    greeting: str = Field(
        "Thank you for calling. Please leave a message after the tone.",
        max_length=500,
        description="What a caller to the desk's number hears first (spoken by Twilio).",
    )
    forward_to: str | None = Field(
        None, description="Put inbound calls through to this phone (E.164); else voicemail."
    )
    voicemail_seconds: int = Field(120, ge=5, le=3600, description="Longest voicemail.")
    max_media_mb: float = Field(
        5, gt=0, le=100, description="An MMS file bigger than this stays a link on the message."
    )
    transcribe: bool = Field(True, description="Ask Twilio to transcribe voicemails.")
    poll_seconds: float = Field(
        2.0,
        gt=0,
        le=300,
        description="How often calls under way are looked up when no public_url is set (no "
        "status callbacks); with one, every 30 s as a safety net.",
    )

    def auth_token_secret(self) -> Secret:
        return Secret(password_env=self.auth_token_env, password_command=self.auth_token_command)


class HttpSettings(BaseModel):
    """The desk's HTTP server (``sdesk/api``): the REST API, the customer's web cabinet and the
    webhooks (Telegram, Twilio). ``sdesk serve`` runs it when ``[http]`` is in the config."""

    listen: str = Field(
        "127.0.0.1:8750", pattern=r"^[^\s:]+:\d{1,5}$", description="host:port to bind."
    )
    public_url: str | None = Field(
        None,
        description="The URL the world reaches this server at (behind a TLS proxy), for links "
        "in mail and for webhook callbacks, e.g. https://help.example.com",
    )
    api_rate_per_minute: int = Field(
        600, ge=1, le=1_000_000, description="REST API requests one token may make a minute."
    )
    api_max_json_kb: int = Field(
        256, ge=1, le=64 * 1024, description="Largest JSON body the REST API reads, in KB."
    )
    api_max_upload_mb: float = Field(
        20, gt=0, le=1024, description="Largest file upload (multipart) to the REST API, in MB."
    )

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])


class EmailSettings(BaseModel):
    """How replies by email are written."""

    quote_history: bool = Field(
        True, description="Quote the customer's last message under a reply (per reply: ctrl+f)."
    )
    quote_max_chars: int = Field(
        8000, ge=200, le=200_000, description="Longer quoted text is cut, with a note."
    )
    max_attachments_mb: float = Field(
        20, gt=0, le=200, description="Most attachments one reply may carry, in MB (all files)."
    )


DEFAULT_ACK_SUBJECT = "Re: {subject}"
DEFAULT_ACK_BODY = (
    "Hello {customer},\n\nthank you for your message. We have opened ticket #{ticket} for it "
    "and will answer as soon as we can. If you write again about it, please reply to this "
    "message or keep [#{ticket}] in the subject.\n\nThis is an automatic message."
)


class AutoreplySettings(BaseModel):
    """The automatic acknowledgement of a new ticket opened by email (off unless enabled).

    Never sent to robots (RFC 3834 Auto-Submitted, Precedence, List-Id, X-Autoreply, empty
    Return-Path, MAILER-DAEMON, noreply senders) and capped per recipient, so two robots
    cannot answer each other forever (ARCHITECTURE.md rule 9).
    """

    enabled: bool = False
    subject: str = Field(
        DEFAULT_ACK_SUBJECT,
        min_length=1,
        description="{subject}, {ticket}, {customer} are filled in; [#ticket] is added if missing.",
    )
    body: str = Field(
        DEFAULT_ACK_BODY, min_length=1, description="{customer}, {ticket}, {subject}."
    )
    per_recipient_limit: int = Field(
        3, ge=1, le=1000, description="Most automatic mails to one address per window."
    )
    per_recipient_hours: float = Field(24, gt=0, le=24 * 30, description="The cap's window.")
    max_age_hours: float = Field(
        24, gt=0, le=24 * 30, description="Mail older than this (a first sync) is not answered."
    )


class DatabaseSettings(BaseModel):
    """How the desk's database is used (``database_url`` says which one)."""

    busy_timeout_seconds: float = Field(
        60,
        ge=0,
        le=24 * 3600,
        description="How long a write waits while another process holds the desk's write lock "
        "(SQLite); then the command fails with 'the desk is busy' (exit 75).",
    )


Security = Literal["tls", "starttls", "none"]
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Secret(BaseModel):
    """Where a secret comes from: an environment variable or a command's output (PassCmd-like).

    The value itself never sits in the config file, so the file can be shown and versioned.
    """

    password_env: str | None = Field(None, description="Environment variable holding it.")
    password_command: str | None = Field(None, description="Command printing it (first line).")

    def configured(self) -> bool:
        return bool(self.password_env or self.password_command)


class SmtpSettings(Secret):
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Security = "starttls"
    username: str | None = None
    timeout_seconds: float = Field(30, gt=0, le=600)

    @model_validator(mode="after")
    def _no_plain_over_network(self) -> SmtpSettings:
        if self.security == "none" and self.host not in LOOPBACK:
            raise ValueError(f"security 'none' is refused for {self.host}; use tls or starttls")
        return self


class MailboxSettings(Secret):
    """One mailbox the desk reads (IMAP) and answers from (SMTP)."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    host: str
    port: int | None = Field(None, ge=1, le=65535, description="Default: 993 (tls), 143.")
    security: Security = "tls"
    username: str
    auth: Literal["password", "xoauth2"] = "password"
    token_command: str | None = Field(None, description="For xoauth2: prints an access token.")
    folders: list[str] = Field(default_factory=lambda: ["INBOX"], min_length=1)
    after_intake: Literal["leave", "seen", "move"] = "leave"
    move_to: str | None = None
    start_from: Literal["all", "now"] = Field(
        "all", description="First sync: every message in the folders, or only new ones."
    )
    smtp: SmtpSettings | None = None
    # After ``smtp``: pydantic validates fields in order, and the address check needs it.
    # Empty for a mailbox that is only read (no ``smtp``); a str, not None, so every reader
    # (the sender, the autoreply's "never to ourselves") takes it as it is.
    address: str = Field(
        "",
        description="The desk's address: From of replies; needed only with smtp.",
        validate_default=True,
    )
    display_name: str = ""
    max_message_mb: int = Field(50, ge=1, le=1024)
    idle: bool = True
    poll_seconds: float = Field(60, ge=5, le=3600, description="Without IDLE: how often.")
    timeout_seconds: float = Field(60, gt=0, le=600)

    @property
    def imap_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)

    @field_validator("address")
    @classmethod
    def _address_to_reply_from(cls, address: str, info: ValidationInfo) -> str:
        """Only a mailbox that answers needs an address; the error names the key itself."""
        if not address.strip() and info.data.get("smtp") is not None:
            raise PydanticCustomError(
                "address_needed",
                "required when the mailbox has [mailboxes.smtp]: replies are sent from it",
            )
        return address.strip()

    @model_validator(mode="after")
    def _consistent(self) -> MailboxSettings:
        if self.security == "none" and self.host not in LOOPBACK:
            raise ValueError(f"security 'none' is refused for {self.host}; use tls or starttls")
        if self.after_intake == "move" and not self.move_to:
            raise ValueError("after_intake 'move' needs move_to (a folder name)")
        if self.auth == "xoauth2" and not self.token_command:
            raise ValueError("auth 'xoauth2' needs token_command")
        if self.auth == "password" and not self.configured():
            raise ValueError("set password_env or password_command")
        return self


TELEGRAM_GREETING = {
    "en": "Hello! This is the {desk} service desk. Write your question here and a person will "
    "answer in this chat. /new opens a request step by step, /status lists your open requests.",
    "ru": "Здравствуйте! Это служба поддержки {desk}. Напишите свой вопрос здесь, и вам ответит "
    "человек в этом чате. /new — новая заявка по шагам, /status — ваши открытые заявки.",
}
TELEGRAM_ACKNOWLEDGEMENT = {
    "en": "Thank you, we have opened ticket #{ticket} and will answer here.",
    "ru": "Спасибо, мы открыли заявку #{ticket} и ответим здесь.",
}


class TelegramSettings(BaseModel):
    """The desk's Telegram bot (``sdesk/channels/telegram``). The token never sits in this file:
    ``token_env`` names an environment variable, ``token_command`` a command printing it."""

    token_env: str | None = Field(None, description="Environment variable holding the token.")
    token_command: str | None = Field(None, description="Command printing the token.")
    base_url: str = Field(
        "https://api.telegram.org",
        description="The Bot API server's root (a local Bot API server, a test server).",
    )
    mode: Literal["polling", "webhook"] = "polling"
    secret_token_env: str | None = Field(
        None, description="Webhook mode: environment variable holding the secret header value."
    )
    group_chats: Literal["ignore", "accept"] = "ignore"
    max_file_mb: int = Field(20, ge=1, le=2000, description="Bigger files stay a note.")
    acknowledge: bool = Field(True, description="Acknowledge a new ticket with its number.")
    categories: list[str] = Field(
        default_factory=lambda: ["Question", "Problem", "Request"],
        description="/new offers these as buttons.",
    )
    desk_name: str = Field("our", description="{desk} in the greeting.")
    greeting: dict[str, str] = Field(
        default_factory=lambda: dict(TELEGRAM_GREETING),
        description="/start's answer by language code ({desk}); 'en' is the fallback.",
    )
    acknowledgement: dict[str, str] = Field(
        default_factory=lambda: dict(TELEGRAM_ACKNOWLEDGEMENT),
        description="A new ticket's acknowledgement by language code ({ticket}).",
    )
    poll_timeout_seconds: int = Field(25, ge=0, le=50, description="getUpdates long poll.")
    timeout_seconds: float = Field(30, gt=0, le=600, description="Every other Bot API call.")

    @model_validator(mode="after")
    def _token(self) -> TelegramSettings:
        if not (self.token_env or self.token_command):
            raise ValueError("set token_env or token_command")
        if not self.categories:
            raise ValueError("categories: name at least one")
        return self

    def token_secret(self) -> Secret:
        return Secret(password_env=self.token_env, password_command=self.token_command)

    def text(self, texts: dict[str, str], language: str | None) -> str:
        """The text for a user's ``language_code`` ("ru-RU" → "ru"), else English."""
        code = (language or "").split("-")[0].lower()
        return texts.get(code) or texts.get("en") or next(iter(texts.values()), "")


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
    database: DatabaseSettings = DatabaseSettings()
    sla: SLAPolicy = SLAPolicy()
    canned: list[CannedResponse] = Field(default_factory=lambda: list(DEFAULT_CANNED))
    console: ConsoleSettings = ConsoleSettings()
    telephony: TelephonySettings = TelephonySettings()
    email: EmailSettings = EmailSettings()
    autoreply: AutoreplySettings = AutoreplySettings()
    mailboxes: list[MailboxSettings] = Field(default_factory=list)
    telegram: TelegramSettings | None = None
    http: HttpSettings | None = None
    alerts: AlertSettings = AlertSettings()
    notify: NotifySettings = NotifySettings()

    @model_validator(mode="after")
    def _unique_mailboxes(self) -> Settings:
        names = [m.name for m in self.mailboxes]
        if len(names) != len(set(names)):
            raise ValueError("two mailboxes have the same name")
        return self

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
        except OSError as exc:  # a folder, no permission
            raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from None
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
