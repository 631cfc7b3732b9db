"""An idle web process holds no library it only needs for a picture, a page, a pass or a push.

Each of these costs idle memory in every replica (bench/webhook.py measures the whole process:
cryptography's bindings ~8 MB, Pillow and the fonts ~5 MB, jinja2, ruamel.yaml, h2), so a new
top-level import of one of them is a regression this catches. A fresh interpreter, because
the test session has imported them all long ago.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from bot.config import AppleWalletSettings
from bot.factory import build_apple_passes
from fakes.loopback import free_port
from fakes.telegram import FakeTelegramAPI
from loyalty.links import LinkSigner
from tests.channels.apple_wallet.verify import openssl_verify

ROOT = Path(__file__).resolve().parents[2]
# Loaded on use: what draws (Pillow, segno, zxing-cpp), signs (cryptography's bindings, PyJWT),
# pushes (h2), renders pages and emails (jinja2) or reads automation chains (ruamel.yaml).
ON_USE = (
    "cryptography.hazmat.bindings._rust",
    "jwt",
    "h2",
    "PIL",
    "segno",
    "zxingcpp",
    "jinja2",
    "ruamel.yaml",
    "render.card",
    "render.chart",
    "render.poster",
    "render.pass_images",
)

# What `stampbot web` builds before it serves: the runtime (wallets on the demo certificates,
# no APNs or Google Wallet, no Redis) and the web app, as bot.app does.
SCRIPT = """
import asyncio, sys
from pathlib import Path

from bot.app import _start_web
from bot.config import Settings
from bot.factory import bot_runtime

var, token, api, port = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
on_use = sys.argv[5].split(",")

async def main() -> None:
    settings = Settings(
        var_dir=var, redis={"url": None}, telegram={"token": token, "api_url": api},
        web={"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
    )
    async with bot_runtime(settings) as runtime:
        runner = await _start_web(runtime, secret="s" * 32)
        await runner.cleanup()
    print(",".join(name for name in on_use if name in sys.modules))
    print("demo certificates:", sorted(p.name for p in (var / "apple_wallet").glob("*")))

asyncio.run(main())
"""


async def test_a_started_web_process_loads_none_of_the_on_use_libraries(
    telegram: FakeTelegramAPI, tmp_path: Path
) -> None:
    run = await _in_thread(
        [
            sys.executable,
            "-c",
            SCRIPT,
            str(tmp_path / "var"),
            telegram.token,
            telegram.base_url,
            str(free_port()),
            ",".join(ON_USE),
        ]
    )

    assert run.returncode == 0, run.stderr[-2000:]
    loaded, certificates = run.stdout.splitlines()[-2:]
    assert loaded == ""
    # The demo chain is made on the first pass, not at start.
    assert certificates == "demo certificates: []"


async def _in_thread(args: list[str]) -> subprocess.CompletedProcess[str]:
    """The child asks the fake Bot API (served by this loop) who the bot is: wait off-loop."""
    return await asyncio.to_thread(
        subprocess.run, args, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_demo_chain_is_made_by_the_first_signature_and_kept(tmp_path: Path) -> None:
    passes = build_apple_passes(
        AppleWalletSettings(),
        demo_dir=tmp_path,
        passes_dir=tmp_path / "passes",
        base_url="http://127.0.0.1:8080",
        link_signer=LinkSigner(b"k" * 32, "http://127.0.0.1:8080"),
        bot_username="stampbot_test_bot",
    )
    assert list(tmp_path.iterdir()) == []

    manifest = b'{"pass.json": "0"}'
    first = passes._signer.sign(manifest)
    made = {p.name: p.read_bytes() for p in tmp_path.glob("*.pem")}
    second = passes._signer.sign(manifest)

    assert sorted(made) == ["ca.pem", "pass.pem", "wwdr.pem"]
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.pem")} == made  # made once
    for signature in (first, second):
        checked = openssl_verify(signature, manifest, tmp_path / "ca.pem")
        assert checked.returncode == 0, checked.stderr
