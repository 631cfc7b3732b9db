"""A campaign not sent yet, as its author sees it: shown in their chat, rendered as the email,
or sent to themselves as a test — through the adapters and the composer campaigns use, so the
preview is what customers will get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from campaigns.composer import Composer
from channels.base import DeliveryChannel, Outcome
from locales import RIGHT_TO_LEFT
from models.enums import Channel

if TYPE_CHECKING:
    from campaigns.spec import CampaignSpec
    from channels.base import OutboundMessage


class RenderedMail(Protocol):
    @property
    def subject(self) -> str: ...
    @property
    def html(self) -> str: ...


class CampaignMailRenderer(Protocol):
    def campaign(self, message: OutboundMessage) -> RenderedMail: ...


class MailChannel(DeliveryChannel, Protocol):
    """The email adapter as the preview uses it: it sends, and it can show what it would send."""

    @property
    def renderer(self) -> CampaignMailRenderer: ...


@dataclass(frozen=True, slots=True)
class Tried:
    """How a test went: delivered, or the channel's reason for refusing it."""

    delivered: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class MailPreview:
    subject: str
    html: str


def _message(
    spec: CampaignSpec, channel: str, address: str, *, merchant_name: str, language: str
) -> OutboundMessage:
    return Composer.preview(
        spec,
        channel=channel,
        address=address,
        language=language,
        right_to_left=language in RIGHT_TO_LEFT,
        merchant_name=merchant_name,
    )


async def send_test(
    spec: CampaignSpec,
    sender: DeliveryChannel,
    *,
    channel: str,
    address: str,
    merchant_name: str,
    language: str,
) -> Tried:
    """Send the campaign's message for ``channel`` to ``address`` (the author's own)."""
    result = await sender.send(
        _message(spec, channel, address, merchant_name=merchant_name, language=language)
    )
    if result.outcome == Outcome.DELIVERED:
        return Tried(delivered=True)
    return Tried(delivered=False, detail=result.detail or str(result.reason))


def mail_preview(
    spec: CampaignSpec, mail: MailChannel, *, merchant_name: str, language: str
) -> MailPreview:
    """The email as the email adapter renders it, to show as a file rather than to send."""
    rendered = mail.renderer.campaign(
        _message(
            spec,
            Channel.EMAIL,
            "preview@example.com",
            merchant_name=merchant_name,
            language=language,
        )
    )
    return MailPreview(subject=rendered.subject, html=rendered.html)
