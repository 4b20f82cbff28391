"""What every environment has: tags, state backend, IAM, logs, protected IPs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from tfjson import of_type, ref

REPO = Path(__file__).resolve().parent.parent

ENVIRONMENTS = ("dev", "prod", "ingress")


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_every_aws_provider_tags_environment_and_project(shipped, name):
    stack = shipped.stack(name)
    env = shipped.config.environment(name)
    for provider in stack["provider"]["aws"]:
        (tags,) = provider["default_tags"]
        assert tags["tags"]["environment"] == name
        assert tags["tags"]["project"] == shipped.config.project
        for key, value in env.tags.items():
            assert tags["tags"][key] == value
    # Every resource goes through an aws provider that carries those default tags.
    aliases = {f"aws.{p['alias']}" for p in stack["provider"]["aws"] if "alias" in p}
    for rtype, resources in stack["resource"].items():
        if rtype == "terraform_data":
            continue  # Terraform's built-in, stored in state only: no AWS resource, no tags.
        for body in resources.values():
            assert rtype.startswith("aws_")
            assert body.get("provider", "aws") in aliases | {"aws"}


@pytest.mark.parametrize("which", ["shipped", "user"])
def test_no_path_of_this_machine_in_any_stack(request, which):
    """The JSON runs wherever the repository is checked out: CI runners, containers, a
    colleague's laptop. The venv's interpreter or the checkout's path must not be baked in."""
    synthesized = request.getfixturevalue(which)
    forbidden = {str(REPO), sys.executable, str(Path(sys.executable).resolve()), sys.prefix}
    stacks = sorted((synthesized.outdir / "stacks").glob("*/cdk.tf.json"))
    assert stacks
    for path in stacks:
        text = path.read_text()
        found = [item for item in forbidden if item in text]
        assert not found, f"{path.parent.name}: {found}"


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_local_state_at_the_repo_root_by_default(shipped, name):
    backend = shipped.stack(name)["terraform"]["backend"]
    assert backend == {"local": {"path": f"../../../terraform.{name}.tfstate"}}


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_function_role_log_group_and_managed_policies_only(shipped, name):
    stack = shipped.stack(name)
    env = shipped.config.environment(name)
    assert of_type(stack, "aws_iam_policy") == {}
    # Inline policies: only the ENI guard's (its scoping is tested in test_stacks_eni_guard).
    assert all(
        p["name"] == "eni-guard" or p["name"].startswith("eni-guard-associate-")
        for p in of_type(stack, "aws_iam_role_policy").values()
    )
    for _fn_id, fn in of_type(stack, "aws_lambda_function").items():
        logs = [
            lid
            for lid, g in of_type(stack, "aws_cloudwatch_log_group").items()
            if g["name"] == f"/aws/lambda/{fn['function_name']}"
        ]
        assert len(logs) == 1
        group = of_type(stack, "aws_cloudwatch_log_group")[logs[0]]
        assert group["retention_in_days"] == env.function.log_retention_days
        assert f"aws_cloudwatch_log_group.{logs[0]}" in fn["depends_on"]
        role_id = fn["role"].split(".")[1]
        role = of_type(stack, "aws_iam_role")[role_id]
        assert '"lambda.amazonaws.com"' in role["assume_role_policy"]
        policies = sorted(
            a["policy_arn"]
            for a in of_type(stack, "aws_iam_role_policy_attachment").values()
            if a["role"] == ref("aws_iam_role", role_id, "name")
        )
        expected = ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
        if "vpc_config" in fn:
            expected.append("arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")
        assert policies == expected


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_default_security_group_is_locked_down(shipped, name):
    (default_sg,) = of_type(shipped.stack(name), "aws_default_security_group").values()
    assert "ingress" not in default_sg and "egress" not in default_sg


def test_lambda_code_is_packaged_inside_the_stack_directory(shipped):
    for name in ENVIRONMENTS:
        for fn in of_type(shipped.stack(name), "aws_lambda_function").values():
            archive = shipped.outdir / "stacks" / name / fn["filename"]
            assert archive.is_file(), archive
