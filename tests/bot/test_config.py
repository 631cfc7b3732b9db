from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)

    settings = Settings()

    assert settings.effective_database_url == "sqlite://var/stampbot.sqlite3"
    assert settings.is_sqlite
    assert settings.redis_url is None
    assert (settings.web_host, settings.web_port) == ("127.0.0.1", 8080)


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
    assert settings.bot_username == "cafe_bot"
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == "123:from-dotenv"


def test_secrets_never_appear_in_reprs_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("STAMPBOT_BOT_TOKEN", "123:very-secret")
    monkeypatch.setenv("STAMPBOT_WEBHOOK_SECRET", "hook-secret")

    settings = Settings()
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings: %s", settings)

    for text in (repr(settings), str(settings), caplog.text, settings.model_dump_json()):
        assert "very-secret" not in text
        assert "hook-secret" not in text


@pytest.mark.parametrize(
    ("name", "value"),
    [("STAMPBOT_DEFAULT_TIMEZONE", "Nowhere/City"), ("STAMPBOT_WEB_PORT", "70000")],
)
def test_bad_settings_fail_loudly(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError):
        Settings()
