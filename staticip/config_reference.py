"""`make docs`: `docs/configuration.md`, the reference of every key of `staticip.toml`, written
from the schema itself: the dataclasses of `staticip.config` and `staticip.function_config`
(each field's type, default and docstring), the keys each mode declares (`Mode.keys`, with the
defaults its `options` gives), and the few defaults the parser derives (`DERIVED_DEFAULTS`).
`tests/test_docs.py` fails when the committed page differs from what this writes."""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, Field, fields
from pathlib import Path
from typing import Any

from staticip import modes
from staticip.config import (
    DERIVED_DEFAULTS,
    KEY_TYPES,
    OTHER_KEYS,
    BackendConfig,
    EniGuardConfig,
    EnvironmentConfig,
    TableReader,
    environment_keys,
)
from staticip.function_config import DECLARED_FUNCTION_KEYS, DeclaredFunction, FunctionConfig

DEFAULT_PAGE = Path("docs/configuration.md")
#: Environment keys that are tables of their own, each with its section below.
_TABLES = {
    "function": "environments.<name>.function",
    "functions": "environments.<name>.functions.<key>",
    "eni_guard": "environments.<name>.eni_guard",
    "backend": "environments.<name>.backend",
}


def field_docs(cls: type) -> dict[str, str]:
    """Each field's docstring (the string right after it in the class body), on one line;
    inherited fields' from the base classes."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or not hasattr(klass, "__dataclass_fields__"):
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0]
        assert isinstance(body, ast.ClassDef)
        for node, after in zip(body.body, body.body[1:], strict=False):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = " ".join(inspect.cleandoc(after.value.value).split())
    return docs


def toml_type(annotation: Any) -> str:
    """How a field's Python type is written in TOML."""
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        return " or ".join(toml_type(a) for a in args)
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation in (str, Path):
        return "string"
    if origin in (tuple, list, Sequence):
        return f"array of {toml_type(args[0])}s" if args else "array"
    if origin in (dict, Mapping) or annotation in (dict,):
        return "table"
    if hasattr(annotation, "__dataclass_fields__"):
        return "table"
    return getattr(annotation, "__name__", str(annotation))


def toml_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Mapping):
        return "{}" if not value else str(dict(value))
    if isinstance(value, tuple | list):
        return "[]" if not value else str(list(value))
    return str(value)


def _default(f: Field[Any], key: str) -> str:
    if key in DERIVED_DEFAULTS:
        return DERIVED_DEFAULTS[key]
    if f.default is not MISSING:
        return toml_value(f.default)
    if f.default_factory is not MISSING:
        made = f.default_factory()
        return "" if hasattr(made, "__dataclass_fields__") else toml_value(made)
    return "required"


def _mode_defaults() -> dict[str, Any]:
    """The values each mode's `options` gives its own keys when the table sets none."""
    defaults: dict[str, Any] = {}
    for mode in modes.all_modes():
        reader = TableReader(Path("staticip.toml"), "reference", {})
        defaults |= mode.options(reader, ("us-east-1a", "us-east-1b"))
    return defaults


def _mode_names(takers: Iterable[modes.Mode]) -> str:
    names = []
    for mode in takers:
        text = f'`{mode.direction} = "{mode.name}"`'
        if text not in names:
            names.append(text)
    return ", ".join(names)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _table(rows: Iterable[Sequence[str]], with_modes: bool = False) -> list[str]:
    head = ["key", "type", "default", "meaning"] + (["with"] if with_modes else [])
    return [_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows)]


def _dataclass_rows(
    cls: type, keys: Iterable[str], prefix: str = "", skip: Iterable[str] = ()
) -> list[list[str]]:
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls)
    by_name = {f.name: f for f in fields(cls)}
    rows = []
    for key in sorted(set(keys) - set(skip)):
        f = by_name[key]
        rows.append(
            [
                f"`{key}`",
                KEY_TYPES.get(prefix + key) or toml_type(hints[key]),
                _default(f, prefix + key),
                docs.get(key, ""),
            ]
        )
    return rows


def environment_rows() -> list[list[str]]:
    """One row per key of an environment table, with the modes that take it."""
    docs = field_docs(EnvironmentConfig)
    hints = typing.get_type_hints(EnvironmentConfig)
    by_name = {f.name: f for f in fields(EnvironmentConfig)}
    takers = modes.mode_keys()
    mode_defaults = _mode_defaults()
    rows = []
    for key in sorted(environment_keys()):
        if key in by_name:
            kind = KEY_TYPES.get(key) or toml_type(hints[key])
            default, meaning = _default(by_name[key], key), docs.get(key, "")
        elif key in OTHER_KEYS:
            kind, meaning = OTHER_KEYS[key]
            default = DERIVED_DEFAULTS.get(key, "")
        else:  # a key only a mode reads
            value = mode_defaults.get(key)
            kind = toml_type(type(value)) if value is not None else "string"
            default = toml_value(value)
            meaning = next(iter({m.keys[key] for m in takers[key]}))
        if key in _TABLES:
            meaning += f" See `[{_TABLES[key]}]` below."
            default = "-"
        rows.append([f"`{key}`", kind, default, meaning, _mode_names(takers.get(key, ()))])
    return rows


def render() -> str:
    """The whole page."""
    lines = [
        "# Configuration reference (`staticip.toml`)",
        "",
        "Generated by `make docs` from the schema (`staticip/config.py`,",
        "`staticip/function_config.py` and the mode declarations in `staticip/modes/`); do not",
        "edit it by hand: `tests/test_docs.py` fails when it is stale. How to add an environment",
        "and what an invalid file does: [configuration-guide.md](configuration-guide.md).",
        "",
        "## Top level",
        "",
        *_table(
            [
                ["`project`", "string", '"staticip"', "Prefix of every resource name and tag."],
                [
                    "`environments`",
                    "table of tables",
                    "required",
                    "One `[environments.<name>]` table per environment, each a stack named as the"
                    " table (lowercase letters, digits and `-`).",
                ],
            ]
        ),
        "",
        "## `[environments.<name>]`",
        "",
        "A key in the *with* column applies only with those modes; set elsewhere, it is an",
        "error naming the modes that take it.",
        "",
        *_table(environment_rows(), with_modes=True),
        "",
        f"## `[{_TABLES['function']}]`",
        "",
        "The built-in function's settings: the egress probe, or the webhook without egress.",
        "",
        *_table(
            _dataclass_rows(FunctionConfig, (f.name for f in fields(FunctionConfig)), "function.")
        ),
        "",
        f"## `[{_TABLES['functions']}]`",
        "",
        "Your own functions, one table each; every key of `[function]` applies too.",
        "",
        *_table(
            _dataclass_rows(
                DeclaredFunction,
                DECLARED_FUNCTION_KEYS - {f.name for f in fields(FunctionConfig)} | {"name"},
                "functions.",
            )
        ),
        "",
        f"## `[{_TABLES['eni_guard']}]`",
        "",
        *_table(
            _dataclass_rows(EniGuardConfig, (f.name for f in fields(EniGuardConfig)), "eni_guard.")
        ),
        "",
        f"## `[{_TABLES['backend']}]`",
        "",
        *_table(
            _dataclass_rows(BackendConfig, (f.name for f in fields(BackendConfig)), "backend.")
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else DEFAULT_PAGE
    target.write_text(render())
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
