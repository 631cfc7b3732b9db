"""The Apple Wallet channel on its own: an in-memory store instead of the registry, the fake
APNs over HTTP/2, and no database at all (the channel must not need one)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from channels.apple_wallet.apns import ApnsClient
from channels.apple_wallet.channel import AppleWalletChannel
from channels.base import OutboundMessage, Outcome, Reason
from fakes.apns import FakeAPNs


@dataclass
class MemoryStore:
    """Passes by serial: the devices' push tokens, and the lines put on them."""

    devices: dict[str, list[str]] = field(default_factory=dict)
    lines: list[tuple[str, str]] = field(default_factory=list)

    async def put_campaign_line(self, serial_number: str, text: str) -> list[str]:
        if len(text) > 20:
            raise ValueError("a pass campaign message has at most 20 characters")
        self.lines.append((serial_number, text))
        return list(self.devices.get(serial_number, []))


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
    store = MemoryStore(devices={"serial-1": [phone, old_phone]})

    result = await AppleWalletChannel(client, store).send(_message(" serial-1 ", "Cake\n day!"))

    assert (result.outcome, result.forget) == (Outcome.DELIVERED, (old_phone,))
    assert store.lines == [("serial-1", "Cake day!")]
    assert [push.payload for push in fake.pushes_to(phone)] == [{}]


async def test_every_device_dead_is_unreachable_and_all_of_them_are_to_forget(
    apns: tuple[FakeAPNs, ApnsClient],
) -> None:
    fake, client = apns
    phone, watch = fake.add_device(), fake.add_device()
    fake.unregister(phone)
    fake.unregister(watch)
    store = MemoryStore(devices={"serial-1": [phone, watch]})

    result = await AppleWalletChannel(client, store).send(_message("serial-1", "Hello"))

    assert (result.outcome, result.reason, result.unreachable) == (
        Outcome.FAILED, Reason.PASS_REMOVED, True,
    )  # fmt: skip
    assert set(result.forget) == {phone, watch}


@pytest.mark.parametrize(
    ("address", "push_text", "reason"),
    [
        ("  ", "Hello", Reason.NO_ADDRESS),
        ("serial-1", "A line far too long for this pass", Reason.BAD_REQUEST),
        ("never-installed", "Hello", Reason.PASS_REMOVED),
    ],
)
async def test_nothing_is_pushed_without_an_address_a_fitting_line_or_a_device(
    apns: tuple[FakeAPNs, ApnsClient], address: str, push_text: str, reason: Reason
) -> None:
    fake, client = apns
    store = MemoryStore(devices={"serial-1": [fake.add_device()]})

    result = await AppleWalletChannel(client, store).send(_message(address, push_text))

    assert (result.outcome, result.reason, result.forget) == (Outcome.FAILED, reason, ())
    assert fake.requests == []
