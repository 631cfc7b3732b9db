"""``bench/report.py`` turns the figures the scripts saved into one table and one chart.

Two made-up scripts' files, in the form ``bench/figures.py`` saves them; no bench runs here.
The report runs as ``make bench`` runs it, a script of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

REPORT = Path(__file__).resolve().parents[2] / "bench" / "report.py"
MET, MISSED, PLAIN = (0, 158, 115), (213, 94, 0), (0, 114, 178)


def _figure(name: str, value: float, unit: str, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "name": name, "value": value, "unit": unit, "baseline": None, "baseline_name": "",
        "target": "", "met": None, "ratio": None,
    }  # fmt: skip
    row.update(extra)
    return row


def _save(folder: Path, script: str, *figures: dict[str, object]) -> None:
    (folder / f"{script}.json").write_text(json.dumps({"script": script, "figures": figures}))


def test_two_scripts_make_one_table_and_a_chart(tmp_path: Path) -> None:
    _save(
        tmp_path,
        "webhook",
        _figure("webhook start, closed 64 in flight", 412.3, "updates/s", baseline=951.0,
                baseline_name="bare aiogram echo bot", target=">= 0.5x", met=False,
                ratio=412.3 / 951.0),
        _figure("webhook mix, open 200/s, p99", 31.26, "ms", target="< 50 ms", met=True),
    )  # fmt: skip
    _save(
        tmp_path,
        "card_image",
        _figure("card photo PNG, largest", 1.234, "MB"),
        _figure("card photo PNG encoding", 6.0, "ms CPU", baseline=24.0,
                baseline_name="Pillow PNG level 9", ratio=0.25),
    )  # fmt: skip
    (tmp_path / "notes.txt").write_text("not a figure file")

    run = subprocess.run(  # noqa: S603 - this project's script, fixed arguments
        [sys.executable, str(REPORT), "--dir", str(tmp_path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip

    table = (tmp_path / "README.md").read_text()
    assert table in run.stdout + "\n"
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert rows[0] == "| script | figure | value | baseline | ratio | target | met |"
    assert rows[2:] == [
        "| card_image | card photo PNG, largest | 1.23 MB |  |  |  |  |",
        "| card_image | card photo PNG encoding | 6.00 ms CPU | 24.0 ms CPU (Pillow PNG level 9) "
        "| 0.25× |  |  |",
        "| webhook | webhook start, closed 64 in flight | 412 updates/s "
        "| 951 updates/s (bare aiogram echo bot) | 0.43× | >= 0.5x | **no** |",
        "| webhook | webhook mix, open 200/s, p99 | 31.3 ms |  |  | < 50 ms | yes |",
    ]
    assert "4 figures from 2 scripts, 1 short of their target" in table

    with Image.open(tmp_path / "chart.png") as chart:
        assert chart.format == "PNG"
        chart.load()
        colours = {colour for _, colour in chart.convert("RGB").getcolors(1 << 20) or []}
    # A bar for each figure with a target or a baseline: met, missed, against the baseline.
    assert {MET, MISSED, PLAIN} <= colours


def test_an_empty_folder_says_so_and_writes_nothing(tmp_path: Path) -> None:
    run = subprocess.run(  # noqa: S603 - this project's script, fixed arguments
        [sys.executable, str(REPORT), "--dir", str(tmp_path)], capture_output=True, text=True
    )
    assert run.returncode != 0
    assert "no figures" in run.stderr
    assert list(tmp_path.iterdir()) == []
