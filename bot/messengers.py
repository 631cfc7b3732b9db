"""The Viber and WhatsApp webhooks of one process, from its runtime.

Each configured messenger gets its webhook with the customer conversation behind it (answers
in the chat, receipts onto the delivery rows) and a replay guard: Redis when configured, so a
callback resent to another replica is still a repeat; one process's memory otherwise (the
embedded default runs one). A guard remembers an event as long as the platform may resend
it: Viber retries for about an hour, Meta for up to seven days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.factory import BotRuntime
    from conversation.customer import CustomerConversation
    from web.replay import Replay
    from web.shop_vibers import ShopViberWebhooks
    from web.shop_whatsapps import ShopWhatsAppWebhooks
    from web.viber import ViberWebhook
    from web.whatsapp import WhatsAppWebhook

__all__ = ["MessengerWebhooks", "customer_conversation", "messenger_webhooks"]

VIBER_REPLAY_SECONDS = 2 * 3600
WHATSAPP_REPLAY_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class MessengerWebhooks:
    viber: ViberWebhook | None = None
    whatsapp: WhatsAppWebhook | None = None
    # Shops' own Viber bots, each on /viber/<account id> (``web.shop_vibers``).
    shop_vibers: ShopViberWebhooks | None = None
    # And their own WhatsApp numbers, each on /whatsapp/<account id> (``web.shop_whatsapps``).
    shop_whatsapps: ShopWhatsAppWebhooks | None = None


def customer_conversation(runtime: BotRuntime) -> CustomerConversation:
    """What a customer on Viber or WhatsApp talks to, on this runtime's links and services."""
    from bot.factory import messenger_links
    from conversation.customer import CustomerConversation
    from conversation.receipts import DeliveryReceipts

    links = messenger_links(
        runtime.settings, runtime.username, viber=runtime.viber, whatsapp=runtime.whatsapp
    )
    return CustomerConversation(
        runtime.i18n,
        DeliveryReceipts(),
        links=links,
        signer=runtime.signer,
        staff=runtime.notifier,
        wallets=runtime.wallets,
        link_codes=runtime.link_codes,
    )


def _replay(runtime: BotRuntime, prefix: str, seconds: int) -> Replay:
    from web.replay import MemoryReplayGuard, ReplayGuard

    if runtime.redis is not None:
        return ReplayGuard(runtime.redis, prefix, seconds)
    return MemoryReplayGuard(seconds)


def _account_replay(runtime: BotRuntime, prefix: str, seconds: int) -> Callable[[int], Replay]:
    """A replay guard per shop account: each account's event tokens in a key space of their
    own (``<prefix><account id>:seen:``), as two bots may number their events alike."""
    return lambda account_id: _replay(runtime, f"{prefix}{account_id}:seen:", seconds)


def messenger_webhooks(runtime: BotRuntime) -> MessengerWebhooks:
    """The webhooks of the messengers this runtime has a client for, and of shops' own Viber
    bots and WhatsApp numbers (whether or not the deployment has shared ones)."""
    if (
        runtime.viber is None
        and runtime.whatsapp is None
        and runtime.shop_vibers is None
        and runtime.shop_whatsapps is None
    ):
        return MessengerWebhooks()
    conversation = customer_conversation(runtime)
    settings = runtime.settings
    viber = whatsapp = None
    if runtime.viber is not None and settings.viber.auth_token is not None:
        from bot.factory import viber_replies
        from web.viber import ViberWebhook

        viber = ViberWebhook(
            auth_token=settings.viber.auth_token,
            conversation=conversation,
            replies=viber_replies(settings, runtime.viber),
            replay=_replay(runtime, "stampbot:viber:seen:", VIBER_REPLAY_SECONDS),
        )
    wa = settings.whatsapp
    if runtime.whatsapp is not None and wa.app_secret is not None and wa.verify_token is not None:
        from channels.whatsapp.replies import WhatsAppReplies
        from web.whatsapp import WhatsAppWebhook

        whatsapp = WhatsAppWebhook(
            app_secret=wa.app_secret,
            verify_token=wa.verify_token,
            conversation=conversation,
            replies=WhatsAppReplies(runtime.whatsapp),
            replay=_replay(runtime, "stampbot:whatsapp:seen:", WHATSAPP_REPLAY_SECONDS),
        )
    shop_vibers = shop_whatsapps = None
    if runtime.shop_vibers is not None:
        from web.shop_vibers import ShopViberWebhooks

        shop_vibers = ShopViberWebhooks(
            runtime.shop_vibers,
            conversation,
            _account_replay(runtime, "stampbot:viber:", VIBER_REPLAY_SECONDS),
        )
    if runtime.shop_whatsapps is not None:
        from web.shop_whatsapps import ShopWhatsAppWebhooks

        shop_whatsapps = ShopWhatsAppWebhooks(
            runtime.shop_whatsapps,
            conversation,
            _account_replay(runtime, "stampbot:whatsapp:", WHATSAPP_REPLAY_SECONDS),
        )
    return MessengerWebhooks(
        viber=viber, whatsapp=whatsapp, shop_vibers=shop_vibers, shop_whatsapps=shop_whatsapps
    )
