"""The egress canary in the synthesized stacks: one function per AZ in that AZ's function
subnet alone with the shared security group, expecting the address that AZ's traffic leaves
from, run by a schedule rule of its own, with an alarm on its two metrics; in every egress
mode and layout, and nowhere without egress or with `canary = false`."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import synthesized_once
from tfjson import CANARY_CONSTRUCT, by_path, of_type, path_of, ref

from staticip import canary, names
from staticip.config import EnvironmentConfig
from staticip.schedule import DEFAULT_SCHEDULE

TOPIC = "arn:aws:sns:eu-west-1:123456789012:staticip-alarms"

CANARY_CONFIG = f"""
project = "acme"
[environments.single]
egress = "nat-gateway"
nat = "single"
region = "eu-west-1"
vpc_cidr = "10.140.0.0/16"
az_count = 3
canary = "rate(1 minute)"
alarm_topic_arn = "{TOPIC}"

[environments.quiet]
egress = "eni-eip"
region = "eu-west-1"
vpc_cidr = "10.150.0.0/16"
canary = false
"""


@pytest.fixture(scope="module")
def canaries(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return synthesized_once(tmp_path_factory, "canaries", CANARY_CONFIG)


def _canary(stack: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {
        lid: body
        for lid, body in of_type(stack, rtype).items()
        if path_of(body).split("/")[1] == CANARY_CONSTRUCT
    }


def _check_canary(stack: dict[str, Any], env: EnvironmentConfig, project: str) -> None:
    """Everything the canary of `env` must be, read from its stack."""
    mode = env.egress_mode
    assert mode is not None and env.canary is not None
    tier = "private" if env.needs_private_subnets else "public"
    group_id, _ = by_path(stack, "aws_security_group", "/function-sg/sg")
    functions = _canary(stack, "aws_lambda_function")
    rules = _canary(stack, "aws_cloudwatch_event_rule")
    targets = _canary(stack, "aws_cloudwatch_event_target")
    permissions = _canary(stack, "aws_lambda_permission")
    alarms = {a["alarm_name"]: a for a in _canary(stack, "aws_cloudwatch_metric_alarm").values()}
    assert len(functions) == len(rules) == len(targets) == len(permissions) == len(env.azs)

    by_az = {
        f["environment"]["variables"][canary.AZ_VARIABLE]: (lid, f) for lid, f in functions.items()
    }
    # Every AZ is covered, each by a function of its own.
    assert sorted(by_az) == sorted(env.azs)
    for az, (lid, fn) in by_az.items():
        assert fn["function_name"] == names.canary_function_name(project, env.name, az)
        # In this AZ's function subnet only, with the group every function shares.
        subnet_id, _ = by_path(stack, "aws_subnet", f"/network/{tier}-{az}")
        assert fn["vpc_config"]["subnet_ids"] == [ref("aws_subnet", subnet_id, "id")]
        assert fn["vpc_config"]["security_group_ids"] == [ref("aws_security_group", group_id, "id")]
        # Expecting the EIP this AZ's traffic leaves from: its own, or the one NAT's.
        variables = fn["environment"]["variables"]
        serving = mode.egress_ip_az(env, az)
        if serving in env.reuse_eip_allocation_ids:
            eip, _ = by_path(stack, "aws_eip", f"/egress-ips/reused-{serving}", kind="data")
            assert variables[canary.EXPECTED_IP_VARIABLE] == ref(
                "aws_eip", eip, "public_ip", "data"
            )
        else:
            eip, _ = by_path(stack, "aws_eip", f"/egress-ips/eip-{serving}")
            assert variables[canary.EXPECTED_IP_VARIABLE] == ref("aws_eip", eip, "public_ip")
        assert variables[canary.ENVIRONMENT_VARIABLE] == env.name
        assert variables[canary.METRIC_NAMESPACE_VARIABLE] == canary.metric_namespace(project)
        # The check's timeout fits in the function's.
        assert fn["timeout"] > canary.CHECK_TIMEOUT_SECONDS
        # Run by a rule of its own on the canary's schedule.
        (target,) = [
            t for t in targets.values() if t["arn"] == ref("aws_lambda_function", lid, "arn")
        ]
        rule_id = target["rule"].split(".")[1]
        assert rules[rule_id]["schedule_expression"] == env.canary
        (permission,) = [
            p
            for p in permissions.values()
            if p["function_name"] == ref("aws_lambda_function", lid, "function_name")
        ]
        assert permission["principal"] == "events.amazonaws.com"
        assert permission["source_arn"] == ref("aws_cloudwatch_event_rule", rule_id, "arn")
        # Its alarm: both metrics of this AZ, two failing periods, silence counts as failing.
        alarm = alarms[names.canary_alarm_name(project, env.name, az)]
        metrics = {
            q["metric"]["metric_name"]: q["metric"] for q in alarm["metric_query"] if "metric" in q
        }
        assert set(metrics) == set(canary.METRICS)
        for metric in metrics.values():
            assert metric["namespace"] == canary.metric_namespace(project)
            assert metric["dimensions"] == {
                canary.ENVIRONMENT_DIMENSION: env.name,
                canary.AZ_DIMENSION: az,
            }
            assert metric["stat"] == "Maximum"
        (expression,) = [q for q in alarm["metric_query"] if "expression" in q]
        assert expression["return_data"] is True
        assert (alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (2, 2)
        assert alarm["comparison_operator"] == "GreaterThanThreshold" and alarm["threshold"] == 0
        assert alarm["treat_missing_data"] == "breaching"
        topic = [env.alarm_topic_arn] if env.alarm_topic_arn else None
        assert alarm.get("alarm_actions") == topic and alarm.get("ok_actions") == topic


@pytest.mark.parametrize("name", ["dev", "prod", "budget"])
def test_every_shipped_egress_environment_checks_each_az(shipped: Any, name: str) -> None:
    env = shipped.config.environment(name)
    assert env.canary == DEFAULT_SCHEDULE
    _check_canary(shipped.stack(name), env, shipped.config.project)


@pytest.mark.parametrize("name", ["staging", "dev", "dev3", "hooks"])
def test_user_environments_check_each_az(user: Any, name: str) -> None:
    # staging: single NAT in 3 AZs with a reused EIP; dev: AZs reordered; dev3: 3 AZs;
    # hooks: single NAT with nlb-eip ingress beside it.
    _check_canary(user.stack(name), user.config.environment(name), user.config.project)


def test_regional_and_nat_instance_layouts_check_each_az(regional: Any, nat_instances: Any) -> None:
    for synthesized, name in [(regional, "edge"), (nat_instances, "edge"), (nat_instances, "pair")]:
        env = synthesized.config.environment(name)
        _check_canary(synthesized.stack(name), env, synthesized.config.project)


def test_single_layouts_expect_the_one_nat_address_in_every_az(user: Any) -> None:
    env = user.config.environment("staging")
    mode = env.egress_mode
    assert mode is not None
    assert {mode.egress_ip_az(env, az) for az in env.azs} == {"eu-west-1a"}


def test_schedule_period_and_topic_follow_the_config(canaries: Any) -> None:
    env = canaries.config.environment("single")
    stack = canaries.stack("single")
    _check_canary(stack, env, "acme")
    for alarm in _canary(stack, "aws_cloudwatch_metric_alarm").values():
        periods = {q["metric"]["period"] for q in alarm["metric_query"] if "metric" in q}
        assert periods == {60}
        assert alarm["alarm_actions"] == [TOPIC]


def test_canary_false_and_ingress_only_build_no_canary(canaries: Any, shipped: Any) -> None:
    assert canaries.config.environment("quiet").canary is None
    for stack in (canaries.stack("quiet"), shipped.stack("ingress")):
        for rtype in (
            "aws_lambda_function",
            "aws_cloudwatch_event_rule",
            "aws_cloudwatch_metric_alarm",
        ):
            assert _canary(stack, rtype) == {}
    assert shipped.config.environment("ingress").canary is None
