"""The dev stack and the resolver agree: Terraform runs the synthesized `data.external` program
with the synthesized query, and each `aws_eip_association` finds its subnet's ENI in the result.

Terraform itself is not needed: the test fills the query's references with IDs moto created,
runs the program as Terraform would (JSON on stdin), and follows each association's lookup."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from eni_fixtures import create_lambda_eni, endpoint_client, isolated_aws_env, make_network
from tfjson import of_type

REFERENCE = re.compile(r"([a-z_]+)\.([\w-]+)\.([a-z_]+)")


def fill(expression: str, ids: dict[str, str]) -> str:
    """Evaluate the only expressions the query uses: a literal, or join(",", [refs])."""
    if not expression.startswith("${"):
        return expression
    assert expression.startswith('${join(",", [')
    return ",".join(ids[".".join(m)] for m in REFERENCE.findall(expression))


@pytest.fixture
def ec2(moto_endpoint):
    return endpoint_client("ec2", moto_endpoint)


def test_associations_resolve_to_the_eni_of_their_own_subnet(shipped, ec2, moto_endpoint):
    stack = shipped.stack("dev")
    ((lookup_id, lookup),) = of_type(stack, "external", "data").items()
    subnets = sorted(
        of_type(stack, "aws_subnet").items(), key=lambda item: item[1]["availability_zone"]
    )
    (sg_id,) = of_type(stack, "aws_security_group")
    net = make_network(ec2, subnets=len(subnets), security_groups=2)

    # What `terraform apply` would have created, and what Lambda creates after it: one ENI per
    # subnet with the function's SG, plus a decoy with another SG set that must not match.
    ids = {f"aws_security_group.{sg_id}.id": net.security_group_ids[0]}
    enis = {}
    for (logical_id, _), subnet in zip(subnets, net.subnet_ids, strict=True):
        ids[f"aws_subnet.{logical_id}.id"] = subnet
        enis[subnet] = create_lambda_eni(ec2, subnet, [net.security_group_ids[0]])
        create_lambda_eni(ec2, subnet, [net.security_group_ids[1]])
    for eip_id in of_type(stack, "aws_eip"):
        ids[f"aws_eip.{eip_id}.allocation_id"] = ec2.allocate_address(Domain="vpc")["AllocationId"]
    query = {key: fill(value, ids) for key, value in lookup["query"].items()}

    env = {**isolated_aws_env(), "AWS_ENDPOINT_URL": moto_endpoint}
    result = subprocess.run(
        lookup["program"],
        input=json.dumps(query),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    resolved = json.loads(result.stdout)

    for association in of_type(stack, "aws_eip_association").values():
        match = re.fullmatch(
            rf"\$\{{data\.external\.{lookup_id}\.result\[(.+)\]\}}",
            association["network_interface_id"],
        )
        subnet = ids[match.group(1)]
        assert resolved[subnet] == enis[subnet]
