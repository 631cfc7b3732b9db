"""Viber and WhatsApp channel throughput at their platforms' limits, against the loopback fakes.

Viber: N campaign messages to N subscribed people, sent one by one (``send_message`` each, the
channel's default) and, in the same run, through ``broadcast_message`` (300 people a call)
with the limiter at Viber's documented 500 broadcast calls per 10 s. The fake refuses above
its own per-second cap with status 12, so a refusal means our pacing is wrong (target: 0).
Figures: messages/s each way, the ratio, and the refusals.

WhatsApp: N session messages (each person wrote in the last hour) at the channel's default
76 messages/s, the fake capping at Meta's default 80 per second (130429 above it), against the
same N with the limiter off (the baseline: what the fake refuses without pacing).

Both in this process: the fakes share its loop, so the rates are what the channel keeps to,
not what a network allows. CPU per message is this process's (channel and fake together).

Run: ``make bench`` or ``.venv/bin/python bench/messenger_throughput.py [--quick]``. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from figures import Figures
from pydantic import SecretStr

from channels.base import Action, DeliveryResult, OutboundMessage, Outcome
from channels.ratelimit import MemoryRateLimiter, Rate
from channels.viber.api import ViberApi
from channels.viber.channel import DEFAULT_RATE as VIBER_RATE
from channels.viber.channel import ViberChannel
from channels.viber.render import Sender
from channels.whatsapp.api import WhatsAppApi
from channels.whatsapp.channel import DEFAULT_RATE as WHATSAPP_RATE
from channels.whatsapp.channel import WhatsAppChannel
from fakes.viber import FakeViber
from fakes.whatsapp import FakeWhatsApp

TEXT = "<b>Осіннє меню</b> вже тут: гарбузове лате і штрудель. Приходьте до неділі!"
BUTTONS = ((Action("🪪 Моя картка", id="card:list:0"),),)


def _message(n: int, channel: str, address: str) -> OutboundMessage:
    return OutboundMessage(
        delivery_id=n, channel=channel, address=address, language="uk", right_to_left=False,
        merchant_name="Кав'ярня", subject="", push_text="", html=TEXT, buttons=BUTTONS,
        window_open=True,
    )  # fmt: skip


def _outcomes(results: list[DeliveryResult]) -> Counter[str]:
    return Counter(
        r.outcome.value if r.outcome == Outcome.DELIVERED else f"{r.outcome}:{r.reason}"
        for r in results
    )


async def bench_viber(people: int, figures: Figures) -> None:
    # 500 calls in 10 s is Viber's documented broadcast limit; the fake holds us to 50/s.
    async with FakeViber(requests_per_second=50, per_user_hourly_limit=10**6) as viber:
        users = [viber.add_user(f"Reader {n}") for n in range(people)]
        api = ViberApi(SecretStr(viber.auth_token), base_url=viber.api_url)
        messages = [_message(n, "viber", u) for n, u in enumerate(users)]
        runs: dict[bool, tuple[float, float, Counter[str]]] = {}
        for broadcasting in (False, True):
            channel = ViberChannel(
                api, MemoryRateLimiter(), sender=Sender("Кав'ярня"), rate=VIBER_RATE,
                broadcast=broadcasting,
            )  # fmt: skip
            cpu, began = time.process_time(), time.monotonic()
            results = await channel.send_many(messages)
            runs[broadcasting] = (
                people / (time.monotonic() - began),
                (time.process_time() - cpu) / people * 1000,
                _outcomes(results),
            )
        await api.close()
        refused = sum(viber.refusals.values())
    single, broadcast = runs[False], runs[True]
    figures.add(
        "Viber messages/s, one send_message each, at 49 calls/s", single[0], "/s",
        target="the limit: 49/s", met=single[2]["delivered"] == people,
    )  # fmt: skip
    figures.add(
        "Viber messages/s by broadcast_message (300 a call)", broadcast[0], "/s",
        baseline=single[0], baseline_name="one send_message each",
        met=broadcast[2]["delivered"] == people,
    )  # fmt: skip
    figures.add("Viber refusals (status 12) over both runs", refused, "", target="0",
                met=refused == 0)  # fmt: skip
    figures.add("Viber CPU per message (single sends, channel and fake)", single[1], "ms")
    print(
        f"Viber, {people:,} people: one by one {single[0]:,.1f}/s {dict(single[2])}, "
        f"{single[1]:.2f} ms CPU each; broadcast {broadcast[0]:,.0f}/s {dict(broadcast[2])} "
        f"({broadcast[0] / single[0]:.0f}×); {refused} refusals"
    )


async def bench_whatsapp(people: int, figures: Figures) -> None:
    runs: dict[bool, tuple[float, float, Counter[str], int]] = {}
    for pacing in (True, False):
        async with FakeWhatsApp(requests_per_second=80) as whatsapp:
            numbers = [whatsapp.add_user(f"3805{n:08d}", wrote_ago=3600) for n in range(people)]
            api = WhatsAppApi(
                SecretStr(whatsapp.access_token), whatsapp.phone_number_id,
                base_url=whatsapp.base_url,
            )  # fmt: skip
            rate = WHATSAPP_RATE if pacing else Rate(per_second=100_000, burst=100_000)
            channel = WhatsAppChannel(api, MemoryRateLimiter(), rate=rate)
            cpu, began = time.process_time(), time.monotonic()
            results = await asyncio.gather(
                *(channel.send(_message(n, "whatsapp", x)) for n, x in enumerate(numbers))
            )
            runs[pacing] = (
                people / (time.monotonic() - began),
                (time.process_time() - cpu) / people * 1000,
                _outcomes(list(results)),
                sum(whatsapp.refusals.values()),
            )
            await api.close()
    paced, unpaced = runs[True], runs[False]
    figures.add(
        "WhatsApp session messages/s at the number's 76/s", paced[0], "/s",
        target="the limit: 76/s, 0 refused", met=paced[3] == 0 and paced[2]["delivered"] == people,
    )  # fmt: skip
    figures.add(
        "WhatsApp refusals (130429) with the limiter", paced[3], "",
        baseline=unpaced[3], baseline_name="without the limiter", target="0", met=paced[3] == 0,
    )  # fmt: skip
    figures.add("WhatsApp CPU per message (channel and fake)", paced[1], "ms")
    print(
        f"WhatsApp, {people:,} people: paced {paced[0]:,.1f}/s {dict(paced[2])}, "
        f"{paced[3]} refusals, {paced[1]:.2f} ms CPU each; unpaced {unpaced[0]:,.0f}/s "
        f"{dict(unpaced[2])}, {unpaced[3]} refusals"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=900)
    parser.add_argument("--quick", action="store_true", help="300 people")
    args = parser.parse_args()
    people = 300 if args.quick else args.people
    figures = Figures("messenger_throughput")
    asyncio.run(bench_viber(people, figures))
    asyncio.run(bench_whatsapp(people, figures))
    figures.save()


if __name__ == "__main__":
    main()
