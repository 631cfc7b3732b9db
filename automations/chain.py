"""An automation as data: one trigger, a chain of steps, a re-entry rule, an optional holdout.

The same model is built by the recipes of the admin chat and by a YAML chain an owner sends
(``automations.chain_yaml``), and it is what the scheduler walks, so all three agree on what a
chain may be. pydantic refuses unknown fields and values; the checks after it are about the
chain as a graph:

- steps run in list order unless a step names where to go (``next``, or ``then``/``else`` of
  a branch); a chain ends after its last step or at ``stop``;
- every jump goes to a step that exists, every step is reachable from the first, and there is
  no cycle. No cycle is what makes "each step fires once per enrolment" a key the database can
  enforce: an enrolment visits a step at most once.

Waits are bounded (1 minute to 365 days): a wait outside that is a typo, not a plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from automations.problems import ChainProblem
from models.enums import Channel

STEP_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_STEPS = 30
MIN_WAIT = timedelta(minutes=1)
MAX_WAIT = timedelta(days=365)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """Monday is 0, as ``datetime.weekday()`` counts."""
        return list(Weekday).index(self)


def _clock(value: str) -> str:
    """A local time of day as ``HH:MM`` (24 h)."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
    if match is None:
        raise ChainProblem("clock")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def clock_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


# Triggers -----------------------------------------------------------------------------------


class Joined(Strict):
    """Someone joined the card (or any card of the shop)."""

    kind: Literal["joined"]


class StampAdded(Strict):
    kind: Literal["stamp_added"]


class RewardReady(Strict):
    """A reward voucher issued and still unused ``days`` later."""

    kind: Literal["reward_ready"]
    days: int = Field(default=3, ge=0, le=365)


class VoucherExpiring(Strict):
    kind: Literal["voucher_expiring"]
    days: int = Field(default=7, ge=1, le=365)


class Inactive(Strict):
    """No visit for ``days`` days (the last stamp, or the join when there was none)."""

    kind: Literal["inactive"]
    days: int = Field(ge=1, le=3650)


class Birthday(Strict):
    kind: Literal["birthday"]
    days_before: int = Field(default=0, ge=0, le=60)


class CampaignDelivered(Strict):
    kind: Literal["campaign_delivered"]


class CampaignOpened(Strict):
    kind: Literal["campaign_opened"]


class Recurring(Strict):
    """Every ``weekday`` at ``at`` in the shop's zone (the slow-day promotion): everyone on
    the card enrols, once per occurrence."""

    kind: Literal["recurring"]
    weekday: Weekday
    at: str = "10:00"

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        return _clock(value)


class FriendJoined(Strict):
    """A friend joined through this member's referral link: the member enrols."""

    kind: Literal["friend_joined"]


# The friend-visited scan enrols the member under "<key>:referrer" and the friend under
# "<key>:friend"; the ``referrer`` condition reads the suffix.
REFERRER_KEY_SUFFIX = ":referrer"
FRIEND_KEY_SUFFIX = ":friend"


class FriendVisited(Strict):
    """A friend who joined through this member's link got their first stamp: both the member
    and the friend enrol (the ``referrer`` condition tells them apart)."""

    kind: Literal["friend_visited"]


Trigger = Annotated[
    Joined
    | StampAdded
    | RewardReady
    | VoucherExpiring
    | Inactive
    | Birthday
    | CampaignDelivered
    | CampaignOpened
    | Recurring
    | FriendJoined
    | FriendVisited,
    Field(discriminator="kind"),
]
TRIGGER_KINDS = tuple(
    str(model.model_fields["kind"].annotation.__args__[0])  # type: ignore[union-attr]
    for model in (
        Joined, StampAdded, RewardReady, VoucherExpiring, Inactive, Birthday,
        CampaignDelivered, CampaignOpened, Recurring, FriendJoined, FriendVisited,
    )
)  # fmt: skip


# Steps --------------------------------------------------------------------------------------


class Wait(Strict):
    """A duration, or until the next local time of day (and weekday) in the shop's zone."""

    minutes: int | None = Field(default=None, ge=0)
    hours: int | None = Field(default=None, ge=0)
    days: int | None = Field(default=None, ge=0)
    until: str | None = None
    weekday: Weekday | None = None

    @field_validator("until")
    @classmethod
    def _until(cls, value: str | None) -> str | None:
        return None if value is None else _clock(value)

    @model_validator(mode="after")
    def _one_form(self) -> Wait:
        duration = any(v is not None for v in (self.minutes, self.hours, self.days))
        if duration and self.until is not None:
            raise ChainProblem("wait_both")
        if not duration and self.until is None:
            raise ChainProblem("wait_none")
        if self.weekday is not None and self.until is None:
            raise ChainProblem("weekday_needs_until")
        if duration and not MIN_WAIT <= self.duration <= MAX_WAIT:
            raise ChainProblem("wait_range")
        return self

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.minutes or 0, hours=self.hours or 0, days=self.days or 0)


class GiftVoucher(Strict):
    title: str = Field(min_length=1, max_length=200)
    days: int = Field(default=30, ge=1, le=365)


class Send(Strict):
    """One message, through the campaign composer and outbox (so limits and reasons apply)."""

    channels: tuple[Channel, ...] = Field(min_length=1)
    text: str = Field(min_length=1, max_length=4000)
    push: str = Field(default="", max_length=200)
    voucher: GiftVoucher | None = None
    policy: Literal["every", "first"] = "every"

    @field_validator("channels")
    @classmethod
    def _distinct(cls, value: tuple[Channel, ...]) -> tuple[Channel, ...]:
        if len(set(value)) != len(value):
            raise ChainProblem("channel_twice")
        return value


class Condition(Strict):
    """What a branch asks; exactly one field is set."""

    opened_last: bool | None = None
    visited_since_enrolment: bool | None = None
    has_unused_voucher: bool | None = None
    reachable_on: Channel | None = None
    birthday_known: bool | None = None
    # Refer a friend: the person is the member who shared the link (not the friend).
    referrer: bool | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        if len(self.model_dump(exclude_none=True)) != 1:
            raise ChainProblem("condition_one", names=", ".join(type(self).model_fields))
        return self


class Step(Strict):
    """One step: exactly one of wait / send / issue / if / stop."""

    id: str
    wait: Wait | None = None
    send: Send | None = None
    issue: GiftVoucher | None = None
    if_: Condition | None = Field(default=None, alias="if")
    then: str | None = None
    else_: str | None = Field(default=None, alias="else")
    stop: Literal[True] | None = None
    next: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not STEP_ID.match(value):
            raise ChainProblem("step_id")
        return value

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        actions = [self.wait, self.send, self.issue, self.if_, self.stop]
        if sum(a is not None for a in actions) != 1:
            raise ChainProblem("step_one_action")
        if self.if_ is None and (self.then is not None or self.else_ is not None):
            raise ChainProblem("then_else_outside_if")
        if self.if_ is not None and self.next is not None:
            raise ChainProblem("if_with_next")
        if self.stop is not None and self.next is not None:
            raise ChainProblem("stop_with_next")
        return self

    @property
    def kind(self) -> str:
        for name in ("wait", "send", "issue", "stop"):
            if getattr(self, name) is not None:
                return name
        return "if"


class Reentry(Strict):
    """Whether someone who was enrolled may enrol again."""

    rule: Literal["never", "not_within", "every_time"] = "never"
    days: int | None = Field(default=None, ge=1, le=3650)

    @model_validator(mode="after")
    def _days(self) -> Reentry:
        if (self.rule == "not_within") != (self.days is not None):
            raise ChainProblem("not_within_days")
        return self


class Chain(Strict):
    name: str = Field(min_length=1, max_length=120)
    trigger: Trigger
    steps: tuple[Step, ...] = Field(min_length=1, max_length=MAX_STEPS)
    reentry: Reentry = Reentry()
    holdout: int = Field(default=0, ge=0, le=50)
    card: str | None = Field(default=None, max_length=120)

    @model_validator(mode="after")
    def _graph(self) -> Chain:
        ids = [step.id for step in self.steps]
        seen: set[str] = set()
        for index, step in enumerate(self.steps):
            if step.id in seen:
                raise GraphError(index, "id", "id_twice", id=step.id)
            seen.add(step.id)
        for index, step in enumerate(self.steps):
            for field_name, target in (("next", step.next), ("then", step.then),
                                       ("else", step.else_)):  # fmt: skip
                if target is not None and target not in seen:
                    raise GraphError(index, field_name, "no_step", target=target)
        reachable = self._reachable(ids)
        for index, step in enumerate(self.steps):
            if step.id not in reachable:
                raise GraphError(index, "id", "unreachable", id=step.id)
        cycle = self._cycle()
        if cycle is not None:
            index = ids.index(cycle[0])
            raise GraphError(index, "id", "cycle", path=" → ".join(cycle))
        return self

    def by_id(self, step_id: str) -> Step:
        return next(step for step in self.steps if step.id == step_id)

    def successors(self, step: Step) -> Iterator[str | None]:
        """Where the chain may go after ``step``."""
        if step.stop is not None:
            return
        if step.if_ is not None:
            yield from (self._after(step) if t is None else t for t in (step.then, step.else_))
            return
        following = step.next if step.next is not None else self._after(step)
        if following is not None:
            yield following

    def following(self, step: Step, *, answer: bool | None = None) -> str | None:
        """The step after ``step`` (for a branch: after its answer); None ends the chain."""
        if step.stop is not None:
            return None
        if step.if_ is not None:
            target = step.then if answer else step.else_
            return target if target is not None else self._after(step)
        return step.next if step.next is not None else self._after(step)

    def _after(self, step: Step) -> str | None:
        ids = [s.id for s in self.steps]
        index = ids.index(step.id)
        return ids[index + 1] if index + 1 < len(ids) else None

    def _reachable(self, ids: list[str]) -> set[str]:
        found, todo = set(), [ids[0]]
        while todo:
            current = todo.pop()
            if current in found:
                continue
            found.add(current)
            todo.extend(t for t in self.successors(self.by_id(current)) if t is not None)
        return found

    def _cycle(self) -> list[str] | None:
        state: dict[str, int] = {}
        path: list[str] = []

        def visit(step_id: str) -> list[str] | None:
            state[step_id] = 1
            path.append(step_id)
            for target in self.successors(self.by_id(step_id)):
                if target is None:
                    continue
                if state.get(target) == 1:
                    return [*path[path.index(target) :], target]
                if target not in state and (found := visit(target)) is not None:
                    return found
            path.pop()
            state[step_id] = 2
            return None

        return visit(self.steps[0].id)


class GraphError(ChainProblem):
    """A chain whose steps do not form a chain; names the step (by index) and the field."""

    def __init__(self, index: int, field_name: str, code: str, **values: object) -> None:
        super().__init__(code, **values)
        self.index = index
        self.field_name = field_name
