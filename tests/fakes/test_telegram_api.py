"""The fake Bot API, driven by a real aiogram Bot over loopback HTTP.

Each check asserts the exception type aiogram raises and Telegram's exact description, since
that is what product code branches on.
"""

from __future__ import annotations

import asyncio
import struct
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandObject, CommandStart
from aiogram.methods import SendMessage
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from aiogram.utils.text_decorations import html_decoration, markdown_decoration
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import ClientSession, web
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes.telegram import (
    MESSAGE_NOT_MODIFIED,
    TERMINATED_BY_OTHER_POLL,
    WEBHOOK_ACTIVE,
    ApiError,
    FakeTelegramAPI,
    FakeUser,
    UploadedFile,
    visible,
)
from fakes.telegram.formatting import parse_html, parse_markdown_v2, utf16_len


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegramAPI) -> AsyncIterator[Bot]:
    async with fake.make_bot() as client:
        yield client


@pytest.fixture
def alice(fake: FakeTelegramAPI) -> FakeUser:
    return fake.add_user(first_name="Alice", username="alice")


def png(width: int, height: int) -> bytes:
    """A real (blank, greyscale) PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=d, callback_data=d)] for d in data]
    )


# ------------------------------------------------------------------------------------------
# Protocol


async def test_get_me_over_http(fake: FakeTelegramAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "stampbot_test_bot", True)
    assert fake.base_url.startswith("http://127.0.0.1:")
    assert fake.last_call("getMe").ok


async def test_wrong_token_is_unauthorized(fake: FakeTelegramAPI) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    async with Bot("654321:WRONG", session=session) as intruder:
        with pytest.raises(TelegramUnauthorizedError) as caught:
            await intruder.get_me()
    assert caught.value.message == "Unauthorized"


async def test_raw_wire_format(fake: FakeTelegramAPI, alice: FakeUser) -> None:
    base = f"{fake.base_url}/bot{fake.token}"
    async with ClientSession() as http:
        async with http.post(f"{base}/frobnicate") as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        async with http.get(f"{base}/GETME") as resp:  # method names are case-insensitive
            assert (resp.status, (await resp.json())["result"]["id"]) == (200, 123456)
        async with http.get(
            f"{base}/sendMessage", params={"chat_id": alice.id, "text": "hi"}
        ) as r:
            assert (await r.json())["result"]["text"] == "hi"
        markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
        body = {"chat_id": alice.id, "text": "json", "reply_markup": markup}
        async with http.post(f"{base}/sendmessage", json=body) as resp:
            assert (await resp.json())["result"]["reply_markup"] == markup
        async with http.post(f"{base}/sendMessage", data={"chat_id": alice.id}) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message text is empty",
            }
    assert fake.calls("sendMessage")[1].params["reply_markup"] == markup


# ------------------------------------------------------------------------------------------
# Sending and formatting


async def test_messages_are_numbered_per_chat(
    fake: FakeTelegramAPI, bot: Bot, alice: FakeUser
) -> None:
    first = await bot.send_message(alice.id, "one")
    second = await bot.send_message(alice.id, "two", reply_markup=keyboard("stamp"))
    other = await bot.send_message(777, "elsewhere")
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert first.chat.first_name == "Alice"
    assert first.from_user is not None
    assert [m.text for m in fake.sent_messages(alice.id)] == ["one", "two"]
    last = fake.last_message(alice.id)
    assert last is not None
    assert last.callback_data() == ["stamp"]
    call = fake.calls("sendMessage")[1]
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "stamp", "callback_data": "stamp"}]]
    }


async def test_html_is_parsed_into_utf16_entities(bot: Bot, alice: FakeUser) -> None:
    sent = await bot.send_message(
        alice.id,
        "😀 <b>bold</b> &amp; <a href='example.com'>link</a> <tg-spoiler>s</tg-spoiler>",
        parse_mode="HTML",
    )
    assert sent.text == "😀 bold & link s"
    assert [(e.type, e.offset, e.length, e.url) for e in sent.entities or []] == [
        ("bold", 3, 4, None),
        ("text_link", 10, 4, "http://example.com/"),
        ("spoiler", 15, 1, None),
    ]


async def test_default_parse_mode_and_pre_with_language(fake: FakeTelegramAPI) -> None:
    async with fake.make_bot(default=DefaultBotProperties(parse_mode="HTML")) as client:
        sent = await client.send_message(
            1, '<pre><code class="language-python">x = 1</code></pre>'
        )
    assert sent.entities is not None
    assert (sent.entities[0].type, sent.entities[0].language) == ("pre", "python")


@pytest.mark.parametrize(
    ("parse_mode", "source", "error"),
    [
        ("HTML", "<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("HTML", "if a < b", 'Unsupported start tag "" at byte offset 5'),
        ("HTML", "<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("HTML", "<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("HTML", "x</b>", "Unexpected end tag at byte offset 1"),
        ("HTML", "é <b", "Unclosed start tag at byte offset 3"),
        ("HTML", "<span>s</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            "MarkdownV2",
            "Price 5.00",
            "Character '.' is reserved and must be escaped with the preceding '\\'",
        ),
        ("MarkdownV2", "*bold", "Can't find end of Bold entity at byte offset 0"),
        ("MarkdownV2", "ok _it", "Can't find end of Italic entity at byte offset 3"),
        ("MarkdownV2", "[link](http://x.com", "Can't find end of a URL at byte offset 7"),
    ],
)
async def test_parse_errors_match_telegram(
    bot: Bot, parse_mode: str, source: str, error: str
) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(1, source, parse_mode=parse_mode)
    assert caught.value.message == f"Bad Request: can't parse entities: {error}"


async def test_stray_ampersand_is_literal_like_tdlib(bot: Bot) -> None:
    sent = await bot.send_message(1, "Tom & Jerry &copy; &lt;3", parse_mode="HTML")
    assert sent.text == "Tom & Jerry &copy; <3"


async def test_markdown_v2_entities(bot: Bot) -> None:
    sent = await bot.send_message(
        1, "*bold* __under__ ||hush|| [site](https://x.org/a\\)b) 5\\.00", parse_mode="MarkdownV2"
    )
    assert sent.text == "bold under hush site 5.00"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("bold", 0, 4),
        ("underline", 5, 5),
        ("spoiler", 11, 4),
        ("text_link", 16, 4),
    ]
    assert sent.entities is not None
    assert sent.entities[3].url == "https://x.org/a)b"


async def test_unsupported_parse_mode(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: unsupported parse_mode"):
        await bot.send_message(1, "x", parse_mode="BBCode")


async def test_length_limits_count_visible_utf16(bot: Bot) -> None:
    emoji = "😀" * 2048  # 4096 UTF-16 code units, 2048 code points
    sent = await bot.send_message(1, f"<b>{emoji}</b>", parse_mode="HTML")
    assert sent.text == emoji
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(1, emoji + "x")
    assert caught.value.message == "Bad Request: message is too long"
    tagged = "<i>a</i>" * 1024  # 8192 characters of markup, 1024 visible
    photo = BufferedInputFile(png(10, 10), "p.png")
    await bot.send_photo(1, photo, caption=tagged, parse_mode="HTML")
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_photo(1, photo, caption="c" * 1025)
    assert caught.value.message == "Bad Request: message caption is too long"


async def test_empty_text_after_parsing(bot: Bot) -> None:
    for text in ("   \n", "<b></b>"):
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(1, text, parse_mode="HTML")
        assert caught.value.message == "Bad Request: message text is empty"


async def test_keyboard_validation(bot: Bot) -> None:
    await bot.send_message(1, "ok", reply_markup=keyboard("a" * 64))
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(1, "x", reply_markup=keyboard("é" * 33))  # 33 chars, 66 bytes
    assert caught.value.message == "Bad Request: BUTTON_DATA_INVALID"
    bare = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="no action")]])
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(1, "x", reply_markup=bare)
    assert caught.value.message == (
        "Bad Request: can't parse inline keyboard button: "
        "Text buttons are unallowed in the inline keyboard"
    )


async def test_blocked_and_unknown_chats(fake: FakeTelegramAPI, bot: Bot, alice: FakeUser) -> None:
    fake.block_chat(alice.id)
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(alice.id, "hello?")
    assert caught.value.message == "Forbidden: bot was blocked by the user"
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(alice.id, "typing")
    fake.unblock_chat(alice.id)
    await bot.send_message(alice.id, "welcome back")

    fake.strict_chats = True
    with pytest.raises(TelegramBadRequest) as not_found:
        await bot.send_message(424242, "who?")
    assert not_found.value.message == "Bad Request: chat not found"
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message("@nobody", "who?")
    assert (await bot.send_message("@alice", "by username")).chat.id == alice.id


# ------------------------------------------------------------------------------------------
# Editing and deleting


async def test_edit_text_and_not_modified(
    fake: FakeTelegramAPI, bot: Bot, alice: FakeUser
) -> None:
    sent = await bot.send_message(alice.id, "Stamps: 1", reply_markup=keyboard("stamp"))
    edited = await bot.edit_message_text(
        "Stamps: <b>2</b>",
        chat_id=alice.id,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=keyboard("stamp"),
    )
    assert isinstance(edited, Message)
    assert edited.edit_date is not None
    stored = fake.message(alice.id, sent.message_id)
    assert (stored.text, stored.entities[0]["type"], len(stored.history)) == (
        "Stamps: 2",
        "bold",
        1,
    )

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text(
            "Stamps: <b>2</b>",
            chat_id=alice.id,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard("stamp"),
        )
    assert caught.value.message == MESSAGE_NOT_MODIFIED

    # Same text without the markup is a change: Telegram drops the keyboard.
    await bot.edit_message_text("Stamps: 2", chat_id=alice.id, message_id=sent.message_id)
    assert fake.message(alice.id, sent.message_id).reply_markup is None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=alice.id, message_id=sent.message_id)

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_caption(chat_id=alice.id, message_id=sent.message_id, caption="c")
    assert caught.value.message == "Bad Request: there is no caption in the message to edit"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text("x", chat_id=alice.id, message_id=99)
    assert caught.value.message == "Bad Request: message to edit not found"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text("x" * 4097, chat_id=alice.id, message_id=sent.message_id)
    assert caught.value.message == "Bad Request: MESSAGE_TOO_LONG"


async def test_edit_caption_and_markup_of_photo(
    fake: FakeTelegramAPI, bot: Bot, alice: FakeUser
) -> None:
    sent = await bot.send_photo(alice.id, BufferedInputFile(png(40, 40), "qr.png"), caption="old")
    await bot.edit_message_caption(chat_id=alice.id, message_id=sent.message_id, caption="new")
    await bot.edit_message_reply_markup(
        chat_id=alice.id, message_id=sent.message_id, reply_markup=keyboard("redeem")
    )
    stored = fake.message(alice.id, sent.message_id)
    assert (stored.caption, stored.callback_data()) == ("new", ["redeem"])
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text("text", chat_id=alice.id, message_id=sent.message_id)
    assert caught.value.message == "Bad Request: there is no text in the message to edit"


async def test_delete_message(fake: FakeTelegramAPI, bot: Bot, alice: FakeUser) -> None:
    sent = await bot.send_message(alice.id, "bye")
    assert await bot.delete_message(alice.id, sent.message_id) is True
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.delete_message(alice.id, sent.message_id)
    assert caught.value.message == "Bad Request: message to delete not found"
    assert fake.sent_messages(alice.id) == []
    assert len(fake.sent_messages(alice.id, include_deleted=True)) == 1


# ------------------------------------------------------------------------------------------
# Updates: long polling, webhooks, callbacks


async def test_long_polling_waits_and_wakes(
    fake: FakeTelegramAPI, bot: Bot, alice: FakeUser
) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9  # it really waited

    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()
    started = time.monotonic()
    fake.send_text(alice, "/start promo42")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1
    message = updates[0].message
    assert message is not None
    assert message.from_user is not None
    assert (message.text, message.from_user.id, message.chat.id) == (
        "/start promo42",
        alice.id,
        alice.id,
    )
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [
        ("bot_command", 0, 6)
    ]


async def test_offsets_confirm_updates(fake: FakeTelegramAPI, bot: Bot, alice: FakeUser) -> None:
    for text in ("a", "b", "c"):
        fake.send_text(alice, text)
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [1, 2, 3]
    assert len(await bot.get_updates(limit=2)) == 2  # unconfirmed updates come again
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == []
    assert fake.pending_updates == []


async def test_allowed_updates_filter(fake: FakeTelegramAPI, bot: Bot, alice: FakeUser) -> None:
    sent = await bot.send_message(alice.id, "pick", reply_markup=keyboard("yes"))
    fake.send_text(alice, "hello")
    fake.press_button(alice, sent, "yes")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in updates] == [True]


async def test_second_poller_terminates_the_first(bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    second = await bot.get_updates(timeout=0)
    with pytest.raises(TelegramConflictError) as caught:
        await first
    assert caught.value.message == TERMINATED_BY_OTHER_POLL
    assert second == []


async def test_webhook_blocks_polling(fake: FakeTelegramAPI, bot: Bot) -> None:
    assert await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="s3cret_-X") is True
    assert fake.last_call("setWebhook").description == "Webhook was set"
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("http://127.0.0.1:9/hook", 0)
    with pytest.raises(TelegramConflictError) as caught:
        await bot.get_updates()
    assert caught.value.message == WEBHOOK_ACTIVE
    with pytest.raises(TelegramBadRequest) as error:
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="not base64+/=")
    assert error.value.message == "Bad Request: secret token contains unallowed characters"
    assert await bot.delete_webhook() is True
    assert fake.last_call("deleteWebhook").description == "Webhook was deleted"
    assert await bot.get_updates() == []


async def test_post_update_to_aiogram_webhook(
    fake: FakeTelegramAPI, bot: Bot, alice: FakeUser
) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> SendMessage:
        return message.answer(f"Welcome! payload={command.args}")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    app = web.Application()
    SimpleRequestHandler(
        dispatcher, bot, handle_in_background=False, secret_token="hook-secret"
    ).register(app, path="/hook")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        await bot.set_webhook(url, secret_token="hook-secret")

        delivery = await fake.post_update(fake.message_update(alice, "/start card7"))
        assert delivery.status == 200
        assert delivery.executed is not None
        assert delivery.executed.ok
        assert delivery.executed.method == "sendMessage"
        last = fake.last_message(alice.id)
        assert last is not None
        assert last.text == "Welcome! payload=card7"

        unsigned = await fake.post_update(fake.message_update(alice, "/start"), secret_token=None)
        assert unsigned.status == 401
        assert unsigned.executed is None
        assert (await bot.get_webhook_info()).last_error_message is not None
    finally:
        await runner.cleanup()


async def test_polling_dispatcher_end_to_end(
    fake: FakeTelegramAPI, bot: Bot, alice: FakeUser
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart(deep_link=True))
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"joined {command.args}")

    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_signals=False, close_bot_session=False, polling_timeout=1
        )
    )
    fake.send_text(alice, "/start shop_9")
    try:
        for _ in range(100):
            if fake.last_message(alice.id) is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        await dispatcher.stop_polling()
        await polling
    last = fake.last_message(alice.id)
    assert last is not None
    assert last.text == "joined shop_9"


async def test_callback_queries(fake: FakeTelegramAPI, bot: Bot, alice: FakeUser) -> None:
    sent = await bot.send_message(alice.id, "Redeem?", reply_markup=keyboard("redeem:1"))
    update = fake.callback_update(alice, sent, "redeem:1")
    parsed = Update.model_validate(update)
    assert parsed.callback_query is not None
    assert parsed.callback_query.message is not None
    assert parsed.callback_query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(parsed.callback_query.id, text="Done") is True
    assert fake.callback_answers[-1]["text"] == "Done"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.answer_callback_query(parsed.callback_query.id)
    assert caught.value.message == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    with pytest.raises(ValueError, match="no button"):
        fake.callback_update(alice, sent, "forged")


async def test_a_message_reads_as_a_person_sees_it(
    fake: FakeTelegramAPI, bot: Bot, alice: FakeUser
) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="\u2068Olena\u2069", callback_data="a")],
            [
                InlineKeyboardButton(text="B", callback_data="b"),
                InlineKeyboardButton(text="Site", url="https://example.org/"),
            ],
        ]
    )
    sent = await bot.send_message(alice.id, "Hi \u2066Olena\u2069", reply_markup=markup)
    stored = fake.message(alice.id, sent.message_id)
    assert stored.shown_text == "Hi \u2066Olena\u2069"
    assert visible(stored.shown_text) == "Hi Olena"
    assert [b["text"] for b in stored.inline_buttons()] == ["\u2068Olena\u2069", "B", "Site"]
    assert stored.callback_data() == ["a", "b"]
    photo = await bot.send_photo(alice.id, BufferedInputFile(png(2, 2), "p.png"), caption="Cap")
    assert fake.message(alice.id, photo.message_id).shown_text == "Cap"
    assert fake.message(alice.id, photo.message_id).inline_buttons() == []


async def test_update_builders_produce_valid_updates(
    fake: FakeTelegramAPI, alice: FakeUser
) -> None:
    first = fake.message_update(alice, "hi /help@stampbot_test_bot now")
    second = fake.message_update(alice.id, "plain")
    assert second["update_id"] == first["update_id"] + 1
    assert second["message"]["message_id"] == first["message"]["message_id"] + 1
    message = Update.model_validate(first).message
    assert message is not None
    assert message.chat.type == "private"
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [
        ("bot_command", 3, 23)
    ]
    assert "entities" not in second["message"]


# ------------------------------------------------------------------------------------------
# Files


async def test_a_file_from_a_user_downloads_up_to_the_bot_limit(
    fake: FakeTelegramAPI, bot: Bot, alice: FakeUser
) -> None:
    update = fake.document_update(alice, b"hello", file_name="logo.png")
    document = Update.model_validate(update).message.document  # type: ignore[union-attr]
    assert document is not None
    assert (document.file_name, document.mime_type, document.file_size) == (
        "logo.png",
        "image/png",
        5,
    )
    assert (await bot.download(document.file_id)).read() == b"hello"  # type: ignore[union-attr]

    huge = fake.document_update(alice, b"\0" * (20 * 1024 * 1024 + 1), file_name="big.png")
    big = Update.model_validate(huge).message.document  # type: ignore[union-attr]
    assert big is not None
    assert big.file_size == 20 * 1024 * 1024 + 1
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(big.file_id)


async def test_photo_upload_sizes_and_file_id_reuse(
    fake: FakeTelegramAPI, bot: Bot, alice: FakeUser
) -> None:
    data = png(1000, 500)
    sent = await bot.send_photo(alice.id, BufferedInputFile(data, "card.png"), caption="Card")
    assert sent.photo is not None
    assert [(p.width, p.height) for p in sent.photo] == [
        (90, 45),
        (320, 160),
        (800, 400),
        (1000, 500),
    ]
    assert len({p.file_id for p in sent.photo}) == 4
    again = await bot.send_photo(alice.id, sent.photo[-1].file_id)
    assert again.photo is not None
    assert again.photo[-1].file_id == sent.photo[-1].file_id

    file = await bot.get_file(sent.photo[-1].file_id)
    assert file.file_path is not None
    assert file.file_path.startswith("photos/")
    downloaded = await bot.download(file)
    assert downloaded is not None
    assert downloaded.read() == data

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_photo(alice.id, "AgACAgIAAxkBAAnope")
    assert caught.value.message == "Bad Request: wrong file identifier/HTTP URL specified"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_photo(alice.id, BufferedInputFile(b"not an image", "x.png"))
    assert caught.value.message == "Bad Request: IMAGE_PROCESS_FAILED"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.get_file("nope")
    assert caught.value.message == "Bad Request: invalid file_id"


async def test_document_upload_and_type_checks(
    fake: FakeTelegramAPI, bot: Bot, alice: FakeUser
) -> None:
    pdf = b"%PDF-1.4\n%stampbot\n"
    sent = await bot.send_document(alice.id, BufferedInputFile(pdf, "voucher.pdf"))
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type) == ("voucher.pdf", "application/pdf")
    assert fake.file_bytes(sent.document.file_id) == pdf
    resent = await bot.send_document(alice.id, sent.document.file_id)
    assert resent.document is not None
    assert resent.document.file_id == sent.document.file_id
    upload = fake.last_call("sendDocument")
    assert upload.files == {}  # the reuse carried no upload
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_photo(alice.id, sent.document.file_id)
    assert caught.value.message == "Bad Request: can't use file of type Document as Photo"


# ------------------------------------------------------------------------------------------
# Commands and chat actions


async def test_commands_per_scope_and_language(fake: FakeTelegramAPI, bot: Bot) -> None:
    english = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="card", description="My card"),
    ]
    german = [BotCommand(command="start", description="Los geht's")]
    assert await bot.set_my_commands(english) is True
    await bot.set_my_commands(german, scope=BotCommandScopeAllPrivateChats(), language_code="de")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "card"]
    scoped = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="de")
    assert [c.description for c in scoped] == ["Los geht's"]
    assert await bot.get_my_commands(language_code="fr") == []
    assert fake.commands({"type": "all_private_chats"}, "de")[0]["command"] == "start"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.set_my_commands([BotCommand(command="Stamp!", description="x")])
    assert caught.value.message == "Bad Request: BOT_COMMAND_INVALID"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.set_my_commands(english, language_code="deu")
    assert caught.value.message == "Bad Request: invalid language code specified"


async def test_chat_actions(fake: FakeTelegramAPI, bot: Bot, alice: FakeUser) -> None:
    assert await bot.send_chat_action(alice.id, "upload_photo") is True
    assert fake.chat_actions == [(alice.id, "upload_photo")]
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_chat_action(alice.id, "dancing")
    assert caught.value.message == "Bad Request: wrong parameter action in request"


# ------------------------------------------------------------------------------------------
# Faults and flood control


async def test_injected_retry_after(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.fail_with_retry_after("sendMessage", 7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(1, "flood")
    assert caught.value.retry_after == 7
    assert "Too Many Requests: retry after 7" in caught.value.message
    assert fake.last_call("sendMessage").response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert (await bot.send_message(1, "retried")).text == "retried"


async def test_injected_server_errors(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.fail_with_server_error("sendMessage")
    with pytest.raises(TelegramServerError) as caught:
        await bot.send_message(1, "x")
    assert caught.value.message == "Internal Server Error"
    # nginx answers 502 in HTML; aiogram cannot decode that as a Bot API response.
    fake.fail_with_bad_gateway("*", times=2)
    with pytest.raises(ClientDecodeError):
        await bot.send_message(1, "x")
    with pytest.raises(ClientDecodeError):
        await bot.get_me()
    assert fake.sent_messages() == []
    await bot.send_message(1, "recovered")


async def test_delay_beyond_client_timeout_still_takes_effect(
    fake: FakeTelegramAPI, bot: Bot
) -> None:
    fake.delay_next("sendMessage", 0.8)
    bot.session.timeout = 0.3
    with pytest.raises(TelegramNetworkError) as caught:
        await bot.send_message(5, "slow")
    assert "Request timeout error" in caught.value.message
    for _ in range(40):
        if fake.sent_messages(5):
            break
        await asyncio.sleep(0.05)
    assert [m.text for m in fake.sent_messages(5)] == ["slow"]  # sent although the client gave up


async def test_held_calls_wait_for_their_release_then_take_effect(
    fake: FakeTelegramAPI, bot: Bot
) -> None:
    release = fake.hold_next("sendMessage", times=2)
    held = [asyncio.create_task(bot.send_message(6, text)) for text in ("one", "two")]
    for _ in range(100):
        if len(fake.calls("sendMessage")) == 2:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)

    assert len(fake.calls("sendMessage")) == 2  # both arrived
    assert fake.sent_messages(6) == []  # neither has taken effect
    assert not any(task.done() for task in held)
    await bot.send_message(6, "three")  # the third is not held
    release.set()
    await asyncio.gather(*held)
    assert sorted(m.text or "" for m in fake.sent_messages(6)) == ["one", "three", "two"]


async def test_strict_rate_limit_counts(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.enable_rate_limit(per_second=30)
    results = await asyncio.gather(
        *(bot.send_message(1000 + n, f"broadcast {n}") for n in range(31)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, TelegramRetryAfter)]
    assert len(refused) == 1
    assert refused[0].retry_after >= 1
    assert fake.rate_limited_count == 1
    assert len(fake.sent_messages()) == 30

    fake.enable_rate_limit(per_second=30, per_chat_per_second=1)
    await bot.send_message(1, "first")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(1, "second")
    await bot.send_message(2, "another chat is fine")
    assert fake.rate_limited_count == 2
    await asyncio.sleep(1.05)
    await bot.send_message(1, "after a second")


# ------------------------------------------------------------------------------------------
# Parsers, property-based


# The utf-8 codec rules out lone surrogates, which no Bot API request can carry.
_SAMPLE_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=200, deadline=None)
@given(_SAMPLE_TEXT)
def test_escaped_text_round_trips(text: str) -> None:
    assert parse_html(html_decoration.quote(text)) == (text, [])
    assert parse_markdown_v2(markdown_decoration.quote(text)) == (text, [])


_STYLES = {"b": "bold", "i": "italic", "u": "underline", "s": "strikethrough", "code": "code"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_SAMPLE_TEXT, st.sampled_from([None, *_STYLES])), max_size=6))
def test_html_offsets_are_utf16(pieces: list[tuple[str, str | None]]) -> None:
    source, plain, expected = "", "", []
    for text, tag in pieces:
        quoted = html_decoration.quote(text)
        if tag is not None and text:
            expected.append((_STYLES[tag], utf16_len(plain), utf16_len(text)))
            quoted = f"<{tag}>{quoted}</{tag}>"
        source += quoted
        plain += text
    parsed_text, entities = parse_html(source)
    assert parsed_text == plain
    assert sorted((e.type, e.offset, e.length) for e in entities) == sorted(expected)


async def test_stop_releases_a_pending_long_poll() -> None:
    server = FakeTelegramAPI()
    await server.start()
    async with server.make_bot() as client:
        poll = asyncio.create_task(client.get_updates(timeout=30))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await server.stop()
        assert await poll == []
    assert time.monotonic() - started < 3


async def test_webhook_answer_as_json_and_form(fake: FakeTelegramAPI, alice: FakeUser) -> None:
    """Telegram runs a method given in the webhook's answer, whatever the content type."""
    answers = [
        web.json_response({"method": "sendMessage", "chat_id": alice.id, "text": "json"}),
        web.Response(
            text=f"method=sendChatAction&chat_id={alice.id}&action=typing",
            content_type="application/x-www-form-urlencoded",
        ),
        web.json_response({"method": "sendMessage", "chat_id": alice.id, "text": "<b>x"}),
    ]
    seen: list[str | None] = []

    async def hook(request: web.Request) -> web.Response:
        seen.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        return answers.pop(0)

    app = web.Application()
    app.router.add_post("/", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        first = await fake.post_update(fake.message_update(alice, "a"), url=url)
        second = await fake.post_update(
            fake.message_update(alice, "b"), url=url, secret_token="wrong"
        )
        third = await fake.post_update(fake.message_update(alice, "c"), url=url)
    finally:
        await runner.cleanup()
    assert seen == [None, "wrong", None]
    assert first.executed is not None
    assert first.executed.ok
    assert second.executed is not None
    assert second.executed.method == "sendChatAction"
    assert fake.chat_actions == [(alice.id, "typing")]
    # The webhook answer is parsed like a request; its errors are recorded, not raised.
    assert third.executed is not None
    assert third.executed.status == 200  # no parse_mode: "<b>x" is plain text
    assert [m.text for m in fake.sent_messages(alice.id)] == ["json", "<b>x"]


async def test_register_custom_method(fake: FakeTelegramAPI, bot: Bot) -> None:
    def pin(params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        if params.get("message_id") == "404":
            raise ApiError(400, "Bad Request: message to pin not found")
        return True

    fake.register_method("pinChatMessage", pin)
    assert await bot.pin_chat_message(1, 5) is True
    with pytest.raises(TelegramBadRequest, match="message to pin not found"):
        await bot.pin_chat_message(1, 404)
    assert [c.params["message_id"] for c in fake.calls("pinchatmessage")] == ["5", "404"]


# ------------------------------------------------------------------------------------------
# Other bots on the same server (shops' own bots)

SHOP_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


async def test_any_well_formed_token_is_a_bot_of_its_own(fake: FakeTelegramAPI) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    async with Bot(SHOP_TOKEN, session=session) as shop_bot:
        me = await shop_bot.get_me()
        await shop_bot.set_webhook("http://127.0.0.1:9/tg/1", secret_token="shop-secret")
        await shop_bot.send_message(555, "hello from the shop")

    assert (me.id, me.username, me.is_bot) == (7012345678, "shop7012345678_bot", True)
    shop = fake.bot(SHOP_TOKEN)
    assert [c.method for c in shop.calls()] == ["getMe", "setWebhook", "sendMessage"]
    assert shop.webhook.url == "http://127.0.0.1:9/tg/1"
    assert shop.webhook.secret_token == "shop-secret"
    assert [m.text for m in shop.sent_messages(555)] == ["hello from the shop"]
    # The server's own bot saw none of it.
    assert fake.calls() == []
    assert fake.sent_messages(555) == []
    assert fake.webhook.url == ""


async def test_a_revoked_or_malformed_token_is_unauthorized(fake: FakeTelegramAPI) -> None:
    fake.bot(SHOP_TOKEN, username="cafe_lviv_bot")
    fake.revoke(SHOP_TOKEN)
    for token in (SHOP_TOKEN, "7012345678:short", "7012345678:" + "A" * 34 + "!"):
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        async with Bot(token, session=session) as intruder:
            with pytest.raises(TelegramUnauthorizedError):
                await intruder.get_me()
    assert fake.bot(SHOP_TOKEN).calls() == []
