"""Reading GitHub workflow files in tests: find steps, read triggers, validate the file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
#: The review command as the README documents it; the workflows run it in this form.
REVIEW_COMMAND = ".venv/bin/staticip review plans/*.json"

Step = dict[str, Any]


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads a bare `on` key as the boolean true.
    return workflow.get("on", workflow.get(True))


def index(steps: list[Step], predicate: Any) -> int:
    """The position of the one step `predicate` accepts (fails on none or several)."""
    found = [i for i, step in enumerate(steps) if predicate(step)]
    assert len(found) == 1, found
    return found[0]


def uses(prefix: str) -> Any:
    return lambda step: step.get("uses", "").startswith(prefix)


def runs(fragment: str) -> Any:
    return lambda step: fragment in step.get("run", "")


def setup_order(steps: list[Step]) -> list[int]:
    """Where the set-up both Terraform workflows share sits: checkout, Python, Node, Terraform,
    `make synth`, then the AWS credentials (each must be there exactly once)."""
    return [
        index(steps, uses("actions/checkout@")),
        index(steps, uses("actions/setup-python@")),
        index(steps, uses("actions/setup-node@")),
        index(steps, uses("hashicorp/setup-terraform@")),
        index(steps, runs("make synth")),
        index(steps, uses("aws-actions/configure-aws-credentials@")),
    ]


def check_workflow_schema(path: Path) -> subprocess.CompletedProcess[str]:
    # check-jsonschema vendors SchemaStore's GitHub workflow schema: no network needed.
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_actionlint_accepts(path: Path) -> None:
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (its PyPI wrapper downloads the binary at build)")
    result = subprocess.run(
        [actionlint, "-no-color", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
