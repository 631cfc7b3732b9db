"""The figures a bench script measured, kept for the one table ``make bench`` writes.

Each script still prints its own report as it goes; besides, it records every headline figure
here and saves them to ``var/bench/<script>.json``, so ``bench/report.py`` can put the whole run
in one markdown table and one chart without parsing anyone's printout.

A figure may carry the baseline measured in the same run (the echo bot, a bare ``SELECT``…)
and the target it is judged against, written the way the issue writes it (``"< 10 s"``,
``">= 0.5x"``); ``met`` says whether this run meets it, decided by the script that knows what
the figure means.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "var" / "bench"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline


@dataclass
class Figures:
    """One script's figures, in the order it measured them."""

    script: str
    rows: list[Figure] = field(default_factory=list)

    def add(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        baseline: float | None = None,
        baseline_name: str = "",
        target: str = "",
        met: bool | None = None,
    ) -> Figure:
        figure = Figure(name, value, unit, baseline, baseline_name, target, met)
        self.rows.append(figure)
        return figure

    def save(self, out: Path = OUT) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{self.script}.json"
        rows = [{**asdict(row), "ratio": row.ratio} for row in self.rows]
        path.write_text(json.dumps({"script": self.script, "figures": rows}, indent=2))
        return path


def load_all(out: Path = OUT) -> list[tuple[str, list[Figure]]]:
    """Every saved script's figures, by script name."""
    runs = []
    for path in sorted(out.glob("*.json")):
        data = json.loads(path.read_text())
        fields = Figure.__dataclass_fields__
        rows = [Figure(**{k: v for k, v in row.items() if k in fields}) for row in data["figures"]]
        runs.append((str(data["script"]), rows))
    return runs
