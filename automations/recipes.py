"""The ready-made automations an owner switches on in the admin chat, each a function that
builds a ``Chain`` from a few tunable settings.

Recipes are chains like any other (the scheduler and YAML export see no difference), so an
owner who outgrows a recipe exports it and edits the YAML. Texts are written in the shop's
language when the automation is made — the ``_`` parameter is the shop language's gettext —
with the shop, card and reward filled in; an owner's own text replaces them as it is.

Refer a friend rewards both people once the friend's first stamp is in: the member shares a
personal link from the card (``loyalty.referrals``), the chain branches on who is who.

An automation keeps the tuning it was made with (``as_json``/``from_json``), so the owner can
re-tune it later in the chat; a re-tuned recipe keeps its step ids, and the people already
on their way through it go on from where they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from html import escape

from automations.chain import (
    Birthday,
    Chain,
    Condition,
    FriendVisited,
    GiftVoucher,
    Inactive,
    Joined,
    Recurring,
    Reentry,
    RewardReady,
    Send,
    Step,
    VoucherExpiring,
    Wait,
    Weekday,
)
from models.enums import Channel

Gettext = Callable[[str], str]


_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _same(text: str) -> str:
    return text


class Recipe(StrEnum):
    WELCOME = "welcome"
    REWARD_READY = "reward_ready"
    VOUCHER_EXPIRING = "voucher_expiring"
    WIN_BACK_30 = "win_back_30"
    WIN_BACK_45 = "win_back_45"
    BIRTHDAY = "birthday"
    SLOW_DAY = "slow_day"
    REFER_A_FRIEND = "refer_friend"


class Setting(StrEnum):
    """What an owner may tune in a recipe."""

    DAYS = "days"
    TEXT = "text"
    VOUCHER_TITLE = "voucher_title"
    VOUCHER_DAYS = "voucher_days"
    WEEKDAY = "weekday"
    AT = "at"


@dataclass(frozen=True, slots=True)
class ShopNames:
    """What the texts name: the shop, the card and its reward (plain text; escaped here)."""

    shop: str
    card: str
    reward: str


@dataclass(frozen=True, slots=True)
class Tuning:
    """A recipe's settings. ``text`` None: the recipe's own text in the shop's language."""

    days: int = 3
    text: str | None = None
    voucher_title: str | None = None
    voucher_days: int = 14
    weekday: Weekday = Weekday.TUE
    at: str = "10:00"


DEFAULTS: dict[Recipe, Tuning] = {
    Recipe.WELCOME: Tuning(days=3),
    Recipe.REWARD_READY: Tuning(days=3),
    Recipe.VOUCHER_EXPIRING: Tuning(days=7),
    Recipe.WIN_BACK_30: Tuning(days=30, voucher_days=14),
    Recipe.WIN_BACK_45: Tuning(days=45, voucher_days=14),
    Recipe.BIRTHDAY: Tuning(days=0, voucher_days=30),
    Recipe.SLOW_DAY: Tuning(days=0, weekday=Weekday.TUE, at="10:00"),
    Recipe.REFER_A_FRIEND: Tuning(days=0, voucher_days=30),
}

# The settings each recipe shows as buttons, in this order.
SETTINGS: dict[Recipe, tuple[Setting, ...]] = {
    Recipe.WELCOME: (Setting.DAYS, Setting.TEXT),
    Recipe.REWARD_READY: (Setting.DAYS, Setting.TEXT),
    Recipe.VOUCHER_EXPIRING: (Setting.DAYS, Setting.TEXT),
    Recipe.WIN_BACK_30: (Setting.DAYS, Setting.VOUCHER_TITLE, Setting.VOUCHER_DAYS, Setting.TEXT),
    Recipe.WIN_BACK_45: (Setting.DAYS, Setting.VOUCHER_TITLE, Setting.VOUCHER_DAYS, Setting.TEXT),
    Recipe.BIRTHDAY: (Setting.DAYS, Setting.VOUCHER_TITLE, Setting.VOUCHER_DAYS, Setting.TEXT),
    Recipe.SLOW_DAY: (Setting.WEEKDAY, Setting.AT, Setting.TEXT),
    Recipe.REFER_A_FRIEND: (Setting.VOUCHER_TITLE, Setting.VOUCHER_DAYS, Setting.TEXT),
}

# The values the "days" button steps through, per recipe (the chain's own bounds apply too).
DAY_CHOICES: dict[Recipe, tuple[int, ...]] = {
    Recipe.WELCOME: (1, 2, 3, 5, 7),
    Recipe.REWARD_READY: (1, 3, 7, 14),
    Recipe.VOUCHER_EXPIRING: (3, 7, 14),
    Recipe.WIN_BACK_30: (21, 30, 45, 60),
    Recipe.WIN_BACK_45: (30, 45, 60, 90),
    Recipe.BIRTHDAY: (0, 1, 3, 7),
    Recipe.SLOW_DAY: (0,),
    Recipe.REFER_A_FRIEND: (0,),
}
VOUCHER_DAY_CHOICES = (7, 14, 30, 60)
TIME_CHOICES = ("09:00", "10:00", "12:00", "15:00", "18:00")

CHAT_FIRST = (Channel.TELEGRAM, Channel.EMAIL)
WALLETS = (Channel.APPLE_WALLET, Channel.GOOGLE_WALLET)


def _send(text: str, *, push: str = "", voucher: GiftVoucher | None = None) -> Send:
    """Chat, or email for people the bot cannot reach in a chat."""
    return Send(channels=CHAT_FIRST, text=text, push=push[:200], voucher=voucher, policy="first")


def _names(shop: ShopNames) -> dict[str, str]:
    return {"shop": escape(shop.shop), "card": escape(shop.card), "reward": escape(shop.reward)}


def welcome(shop: ShopNames, tuning: Tuning, _: Gettext = _same) -> Chain:
    """joined → welcome → wait → (no visit since?) → a nudge."""
    names = _names(shop)
    text = tuning.text or _(
        "Welcome to {shop}! Every visit adds a stamp to your {card} card; "
        "a full card gets you {reward}."
    ).format(**names)
    nudge = _("We have not seen you yet — come by {shop} and collect your first stamp.").format(
        **names
    )
    return Chain(
        name=_("Welcome series"),
        trigger=Joined(kind="joined"),
        steps=(
            Step(id="welcome", send=_send(text)),
            Step(id="pause", wait=Wait(days=tuning.days)),
            Step.model_validate(
                {"id": "visited", "if": Condition(visited_since_enrolment=True), "then": "done"}
            ),
            Step(id="nudge", send=_send(nudge)),
            Step(id="done", stop=True),
        ),
    )


def reward_ready(shop: ShopNames, tuning: Tuning, _: Gettext = _same) -> Chain:
    text = tuning.text or _(
        "Your {reward} is waiting for you at {shop}. Show your voucher at the counter."
    ).format(**_names(shop))
    return Chain(
        name=_("Reward ready reminder"),
        trigger=RewardReady(kind="reward_ready", days=tuning.days),
        reentry=Reentry(rule="every_time"),
        steps=(Step(id="remind", send=_send(text)),),
    )


def voucher_expiring(shop: ShopNames, tuning: Tuning, _: Gettext = _same) -> Chain:
    """Also moves the wallet pass, so the lock screen shows it too."""
    names = _names(shop)
    text = tuning.text or _(
        "Your voucher at {shop} expires in a few days — use it before it is gone."
    ).format(**names)
    push = _("Your voucher expires soon")
    send = Send(channels=(*CHAT_FIRST, *WALLETS), text=text, push=push, policy="every")
    return Chain(
        name=_("Voucher expiring"),
        trigger=VoucherExpiring(kind="voucher_expiring", days=tuning.days),
        reentry=Reentry(rule="every_time"),
        steps=(Step(id="remind", send=send),),
    )


def _win_back(shop: ShopNames, tuning: Tuning, _: Gettext, *, name: str, step_id: str) -> Chain:
    names = _names(shop)
    title = tuning.voucher_title or _("A treat on us")
    text = tuning.text or _(
        "We miss you at {shop}! Here is a voucher for your next visit: {voucher}."
    ).format(voucher=escape(title), **names)
    voucher = GiftVoucher(title=title[:200], days=tuning.voucher_days)
    return Chain(
        name=name,
        trigger=Inactive(kind="inactive", days=tuning.days),
        reentry=Reentry(rule="every_time"),
        steps=(Step(id=step_id, send=_send(text, voucher=voucher)),),
    )


def win_back_30(shop: ShopNames, tuning: Tuning, _: Gettext = _same) -> Chain:
    return _win_back(shop, tuning, _, name=_("Win-back after 30 days"), step_id="win_back")


def win_back_45(shop: ShopNames, tuning: Tuning, _: Gettext = _same) -> Chain:
    """The second try, for those the first one did not bring back."""
    return _win_back(shop, tuning, _, name=_("Win-back after 45 days"), step_id="win_back_2")


def birthday(shop: ShopNames, tuning: Tuning, _: Gettext = _same) -> Chain:
    """The birthday voucher first, then the message that tells about it."""
    names = _names(shop)
    title = tuning.voucher_title or _("Birthday treat")
    text = tuning.text or _(
        "Happy birthday from {shop}! A {voucher} is waiting for you on your card."
    ).format(voucher=escape(title), **names)
    return Chain(
        name=_("Birthday offer"),
        trigger=Birthday(kind="birthday", days_before=tuning.days),
        reentry=Reentry(rule="not_within", days=300),
        steps=(
            Step(id="gift", issue=GiftVoucher(title=title[:200], days=tuning.voucher_days)),
            Step(id="greet", send=_send(text)),
        ),
    )


def slow_day(shop: ShopNames, tuning: Tuning, _: Gettext = _same) -> Chain:
    text = tuning.text or _("Quiet day at {shop} — drop in today, your stamp is waiting.").format(
        **_names(shop)
    )
    return Chain(
        name=_("Slow-day promotion"),
        trigger=Recurring(kind="recurring", weekday=tuning.weekday, at=tuning.at),
        reentry=Reentry(rule="every_time"),
        steps=(Step(id="promo", send=_send(text)),),
    )


def refer_a_friend(shop: ShopNames, tuning: Tuning, _: Gettext = _same) -> Chain:
    """friend's first visit → the member and the friend each get the voucher, with a message
    that says why (an owner's own text goes to both)."""
    names = _names(shop)
    title = tuning.voucher_title or _("A treat for bringing a friend")
    voucher = GiftVoucher(title=title[:200], days=tuning.voucher_days)
    member = tuning.text or _(
        "Your friend just collected their first stamp at {shop} — thank you for bringing "
        "them! Here is your voucher: {voucher}."
    ).format(voucher=escape(title), **names)
    friend = tuning.text or _(
        "Thanks for coming to {shop} on a friend's invitation! Here is your voucher: {voucher}."
    ).format(voucher=escape(title), **names)
    return Chain(
        name=_("Refer a friend"),
        trigger=FriendVisited(kind="friend_visited"),
        # Once per friend is the event key's doing; a member may bring many friends.
        reentry=Reentry(rule="every_time"),
        # The vouchers are issue steps, not a send's voucher: a reward earned is given even
        # when the frequency cap holds back the message that tells about it.
        steps=(
            Step.model_validate(
                {"id": "who", "if": Condition(referrer=True), "then": "gift", "else": "welcome"}
            ),
            Step(id="gift", issue=voucher),
            Step(id="member", send=_send(member), next="done"),
            Step(id="welcome", issue=voucher),
            Step(id="friend", send=_send(friend)),
            Step(id="done", stop=True),
        ),
    )


BUILDERS: dict[Recipe, Callable[[ShopNames, Tuning, Gettext], Chain]] = {
    Recipe.WELCOME: welcome,
    Recipe.REWARD_READY: reward_ready,
    Recipe.VOUCHER_EXPIRING: voucher_expiring,
    Recipe.WIN_BACK_30: win_back_30,
    Recipe.WIN_BACK_45: win_back_45,
    Recipe.BIRTHDAY: birthday,
    Recipe.SLOW_DAY: slow_day,
    Recipe.REFER_A_FRIEND: refer_a_friend,
}


def build(
    recipe: Recipe, shop: ShopNames, tuning: Tuning | None = None, _: Gettext = _same
) -> Chain:
    """The recipe's chain with ``tuning`` (its defaults when None)."""
    return BUILDERS[recipe](shop, tuning or DEFAULTS[recipe], _)


def tuned(recipe: Recipe, **changes: object) -> Tuning:
    """The recipe's defaults with some settings changed."""
    return replace(DEFAULTS[recipe], **changes)  # type: ignore[arg-type]


def as_json(tuning: Tuning) -> dict[str, object]:
    """The tuning as stored on the automation and in the chat's draft."""
    return {
        "days": tuning.days,
        "text": tuning.text,
        "voucher_title": tuning.voucher_title,
        "voucher_days": tuning.voucher_days,
        "weekday": str(tuning.weekday),
        "at": tuning.at,
    }


def from_json(recipe: Recipe, data: object) -> Tuning:
    """A stored tuning; the recipe's defaults for what is missing or not of the right kind
    (a draft of an older version, a hand-edited row)."""
    base = DEFAULTS[recipe]
    if not isinstance(data, dict):
        return base
    changes: dict[str, object] = {}
    for name in ("days", "voucher_days"):
        if isinstance(data.get(name), int) and not isinstance(data.get(name), bool):
            changes[name] = data[name]
    for name in ("text", "voucher_title"):
        if isinstance(data.get(name), str) and data[name]:
            changes[name] = data[name]
    if data.get("weekday") in {w.value for w in Weekday}:
        changes["weekday"] = Weekday(data["weekday"])
    if isinstance(data.get("at"), str) and _CLOCK.fullmatch(data["at"]):
        changes["at"] = data["at"]
    return replace(base, **changes)  # type: ignore[arg-type]
