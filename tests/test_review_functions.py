"""`staticip review` with several functions on one eni-eip environment's shared ENIs: a
declared function replaced or removed while another keeps the subnet + security-group set
moves no EIP (Lambda keeps a shared ENI while a function on it is active), so it is a note,
not the ENI-rotation warning. The plans are built here: what a `terraform show -json` of such a
change holds (moto and the mirror's provider would only add noise)."""

from __future__ import annotations

from typing import Any

from staticip.review.model import NOTE, WARNING
from staticip.review.plans import PlanView
from staticip.review.rules import eni_rotation_findings

VPC = {"subnet_ids": ["subnet-a", "subnet-b"], "security_group_ids": ["sg-1"], "vpc_id": "vpc-1"}
ASSOCIATION = "aws_eip_association.assoc-us-east-1a"


def function(name: str, actions: list[str], vpc: dict[str, Any] | None = VPC) -> dict[str, Any]:
    before = {"function_name": name, "vpc_config": [vpc] if vpc else []}
    after = None if actions == ["delete"] else before
    return {
        "address": f"aws_lambda_function.{name}",
        "mode": "managed",
        "type": "aws_lambda_function",
        "name": name,
        "change": {"actions": actions, "before": before, "after": after},
    }


def findings(*changes: dict[str, Any]) -> list[Any]:
    association = {
        "address": ASSOCIATION,
        "mode": "managed",
        "type": "aws_eip_association",
        "name": "assoc",
        "change": {"actions": ["no-op"], "before": {"allocation_id": "eipalloc-1"}, "after": {}},
    }
    document = {"format_version": "1.2", "resource_changes": [association, *changes]}
    return eni_rotation_findings(PlanView(document))


def test_removing_a_function_beside_the_probe_moves_no_eip() -> None:
    (finding,) = findings(function("probe", ["no-op"]), function("worker", ["delete"]))
    assert finding.severity == NOTE and finding.code == "function-on-shared-enis"
    assert "probe keeps the same subnets" in finding.message


def test_replacing_one_of_two_functions_moves_no_eip() -> None:
    (finding,) = findings(function("probe", ["no-op"]), function("worker", ["delete", "create"]))
    assert finding.severity == NOTE


def test_removing_the_last_function_on_the_enis_still_warns() -> None:
    (finding,) = findings(function("worker", ["delete"]))
    assert finding.severity == WARNING and finding.code == "function-destroyed"


def test_a_function_that_moves_away_too_does_not_keep_the_enis() -> None:
    moved = dict(VPC, security_group_ids=["sg-2"])
    probe = function("probe", ["update"])
    probe["change"]["after"] = {"function_name": "probe", "vpc_config": [moved]}
    rules = {f.code for f in findings(probe, function("worker", ["delete"]))}
    assert "function-destroyed" in rules and "function-on-shared-enis" not in rules
