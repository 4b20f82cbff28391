"""`staticip review` on `egress = "nat-instance"` plans: the static ENI (or its EIP) replaced
or destroyed is a blocker; the Auto Scaling group or launch template replaced is a warning (a
gap of one instance boot); a launch template changed in place is a note. Plans are built in
the shape `terraform show -json` gives (the e2e test reviews real ones from Terraform)."""

from __future__ import annotations

from typing import Any

import pytest

from staticip.names import NAT_INSTANCE_TAG
from staticip.prices import load_prices
from staticip.review.command import BLOCKER, NOTE, WARNING, review_plan

AZ = "us-east-1a"
ENI_ID = "eni-0123456789abcdef0"
IP = "198.51.100.7"
ALLOCATION = "eipalloc-0aaaaaaaaaaaaaaa1"
ENI = "aws_network_interface.nat-instance_eni-us-east-1a_1F2E3D4C"
ASSOCIATION = "aws_eip_association.nat-instance_eip-us-east-1a_5A6B7C8D"
GROUP = "aws_autoscaling_group.nat-instance_group-us-east-1a_9E8F7A6B"
TEMPLATE = "aws_launch_template.nat-instance_template-us-east-1a_0C1D2E3F"
EIP = "aws_eip.egress-ips_eip-us-east-1a_11223344"
NAME = "staticip-budget-nat-us-east-1a"

ENI_BEFORE = {
    "id": ENI_ID,
    "source_dest_check": False,
    "subnet_id": "subnet-0aaaaaaaaaaaaaaa1",
    "tags": {"Name": "staticip-budget-nat-us-east-1a", NAT_INSTANCE_TAG: AZ},
}
ASSOCIATION_BEFORE = {
    "allocation_id": ALLOCATION,
    "network_interface_id": ENI_ID,
    "public_ip": IP,
}
GROUP_BEFORE = {
    "name": NAME,
    "min_size": 1,
    "max_size": 1,
    "tag": [{"key": NAT_INSTANCE_TAG, "value": AZ, "propagate_at_launch": True}],
}
TEMPLATE_BEFORE = {
    "name": NAME,
    "instance_type": "t4g.nano",
    "image_id": "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
    "user_data": "IyEvYmluL2Jhc2g=",
    "tags": {NAT_INSTANCE_TAG: AZ},
}


def change(
    address: str, actions: list[str], before: dict[str, Any] | None, after: Any, **extra: Any
) -> dict[str, Any]:
    rtype, name = address.split(".", 1)
    return {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "name": name,
        "change": {"actions": actions, "before": before, "after": after, **extra},
    }


def unchanged(address: str, values: dict[str, Any]) -> dict[str, Any]:
    return change(address, ["no-op"], values, values)


def review(*changes: dict[str, Any]) -> list[Any]:
    document = {"format_version": "1.2", "resource_changes": list(changes)}
    return review_plan("budget", document, load_prices()).findings


def by_code(findings: list[Any]) -> dict[str, Any]:
    return {f.code: f for f in findings}


@pytest.mark.parametrize("actions", [["delete", "create"], ["create", "delete"]])
def test_the_static_eni_replaced_is_a_blocker_naming_the_ip_it_holds(actions) -> None:
    found = by_code(
        review(
            change(
                ENI,
                actions,
                ENI_BEFORE,
                ENI_BEFORE | {"id": None, "subnet_id": None},
                replace_paths=[["subnet_id"]],
                after_unknown={"id": True, "subnet_id": True},
            ),
            change(
                ASSOCIATION,
                ["delete", "create"],
                ASSOCIATION_BEFORE,
                ASSOCIATION_BEFORE | {"network_interface_id": None},
                after_unknown={"network_interface_id": True},
                replace_paths=[["network_interface_id"]],
            ),
        )
    )
    eni = found["nat-eni-replaced"]
    assert (eni.severity, eni.address) == (BLOCKER, ENI)
    assert AZ in eni.message and ENI_ID in eni.message and IP in eni.message
    assert "(forced by subnet_id)" in eni.message
    assert eni.ips == (IP,)
    # The association follows the ENI; the generic rule reports the gap too.
    assert found["eip-association-replaced"].severity == WARNING


def test_the_static_eni_destroyed_is_a_blocker() -> None:
    found = by_code(
        review(
            change(ENI, ["delete"], ENI_BEFORE, None),
            change(ASSOCIATION, ["delete"], ASSOCIATION_BEFORE, None),
        )
    )
    assert found["nat-eni-destroyed"].severity == BLOCKER
    assert found["nat-eni-destroyed"].ips == (IP,)
    assert found["eip-association-removed"].severity == BLOCKER


def test_an_eni_that_is_not_a_nat_instances_is_left_to_other_rules() -> None:
    untagged = ENI_BEFORE | {"tags": {"Name": "something-else"}}
    assert review(change(ENI, ["delete", "create"], untagged, untagged | {"id": None})) == []


def test_the_eip_replaced_is_a_blocker() -> None:
    before = {"id": ALLOCATION, "allocation_id": ALLOCATION, "public_ip": IP, "tags": {}}
    (finding,) = [
        f
        for f in review(
            change(EIP, ["delete", "create"], before, before | {"id": None, "public_ip": None}),
            unchanged(ENI, ENI_BEFORE),
        )
        if f.address == EIP
    ]
    assert finding.severity == BLOCKER and IP in finding.ips


@pytest.mark.parametrize(
    ("actions", "code", "words"),
    [
        (["delete", "create"], "nat-instance-group-replaced", "one instance boot"),
        (["delete"], "nat-instance-group-destroyed", "nothing forwards"),
    ],
)
def test_the_group_replaced_or_destroyed_is_a_warning(actions, code, words) -> None:
    after = GROUP_BEFORE if actions != ["delete"] else None
    (finding,) = review(change(GROUP, actions, GROUP_BEFORE, after), unchanged(ENI, ENI_BEFORE))
    assert (finding.severity, finding.code, finding.address) == (WARNING, code, GROUP)
    assert words in finding.message and NAME in finding.message
    assert "connections in flight are dropped" in finding.message


def test_the_launch_template_replaced_is_a_warning() -> None:
    (finding,) = review(
        change(
            TEMPLATE,
            ["delete", "create"],
            TEMPLATE_BEFORE,
            TEMPLATE_BEFORE | {"name": "renamed"},
            replace_paths=[["name"]],
        )
    )
    assert (finding.severity, finding.code) == (WARNING, "nat-launch-template-replaced")
    assert "one instance boot" in finding.message and "(forced by name)" in finding.message


def test_a_launch_template_changed_in_place_is_a_note_naming_what_changed() -> None:
    (finding,) = review(
        change(
            TEMPLATE,
            ["update"],
            TEMPLATE_BEFORE,
            TEMPLATE_BEFORE | {"instance_type": "t4g.micro"},
            after_unknown={"user_data": True},
        )
    )
    assert (finding.severity, finding.code) == (NOTE, "nat-launch-template-changed")
    # Only what changed (or is unknown until apply) is named; the image and profile are not.
    named = finding.message.split("(", 1)[1].split(")", 1)[0]
    assert set(named.split(", ")) == {"instance type", "boot script"}
    assert "start-instance-refresh" in finding.message


def test_a_clean_plan_has_no_findings() -> None:
    assert (
        review(
            unchanged(ENI, ENI_BEFORE),
            unchanged(ASSOCIATION, ASSOCIATION_BEFORE),
            unchanged(GROUP, GROUP_BEFORE),
            unchanged(TEMPLATE, TEMPLATE_BEFORE),
        )
        == []
    )
