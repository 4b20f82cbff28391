"""Environments a user adds in their own config file, with no Python changes."""

from __future__ import annotations

import json

import pytest
from tfjson import by_path, of_type, path_of, ref


@pytest.fixture(scope="module")
def staging(user):
    return user.stack("staging")


def test_every_environment_of_the_user_file_is_a_stack(user):
    stacks = sorted(p.name for p in (user.outdir / "stacks").iterdir())
    assert stacks == sorted(e.name for e in user.config.environments)


def test_single_nat_in_the_alphabetically_first_az_serves_all_private_subnets(staging, user):
    env = user.config.environment("staging")
    nats = of_type(staging, "aws_nat_gateway")
    assert len(nats) == 1
    # azs are listed c, a, b: the NAT still goes to "a", so reordering never moves it.
    nat_id, nat = by_path(staging, "aws_nat_gateway", "/nat-eu-west-1a")
    public_a, _ = by_path(staging, "aws_subnet", "/public-eu-west-1a")
    assert nat["subnet_id"] == ref("aws_subnet", public_a, "id")
    routes = of_type(staging, "aws_route")
    private_routes = [r for r in routes.values() if "nat_gateway_id" in r]
    assert len(private_routes) == len(env.azs) == 3
    assert {r["nat_gateway_id"] for r in private_routes} == {ref("aws_nat_gateway", nat_id, "id")}


def test_reused_allocation_is_looked_up_not_created(staging):
    assert of_type(staging, "aws_eip") == {}
    ((lookup_id, lookup),) = of_type(staging, "aws_eip", "data").items()
    assert lookup["id"] == "eipalloc-0123456789abcdef0"
    (nat,) = of_type(staging, "aws_nat_gateway").values()
    assert nat["allocation_id"] == ref("aws_eip", lookup_id, "id", kind="data")
    assert staging["output"]["egress_ips"]["value"] == [
        ref("aws_eip", lookup_id, "public_ip", kind="data")
    ]


def test_s3_backend_with_native_lockfile(staging):
    backend = staging["terraform"]["backend"]
    assert backend == {
        "s3": {
            "bucket": "acme-terraform-state",
            "key": "staticip/staging/terraform.tfstate",
            "region": "eu-west-1",
            "encrypt": True,
            "use_lockfile": True,
        }
    }


def test_region_project_and_user_tags(staging):
    (provider,) = staging["provider"]["aws"]
    assert provider["region"] == "eu-west-1"
    assert provider["default_tags"][0]["tags"] == {
        "team": "payments",
        "project": "acme",
        "environment": "staging",
    }


def test_certificate_turns_on_https_and_http_redirects(user):
    stack = user.stack("webhooks")
    listeners = {lst["port"]: lst for lst in of_type(stack, "aws_lb_listener").values()}
    assert listeners[443]["protocol"] == "HTTPS"
    assert listeners[443]["certificate_arn"].startswith("arn:aws:acm:eu-central-1:")
    assert listeners[443]["ssl_policy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    redirect = listeners[80]["default_action"][0]
    assert redirect["type"] == "redirect"
    assert (redirect["redirect"]["protocol"], redirect["redirect"]["port"]) == ("HTTPS", "443")
    ports = sorted(
        r["from_port"] for r in of_type(stack, "aws_vpc_security_group_ingress_rule").values()
    )
    assert ports == [80, 443]
    (ga_listener,) = of_type(stack, "aws_globalaccelerator_listener").values()
    assert sorted(p["from_port"] for p in ga_listener["port_range"]) == [80, 443]


def _ip_layout(stack):
    """Logical IDs and in-VPC subnet offsets of everything that carries or places an IP."""
    ids = {
        rtype: sorted(of_type(stack, rtype))
        for rtype in ("aws_eip", "aws_eip_association", "aws_subnet")
    }
    offsets = {
        path_of(s).split("/")[-1]: s["cidr_block"].split(".", 2)[2]
        for s in of_type(stack, "aws_subnet").values()
    }
    return ids, offsets


def test_reordering_azs_keeps_every_ip_resource(shipped, user):
    # User's dev lists its AZs as b, a; the shipped dev as a, b.
    assert _ip_layout(user.stack("dev")) == _ip_layout(shipped.stack("dev"))


def test_adding_an_az_keeps_every_existing_ip_resource(shipped, user):
    ids2, offsets2 = _ip_layout(shipped.stack("dev"))
    ids3, offsets3 = _ip_layout(user.stack("dev3"))
    for rtype, logical_ids in ids2.items():
        assert set(logical_ids) < set(ids3[rtype])
    assert offsets2.items() < offsets3.items()


def test_protection_switch_lifts_prevent_destroy(user):
    eips = of_type(user.stack("dev3"), "aws_eip").values()
    assert len(eips) == 3
    assert all(e["lifecycle"]["prevent_destroy"] is False for e in eips)
    _, fn = by_path(user.stack("dev3"), "aws_lambda_function", "/egress-probe/function")
    assert fn["function_name"] == "acme-dev3-probe"


def test_optional_function_settings_reach_the_function(user):
    _, fn = by_path(user.stack("dev3"), "aws_lambda_function", "/egress-probe/function")
    function = user.config.environment("dev3").function
    assert fn["tracing_config"] == {"mode": "Active"}
    assert fn["reserved_concurrent_executions"] == 5
    assert fn["kms_key_arn"] == function.kms_key_arn
    _, guard = by_path(user.stack("dev3"), "aws_lambda_function", "/eni-guard/function/function")
    assert guard["kms_key_arn"] == function.kms_key_arn


def test_defaults_leave_optional_features_off(shipped):
    dev = shipped.stack("dev")
    _, fn = by_path(dev, "aws_lambda_function", "/egress-probe/function")
    assert fn["tracing_config"] == {"mode": "PassThrough"}
    assert "reserved_concurrent_executions" not in fn and "kms_key_arn" not in fn
    assert of_type(dev, "aws_flow_log") == {}
    (alb,) = of_type(shipped.stack("ingress"), "aws_lb").values()
    assert "access_logs" not in alb


def test_flow_logs_to_a_retained_log_group_through_a_scoped_role(user):
    stack = user.stack("dev3")
    (flow,) = of_type(stack, "aws_flow_log").values()
    vpc_id = next(iter(of_type(stack, "aws_vpc")))
    assert flow["vpc_id"] == ref("aws_vpc", vpc_id, "id")
    assert flow["traffic_type"] == "ALL"
    group_id, group = by_path(stack, "aws_cloudwatch_log_group", "/flow-logs/logs")
    assert group["retention_in_days"] == 14
    assert flow["log_destination"] == ref("aws_cloudwatch_log_group", group_id, "arn")
    _, policy = by_path(stack, "aws_iam_role_policy", "/flow-logs/write")
    (statement,) = json.loads(policy["policy"])["Statement"]
    group_arn = ref("aws_cloudwatch_log_group", group_id, "arn")
    assert statement["Resource"] == [group_arn, f"{group_arn}:*"]
    assert all(action.startswith("logs:") for action in statement["Action"])


def test_alb_access_logs_to_the_named_bucket(user):
    (alb,) = of_type(user.stack("webhooks"), "aws_lb").values()
    assert alb["access_logs"]["bucket"] == "acme-alb-logs"
    assert alb["access_logs"]["enabled"] is True


def test_reused_eip_is_tagged_so_the_tools_find_it(staging):
    tags = {
        t["key"]: t["value"]
        for t in of_type(staging, "aws_ec2_tag").values()
        if t["resource_id"] == "eipalloc-0123456789abcdef0"
    }
    assert tags == {
        "team": "payments",
        "project": "acme",
        "environment": "staging",
        "staticip:allow-listed": "true",
        "staticip:az": "eu-west-1a",
    }
