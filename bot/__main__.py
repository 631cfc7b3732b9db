"""The ``stampbot`` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence

from bot.config import Settings
from bot.factory import database, invite_ttl
from loyalty.errors import LoyaltyError
from loyalty.merchants import CardSpec, MerchantSpec, create_merchant
from loyalty.tokens import LinkKind, start_link
from models.db import apply_migrations


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stampbot",
        description="Messenger-first loyalty cards and campaigns for small merchants.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("migrate", help="apply database migrations (SQLite or PostgreSQL)")
    commands.add_parser("worker", help="run only a delivery worker (any number may run at once)")
    commands.add_parser(
        "web", help="run only the web app and webhook (any number behind a load balancer)"
    )
    commands.add_parser(
        "run",
        help="run the bot: long polling, or a webhook when STAMPBOT_PUBLIC_URL is set",
    )

    commands.add_parser(
        "dkim",
        help="print the DNS TXT record for the DKIM key (made first if the key file is missing)",
    )

    demo = commands.add_parser(
        "demo", help="run a scripted shop day on the embedded default and print it"
    )
    demo.add_argument(
        "--database-url",
        default=None,
        help="database for the demo (default: a fresh var/demo.sqlite3)",
    )

    merchant = commands.add_parser("merchant", help="manage merchants")
    merchant_commands = merchant.add_subparsers(dest="merchant_command", required=True)
    create = merchant_commands.add_parser(
        "create", help="create a merchant with its first card; prints the owner invite link"
    )
    create.add_argument("--name", required=True, help="shop name")
    create.add_argument("--card-name", required=True, help="name of the stamp card")
    create.add_argument("--stamps", type=int, required=True, help="stamps needed for a reward")
    create.add_argument("--reward", required=True, help="what the reward voucher is for")
    create.add_argument("--timezone", default=None, help="IANA time zone, e.g. Europe/Kyiv")
    create.add_argument("--language", default=None, help="default language, e.g. en, uk, he")
    create.add_argument("--validity-days", type=int, default=30, help="voucher validity")
    create.add_argument(
        "--cooldown", type=int, default=None, help="seconds between two stamps of one customer"
    )
    create.add_argument(
        "--max-stamps", type=int, default=None, help="most stamps staff may add in one go"
    )
    reissue = merchant_commands.add_parser(
        "invite", help="a new one-time owner invite link for a merchant (the first was lost)"
    )
    reissue.add_argument("merchant_id", type=int, help="the merchant's number (#id)")

    viber = commands.add_parser("viber", help="the Viber bot's account")
    viber_commands = viber.add_subparsers(dest="viber_command", required=True)
    viber_commands.add_parser(
        "set-webhook",
        help="point the Viber bot at STAMPBOT_PUBLIC_URL/viber/webhook (the web app must be up:"
        " Viber calls it before it answers)",
    )
    viber_commands.add_parser("remove-webhook", help="stop Viber calling this deployment")

    whatsapp = commands.add_parser("whatsapp", help="the shared WhatsApp number")
    whatsapp_commands = whatsapp.add_subparsers(dest="whatsapp_command", required=True)
    set_commands = whatsapp_commands.add_parser(
        "set-commands",
        help="list /card, /vouchers, /settings and /help in the number's chats (one language"
        " for everybody: WhatsApp keeps one list per number)",
    )
    set_commands.add_argument(
        "--language", default=None, help="their language (default: STAMPBOT_DEFAULT_LANGUAGE)"
    )
    return parser


async def _viber_webhook(settings: Settings, *, remove: bool) -> int:
    """Register (or remove) the webhook; Viber's refusal is printed with its status."""
    from bot.factory import build_viber_api
    from web.viber import VIBER_WEBHOOK_PATH

    api = build_viber_api(settings)
    if api is None:
        print("error: STAMPBOT_VIBER_AUTH_TOKEN is not set", file=sys.stderr)
        return 2
    if not remove and not settings.web.public_url:
        print(
            "error: STAMPBOT_PUBLIC_URL is not set: Viber needs an https address", file=sys.stderr
        )
        return 2
    url = "" if remove else f"{settings.web.base_url}{VIBER_WEBHOOK_PATH}"
    from channels.viber.api import ViberUnavailable

    try:
        reply = await api.set_webhook(url)
    except ViberUnavailable as exc:
        print(f"error: Viber did not answer: {exc.reason}", file=sys.stderr)
        return 1
    finally:
        await api.close()
    if not reply.ok:
        print(f"error: Viber refused: {reply.status} {reply.status_message}", file=sys.stderr)
        return 1
    print("Viber webhook removed." if remove else f"Viber calls {url} now.")
    return 0


async def _whatsapp_commands(settings: Settings, language: str | None) -> int:
    """Set the shared number's commands; Meta's refusal is printed with its message."""
    from bot.factory import build_i18n, build_whatsapp_api
    from bot.whatsapp_commands import number_commands
    from channels.whatsapp.api import WhatsAppUnavailable

    api = build_whatsapp_api(settings)
    if api is None:
        print(
            "error: STAMPBOT_WHATSAPP_ACCESS_TOKEN and STAMPBOT_WHATSAPP_PHONE_NUMBER_ID are"
            " not set",
            file=sys.stderr,
        )
        return 2
    i18n = build_i18n(settings)
    chosen = language or settings.shops.default_language
    if chosen not in i18n.available_locales:
        await api.close()
        print(f"error: no translations in {chosen!r}", file=sys.stderr)
        return 2
    commands = number_commands(i18n, chosen)
    try:
        reply = await api.set_commands(commands)
    except WhatsAppUnavailable as exc:
        print(f"error: WhatsApp did not answer: {exc.reason}", file=sys.stderr)
        return 1
    finally:
        await api.close()
    if reply.error is not None:
        print(f"error: Meta refused: {reply.error.message}", file=sys.stderr)
        return 1
    print(f"WhatsApp lists {', '.join('/' + name for name, _ in commands)} now ({chosen}).")
    return 0


async def _migrate(settings: Settings) -> int:
    applied = await apply_migrations(settings.effective_database_url)
    print(f"database: {_safe_url(settings.effective_database_url)}")
    print("applied: " + (", ".join(applied) if applied else "nothing, already up to date"))
    return 0


async def _merchant_create(settings: Settings, args: argparse.Namespace) -> int:
    merchant_spec = MerchantSpec(
        name=args.name,
        timezone=args.timezone or settings.shops.default_timezone,
        default_language=args.language or settings.shops.default_language,
    )
    card_spec = CardSpec(
        name=args.card_name,
        stamps_needed=args.stamps,
        reward_text=args.reward,
        voucher_validity_days=args.validity_days,
        max_stamps_per_call=args.max_stamps or settings.shops.max_stamps_per_call,
        stamp_cooldown_seconds=(
            settings.shops.stamp_cooldown_seconds if args.cooldown is None else args.cooldown
        ),
    )
    try:
        merchant_spec.validate()
        card_spec.validate()
    except LoyaltyError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    # Asked before anything is stored: a token Telegram refuses creates nothing.
    bot = await _bot_username(settings)
    async with database(settings):
        created = await create_merchant(merchant_spec, card_spec, invite_ttl=invite_ttl(settings))
    print(f"Merchant #{created.merchant.id} {created.merchant.name!r} created.")
    print(
        f"Card #{created.card.id} {created.card.name!r}: {created.card.stamps_needed} stamps "
        f"for {created.card.reward_text!r}."
    )
    print(
        "Owner invite (one use, valid until "
        f"{created.owner_invite.expires_at:%Y-%m-%d %H:%M} UTC):"
    )
    print("  " + start_link(bot, LinkKind.STAFF_INVITE, created.owner_invite.token))
    print("Customer join link (print it as a QR at the counter):")
    print("  " + start_link(bot, LinkKind.JOIN, created.card.join_token))
    return 0


async def _merchant_invite(settings: Settings, args: argparse.Namespace) -> int:
    from loyalty.shop_settings import reissue_owner_invite

    if not 0 < args.merchant_id < 2**31:
        print(f"error: no merchant #{args.merchant_id}", file=sys.stderr)
        return 2
    bot = await _bot_username(settings)
    async with database(settings):
        try:
            merchant, invite = await reissue_owner_invite(
                args.merchant_id, ttl=invite_ttl(settings)
            )
        except LoyaltyError:
            print(f"error: no merchant #{args.merchant_id}", file=sys.stderr)
            return 2
    print(f"New owner invite for merchant #{merchant.id} {merchant.name!r}")
    print(f"(one use, valid until {invite.expires_at:%Y-%m-%d %H:%M} UTC):")
    print("  " + start_link(bot, LinkKind.STAFF_INVITE, invite.token))
    return 0


def _dkim(settings: Settings) -> int:
    """Where and what to publish so receivers can check our signatures."""
    from bot.delivery import dkim_signer
    from channels.dkim import new_private_key

    path = settings.dkim.key_path
    if not (settings.dkim.domain and settings.dkim.selector and path):
        print(
            "error: set STAMPBOT_DKIM_DOMAIN, STAMPBOT_DKIM_SELECTOR and STAMPBOT_DKIM_KEY_PATH",
            file=sys.stderr,
        )
        return 2
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # A secret: readable by this user only, from the first byte on.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as key_file:
            key_file.write(new_private_key())
        print(f"new DKIM key written to {path}", file=sys.stderr)
    try:
        signer = dkim_signer(settings)
        assert signer is not None
        record = signer.dns_record()
    except (OSError, ValueError) as exc:
        print(f"error: the DKIM key cannot be used: {exc}", file=sys.stderr)
        return 2
    print(f"{signer.record_name}. IN TXT")
    # Resolvers join the quoted strings of a TXT record; one string may hold 255 bytes.
    print(" ".join(f'"{record[i : i + 255]}"' for i in range(0, len(record), 255)))
    return 0


async def _bot_username(settings: Settings) -> str:
    """The token's bot as Telegram names it; without a token (offline, the demo) the setting."""
    if settings.telegram.token is None:
        return settings.telegram.username
    from bot.factory import build_bot, telegram_username

    bot = build_bot(settings.telegram, replies=False)
    try:
        return await telegram_username(bot, settings.telegram)
    finally:
        await bot.session.close()


def _safe_url(url: str) -> str:
    """Database URL without a password, for printing."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}" if ":" in credentials else url
    return url


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        return await _migrate(settings)
    if args.command == "dkim":
        return _dkim(settings)
    if args.command == "merchant" and args.merchant_command == "invite":
        return await _merchant_invite(settings, args)
    if args.command == "merchant":
        return await _merchant_create(settings, args)
    if args.command in ("run", "web", "worker"):
        # Imported here: aiogram and the handlers take seconds, the other commands need neither.
        from bot.app import serve

        await serve(settings, args.command)
        return 0
    if args.command == "viber":
        return await _viber_webhook(settings, remove=args.viber_command == "remove-webhook")
    if args.command == "whatsapp":
        return await _whatsapp_commands(settings, args.language)
    if args.command == "demo":
        from demo.week import run_demo

        return await run_demo(settings, database_url=args.database_url)
    raise AssertionError(args.command)


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed: the same asyncio API on libuv, with less CPU for each
    socket round trip, and a webhook update makes five of them (bench/webhook.py)."""
    try:
        import uvloop
    except ImportError:  # Windows: the standard loop
        return None
    return uvloop.new_event_loop


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # aiogram logs every update it handled at INFO, a second line for what the access log
    # already says: at hundreds of updates a second that is a third of the webhook's CPU
    # beyond a bare bot (bench/webhook.py). Its warnings and errors still show.
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, logging.root.level))
    try:
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            return runner.run(_run(args, settings))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
