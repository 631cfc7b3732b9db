"""The Apple Wallet channel on its own: a frozen in-memory store instead of the registry, the
fake APNs over HTTP/2, and no database at all (the channel must not need one, and has nothing
to write with: the composer put the campaign line on the pass before)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pytest

from channels.apple_wallet.apns import ApnsClient
from channels.apple_wallet.channel import AppleWalletChannel, PassStore
from channels.base import OutboundMessage, Outcome, Reason
from fakes.apns import FakeAPNs


@dataclass(frozen=True)
class ReadOnlyStore:
    """Passes by serial → their devices' push tokens, frozen; it offers the one read the
    channel's protocol has and nothing to write with, and notes which serials were asked."""

    devices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "devices", MappingProxyType(dict(self.devices)))

    async def push_tokens(self, serial_number: str) -> list[str]:
        self.asked.append(serial_number)
        return list(self.devices.get(serial_number, ()))


def _message(address: str, push_text: str) -> OutboundMessage:
    return OutboundMessage(
        delivery_id=1,
        channel="apple_wallet",
        address=address,
        language="en",
        right_to_left=False,
        merchant_name="Corner Café",
        subject="",
        push_text=push_text,
        html="",
    )


async def test_the_line_goes_through_the_store_and_dead_devices_come_back_to_forget(
    apns: tuple[FakeAPNs, ApnsClient],
) -> None:
    fake, client = apns
    phone, old_phone = fake.add_device(), fake.add_device()
    fake.unregister(old_phone)
    store = ReadOnlyStore(devices={"serial-1": (phone, old_phone)})

    result = await AppleWalletChannel(client, store).send(_message(" serial-1 ", "Cake day!"))

    assert (result.outcome, result.forget) == (Outcome.DELIVERED, (old_phone,))
    assert store.asked == ["serial-1"]
    assert [push.payload for push in fake.pushes_to(phone)] == [{}]


def test_the_store_the_channel_asks_for_has_one_method_and_it_reads() -> None:
    """The protocol is the whole of what an adapter may do to a pass: ask for its devices."""
    members = {name for name in vars(PassStore) if not name.startswith("_")}
    assert members == {"push_tokens"}
    store: PassStore = ReadOnlyStore()  # mypy: the frozen double is a store
    assert not hasattr(store, "put_campaign_line")


async def test_every_device_dead_is_unreachable_and_all_of_them_are_to_forget(
    apns: tuple[FakeAPNs, ApnsClient],
) -> None:
    fake, client = apns
    phone, watch = fake.add_device(), fake.add_device()
    fake.unregister(phone)
    fake.unregister(watch)
    store = ReadOnlyStore(devices={"serial-1": (phone, watch)})

    result = await AppleWalletChannel(client, store).send(_message("serial-1", "Hello"))

    assert (result.outcome, result.reason, result.unreachable) == (
        Outcome.FAILED, Reason.PASS_REMOVED, True,
    )  # fmt: skip
    assert set(result.forget) == {phone, watch}


@pytest.mark.parametrize(
    ("address", "reason"),
    [("  ", Reason.NO_ADDRESS), ("never-installed", Reason.PASS_REMOVED)],
)
async def test_nothing_is_pushed_without_an_address_or_a_device(
    apns: tuple[FakeAPNs, ApnsClient], address: str, reason: Reason
) -> None:
    """(A line too long for the pass never gets here: the composer fails that delivery.)"""
    fake, client = apns
    store = ReadOnlyStore(devices={"serial-1": (fake.add_device(),)})

    result = await AppleWalletChannel(client, store).send(_message(address, "Hello"))

    assert (result.outcome, result.reason, result.forget) == (Outcome.FAILED, reason, ())
    assert fake.requests == []
