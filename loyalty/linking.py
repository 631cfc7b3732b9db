"""One membership across several messengers: a short code shown in one, typed in another.

A person who reaches us on Telegram, Viber and WhatsApp is one :class:`~models.Customer` with
one :class:`~models.Identity` per messenger. :meth:`LinkCodes.issue` gives the customer a code
in the messenger they are in; :meth:`LinkCodes.redeem`, called from the messenger where it is
typed, attaches that messenger's identity to the customer. When that identity already has a
customer of its own (the person joined cards on both messengers separately) the two customers
become one (``loyalty.merge``): one card per shop with the stamps and vouchers of both.

Nothing here knows a messenger's API: Telegram's handlers and the Viber/WhatsApp conversation
call the same two methods and word the :class:`LinkOutcome` themselves.

The codes live in a :class:`LinkCodeStore` only (Redis, or the process's memory in the embedded
default without Redis), never in the database: they are worth something for 15 minutes, and a
lost one costs a tap on "Link another messenger". The store holds a keyed hash of each code
(HMAC-SHA256 under a key the store does not have), so a copy of Redis gives nobody a code to
type; the codes themselves are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from redis.asyncio import Redis
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from loyalty.clock import ensure_utc
from loyalty.errors import CustomerErased
from loyalty.merge import merge_customers
from models import Customer, Identity
from models.enums import Platform

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "LinkCode",
    "LinkCodeStore",
    "LinkCodes",
    "LinkOutcome",
    "LinkStatus",
    "MemoryLinkCodeStore",
    "RedisLinkCodeStore",
    "StoredCode",
    "looks_like_link_code",
    "normalize_link_code",
]

logger = logging.getLogger(__name__)

# Crockford's base32: digits and capitals without I, L, O and U, so what is read aloud or
# retyped from another phone's screen is hard to get wrong (and O, I, L typed are read as 0, 1).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Nine characters (45 bits), shown in threes: K7Q-D3M-XPA. Not eight: the till's code under a
# customer's QR is eight letters and digits and the counter reads any such text a staff member
# types (``handlers.counter.TypedCode``), and vouchers are twelve; nine is nobody else's.
CODE_LENGTH = 9
CODE_GROUP = 3
LIFETIME = timedelta(minutes=15)
# Wrong codes one messenger account may type per window before it must wait for the next.
MAX_WRONG_ATTEMPTS = 5
ATTEMPT_WINDOW = timedelta(minutes=15)

_DIGITS = frozenset("23456789")
_CONFUSIONS = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Spaces, dashes (phones turn "-" into en or em dashes), underscores and dots between groups.
_SEPARATORS = re.compile(r"[\s\-_.\u2010-\u2015\u2212]+")
_GROUPED = re.compile(r"\w{3}[\s\-_.\u2010-\u2015\u2212]+\w{3}[\s\-_.\u2010-\u2015\u2212]+\w{3}")
_MAX_TYPED = 40


def new_link_code() -> str:
    """Nine random characters, at least one of them a digit 2-9, so a code typed without its
    dashes still looks like a code and not like a word (see :func:`looks_like_link_code`)."""
    while True:
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if _DIGITS.intersection(raw):
            return raw


def grouped(raw: str) -> str:
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, len(raw), CODE_GROUP))


def normalize_link_code(text: str) -> str | None:
    """The code as issued, from what a person typed: any case, with or without dashes or
    spaces, O for 0 and I or L for 1. ``None`` when it cannot be a code."""
    if len(text) > _MAX_TYPED:
        return None
    raw = _SEPARATORS.sub("", text.strip().upper()).translate(_CONFUSIONS)
    if len(raw) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return raw


def looks_like_link_code(text: str) -> str | None:
    """The code in a plain message, when the message is one: typed in its three groups, or
    with a digit in it. "chocolate" normalises to a valid code too, but a person sending a
    word to the bot means the word, so it goes to the usual answer instead."""
    raw = normalize_link_code(text)
    if raw is None:
        return None
    if _GROUPED.fullmatch(text.strip()) or any(ch.isdigit() for ch in text):
        return raw
    return None


# ---- the store -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredCode:
    """What the store keeps under a code's hash: whose it is, where it was shown, until when
    (seconds since the epoch)."""

    customer_id: int
    platform: Platform
    expires_at: float

    def encode(self) -> str:
        return f"{self.customer_id}:{self.platform.value}:{self.expires_at!r}"

    @classmethod
    def decode(cls, value: str | bytes) -> StoredCode:
        text = value.decode() if isinstance(value, bytes) else value
        customer, platform, expires = text.split(":")
        return cls(int(customer), Platform(platform), float(expires))


class LinkCodeStore(Protocol):
    """Codes by hash, one live code per customer, and wrong attempts per typing account.

    Every call takes ``now`` (seconds since the epoch) from :class:`LinkCodes`, so expiry and
    attempt windows follow the caller's clock, and tests can move it."""

    async def put(self, digest: str, code: StoredCode, *, now: float) -> bool:
        """Keep ``code`` under ``digest`` until it expires and drop the customer's previous
        code; False (and nothing stored) when that hash is somebody's live code already."""
        ...

    async def get(self, digest: str, *, now: float) -> StoredCode | None: ...

    async def take(self, digest: str, *, now: float) -> StoredCode | None:
        """Remove and return the code: of two redeems at once only one gets it."""
        ...

    async def failures(self, who: str, window: int, *, now: float) -> int:
        """Wrong attempts of ``who`` in the current window of ``window`` seconds."""
        ...

    async def fail(self, who: str, window: int, *, now: float) -> int:
        """Count one more wrong attempt; the count in this window, this one included."""
        ...


_PUT_SCRIPT = """
-- KEYS[1]: the customer's pointer, KEYS[2]: the new code's key
-- ARGV: value, ttl seconds, code key prefix, new digest
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local old = redis.call('GET', KEYS[1])
if old then
  redis.call('DEL', ARGV[3] .. old)
end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
redis.call('SET', KEYS[1], ARGV[4], 'EX', ARGV[2])
return 1
"""


def _ttl(code: StoredCode, now: float) -> int:
    return max(1, math.ceil(code.expires_at - now))


def _window_index(window: int, now: float) -> int:
    return int(now // window)


class RedisLinkCodeStore:
    """Shared by every replica, so a code shown by one is redeemed by another."""

    def __init__(self, redis: Redis, *, prefix: str = "stampbot:link:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._put = redis.register_script(_PUT_SCRIPT)

    def _code_key(self, digest: str) -> str:
        return f"{self._prefix}code:{digest}"

    async def put(self, digest: str, code: StoredCode, *, now: float) -> bool:
        stored = await self._put(
            keys=[f"{self._prefix}owner:{code.customer_id}", self._code_key(digest)],
            args=[code.encode(), _ttl(code, now), self._code_key(""), digest],
        )
        return bool(int(stored))

    async def get(self, digest: str, *, now: float) -> StoredCode | None:
        return self._live(await self._redis.get(self._code_key(digest)), now)

    async def take(self, digest: str, *, now: float) -> StoredCode | None:
        return self._live(await self._redis.getdel(self._code_key(digest)), now)

    @staticmethod
    def _live(value: bytes | str | None, now: float) -> StoredCode | None:
        if value is None:
            return None
        code = StoredCode.decode(value)
        return code if code.expires_at > now else None

    def _fail_key(self, who: str, window: int, now: float) -> str:
        return f"{self._prefix}fail:{who}:{_window_index(window, now)}"

    async def failures(self, who: str, window: int, *, now: float) -> int:
        value = await self._redis.get(self._fail_key(who, window, now))
        return int(value) if value is not None else 0

    async def fail(self, who: str, window: int, *, now: float) -> int:
        key = self._fail_key(who, window, now)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window)
            count, _expiry = await pipe.execute()
        return int(count)


class MemoryLinkCodeStore:
    """The embedded default's store: one process, the same rules, at most ``limit`` entries
    of each kind (the oldest go first), so a flood cannot grow it without bound."""

    def __init__(self, *, limit: int = 100_000) -> None:
        self._limit = limit
        self._codes: OrderedDict[str, StoredCode] = OrderedDict()
        self._owners: dict[int, str] = {}
        self._fails: OrderedDict[tuple[str, int], tuple[int, float]] = OrderedDict()

    def _sweep(self, now: float) -> None:
        """Drop what has expired, oldest first: codes and windows are kept in the order they
        were made and every one lasts as long, so the first one still alive ends the sweep."""
        while self._codes:
            digest, code = next(iter(self._codes.items()))
            if code.expires_at > now:
                break
            self._drop(digest)
        while self._fails and next(iter(self._fails.values()))[1] <= now:
            self._fails.popitem(last=False)

    def _drop(self, digest: str) -> StoredCode | None:
        code = self._codes.pop(digest, None)
        if code is not None and self._owners.get(code.customer_id) == digest:
            del self._owners[code.customer_id]
        return code

    async def put(self, digest: str, code: StoredCode, *, now: float) -> bool:
        self._sweep(now)
        if digest in self._codes:
            return False
        old = self._owners.get(code.customer_id)
        if old is not None:
            self._drop(old)
        self._codes[digest] = code
        self._owners[code.customer_id] = digest
        while len(self._codes) > self._limit:
            self._drop(next(iter(self._codes)))
        return True

    async def get(self, digest: str, *, now: float) -> StoredCode | None:
        code = self._codes.get(digest)
        return code if code is not None and code.expires_at > now else None

    async def take(self, digest: str, *, now: float) -> StoredCode | None:
        code = self._drop(digest)
        return code if code is not None and code.expires_at > now else None

    async def failures(self, who: str, window: int, *, now: float) -> int:
        found = self._fails.get((who, _window_index(window, now)))
        return found[0] if found is not None else 0

    async def fail(self, who: str, window: int, *, now: float) -> int:
        self._sweep(now)
        index = _window_index(window, now)
        count = self._fails.get((who, index), (0, 0.0))[0] + 1
        self._fails[(who, index)] = (count, (index + 1) * window)
        while len(self._fails) > self._limit:
            self._fails.popitem(last=False)
        return count


# ---- issuing and redeeming ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkCode:
    """A code to show: ``code`` grouped as typed (K7Q-D3M-XPA). Its repr leaves the code out,
    so a logged object gives nothing away."""

    code: str = field(repr=False)
    platform: Platform
    expires_at: datetime


class LinkStatus(StrEnum):
    LINKED = "linked"
    """The typing account was new to us: it now belongs to the code's customer."""
    ALREADY_LINKED = "already_linked"
    """The typing account was the code's customer's already: nothing changed."""
    MERGED = "merged"
    """The typing account had a customer of its own, now merged into the code's customer."""
    SAME_MESSENGER = "same_messenger"
    """The code was typed in the messenger that showed it; it stays valid for another one."""
    INVALID = "invalid"
    """Not a live code: mistyped, expired, used already, or replaced by a newer one."""
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    """Too many wrong codes from this account lately; ``retry_at`` says until when."""


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    status: LinkStatus
    customer_id: int | None = None
    """The customer the typing account belongs to now (when linked, already or merged)."""
    issued_on: Platform | None = None
    """The messenger that showed the code (when it was a live code)."""
    merged_customer_id: int | None = None
    """MERGED: the customer merged away. It is gone, or kept as an anonymous row when it
    held a card the code's customer held too (its emptied membership keeps its ledger): the
    caller lets the wallets forget its left memberships
    (``Wallets.forget_left_memberships``)."""
    rewards: int = 0
    """MERGED: reward vouchers issued because the stamps of both filled a card."""
    retry_at: datetime | None = None
    """TOO_MANY_ATTEMPTS: when this account may type codes again."""

    @property
    def linked(self) -> bool:
        return self.status in (LinkStatus.LINKED, LinkStatus.ALREADY_LINKED, LinkStatus.MERGED)


@dataclass(frozen=True, slots=True)
class _Profile:
    first_name: str | None
    last_name: str | None
    username: str | None
    language: str | None
    language_code: str | None


class LinkCodes:
    """Issue and redeem link codes; one per process, built by ``bot.factory.build_link_codes``.

    ``key`` (32 random bytes, kept out of the store) is what the codes and the typing accounts
    are hashed with before they reach the store.

    Why the wrong attempts are limited: a code has 45 bits, far too many to guess in 15
    minutes by hand, but a script typing codes in a messenger gets thousands of tries a
    minute, and every live code of every customer is a target (with a thousand live codes, one
    guess in 2^35 hits one). At ``MAX_WRONG_ATTEMPTS`` per ``ATTEMPT_WINDOW`` an account gets
    480 guesses a day; a real person who mistypes a code five times waits a quarter of an
    hour, with a fresh code one tap away. The count is kept per typing account (the hash of
    messenger and id), in the same store as the codes.
    """

    def __init__(
        self,
        store: LinkCodeStore,
        key: bytes,
        *,
        lifetime: timedelta = LIFETIME,
        max_wrong_attempts: int = MAX_WRONG_ATTEMPTS,
        attempt_window: timedelta = ATTEMPT_WINDOW,
    ) -> None:
        if len(key) < 16:
            raise ValueError("the link code key must have at least 16 bytes")
        self._store = store
        self._key = key
        self.lifetime = lifetime
        self._max_wrong = max_wrong_attempts
        self._window = max(1, int(attempt_window.total_seconds()))

    def _digest(self, purpose: str, value: str) -> str:
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    async def issue(
        self, customer_id: int, platform: Platform, *, now: datetime | None = None
    ) -> LinkCode:
        """A new code for ``customer_id``, shown in ``platform``; the customer's previous code
        stops working. Raises ``CustomerErased`` for a customer who is gone."""
        customer = await Customer.get_or_none(id=customer_id)
        if customer is None or customer.erased_at is not None:
            raise CustomerErased()
        moment = ensure_utc(now)
        expires = moment + self.lifetime
        stored = StoredCode(customer_id, platform, expires.timestamp())
        while True:
            raw = new_link_code()
            if await self._store.put(self._digest("code", raw), stored, now=moment.timestamp()):
                logger.info("link code issued for customer %s in %s", customer_id, platform)
                return LinkCode(code=grouped(raw), platform=platform, expires_at=expires)

    async def redeem(
        self,
        code: str,
        platform: Platform,
        external_id: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language: str | None = None,
        language_code: str | None = None,
        now: datetime | None = None,
    ) -> LinkOutcome:
        """Attach the account ``external_id`` on ``platform`` (the messenger the code is typed
        in) to the customer whose code ``code`` is. The name and language fields are those
        :func:`~loyalty.customers.customer_for_identity` takes: they fill what the customer
        has not set. A refusal changes nothing and never raises."""
        moment = ensure_utc(now)
        at = moment.timestamp()
        raw = normalize_link_code(code)
        if raw is None:
            return LinkOutcome(LinkStatus.INVALID)
        who = self._digest("who", f"{platform.value}:{external_id}")
        if await self._store.failures(who, self._window, now=at) >= self._max_wrong:
            return self._throttled(at)
        digest = self._digest("code", raw)
        stored = await self._store.get(digest, now=at)
        if stored is None:
            count = await self._store.fail(who, self._window, now=at)
            logger.info("link code refused in %s: not a live code (%d wrong)", platform, count)
            return LinkOutcome(LinkStatus.INVALID)
        if stored.platform == platform:
            return LinkOutcome(LinkStatus.SAME_MESSENGER, issued_on=stored.platform)
        # Taken before anything is written: of two accounts typing one code, one gets it.
        if await self._store.take(digest, now=at) is None:
            return LinkOutcome(LinkStatus.INVALID)
        profile = _Profile(first_name, last_name, username, language, language_code)
        try:
            outcome = await _attach(stored, platform, external_id, profile, moment)
        except IntegrityError:
            # The account wrote its first message while we linked it: it exists now, so the
            # second pass finds it (and merges it).
            outcome = await _attach(stored, platform, external_id, profile, moment)
        logger.info(
            "link code from %s redeemed in %s: %s", stored.platform, platform, outcome.status
        )
        return outcome

    def _throttled(self, at: float) -> LinkOutcome:
        until = (_window_index(self._window, at) + 1) * self._window
        return LinkOutcome(
            LinkStatus.TOO_MANY_ATTEMPTS, retry_at=datetime.fromtimestamp(until, tz=UTC)
        )


async def _attach(
    stored: StoredCode,
    platform: Platform,
    external_id: str,
    profile: _Profile,
    moment: datetime,
) -> LinkOutcome:
    async with in_transaction():
        owner = await Customer.select_for_update().get_or_none(id=stored.customer_id)
        if owner is None or owner.erased_at is not None:
            # Erased, or merged into another customer, since the code was shown.
            return LinkOutcome(LinkStatus.INVALID)
        identity = await Identity.select_for_update().get_or_none(
            platform=platform, external_id=external_id
        )
        if identity is None:
            await Identity.create(
                customer_id=owner.id,
                platform=platform,
                external_id=external_id,
                username=(profile.username or "")[:64] or None,
                language_code=(profile.language_code or "")[:16] or None,
            )
            await _fill_profile(owner, profile)
            return LinkOutcome(LinkStatus.LINKED, customer_id=owner.id, issued_on=stored.platform)
        if identity.customer_id == owner.id:
            return LinkOutcome(
                LinkStatus.ALREADY_LINKED, customer_id=owner.id, issued_on=stored.platform
            )
        other = await Customer.select_for_update().get(id=identity.customer_id)
        rewards = await merge_customers(other, owner, now=moment)
        return LinkOutcome(
            LinkStatus.MERGED,
            customer_id=owner.id,
            issued_on=stored.platform,
            merged_customer_id=other.id,
            rewards=rewards,
        )


async def _fill_profile(customer: Customer, profile: _Profile) -> None:
    """A linked account's name and language fill only what the customer has not set."""
    changed: list[str] = []
    if not customer.first_name and profile.first_name:
        customer.first_name = profile.first_name[:128]
        customer.last_name = (profile.last_name or "")[:128] or None
        changed += ["first_name", "last_name"]
    if not customer.language and profile.language:
        customer.language = profile.language
        changed.append("language")
    if changed:
        await customer.save(update_fields=changed)
