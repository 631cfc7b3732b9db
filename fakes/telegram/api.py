"""The whole fake: the server plumbing with every group of methods mixed in."""

from __future__ import annotations

from .callbacks import CallbackMethods
from .editing import EditingMethods
from .files import FileMethods
from .profile import ProfileMethods
from .sending import SendingMethods
from .server import ApiServer
from .updates import UpdateMethods
from .users import UserActions


class FakeTelegramAPI(
    ApiServer,
    UpdateMethods,
    SendingMethods,
    EditingMethods,
    CallbackMethods,
    ProfileMethods,
    FileMethods,
    UserActions,
):
    """An aiohttp server on 127.0.0.1 that impersonates api.telegram.org for one bot.

    Each base is one concern (see the package docstring); they share one
    :class:`~fakes.telegram.state.TelegramState`, so this class adds nothing of its own.
    """
