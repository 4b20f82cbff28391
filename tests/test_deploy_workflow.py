"""`.github/workflows/deploy.yml`: parsed with PyYAML and checked for what deploying on merge
needs; the two steps with logic of their own (listing the environments, the review verdict) are
run with bash."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from workflow_helpers import (
    REPO,
    REVIEW_COMMAND,
    WORKFLOWS,
    Step,
    assert_actionlint_accepts,
    check_workflow_schema,
    index,
    runs,
    setup_order,
    triggers,
    uses,
)

WORKFLOW = WORKFLOWS / "deploy.yml"
MATRIX_ENV = "${{ matrix.environment }}"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


@pytest.fixture(scope="module")
def lister(workflow: dict[str, Any]) -> dict[str, Any]:
    return workflow["jobs"]["environments"]


@pytest.fixture(scope="module")
def deploy(workflow: dict[str, Any]) -> dict[str, Any]:
    return workflow["jobs"]["deploy"]


@pytest.fixture(scope="module")
def steps(deploy: dict[str, Any]) -> list[Step]:
    return deploy["steps"]


def run_step(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a step's script as GitHub's default shell for `run` does (`bash -e`)."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-c", script],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_runs_on_pushes_to_main_and_by_hand(workflow: dict[str, Any]) -> None:
    on = triggers(workflow)
    assert set(on) == {"push", "workflow_dispatch"}
    assert on["push"] == {"branches": ["main"]}
    allow = on["workflow_dispatch"]["inputs"]["allow_ip_change"]
    assert allow["type"] == "boolean" and allow["default"] is False


def test_permissions_are_oidc_and_read(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"id-token": "write", "contents": "read"}
    assert all("permissions" not in job for job in workflow["jobs"].values())


def test_only_main_is_deployed(workflow: dict[str, Any], lister: dict[str, Any]) -> None:
    # A dispatch from another branch skips the list job, and with it every deploy.
    assert lister["if"] == "github.ref == 'refs/heads/main'"
    assert set(workflow["jobs"]) == {"environments", "deploy"}


def test_the_matrix_is_the_listed_environments(
    lister: dict[str, Any], deploy: dict[str, Any]
) -> None:
    (list_step,) = [s for s in lister["steps"] if s.get("id") == "list"]
    assert lister["outputs"]["environments"] == "${{ steps.list.outputs.environments }}"
    assert "load_config" in list_step["run"]
    assert deploy["needs"] == "environments"
    strategy = deploy["strategy"]
    assert strategy["matrix"] == {
        "environment": "${{ fromJSON(needs.environments.outputs.environments) }}"
    }
    # One environment's blocker must not cancel the others.
    assert strategy["fail-fast"] is False


def test_the_list_step_outputs_every_configured_environment(
    lister: dict[str, Any], tmp_path: Path
) -> None:
    # A third environment added to the file reaches the matrix with no workflow edit.
    (tmp_path / "staticip.toml").write_text(
        'project = "demo"\n'
        + "".join(
            f'[environments.{name}]\negress = "nat-gateway"\nregion = "us-east-1"\n'
            f'vpc_cidr = "10.{n}.0.0/16"\n'
            for n, name in enumerate(["dev", "prod", "staging"], start=10)
        )
    )
    output = tmp_path / "github_output"
    (list_step,) = [s for s in lister["steps"] if s.get("id") == "list"]
    script = list_step["run"].replace(".venv/bin/python", sys.executable)
    result = run_step(script, tmp_path, GITHUB_OUTPUT=str(output), PYTHONPATH=str(REPO))
    assert result.returncode == 0, result.stderr
    assert output.read_text() == 'environments=["dev", "prod", "staging"]\n'


def test_each_environment_deploys_in_its_own_github_environment_one_at_a_time(
    workflow: dict[str, Any], deploy: dict[str, Any]
) -> None:
    assert deploy["environment"] == MATRIX_ENV  # its protection rules and variables
    assert deploy["concurrency"] == {
        "group": f"deploy-{MATRIX_ENV}",
        "cancel-in-progress": False,  # never cancel an apply in progress
    }
    # A workflow-wide group would hold every environment behind the slowest one.
    assert "concurrency" not in workflow


def test_tools_are_set_up_as_for_the_pull_request_plan(steps: list[Step]) -> None:
    plan_job = yaml.safe_load((WORKFLOWS / "plan.yml").read_text())["jobs"]["plan"]
    planned = {s["uses"].split("@")[0]: s for s in plan_job["steps"] if "uses" in s}
    for action in (
        "actions/checkout",
        "actions/setup-python",
        "actions/setup-node",
        "hashicorp/setup-terraform",
        "aws-actions/configure-aws-credentials",
    ):
        step = steps[index(steps, uses(f"{action}@"))]
        assert step["uses"] == planned[action]["uses"]
        if action.startswith(("actions/setup-", "hashicorp/")):
            assert step["with"] == planned[action]["with"], action


def test_credentials_come_from_oidc_with_the_environments_role(steps: list[Step]) -> None:
    credentials = steps[index(steps, uses("aws-actions/configure-aws-credentials@"))]
    # An Environment variable: each GitHub Environment names its own deploy role.
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert MATRIX_ENV in credentials["with"]["role-session-name"]
    static_keys = re.compile(r"access-key|secret-access|AWS_ACCESS_KEY|AWS_SECRET|session-token")
    assert not static_keys.search(WORKFLOW.read_text())


def test_steps_run_in_order(steps: list[Step]) -> None:
    order = [
        *setup_order(steps),
        index(steps, runs(" init ")),
        index(steps, runs(" plan ")),
        index(steps, runs(".venv/bin/staticip review")),
        index(steps, runs(" apply ")),
    ]
    assert order == sorted(order)
    assert order[-1] == len(steps) - 1
    # Nothing lets the apply run after a failed review, or the review fail quietly.
    for step in steps:
        assert "if" not in step and "continue-on-error" not in step, step


def test_apply_runs_the_saved_plan_that_was_reviewed(
    deploy: dict[str, Any], steps: list[Step]
) -> None:
    assert deploy["env"]["STACK"] == f"cdktf.out/stacks/{MATRIX_ENV}"
    plan_json = deploy["env"]["PLAN_JSON"]
    # The README's review command line, for this environment's plan only.
    assert fnmatch.fnmatch(plan_json, "plans/*.json") and MATRIX_ENV in plan_json
    plan = steps[index(steps, runs(" plan "))]["run"]
    (saved,) = re.findall(r'terraform -chdir="\$STACK" plan .*-out=(\S+)$', plan, re.M)
    assert f'terraform -chdir="$STACK" show -json {saved} > "$PLAN_JSON"' in plan
    review = steps[index(steps, runs(".venv/bin/staticip review"))]["run"]
    assert REVIEW_COMMAND.replace("plans/*.json", '"$PLAN_JSON"') in review
    apply = steps[index(steps, runs(" apply "))]["run"].strip()
    assert apply.startswith('terraform -chdir="$STACK" apply ')
    assert apply.split()[-1] == saved  # exactly the saved plan, never a fresh one
    assert "-target" not in apply and "-replace" not in apply


@pytest.mark.parametrize(("code", "allow"), [(0, ""), (1, ""), (2, ""), (0, "--allow-ip-change")])
def test_the_review_verdict_is_the_steps_exit_code(
    steps: list[Step], tmp_path: Path, code: int, allow: str
) -> None:
    review = steps[index(steps, runs(".venv/bin/staticip review"))]
    # An IP change is acknowledged only by a person dispatching the run.
    assert "inputs.allow_ip_change" in review["env"]["ALLOW_IP_CHANGE"]
    fake = tmp_path / ".venv" / "bin" / "staticip"
    fake.parent.mkdir(parents=True)
    fake.write_text(f'#!/bin/sh\necho "## review of $*"\nexit {code}\n')
    fake.chmod(0o755)
    summary = tmp_path / "summary.md"
    result = run_step(
        review["run"],
        tmp_path,
        PLAN_JSON="plans/prod.json",
        ALLOW_IP_CHANGE=allow,
        GITHUB_STEP_SUMMARY=str(summary),
    )
    # A non-zero exit fails the step, and a failed step skips the apply after it.
    assert result.returncode == code, result.stderr
    # The report reaches the run's summary whatever the verdict.
    assert summary.read_text().strip() == f"## review of review plans/prod.json {allow}".strip()


def test_readme_documents_deploy_on_merge() -> None:
    readme = (REPO / "docs" / "plan-review.md").read_text()
    section = readme.split("## Deploy on merge", 1)[1].split("\n## ", 1)[0]
    for fact in ("deploy.yml", "AWS_DEPLOY_ROLE_ARN", "required reviewers", "allow_ip_change"):
        assert fact in section, fact


def test_workflow_matches_githubs_workflow_schema() -> None:
    result = check_workflow_schema(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_accepts_the_workflow() -> None:
    assert_actionlint_accepts(WORKFLOW)
