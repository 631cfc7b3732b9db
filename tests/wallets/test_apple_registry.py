"""Pass rows and registrations: what other code sees when it reports a changed pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channels.apple_wallet.channel import PassStore
from models import Membership, PassRegistration, WalletPass
from models.enums import MembershipStatus
from tests import factories
from wallets.apple_registry import (
    PassRegistry,
    Registration,
    campaign_line,
    ensure_wallet_pass,
    forget_push_tokens,
    pass_changed,
    put_campaign_line,
    register_device,
    serials_updated_since,
    start_retiring,
)

pytestmark = pytest.mark.usefixtures("db")

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


async def _pass() -> WalletPass:
    shop = await factories.merchant()
    return await ensure_wallet_pass((await factories.member(shop)).id, now=NOW)


async def test_ensuring_a_pass_twice_gives_the_same_row() -> None:
    first = await _pass()

    again = await ensure_wallet_pass(first.membership_id)

    assert (again.id, again.serial_number, again.authentication_token) == (
        first.id, first.serial_number, first.authentication_token,
    )  # fmt: skip


async def test_a_membership_without_a_pass_has_nobody_to_notify() -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)

    assert await pass_changed(member.id, campaign_message="Hello") == []
    assert await WalletPass.all().count() == 0


async def test_each_change_moves_the_tag_forward_even_at_the_same_instant() -> None:
    wallet_pass = await _pass()
    await register_device(wallet_pass, "device-1", "ab" * 32)
    await register_device(wallet_pass, "device-2", "cd" * 32)
    tags = [(await WalletPass.get(id=wallet_pass.id)).update_tag]

    for _ in range(3):
        tokens = await pass_changed(wallet_pass.membership_id, now=NOW)
        tags.append((await WalletPass.get(id=wallet_pass.id)).update_tag)

    assert tokens == ["ab" * 32, "cd" * 32]
    assert tags == sorted(set(tags))
    updated = await serials_updated_since("device-1", tags[-2])
    assert updated is not None
    assert (updated.serial_numbers, updated.last_updated) == (
        [wallet_pass.serial_number], str(tags[-1]),
    )  # fmt: skip
    assert await serials_updated_since("device-1", tags[-1]) is None


async def test_a_campaign_line_is_kept_until_the_next_one() -> None:
    wallet_pass = await _pass()

    await put_campaign_line(wallet_pass.serial_number, "Cake day!")
    await pass_changed(wallet_pass.membership_id)  # a stamp: the line stays

    assert (await WalletPass.get(id=wallet_pass.id)).campaign_message == "Cake day!"
    with pytest.raises(ValueError, match="at most"):
        await pass_changed(wallet_pass.membership_id, campaign_message="x" * 201)
    assert (await WalletPass.get(id=wallet_pass.id)).campaign_message == "Cake day!"


async def test_a_campaign_line_moves_the_tag_and_one_too_long_changes_nothing() -> None:
    wallet_pass = await _pass()

    await put_campaign_line(wallet_pass.serial_number, "Cake day!")
    await put_campaign_line("no-such-serial", "Cake day!")  # nothing to change, no error

    moved = await WalletPass.get(id=wallet_pass.id)
    assert (moved.campaign_message, moved.update_tag > wallet_pass.update_tag) == (
        "Cake day!", True,
    )  # fmt: skip
    with pytest.raises(ValueError, match="at most"):
        await put_campaign_line(wallet_pass.serial_number, "x" * 201)
    after = await WalletPass.get(id=wallet_pass.id)
    assert (after.campaign_message, after.update_tag) == ("Cake day!", moved.update_tag)


def test_a_campaign_line_is_one_line_or_the_shops_name() -> None:
    assert campaign_line("  Cake\n day!\t", "Corner Café") == "Cake day!"
    assert campaign_line(" \n ", "Corner Café") == "Corner Café"


async def _rows() -> list[tuple[object, ...]]:
    passes = await WalletPass.all().order_by("id").values_list(
        "id", "update_tag", "updated_at", "campaign_message", "retiring_since",
        "authentication_token",
    )  # fmt: skip
    devices = (
        await PassRegistration.all()
        .order_by("id")
        .values_list("id", "push_token", "retiring_asked_at")
    )
    return [*passes, *devices]


async def test_the_channels_store_names_the_devices_and_writes_nothing() -> None:
    wallet_pass = await _pass()
    await register_device(wallet_pass, "device-2", "cd" * 32)
    await register_device(wallet_pass, "device-1", "ab" * 32)
    store: PassStore = PassRegistry()  # mypy: the registry is what the channel asks for
    before = await _rows()

    assert await store.push_tokens(wallet_pass.serial_number) == ["ab" * 32, "cd" * 32]
    assert await store.push_tokens("no-such-serial") == []
    assert await _rows() == before


async def test_the_store_names_no_device_of_a_retiring_pass_unless_its_member_came_back() -> None:
    wallet_pass = await _pass()
    await register_device(wallet_pass, "device-1", "ab" * 32)
    await Membership.filter(id=wallet_pass.membership_id).update(status=MembershipStatus.LEFT)
    assert await start_retiring(wallet_pass.membership_id, now=NOW) == ["ab" * 32]
    store = PassRegistry()

    assert await store.push_tokens(wallet_pass.serial_number) == []
    await Membership.filter(id=wallet_pass.membership_id).update(status=MembershipStatus.ACTIVE)
    before = await _rows()
    assert await store.push_tokens(wallet_pass.serial_number) == ["ab" * 32]
    assert await _rows() == before  # still marked retiring: the store only reads


async def test_a_device_registers_once_per_pass() -> None:
    wallet_pass = await _pass()

    outcomes = [await register_device(wallet_pass, "device-1", "ab" * 32) for _ in range(2)]

    assert outcomes == [Registration.CREATED, Registration.UPDATED]
    assert await PassRegistration.all().count() == 1


async def test_a_push_token_apns_rejected_is_forgotten_everywhere() -> None:
    wallet_pass = await _pass()
    shop = await factories.merchant("Second shop")
    other = await ensure_wallet_pass((await factories.member(shop, telegram_id=5150)).id)
    for row in (wallet_pass, other):
        await register_device(row, "device-1", "ab" * 32)
    await register_device(wallet_pass, "device-2", "cd" * 32)

    assert await forget_push_tokens(["ab" * 32, "ab" * 32, "ef" * 32]) == 2
    assert await forget_push_tokens([]) == 0

    assert await pass_changed(wallet_pass.membership_id) == ["cd" * 32]
    assert await pass_changed(other.membership_id) == []
