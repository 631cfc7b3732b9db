"""Chains sent as YAML: what is stored, and what is refused with the line to fix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from automations.chain import Chain, Recurring
from automations.chain_yaml import MAX_YAML_BYTES, ChainRefused, dump, load
from models.enums import Channel

WIN_BACK = """\
name: Win-back
trigger:
  kind: inactive
  days: 30
reentry:
  rule: not_within
  days: 90
holdout: 10
steps:
  - id: first
    send:
      channels: [telegram, email]
      push: We miss you
      text: "Come back this week: a cookie is on us."
      voucher:
        title: Free cookie
        days: 14
  - id: pause
    wait:
      days: 3
  - id: check
    if:
      opened_last: true
    then: done
    else: nudge
  - id: nudge
    send:
      channels: [email]
      text: Still there? The cookie waits until Sunday.
  - id: done
    stop: true
"""


def refusal(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ChainRefused) as caught:
        load(text)
    return [(p.line, p.message) for p in caught.value.problems]


def test_a_valid_chain_is_read_with_its_steps_in_order() -> None:
    chain = load(WIN_BACK)
    assert chain.name == "Win-back"
    assert chain.trigger.kind == "inactive"
    assert [s.id for s in chain.steps] == ["first", "pause", "check", "nudge", "done"]
    assert chain.steps[0].send is not None
    assert chain.steps[0].send.channels == (Channel.TELEGRAM, Channel.EMAIL)
    assert chain.steps[1].wait is not None
    assert chain.steps[1].wait.duration == timedelta(days=3)
    assert chain.reentry.rule == "not_within"
    assert chain.reentry.days == 90
    assert chain.holdout == 10
    check = chain.by_id("check")
    assert chain.following(check, answer=True) == "done"
    assert chain.following(check, answer=False) == "nudge"
    # The nudge runs on into the step after it; stop ends the chain.
    assert chain.following(chain.by_id("nudge")) == "done"
    assert chain.following(chain.by_id("done")) is None


def test_export_then_import_gives_the_same_chain() -> None:
    chain = load(WIN_BACK)
    text = dump(chain)
    assert load(text) == chain
    assert text.startswith("name: Win-back\ntrigger:\n")
    # The defaults a person leaves out stay out.
    assert "policy" not in text
    assert "- id: first" in text


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        # An unknown field, on the line where it stands.
        (WIN_BACK.replace("      days: 3\n", "      days: 3\n      colour: red\n"),
         21, "unknown field 'colour'"),
        # An unknown trigger.
        (WIN_BACK.replace("kind: inactive", "kind: full_moon"), 3, "unknown trigger 'full_moon'"),
        # Impossible waits: 400 days, and half past 25.
        (WIN_BACK.replace("      days: 3\n", "      days: 400\n"), 19, "1 minute to 365 days"),
        (WIN_BACK.replace("      days: 3\n", "      until: '25:30'\n"), 20, "HH:MM"),
        # A jump to nowhere.
        (WIN_BACK.replace("else: nudge", "else: nudgee"), 25, "there is no step 'nudgee'"),
        # A step nothing leads to: the nudge, once both branches skip it.
        (WIN_BACK.replace("else: nudge", "else: done"), 26, "nothing leads to the step 'nudge'"),
        # A circle: the nudge goes back to the pause.
        (WIN_BACK.replace("      text: Still there? The cookie waits until Sunday.\n",
                          "      text: Still there?\n    next: pause\n"),
         18, "circle: pause → check → nudge → pause"),
        # A step that does two things.
        (WIN_BACK.replace("    stop: true\n", "    stop: true\n    wait:\n      days: 1\n"),
         30, "exactly one of wait, send, issue, if, stop"),
        # The same id twice.
        (WIN_BACK.replace("id: nudge", "id: pause").replace("else: nudge", "else: pause"),
         26, "used twice"),
        # A missing field.
        (WIN_BACK.replace("  kind: inactive\n  days: 30\n", "  kind: inactive\n"), 2, "days"),
        # A YAML syntax error, on its line.
        (WIN_BACK.replace("  - id: pause\n", "  - id: pause\n   bad: [\n"), 19, "expected"),
        # pydantic's own checks, worded like ours: a number over its bound, a wrong type.
        (WIN_BACK.replace("holdout: 10\n", "holdout: 80\n"), 8, "holdout: at most 50"),
        (WIN_BACK.replace("  days: 30\n", "  days: soon\n"), 4,
         "trigger.days: a whole number is needed"),
        # The same key twice.
        (WIN_BACK.replace("holdout: 10\n", "holdout: 10\nholdout: 20\n"), 9, ""),
    ],
)  # fmt: skip
def test_refusals_name_the_line_to_fix(text: str, line: int, words: str) -> None:
    problems = refusal(text)
    assert problems, "refused with at least one problem"
    assert any(at == line and words in message for at, message in problems), problems


def test_a_refused_chain_stores_nothing_and_the_text_can_be_anything() -> None:
    for text in ("", "just words", "- a\n- list", "name: x", "\x00\x01", "[unclosed"):
        assert refusal(text)
    assert refusal("x" * (MAX_YAML_BYTES + 1)) == [(0, "a chain is at most 64 KB")]


def test_every_recipe_shape_of_trigger_and_wait_is_accepted() -> None:
    text = """\
name: Slow Tuesday
trigger: {kind: recurring, weekday: tue, at: "9:30"}
reentry: {rule: every_time}
steps:
  - id: offer
    send: {channels: [telegram], text: "Tuesday: two coffees for one."}
  - id: later
    wait: {until: "17:00", weekday: tue}
  - id: gift
    issue: {title: Free cake, days: 7}
"""
    chain = load(text)
    assert chain.trigger.kind == "recurring"
    assert isinstance(chain.trigger, Recurring)
    assert chain.trigger.at == "09:30"
    assert load(dump(chain)) == chain


def test_the_model_refuses_the_same_things_without_yaml() -> None:
    with pytest.raises(ValueError, match="circle"):
        Chain.model_validate(
            {
                "name": "x",
                "trigger": {"kind": "joined"},
                "steps": [
                    {"id": "a", "wait": {"hours": 1}, "next": "b"},
                    {"id": "b", "wait": {"hours": 1}, "next": "a"},
                ],
            }
        )
