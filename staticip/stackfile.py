"""Reading a synthesized stack: `cdktf.out/stacks/<env>/cdk.tf.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_stack(outdir: Path, name: str) -> dict[str, Any]:
    """The stack's JSON; raises FileNotFoundError when it has not been synthesized."""
    return json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text(encoding="utf-8"))
