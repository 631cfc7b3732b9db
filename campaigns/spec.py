"""What a merchant asks for in a campaign, validated before anything is stored."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import regex

from campaigns.errors import InvalidCampaign
from models.enums import Channel, DeliveryPolicy

# The lock-screen line of a wallet pass; longer text is cut by the phone.
DEFAULT_PUSH_LIMIT = 20
MAX_MESSAGE = 20_000
MAX_HOLDOUT = 50
MAX_VOUCHER_TITLE = 200
MAX_VOUCHER_DAYS = 3650
# A campaign scheduled further ahead is more likely a typo in the year than a plan.
MAX_SCHEDULE_AHEAD = timedelta(days=365)
# Meta's rules for a template's name (at most 512) and its language code.
TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
TEMPLATE_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
CAMPAIGN_CHANNELS = (
    Channel.TELEGRAM,
    Channel.EMAIL,
    Channel.APPLE_WALLET,
    Channel.GOOGLE_WALLET,
    Channel.VIBER,
    Channel.WHATSAPP,
)


@dataclass(frozen=True, slots=True)
class AudienceFilter:
    """Narrows the holders of the card; every set criterion must hold."""

    new_within_days: int | None = None
    close_to_reward: int | None = None
    inactive_days: int | None = None
    birthday_this_month: bool = False
    has_unused_voucher: bool = False
    # A birthday (day and month) from today to this many days ahead, in the shop's time zone.
    birthday_within_days: int | None = None

    def validate(self) -> None:
        if self.birthday_within_days is not None and not 1 <= self.birthday_within_days <= 90:
            raise InvalidCampaign("birthday_within_days", "Birthday days must be 1 to 90.")
        for name in ("new_within_days", "inactive_days"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= 3650:
                raise InvalidCampaign(name, "Days must be 1 to 3650.")
        if self.close_to_reward is not None and not 1 <= self.close_to_reward <= 100:
            raise InvalidCampaign("close_to_reward", "Stamps missing must be 1 to 100.")

    def as_json(self) -> dict[str, int | bool]:
        data: dict[str, int | bool] = {}
        for name in (
            "new_within_days",
            "close_to_reward",
            "inactive_days",
            "birthday_within_days",
        ):
            if (value := getattr(self, name)) is not None:
                data[name] = value
        if self.birthday_this_month:
            data["birthday_this_month"] = True
        if self.has_unused_voucher:
            data["has_unused_voucher"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> AudienceFilter:
        def number(name: str) -> int | None:
            value = data.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return cls(
            new_within_days=number("new_within_days"),
            close_to_reward=number("close_to_reward"),
            inactive_days=number("inactive_days"),
            birthday_this_month=data.get("birthday_this_month") is True,
            has_unused_voucher=data.get("has_unused_voucher") is True,
            birthday_within_days=number("birthday_within_days"),
        )


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    card_id: int
    channels: tuple[Channel, ...]
    message_text: str
    push_text: str = ""
    push_text_limit: int = DEFAULT_PUSH_LIMIT
    audience: AudienceFilter = field(default_factory=AudienceFilter)
    voucher_title: str | None = None
    voucher_validity_days: int | None = None
    policy: DeliveryPolicy = DeliveryPolicy.EVERY_CHANNEL
    photo_file_id: str | None = None
    holdout_percent: int = 0
    name: str | None = None
    # Under "first reachable": the order the channels are tried in; empty means the order of
    # ``channels``. Channels missing from it come after, in the order of ``channels``.
    channel_order: tuple[Channel, ...] = ()
    # WhatsApp's approved template for people outside the 24-hour window, and its language
    # ("uk", "en_US"; empty: each person's language). Empty: they are skipped there.
    whatsapp_template: str = ""
    whatsapp_template_language: str = ""

    def ordered_channels(self) -> tuple[Channel, ...]:
        """The channels in their fallback order (the one delivery rows are made in)."""
        return delivery_order(self.channels, self.channel_order)

    def validate(self) -> None:
        if not self.channels:
            raise InvalidCampaign("channels", "Pick at least one channel.")
        if len(set(self.channels)) != len(self.channels):
            raise InvalidCampaign("channels", "Each channel once, please.")
        if unknown := [c for c in self.channels if c not in CAMPAIGN_CHANNELS]:
            raise InvalidCampaign("channels", f"Campaigns cannot use {unknown[0]} yet.")
        if len(set(self.channel_order)) != len(self.channel_order) or not set(
            self.channel_order
        ) <= set(self.channels):
            raise InvalidCampaign("channel_order", "The order lists the chosen channels once.")
        if not self.message_text.strip():
            raise InvalidCampaign("message_text", "The message is empty.")
        if len(self.message_text) > MAX_MESSAGE:
            raise InvalidCampaign("message_text", f"The message is over {MAX_MESSAGE} characters.")
        if not 1 <= self.push_text_limit <= 200:
            raise InvalidCampaign("push_text_limit", "The push limit is 1 to 200 characters.")
        if push_length(self.push_text) > self.push_text_limit:
            raise InvalidCampaign(
                "push_text",
                f"The push text is {push_length(self.push_text)} characters; "
                f"the lock screen shows {self.push_text_limit}.",
            )
        wallet = {Channel.APPLE_WALLET, Channel.GOOGLE_WALLET} & set(self.channels)
        if wallet and not self.push_text.strip():
            raise InvalidCampaign("push_text", "A wallet push needs a push text.")
        if (self.voucher_title is None) != (self.voucher_validity_days is None):
            raise InvalidCampaign("voucher", "A voucher needs both a title and a validity.")
        if self.voucher_title is not None and not self.voucher_title.strip():
            raise InvalidCampaign("voucher", "The voucher needs a title.")
        if self.voucher_title is not None and len(self.voucher_title) > MAX_VOUCHER_TITLE:
            raise InvalidCampaign(
                "voucher", f"A voucher title is at most {MAX_VOUCHER_TITLE} characters."
            )
        if (
            self.voucher_validity_days is not None
            and not 1 <= self.voucher_validity_days <= MAX_VOUCHER_DAYS
        ):
            raise InvalidCampaign("voucher", f"Voucher validity is 1 to {MAX_VOUCHER_DAYS} days.")
        if not 0 <= self.holdout_percent <= MAX_HOLDOUT:
            raise InvalidCampaign("holdout_percent", f"The holdout is 0 to {MAX_HOLDOUT}%.")
        if self.name is not None and not 1 <= len(self.name.strip()) <= 120:
            raise InvalidCampaign("name", "A campaign name is 1 to 120 characters.")
        if self.whatsapp_template and not TEMPLATE_NAME.fullmatch(self.whatsapp_template):
            raise InvalidCampaign(
                "whatsapp_template",
                "A WhatsApp template name is lower-case letters, digits and underscores.",
            )
        if self.whatsapp_template_language and not TEMPLATE_LANGUAGE.fullmatch(
            self.whatsapp_template_language
        ):
            raise InvalidCampaign("whatsapp_template_language", "A language code: uk, en_US.")
        self.audience.validate()


def check_send_time(at: datetime, now: datetime) -> None:
    """A campaign is sent now or at most ``MAX_SCHEDULE_AHEAD`` from now."""
    if at > now + MAX_SCHEDULE_AHEAD:
        raise InvalidCampaign(
            "scheduled_at",
            f"Campaigns can be scheduled up to {MAX_SCHEDULE_AHEAD.days} days ahead.",
        )


def delivery_order(
    channels: tuple[Channel, ...] | list[Channel], order: tuple[Channel, ...] | list[Channel]
) -> tuple[Channel, ...]:
    """``channels`` sorted by ``order``; those ``order`` does not name keep their place after."""
    chosen = [c for c in order if c in channels]
    return (*chosen, *(c for c in channels if c not in chosen))


def push_length(text: str) -> int:
    """Characters as a lock screen counts them: grapheme clusters, not code points or bytes.

    "é" typed as e + accent, a flag, or a family emoji joined with ZWJ is one character each.
    """
    return len(regex.findall(r"\X", text))


def default_name(card_id: int, moment: datetime, timezone: str) -> str:
    """``<cardId>_<dd.mm.yyyyHH:MM>`` in the merchant's time zone, e.g. ``183_04.05.202614:19``."""
    local = moment.astimezone(UTC).astimezone(ZoneInfo(timezone))
    return f"{card_id}_{local:%d.%m.%Y%H:%M}"
