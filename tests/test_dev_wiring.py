"""The dev stack and the resolver agree: Terraform runs each synthesized `data.external` program
from the stack directory with the synthesized query, and each `aws_eip_association` finds its
subnet's ENI in its own AZ's result.

Terraform itself is not needed here (`make e2e` plans and applies with it): the test fills the
query's references with IDs moto created, runs the program as Terraform would (JSON on stdin,
the stack directory as working directory), and follows each association's lookup."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from eni_fixtures import (
    create_function,
    create_lambda_eni,
    create_role,
    endpoint_client,
    isolated_aws_env,
    make_network,
)
from tfjson import by_path, of_type

REFERENCE = re.compile(r"\$\{([a-z_]+)\.([\w-]+)\.([a-z_]+)\}")
OUTPUT = re.compile(r"\$\{terraform_data\.([\w-]+)\.output\.(\w+)\}")
JOIN = re.compile(r'\$\{join\(",", \[(.*)\]\)\}')


def evaluate(expression: str, ids: dict[str, str], stack: dict) -> str:
    """The only expressions the lookup and its terraform_data use: a literal, a reference,
    join(",", [refs]) and terraform_data.X.output.key (its input, once applied)."""
    if match := OUTPUT.fullmatch(expression):
        data_id, key = match.groups()
        return evaluate(of_type(stack, "terraform_data")[data_id]["input"][key], ids, stack)
    if match := JOIN.fullmatch(expression):
        return ",".join(ids[ref.strip()] for ref in match.group(1).split(","))
    if match := REFERENCE.fullmatch(expression):
        return ids[".".join(match.groups())]
    assert "${" not in expression, expression
    return expression


@pytest.fixture
def ec2(moto_endpoint):
    return endpoint_client("ec2", moto_endpoint)


def test_associations_resolve_to_the_eni_of_their_own_subnet(shipped, ec2, moto_endpoint):
    stack = shipped.stack("dev")
    env = shipped.config.environment("dev")
    (sg_id,) = of_type(stack, "aws_security_group")
    net = make_network(ec2, subnets=len(env.azs), security_groups=2)

    # What `terraform apply` would have created, and what Lambda creates after it: one ENI per
    # subnet with the function's SG, plus a decoy with another SG set that must not match.
    ids = {f"aws_security_group.{sg_id}.id": net.security_group_ids[0]}
    enis = {}
    for az, subnet in zip(sorted(env.azs), net.subnet_ids, strict=True):
        ids[f"aws_subnet.{by_path(stack, 'aws_subnet', f'/public-{az}')[0]}.id"] = subnet
        enis[subnet] = create_lambda_eni(ec2, subnet, [net.security_group_ids[0]])
        create_lambda_eni(ec2, subnet, [net.security_group_ids[1]])
        eip_id = by_path(stack, "aws_eip", f"/eip-{az}")[0]
        ids[f"aws_eip.{eip_id}.allocation_id"] = ec2.allocate_address(Domain="vpc")["AllocationId"]
    (fn_id, _), *_ = of_type(stack, "aws_lambda_function").items()
    ids[f"aws_lambda_function.{fn_id}.arn"] = "arn:aws:lambda:us-east-1:123456789012:function:x"
    # The resolver reads the function's state first, so the function must exist.
    role = create_role(endpoint_client("iam", moto_endpoint))
    create_function(
        endpoint_client("lambda", moto_endpoint),
        role,
        env.function.name,
        net.subnet_ids,
        net.security_group_ids[:1],
    )

    stack_dir = shipped.outdir / "stacks" / "dev"
    child = {**os.environ, **isolated_aws_env(), "AWS_ENDPOINT_URL": moto_endpoint}
    child["STATICIP_PYTHON"] = sys.executable
    for az in env.azs:
        _, lookup = by_path(stack, "external", f"/enis-{az}", kind="data")
        query = {key: evaluate(value, ids, stack) for key, value in lookup["query"].items()}
        result = subprocess.run(
            lookup["program"],
            input=json.dumps(query),
            env=child,
            cwd=stack_dir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        resolved = json.loads(result.stdout)

        _, association = by_path(stack, "aws_eip_association", f"/assoc-{az}")
        match = re.fullmatch(
            r"\$\{data\.external\.[\w-]+\.result\[(.+)\]\}", association["network_interface_id"]
        )
        subnet = ids[match.group(1)]
        assert resolved == {subnet: enis[subnet]}


def launcher(shipped) -> Path:
    _, lookup = next(iter(of_type(shipped.stack("dev"), "external", "data").items()))
    return shipped.outdir / "stacks" / "dev" / lookup["program"][1]


def run_launcher(script: Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/sh", str(script)],
        input="{}",
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_a_python_that_has_boto3_the_lookup_fails_in_one_line(shipped, tmp_path):
    # A bare PATH and no .venv above the working directory: nothing can run the resolver.
    result = run_launcher(launcher(shipped), tmp_path, {"PATH": str(tmp_path / "empty")})
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("staticip.enis: no Python with boto3")
    assert "make synth" in line and "STATICIP_PYTHON" in line


def test_a_staticip_python_without_boto3_is_named(shipped, tmp_path):
    env = {"PATH": os.environ["PATH"], "STATICIP_PYTHON": "/bin/true"}
    result = run_launcher(launcher(shipped), tmp_path, env)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert "STATICIP_PYTHON=/bin/true" in line


def test_the_nearest_venv_above_the_working_directory_runs_the_resolver(shipped, tmp_path):
    """`cdktf deploy dev` and `terraform -chdir=cdktf.out/stacks/dev` run the lookup from the
    stack directory: the repository's `.venv` is found above it, wherever the checkout is."""
    venv_python = tmp_path / "checkout" / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    marker = tmp_path / "ran"
    venv_python.write_text(f'#!/bin/sh\n: > {marker}\nexec {sys.executable} "$@"\n')
    venv_python.chmod(0o755)
    workdir = tmp_path / "checkout" / "cdktf.out" / "stacks" / "dev"
    workdir.mkdir(parents=True)

    result = run_launcher(launcher(shipped), workdir, {"PATH": str(tmp_path / "empty")})

    assert marker.exists(), result.stderr
    # It reached the resolver, which rejects the empty query in its own words.
    assert result.returncode == 1
    assert result.stderr.strip() == "staticip.enis: query key 'region' is missing or empty"
