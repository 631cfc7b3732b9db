"""The names a handler may take as parameters, and their types: aiogram's typed injection.

aiogram calls a handler with the keyword arguments whose names its signature asks for, from
the dispatcher's data. That data is what the composition root gives the ``Dispatcher``
(:class:`Services`, checked by mypy where it is built), what aiogram itself adds (the bot, the
FSM context, the user; aiogram's own ``MiddlewareData``) and what our middlewares add
(``customer``, ``identity``, ``i18n``). :class:`HandlerData` is all of it:
``tests/bot/test_handler_data.py`` fails when a handler asks for a name that is not here, which
aiogram would otherwise notice only when that handler runs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, TypedDict

from aiogram.dispatcher.middlewares.data import I18nData, MiddlewareData

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.shop_bots import ShopBots
    from bot.shop_vibers import ShopVibers
    from bot.shop_whatsapps import ShopWhatsApps
    from channels.email import EmailChannel
    from channels.telegram import TelegramChannel
    from conversation.links import MessengerLinks
    from handlers.campaign_progress import CampaignProgress
    from handlers.media import FileIdCache
    from handlers.notify import CustomerNotifier
    from handlers.wizard.screens import WizardServices
    from loyalty.linking import LinkCodes
    from loyalty.links import LinkSigner
    from loyalty.profile import ConfirmationLimits
    from models import Customer, Identity, MessengerAccount
    from wallets.service import Wallets


class Services(TypedDict):
    """The dispatcher's workflow data: built once per process, the same for every update."""

    settings: Settings
    file_cache: FileIdCache
    notifier: CustomerNotifier
    link_signer: LinkSigner
    link_codes: LinkCodes
    messenger_links: MessengerLinks
    email_channel: EmailChannel
    telegram_channel: TelegramChannel
    progress: CampaignProgress
    staff_invite_ttl: timedelta
    wallets: Wallets
    email_limits: ConfirmationLimits
    wizard: WizardServices
    shop_bots: ShopBots
    shop_vibers: ShopVibers
    shop_whatsapps: ShopWhatsApps


class CustomerData(TypedDict, total=False):
    """What ``handlers.middlewares.CustomerMiddleware`` adds to every message and callback."""

    customer: Customer | None
    identity: Identity | None
    # The shop's own bot the update came through (``web.shop_bots``); absent: the shared bot.
    messenger_account: MessengerAccount | None


class HandlerData(Services, CustomerData, MiddlewareData, I18nData, total=False):
    """Every name a handler may receive: our services, the customer, aiogram's own data
    (``bot``, ``state``, ``raw_state``, ``event_from_user``, ``event_update`` …) and the
    ``i18n`` of the locale middleware. Names a handler's own filter returns (``command``,
    ``callback_data``) come on top, per handler."""
