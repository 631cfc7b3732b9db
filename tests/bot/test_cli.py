"""The ``stampbot`` command as a person runs it: a real subprocess, a real database file."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from redis.asyncio import Redis

from channels.viber.api import ViberApi
from conversation.screen import Inbound, Screen, StatusUpdate
from fakes.viber import FakeViber
from fakes.whatsapp import FakeWhatsApp
from loyalty.tokens import parse_payload
from tests.channels.apple_wallet.verify import pass_problems
from tests.conftest import PG_ADMIN_DSN, Backend, _pg_admin
from tests.viber_fixtures import serving_viber_webhook

LINK = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]{1,64})")


def _stampbot(
    *args: str, tmp_path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("STAMPBOT_")
    }
    environment |= {
        "STAMPBOT_VAR_DIR": str(tmp_path / "var"),
        "STAMPBOT_BOT_USERNAME": "cafe_test_bot",
        "STAMPBOT_LOG_LEVEL": "WARNING",
    }
    environment |= env or {}
    return subprocess.run(  # noqa: S603 - our own entry point with fixed arguments
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = _stampbot("--help", tmp_path=tmp_path)

    assert result.returncode == 0
    for command in ("migrate", "merchant", "demo", "run", "web", "worker"):
        assert command in result.stdout


def test_migrate_creates_the_embedded_database_once(tmp_path: Path) -> None:
    first = _stampbot("migrate", tmp_path=tmp_path)
    second = _stampbot("migrate", tmp_path=tmp_path)

    assert first.returncode == 0, first.stderr
    assert re.search(r"applied: 0_\d+_init\.py", first.stdout)
    assert "nothing, already up to date" in second.stdout
    tables = {
        row[0]
        for row in sqlite3.connect(tmp_path / "var" / "stampbot.sqlite3").execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }
    assert {"merchant", "card", "membership", "stamp_event", "voucher", "delivery"} <= tables


def test_merchant_create_prints_working_owner_and_join_links(tmp_path: Path) -> None:
    result = _stampbot(
        "merchant", "create", "--name", "Bäckerei Sonne", "--card-name", "Brötchen",
        "--stamps", "8", "--reward", "A free loaf", "--timezone", "Europe/Berlin",
        tmp_path=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    links = LINK.findall(result.stdout)
    assert [bot for bot, _ in links] == ["cafe_test_bot", "cafe_test_bot"]
    (invite_kind, invite_token), (join_kind, join_token) = (
        parse_payload(payload) or ("?", "?") for _, payload in links
    )
    assert (invite_kind, join_kind) == ("i", "j")
    db = sqlite3.connect(tmp_path / "var" / "stampbot.sqlite3")
    assert db.execute(
        "SELECT role, used_at FROM staff_invite WHERE token = ?", (invite_token,)
    ).fetchall() == [("owner", None)]
    assert db.execute(
        "SELECT c.name, c.stamps_needed, c.reward_text, m.name, m.timezone "
        "FROM card c JOIN merchant m ON m.id = c.merchant_id WHERE c.join_token = ?",
        (join_token,),
    ).fetchall() == [("Brötchen", 8, "A free loaf", "Bäckerei Sonne", "Europe/Berlin")]
    assert len(invite_token) >= 22
    assert len(join_token) >= 22


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--stamps", "0"), "Stamps needed must be 1 to 100"),
        (("--stamps", "10", "--timezone", "Mars/Olympus"), "Unknown time zone"),
    ],
)
def test_merchant_create_refuses_bad_settings_and_creates_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = _stampbot(
        "merchant", "create", "--name", "X", "--card-name", "Y", "--reward", "Z", *args,
        tmp_path=tmp_path,
    )  # fmt: skip

    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "var" / "stampbot.sqlite3").exists()


def test_demo_prints_a_shop_day_with_a_consistent_ledger(tmp_path: Path) -> None:
    result = _stampbot("demo", tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "goal reached: voucher" in out
    assert "surplus carried over: 2/10" in out
    assert "A second till scans the same voucher: Already redeemed at" in out
    assert "replayed=True, balance still 9" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("Olena", "Ivan", "Noa"))]
    assert rows == [
        ["Olena", "active", "2/10", "5", "1", "yes"],
        ["Ivan", "active", "2/10", "1", "0", "yes"],
        ["Noa", "left", "0/10", "1", "0", "yes"],
    ]
    assert "token" not in result.stderr.lower()
    chat = out.split("8. A new customer, Dana", 1)[1]
    assert "Dana: /start j-" in chat
    assert "[photo 1280×" in chat
    assert "Welcome to Café Demo! 🎉" in chat
    assert "9 of 10 stamps — 1 more for Free cappuccino" in chat
    assert "🎉 Free cappuccino is yours! (+2 stamps at Café Demo)" in chat
    assert "Dana taps [I'm at the counter]" in chat
    assert "✅ Free cappuccino used at Café Demo on" in chat
    assert "[📲 Add to phone wallet] [Settings]" in chat
    messengers = chat.split("8b. Two more customers", 1)[1].split("9. The owner", 1)[0]
    viber, whatsapp = messengers.split("Miri taps the shop's WhatsApp link", 1)
    assert "viber://pa?chatURI=cafedemo&context=j-" in viber
    assert "viber: [picture card.png]" in viber
    assert "Welcome to Café Demo! 🎉" in viber
    assert "Мова: Українська" in viber
    assert "https://wa.me/15550783881?text=Hi%21%20Join%3A%20j-" in whatsapp
    assert "whatsapp: [image card.png]" in whatsapp
    assert "Welcome to Café Demo! 🎉" in whatsapp
    wallet = out.split("10. Apple Wallet", 1)[1]
    [pass_path] = re.findall(r"is (\S+\.pkpass) \(", wallet)
    demo_ca = tmp_path / "var" / "apple_wallet" / "ca.pem"
    assert pass_problems(Path(pass_path).read_bytes(), demo_ca) == []
    assert "one APNs push over HTTP/2 (payload {})" in wallet
    assert "says 'Free cookie today 🍪' with changeMessage '%@'" in wallet


async def test_two_migrations_started_together_both_succeed(
    backend: Backend, tmp_path: Path
) -> None:
    """What two replicas do when they start at once: each migrates the same fresh database."""
    env = {"STAMPBOT_LOG_LEVEL": "WARNING"}
    name = f"stampbot_migrate_race_{secrets.token_hex(4)}"
    if backend.is_postgres:
        await _pg_admin(f'CREATE DATABASE "{name}"')
        env["STAMPBOT_DATABASE_URL"] = f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    try:
        first, second = await asyncio.gather(
            asyncio.to_thread(_stampbot, "migrate", tmp_path=tmp_path, env=env),
            asyncio.to_thread(_stampbot, "migrate", tmp_path=tmp_path, env=env),
        )
    finally:
        if backend.is_postgres:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    outputs = sorted([first.stdout, second.stdout], key=lambda out: "up to date" in out)
    assert re.search(r"applied: 0_\d+_init\.py", outputs[0])
    assert "applied: nothing, already up to date" in outputs[1]


def test_merchant_invite_issues_a_new_owner_link_for_a_lost_one(tmp_path: Path) -> None:
    created = _stampbot(
        "merchant", "create", "--name", "Kafe Lviv", "--card-name", "Coffee", "--stamps", "9",
        "--reward", "A free coffee", tmp_path=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    first_token = parse_payload(LINK.findall(created.stdout)[0][1])

    result = _stampbot("merchant", "invite", "1", tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "New owner invite for merchant #1 'Kafe Lviv'" in result.stdout
    links = LINK.findall(result.stdout)
    assert len(links) == 1
    parsed = parse_payload(links[0][1])
    assert parsed is not None
    assert parsed[0] == "i"
    assert parsed != first_token
    db = sqlite3.connect(tmp_path / "var" / "stampbot.sqlite3")
    assert db.execute(
        "SELECT merchant_id, role, used_at FROM staff_invite WHERE token = ?", (parsed[1],)
    ).fetchall() == [(1, "owner", None)]
    assert db.execute("SELECT action FROM audit_entry WHERE merchant_id = 1").fetchall() == [
        ("staff.invite",)
    ]


@pytest.mark.parametrize("merchant_id", ["7", "0", "99999999999"])
def test_merchant_invite_refuses_an_unknown_merchant(tmp_path: Path, merchant_id: str) -> None:
    _stampbot("migrate", tmp_path=tmp_path)

    result = _stampbot("merchant", "invite", merchant_id, tmp_path=tmp_path)

    assert result.returncode == 2
    assert f"error: no merchant #{merchant_id}" in result.stderr
    db = sqlite3.connect(tmp_path / "var" / "stampbot.sqlite3")
    assert db.execute("SELECT count(*) FROM staff_invite").fetchall() == [(0,)]


async def _stampbot_async(*args: str, tmp_path: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """``stampbot`` as a subprocess that does not block the loop the fakes answer on."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STAMPBOT_")}
    environment |= {"STAMPBOT_VAR_DIR": str(tmp_path / "var"), "STAMPBOT_LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        env=environment | env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _stampbot_in_process(
    *args: str,
    tmp_path: Path,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str, str]:
    """The same command by its ``main``, here: exit code, stdout and stderr as the subprocess
    gives them, without the seconds a new interpreter spends importing aiogram (which
    ``whatsapp set-commands`` needs for its translations). ``main`` runs its own event loop,
    so it runs in a thread, apart from the loop the fakes answer on; its environment and
    directory are the subprocess's, for this call only."""
    from bot.__main__ import main

    with monkeypatch.context() as patch:
        for key in [key for key in os.environ if key.startswith("STAMPBOT_")]:
            patch.delenv(key)
        own = {"STAMPBOT_VAR_DIR": str(tmp_path / "var"), "STAMPBOT_LOG_LEVEL": "WARNING"}
        for key, value in (own | env).items():
            patch.setenv(key, value)
        patch.chdir(tmp_path)
        capsys.readouterr()
        # main quiets aiogram's per-update log, for the process; this one runs on.
        quieted = logging.getLogger("aiogram.event")
        level = quieted.level
        try:
            code = await asyncio.to_thread(main, list(args))
        finally:
            quieted.setLevel(level)
        out, err = capsys.readouterr()
    return code, out, err


async def test_viber_set_webhook_registers_our_address_and_viber_checks_it_first(
    tmp_path: Path, viber: FakeViber, viber_api: ViberApi, redis_client: Redis
) -> None:
    class Nobody:
        async def handle(self, inbound: Inbound) -> list[Screen]:
            return []

        async def receipt(self, update: StatusUpdate) -> None:
            return None

    env = {"STAMPBOT_VIBER_AUTH_TOKEN": viber.auth_token, "STAMPBOT_VIBER_API_URL": viber.api_url}
    missing = await _stampbot_async("viber", "set-webhook", tmp_path=tmp_path, env=env)
    assert missing[0] == 2
    assert "STAMPBOT_PUBLIC_URL" in missing[2]

    async with serving_viber_webhook(viber, viber_api, Nobody(), redis_client) as url:
        public = url.removesuffix("/viber/webhook")
        code, out, err = await _stampbot_async(
            "viber", "set-webhook", tmp_path=tmp_path, env=env | {"STAMPBOT_PUBLIC_URL": public}
        )
        assert (code, out.strip(), err) == (0, f"Viber calls {url} now.", "")
        assert viber.webhook_url == url
        # A wrong token is Viber's refusal, printed with its status; the token is not.
        wrong = env | {"STAMPBOT_PUBLIC_URL": public, "STAMPBOT_VIBER_AUTH_TOKEN": "0" * 50}
        code, out, err = await _stampbot_async(
            "viber", "set-webhook", tmp_path=tmp_path, env=wrong
        )
        assert code == 1
        assert err.startswith("error: Viber refused: 2 ")
        assert "0" * 50 not in out + err

    code, out, _ = await _stampbot_async("viber", "remove-webhook", tmp_path=tmp_path, env=env)
    assert (code, out.strip(), viber.webhook_url) == (0, "Viber webhook removed.", "")


async def test_whatsapp_set_commands_lists_them_at_the_shared_number(
    tmp_path: Path,
    whatsapp: FakeWhatsApp,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One real ``stampbot`` process for the happy path; the refusals and the default
    language by the same ``main`` in this process (see ``_stampbot_in_process``)."""
    missing = await _stampbot_in_process(
        "whatsapp", "set-commands", tmp_path=tmp_path, env={},
        monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert missing[0] == 2
    assert "STAMPBOT_WHATSAPP_ACCESS_TOKEN" in missing[2]

    env = {
        "STAMPBOT_WHATSAPP_ACCESS_TOKEN": whatsapp.access_token,
        "STAMPBOT_WHATSAPP_PHONE_NUMBER_ID": whatsapp.phone_number_id,
        "STAMPBOT_WHATSAPP_API_URL": whatsapp.base_url,
        "STAMPBOT_DEFAULT_LANGUAGE": "he",
    }
    code, out, err = await _stampbot_async(
        "whatsapp", "set-commands", "--language", "uk", tmp_path=tmp_path, env=env
    )
    assert (code, out.strip(), err) == (
        0,
        "WhatsApp lists /card, /vouchers, /settings, /help now (uk).",
        "",
    )
    assert whatsapp.commands()[0] == ("card", "Моя картка і QR-код")
    # Without --language: the deployment's default.
    code, out, _ = await _stampbot_in_process(
        "whatsapp", "set-commands", tmp_path=tmp_path, env=env,
        monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert code == 0
    assert out.strip() == "WhatsApp lists /card, /vouchers, /settings, /help now (he)."
    assert whatsapp.commands()[0] == ("card", "הכרטיס שלי וקוד ה-QR")

    wrong = env | {"STAMPBOT_WHATSAPP_ACCESS_TOKEN": "EAAG" + "0" * 60}
    code, out, err = await _stampbot_in_process(
        "whatsapp", "set-commands", tmp_path=tmp_path, env=wrong,
        monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert code == 1
    assert err.startswith("error: Meta refused: Invalid OAuth access token")
    assert "0" * 60 not in out + err
    assert whatsapp.commands()[0] == ("card", "הכרטיס שלי וקוד ה-QR")
