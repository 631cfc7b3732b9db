"""Typed refusals. Every one is raised before anything is written, so it changes nothing."""

from __future__ import annotations

from datetime import datetime


class LoyaltyError(Exception):
    """Base of every rule violation; ``code`` is stable and used to pick a localized text."""

    code = "loyalty_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(LoyaltyError):
    """Unknown, or belongs to another merchant: the two are deliberately indistinguishable."""

    code = "not_found"


class CardNotFound(NotFound):
    code = "card_not_found"

    def __init__(self) -> None:
        super().__init__("This card link is unknown or no longer active.")


class CardPaused(CardNotFound):
    """The join link of a paused card: it takes no members until the shop resumes it."""

    code = "card_paused"


class CardEnded(CardNotFound):
    """The join link of a retired card: the card has ended for good."""

    code = "card_ended"


class MembershipNotFound(NotFound):
    code = "membership_not_found"

    def __init__(self) -> None:
        super().__init__("No such card holder at this shop.")


class VoucherNotFound(NotFound):
    code = "voucher_not_found"

    def __init__(self) -> None:
        super().__init__("No such voucher at this shop.")


class InviteInvalid(NotFound):
    code = "invite_invalid"

    def __init__(self) -> None:
        super().__init__("This invite link is unknown, expired or already used.")


class InvalidStampCount(LoyaltyError):
    code = "invalid_stamp_count"

    def __init__(self, count: object, maximum: int) -> None:
        super().__init__(f"Stamps per visit must be between 1 and {maximum}, not {count!r}.")
        self.count = count
        self.maximum = maximum


class InvalidIdempotencyKey(LoyaltyError):
    code = "invalid_idempotency_key"

    def __init__(self) -> None:
        super().__init__("An idempotency key is 1 to 64 printable characters.")


class StampCooldown(LoyaltyError):
    """A second scan too soon after the first is almost always a double scan."""

    code = "stamp_cooldown"

    def __init__(self, last_stamp_at: datetime, retry_at: datetime) -> None:
        super().__init__(
            f"Already stamped at {last_stamp_at:%H:%M} UTC; "
            f"the next stamp is possible from {retry_at:%H:%M} UTC."
        )
        self.last_stamp_at = last_stamp_at
        self.retry_at = retry_at


class MembershipNotActive(LoyaltyError):
    code = "membership_not_active"

    def __init__(self) -> None:
        super().__init__("This customer has left the card.")


class CustomerErased(LoyaltyError):
    code = "customer_erased"

    def __init__(self) -> None:
        super().__init__("This customer's data has been erased.")


class VoucherAlreadyRedeemed(LoyaltyError):
    code = "voucher_already_redeemed"

    def __init__(self, redeemed_at: datetime) -> None:
        super().__init__(f"Already redeemed at {redeemed_at:%Y-%m-%d %H:%M} UTC.")
        self.redeemed_at = redeemed_at


class VoucherExpired(LoyaltyError):
    code = "voucher_expired"

    def __init__(self, expired_at: datetime) -> None:
        super().__init__(f"This voucher expired on {expired_at:%Y-%m-%d %H:%M} UTC.")
        self.expired_at = expired_at


class VoucherVoid(LoyaltyError):
    code = "voucher_void"

    def __init__(self, reason: str | None) -> None:
        super().__init__(f"This voucher was cancelled ({reason or 'no reason given'}).")
        self.reason = reason


class InvalidCardSettings(LoyaltyError):
    code = "invalid_card_settings"


class InvalidMerchantSettings(LoyaltyError):
    code = "invalid_merchant_settings"


class InvalidEmail(LoyaltyError):
    code = "invalid_email"

    def __init__(self, reason: str) -> None:
        super().__init__(f"That is not an email address I can use: {reason}")
        self.reason = reason


class ConfirmationThrottled(LoyaltyError):
    """Too many confirmation emails: to this address lately, or by this customer today."""

    code = "confirmation_throttled"

    def __init__(self, retry_after: float, *, daily: bool) -> None:
        super().__init__(f"no confirmation email for another {retry_after:.0f} s")
        self.retry_after = retry_after
        self.daily = daily


class InvalidBirthday(LoyaltyError):
    code = "invalid_birthday"

    def __init__(self) -> None:
        super().__init__("Send the date as DD.MM or DD.MM.YYYY, for example 24.11.")


class InvalidLanguage(LoyaltyError):
    code = "invalid_language"

    def __init__(self, language: str) -> None:
        super().__init__(f"Unsupported language {language!r}.")


class StaffNotFound(NotFound):
    code = "staff_not_found"

    def __init__(self) -> None:
        super().__init__("No such staff member at this shop.")


class StampNotFound(NotFound):
    """No stamp of a shop this person works for (or not a stamp row at all)."""

    code = "stamp_not_found"

    def __init__(self) -> None:
        super().__init__("No such stamp at this shop.")


class StampAlreadyUndone(LoyaltyError):
    code = "stamp_already_undone"

    def __init__(self) -> None:
        super().__init__("This stamp was already taken back.")


class UndoWindowPassed(LoyaltyError):
    code = "undo_window_passed"

    def __init__(self, deadline: datetime) -> None:
        super().__init__(f"Stamps can be taken back until {deadline:%H:%M} UTC only.")
        self.deadline = deadline


class UndoNotLatest(LoyaltyError):
    """A later stamp was given on the card: undo that one first, or the balance could not be
    put back the way it was."""

    code = "undo_not_latest"

    def __init__(self) -> None:
        super().__init__("A later stamp was given on this card; undo that one first.")


class UndoRewardRedeemed(LoyaltyError):
    """The stamp completed the card and its reward was already used: nothing to take back."""

    code = "undo_reward_redeemed"

    def __init__(self, title: str, redeemed_at: datetime) -> None:
        super().__init__(f"The reward {title!r} of this stamp was redeemed at {redeemed_at}.")
        self.title = title
        self.redeemed_at = redeemed_at


class InvalidAmount(LoyaltyError):
    code = "invalid_amount"

    def __init__(self, digits: int) -> None:
        super().__init__(f"An amount is a positive number with at most {digits} decimals.")
        self.digits = digits


class AmountAlreadyRecorded(LoyaltyError):
    code = "amount_already_recorded"

    def __init__(self) -> None:
        super().__init__("A receipt amount is already recorded for this stamp.")


class InvalidExtension(LoyaltyError):
    code = "invalid_extension"

    def __init__(self, maximum: int) -> None:
        super().__init__(f"A voucher is extended by 1 to {maximum} days.")
        self.maximum = maximum


class InvalidReason(LoyaltyError):
    code = "invalid_reason"

    def __init__(self, maximum: int) -> None:
        super().__init__(f"A reason is 1 to {maximum} characters.")
        self.maximum = maximum


class InviteRevoked(InviteInvalid):
    """An owner withdrew the link before anyone used it."""

    code = "invite_revoked"

    def __init__(self) -> None:
        LoyaltyError.__init__(self, "This invite link was withdrawn by the shop.")


class LastOwner(LoyaltyError):
    """A shop always keeps one owner: the last one cannot be removed or demoted."""

    code = "last_owner"

    def __init__(self) -> None:
        super().__init__("A shop needs at least one owner.")


class OwnersOnly(LoyaltyError):
    """Staff management is the owners' alone (managers and cashiers see no such buttons)."""

    code = "owners_only"

    def __init__(self) -> None:
        super().__init__("Only the shop's owners manage its staff.")
