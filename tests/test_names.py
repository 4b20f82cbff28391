"""The stacks and the tooling agree on the names in `staticip.names`.

Tooling finds a deployed environment's resources by these names (`doctor`, `verify`, `ips`, the
ENI guard); a stack that spelt one differently would deploy fine and then never be found. So the
synthesized shipped stacks are read here and compared with what `staticip.names` computes for
the shipped config.
"""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path
from typing import Any

from tfjson import of_type

from staticip import guard, names

REPO = Path(__file__).resolve().parent.parent


def _function(stack: dict[str, Any], name: str) -> dict[str, Any]:
    (body,) = [
        f for f in of_type(stack, "aws_lambda_function").values() if f["function_name"] == name
    ]
    return body


def _by_ref(stack: dict[str, Any], rtype: str, reference: str) -> dict[str, Any]:
    """The resource a `${rtype.id.attr}` reference points at."""
    logical_id = reference.removeprefix("${").split(".")[1]
    return of_type(stack, rtype)[logical_id]


def test_every_resource_carries_the_environment_tags(shipped: Any) -> None:
    project = shipped.config.project
    for env in shipped.config.environments:
        stack = shipped.stack(env.name)
        for provider in stack["provider"]["aws"]:
            (tags,) = provider["default_tags"]
            assert tags["tags"] == {**env.tags, **names.environment_tags(project, env.name)}


def test_egress_function_security_group_subnets_and_eips(shipped: Any) -> None:
    project = shipped.config.project
    for env_name, tier in (("dev", names.PUBLIC_TIER), ("prod", names.PRIVATE_TIER)):
        env = shipped.config.environment(env_name)
        stack = shipped.stack(env_name)
        # The shipped config names no function: the default is the one names computes.
        assert env.function.name == names.egress_probe_function_name(project, env_name)
        function = _function(stack, env.function.name)
        vpc = function["vpc_config"]
        (group_ref,) = vpc["security_group_ids"]
        group = _by_ref(stack, "aws_security_group", group_ref)
        assert group["name"] == names.function_security_group_name(project, env_name)
        for subnet_ref in vpc["subnet_ids"]:
            assert _by_ref(stack, "aws_subnet", subnet_ref)["tags"][names.TIER_TAG] == tier
        eips = of_type(stack, "aws_eip").values()
        assert sorted(e["tags"][names.AZ_TAG] for e in eips) == sorted(env.static_ip_azs)
        assert all(e["tags"][names.ALLOW_LISTED_TAG] == "true" for e in eips)
        assert names.ips_by_az_output(names.EGRESS) in stack["output"]


def test_eni_guard_function_alarms_and_variables(shipped: Any) -> None:
    project = shipped.config.project
    stack = shipped.stack("dev")
    env = shipped.config.environment("dev")
    function = _function(stack, names.guard_function_name(project, "dev"))
    alarms = {a["alarm_name"] for a in of_type(stack, "aws_cloudwatch_metric_alarm").values()}
    canary_alarms = {names.canary_alarm_name(project, "dev", az) for az in env.azs}
    assert alarms == set(names.alarm_names(project, "dev")) | canary_alarms
    variables = function["environment"]["variables"]
    assert set(variables) == {
        guard.ENVIRONMENT_VARIABLE,
        guard.PROJECT_VARIABLE,
        guard.FUNCTION_NAMES_VARIABLE,
        guard.METRIC_NAMESPACE_VARIABLE,
        guard.ALLOCATION_IDS_VARIABLE,
        guard.LOCK_TABLE_VARIABLE,
    }
    (table,) = of_type(stack, "aws_dynamodb_table").values()
    assert table["name"] == names.guard_lock_table_name(project, "dev")
    dev = shipped.config.environment("dev")
    assert variables[guard.FUNCTION_NAMES_VARIABLE].split(",") == list(dev.egress_function_names)


def test_prefix_lists_and_their_outputs(shipped: Any) -> None:
    project = shipped.config.project
    for env_name, direction in (
        ("dev", names.EGRESS),
        ("prod", names.EGRESS),
        ("ingress", names.INGRESS),
    ):
        stack = shipped.stack(env_name)
        (prefix_list,) = of_type(stack, "aws_ec2_managed_prefix_list").values()
        assert prefix_list["name"] == names.prefix_list_name(project, env_name, direction)
        assert names.prefix_list_id_output(direction) in stack["output"]


def test_local_state_file(shipped: Any) -> None:
    for env in shipped.config.environments:
        path = shipped.stack(env.name)["terraform"]["backend"]["local"]["path"]
        assert Path(path).name == names.local_state_file(env.name)


def test_webhook_health_check_and_outputs(shipped: Any) -> None:
    project = shipped.config.project
    env = shipped.config.environment("ingress")
    stack = shipped.stack("ingress")
    assert env.function.name == names.webhook_function_name(project, "ingress")
    (group,) = of_type(stack, "aws_lb_target_group").values()
    assert group["health_check"]["path"] == names.HEALTH_PATH
    assert {names.INGRESS_IPS_OUTPUT, names.INGRESS_DNS_NAME_OUTPUT} <= set(stack["output"])

    # The handler answers the path the target group requests, from the module its package holds.
    function = _function(stack, env.function.name)
    with zipfile.ZipFile(shipped.outdir / "stacks" / "ingress" / function["filename"]) as zf:
        packaged = zf.read("staticip/names.py")
    assert packaged == (REPO / "staticip" / "names.py").read_bytes()
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    spec = importlib.util.spec_from_file_location(
        "names_webhook_handler", REPO / "lambda_src" / "webhook" / "handler.py"
    )
    assert spec and spec.loader
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    assert handler.HEALTH_PATH == names.HEALTH_PATH
    response = handler.handler({"path": names.HEALTH_PATH, "headers": {}}, None)
    assert response["statusCode"] == 200
