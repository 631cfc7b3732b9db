"""The counter poster: owners and managers take a card's join QR as a print-ready PDF and PNG.

🖨 Counter poster in the admin menu → which card (when the shop has several) → A5 or A4 → the
PDF and the PNG, both as documents so Telegram sends the print resolution untouched. The quick
way, 🖨 Counter QR (the shop keyboard, the owner's first-run checklist): the A5 poster as a
photo to look at right away, with the join link and a PDF button per paper size. The poster
speaks the shop's default language, the captions the staff member's. Every press checks role
and shop again; a button for another shop's card, or a card retired meanwhile, has expired.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from conversation.links import shop_links
from handlers.admin_mode import SeatFor
from handlers.callbacks import AdminAction, AdminOp, PosterAction
from handlers.texts import bold, button_expired, ltr, user_text
from locales import NATIVE_NAMES
from loyalty.errors import CardNotFound
from loyalty.messenger_accounts import own_bot_username
from loyalty.poster import PosterCard, PosterShop, poster_shop, record_print
from loyalty.staff import Permission, allows
from loyalty.tokens import LinkKind, start_link
from models.enums import Platform
from render.poster_spec import Paper, Poster

if TYPE_CHECKING:
    from conversation.links import MessengerLinks
    from models import Staff

router = Router(name="poster")
logger = logging.getLogger(__name__)
POSTER_BUTTON = __("🖨 Counter poster")
COUNTER_QR_BUTTON = __("🖨 Counter QR")
QUICK_PAPER = Paper.A5
PRINT = Permission.PRINT_POSTER
_UNSAFE_FILE_NAME = re.compile(r'[\x00-\x1f/\\:*?"<>|]+')


def poster_texts(i18n: I18n, language: str, card: PosterCard) -> tuple[str, str, str, str]:
    """(locale, call to action, reward line, footer) in the shop's language."""
    locale = language if language in i18n.available_locales else i18n.default_locale
    with i18n.use_locale(locale):
        call = _("Scan to join and collect stamps")
        # The reward is the shop's own text in any script: isolated, so it keeps its direction.
        reward = ngettext(
            "Collect {count} stamp and get: {reward}",
            "Collect {count} stamps and get: {reward}",
            card.stamps_needed,
        ).format(count=card.stamps_needed, reward=f"\u2068{card.reward_text}\u2069")
        footer = _("Opens in Telegram")
    return locale, call, reward, footer


def poster_file_name(card_name: str, paper: Paper, extension: str) -> str:
    name = _UNSAFE_FILE_NAME.sub(" ", card_name).strip(" .")[:60] or "card"
    return f"{name} poster {paper.value}.{extension}"


def _card_label(card: PosterCard) -> str:
    name = user_text(card.name, html=False, limit=48)
    return _("{card} (paused)").format(card=name) if card.paused else name


async def _ask_paper(message: Message, shop: PosterShop, card: PosterCard) -> None:
    builder = InlineKeyboardBuilder()
    for paper in Paper:
        w, h = paper.millimetres
        builder.button(
            text=_("{paper} · {width} × {height} mm").format(paper=paper.value, width=w, height=h),
            callback_data=PosterAction(
                merchant_id=shop.merchant_id, card_id=card.id, paper=paper.value
            ),
        )
    builder.adjust(2)
    await message.answer(
        _("Which paper size for the poster of {card}?").format(card=bold(card.name)),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(AdminAction.filter(F.op == AdminOp.POSTER), SeatFor(PRINT))
async def poster_pressed(query: CallbackQuery, seat: Staff, screen: Message) -> None:
    shop = await poster_shop(seat.merchant_id)
    await query.answer()
    if not shop.cards:
        await screen.answer(_("This shop has no card to print a poster for."))
        return
    if len(shop.cards) == 1:
        await _ask_paper(screen, shop, shop.cards[0])
        return
    await _ask_card(screen, shop)


async def _ask_card(message: Message, shop: PosterShop) -> None:
    builder = InlineKeyboardBuilder()
    for card in shop.cards:
        builder.button(
            text=_card_label(card),
            callback_data=PosterAction(merchant_id=shop.merchant_id, card_id=card.id),
        )
    builder.adjust(1)
    await message.answer(_("Which card is the poster for?"), reply_markup=builder.as_markup())


@router.callback_query(PosterAction.filter(), SeatFor(PRINT))
async def poster_step(
    query: CallbackQuery,
    callback_data: PosterAction,
    bot: Bot,
    i18n: I18n,
    seat: Staff,
    screen: Message,
) -> None:
    shop = await poster_shop(seat.merchant_id)
    try:
        card = shop.card(callback_data.card_id)
        paper = Paper(callback_data.paper) if callback_data.paper else None
    except (CardNotFound, ValueError):
        await query.answer(button_expired())
        return
    await query.answer()
    if paper is None:
        await _ask_paper(screen, shop, card)
        return
    await _send_poster(bot, screen.chat.id, i18n, shop, card, paper)
    await record_print(seat, card, paper.value)


async def send_counter_qr(
    message: Message, bot: Bot, i18n: I18n, seat: Staff, links: MessengerLinks | None = None
) -> None:
    """The counter QR at once: the poster as a photo, its join link and the PDF buttons; with
    several cards, which card first (then the paper sizes, as from the poster button)."""
    if not allows(seat, Permission.PRINT_POSTER):
        await message.answer(_("Only the owner or a manager can print the counter QR."))
        return
    shop = await poster_shop(seat.merchant_id)
    if not shop.cards:
        await message.answer(_("This shop has no card to print a poster for."))
        return
    if len(shop.cards) > 1:
        await _ask_card(message, shop)
        return
    card = shop.cards[0]
    poster = await _poster(bot, i18n, shop, card, QUICK_PAPER)
    await bot.send_chat_action(message.chat.id, "upload_photo")
    from render.poster import render_poster  # here: Pillow and zxing-cpp only when one is drawn

    files = await asyncio.to_thread(render_poster, poster)
    builder = InlineKeyboardBuilder()
    for paper in Paper:
        builder.button(
            text=_("PDF to print, {paper}").format(paper=paper.value),
            callback_data=PosterAction(
                merchant_id=shop.merchant_id, card_id=card.id, paper=paper.value
            ),
        )
    builder.adjust(2)
    lines = [
        _("🖨 The counter QR of {card}. Print it and put it by the till: customers scan it to "
          "join.").format(card=bold(card.name)),
        _("Or send them this link: {link}").format(link=ltr(poster.join_url)),
    ]  # fmt: skip
    # The shop's own Viber bot, when it has one, instead of the shared one.
    own = await shop_links(links, seat.merchant_id) if links is not None else None
    lines += _other_messengers(own, card.join_token)
    if card.paused:
        lines.append(
            _("⏸ This card is paused: whoever scans the code is told so until you resume it.")
        )
    await bot.send_photo(
        message.chat.id,
        BufferedInputFile(files.png, filename=poster_file_name(card.name, QUICK_PAPER, "png")),
        caption="\n".join(lines),
        reply_markup=builder.as_markup(),
    )
    await record_print(seat, card, QUICK_PAPER.value)


@router.callback_query(AdminAction.filter(F.op == AdminOp.COUNTER_QR), SeatFor(PRINT))
async def counter_qr_pressed(
    query: CallbackQuery,
    bot: Bot,
    i18n: I18n,
    seat: Staff,
    screen: Message,
    messenger_links: MessengerLinks | None = None,
) -> None:
    await query.answer()
    await send_counter_qr(screen, bot, i18n, seat, messenger_links)


def _other_messengers(links: MessengerLinks | None, join_token: str) -> list[str]:
    """The same card's join links on Viber and WhatsApp, where the bot is on them: customers
    in Ukraine live in Viber, in Israel in WhatsApp. WhatsApp's fills the customer's message
    field with a sentence in the shop's language, the code at its end."""
    if links is None:
        return []
    lines = []
    viber = links.link(Platform.VIBER, LinkKind.JOIN, join_token)
    if viber is not None:
        lines.append(_("On Viber: {link}").format(link=ltr(viber)))
    sentence = _("Hello! I'd like to join the card: {code}")
    whatsapp = links.link(Platform.WHATSAPP, LinkKind.JOIN, join_token, sentence=sentence)
    if whatsapp is not None:
        lines.append(_("On WhatsApp: {link}").format(link=ltr(whatsapp)))
    return lines


async def _poster(
    bot: Bot, i18n: I18n, shop: PosterShop, card: PosterCard, paper: Paper
) -> Poster:
    # The shop's own bot, when it has one: whoever scans joins there and is answered there.
    username = await own_bot_username(shop.merchant_id) or (await bot.me()).username or ""
    language, call, reward, footer = poster_texts(i18n, shop.language, card)
    return Poster(
        merchant_name=shop.brand.merchant_name,
        card_name=card.name,
        call_to_action=call,
        reward_line=reward,
        footer=footer,
        join_url=start_link(username, LinkKind.JOIN, card.join_token),
        background=shop.brand.background,
        foreground=shop.brand.foreground,
        accent=shop.brand.accent,
        language=language,
        paper=paper,
        logo_png=shop.brand.logo_png,
    )


async def _send_poster(
    bot: Bot, chat_id: int, i18n: I18n, shop: PosterShop, card: PosterCard, paper: Paper
) -> None:
    poster = await _poster(bot, i18n, shop, card, paper)
    language = poster.language
    await bot.send_chat_action(chat_id, "upload_document")
    # About half a second of drawing at A4: kept off the event loop, which serves everyone.
    from render.poster import render_poster  # here: Pillow and zxing-cpp only when one is drawn

    files = await asyncio.to_thread(render_poster, poster)
    logger.info(
        "poster of card %s at %s: PNG %d bytes, PDF %d bytes",
        card.id,
        paper.value,
        len(files.png),
        len(files.pdf),
    )
    w, h = paper.millimetres
    lines = [
        _("🖨 Counter poster for {card}, {paper} ({width} × {height} mm).").format(
            card=bold(card.name), paper=paper.value, width=w, height=h
        ),
        _("Print the PDF at actual size, without scaling. The poster is in {language}.").format(
            language=NATIVE_NAMES.get(language, language)
        ),
    ]
    if card.paused:
        lines += [
            "",
            _("⏸ This card is paused: whoever scans the code is told so until you resume it."),
        ]
    await bot.send_document(
        chat_id,
        BufferedInputFile(files.pdf, filename=poster_file_name(card.name, paper, "pdf")),
        caption="\n".join(lines),
    )
    await bot.send_document(
        chat_id,
        BufferedInputFile(files.png, filename=poster_file_name(card.name, paper, "png")),
        caption=_("The same poster as a picture, 300 dpi."),
    )
