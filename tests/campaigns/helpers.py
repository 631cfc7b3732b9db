"""A scripted channel (our own protocol, not an external service), campaign builders, and
members and workers on the messengers (the real Viber and WhatsApp channels on their fakes)."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import timedelta

from campaigns.composer import Composer
from campaigns.service import create_campaign, send_now
from campaigns.spec import CampaignSpec
from campaigns.sql import connection
from campaigns.worker import DeliveryWorker
from channels.base import DeliveryChannel, DeliveryResult, OutboundMessage
from channels.viber.api import ViberApi
from channels.whatsapp.api import WhatsAppApi
from locales import RIGHT_TO_LEFT, SUPPORTED
from loyalty.clock import utcnow
from loyalty.customers import customer_for_identity
from loyalty.links import LinkSigner
from loyalty.memberships import join
from loyalty.merchants import NewMerchant
from models import Campaign, Customer, Identity
from models.enums import Channel, Platform
from tests.viber_fixtures import viber_channel
from tests.whatsapp_fixtures import whatsapp_channel

SIGNER = LinkSigner(b"k" * 32, "http://127.0.0.1:8080")


@dataclass
class ScriptedChannel:
    """Answers from a per-address script (default: delivered) and records every message."""

    name: str
    script: dict[str, deque[DeliveryResult]] = field(default_factory=lambda: defaultdict(deque))
    sent: list[OutboundMessage] = field(default_factory=list)
    delay: float = 0.0

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.sent.append(message)
        queue = self.script.get(message.address)
        if queue:
            return queue.popleft()
        return DeliveryResult.delivered(external_id=f"{self.name}-{message.delivery_id}")


def worker(*channels: ScriptedChannel, **kwargs: object) -> DeliveryWorker:
    composer = Composer(SIGNER, supported=SUPPORTED, right_to_left=RIGHT_TO_LEFT)
    return DeliveryWorker(
        {c.name: c for c in channels},
        composer,
        lease=timedelta(seconds=60),
        **kwargs,  # type: ignore[arg-type]
    )


async def audience(
    shop: NewMerchant, count: int, *, email_verified: bool = True, first_id: int = 5_000
) -> list[Customer]:
    people = []
    for n in range(count):
        person = await customer_for_identity(
            Platform.TELEGRAM, str(first_id + n), first_name=f"P{n}", language_code="en"
        )
        person.email = f"p{n}@example.com"
        person.email_verified = email_verified
        await person.save()
        await join(person, shop.card)
        people.append(person)
    return people


async def started(
    shop: NewMerchant, *channels: Channel, text: str = "Hello <b>friends</b>", **spec: object
) -> Campaign:
    campaign = await create_campaign(
        shop.merchant.id,
        CampaignSpec(
            card_id=shop.card.id,
            channels=channels,
            message_text=text,
            **spec,  # type: ignore[arg-type]
        ),
    )
    return await send_now(campaign)


async def messenger_member(
    shop: NewMerchant,
    *,
    telegram: str | None = None,
    viber: str | None = None,
    whatsapp: str | None = None,
    wrote_ago: timedelta | None = None,
) -> Customer:
    """A member known in any of the messengers (one customer); ``wrote_ago``: when they last
    wrote in WhatsApp."""
    person: Customer | None = None
    for platform, external_id, language in (
        (Platform.TELEGRAM, telegram, "en"),
        (Platform.VIBER, viber, "uk"),
        (Platform.WHATSAPP, whatsapp, "he"),
    ):
        if external_id is None:
            continue
        if person is None:
            person = await customer_for_identity(platform, external_id, language_code=language)
        else:
            await Identity.create(customer=person, platform=platform, external_id=external_id)
    assert person is not None
    if wrote_ago is not None:
        await Identity.filter(customer_id=person.id, platform=Platform.WHATSAPP).update(
            last_inbound_at=utcnow() - wrote_ago
        )
    await join(person, shop.card)
    return person


def messenger_worker(
    telegram: ScriptedChannel,
    viber_api: ViberApi,
    whatsapp_api: WhatsAppApi | None = None,
    *,
    broadcast: bool = False,
) -> DeliveryWorker:
    composer = Composer(SIGNER, supported=SUPPORTED, right_to_left=RIGHT_TO_LEFT)
    channels: dict[str, DeliveryChannel] = {
        "telegram": telegram,
        "viber": viber_channel(viber_api, broadcast=broadcast),
    }
    if whatsapp_api is not None:
        channels["whatsapp"] = whatsapp_channel(whatsapp_api)
    return DeliveryWorker(channels, composer)


async def orphan_deliveries() -> int:
    """Delivery rows whose campaign, customer or enrolment is gone, counted in the database:
    no foreign key keeps them from being left behind (see ``models.Delivery``)."""
    _, rows = await connection().execute_query(
        "SELECT COUNT(*) AS n FROM delivery d WHERE NOT EXISTS (SELECT 1 FROM campaign k "
        "WHERE k.id = d.campaign_id) OR NOT EXISTS (SELECT 1 FROM customer c "
        "WHERE c.id = d.customer_id) OR (d.enrollment_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM enrollment e WHERE e.id = d.enrollment_id))"
    )
    return int(dict(rows[0])["n"])
