"""The runnable configurations in examples/: each loads (`make test`); each synthesizes, every
stack is valid Terraform, and checkov passes over all of them with the project's waivers
(`make e2e`, markers `slow` and `terraform`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import built_once
from tfvalidate import validate_together

from staticip.config import load_config

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.parent for p in (REPO / "examples").glob("*/staticip.toml"))
CHECKOV = REPO / ".venv-scan" / "bin" / "checkov"


def test_the_four_examples_are_there_each_with_its_readme() -> None:
    names = [e.name for e in EXAMPLES]
    assert names == ["budget-production", "own-functions", "two-accounts", "webhooks-own-eips"]
    index = (REPO / "examples" / "README.md").read_text()
    for example in EXAMPLES:
        assert (example / "README.md").read_text().startswith("# ")
        assert f"]({example.name}/)" in index


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_each_example_loads_and_shows_what_it_is_for(example: Path) -> None:
    config = load_config(example / "staticip.toml")
    envs = {e.name: e for e in config.environments}
    if example.name == "budget-production":
        (prod,) = envs.values()
        assert (prod.egress, prod.nat, len(prod.static_ip_azs)) == ("nat-gateway", "single", 1)
        assert prod.backend.bucket and prod.alarm_topic_arn
    elif example.name == "two-accounts":
        assert envs["dev"].account_id != envs["prod"].account_id
        assert envs["dev"].profile and envs["prod"].assume_role_arn
    elif example.name == "webhooks-own-eips":
        (hooks,) = envs.values()
        assert hooks.ingress == "nlb-eip" and hooks.certificate_arn
        assert [r.function for r in hooks.routes] == ["stripe-hook"]
    else:
        for env in envs.values():
            assert env.egress != "none"
            assert {fn.runtime.rstrip(".x0123456789") for fn in env.functions} == {
                "python",
                "nodejs",
            }


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every example synthesized once for the run (`built_once`), in one process."""
    from staticip.synth import synthesize

    def build(root: Path) -> None:
        for example in EXAMPLES:
            synthesize(example / "staticip.toml", root / example.name / "cdktf.out")

    root = built_once(tmp_path_factory, "examples", build)
    return {example.name: root / example.name / "cdktf.out" for example in EXAMPLES}


def _stacks(synthesized: dict[str, Path]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{name}/{stack.parent.name}", json.loads(stack.read_text()))
        for name, outdir in synthesized.items()
        for stack in sorted(outdir.glob("stacks/*/cdk.tf.json"))
    ]


@pytest.mark.slow
@pytest.mark.terraform
def test_every_example_stack_is_valid_terraform(
    synthesized: dict[str, Path], tmp_path: Path
) -> None:
    stacks = _stacks(synthesized)
    # One stack per environment of every example.
    expected = sum(len(load_config(e / "staticip.toml").environments) for e in EXAMPLES)
    assert len(stacks) == expected == 6
    by_name = dict(stacks)
    validate_together(by_name, tmp_path).assert_valid(*by_name)


@pytest.mark.slow
def test_checkov_passes_on_every_example(synthesized: dict[str, Path], tmp_path: Path) -> None:
    if not CHECKOV.exists():
        pytest.skip(f"checkov is not installed at {CHECKOV} (`make scan` installs it)")
    for name, outdir in synthesized.items():
        target = tmp_path / name
        # What `make scan` does: a copy without the `removed` blocks checkov cannot parse.
        subprocess.run(
            [sys.executable, "-m", "staticip.scan_input", str(outdir / "stacks"), str(target)],
            check=True,
        )
    result = subprocess.run(
        [
            str(CHECKOV),
            "--config-file",
            str(REPO / ".checkov.yaml"),
            "--directory",
            str(tmp_path),
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "CKV_PARSE_ERROR_FAIL": "true"},
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    summary = [r["summary"] for r in reports if "summary" in r]
    assert summary and sum(s["passed"] for s in summary) > 0
    assert sum(s["failed"] for s in summary) == 0 and sum(s["parsing_errors"] for s in summary) == 0
