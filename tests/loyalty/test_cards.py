"""The rules of an owner's card settings: bounds of every value, contrast of colours, the card
states and who may change them; every refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loyalty.branding import (
    PALETTE,
    Colours,
    ColoursRefused,
    LogoRefused,
    check_colours,
    check_upload_size,
    parse_colours,
    set_colours,
    set_logo,
)
from loyalty.cards import (
    CardField,
    CardMove,
    CardMoveRefused,
    CardRetired,
    CardValueRefused,
    check_value,
    edit_card,
    move_card,
    other_active_cards,
    parse_value,
    set_card_cooldown,
)
from loyalty.errors import CardEnded, CardNotFound, CardPaused, StaffNotFound
from loyalty.memberships import card_by_join_token, join
from loyalty.merchants import accept_staff_invite, create_staff_invite
from models import AuditEntry, Card, Merchant, Staff
from models.enums import CardState, StaffRole
from tests import factories
from tests.contrast import AA_NORMAL_TEXT, contrast_ratio


@pytest.mark.parametrize(
    ("field", "typed", "value"),
    [
        (CardField.STAMPS_NEEDED, "1", 1),
        (CardField.STAMPS_NEEDED, " 100 ", 100),
        (CardField.COOLDOWN_MINUTES, "0", 0),
        (CardField.COOLDOWN_MINUTES, "1440", 1440),
        (CardField.VALIDITY_DAYS, "3650", 3650),
        (CardField.STAMPS_PER_VISIT, "10", 10),
        (CardField.NAME, "  Tea   card ", "Tea card"),
        (CardField.REWARD, "r" * 200, "r" * 200),
    ],
)
def test_values_at_their_bounds_are_taken(field: CardField, typed: str, value: object) -> None:
    assert parse_value(field, typed) == value


@pytest.mark.parametrize(
    ("field", "typed", "kind"),
    [
        (CardField.STAMPS_NEEDED, "0", "range"),
        (CardField.STAMPS_NEEDED, "101", "range"),
        (CardField.STAMPS_NEEDED, "-3", "number"),
        (CardField.STAMPS_NEEDED, "1.5", "number"),
        (CardField.STAMPS_NEEDED, "٣", "number"),  # an Arabic-Indic digit: not what we store
        (CardField.STAMPS_NEEDED, "9" * 4000, "range"),
        (CardField.COOLDOWN_MINUTES, "1441", "range"),
        (CardField.VALIDITY_DAYS, "0", "range"),
        (CardField.STAMPS_PER_VISIT, "11", "range"),
        (CardField.NAME, "   ", "length"),
        (CardField.NAME, "n" * 121, "length"),
        (CardField.REWARD, "r" * 201, "length"),
    ],
)
def test_values_out_of_bounds_are_refused(field: CardField, typed: str, kind: str) -> None:
    with pytest.raises(CardValueRefused) as refused:
        parse_value(field, typed)
    assert refused.value.kind == kind
    assert refused.value.field is field


def test_a_draft_value_of_the_wrong_type_is_refused() -> None:
    wrong: list[tuple[CardField, str | int]] = [
        (CardField.NAME, 5),
        (CardField.STAMPS_NEEDED, "5"),
        (CardField.STAMPS_NEEDED, True),
    ]
    for field, value in wrong:
        with pytest.raises(CardValueRefused):
            check_value(field, value)


def test_every_ready_combination_is_readable() -> None:
    for colours in PALETTE:
        assert check_colours(colours) == colours
        assert contrast_ratio(colours.foreground, colours.background) >= AA_NORMAL_TEXT


def test_typed_colours() -> None:
    assert parse_colours("#fdf6e3, #3b2f2f", accent="#B45309") == Colours(
        "#FDF6E3", "#3B2F2F", "#B45309"
    )
    assert parse_colours("000000 FFFFFF 22c55e", accent="#F59E0B").accent == "#22C55E"
    for typed in ("#FFF #000", "#GGGGGG #000000", "#000000", "#1 #2 #3 #4", ""):
        with pytest.raises(ColoursRefused) as refused:
            parse_colours(typed, accent="#F59E0B")
        assert refused.value.kind == "format"
    with pytest.raises(ColoursRefused) as refused:
        parse_colours("#777777 #888888", accent="#F59E0B")
    assert refused.value.kind == "contrast"
    assert refused.value.ratio == pytest.approx(contrast_ratio("#777777", "#888888"))


def test_an_upload_over_what_a_bot_may_download_is_refused() -> None:
    check_upload_size(None)
    check_upload_size(20 * 1024 * 1024)
    with pytest.raises(LogoRefused):
        check_upload_size(20 * 1024 * 1024 + 1)


async def _seat(shop: factories.NewMerchant, role: StaffRole, user: int) -> Staff:
    invite = await create_staff_invite(
        shop.merchant, role, ttl=timedelta(hours=1), created_by=None
    )
    return await accept_staff_invite(invite.token, telegram_user_id=user, display_name="x")


async def test_only_owners_may_change_cards_and_colours(db: object) -> None:
    shop = await factories.merchant()
    for n, role in enumerate((StaffRole.MANAGER, StaffRole.CASHIER)):
        seat = await _seat(shop, role, 50 + n)
        with pytest.raises(CardNotFound):
            await edit_card(seat, shop.card.id, CardField.REWARD, "Free tea")
        with pytest.raises(CardNotFound):
            await move_card(seat, shop.card.id, CardMove.RETIRE)
        with pytest.raises(StaffNotFound):
            await set_colours(seat, PALETTE[1])
        with pytest.raises(StaffNotFound):
            await set_logo(seat, b"\x89PNG\r\n\x1a\n")
    card = await Card.get(id=shop.card.id)
    assert (card.reward_text, card.state) == ("Free cappuccino", CardState.ACTIVE)
    assert (await Merchant.get(id=shop.merchant.id)).background_color == "#1F2937"
    assert not await AuditEntry.exclude(action="staff.join").exists()


async def test_an_edit_is_audited_with_old_and_new_and_a_no_op_is_not(db: object) -> None:
    shop = await factories.merchant()
    owner = await _seat(shop, StaffRole.OWNER, 40)
    edit = await set_card_cooldown(owner, shop.card.id, 10)
    assert (edit.old, edit.new) == (0, 10)
    assert (await Card.get(id=shop.card.id)).stamp_cooldown_seconds == 600
    again = await set_card_cooldown(owner, shop.card.id, 10)
    assert not again.changed
    entries = await AuditEntry.exclude(action="staff.join").all()
    assert [(e.action, e.staff_id, e.detail["old"], e.detail["new"]) for e in entries] == [
        ("card.edit", owner.id, 0, 10)
    ]
    other = await factories.merchant("B")
    with pytest.raises(CardNotFound):
        await edit_card(owner, other.card.id, CardField.NAME, "Mine now")
    assert (await Card.get(id=other.card.id)).name == "Coffee card"


async def test_card_states_and_what_the_join_link_says(db: object) -> None:
    shop = await factories.merchant()
    owner = await _seat(shop, StaffRole.OWNER, 40)
    person = await factories.customer()
    token = shop.card.join_token
    assert await other_active_cards(shop.merchant.id, shop.card.id) == 0
    with pytest.raises(CardMoveRefused):
        await move_card(owner, shop.card.id, CardMove.RESUME)

    await move_card(owner, shop.card.id, CardMove.PAUSE)
    with pytest.raises(CardPaused):
        await card_by_join_token(token)
    with pytest.raises(CardPaused):
        await join(person, await Card.get(id=shop.card.id))
    await move_card(owner, shop.card.id, CardMove.RESUME)
    assert (await card_by_join_token(token)).id == shop.card.id

    await move_card(owner, shop.card.id, CardMove.RETIRE)
    with pytest.raises(CardEnded):
        await card_by_join_token(token)
    for move in CardMove:
        with pytest.raises(CardMoveRefused):
            await move_card(owner, shop.card.id, move)
    with pytest.raises(CardRetired):
        await edit_card(owner, shop.card.id, CardField.NAME, "Back again")
    card = await Card.get(id=shop.card.id)
    assert (card.state, card.active, card.name) == (CardState.RETIRED, False, "Coffee card")
    assert await AuditEntry.filter(action__startswith="card.").count() == 3
