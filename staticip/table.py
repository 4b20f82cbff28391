"""Plain-text tables and JSON for command output."""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Sequence
from typing import Any

_EMPTY = "-"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Render ``rows`` under ``headers`` as a left-aligned text table with a header underline.

    Column widths come from the widest cell. ``None`` renders as ``-``, lists, tuples and sets as
    comma-separated values (sets sorted), anything else with ``str``. Rows shorter than the
    header are padded with ``-``; longer rows are an error. No trailing newline.
    """
    width = len(headers)
    cells = [[str(h) for h in headers]]
    for row in rows:
        if len(row) > width:
            raise ValueError(f"row has {len(row)} cells but the table has {width} columns: {row!r}")
        rendered = [_cell(value) for value in row]
        cells.append(rendered + [_EMPTY] * (width - len(rendered)))
    widths = [max(len(line[i]) for line in cells) for i in range(width)]
    underline = ["-" * w for w in widths]
    lines = [cells[0], underline, *cells[1:]]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def to_json(obj: object) -> str:
    """Serialise ``obj`` as indented JSON with sorted keys (no trailing newline).

    Datetimes become ISO 8601 strings, sets sorted lists, dataclasses dicts.
    """
    return json.dumps(obj, sort_keys=True, indent=2, default=_json_default)


def _cell(value: object) -> str:
    if value is None:
        return _EMPTY
    if isinstance(value, set | frozenset):
        return ", ".join(sorted(str(v) for v in value)) or _EMPTY
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or _EMPTY
    # Newlines or tabs would break the alignment of every row below.
    return " ".join(str(value).split()) or _EMPTY


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot serialise {type(value).__name__} as JSON")
