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
    # Only without a token (the offline demo): with one, Telegram's getMe names the bot.
    bot_username: str = "stampbot_demo_bot"
    telegram_api_url: str | None = None
    public_url: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    # Signs the links in messages (open, click, unsubscribe, confirm email). Unset: a random key
    # kept in var/signing.key, so links stay valid across restarts of the embedded default.
    signing_key: SecretStr | None = None

    # Replies to people: a 429 "retry after N s" is waited out (N at most this many seconds)
    # and sent again up to this many times. 0 attempts: raise at once. Campaigns go through the
    # outbox's own rescheduling instead.
    telegram_retry_max_seconds: float = Field(default=10.0, ge=0, le=60)
    telegram_retry_attempts: int = Field(default=2, ge=0, le=10)

    # Delivery engine.
    telegram_per_second: float = Field(default=30.0, gt=0, le=1000)
    # Characters of a campaign's lock-screen line (wallet push); phones cut longer text.
    push_text_limit: int = Field(default=20, ge=1, le=200)
    # How often the admin's progress message of a sending campaign is edited.
    progress_interval_seconds: float = Field(default=3.0, gt=0, le=60)
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
    # Where replies go; also offered as a mailto: unsubscribe. Empty: no Reply-To.
    mail_reply_to: str | None = None
    # DKIM signing of every email (SMTP and mailbox alike): off unless all three are set. The
    # private key file is a secret; `stampbot dkim` prints the DNS TXT record to publish.
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    dkim_key_path: Path | None = None
    # The 1x1 open-tracking image in campaign emails (opens are then counted from it).
    email_open_tracking: bool = True
    # Email confirmation: one mail per address per this many seconds, this many per customer
    # a day, and how long a confirmation link works.
    email_confirm_address_interval_seconds: int = Field(default=600, ge=1)
    email_confirm_daily_limit: int = Field(default=5, ge=1, le=1000)
    email_confirm_ttl_days: int = Field(default=7, ge=1, le=365)

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

    # Apple Wallet. Without certificate files a demo CA, WWDR-like intermediate and pass-type
    # certificate are made once under var/apple_wallet/ (passes verify, but no iPhone trusts them).
    apple_pass_type_id: str = "pass.dev.stampbot.demo"
    apple_team_id: str = "DEMOTEAM00"
    apple_pass_cert_path: Path | None = None
    apple_pass_key_path: Path | None = None
    apple_pass_key_password: SecretStr | None = None
    apple_wwdr_cert_path: Path | None = None
    # Where built .pkpass files are written (default var/passes/).
    apple_passes_dir: Path | None = None

    # Google Wallet: off unless both the issuer id and the service-account JSON key file are
    # set. The API and token URLs point tests at a loopback fake (token URL: the key's token_uri).
    google_wallet_issuer_id: str | None = None
    google_wallet_key_file: Path | None = None
    google_wallet_api_url: str = "https://walletobjects.googleapis.com/walletobjects/v1"
    google_wallet_token_url: str | None = None

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

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for secret_token; the value itself stays out of the message.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @field_validator("apple_pass_type_id")
    @classmethod
    def _pass_type_id(cls, value: str) -> str:
        # Apple's form: reverse-DNS starting with "pass."; it also lands in URLs and file names.
        if not re.fullmatch(r"pass\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", value):
            raise ValueError(f"not a pass type identifier: {value!r}")
        return value

    @field_validator("apple_team_id")
    @classmethod
    def _team_id(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z0-9]{10}", value):
            raise ValueError(f"an Apple team identifier is 10 letters or digits: {value!r}")
        return value

    @property
    def apple_wallet_dir(self) -> Path:
        """Demo signing material for Apple Wallet passes."""
        return self.var_dir / "apple_wallet"

    @property
    def effective_apple_passes_dir(self) -> Path:
        return self.apple_passes_dir or self.var_dir / "passes"

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
