from __future__ import annotations

from operator import attrgetter
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from bot.config import Settings, env_names


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)

    settings = Settings()

    assert settings.effective_database_url == "sqlite://var/stampbot.sqlite3"
    assert settings.is_sqlite
    assert settings.redis.url is None
    assert (settings.web.host, settings.web.port) == ("127.0.0.1", 8080)


def test_environment_and_dotenv_are_read_with_the_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "STAMPBOT_BOT_TOKEN=123:from-dotenv\nSTAMPBOT_BOT_USERNAME=@cafe_bot\n"
    )
    monkeypatch.setenv("STAMPBOT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop")

    settings = Settings()

    assert settings.effective_database_url == "postgres://postgres@127.0.0.1:5432/shop"
    assert not settings.is_sqlite
    assert settings.telegram.username == "cafe_bot"
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "123:from-dotenv"


# Every variable stampbot read when its settings were one flat model, with a value unlike the
# default and the attribute it now sets: deployments keep their environment as it is. The ones
# added since (Viber's and WhatsApp's, at the end) are here too, so the list stays the whole of it.
OLD_NAMES: dict[str, tuple[str, str, Any]] = {
    "STAMPBOT_VAR_DIR": ("var_dir", "/srv/stampbot", Path("/srv/stampbot")),
    "STAMPBOT_DATABASE_URL": ("database.url", "postgres://db/shop", "postgres://db/shop"),
    "STAMPBOT_REDIS_URL": ("redis.url", "redis://cache:6379/1", "redis://cache:6379/1"),
    "STAMPBOT_BOT_TOKEN": ("telegram.token", "123:token", "123:token"),
    "STAMPBOT_BOT_USERNAME": ("telegram.username", "kafe_bot", "kafe_bot"),
    "STAMPBOT_TELEGRAM_API_URL": ("telegram.api_url", "http://botapi:8081", "http://botapi:8081"),
    "STAMPBOT_PUBLIC_URL": ("web.public_url", "https://kafe.example", "https://kafe.example"),
    "STAMPBOT_WEB_HOST": ("web.host", "0.0.0.0", "0.0.0.0"),  # noqa: S104 - a value, not a bind
    "STAMPBOT_WEB_PORT": ("web.port", "8443", 8443),
    "STAMPBOT_WEBHOOK_SECRET": ("web.webhook_secret", "hook-secret", "hook-secret"),
    "STAMPBOT_SIGNING_KEY": ("web.signing_key", "k" * 40, "k" * 40),
    "STAMPBOT_TELEGRAM_RETRY_MAX_SECONDS": ("telegram.retry_max_seconds", "4.5", 4.5),
    "STAMPBOT_TELEGRAM_RETRY_ATTEMPTS": ("telegram.retry_attempts", "7", 7),
    "STAMPBOT_OPERATORS": ("telegram.operators", "123, 456", [123, 456]),
    "STAMPBOT_TELEGRAM_PER_SECOND": ("delivery.telegram_per_second", "900", 900.0),
    "STAMPBOT_PUSH_TEXT_LIMIT": ("campaigns.push_text_limit", "33", 33),
    "STAMPBOT_PROGRESS_INTERVAL_SECONDS": ("campaigns.progress_interval_seconds", "1.5", 1.5),
    "STAMPBOT_DELIVERY_BATCH_SIZE": ("delivery.batch_size", "250", 250),
    "STAMPBOT_DELIVERY_LEASE_SECONDS": ("delivery.lease_seconds", "45", 45),
    "STAMPBOT_DELIVERY_CONCURRENCY": ("delivery.concurrency", "8", 8),
    "STAMPBOT_DELIVERY_METRICS_PORT": ("delivery.metrics_port", "9101", 9101),
    "STAMPBOT_SMTP_HOST": ("smtp.host", "smtp.kafe.example", "smtp.kafe.example"),
    "STAMPBOT_SMTP_PORT": ("smtp.port", "465", 465),
    "STAMPBOT_SMTP_USERNAME": ("smtp.username", "mailer", "mailer"),
    "STAMPBOT_SMTP_PASSWORD": ("smtp.password", "smtp-secret", "smtp-secret"),
    "STAMPBOT_SMTP_STARTTLS": ("smtp.starttls", "false", False),
    "STAMPBOT_SMTP_TLS": ("smtp.tls", "true", True),
    "STAMPBOT_SMTP_POOL_SIZE": ("smtp.pool_size", "12", 12),
    "STAMPBOT_SMTP_IDLE_SECONDS": ("smtp.idle_seconds", "45", 45.0),
    "STAMPBOT_SMTP_MESSAGES_PER_CONNECTION": ("smtp.messages_per_connection", "50", 50),
    "STAMPBOT_SMTP_RECONNECT_ATTEMPTS": ("smtp.reconnect_attempts", "5", 5),
    "STAMPBOT_SMTP_RECONNECT_BACKOFF_SECONDS": ("smtp.reconnect_backoff_seconds", "0.5", 0.5),
    "STAMPBOT_MAIL_FROM": ("email.from_address", "news@kafe.example", "news@kafe.example"),
    "STAMPBOT_MAIL_REPLY_TO": ("email.reply_to", "hello@kafe.example", "hello@kafe.example"),
    "STAMPBOT_DKIM_DOMAIN": ("dkim.domain", "kafe.example", "kafe.example"),
    "STAMPBOT_DKIM_SELECTOR": ("dkim.selector", "s2026", "s2026"),
    "STAMPBOT_DKIM_KEY_PATH": ("dkim.key_path", "/keys/dkim.pem", Path("/keys/dkim.pem")),
    "STAMPBOT_EMAIL_OPEN_TRACKING": ("email.open_tracking", "false", False),
    "STAMPBOT_EMAIL_CONFIRM_ADDRESS_INTERVAL_SECONDS": (
        "email.confirm_address_interval_seconds",
        "90",
        90,
    ),
    "STAMPBOT_EMAIL_CONFIRM_DAILY_LIMIT": ("email.confirm_daily_limit", "3", 3),
    "STAMPBOT_EMAIL_CONFIRM_TTL_DAYS": ("email.confirm_ttl_days", "2", 2),
    "STAMPBOT_APNS_KEY_ID": ("apns.key_id", "KEY1234567", "KEY1234567"),
    "STAMPBOT_APNS_TEAM_ID": ("apns.team_id", "TEAM123456", "TEAM123456"),
    "STAMPBOT_APNS_KEY": (
        "apns.key",
        "-----BEGIN PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----",
    ),
    "STAMPBOT_APNS_KEY_PATH": ("apns.key_path", "/keys/apns.p8", Path("/keys/apns.p8")),
    "STAMPBOT_APNS_HOST": ("apns.host", "127.0.0.1", "127.0.0.1"),
    "STAMPBOT_APNS_PORT": ("apns.port", "2197", 2197),
    "STAMPBOT_APNS_CA_FILE": ("apns.ca_file", "/keys/ca.pem", Path("/keys/ca.pem")),
    "STAMPBOT_APNS_TIMEOUT_SECONDS": ("apns.timeout_seconds", "2.5", 2.5),
    "STAMPBOT_APPLE_PASS_TYPE_ID": (
        "apple_wallet.pass_type_id",
        "pass.example.kafe",
        "pass.example.kafe",
    ),
    "STAMPBOT_APPLE_TEAM_ID": ("apple_wallet.team_id", "ABCDE12345", "ABCDE12345"),
    "STAMPBOT_APPLE_PASS_CERT_PATH": (
        "apple_wallet.pass_cert_path",
        "/keys/pass.pem",
        Path("/keys/pass.pem"),
    ),
    "STAMPBOT_APPLE_PASS_KEY_PATH": (
        "apple_wallet.pass_key_path",
        "/keys/pass.key",
        Path("/keys/pass.key"),
    ),
    "STAMPBOT_APPLE_PASS_KEY_PASSWORD": ("apple_wallet.pass_key_password", "pw", "pw"),
    "STAMPBOT_APPLE_WWDR_CERT_PATH": (
        "apple_wallet.wwdr_cert_path",
        "/keys/wwdr.pem",
        Path("/keys/wwdr.pem"),
    ),
    "STAMPBOT_APPLE_PASSES_DIR": ("apple_wallet.passes_dir", "/srv/passes", Path("/srv/passes")),
    "STAMPBOT_GOOGLE_WALLET_ISSUER_ID": ("google_wallet.issuer_id", "3388000000", "3388000000"),
    "STAMPBOT_GOOGLE_WALLET_KEY_FILE": (
        "google_wallet.key_file",
        "/keys/google.json",
        Path("/keys/google.json"),
    ),
    "STAMPBOT_GOOGLE_WALLET_API_URL": (
        "google_wallet.api_url",
        "http://127.0.0.1:9/v1",
        "http://127.0.0.1:9/v1",
    ),
    "STAMPBOT_GOOGLE_WALLET_TOKEN_URL": (
        "google_wallet.token_url",
        "http://127.0.0.1:9/token",
        "http://127.0.0.1:9/token",
    ),
    "STAMPBOT_GOOGLE_WALLET_REQUESTS_PER_SECOND": (
        "google_wallet.requests_per_second",
        "10",
        10.0,
    ),
    "STAMPBOT_DEFAULT_LANGUAGE": ("shops.default_language", "uk", "uk"),
    "STAMPBOT_DEFAULT_TIMEZONE": ("shops.default_timezone", "Europe/Kyiv", "Europe/Kyiv"),
    "STAMPBOT_STAMP_COOLDOWN_SECONDS": ("shops.stamp_cooldown_seconds", "60", 60),
    "STAMPBOT_MAX_STAMPS_PER_CALL": ("shops.max_stamps_per_call", "9", 9),
    "STAMPBOT_STAFF_INVITE_TTL_HOURS": ("shops.staff_invite_ttl_hours", "12", 12),
    "STAMPBOT_FLOOD_PER_SECOND": ("flood.per_second", "2.5", 2.5),
    "STAMPBOT_FLOOD_BURST": ("flood.burst", "11", 11),
    "STAMPBOT_LOG_LEVEL": ("log_level", "DEBUG", "DEBUG"),
    "STAMPBOT_VIBER_AUTH_TOKEN": ("viber.auth_token", "445da6az1s345z78", "445da6az1s345z78"),
    "STAMPBOT_VIBER_URI": ("viber.uri", "kafelviv", "kafelviv"),
    "STAMPBOT_VIBER_NAME": ("viber.name", "Кафе Львів", "Кафе Львів"),
    "STAMPBOT_VIBER_AVATAR": (
        "viber.avatar",
        "https://k.example/a.jpg",
        "https://k.example/a.jpg",
    ),
    "STAMPBOT_VIBER_BROADCAST": ("viber.broadcast", "true", True),
    "STAMPBOT_VIBER_API_URL": ("viber.api_url", "http://viber:9000/pa/", "http://viber:9000/pa/"),
    "STAMPBOT_VIBER_PER_SECOND": ("viber.per_second", "20", 20.0),
    "STAMPBOT_WHATSAPP_ACCESS_TOKEN": ("whatsapp.access_token", "EAAG-token", "EAAG-token"),
    "STAMPBOT_WHATSAPP_PHONE_NUMBER_ID": ("whatsapp.phone_number_id", "1065403", "1065403"),
    "STAMPBOT_WHATSAPP_NUMBER": ("whatsapp.number", "972501234567", "972501234567"),
    "STAMPBOT_WHATSAPP_APP_SECRET": ("whatsapp.app_secret", "app-secret", "app-secret"),
    "STAMPBOT_WHATSAPP_VERIFY_TOKEN": ("whatsapp.verify_token", "verify-me", "verify-me"),
    "STAMPBOT_WHATSAPP_API_URL": ("whatsapp.api_url", "http://wa:9000/", "http://wa:9000/"),
    "STAMPBOT_WHATSAPP_API_VERSION": ("whatsapp.api_version", "v22.0", "v22.0"),
    "STAMPBOT_WHATSAPP_PER_SECOND": ("whatsapp.per_second", "40", 40.0),
}


def _plain(value: object) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def test_the_old_names_are_all_there_is() -> None:
    assert len(OLD_NAMES) == 84
    assert env_names() == {name: path for name, (path, _, _) in OLD_NAMES.items()}


@pytest.mark.parametrize("source", ["environment", "dotenv"])
def test_every_old_variable_still_sets_its_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in OLD_NAMES:
        monkeypatch.delenv(name, raising=False)
    defaults = Settings()
    if source == "environment":
        for name, (_, raw, _) in OLD_NAMES.items():
            monkeypatch.setenv(name, raw)
    else:
        (tmp_path / ".env").write_text(
            "".join(f"{n}={raw}\n" for n, (_, raw, _) in OLD_NAMES.items())
        )

    settings = Settings()

    for name, (path, _, expected) in OLD_NAMES.items():
        read = attrgetter(path)
        assert _plain(read(defaults)) != expected, f"{name}: pick a value unlike the default"
        assert _plain(read(settings)) == expected, name


def test_a_part_given_in_code_still_reads_the_environment_for_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STAMPBOT_WEB_HOST", "0.0.0.0")  # noqa: S104 - a value, not a bind
    monkeypatch.setenv("STAMPBOT_PUBLIC_URL", "https://kafe.example/")

    settings = Settings(web={"port": 8443})

    assert (settings.web.host, settings.web.port) == ("0.0.0.0", 8443)  # noqa: S104
    assert settings.web.base_url == "https://kafe.example"


def test_a_setting_passed_by_its_old_flat_name_is_refused() -> None:
    with pytest.raises(TypeError, match="Settings has no setting bot_token"):
        Settings(bot_token="123:token")
    with pytest.raises(TypeError, match="WebSettings has no setting web_port"):
        Settings(web={"web_port": 8443})


@pytest.mark.parametrize(
    ("name", "value"),
    [("STAMPBOT_DEFAULT_TIMEZONE", "Nowhere/City"), ("STAMPBOT_WEB_PORT", "70000")],
)
def test_bad_settings_fail_loudly(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError):
        Settings()


def test_an_empty_metrics_port_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAMPBOT_DELIVERY_METRICS_PORT", "")
    assert Settings().delivery.metrics_port is None
    monkeypatch.setenv("STAMPBOT_DELIVERY_METRICS_PORT", "9101")
    assert Settings().delivery.metrics_port == 9101
