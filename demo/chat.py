"""The customer's side of the demo: a real chat with the bot through the loopback Bot API.

The fake Telegram server from ``tests/fakes`` stands in for api.telegram.org, so the demo runs
with no token and no network, and prints exactly what the customer's phone would show.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot.app import BotRuntime, bot_runtime, set_commands
from bot.config import RedisSettings, Settings
from bot.delivery import build_worker
from bot.messengers import messenger_webhooks
from campaigns.stats import as_text, campaign_stats
from demo.messengers import Fakes, messenger_demo, messenger_fakes
from fakes.loopback import free_port
from fakes.telegram import FakeTelegramAPI, FakeUser, StoredMessage, visible
from loyalty.customers import find_customer
from loyalty.profile import set_confirmed_email
from loyalty.stamps import add_stamps
from loyalty.views import customer_cards
from models import Campaign, Customer
from models.enums import CampaignStatus, Platform
from web.app import WEBHOOK_PATH, build_web_app

_TAG = re.compile(r"<[^>]+>")
# The owner seat the shop-day part of the demo gave Marta (demo/week.py).
OWNER_TELEGRAM_ID = 900_001
# Only between this process and itself on loopback; a fresh random one would do as well.
_SECRET = secrets.token_urlsafe(24)


async def _customer(phone: _Phone) -> Customer:
    found = await find_customer(Platform.TELEGRAM, str(phone.user.id))
    assert found is not None, "joining through the chat must have created the customer"
    return found[0]


class _Phone:
    """Posts the customer's updates to our webhook and prints what comes back."""

    def __init__(self, fake: FakeTelegramAPI, user: FakeUser, say: Callable[[str], None]) -> None:
        self.fake, self.user, self.say = fake, user, say
        self._seen = 0

    def _show_new(self) -> list[StoredMessage]:
        sent = [m for m in self.fake.sent_messages(self.user.id) if m.from_bot]
        fresh, self._seen = sent[self._seen :], len(sent)
        for message in fresh:
            prefix = "   bot: "
            if message.photo:
                biggest = message.photo[-1]
                self.say(f"{prefix}[photo {biggest['width']}×{biggest['height']}]")
                prefix = "        "
            if message.document:
                document = message.document
                self.say(
                    f"{prefix}[file {document.get('file_name')}, {document['file_size']:,} bytes]"
                )
                prefix = "        "
            for line in visible(message.shown_text).splitlines():
                self.say(f"{prefix}{line}")
                prefix = "        "
            labels = [f"[{visible(b['text'])}]" for b in message.inline_buttons()]
            if labels:
                self.say("        " + " ".join(labels))
        return fresh

    async def _post(self, update: dict[str, Any]) -> list[StoredMessage]:
        delivery = await self.fake.post_update(update)
        if delivery.status != 200:
            raise RuntimeError(f"webhook answered {delivery.status}")
        return self._show_new()

    async def send(self, text: str) -> list[StoredMessage]:
        self.say(f"{self.user.first_name}: {text}")
        return await self._post(self.fake.message_update(self.user, text))

    async def tap(self, message: StoredMessage, label: str) -> list[StoredMessage]:
        buttons = message.inline_buttons()
        data = next(b["callback_data"] for b in buttons if label in visible(b["text"]))
        self.say(f"{self.user.first_name} taps [{label}]")
        return await self._post(self.fake.callback_update(self.user, message, data))

    def notifications(self) -> list[StoredMessage]:
        return self._show_new()


async def chat_demo(
    settings: Settings, *, join_token: str, merchant_id: int, say: Callable[[str], None]
) -> None:
    # Per-update access lines would drown the transcript.
    for noisy in ("aiogram.event", "aiohttp.access", "aiogram.dispatcher"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    async with (
        FakeTelegramAPI(bot_username=settings.telegram.username) as fake,
        messenger_fakes(settings) as (settings, messengers),
    ):
        bot_settings = settings.model_copy(
            update={
                "telegram": settings.telegram.model_copy(
                    update={"token": SecretStr(fake.token), "api_url": fake.base_url}
                ),
                "redis": RedisSettings(url=None),
                # The demo's people tap at machine speed; flood control is shown by its tests.
                "flood": settings.flood.model_copy(update={"burst": 100}),
                # Its campaign is sent in milliseconds: at the production round of 3 s, the
                # transcript stopped for a round or two to show the finished progress message.
                "campaigns": settings.campaigns.model_copy(
                    update={"progress_interval_seconds": 0.2}
                ),
            }
        )
        async with bot_runtime(bot_settings) as runtime:
            await _converse(fake, messengers, runtime, join_token, merchant_id, say)


async def _converse(
    fake: FakeTelegramAPI,
    messengers: Fakes,
    runtime: BotRuntime,
    join_token: str,
    merchant_id: int,
    say: Callable[[str], None],
) -> None:
    webhooks = messenger_webhooks(runtime)
    app = build_web_app(
        runtime.dispatcher,
        runtime.bot,
        webhook_secret=_SECRET,
        signer=runtime.signer,
        i18n=runtime.i18n,
        viber=webhooks.viber,
        whatsapp=webhooks.whatsapp,
    )
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await runtime.bot.set_webhook(
            f"http://127.0.0.1:{port}{WEBHOOK_PATH}", secret_token=_SECRET
        )
        await set_commands(runtime.bot, runtime.i18n)
        phone = _Phone(fake, fake.add_user(424_242, "Dana", language_code="en"), say)

        await phone.send(f"/start j-{join_token}")
        say("   ([📲 Add to phone wallet] opens Dana's card page, which shows the badge her")
        say("   phone takes: Add to Apple Wallet on an iPhone, Save to Google Wallet on Android)")
        customer = await _customer(phone)
        membership_id = (await customer_cards(customer.id))[0].membership_id
        for count in (3, 3, 3, 2):
            say(f"   (the cashier scans Dana's QR code: +{count})")
            # The owner's override, so the demo need not wait out the double-scan guard.
            result = await add_stamps(
                membership_id, count, merchant_id=merchant_id, ignore_cooldown=True
            )
            await runtime.notifier.stamps_added(customer.id, result)
            phone.notifications()
        # One voucher: the keyboard's [🎟 Vouchers] opens it straight away.
        detail = (await phone.send("🎟 Vouchers"))[-1]
        await phone.tap(detail, "Use it now")
        await phone.tap(fake.message(phone.user.id, detail.message_id), "I'm at the counter")
        final = fake.message(phone.user.id, detail.message_id)
        say("   (the voucher message itself asks and then confirms, edited in place:)")
        say("   bot: " + visible(_TAG.sub("", final.shown_text)))
        say("")
        say("8b. Two more customers join from the same poster, on Viber and on WhatsApp:")
        await messenger_demo(messengers, f"http://127.0.0.1:{port}", join_token, say)
        owner = await _campaign_demo(phone, runtime, merchant_id, say)
        await _poster_demo(owner, runtime.settings.var_dir, say)
    finally:
        await runner.cleanup()


async def _campaign_demo(
    phone: _Phone, runtime: BotRuntime, merchant_id: int, say: Callable[[str], None]
) -> _Phone:
    """The owner writes a campaign with the wizard in her own chat; it goes out by Telegram and
    email, and her progress message ends with the figures."""
    # Olena confirmed her email earlier (the demo sets it directly): she gets the email too.
    await set_confirmed_email(1001, "olena@example.com")
    owner = _Phone(phone.fake, phone.fake.add_user(OWNER_TELEGRAM_ID, "Marta"), say)
    say("")
    say("9. The owner, Marta, writes a campaign in her chat with the campaign wizard:")
    entered = await owner.send("/admin")
    # Her first /admin offers the shop's set-up; the demo shop is set up already.
    await owner.tap(entered[-1], "Skip set-up")
    # The quick path: the message, one summary with what the defaults chose, send, confirm.
    await owner.send("📣 New campaign")
    shown = await owner.send(
        "Autumn menu is here! Pumpkin latte and cinnamon buns, this week only: "
        "https://cafe.example/menu"
    )
    summary = shown[-1]
    await owner.tap(summary, "Send to")
    await owner.tap(phone.fake.message(owner.user.id, summary.message_id), "Yes, send")
    campaign = await Campaign.get(merchant_id=merchant_id)
    settings = runtime.settings
    worker = build_worker(settings, runtime.bot, runtime.limiter, runtime.signer)
    while (await Campaign.get(id=campaign.id)).status != CampaignStatus.DONE:
        await worker.tick()
    await runtime.progress.wait()
    say("   (the worker sends it; Dana's chat:)")
    phone.notifications()
    say("   (Marta's progress message, edited while it sent, now reads:)")
    progress = next(
        m
        for m in reversed(phone.fake.sent_messages(owner.user.id))
        if m.from_bot and visible(m.text or "").startswith("📣")
    )
    final = phone.fake.message(owner.user.id, progress.message_id)
    for line in visible(_TAG.sub("", final.text or "")).splitlines():
        say("   bot: " + line)
    stats = await campaign_stats(await Campaign.get(id=campaign.id))
    for line in as_text(stats).splitlines():
        say("   " + line)
    say(f"   emails written to {settings.var_dir / 'mail'}")
    return owner


async def _poster_demo(owner: _Phone, var_dir: Path, say: Callable[[str], None]) -> None:
    """The owner prints the counter poster with the card's join QR; the files the bot sent
    are kept where the transcript says."""
    say("")
    say("9b. Marta prints the counter poster from the admin menu:")
    await owner.send("/admin")
    menu = (await owner.send("More…"))[-1]  # the shop keyboard's folded menu
    size = (await owner.tap(menu, "Counter poster"))[-1]
    before = len(owner.fake.calls("sendDocument"))
    await owner.tap(size, "A5")
    folder = var_dir / "poster"
    folder.mkdir(parents=True, exist_ok=True)
    for call in owner.fake.calls("sendDocument")[before:]:
        upload = call.files[str(call.params["document"]).removeprefix("attach://")]
        (folder / (upload.filename or "poster")).write_bytes(upload.data)
    say(f"   poster files written to {folder}")
