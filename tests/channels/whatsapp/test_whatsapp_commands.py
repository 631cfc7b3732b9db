"""A number's commands and prompts (Meta's conversational components): the client sets them,
the fake takes what Meta takes and refuses the rest with Meta's own error text, and the list
we send is emoji-free in every language."""

from __future__ import annotations

import logging

import pytest
from aiogram.utils.i18n import I18n

from bot.whatsapp_commands import WHATSAPP_COMMANDS, has_emoji, number_commands
from channels.whatsapp.api import WhatsAppApi
from fakes.whatsapp import FakeWhatsApp
from locales import compile_catalogs

CARD = ("card", "My card and QR")


@pytest.fixture(scope="module")
def i18n(tmp_path_factory: pytest.TempPathFactory) -> I18n:
    path = compile_catalogs(tmp_path_factory.mktemp("locales"))
    return I18n(path=path, default_locale="en", domain="messages")


async def _refused(api: WhatsAppApi, commands: list[tuple[str, str]], prompts: list[str]) -> str:
    reply = await api.set_commands(commands, prompts)
    assert reply.http_status == 400
    assert reply.error is not None
    return f"{reply.error.code} {reply.error.message}"


async def test_the_commands_are_kept_for_the_number(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    reply = await whatsapp_api.set_commands([CARD, ("help", "What I can do")], ["My card"])
    assert (reply.http_status, reply.error, reply.body) == (200, None, {"success": True})
    assert whatsapp.commands() == [CARD, ("help", "What I can do")]
    assert whatsapp.automation is not None
    assert whatsapp.automation["prompts"] == ["My card"]
    assert whatsapp.automation["enable_welcome_message"] is False


async def test_over_the_limits_is_refused_as_meta_does(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    nine = [(f"c{i}", "x") for i in range(8)] + [("c" * 33, "x")]
    assert await _refused(whatsapp_api, nine, []) == (
        "100 (#100) Param commands[8]['command_name'] must be at most 32 characters long."
    )
    assert await _refused(whatsapp_api, [CARD], ["a", "b", "c", "d", "e"]) == (
        "105 (#105) The parameter prompts must have at most 4 elements, 5 found."
    )
    many = [(f"c{i}", "x") for i in range(31)]
    assert await _refused(whatsapp_api, many, []) == (
        "105 (#105) The parameter commands must have at most 30 elements, 31 found."
    )
    long = await _refused(whatsapp_api, [("card", "x" * 257)], [])
    assert long == (
        "100 (#100) Param commands[0]['command_description'] must be at most 256 characters long."
    )
    prompt = await _refused(whatsapp_api, [CARD], ["x" * 81])
    assert prompt == "100 (#100) Param prompts[0] must be at most 80 characters long."
    assert (await _refused(whatsapp_api, [("Card", "x")], [])).startswith(
        "100 (#100) Param commands[0]['command_name'] must contain only lowercase"
    )
    assert whatsapp.automation is None
    # 30 commands of 32 characters, 256-character descriptions and 4 prompts of 80 pass.
    full = [(f"{i:02d}" + "c" * 30, "d" * 256) for i in range(30)]
    assert (await whatsapp_api.set_commands(full, ["p" * 80] * 4)).error is None
    assert len(whatsapp.commands()) == 30


@pytest.mark.parametrize(
    ("commands", "prompts", "param"),
    [
        ([("card🎟", "My card")], [], "commands[0]['command_name']"),
        ([CARD, ("vouchers", "🎁 My rewards")], [], "commands[1]['command_description']"),
        ([CARD], ["Show my card ☕"], "prompts[0]"),
    ],
)
async def test_an_emoji_is_refused_as_meta_does(
    whatsapp: FakeWhatsApp,
    whatsapp_api: WhatsAppApi,
    commands: list[tuple[str, str]],
    prompts: list[str],
    param: str,
) -> None:
    said = await _refused(whatsapp_api, commands, prompts)
    assert said == f"100 (#100) Param {param} must not contain emojis."
    assert whatsapp.automation is None
    assert whatsapp.refusals[100] == 1


def test_the_descriptions_have_no_emoji_in_any_language(i18n: I18n) -> None:
    for locale in i18n.available_locales:
        commands = number_commands(i18n, locale)
        assert [name for name, _ in commands] == ["card", "vouchers", "settings", "help"]
        for name, text in commands:
            assert not has_emoji(text), (locale, name, text)
            assert 0 < len(text) <= 256
    uk = dict(number_commands(i18n, "uk"))
    assert uk["card"] == "Моя картка і QR-код"
    assert uk["settings"] == "Мова, пропозиції, вихід із картки"
    # A language the catalogs lack: the default's.
    assert number_commands(i18n, "xx") == number_commands(i18n, i18n.default_locale)
    assert len(WHATSAPP_COMMANDS) == 4


def test_a_translation_with_an_emoji_is_sent_in_english(
    i18n: I18n, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = I18n.gettext

    def with_emoji(self: I18n, *args: object, **kwargs: object) -> str:
        text = real(self, *args, **kwargs)  # type: ignore[arg-type]
        return "☕ " + text if text == "Що я вмію" else text

    monkeypatch.setattr(I18n, "gettext", with_emoji)
    with caplog.at_level(logging.WARNING):
        commands = dict(number_commands(i18n, "uk"))
    assert commands["help"] == "What I can do"
    assert commands["card"] == "Моя картка і QR-код"
    assert "/help has an emoji" in caplog.text
