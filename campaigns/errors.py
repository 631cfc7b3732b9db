"""Refusals of the campaign service; like loyalty's, each changes nothing."""

from __future__ import annotations

from loyalty.errors import LoyaltyError, NotFound


class CampaignError(LoyaltyError):
    code = "campaign_error"


class CampaignNotFound(NotFound):
    code = "campaign_not_found"

    def __init__(self) -> None:
        super().__init__("No such campaign at this shop.")


class InvalidCampaign(CampaignError):
    code = "invalid_campaign"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class WrongCampaignState(CampaignError):
    code = "wrong_campaign_state"

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"A {status} campaign cannot be {action}.")
        self.action = action
        self.status = status
