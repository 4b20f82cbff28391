"""The ENI guard in the dev stack: triggers, permissions, alarm, packaging."""

from __future__ import annotations

import zipfile

import pytest
from tfjson import by_path, jsonencoded, of_type, ref


@pytest.fixture(scope="module")
def dev(shipped):
    return shipped.stack("dev")


@pytest.fixture(scope="module")
def guard(dev):
    return by_path(dev, "aws_lambda_function", "/eni-guard/function/function")


@pytest.fixture(scope="module")
def probe(dev):
    return by_path(dev, "aws_lambda_function", "/egress-probe/function")


def test_guard_runs_outside_the_vpc_and_knows_its_environment(guard, probe, shipped):
    _, fn = guard
    probe_id, _ = probe
    assert "vpc_config" not in fn
    variables = fn["environment"]["variables"]
    assert variables["ENVIRONMENT"] == "dev"
    assert variables["PROJECT"] == shipped.config.project
    assert variables["FUNCTION_NAME"] == ref("aws_lambda_function", probe_id, "function_name")


def test_guard_package_carries_the_shared_resolver_not_a_copy(guard, shipped):
    _, fn = guard
    archive = shipped.outdir / "stacks" / "dev" / fn["filename"]
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        packaged = zf.read("staticip/enis.py")
    assert {
        "handler.py",
        "staticip/__init__.py",
        "staticip/aws.py",
        "staticip/eips.py",
        "staticip/guard.py",
    } <= names
    from staticip import enis

    with open(enis.__file__, "rb") as source:
        assert packaged == source.read()


def _rule_target(dev, rule_suffix):
    rule_id, rule = by_path(dev, "aws_cloudwatch_event_rule", rule_suffix)
    targets = [
        t
        for t in of_type(dev, "aws_cloudwatch_event_target").values()
        if t["rule"] == ref("aws_cloudwatch_event_rule", rule_id, "name")
    ]
    permissions = [
        p
        for p in of_type(dev, "aws_lambda_permission").values()
        if p["source_arn"] == ref("aws_cloudwatch_event_rule", rule_id, "arn")
    ]
    return rule, targets, permissions


@pytest.mark.parametrize("suffix", ["/on-eni-created", "/schedule"])
def test_each_rule_invokes_the_guard_with_permission(dev, guard, suffix):
    guard_id, _ = guard
    _, targets, permissions = _rule_target(dev, suffix)
    assert [t["arn"] for t in targets] == [ref("aws_lambda_function", guard_id, "arn")]
    (permission,) = permissions
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["function_name"] == ref("aws_lambda_function", guard_id, "function_name")


def test_rules_fire_on_lambda_eni_creation_in_the_subnets_and_every_5_minutes(dev, probe):
    _, fn = probe
    rule, _, _ = _rule_target(dev, "/on-eni-created")
    pattern = jsonencoded(rule["event_pattern"])
    assert pattern["source"] == ["aws.ec2"]
    assert pattern["detail"]["eventName"] == ["CreateNetworkInterface"]
    subnets = [s.strip("${}") for s in fn["vpc_config"]["subnet_ids"]]
    assert pattern["detail"]["requestParameters"]["subnetId"] == subnets
    schedule, _, _ = _rule_target(dev, "/schedule")
    assert schedule["schedule_expression"] == "rate(5 minutes)"


def _statements(dev):
    (policy,) = [
        p for p in of_type(dev, "aws_iam_role_policy").values() if p["name"] == "eni-guard"
    ]
    doc_id, doc = by_path(dev, "aws_iam_policy_document", "/eni-guard/policy", kind="data")
    assert policy["policy"] == ref("aws_iam_policy_document", doc_id, "json", kind="data")
    return {s["sid"]: s for s in doc["statement"]}


def _conditions(statement):
    return {
        c["variable"]: c["values"]
        for c in statement.get("condition", [])
        if c["test"] == "StringEquals"
    }


def test_guard_may_call_exactly_the_documented_actions(dev):
    actions = sorted(a for s in _statements(dev).values() for a in s["actions"])
    assert actions == [
        "cloudwatch:PutMetricData",
        "ec2:AssociateAddress",
        "ec2:AssociateAddress",
        "ec2:DescribeAddresses",
        "ec2:DescribeNetworkInterfaces",
        "lambda:GetFunctionConfiguration",
    ]
    assert all(s["effect"] == "Allow" for s in _statements(dev).values())


def test_associate_address_only_with_this_environments_tagged_eips(dev, shipped):
    statements = [s for s in _statements(dev).values() if s["actions"] == ["ec2:AssociateAddress"]]
    by_resource = {s["resources"][0].rsplit(":", 1)[-1]: s for s in statements}
    assert set(by_resource) == {"elastic-ip/*", "network-interface/*"}
    assert _conditions(by_resource["elastic-ip/*"]) == {
        "aws:ResourceTag/environment": ["dev"],
        "aws:ResourceTag/project": [shipped.config.project],
        "aws:ResourceTag/staticip:allow-listed": ["true"],
    }
    vpc_id = next(iter(of_type(dev, "aws_vpc")))
    (vpc_arn,) = _conditions(by_resource["network-interface/*"])["ec2:Vpc"]
    assert vpc_arn.endswith(f":vpc/{ref('aws_vpc', vpc_id, 'id')}")


def test_reads_only_the_egress_function_and_writes_only_its_namespace(dev, probe):
    statements = _statements(dev)
    read = next(
        s for s in statements.values() if s["actions"] == ["lambda:GetFunctionConfiguration"]
    )
    assert read["resources"] == [ref("aws_lambda_function", probe[0], "arn")]
    metric = next(s for s in statements.values() if s["actions"] == ["cloudwatch:PutMetricData"])
    (namespace,) = _conditions(metric)["cloudwatch:namespace"]
    (guard_fn,) = [
        f
        for f in of_type(dev, "aws_lambda_function").values()
        if "METRIC_NAMESPACE" in f.get("environment", {}).get("variables", {})
    ]
    assert guard_fn["environment"]["variables"]["METRIC_NAMESPACE"] == namespace


def test_alarm_on_enis_without_eip(dev):
    (alarm,) = of_type(dev, "aws_cloudwatch_metric_alarm").values()
    assert alarm["metric_name"] == "EnisWithoutElasticIp"
    assert alarm["dimensions"] == {"Environment": "dev"}
    assert alarm["comparison_operator"] == "GreaterThanThreshold" and alarm["threshold"] == 0
    assert alarm["treat_missing_data"] == "breaching"
    assert "alarm_actions" not in alarm  # no topic configured in the shipped file


def test_no_guard_outside_eni_eip(shipped):
    for name in ("prod", "ingress"):
        assert of_type(shipped.stack(name), "aws_cloudwatch_event_rule") == {}
