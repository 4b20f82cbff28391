"""A managed prefix list per environment and direction, read from the synthesized JSON."""

from __future__ import annotations

import re
from typing import Any

from tfjson import of_type

LISTS = "aws_ec2_managed_prefix_list"


def only_list(stack: dict[str, Any]) -> dict[str, Any]:
    (prefix_list,) = of_type(stack, LISTS).values()
    return prefix_list


def eip_ref(stack: dict[str, Any], az: str) -> str:
    """`aws_eip.<id>.public_ip` of the EIP for `az`, found by its construct path."""
    (rid,) = [
        rid
        for rid, eip in of_type(stack, "aws_eip").items()
        if eip["//"]["metadata"]["path"].endswith(f"/eip-{az}")
    ]
    return f"aws_eip.{rid}.public_ip"


def test_egress_lists_hold_each_azs_eip_as_a_slash_32(shipped):
    for name in ("dev", "prod"):
        stack = shipped.stack(name)
        azs = sorted(shipped.config.environment(name).static_ip_azs)
        prefix_list = only_list(stack)
        assert prefix_list["name"] == f"staticip-{name}-egress"
        assert prefix_list["address_family"] == "IPv4"
        assert prefix_list["max_entries"] == len(azs) == 2
        assert prefix_list["entry"] == [
            {"cidr": f'${{format("%s/32", {eip_ref(stack, az)})}}', "description": az} for az in azs
        ]
        (rid,) = of_type(stack, LISTS)
        assert stack["output"]["egress_prefix_list_id"]["value"] == f"${{{LISTS}.{rid}.id}}"
        assert "ingress_prefix_list_id" not in stack["output"]


def test_ingress_list_holds_the_accelerators_two_addresses(shipped):
    stack = shipped.stack("ingress")
    prefix_list = only_list(stack)
    (acc,) = of_type(stack, "aws_globalaccelerator_accelerator")
    assert prefix_list["name"] == "staticip-ingress-ingress"
    assert prefix_list["max_entries"] == 2
    assert [e["description"] for e in prefix_list["entry"]] == ["accelerator-1", "accelerator-2"]
    for i, entry in enumerate(prefix_list["entry"]):
        assert entry["cidr"] == (
            f'${{format("%s/32", element(aws_globalaccelerator_accelerator.{acc}'
            f".ip_sets[0].ip_addresses, {i}))}}"
        )
    assert "ingress_prefix_list_id" in stack["output"]
    assert "egress_prefix_list_id" not in stack["output"]


def test_max_entries_follows_the_number_of_static_ips(user):
    # dev3: eni-eip in 3 AZs; staging: one NAT (one EIP) in 3 AZs, one of them a reused EIP.
    assert only_list(user.stack("dev3"))["max_entries"] == 3
    staging = only_list(user.stack("staging"))
    assert staging["max_entries"] == 1
    # The reused EIP is a data source: the list refers to its address all the same.
    (entry,) = staging["entry"]
    assert entry["description"] == "eu-west-1a"
    assert re.fullmatch(r'\$\{format\("%s/32", data\.aws_eip\.[\w-]+\.public_ip\)\}', entry["cidr"])


def test_prefix_list_false_leaves_it_out(write_config, tmp_path):
    from staticip.stackfile import load_stack
    from staticip.synth import synthesize

    config = write_config(
        '[environments.dev]\negress = "eni-eip"\nvpc_cidr = "10.0.0.0/16"\nprefix_list = false\n'
    )
    synthesize(config, tmp_path / "out")
    stack = load_stack(tmp_path / "out", "dev")
    assert of_type(stack, LISTS) == {}
    assert "egress_prefix_list_id" not in stack["output"]
    assert "egress_ips" in stack["output"]  # the rest of the environment is there
