"""Reading a synthesized stack: `cdktf.out/stacks/<env>/cdk.tf.json`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def load_stack(outdir: Path, name: str) -> dict[str, Any]:
    """The stack's JSON; raises FileNotFoundError when it has not been synthesized."""
    return json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text(encoding="utf-8"))


def blocks(value: Any) -> list[Mapping[str, Any]]:
    """A nested block as a list: a synthesized stack writes a single block as an object, a
    plan (`terraform show -json`) always as a list."""
    listed = value if isinstance(value, list) else [value] if value else []
    return [block for block in listed if isinstance(block, Mapping)]
