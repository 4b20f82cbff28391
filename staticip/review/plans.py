"""Reading `terraform show -json` plans: checking the input, and a view of one plan."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from staticip.review.model import (
    _NAMED_ARGUMENT,
    REPLACE,
    SUPPORTED_FORMAT_MAJOR,
    Change,
    PlanError,
)

# --- reading plans ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    """One plan file and the environment it belongs to."""

    environment: str
    path: Path


def environment_from_path(path: Path) -> str:
    """`prod.json` and `prod.plan.json` are environment `prod`."""
    name = path.name
    for suffix in (".plan.json", ".json"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return path.stem or name


def parse_plan_argument(argument: str) -> PlanInput:
    """`ENV=PATH` or `PATH` (environment from the file name, see `environment_from_path`).

    A path that exists as given is always a path, even if it contains `=`.
    """
    match = _NAMED_ARGUMENT.match(argument)
    if match and not Path(argument).exists():
        return PlanInput(match.group(1), Path(match.group(2)))
    path = Path(argument)
    return PlanInput(environment_from_path(path), path)


def load_plan(path: Path) -> dict[str, Any]:
    """Read and check one `terraform show -json` plan; raise `PlanError` with one line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise PlanError(f"{path}: is a directory, not a plan JSON file") from None
    except UnicodeDecodeError:
        raise PlanError(
            f"{path}: not UTF-8 text; is it the binary plan file? "
            "Review `terraform show -json PLANFILE > plan.json` instead"
        ) from None
    except OSError as exc:
        raise PlanError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    return check_plan(document, str(path))


def check_plan(document: object, source: str) -> dict[str, Any]:
    """`document` if it is a Terraform JSON plan of a supported format, else `PlanError`."""
    how = "make one with `terraform show -json PLANFILE`"
    if not isinstance(document, dict):
        raise PlanError(f"{source}: not a Terraform plan (a JSON {_json_type(document)}); {how}")
    version = document.get("format_version")
    if not isinstance(version, str):
        raise PlanError(f"{source}: not a Terraform plan (no format_version); {how}")
    if version.split(".")[0] != SUPPORTED_FORMAT_MAJOR:
        raise PlanError(f"{source}: plan format_version {version} is not supported (expected 1.x)")
    if "resource_changes" not in document and "planned_values" not in document:
        if "values" in document:
            raise PlanError(
                f"{source}: this is Terraform state (`terraform show -json` without a plan "
                f"file), not a plan; {how}"
            )
        raise PlanError(f"{source}: not a Terraform plan (no resource_changes); {how}")
    changes = document.get("resource_changes", [])
    if not isinstance(changes, list) or not all(_is_change(c) for c in changes):
        raise PlanError(f"{source}: resource_changes is not a list of changes; {how}")
    return document


def _is_change(item: object) -> bool:
    """The fields of a resource change the review relies on, with the right types."""
    if not isinstance(item, dict) or not isinstance(item.get("address"), str):
        return False
    change = item.get("change")
    return isinstance(change, dict) and isinstance(change.get("actions"), list)


def _json_type(value: object) -> str:
    names = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


# --- reading one plan ---------------------------------------------------------------------------


def _resources(module: Mapping[str, Any] | None) -> Iterator[Mapping[str, Any]]:
    """Every resource of a values representation's module and its child modules."""
    if not module:
        return
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _resources(child)


def _action(actions: Sequence[str]) -> str:
    if "delete" in actions and "create" in actions:
        # ["delete", "create"] or ["create", "delete"] (create_before_destroy).
        return REPLACE
    if len(actions) == 1:
        return actions[0]
    return "+".join(actions)


def _path(steps: Sequence[object]) -> str:
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps).lstrip(".")


def _has_unknown(value: object) -> bool:
    """Whether an `after_unknown` subtree marks anything unknown."""
    if value is True:
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False


def _first(value: object) -> dict[str, Any]:
    """The object of a single nested block (a list of at most one object in plan JSON)."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return {}


class PlanView:
    """Indexes over one plan document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.raw_changes: list[Mapping[str, Any]] = list(document.get("resource_changes", []))
        self.managed = [rc for rc in self.raw_changes if rc.get("mode", "managed") == "managed"]

    def of_type(self, rtype: str) -> list[Mapping[str, Any]]:
        return [rc for rc in self.managed if rc.get("type") == rtype]

    @staticmethod
    def action(rc: Mapping[str, Any]) -> str:
        return _action(rc["change"].get("actions", []))

    @staticmethod
    def before(rc: Mapping[str, Any]) -> dict[str, Any]:
        return rc["change"].get("before") or {}

    @staticmethod
    def after(rc: Mapping[str, Any]) -> dict[str, Any]:
        return rc["change"].get("after") or {}

    @staticmethod
    def unknown(rc: Mapping[str, Any]) -> dict[str, Any]:
        value = rc["change"].get("after_unknown")
        return value if isinstance(value, dict) else {}

    def changes_of(self, rtype: str, *actions: str) -> list[Mapping[str, Any]]:
        return [rc for rc in self.of_type(rtype) if self.action(rc) in actions]

    def provider_region(self) -> str | None:
        """The default (unaliased) AWS provider's region, when it is a constant."""
        config = self.document.get("configuration", {}).get("provider_config", {})
        aws = config.get("aws", {})
        return aws.get("expressions", {}).get("region", {}).get("constant_value")


def to_change(rc: Mapping[str, Any]) -> Change:
    return Change(
        address=rc["address"],
        type=rc.get("type", ""),
        action=PlanView.action(rc),
        reason=rc.get("action_reason"),
        replace_paths=tuple(_path(p) for p in rc["change"].get("replace_paths", []) or []),
        deposed=bool(rc.get("deposed")),
    )
