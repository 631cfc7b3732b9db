"""What is wrong with a chain, as a code and its values, worded in the owner's language later.

The chain model and the YAML reader run where no language is known (the worker, an import in
a test), so they say *what* is wrong — ``ChainProblem("no_step", target="nudge")`` — and the
chat words it with the owner's gettext (``Problem.text``). The English templates are marked
with ``N_`` so the catalogs carry them; pydantic's own checks (a number out of range, a wrong
type) are mapped onto the same templates by their error type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Gettext = Callable[[str], str]


def N_(text: str) -> str:
    """Marks a template for the catalogs; it is translated where it is shown."""
    return text


TEMPLATES: dict[str, str] = {
    # The text as a whole
    "too_big": N_("a chain is at most {kb} KB"),
    "yaml": N_("this is not readable YAML: {detail}"),
    "not_mapping": N_("a chain is a mapping with name, trigger and steps"),
    "unknown_card": N_("no card of this shop has the name '{name}'"),
    # Fields
    "unknown_field": N_("unknown field '{field}'"),
    "unknown_trigger": N_("unknown trigger '{value}'"),
    "missing": N_("'{field}' is missing"),
    "too_small": N_("{field}: at least {limit}"),
    "too_large": N_("{field}: at most {limit}"),
    # A number after a colon, not before a noun: no plural form to agree with it.
    "too_long": N_("{field}: too long (character limit: {limit})"),
    "too_short": N_("{field}: too short (minimum length: {limit})"),
    "too_few": N_("{field}: too few (minimum number: {limit})"),
    "too_many": N_("{field}: too many (maximum number: {limit})"),
    "not_number": N_("{field}: a whole number is needed"),
    "not_text": N_("{field}: a text is needed"),
    "not_yes_no": N_("{field}: true or false is needed"),
    "not_mapping_field": N_("{field}: a mapping (key: value lines) is needed"),
    "not_list": N_("{field}: a list is needed"),
    "not_one_of": N_("{field}: one of {expected}"),
    "invalid": N_("{field}: {detail}"),
    # The chain's own rules
    "clock": N_("a time of day is HH:MM, from 00:00 to 23:59"),
    "wait_both": N_("wait either a duration or until a time, not both"),
    "wait_none": N_("wait needs minutes, hours or days, or until: HH:MM"),
    "weekday_needs_until": N_("a weekday needs until: HH:MM"),
    "wait_range": N_("a wait lasts from 1 minute to 365 days"),
    "channel_twice": N_("each channel once"),
    "condition_one": N_("a condition is one of {names}"),
    "step_id": N_("a step id is lowercase letters, digits, - or _, up to 32"),
    "step_one_action": N_("a step does exactly one of wait, send, issue, if, stop"),
    "then_else_outside_if": N_("then/else belong to an if step"),
    "if_with_next": N_("an if step goes on with then/else, not next"),
    "stop_with_next": N_("a stop step has no next"),
    "not_within_days": N_("not_within needs days; the other rules take none"),
    "id_twice": N_("the step id '{id}' is used twice"),
    "no_step": N_("there is no step '{target}'"),
    "unreachable": N_("nothing leads to the step '{id}'"),
    "cycle": N_("the steps go round in a circle: {path}"),
}


class ChainProblem(ValueError):
    """Raised by the chain's validators: pydantic keeps it as the error's cause."""

    def __init__(self, code: str, **values: object) -> None:
        self.code = code
        self.values = {k: str(v) for k, v in values.items()}
        super().__init__(TEMPLATES[code].format(**self.values))


@dataclass(frozen=True, slots=True)
class Problem:
    line: int  # 1-based; 0 when the problem is the text as a whole
    code: str
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """In English (logs, exceptions)."""
        return self.text(lambda text: text)

    def text(self, gettext: Gettext) -> str:
        """In the language of ``gettext``; the values (names from the YAML) stay as written."""
        return gettext(TEMPLATES[self.code]).format(**self.values)

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


# pydantic's error types → (template, the ctx value that is the limit or the choices).
_PYDANTIC: dict[str, tuple[str, str]] = {
    "greater_than_equal": ("too_small", "ge"),
    "greater_than": ("too_small", "gt"),
    "less_than_equal": ("too_large", "le"),
    "less_than": ("too_large", "lt"),
    "string_too_long": ("too_long", "max_length"),
    "string_too_short": ("too_short", "min_length"),
    "too_short": ("too_few", "min_length"),
    "too_long": ("too_many", "max_length"),
    "int_parsing": ("not_number", ""),
    "int_type": ("not_number", ""),
    "int_from_float": ("not_number", ""),
    "string_type": ("not_text", ""),
    "bool_parsing": ("not_yes_no", ""),
    "bool_type": ("not_yes_no", ""),
    "model_type": ("not_mapping_field", ""),
    "dict_type": ("not_mapping_field", ""),
    "model_attributes_type": ("not_mapping_field", ""),
    "tuple_type": ("not_list", ""),
    "list_type": ("not_list", ""),
    "enum": ("not_one_of", "expected"),
    "literal_error": ("not_one_of", "expected"),
}


def from_pydantic(error: Mapping[str, Any], field_name: str) -> tuple[str, dict[str, str]]:
    """(code, values) for one of pydantic's errors about ``field_name``."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in _PYDANTIC:
        code, key = _PYDANTIC[kind]
        values = {"field": field_name}
        if key:
            values["limit" if code != "not_one_of" else "expected"] = str(ctx.get(key, ""))
        return code, values
    detail = str(error.get("msg", "")).removeprefix("Value error, ")
    return "invalid", {"field": field_name, "detail": detail}
