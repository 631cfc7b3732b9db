"""What the charts of ``render.chart`` draw: the figures of each day and the words around them.

Apart from the drawing so that the modules computing them (``campaigns.report``,
``campaigns.dashboard``, ``automations.service``) and the handlers that translate the words
import no Pillow: a web process that draws no chart keeps ~5 MB less of idle memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class ChartDay:
    """One local day of the chart."""

    day: date
    sent: int
    """Messages sent that day, every channel together: the bar."""
    visits: int
    """Visits attributed to the campaign that day: the line."""


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """The chart's words, translated by the caller."""

    deliveries: str
    visits: str
    no_data: str


@dataclass(frozen=True, slots=True)
class BarDay:
    """One column of the dashboard chart: a day, or the first day of a week."""

    day: date
    visits: int
    stamps: int


@dataclass(frozen=True, slots=True)
class BarLabels:
    visits: str
    stamps: str
    no_data: str
