"""`egress = "nat-instance"` stacks as synthesized: the shipped `budget` (2 AZs) and the
environments of NAT_INSTANCE_CONFIG (3 AZs out of order with a reused EIP and SSM; a single
instance for 2 AZs on x86; 1 AZ)."""

from __future__ import annotations

from typing import Any

import pytest
from tfjson import bare, by_path, not_canary, of_type, path_of, ref

from stacks.nat_instance_boot import BootSettings, render_boot_script
from staticip.names import NAT_INSTANCE_TAG, nat_instance_group_name


def per_az(stack: dict[str, Any], rtype: str, prefix: str, kind: str = "resource") -> dict:
    """`{az: (logical_id, body)}` of the resources whose construct path ends `/<prefix>-<az>`."""
    found = {}
    for lid, body in of_type(stack, rtype, kind).items():
        last = path_of(body).rsplit("/", 1)[1]
        if last.startswith(f"{prefix}-"):
            found[last.removeprefix(f"{prefix}-")] = (lid, body)
    return found


def allocation_ref(stack: dict[str, Any], az: str) -> str:
    created = per_az(stack, "aws_eip", "eip")
    if az in created:
        return ref("aws_eip", created[az][0], "allocation_id")
    lid, _ = by_path(stack, "aws_eip", f"/reused-{az}", kind="data")
    return ref("aws_eip", lid, "id", kind="data")


@pytest.fixture(scope="module")
def stacks(shipped, nat_instances):
    return {
        "budget": (shipped.stack("budget"), shipped.config.environment("budget")),
        **{
            name: (nat_instances.stack(name), nat_instances.config.environment(name))
            for name in ("edge", "pair", "solo")
        },
    }


ALL = ["budget", "edge", "pair", "solo"]


@pytest.mark.parametrize("name", ALL)
def test_one_static_eni_per_nat_az_in_its_public_subnet_holding_that_azs_eip(stacks, name):
    stack, env = stacks[name]
    enis = per_az(stack, "aws_network_interface", "eni")
    # per-az: every AZ; single: the alphabetically first only.
    assert sorted(enis) == list(env.static_ip_azs)
    assert env.static_ip_azs == (tuple(sorted(env.azs)) if env.nat == "per-az" else (min(env.azs),))
    associations = per_az(stack, "aws_eip_association", "eip")
    assert sorted(associations) == sorted(enis)
    igw, _ = by_path(stack, "aws_internet_gateway", "/igw")
    for az, (eni_id, eni) in enis.items():
        subnet, _ = by_path(stack, "aws_subnet", f"/public-{az}")
        assert eni["subnet_id"] == ref("aws_subnet", subnet, "id")
        assert eni["source_dest_check"] is False
        assert eni["tags"][NAT_INSTANCE_TAG] == az
        _, association = associations[az]
        assert association["network_interface_id"] == ref("aws_network_interface", eni_id, "id")
        assert association["allocation_id"] == allocation_ref(stack, az)
        assert association["depends_on"] == [bare("aws_internet_gateway", igw)]


@pytest.mark.parametrize("name", ALL)
def test_each_private_route_table_defaults_to_its_own_azs_eni(stacks, name):
    stack, env = stacks[name]
    enis = per_az(stack, "aws_network_interface", "eni")
    routes = per_az(stack, "aws_route", "default")
    assert sorted(routes) == sorted(env.azs)
    for az, (_, route) in routes.items():
        table, _ = by_path(stack, "aws_route_table", f"/private-rt-{az}")
        assert route["route_table_id"] == ref("aws_route_table", table, "id")
        assert route["destination_cidr_block"] == "0.0.0.0/0"
        target = az if az in enis else min(env.azs)
        assert route["network_interface_id"] == ref("aws_network_interface", enis[target][0], "id")
    # The function is in the private subnets, which route nowhere else.
    (function,) = not_canary(of_type(stack, "aws_lambda_function")).values()
    private = {
        ref("aws_subnet", by_path(stack, "aws_subnet", f"/private-{az}")[0], "id") for az in env.azs
    }
    assert set(function["vpc_config"]["subnet_ids"]) == private


@pytest.mark.parametrize("name", ALL)
def test_one_instance_group_per_nat_az_replacing_failed_instances(stacks, name):
    stack, env = stacks[name]
    groups = per_az(stack, "aws_autoscaling_group", "group")
    templates = per_az(stack, "aws_launch_template", "template")
    associations = per_az(stack, "aws_eip_association", "eip")
    policies = per_az(stack, "aws_iam_role_policy", "permissions")
    assert sorted(groups) == sorted(templates) == list(env.static_ip_azs)
    for az, (_, group) in groups.items():
        assert (group["min_size"], group["max_size"], group["desired_capacity"]) == (1, 1, 1)
        assert group["health_check_type"] == "EC2"
        project = "staticip" if name == "budget" else "acme"
        assert group["name"] == nat_instance_group_name(project, env.name, az)
        subnet, _ = by_path(stack, "aws_subnet", f"/public-{az}")
        assert group["vpc_zone_identifier"] == [ref("aws_subnet", subnet, "id")]
        template_id = templates[az][0]
        assert group["launch_template"]["id"] == ref("aws_launch_template", template_id, "id")
        assert "latest_version" in group["launch_template"]["version"]
        # The EIP is on the ENI and the role can attach it before the first instance boots.
        assert bare("aws_eip_association", associations[az][0]) in group["depends_on"]
        assert bare("aws_iam_role_policy", policies[az][0]) in group["depends_on"]
        tags = {t["key"]: t for t in group["tag"]}
        assert tags[NAT_INSTANCE_TAG]["value"] == az
        assert tags["environment"]["value"] == env.name
        assert all(t["propagate_at_launch"] is True for t in group["tag"])


@pytest.mark.parametrize("name", ALL)
def test_the_launch_template_hardens_the_instance(stacks, name):
    stack, env = stacks[name]
    type_name = env.mode_options["nat_instance_type"]
    arch = "x86_64" if type_name.startswith("t3.") else "arm64"
    for _, template in per_az(stack, "aws_launch_template", "template").values():
        assert template["instance_type"] == type_name
        assert template["image_id"] == (
            f"resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
        )
        assert template["metadata_options"]["http_tokens"] == "required"
        assert template["metadata_options"]["http_put_response_hop_limit"] == 1
        (disk,) = template["block_device_mappings"]
        assert disk["ebs"]["encrypted"] == "true" and disk["ebs"]["volume_type"] == "gp3"
        # Stated, so that what `cost` prices is what launches (and moto requires a size).
        assert disk["ebs"]["volume_size"] == 8
        assert "key_name" not in template
        (primary,) = template["network_interfaces"]
        assert primary["device_index"] == 0
        assert template["credit_specification"] == {"cpu_credits": "standard"}


@pytest.mark.parametrize("name", ALL)
def test_the_user_data_is_the_boot_script_for_that_azs_eni(stacks, name):
    stack, env = stacks[name]
    enis = per_az(stack, "aws_network_interface", "eni")
    project = "staticip" if name == "budget" else "acme"
    for az, (_, template) in per_az(stack, "aws_launch_template", "template").items():
        local = template["user_data"].removeprefix("${base64encode(local.").removesuffix(")}")
        expected = render_boot_script(
            BootSettings(
                eni_id=ref("aws_network_interface", enis[az][0], "id"),
                vpc_cidr=env.vpc_cidr,
                region=env.region,
                group_name=nat_instance_group_name(project, env.name, az),
            ),
            for_terraform=True,
        )
        assert stack["locals"][local] == expected


@pytest.mark.parametrize("name", ALL)
def test_the_instance_role_may_attach_only_its_azs_eni_onto_its_groups_instances(stacks, name):
    stack, env = stacks[name]
    enis = per_az(stack, "aws_network_interface", "eni")
    documents = per_az(stack, "aws_iam_policy_document", "policy", kind="data")
    groups = per_az(stack, "aws_autoscaling_group", "group")
    for az, (_, document) in documents.items():
        statements = {s["sid"]: s for s in document["statement"]}
        attach_eni = statements["AttachOnlyThisAzsStaticEni"]
        assert attach_eni["actions"] == ["ec2:AttachNetworkInterface"]
        assert attach_eni["resources"] == [ref("aws_network_interface", enis[az][0], "arn")]
        onto = statements["OntoOnlyThisGroupsInstances"]
        assert onto["actions"] == ["ec2:AttachNetworkInterface"]
        (condition,) = onto["condition"]
        assert condition["variable"] == "aws:ResourceTag/aws:autoscaling:groupName"
        assert condition["values"] == [groups[az][1]["name"]]
        health = statements["ReportItselfUnhealthy"]
        assert health["actions"] == ["autoscaling:SetInstanceHealth"]
        assert health["resources"][0].endswith(f":autoScalingGroupName/{groups[az][1]['name']}")
        assert all("*" not in a for s in statements.values() for a in s["actions"])
    ssm = per_az(stack, "aws_iam_role_policy_attachment", "ssm")
    if env.mode_options["nat_instance_ssm"]:
        assert sorted(ssm) == list(env.static_ip_azs)
        assert all(
            b["policy_arn"].endswith("AmazonSSMManagedInstanceCore") for _, b in ssm.values()
        )
    else:
        assert ssm == {}


@pytest.mark.parametrize("name", ALL)
def test_the_instances_accept_traffic_from_the_vpc_only(stacks, name):
    stack, env = stacks[name]
    enis = per_az(stack, "aws_network_interface", "eni")
    (group_ids,) = {tuple(eni["security_groups"]) for _, eni in enis.values()}
    (group_ref,) = group_ids
    nat_group = group_ref.removeprefix("${aws_security_group.").removesuffix(".id}")
    rules = [
        rule
        for rule in of_type(stack, "aws_vpc_security_group_ingress_rule").values()
        if rule["security_group_id"] == group_ref
    ]
    assert [(r["cidr_ipv4"], r["ip_protocol"]) for r in rules] == [(env.vpc_cidr, "-1")]
    assert "ingress" not in of_type(stack, "aws_security_group")[nat_group]
    for _, template in per_az(stack, "aws_launch_template", "template").values():
        assert template["network_interfaces"][0]["security_groups"] == [group_ref]


@pytest.mark.parametrize("name", ALL)
def test_the_eips_keep_every_guarantee(stacks, name):
    stack, env = stacks[name]
    created = per_az(stack, "aws_eip", "eip")
    reused = set(env.reuse_eip_allocation_ids)
    assert sorted(created) == sorted(set(env.static_ip_azs) - reused)
    for _, eip in created.values():
        assert eip["lifecycle"]["prevent_destroy"] is env.protect_ips
        assert eip["tags"]["staticip:allow-listed"] == "true"
    assert set(stack["output"]) >= {"egress_ips", "egress_ips_by_az", "egress_prefix_list_id"}
    (prefix_list,) = of_type(stack, "aws_ec2_managed_prefix_list").values()
    assert len(prefix_list["entry"]) == len(env.static_ip_azs)


def test_reordering_the_azs_keeps_every_logical_id(nat_instances):
    # edge lists its AZs c, a, b: the IDs carry AZ names, never list positions.
    stack = nat_instances.stack("edge")
    for rtype, prefix in (
        ("aws_network_interface", "eni"),
        ("aws_eip_association", "eip"),
        ("aws_autoscaling_group", "group"),
        ("aws_launch_template", "template"),
    ):
        for lid, _ in per_az(stack, rtype, prefix).values():
            assert any(az in lid for az in ("eu-west-1a", "eu-west-1b", "eu-west-1c")), lid
    reused = of_type(stack, "aws_ec2_tag")
    assert {t["value"] for t in reused.values() if t["key"] == "staticip:az"} == {"eu-west-1b"}
