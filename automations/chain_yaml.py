"""Automation chains as YAML: read with the line of every node, written back the same way.

An owner pastes a chain into the admin chat (or sends a ``.yaml`` file). ruamel.yaml's
round-trip loader remembers where each key and list item stood, so every refusal — a YAML
syntax error, an unknown field, an impossible wait, a jump to a step that does not exist, a
step nothing leads to, a circle — names the line to fix. ``dump`` writes a chain in the same
shape ``load`` reads, so export → import gives the same chain back.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from automations.chain import TRIGGER_KINDS, Chain, GraphError
from automations.problems import ChainProblem, Problem, from_pydantic

# ruamel.yaml is imported where a chain is read or written: ~1.5 MB of idle memory in every
# web process, and chains arrive seldom.
if TYPE_CHECKING:
    from ruamel.yaml import YAML

MAX_YAML_BYTES = 64 * 1024


class ChainRefused(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _yaml() -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def load(text: str) -> Chain:
    """The chain in ``text``, or ``ChainRefused`` with every problem and its line."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if len(text.encode()) > MAX_YAML_BYTES:
        raise ChainRefused([Problem(0, "too_big", {"kb": str(MAX_YAML_BYTES // 1024)})])
    try:
        data = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        detail = str(exc.problem or exc.context)
        raise ChainRefused([Problem(line, "yaml", {"detail": detail})]) from None
    except YAMLError as exc:
        raise ChainRefused([Problem(0, "yaml", {"detail": str(exc)})]) from None
    if not isinstance(data, Mapping):
        raise ChainRefused([Problem(1, "not_mapping")])
    try:
        return Chain.model_validate(_plain(data))
    except ValidationError as exc:
        raise ChainRefused(_problems(exc, data)) from None


def dump(chain: Chain) -> str:
    """The chain as YAML that ``load`` reads back to the same chain."""
    raw = chain.model_dump(mode="json", by_alias=True, exclude_none=True)
    ordered: dict[str, Any] = {"name": raw["name"]}
    if chain.card is not None:
        ordered["card"] = chain.card
    ordered["trigger"] = raw["trigger"]
    if chain.reentry.rule != "never":
        ordered["reentry"] = raw["reentry"]
    if chain.holdout:
        ordered["holdout"] = chain.holdout
    ordered["steps"] = [_step(step) for step in raw["steps"]]
    out = io.StringIO()
    yaml = _yaml()
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.dump(ordered, out)
    return out.getvalue()


def _step(step: dict[str, Any]) -> dict[str, Any]:
    """A step with its id first and the send's defaults left out, as a person writes it."""
    ordered = {"id": step.pop("id")}
    send = step.get("send")
    if isinstance(send, dict):
        if send.get("policy") == "every":
            send.pop("policy")
        if send.get("push") == "":
            send.pop("push")
    ordered.update(step)
    return ordered


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, Sequence) and not isinstance(node, str):
        return [_plain(v) for v in node]
    return node


def _line_of(data: Any, loc: Sequence[int | str]) -> int:
    """The 1-based line of the deepest node of ``loc`` that is in the text.

    pydantic's path can name things the text does not have (a discriminated union's tag, a
    missing field): those parts are skipped and the nearest node's line is used.
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    node, line = data, 1
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
    return line


def _problems(exc: ValidationError, data: Any) -> list[Problem]:
    problems: list[Problem] = []
    errors = exc.errors()
    inner = {tuple(e["loc"]) for e in errors}
    for error in errors:
        loc = tuple(error["loc"])
        # pydantic counts only the valid items of a list with a bad one: "steps: too few" is
        # an echo of the problem inside it, which is reported on its own line.
        if error["type"] in ("too_short", "too_long") and any(
            other[: len(loc)] == loc and len(other) > len(loc) for other in inner
        ):
            continue
        cause = (error.get("ctx") or {}).get("error")
        # The path as the owner wrote it: no list indexes, no union tag ("inactive").
        where = ".".join(str(p) for p in loc if not isinstance(p, int) and p not in TRIGGER_KINDS)
        values: dict[str, str]
        if isinstance(cause, GraphError):
            loc = (*loc, "steps", cause.index, cause.field_name)
            code, values = cause.code, cause.values
        elif isinstance(cause, ChainProblem):
            code, values = cause.code, cause.values
        elif error["type"] == "extra_forbidden":
            code, values = "unknown_field", {"field": str(loc[-1])}
        elif error["type"] == "union_tag_invalid":
            tag = (error.get("ctx") or {}).get("tag", "")
            code, values = "unknown_trigger", {"value": str(tag)}
            loc = (*loc, "kind")
        elif error["type"] == "missing":
            code, values = "missing", {"field": str(loc[-1])}
        else:
            code, values = from_pydantic(error, where)
        problems.append(Problem(_line_of(data, loc), code, values))
    return sorted(problems, key=lambda p: p.line)
