"""Server plumbing: the aiohttp app, routing by method name, recording, the webhook client.

Requests reach ``/bot<token>/<method>`` with any HTTP verb and any of the Bot API's body
encodings; method names are matched case-insensitively, as Telegram does. Like the real API,
one server serves many bots: the configured one, and any other well-formed token (digits, a
colon, 35 URL-safe characters) as a bot of its own, made on first use with state of its own
(``bot(token)``), until ``revoke(token)``. A wrong token (malformed, or revoked) is a
401, an unknown method a 404, an oversized upload a 413, all in the JSON envelope; an
injected 502 answers in nginx's HTML, as Telegram's front does when the backend is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import re
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Self

from aiohttp import ClientResponse, ClientSession, ClientTimeout, MultipartReader, web

from ..loopback import LoopbackSite
from .calls import (
    CustomHandler,
    Described,
    MethodHandler,
    Params,
    RecordedCall,
    UploadedFile,
    Uploads,
    decode_json_fields,
    parse_body,
    read_multipart,
)
from .errors import ApiError, bad_request, too_many_requests
from .faults import Fault, FaultInjection

if TYPE_CHECKING:
    from aiogram import Bot

DEFAULT_TOKEN: Final = "123456:TEST-TOKEN"
# What @BotFather hands out: the bot's id, a colon, 35 characters of URL-safe base64.
WELL_FORMED_TOKEN: Final = re.compile(r"[0-9]{5,12}:[A-Za-z0-9_-]{35}")
UPLOAD_LIMIT: Final = 50 * 1024 * 1024


class _Configured(enum.Enum):
    SECRET = "the webhook's configured secret token"


USE_WEBHOOK_SECRET: Final = _Configured.SECRET


@dataclass
class WebhookDelivery:
    status: int
    body: str
    # A method the webhook answered with, which Telegram executes like a normal request.
    executed: RecordedCall | None = None


class ApiServer(FaultInjection):
    """An aiohttp server on 127.0.0.1 that impersonates api.telegram.org for one bot.

    It serves every method a mixin marks with ``@bot_method``; the methods themselves know
    nothing of HTTP, they take :class:`Params` and raise :class:`ApiError`.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "stampbot_test_bot",
        bot_first_name: str = "Stampbot Test",
        strict_chats: bool = False,
        require_https_webhook: bool = False,
        port: int = 0,
    ) -> None:
        super().__init__(
            token=token,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            strict_chats=strict_chats,
            require_https_webhook=require_https_webhook,
        )
        self._listen_port = port
        self._site = LoopbackSite("FakeTelegramAPI")
        self._client: ClientSession | None = None
        # The other bots this server speaks for, by token, and tokens revoked at @BotFather.
        self._bots: dict[str, Self] = {}
        self._revoked: set[str] = set()
        self._settings = {
            "strict_chats": strict_chats,
            "require_https_webhook": require_https_webhook,
        }
        self._methods: dict[str, tuple[str, MethodHandler]] = {}
        for klass in reversed(type(self).__mro__):
            for attribute, value in vars(klass).items():
                if name := getattr(value, "bot_method", None):
                    self._methods[name.lower()] = (name, getattr(self, attribute))

    # -- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._closing = asyncio.Event()
        # Room above the 50 MB upload limit so that the limit is answered in Telegram's words
        # rather than by aiohttp's plain-text 413.
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_file)
        await self._site.start(app, port=self._listen_port, shutdown=2.0)

    async def stop(self) -> None:
        self._closing.set()
        self._wake_pollers()
        for other in self._bots.values():
            other._closing.set()
            if other._client is not None:
                await other._client.close()
                other._client = None
        if self._client is not None:
            await self._client.close()
            self._client = None
        await self._site.stop()

    # -- other bots on the same server -----------------------------------------------------

    def bot(self, token: str, *, username: str | None = None, first_name: str = "") -> Self:
        """The fake of another bot on this server (its calls, messages, webhook, commands),
        made on first use; ``username`` names it when it is made (else ``shop<id>_bot``)."""
        if token == self.token:
            return self
        other = self._bots.get(token)
        if other is None:
            bot_id = token.split(":", 1)[0]
            other = type(self)(
                token=token,
                bot_username=username or f"shop{bot_id}_bot",
                bot_first_name=first_name or f"Shop bot {bot_id}",
                **self._settings,
            )
            other._site = self._site  # the same server: its base_url, never started itself
            self._bots[token] = other
        return other

    def revoke(self, token: str) -> None:
        """The owner revoked the token at @BotFather: every call with it is a 401 from now on."""
        self._revoked.add(token)

    def _serving(self, token: str) -> Self | None:
        """Which bot a request's token is, or None (Unauthorized)."""
        if token == self.token:
            return self
        if token in self._revoked:
            return None
        if token in self._bots or WELL_FORMED_TOKEN.fullmatch(token):
            return self.bot(token)
        return None

    @property
    def base_url(self) -> str:
        return self._site.base_url

    def make_bot(self, **bot_kwargs: Any) -> Bot:
        """A real aiogram Bot wired to this server; use ``async with`` to close its session."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(token=self.token, session=session, **bot_kwargs)

    def register_method(self, name: str, handler: CustomHandler) -> None:
        """Serve a method the fake lacks; the handler gets decoded params and files and may
        return a result (or awaitable) or raise ApiError."""

        async def run(params: Params, files: Uploads) -> Any:
            result = handler(params.raw, files)
            return await result if isinstance(result, Awaitable) else result

        self._methods[name.lower()] = (name, run)

    # -- inspection ----------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        if method is None:
            return list(self._calls)
        return [c for c in self._calls if c.method.lower() == method.lower()]

    def last_call(self, method: str) -> RecordedCall:
        found = self.calls(method)
        if not found:
            raise LookupError(f"{method} was never called")
        return found[-1]

    # -- the webhook, called as Telegram calls it ----------------------------------------

    async def post_update(
        self,
        update: dict[str, Any],
        *,
        url: str | None = None,
        secret_token: str | _Configured | None = USE_WEBHOOK_SECRET,
        request_timeout: float = 10.0,
    ) -> WebhookDelivery:
        """POST an update to the webhook as Telegram does, and run any method it answers with.

        By default the registered URL and secret token are used; pass ``secret_token=None`` to
        omit the ``X-Telegram-Bot-Api-Secret-Token`` header or a string to send a wrong one.
        """
        target = url or self.webhook.url
        if not target:
            raise RuntimeError("no webhook URL: call setWebhook first or pass url=")
        secret = self.webhook.secret_token if secret_token is USE_WEBHOOK_SECRET else secret_token
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        if self._client is None:
            self._client = ClientSession()
        async with self._client.post(
            target,
            data=json.dumps(update),
            headers=headers,
            timeout=ClientTimeout(total=request_timeout),
        ) as resp:
            return await self.webhook_answered(resp)

    async def webhook_answered(self, resp: ClientResponse) -> WebhookDelivery:
        """What Telegram does with the webhook's answer to an update: a failure is noted on
        the webhook, and a method in a 2xx answer is run (for a driver that posts updates
        itself, as ``bench/webhook.py`` does)."""
        status, body = resp.status, ""
        if resp.content_type == "multipart/form-data":
            params, files = await read_multipart(MultipartReader(resp.headers, resp.content))
        else:
            body = await resp.text()
            params, files = parse_body(resp.content_type, body), {}
        delivery = WebhookDelivery(status=status, body=body)
        if not 200 <= status < 300:
            self.webhook.last_error_date = int(time.time())
            self.webhook.last_error_message = f"Wrong response from the webhook: {status}"
            return delivery
        method = params.pop("method", None)
        if isinstance(method, str):
            call = self._record(method, decode_json_fields(params), files, "POST")
            call.via_webhook_response = True
            await self._dispatch(call, params, files)
            delivery.executed = call
        return delivery

    # -- HTTP plumbing -------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        try:
            params, files = await _read_request(request)
        except ApiError as error:
            return web.json_response(error.payload(), status=error.code)
        target = self._serving(request.match_info["token"])
        if target is None:
            call = self._record(request.match_info["method"], params, files, request.method)
            return _answer(call, ApiError(401, "Unauthorized"))
        return await target._serve(request, params, files)

    async def _serve(
        self, request: web.Request, params: dict[str, Any], files: Uploads
    ) -> web.StreamResponse:
        """One method call of this bot, its token already checked."""
        call = self._record(request.match_info["method"], params, files, request.method)
        fault = self._take_fault(call.method) if call.method.lower() in self._methods else None
        if fault is not None and fault.release is not None:
            await self._hold(fault.release)  # then handled normally, as a delay
        elif fault is not None and (fault.delay or fault.hang_up):
            await self._sleep(fault.delay)  # then handled normally: slow, not failed
        elif fault is not None:
            return _fault_response(call, fault)
        if any(len(f.data) > UPLOAD_LIMIT for f in files.values()):
            return _answer(call, ApiError(413, "Request Entity Too Large"))
        await self._dispatch(call, params, files)
        if fault is not None and fault.hang_up and request.transport is not None:
            request.transport.abort()  # done, yet the client never hears it
        return _answer(call)

    async def _dispatch(self, call: RecordedCall, params: dict[str, Any], files: Uploads) -> None:
        """Run a method and record its outcome on ``call``."""
        spec = self._methods.get(call.method.lower())
        try:
            if spec is None:
                raise ApiError(404, "Not Found")
            result = await spec[1](Params(params), files)
        except ApiError as error:
            call.status, call.response = error.code, error.payload()
            return
        payload: dict[str, Any] = {"ok": True, "result": result}
        if isinstance(result, Described):
            payload = {"ok": True, "result": result.result, "description": result.description}
        call.status, call.response = 200, payload

    def _record(
        self, method: str, params: dict[str, Any], files: Uploads, http: str
    ) -> RecordedCall:
        spec = self._methods.get(method.lower())
        call = RecordedCall(spec[0] if spec else method, params, files, time.time(), http)
        self._calls.append(call)
        return call

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        target = self._serving(request.match_info["token"])
        stored = target._files.at_path(request.match_info["file_path"]) if target else None
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        content_type = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.data, content_type=content_type)

    async def _hold(self, release: asyncio.Event) -> None:
        """Wait for ``release``, but give up when the server stops, as :meth:`_sleep`."""
        waits = [asyncio.ensure_future(event.wait()) for event in (release, self._closing)]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but give up when the server stops so shutdown never hangs on a test delay."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)


def _answer(call: RecordedCall, error: ApiError | None = None) -> web.Response:
    if error is not None:
        call.status, call.response = error.code, error.payload()
    return web.json_response(call.response, status=call.status)


def _fault_response(call: RecordedCall, fault: Fault) -> web.Response:
    if fault.raw_body is not None:
        call.status = fault.status
        return web.Response(status=fault.status, text=fault.raw_body, content_type="text/html")
    if fault.status == 429:
        return _answer(call, too_many_requests(fault.retry_after or 1))
    return _answer(call, ApiError(fault.status, fault.description or ""))


async def _read_request(request: web.Request) -> tuple[dict[str, Any], Uploads]:
    params: dict[str, Any] = dict(request.query)
    files: Uploads = {}
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("JSON object expected")
            params.update(body)
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(
                        key, value.filename, value.content_type, value.file.read()
                    )
                elif isinstance(value, bytes | bytearray):
                    params[key] = bytes(value).decode("utf-8", "replace")
                else:
                    params[key] = value
    return decode_json_fields(params), files
