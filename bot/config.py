"""Settings read from ``STAMPBOT_*`` environment variables or a ``.env`` file."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STAMPBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    var_dir: Path = DEFAULT_VAR_DIR
    database_url: str = ""
    redis_url: str | None = None

    bot_token: SecretStr | None = None
    bot_username: str = "stampbot_demo_bot"
    telegram_api_url: str | None = None
    public_url: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    # Signs the links in messages (open, click, unsubscribe, confirm email). Unset: a random key
    # kept in var/signing.key, so links stay valid across restarts of the embedded default.
    signing_key: SecretStr | None = None

    # Delivery engine.
    telegram_per_second: float = Field(default=30.0, gt=0, le=1000)
    delivery_batch_size: int = Field(default=100, ge=1, le=5000)
    delivery_lease_seconds: int = Field(default=120, ge=1)
    delivery_concurrency: int = Field(default=64, ge=1, le=2000)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_tls: bool = False
    mail_from: str = "stampbot@localhost"

    # Google Wallet: off unless both the issuer id and the service-account JSON key file are
    # set. The API and token URLs point tests at a loopback fake (token URL: the key's token_uri).
    google_wallet_issuer_id: str | None = None
    google_wallet_key_file: Path | None = None
    google_wallet_api_url: str = "https://walletobjects.googleapis.com/walletobjects/v1"
    google_wallet_token_url: str | None = None

    # APNs token auth for Wallet pass pushes: off unless key id, team id and the .p8 key (as
    # PEM text or a file path) are all set. host/port/CA file point tests at a loopback fake.
    apns_key_id: str | None = None
    apns_team_id: str | None = None
    apns_key: SecretStr | None = None
    apns_key_path: Path | None = None
    apns_host: str = "api.push.apple.com"
    apns_port: int = Field(default=443, ge=1, le=65535)
    apns_ca_file: Path | None = None
    apns_timeout_seconds: float = Field(default=10.0, gt=0)

    default_language: str = "en"
    default_timezone: str = "UTC"
    stamp_cooldown_seconds: int = Field(default=300, ge=0)
    max_stamps_per_call: int = Field(default=5, ge=1, le=100)
    staff_invite_ttl_hours: int = Field(default=72, ge=1)
    flood_per_second: float = Field(default=1.0, gt=0)
    flood_burst: int = Field(default=5, ge=1)
    log_level: str = "INFO"

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("bot_username")
    @classmethod
    def _bot_username(cls, value: str) -> str:
        value = value.removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", value):
            raise ValueError(f"not a Telegram bot username: {value!r}")
        return value

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under ``var_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite://{self.var_dir / 'stampbot.sqlite3'}"

    @property
    def base_url(self) -> str:
        """Where people's browsers reach the web app (links in emails and messages)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.web_host}:{self.web_port}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite://")
