"""Settings read from ``STAMPBOT_*`` environment variables or a ``.env`` file.

One sub-model per concern, so each builder receives the part it needs (``settings.smtp``,
``settings.apple_wallet``) rather than fields copied one by one. Every concern is its own
``BaseSettings`` with its own ``env_prefix``; a field whose variable does not share that prefix
names it with ``validation_alias``. The variable names are the flat ones stampbot always had
(``STAMPBOT_SMTP_HOST``, ``STAMPBOT_BOT_TOKEN``): deployments keep their environment as it is.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_VAR_DIR = Path("var")
PREFIX = "STAMPBOT_"


class _Concern(BaseSettings):
    """What every part of the settings shares: the prefix, the ``.env`` file, and that code
    and tests pass fields by name while the environment uses the aliases."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        # Each part reads the one .env, which holds every other part's variables too.
        extra="ignore",
        validate_by_name=True,
    )

    def __init__(self, **values: Any) -> None:
        # extra="ignore" is for the environment; a name passed here that no field has is a
        # mistake (a setting moved to its part: Settings(web={"port": 8443}), not web_port).
        fields = type(self).model_fields
        unknown = sorted(key for key in values if not key.startswith("_") and key not in fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(unknown)}")
        # Pydantic validates a dict into a nested model without calling its __init__, which is
        # where a BaseSettings reads the environment: build the parts here, with the same
        # choice of .env file.
        options = {key: values[key] for key in ("_env_file",) if key in values}
        for name, field in fields.items():
            part = field.annotation
            if not (isinstance(part, type) and issubclass(part, _Concern)):
                continue
            given = values.get(name)
            if given is None:
                values[name] = part(**options)
            elif isinstance(given, dict):
                values[name] = part(**options, **given)
        super().__init__(**values)


class DatabaseSettings(_Concern, env_prefix="STAMPBOT_DATABASE_"):
    # Empty: the embedded SQLite file under var_dir (see Settings.effective_database_url).
    url: str = ""


class RedisSettings(_Concern, env_prefix="STAMPBOT_REDIS_"):
    # Conversation state (FSM), shared limits and the file-id cache across processes.
    url: str | None = None


class TelegramSettings(_Concern, env_prefix="STAMPBOT_TELEGRAM_"):
    token: SecretStr | None = Field(default=None, validation_alias="STAMPBOT_BOT_TOKEN")
    # Only without a token (the offline demo): with one, Telegram's getMe names the bot.
    username: str = Field(default="stampbot_demo_bot", validation_alias="STAMPBOT_BOT_USERNAME")
    api_url: str | None = None
    # Replies to people: a 429 "retry after N s" is waited out (N at most this many seconds)
    # and sent again up to this many times. 0 attempts: raise at once. Campaigns go through the
    # outbox's own rescheduling instead.
    retry_max_seconds: float = Field(default=10.0, ge=0, le=60)
    retry_attempts: int = Field(default=2, ge=0, le=10)
    # Telegram user ids of the people who run this deployment: they may create shops from the
    # chat (/newshop). To everyone else that command is unknown.
    operators: Annotated[list[int], NoDecode] = Field(
        default_factory=list, validation_alias="STAMPBOT_OPERATORS"
    )

    @field_validator("operators", mode="before")
    @classmethod
    def _operator_ids(cls, value: object) -> object:
        # "123, 456" in the environment; a list when given in code.
        if isinstance(value, str):
            return [part for part in re.split(r"[\s,]+", value.strip()) if part]
        return value

    @field_validator("username")
    @classmethod
    def _bot_username(cls, value: str) -> str:
        value = value.removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", value):
            raise ValueError(f"not a Telegram bot username: {value!r}")
        return value


class WebSettings(_Concern, env_prefix="STAMPBOT_WEB_"):
    """The web app, and the links in messages that point at it."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = Field(default=None, validation_alias="STAMPBOT_PUBLIC_URL")
    webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="STAMPBOT_WEBHOOK_SECRET"
    )
    # Signs the links in messages (open, click, unsubscribe, confirm email). Unset: a random key
    # kept in var/signing.key, so links stay valid across restarts of the embedded default.
    signing_key: SecretStr | None = Field(default=None, validation_alias="STAMPBOT_SIGNING_KEY")

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for secret_token; the value itself stays out of the message.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @property
    def base_url(self) -> str:
        """Where people's browsers reach the web app (links in emails and messages)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"


class DeliverySettings(_Concern, env_prefix="STAMPBOT_DELIVERY_"):
    """The delivery engine (outbox workers)."""

    telegram_per_second: float = Field(
        default=30.0, gt=0, le=1000, validation_alias="STAMPBOT_TELEGRAM_PER_SECOND"
    )
    # Rows per claim. Unset: about 1.5 seconds of sending at ``telegram_per_second``, between
    # 10 and 100 (``campaigns.worker.batch_for_rate``), because a claimed batch is what is
    # queued ahead of the next claim: 100 at 30/s held a small shop's campaign 3.3 s behind a
    # big one's rows, while at 1,000/s 100 is a tenth of a second.
    batch_size: int | None = Field(default=None, ge=1, le=5000)
    lease_seconds: int = Field(default=120, ge=1)
    concurrency: int = Field(default=64, ge=1, le=2000)
    # A worker serves /healthz and /metrics on this port (of the web host) when set; each
    # worker on a machine needs its own.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)

    @field_validator("metrics_port", "batch_size", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        # ``STAMPBOT_DELIVERY_METRICS_PORT=`` (as .env.example has it) means "no port", and an
        # empty batch size the one that follows the Telegram rate.
        return None if value == "" else value


class CampaignSettings(_Concern):
    # Characters of a campaign's lock-screen line (wallet push); phones cut longer text.
    push_text_limit: int = Field(default=20, ge=1, le=200)
    # How often the admin's progress message of a sending campaign is edited.
    progress_interval_seconds: float = Field(default=3.0, gt=0, le=60)


class SmtpSettings(_Concern, env_prefix="STAMPBOT_SMTP_"):
    # No host: emails are written as .eml files into var/mail instead.
    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    tls: bool = False
    # Connections kept open to the server; each carries one message at a time.
    pool_size: int = Field(default=8, ge=1, le=100)
    # An idle connection older than this is replaced rather than reused.
    idle_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Messages per connection before it is closed and replaced (servers cap it).
    messages_per_connection: int = Field(default=100, ge=1, le=100_000)
    # After a 421 (the server closing): reconnect and resend this many times, waiting this
    # long first and twice as long each further time, before the delivery engine retries.
    reconnect_attempts: int = Field(default=3, ge=0, le=10)
    reconnect_backoff_seconds: float = Field(default=1.0, ge=0, le=60)


class MailSettings(_Concern, env_prefix="STAMPBOT_EMAIL_"):
    """What every email says about itself, and the limits of address confirmation."""

    from_address: str = Field(default="stampbot@localhost", validation_alias="STAMPBOT_MAIL_FROM")
    # Where replies go; also offered as a mailto: unsubscribe. Empty: no Reply-To.
    reply_to: str | None = Field(default=None, validation_alias="STAMPBOT_MAIL_REPLY_TO")
    # The 1x1 open-tracking image in campaign emails (opens are then counted from it).
    open_tracking: bool = True
    # Email confirmation: one mail per address per this many seconds, this many per customer
    # a day, and how long a confirmation link works.
    confirm_address_interval_seconds: int = Field(default=600, ge=1)
    confirm_daily_limit: int = Field(default=5, ge=1, le=1000)
    confirm_ttl_days: int = Field(default=7, ge=1, le=365)


class DkimSettings(_Concern, env_prefix="STAMPBOT_DKIM_"):
    """DKIM signing of every email (SMTP and mailbox alike): off unless all three are set. The
    private key file is a secret; `stampbot dkim` prints the DNS TXT record to publish."""

    domain: str | None = None
    selector: str | None = None
    key_path: Path | None = None


class ApnsSettings(_Concern, env_prefix="STAMPBOT_APNS_"):
    """APNs token auth for Wallet pass pushes: off unless key id, team id and the .p8 key (as
    PEM text or a file path) are all set. host/port/CA file point tests at a loopback fake."""

    key_id: str | None = None
    team_id: str | None = None
    key: SecretStr | None = None
    key_path: Path | None = None
    host: str = "api.push.apple.com"
    port: int = Field(default=443, ge=1, le=65535)
    ca_file: Path | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)


class AppleWalletSettings(_Concern, env_prefix="STAMPBOT_APPLE_"):
    """Apple Wallet passes. Without certificate files a demo CA, WWDR-like intermediate and
    pass-type certificate are made once under var/apple_wallet/ (passes verify, but no iPhone
    trusts them)."""

    pass_type_id: str = "pass.dev.stampbot.demo"
    team_id: str = "DEMOTEAM00"
    pass_cert_path: Path | None = None
    pass_key_path: Path | None = None
    pass_key_password: SecretStr | None = None
    wwdr_cert_path: Path | None = None
    # Where built .pkpass files are written (default var/passes/).
    passes_dir: Path | None = None

    @field_validator("pass_type_id")
    @classmethod
    def _pass_type_id(cls, value: str) -> str:
        # Apple's form: reverse-DNS starting with "pass."; it also lands in URLs and file names.
        if not re.fullmatch(r"pass\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", value):
            raise ValueError(f"not a pass type identifier: {value!r}")
        return value

    @field_validator("team_id")
    @classmethod
    def _team_id(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z0-9]{10}", value):
            raise ValueError(f"an Apple team identifier is 10 letters or digits: {value!r}")
        return value


class GoogleWalletSettings(_Concern, env_prefix="STAMPBOT_GOOGLE_WALLET_"):
    """Google Wallet: off unless both the issuer id and the service-account JSON key file are
    set. The API and token URLs point tests at a loopback fake (token URL: the key's
    token_uri)."""

    issuer_id: str | None = None
    key_file: Path | None = None
    api_url: str = "https://walletobjects.googleapis.com/walletobjects/v1"
    token_url: str | None = None
    # Google's documented limit of the Wallet API, shared by every process through Redis.
    requests_per_second: float = Field(default=20.0, gt=0, le=1000)


class ViberSettings(_Concern, env_prefix="STAMPBOT_VIBER_"):
    """The shared Viber bot: off unless its auth token (from the Viber admin panel) is set.

    ``uri`` is the bot's chat URI, for join links ``viber://pa?chatURI=<uri>&context=…``;
    ``name`` and ``avatar`` the sender every message names (Viber requires a name, ≤ 28
    characters). ``broadcast`` uses ``broadcast_message`` for campaigns, which Viber opens
    only on application. ``api_url`` points tests and the demo at a loopback fake."""

    auth_token: SecretStr | None = None
    uri: str = ""
    name: str = Field(default="stampbot", min_length=1, max_length=28)
    avatar: str = ""
    broadcast: bool = False
    api_url: str = "https://chatapi.viber.com/pa/"
    # Viber documents 500 broadcast requests per 10 seconds; 2% spare.
    per_second: float = Field(default=49.0, gt=0, le=1000)

    @property
    def enabled(self) -> bool:
        return self.auth_token is not None and bool(self.auth_token.get_secret_value())


class WhatsAppSettings(_Concern, env_prefix="STAMPBOT_WHATSAPP_"):
    """The shared WhatsApp Business number (Cloud API): off unless its access token and phone
    number id are set. ``number`` is the number people write to, for join links
    ``https://wa.me/<number>?text=<code>``; ``app_secret`` signs Meta's webhooks and
    ``verify_token`` answers the webhook's set-up handshake (both secrets, never logged)."""

    access_token: SecretStr | None = None
    phone_number_id: str = ""
    number: str = ""
    app_secret: SecretStr | None = None
    verify_token: SecretStr | None = None
    api_url: str = "https://graph.facebook.com/"
    api_version: str = Field(default="v21.0", pattern=r"^v\d+\.\d+$")
    # Meta's default throughput for a business number is 80 messages a second; 5% spare
    # (channels.whatsapp.channel says why).
    per_second: float = Field(default=76.0, gt=0, le=1000)

    @property
    def enabled(self) -> bool:
        return (
            self.access_token is not None
            and bool(self.access_token.get_secret_value())
            and bool(self.phone_number_id)
        )


class ShopSettings(_Concern):
    """Defaults for new shops and cards, and for customers whose language we do not speak."""

    default_language: str = "en"
    default_timezone: str = "UTC"
    stamp_cooldown_seconds: int = Field(default=300, ge=0)
    max_stamps_per_call: int = Field(default=5, ge=1, le=100)
    staff_invite_ttl_hours: int = Field(default=72, ge=1)

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class FloodSettings(_Concern, env_prefix="STAMPBOT_FLOOD_"):
    """Flood control per person writing to the bot: updates per second and the burst above."""

    per_second: float = Field(default=1.0, gt=0)
    burst: int = Field(default=5, ge=1)


class Settings(_Concern):
    """All of stampbot's settings: the process-wide ones here, the rest one part per concern.

    ``Settings()`` reads every part from the environment and ``.env``. A part given as a dict
    (``Settings(web={"port": 8443})``) still reads the environment for its other fields, as a
    part left out does; ``_env_file`` applies to every part.
    """

    var_dir: Path = DEFAULT_VAR_DIR
    log_level: str = "INFO"

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    campaigns: CampaignSettings = Field(default_factory=CampaignSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    email: MailSettings = Field(default_factory=MailSettings)
    dkim: DkimSettings = Field(default_factory=DkimSettings)
    apns: ApnsSettings = Field(default_factory=ApnsSettings)
    apple_wallet: AppleWalletSettings = Field(default_factory=AppleWalletSettings)
    google_wallet: GoogleWalletSettings = Field(default_factory=GoogleWalletSettings)
    viber: ViberSettings = Field(default_factory=ViberSettings)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    shops: ShopSettings = Field(default_factory=ShopSettings)
    flood: FloodSettings = Field(default_factory=FloodSettings)

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under ``var_dir``."""
        if self.database.url:
            return self.database.url
        return f"sqlite://{self.var_dir / 'stampbot.sqlite3'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite://")

    @property
    def apple_wallet_dir(self) -> Path:
        """Demo signing material for Apple Wallet passes."""
        return self.var_dir / "apple_wallet"

    @property
    def effective_apple_passes_dir(self) -> Path:
        return self.apple_wallet.passes_dir or self.var_dir / "passes"


@cache
def concerns() -> dict[str, type[_Concern]]:
    """The parts of :class:`Settings` by attribute name."""
    parts: dict[str, type[_Concern]] = {}
    for name, field in Settings.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, _Concern):
            parts[name] = kind
    return parts


def env_names() -> dict[str, str]:
    """Every ``STAMPBOT_*`` variable stampbot reads and the attribute it sets
    (``"STAMPBOT_SMTP_HOST": "smtp.host"``), as pydantic-settings looks them up: the alias,
    else the part's prefix and the field name."""
    names = {}
    for name in Settings.model_fields:
        part = concerns().get(name)
        if part is None:
            names[_env_name(Settings, name)] = name
            continue
        for field_name in part.model_fields:
            names[_env_name(part, field_name)] = f"{name}.{field_name}"
    return names


def _env_name(model: type[_Concern], field_name: str) -> str:
    alias = model.model_fields[field_name].validation_alias
    if isinstance(alias, str):
        return alias.upper()
    return f"{model.model_config.get('env_prefix', '')}{field_name}".upper()
