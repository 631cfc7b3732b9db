from __future__ import annotations

import re
from pathlib import Path

from bot.config import env_names

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_setting_with_a_comment() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    listed = {}
    for number, line in enumerate(lines):
        if match := re.match(r"(STAMPBOT_[A-Z_]+)=", line):
            above = number - 1
            while above >= 0 and lines[above].startswith("STAMPBOT_"):
                above -= 1  # settings may share one comment, as WEB_HOST and WEB_PORT do
            listed[match.group(1)] = above >= 0 and lines[above].startswith("#")

    assert set(listed) == set(env_names())
    assert all(listed.values()), [name for name, commented in listed.items() if not commented]
