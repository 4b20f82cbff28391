"""`.github/workflows/plan.yml`: parsed with PyYAML and checked for what the plan review needs
(actionlint runs too where its binary is installed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from workflow_helpers import (
    REPO,
    REVIEW_COMMAND,
    WORKFLOWS,
    assert_actionlint_accepts,
    check_workflow_schema,
    index,
    runs,
    setup_order,
    triggers,
    uses,
)

WORKFLOW = WORKFLOWS / "plan.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


@pytest.fixture(scope="module")
def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    return job["steps"]


def test_runs_on_pull_requests_only(workflow: dict[str, Any]) -> None:
    on = triggers(workflow)
    assert set(on) == {"pull_request"}
    types = set(on["pull_request"]["types"])
    assert {"opened", "synchronize", "reopened"} <= types
    # Adding the acknowledging label must re-run the review.
    assert {"labeled", "unlabeled"} <= types


def test_permissions_are_oidc_read_and_comment(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {
        "id-token": "write",
        "contents": "read",
        "pull-requests": "write",
    }
    (job,) = workflow["jobs"].values()
    assert "permissions" not in job  # nothing widened per job


def test_tool_setup(steps: list[dict[str, Any]]) -> None:
    python = steps[index(steps, uses("actions/setup-python@"))]
    assert str(python["with"]["python-version"]) == "3.11"
    node = steps[index(steps, uses("actions/setup-node@"))]
    assert str(node["with"]["node-version"]) == "20"
    terraform = steps[index(steps, uses("hashicorp/setup-terraform@"))]
    version = tuple(int(x) for x in str(terraform["with"]["terraform_version"]).split("."))
    assert version >= (1, 10)  # S3 native locking
    # The wrapper prints extra lines into stdout, which would corrupt `show -json`.
    assert terraform["with"]["terraform_wrapper"] is False
    credentials = steps[index(steps, uses("aws-actions/configure-aws-credentials@"))]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_PLAN_ROLE_ARN }}"
    for step in steps:
        if "uses" in step:
            assert re.search(r"@v\d+", step["uses"]), f"unpinned action {step['uses']}"


def test_steps_run_in_order(steps: list[dict[str, Any]]) -> None:
    order = [
        *setup_order(steps),
        index(steps, runs("terraform -chdir")),
        index(steps, runs(REVIEW_COMMAND)),
        index(steps, uses("marocchino/sticky-pull-request-comment@")),
        index(steps, lambda s: "exit 1" in s.get("run", "") and "if" in s),
    ]
    assert order == sorted(order)
    assert order[-1] == len(steps) - 1  # the verdict comes last, after the comment


def test_every_synthesized_environment_is_planned_to_json(steps: list[dict[str, Any]]) -> None:
    script = steps[index(steps, runs("terraform -chdir"))]["run"]
    assert "for dir in cdktf.out/stacks/*/" in script
    assert re.search(r"terraform -chdir=\"\$dir\" init\b", script)
    assert re.search(r"terraform -chdir=\"\$dir\" plan\b.*-out=tfplan", script)
    assert 'show -json tfplan > "plans/$env.json"' in script
    # A failed plan is recorded, not fatal: its errored plan file is still reviewed.
    assert 'failed="$failed $env"' in script and "GITHUB_OUTPUT" in script


def test_review_keeps_its_exit_code_for_the_last_step(steps: list[dict[str, Any]]) -> None:
    review = steps[index(steps, runs(REVIEW_COMMAND))]
    assert "set +e" in review["run"] and "> report.md" in review["run"]
    assert "exit_code=$code" in review["run"]
    assert "allow-ip-change" in review["env"]["ALLOW_IP_CHANGE"]
    comment = steps[index(steps, uses("marocchino/sticky-pull-request-comment@"))]
    assert comment["with"]["path"] == "report.md" and comment["with"]["header"]
    verdict = steps[-1]
    assert f"steps.{review['id']}.outputs.exit_code != '0'" in verdict["if"]
    assert "steps.plan.outputs.failed" in verdict["if"]


def test_readme_documents_the_same_review_command() -> None:
    readme = (REPO / "docs" / "plan-review.md").read_text()
    assert REVIEW_COMMAND in readme


def test_workflow_matches_githubs_workflow_schema() -> None:
    result = check_workflow_schema(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "plan.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on:", "run-on:", 1))
    result = check_workflow_schema(broken)
    assert result.returncode == 1


def test_actionlint_accepts_the_workflow() -> None:
    assert_actionlint_accepts(WORKFLOW)
