"""The ENI guard in the dev stack: triggers, permissions, alarm, packaging."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from tfjson import bare, by_path, jsonencoded, not_canary, of_type, path_of, ref


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
    # Literal names, the probe first: the ENIs they share are what the guard watches.
    dev = shipped.config.environment("dev")
    assert variables["FUNCTION_NAMES"].split(",") == list(dev.egress_function_names)
    assert probe_id and dev.egress_function_names[0] == dev.function.name


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
        "staticip/names.py",
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


@pytest.mark.parametrize(
    ("error_code", "fires"),
    [(None, True), ("Client.DryRunOperation", False), ("Client.UnauthorizedOperation", False)],
)
def test_failed_and_dry_run_calls_do_not_trigger_the_guard(dev, error_code, fires):
    # Both carry an errorCode (a dry run: Client.DryRunOperation); a successful create does not.
    # The synthesized pattern is matched by moto's implementation of EventBridge patterns.
    from moto.events.models import EventPattern

    rule, _, _ = _rule_target(dev, "/on-eni-created")
    pattern = jsonencoded(rule["event_pattern"])
    assert pattern["detail"]["errorCode"] == [{"exists": False}]
    subnet = pattern["detail"]["requestParameters"]["subnetId"][0]
    detail = {
        "eventSource": "ec2.amazonaws.com",
        "eventName": "CreateNetworkInterface",
        "requestParameters": {"subnetId": subnet},
    }
    if error_code:
        detail["errorCode"] = error_code
    event = {"source": "aws.ec2", "detail-type": "AWS API Call via CloudTrail", "detail": detail}
    assert EventPattern.load(json.dumps(pattern)).matches_event(event) is fires


def _associations(dev):
    return {
        path_of(body).rsplit("assoc-", 1)[-1]: lid
        for lid, body in of_type(dev, "aws_eip_association").items()
    }


def _policies(dev):
    """Inline policy name -> its policy document's statements by sid."""
    policies = {}
    for policy in of_type(dev, "aws_iam_role_policy").values():
        doc_id = policy["policy"].removeprefix("${data.aws_iam_policy_document.").split(".")[0]
        doc = of_type(dev, "aws_iam_policy_document", kind="data")[doc_id]
        policies[policy["name"]] = {s["sid"]: s for s in doc["statement"]}
    return policies


def _statements(dev):
    return {sid: s for statements in _policies(dev).values() for sid, s in statements.items()}


def _conditions(statement):
    return {
        c["variable"]: c["values"]
        for c in statement.get("condition", [])
        if c["test"] == "StringEquals"
    }


def test_guard_may_call_exactly_the_documented_actions(dev):
    policies = _policies(dev)
    assert set(policies) == {
        "eni-guard",
        *(f"eni-guard-associate-{az}" for az in _associations(dev)),
    }
    actions = sorted(a for s in policies["eni-guard"].values() for a in s["actions"])
    assert actions == [
        "cloudwatch:PutMetricData",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "ec2:DescribeAddresses",
        "ec2:DescribeNetworkInterfaces",
        "lambda:GetFunctionConfiguration",
    ]
    for name, statements in policies.items():
        assert all(s["effect"] == "Allow" for s in statements.values())
        if name != "eni-guard":
            assert [s["actions"] for s in statements.values()] == [["ec2:AssociateAddress"]] * 2


def test_each_eip_may_go_only_onto_interfaces_in_its_own_azs_function_subnet(dev, shipped):
    vpc_id = next(iter(of_type(dev, "aws_vpc")))
    subnets = {
        path_of(body).rsplit("public-", 1)[-1]: lid
        for lid, body in of_type(dev, "aws_subnet").items()
        if "/public-" in path_of(body)
    }
    associations = _associations(dev)
    assert set(associations) == set(subnets) == {"us-east-1a", "us-east-1b"}
    policies = _policies(dev)
    for az, assoc in associations.items():
        statements = list(policies[f"eni-guard-associate-{az}"].values())
        by_resource = {s["resources"][0].rsplit(":", 1)[-1]: s for s in statements}
        # The EIP: exactly the one this AZ's association holds, and only with the tags.
        eip = ref("aws_eip_association", assoc, "allocation_id").strip("${}")
        assert set(by_resource) == {f"elastic-ip/${{{eip}}}", "network-interface/*"}
        assert _conditions(by_resource[f"elastic-ip/${{{eip}}}"]) == {
            "aws:ResourceTag/environment": ["dev"],
            "aws:ResourceTag/project": [shipped.config.project],
            "aws:ResourceTag/staticip:allow-listed": ["true"],
        }
        onto = _conditions(by_resource["network-interface/*"])
        assert set(onto) == {"ec2:Vpc", "ec2:Subnet"}
        assert onto["ec2:Vpc"][0].endswith(f":vpc/{ref('aws_vpc', vpc_id, 'id')}")
        (subnet_arn,) = onto["ec2:Subnet"]
        assert subnet_arn.endswith(f":subnet/{ref('aws_subnet', subnets[az], 'id')}")


def test_reads_only_the_egress_functions_and_writes_only_its_namespace(dev, probe, shipped):
    statements = _statements(dev)
    read = next(
        s for s in statements.values() if s["actions"] == ["lambda:GetFunctionConfiguration"]
    )
    # The functions' own ARNs, spelled from their names: a reference to a function would make
    # Terraform read this policy document only at apply time on every code deploy.
    names = shipped.config.environment("dev").egress_function_names
    assert probe[1]["function_name"] in names and len(names) > 1
    assert len(read["resources"]) == len(names)
    for arn, name in zip(read["resources"], names, strict=True):
        assert re.fullmatch(
            r"arn:\$\{data\.aws_partition\.[\w-]+\.partition\}:lambda:us-east-1:"
            r"\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}:function:" + re.escape(name),
            arn,
        ), arn
    assert "aws_lambda_function" not in json.dumps(read)
    metric = next(s for s in statements.values() if s["actions"] == ["cloudwatch:PutMetricData"])
    (namespace,) = _conditions(metric)["cloudwatch:namespace"]
    (guard_fn,) = [
        f
        for f in not_canary(of_type(dev, "aws_lambda_function")).values()
        if "METRIC_NAMESPACE" in f.get("environment", {}).get("variables", {})
    ]
    assert guard_fn["environment"]["variables"]["METRIC_NAMESPACE"] == namespace


# --- issue 14.1: the guard never fights a destroy ---------------------------------------------


def _guard_resources(dev):
    """(type, logical id, body) of every resource under /eni-guard/ that can act: the function,
    its inline policies, the rules, their targets and invoke permissions."""
    acting = (
        "aws_lambda_function",
        "aws_iam_role_policy",
        "aws_cloudwatch_event_rule",
        "aws_cloudwatch_event_target",
        "aws_lambda_permission",
    )
    return [
        (rtype, lid, body)
        for rtype in acting
        for lid, body in of_type(dev, rtype).items()
        if "/eni-guard/" in path_of(body)
    ]


def test_destroy_removes_the_guard_before_any_eip_association(dev):
    # Terraform destroys dependents first, so depending on the associations makes `destroy`
    # remove the guard's triggers, permissions and function before it disassociates an EIP.
    associations = {az: bare("aws_eip_association", lid) for az, lid in _associations(dev).items()}
    resources = _guard_resources(dev)
    assert {rtype for rtype, _, _ in resources} == {
        "aws_lambda_function",
        "aws_iam_role_policy",
        "aws_cloudwatch_event_rule",
        "aws_cloudwatch_event_target",
        "aws_lambda_permission",
    }
    for rtype, lid, body in resources:
        depends = set(body.get("depends_on", []))
        if body.get("name", "").startswith("eni-guard-associate-"):
            # A per-AZ permission depends on its own AZ's association: removing that AZ
            # destroys the permission first (see the next test).
            az = body["name"].removeprefix("eni-guard-associate-")
            assert associations[az] in depends, (rtype, lid)
        else:
            assert set(associations.values()) <= depends, (rtype, lid, sorted(depends))


def test_removing_an_az_destroys_its_permission_before_its_association(dev):
    # An AZ removed from the config leaves its association and its `associate-<az>` policy out
    # of the configuration: both are destroyed, the policy first (it depends on the
    # association), so no guard run can put that EIP back while Terraform releases it. The
    # guard's ALLOCATION_IDS is an UPDATE, which Terraform may order after the destroy.
    for az, assoc in _associations(dev).items():
        (policy,) = [
            p
            for p in of_type(dev, "aws_iam_role_policy").values()
            if p["name"] == f"eni-guard-associate-{az}"
        ]
        assert policy["depends_on"] == [bare("aws_eip_association", assoc)]


def test_the_guard_moves_only_the_eips_the_stack_associates(dev, guard):
    _, fn = guard
    listed = fn["environment"]["variables"]["ALLOCATION_IDS"]
    for assoc in _associations(dev).values():
        assert f"aws_eip_association.{assoc}.allocation_id" in listed


# --- issue 14.2: one run at a time ------------------------------------------------------------


def test_one_guard_run_at_a_time_through_the_lock_table(dev, guard, shipped):
    # No reservation by default (it fails in accounts below 101 concurrency); the lock table
    # keeps runs apart instead, and the guard may only take and give back its item.
    _, fn = guard
    assert "reserved_concurrent_executions" not in fn
    (table_id, table) = by_path(dev, "aws_dynamodb_table", "/eni-guard/lock")
    assert fn["environment"]["variables"]["LOCK_TABLE"] == ref(
        "aws_dynamodb_table", table_id, "name"
    )
    assert table["hash_key"] == "environment" and table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["attribute"] == [{"name": "environment", "type": "S"}]
    assert table["point_in_time_recovery"] == {"enabled": True}
    (lock,) = [s for s in _statements(dev).values() if s["sid"] == "TakeAndReturnTheRunLock"]
    assert sorted(lock["actions"]) == ["dynamodb:DeleteItem", "dynamodb:PutItem"]
    (arn,) = lock["resources"]
    assert re.fullmatch(
        r"arn:\$\{data\.aws_partition\.[\w-]+\.partition\}:dynamodb:us-east-1:"
        r"\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}:table/" + re.escape(table["name"]),
        arn,
    ), arn
    # The table goes after the guard on destroy, with the rest of it before any EIP.
    associations = {bare("aws_eip_association", lid) for lid in _associations(dev).values()}
    assert associations <= set(table["depends_on"])


def test_a_reservation_where_the_config_asks_for_one(user):
    dev3 = user.stack("dev3")
    _, fn = by_path(dev3, "aws_lambda_function", "/eni-guard/function/function")
    assert fn["reserved_concurrent_executions"] == 1
    # The lock stays: one code path whatever the account allows; the table takes the key.
    (_, table) = by_path(dev3, "aws_dynamodb_table", "/eni-guard/lock")
    kms = user.config.environment("dev3").function.kms_key_arn
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": kms}


# --- alarms (issue 10.6, issue 14.6) -----------------------------------------------------------


def _alarms(dev):
    alarms = not_canary(of_type(dev, "aws_cloudwatch_metric_alarm"))
    return {a["alarm_name"]: a for a in alarms.values()}


def test_three_alarms_with_the_names_doctor_reads(dev, shipped):
    from staticip.guard import alarm_names

    assert set(_alarms(dev)) == set(alarm_names(shipped.config.project, "dev"))


def test_enis_without_eip_alarm_needs_two_periods_in_which_every_run_saw_a_gap(dev, shipped):
    alarm = _alarms(dev)[f"{shipped.config.project}-dev-enis-without-eip"]
    queries = {q["id"]: q for q in alarm["metric_query"]}
    assert {q["metric"]["metric_name"] for q in queries.values() if "metric" in q} == {
        "EnisWithoutElasticIp",
        "EgressFunctionUpdateFailed",
    }
    for query in (q for q in queries.values() if "metric" in q):
        # Minimum: a period counts only if EVERY run in it saw the problem, so a recycle's
        # moment without an EIP (or an event-triggered run mid-recycle) does not.
        assert query["metric"]["stat"] == "Minimum"
        assert query["metric"]["period"] == 300
        assert query["metric"]["dimensions"] == {"Environment": "dev"}
        assert query["return_data"] is False
    (result,) = [q for q in queries.values() if q.get("return_data") is True]
    assert result["expression"] == "gaps + failed"
    assert (alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (2, 2)
    assert alarm["comparison_operator"] == "GreaterThanThreshold" and alarm["threshold"] == 0
    # A late run is the silence alarm's business, not this one's.
    assert alarm["treat_missing_data"] == "ignore"
    assert "alarm_actions" not in alarm  # no topic configured in the shipped file


def test_silence_alarm_fires_after_two_schedule_periods_without_a_run(dev, shipped):
    alarm = _alarms(dev)[f"{shipped.config.project}-dev-eni-guard-silent"]
    assert (alarm["metric_name"], alarm["statistic"]) == ("EnisWithoutElasticIp", "SampleCount")
    assert alarm["period"] == 300
    assert (alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (2, 2)
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("LessThanThreshold", 1)
    assert alarm["treat_missing_data"] == "breaching"


def test_errors_alarm_watches_the_guard_functions_errors(dev, guard, shipped):
    guard_id, _ = guard
    alarm = _alarms(dev)[f"{shipped.config.project}-dev-eni-guard-errors"]
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == (
        "AWS/Lambda",
        "Errors",
        "Sum",
    )
    assert alarm["dimensions"] == {
        "FunctionName": ref("aws_lambda_function", guard_id, "function_name")
    }
    assert alarm["comparison_operator"] == "GreaterThanThreshold" and alarm["threshold"] == 0
    assert alarm["treat_missing_data"] == "notBreaching"


@pytest.mark.parametrize(
    ("schedule", "seconds"),
    [
        ("rate(5 minutes)", 300),
        ("rate(1 minute)", 60),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 43200),
        ("cron(0/10 * * * ? *)", 3600),
    ],
)
def test_alarm_period_follows_the_schedule(schedule, seconds):
    from staticip.schedule import alarm_period_seconds

    assert alarm_period_seconds(schedule) == seconds


def test_no_guard_outside_eni_eip(shipped):
    for name in ("prod", "ingress"):
        assert not_canary(of_type(shipped.stack(name), "aws_cloudwatch_event_rule")) == {}
