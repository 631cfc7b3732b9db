"""The customer conversation as the running product builds it: the runtime's languages,
links signer (its base URL is the test web app's, so card pictures can be fetched), staff
notices and wallets, and the messengers' join links."""

from __future__ import annotations

import pytest

from bot.app import BotRuntime
from conversation.customer import CustomerConversation
from conversation.links import MessengerLinks
from conversation.receipts import DeliveryReceipts

VIBER_URI = "kafelviv"
WHATSAPP_NUMBER = "972501234567"


@pytest.fixture
def customer_conversation(runtime: BotRuntime, webhook_url: str) -> CustomerConversation:
    return CustomerConversation(
        runtime.i18n,
        DeliveryReceipts(),
        links=MessengerLinks(
            telegram_username=runtime.username,
            viber_uri=VIBER_URI,
            whatsapp_number=WHATSAPP_NUMBER,
        ),
        signer=runtime.signer,
        staff=runtime.notifier,
        wallets=runtime.wallets,
        link_codes=runtime.link_codes,
    )
