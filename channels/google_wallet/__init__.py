"""Google Wallet: loyalty passes through the Wallet Objects REST API, save links, messages."""

from channels.google_wallet.api import DEFAULT_API_URL, GoogleApiError, Upsert, WalletObjectsApi
from channels.google_wallet.auth import (
    WALLET_SCOPE,
    AccessTokens,
    ServiceAccount,
    ServiceAccountError,
    TokenError,
)
from channels.google_wallet.channel import (
    QUOTA_SILENT_DETAIL,
    GoogleWalletChannel,
    GoogleWalletSettings,
    google_wallet_channel,
    notified,
)
from channels.google_wallet.passes import (
    Localized,
    LoyaltyPass,
    LoyaltyProgram,
    PassIds,
    TextModule,
    class_body,
    object_body,
    pass_from_card,
    program_from_card,
)
from channels.google_wallet.quota import (
    NOTIFY_LIMIT,
    NOTIFY_WINDOW,
    NotifyCounter,
    NotifyQuota,
    RedisNotifyQuota,
)
from channels.google_wallet.save_link import SAVE_URL_PREFIX, save_claims, save_url

__all__ = [
    "DEFAULT_API_URL",
    "NOTIFY_LIMIT",
    "NOTIFY_WINDOW",
    "QUOTA_SILENT_DETAIL",
    "SAVE_URL_PREFIX",
    "WALLET_SCOPE",
    "AccessTokens",
    "GoogleApiError",
    "GoogleWalletChannel",
    "GoogleWalletSettings",
    "Localized",
    "LoyaltyPass",
    "LoyaltyProgram",
    "NotifyCounter",
    "NotifyQuota",
    "PassIds",
    "RedisNotifyQuota",
    "ServiceAccount",
    "ServiceAccountError",
    "TextModule",
    "TokenError",
    "Upsert",
    "WalletObjectsApi",
    "class_body",
    "google_wallet_channel",
    "notified",
    "object_body",
    "pass_from_card",
    "program_from_card",
    "save_claims",
    "save_url",
]
