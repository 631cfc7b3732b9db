"""Campaign delivery through the Telegram Bot API.

Rate limits: every Bot API send (each part of a split message) first takes a token from the
shared ``tg:global`` bucket and from the ``tg:chat:<id>`` bucket. With a Redis-backed limiter
the budget holds across every worker process. Telegram measures its limits over a sliding
second, which a token bucket only respects if its burst plus one second of refill stays under
the limit, with some room for network jitter between the moment a token is granted and the
moment the request reaches Telegram. Hence the defaults: 28/s with no burst globally (at most
29 sends in any second, against Telegram's 30) and one message per 1.1 s in a chat. Paid
broadcasts (up to 1000/s) configure ``global_rate`` accordingly, e.g. ``Rate(950, 1)``.

The two tokens are taken back to back right before the request: waiting for the chat after
taking the global token would let delayed sends bunch up with fresh ones. When the chat is not
ready yet the global token is given up (not used, so never a burst) and both are taken again.

Service messages (a stamp notice, a redemption) are sent by the bot that answers people, not
by this channel, yet Telegram counts them in the same per-bot limit: :class:`TelegramBudget`
gives them the global bucket in the limiter's priority lane, so a notice leaves at the next
free slot ahead of queued campaign sends and the two together stay within ``global_rate``.

A shop's own bot (``bot.shop_bots``) is a bot of its own to Telegram, with limits of its own:
its sends take tokens from ``tg:global:<account id>`` and ``tg:<account id>:chat:<id>``
(:func:`global_key`, :func:`chat_key`), so one café's campaign neither waits for the shared
bot's nor slows it. :meth:`TelegramChannel.for_account` is the channel of such a bot.

Multi-part messages are resumable: the message ids of parts already sent are kept in memory per
delivery id, so a retry after a failure on part 3 starts at part 3. The trade-off: a crash of
the process between parts forgets them, and the retry sends the earlier parts again; the
engine's duplicate bound covers that rare case.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage, SendPhoto
from aiogram.methods.base import Response
from aiogram.types import BufferedInputFile
from aiogram.types.base import TelegramObject
from pydantic import ConfigDict

from channels.base import Action, DeliveryResult, OutboundMessage, Outcome, Reason
from channels.ratelimit import Rate, RateLimiter, acquire
from channels.telegram_html import CAPTION_LIMIT, TEXT_LIMIT, split

__all__ = [
    "DEFAULT_GLOBAL_RATE",
    "DEFAULT_PER_CHAT_RATE",
    "GLOBAL_KEY",
    "TelegramBudget",
    "TelegramChannel",
    "chat_key",
    "global_key",
]

logger = logging.getLogger(__name__)

DEFAULT_GLOBAL_RATE = Rate(28, 1)
# The bucket every send of this bot takes a token from, in every process that shares the limiter.
GLOBAL_KEY = "tg:global"
# Telegram allows about one message a second per chat; a quarter second spare absorbs the
# jitter of a busy machine between taking the chat's token and the request arriving.
DEFAULT_PER_CHAT_RATE = Rate(1 / 1.25, 1)
# Deliveries whose parts are remembered between attempts; the oldest are forgotten first.
SENT_PARTS_LIMIT = 10_000


class _Sent(TelegramObject):
    """Of Telegram's answer to a send, the one field a delivery keeps. Read as aiogram's whole
    ``Message`` (sender, chat, entities, the buttons echoed back), the answer cost more CPU
    than making the request; the rest of it is not looked at."""

    model_config = ConfigDict(extra="ignore")

    message_id: int


class _SendMessage(SendMessage):
    """``sendMessage`` as aiogram sends it, answered with :class:`_Sent`."""

    __returning__ = _Sent  # type: ignore[assignment]  # a Message of which one field is read


class _SendPhoto(SendPhoto):
    """``sendPhoto`` as aiogram sends it, answered with :class:`_Sent`."""

    __returning__ = _Sent  # type: ignore[assignment]  # a Message of which one field is read


# The blank requests each send copies with its own values (see ``TelegramChannel._send_part``).
_MESSAGE = _SendMessage.model_construct(chat_id=0, text="")
_PHOTO = _SendPhoto.model_construct(chat_id=0, photo="")
# aiogram reads an answer as ``Response[<the method's type>]``, a class pydantic builds on first
# use and keeps only while something refers to it: held here, it is not rebuilt after each
# collection (that costs more than the send).
_KEEP_RESPONSE_TYPE = Response[_Sent]
_CHAT_GONE = ("chat not found", "user not found", "peer_id_invalid")


class AccountBots(Protocol):
    """Shops' own bots by account (``bot.shop_bots.ShopBots``)."""

    async def bot_of_account(self, account_id: int | None) -> Bot | None: ...


@dataclass(frozen=True, slots=True)
class _Part:
    html: str
    photo: bool  # sent with sendPhoto, ``html`` being the caption (possibly empty)


class TelegramChannel:
    name = "telegram"

    def __init__(
        self,
        bot: Bot,
        limiter: RateLimiter,
        *,
        global_rate: Rate = DEFAULT_GLOBAL_RATE,
        per_chat_rate: Rate = DEFAULT_PER_CHAT_RATE,
        request_timeout: int | None = None,
        sent_parts: MutableMapping[int, list[int]] | None = None,
        account_id: int | None = None,
        shop_bots: AccountBots | None = None,
    ) -> None:
        self.bot = bot
        # A message for a shop's own bot (``OutboundMessage.account_id``) goes through it.
        self.shop_bots = shop_bots
        # A shop's own bot's account (None: the shared bot): whose limits the sends take.
        self.account_id = account_id
        self.limiter = limiter
        self.global_rate = global_rate
        self.per_chat_rate = per_chat_rate
        self.request_timeout = request_timeout
        # delivery id -> message ids of the parts already delivered (see the module docs).
        self.sent_parts: MutableMapping[int, list[int]] = {} if sent_parts is None else sent_parts

    def for_account(self, bot: Bot, account_id: int) -> TelegramChannel:
        """This channel's settings and resumable parts, sending through a shop's own bot
        within that bot's limits."""
        return TelegramChannel(
            bot,
            self.limiter,
            global_rate=self.global_rate,
            per_chat_rate=self.per_chat_rate,
            request_timeout=self.request_timeout,
            sent_parts=self.sent_parts,
            account_id=account_id,
        )

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        account_id = message.account_id
        if account_id is not None and self.shop_bots is not None:
            bot = await self.shop_bots.bot_of_account(account_id)
            message = replace(message, account_id=None)
            if bot is not None:
                return await self.for_account(bot, account_id).send(message)
            # Disconnected since the message was composed: the shared bot sends it.
        chat_id = _chat_id(message.address)
        if chat_id is None:
            return DeliveryResult.failed(Reason.NO_ADDRESS, detail="no Telegram chat id")
        parts = _parts(message)
        if not parts:
            return DeliveryResult.failed(Reason.BAD_REQUEST, detail="message has no text")
        done = list(self.sent_parts.get(message.delivery_id, ()))
        last_sent: float | None = None
        for index in range(len(done), len(parts)):
            if last_sent is not None and self.per_chat_rate.burst == 1:
                # Our previous part took the chat's token at ``last_sent``: wait for the refill
                # here rather than waste a global token on a chat that is not ready.
                pause = 1 / self.per_chat_rate.per_second - (time.monotonic() - last_sent)
                if pause > 0:
                    await asyncio.sleep(pause)
            await self._wait_for_tokens(chat_id)
            last_sent = time.monotonic()
            try:
                markup = (
                    _markup(message.buttons, self.bot.session.json_dumps)
                    if index + 1 == len(parts)
                    else None
                )
                message_id = await self._send_part(chat_id, parts[index], message, markup)
            except Exception as error:
                result = _result_for(error)
                if result is None:
                    raise
                self._remember(message.delivery_id, done, keep=result.outcome == Outcome.RETRY)
                if len(parts) > 1:
                    detail = f"part {index + 1}/{len(parts)}: {result.detail}"
                    result = replace(result, detail=detail[:200])
                return result
            done.append(message_id)
            self._remember(message.delivery_id, done, keep=index + 1 < len(parts))
        return DeliveryResult.delivered(external_id=",".join(str(i) for i in done))

    async def _wait_for_tokens(self, chat_id: int | str) -> None:
        per_chat, everyone = chat_key(chat_id, self.account_id), global_key(self.account_id)
        while True:
            await acquire(self.limiter, everyone, self.global_rate)
            wait = await self.limiter.try_acquire(per_chat, self.per_chat_rate)
            if wait <= 0:
                return
            # The global token stays unused; taking it again after the wait keeps every
            # request right behind its global token.
            await asyncio.sleep(wait)

    async def _send_part(
        self,
        chat_id: int | str,
        part: _Part,
        message: OutboundMessage,
        markup: str | None,
    ) -> int:
        """One Bot API request. The method is assembled from values this module made, not
        validated field by field (a copy of a blank one with them set, which also skips
        filling in some twenty defaults): aiogram would check each again, build a model per
        button and serialise them back, for every message. The keyboard
        (``markup``, :func:`_markup`) and the preview option go as the JSON text aiogram would
        have written for them; it passes text through as it is, so the request is the same."""
        # Typed as aiogram's models; these two are their JSON text (see above).
        fields: dict[str, Any] = {"chat_id": chat_id, "reply_markup": markup}
        fields["parse_mode"] = ParseMode.HTML.value
        method: _SendMessage | _SendPhoto
        if part.photo:
            photo: BufferedInputFile | str
            if message.photo_file_id:
                photo = message.photo_file_id
            else:
                assert message.photo is not None
                photo = BufferedInputFile(message.photo, filename="photo.jpg")
            fields.update(photo=photo, caption=part.html or None)
            method = _PHOTO.model_copy(update=fields)
        else:
            fields.update(
                text=part.html, link_preview_options=_no_preview(self.bot.session.json_dumps)
            )
            method = _MESSAGE.model_copy(update=fields)
        sent = await self.bot(method, request_timeout=self.request_timeout)
        return sent.message_id

    def _remember(self, delivery_id: int, done: list[int], *, keep: bool) -> None:
        if keep and done:
            self.sent_parts.pop(delivery_id, None)  # re-insert as the newest
            self.sent_parts[delivery_id] = list(done)
            while len(self.sent_parts) > SENT_PARTS_LIMIT:
                del self.sent_parts[next(iter(self.sent_parts))]
        else:
            self.sent_parts.pop(delivery_id, None)


@dataclass(frozen=True, slots=True)
class TelegramBudget:
    """The bot's global limit for sends outside the delivery worker: service messages.

    ``global_rate`` must be the one the delivery channel uses (the same setting), as both
    lanes keep one schedule and one count under :data:`GLOBAL_KEY`. The chat's own limit is
    left to the replying bot, which waits out a 429 (a notice is one message, and a person
    waiting at the counter should not wait 1.25 s for the second of two).
    """

    limiter: RateLimiter
    global_rate: Rate = DEFAULT_GLOBAL_RATE

    async def service_slot(self, chat_id: int | str, account_id: int | None = None) -> float:
        """Wait for the next global slot, ahead of campaign sends; returns the seconds waited.
        ``chat_id`` is where the message goes (the same signature as a per-chat wait);
        ``account_id`` the shop's own bot it goes through (None: the shared bot)."""
        return await acquire(self.limiter, global_key(account_id), self.global_rate, priority=True)


def global_key(account_id: int | None = None) -> str:
    """The bucket every send of one bot takes a token from: the shared bot's, or a shop's."""
    return GLOBAL_KEY if account_id is None else f"{GLOBAL_KEY}:{account_id}"


def chat_key(chat_id: int | str, account_id: int | None = None) -> str:
    """One chat's bucket, per bot: Telegram limits each bot in each chat on its own."""
    return f"tg:chat:{chat_id}" if account_id is None else f"tg:{account_id}:chat:{chat_id}"


@lru_cache(maxsize=4)
def _no_preview(dumps: Callable[..., str]) -> str:
    """``link_preview_options`` with the preview off, as aiogram writes it, written once."""
    return dumps({"is_disabled": True})


def _button(button: Action) -> dict[str, str]:
    # aiogram's InlineKeyboardButton as it goes out: the fields that are set, in its order.
    if button.url:
        return {"text": button.label, "url": button.url}
    return {"text": button.label, "callback_data": button.id}


def _markup(rows: tuple[tuple[Action, ...], ...], dumps: Callable[..., str]) -> str | None:
    """The message's buttons, under its last part (a reader sees them after the whole text),
    as the JSON of ``reply_markup``: written here with the session's own encoder, as aiogram
    would write an ``InlineKeyboardMarkup``, without building one per message."""
    if not rows:
        return None
    return dumps({"inline_keyboard": [[_button(b) for b in row] for row in rows]})


def _chat_id(address: str) -> int | str | None:
    address = address.strip()
    if not address:
        return None
    try:
        return int(address)
    except ValueError:
        return address if address.startswith("@") else None


def _parts(message: OutboundMessage) -> tuple[_Part, ...]:
    return _split_parts(
        message.html, photo=message.photo is not None or bool(message.photo_file_id)
    )


@lru_cache(maxsize=256)
def _split_parts(html: str, *, photo: bool) -> tuple[_Part, ...]:
    """A campaign's messages differ little from person to person (the shop's name, a gift
    line): splitting each one again would parse the same HTML thousands of times."""
    if not photo:
        return tuple(_Part(piece, photo=False) for piece in split(html, TEXT_LIMIT))
    pieces = split(html, TEXT_LIMIT, first_limit=CAPTION_LIMIT)
    caption, rest = (pieces[0], pieces[1:]) if pieces else ("", [])
    return (_Part(caption, photo=True), *(_Part(piece, photo=False) for piece in rest))


def _result_for(error: Exception) -> DeliveryResult | None:
    """What a Bot API failure means for the delivery; None for errors that are bugs."""
    if isinstance(error, TelegramRetryAfter):
        return DeliveryResult.retry(Reason.RATE_LIMITED, after=error.retry_after)
    if isinstance(error, TelegramForbiddenError):
        text = error.message
        if "bot was blocked by the user" in text.lower():
            return DeliveryResult.failed(Reason.BOT_BLOCKED, unreachable=True, detail=text)
        if "user is deactivated" in text.lower():
            return DeliveryResult.failed(Reason.USER_DEACTIVATED, unreachable=True, detail=text)
        # Kicked from a group, never started by the user, a bot: nobody to deliver to.
        return DeliveryResult.failed(Reason.UNREACHABLE, unreachable=True, detail=text)
    if isinstance(error, TelegramBadRequest):
        text = error.message
        if any(marker in text.lower() for marker in _CHAT_GONE):
            return DeliveryResult.failed(Reason.CHAT_NOT_FOUND, unreachable=True, detail=text)
        return DeliveryResult.failed(Reason.BAD_REQUEST, detail=text)
    if isinstance(error, TelegramMigrateToChat):
        detail = f"chat migrated to {error.migrate_to_chat_id}"
        return DeliveryResult.failed(Reason.CHAT_NOT_FOUND, unreachable=True, detail=detail)
    if isinstance(error, TelegramEntityTooLarge):
        return DeliveryResult.failed(Reason.BAD_REQUEST, detail=error.message)
    if isinstance(error, TelegramServerError):
        return DeliveryResult.retry(Reason.SERVER_ERROR, detail=error.message)
    if isinstance(error, TelegramNetworkError):
        return DeliveryResult.retry(Reason.NETWORK_ERROR, detail=error.message)
    if isinstance(error, ClientDecodeError):
        # Telegram's front answers 502 pages in HTML when the backend is down.
        return DeliveryResult.retry(Reason.SERVER_ERROR, detail=error.message)
    if isinstance(error, TimeoutError):
        return DeliveryResult.retry(Reason.NETWORK_ERROR, detail="timeout")
    if isinstance(error, TelegramAPIError):
        # 401/404/409: our configuration (token, API URL), not the person; retrying lets an
        # operator fix it before the attempts run out.
        logger.error("Telegram API error: %s", error)
        return DeliveryResult.retry(Reason.SERVER_ERROR, detail=error.message)
    return None
