"""The user's declared functions in the synthesized stacks (`functions` session fixture,
conftest.FUNCTIONS_CONFIG): where they sit, what they may do, what is exported for functions
deployed elsewhere, and the ALB routes to them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from tfjson import bare, by_path, not_canary, of_type, path_of, ref

from staticip.cost import price_stack
from staticip.function_config import HEALTH_RULE_PRIORITY
from staticip.names import parameter_path
from staticip.prices import load_prices


def functions_by_name(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["function_name"]: f for f in of_type(stack, "aws_lambda_function").values()}


def policies_of(stack: dict[str, Any], construct: str) -> set[str]:
    return {
        a["policy_arn"]
        for a in of_type(stack, "aws_iam_role_policy_attachment").values()
        if path_of(a).split("/")[-2] == construct
    }


@pytest.fixture(scope="module")
def dev(functions):
    return functions.stack("dev")


@pytest.fixture(scope="module")
def env(functions):
    return functions.config.environment("dev")


def test_every_function_shares_the_subnets_and_the_one_security_group(dev, env) -> None:
    fns = functions_by_name(dev)
    (sg_id,) = of_type(dev, "aws_security_group")
    subnets = [
        ref("aws_subnet", by_path(dev, "aws_subnet", f"/public-{az}")[0], "id") for az in env.azs
    ]
    for name in env.egress_function_names:
        assert fns[name]["vpc_config"] == {
            "security_group_ids": [ref("aws_security_group", sg_id, "id")],
            "subnet_ids": subnets,
        }
    assert set(env.egress_function_names) == {
        "acme-dev-egress-probe",
        "acme-dev-billing",
        "acme-dev-reports",
    }


def test_a_declared_function_has_its_settings(dev) -> None:
    billing = functions_by_name(dev)["acme-dev-billing"]
    assert billing["runtime"] == "python3.13" and billing["handler"] == "app.handler"
    assert billing["architectures"] == ["arm64"]
    assert billing["memory_size"] == 512 and billing["reserved_concurrent_executions"] == 2
    assert billing["tracing_config"] == {"mode": "Active"}
    assert billing["environment"] == {"variables": {"VENDOR_URL": "https://api.vendor.example"}}
    reports = functions_by_name(dev)["acme-dev-reports"]
    assert reports["runtime"] == "nodejs22.x" and reports["handler"] == "handler.handler"
    # The built-in probe keeps the provider's default architecture, as it always had.
    assert "architectures" not in functions_by_name(dev)["acme-dev-egress-probe"]


def test_each_declared_function_has_its_own_least_privilege_role_and_logs(dev) -> None:
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    vpc = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
    assert policies_of(dev, "function-billing") == {
        basic,
        vpc,
        "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess",
    }
    assert policies_of(dev, "function-reports") == {basic, vpc}
    roles = {r["name"] for r in of_type(dev, "aws_iam_role").values()}
    assert {"acme-dev-billing-role", "acme-dev-reports-role"} <= roles
    assert not of_type(dev, "aws_iam_role_policy").keys() - {
        lid for lid, p in of_type(dev, "aws_iam_role_policy").items() if "eni-guard" in path_of(p)
    }, "no inline policy on a declared function's role"
    groups = {g["name"]: g for g in of_type(dev, "aws_cloudwatch_log_group").values()}
    assert groups["/aws/lambda/acme-dev-billing"]["retention_in_days"] == 14
    assert groups["/aws/lambda/acme-dev-reports"]["retention_in_days"] == 30


def test_one_lookup_and_one_association_per_az_whatever_the_functions(dev, env) -> None:
    assert len(of_type(dev, "external", "data")) == len(env.azs)
    assert len(of_type(dev, "aws_eip_association")) == len(env.azs)
    probe_id, _ = by_path(dev, "aws_lambda_function", "/egress-probe/function")
    for data in of_type(dev, "terraform_data").values():
        # Only the anchor (the probe) is referenced: a change of another function defers no
        # lookup. Every function is named in the query, as a literal.
        assert data["input"]["function_arn"] == ref("aws_lambda_function", probe_id, "arn")
        assert "billing" not in json.dumps(data)
    for lookup in of_type(dev, "external", "data").values():
        assert lookup["query"]["function_names"].split(",") == list(env.egress_function_names)


def test_without_the_probe_the_first_declared_function_anchors_the_lookups(functions) -> None:
    solo = functions.stack("solo")
    canaries = functions.config.environment("solo").canary_function_names("acme")
    assert set(functions_by_name(solo)) == {"acme-solo-only", "acme-solo-eni-guard", *canaries}
    only_id, _ = by_path(solo, "aws_lambda_function", "/function-only/function")
    for data in of_type(solo, "terraform_data").values():
        assert data["input"]["function_arn"] == ref("aws_lambda_function", only_id, "arn")
    assert "function_name" not in solo["output"], "no probe, so no probe output"


def test_the_guard_reads_and_holds_off_for_every_function(dev, env) -> None:
    guard = functions_by_name(dev)["acme-dev-eni-guard"]
    assert guard["environment"]["variables"]["FUNCTION_NAMES"].split(",") == list(
        env.egress_function_names
    )


def test_the_network_is_exported_for_functions_deployed_elsewhere(dev, env, functions) -> None:
    outputs = dev["output"]
    (sg_id,) = of_type(dev, "aws_security_group")
    vpc_id, _ = by_path(dev, "aws_vpc", "/vpc")
    assert outputs["vpc_id"]["value"] == ref("aws_vpc", vpc_id, "id")
    assert outputs["function_security_group_id"]["value"] == ref("aws_security_group", sg_id, "id")
    assert outputs["function_subnet_ids"]["value"] == [
        ref("aws_subnet", by_path(dev, "aws_subnet", f"/public-{az}")[0], "id")
        for az in sorted(env.azs)
    ]
    params = {p["name"]: p for p in of_type(dev, "aws_ssm_parameter").values()}
    path = parameter_path("acme", "dev")
    assert {name: p["type"] for name, p in params.items()} == {
        f"{path}vpc-id": "String",
        f"{path}function-subnet-ids": "StringList",
        f"{path}function-security-group-id": "String",
        f"{path}egress-ips": "StringList",
    }
    assert params[f"{path}function-security-group-id"]["value"] == ref(
        "aws_security_group", sg_id, "id"
    )
    eips = [by_path(dev, "aws_eip", f"/eip-{az}")[0] for az in sorted(env.azs)]
    assert params[f"{path}egress-ips"]["value"] == (
        '${join(",", [' + ", ".join(bare("aws_eip", e) + ".public_ip" for e in eips) + "])}"
    )
    # A NAT environment exports its private subnets; ssm_parameters = false writes none.
    prod = functions.stack("prod")
    private = {
        ref("aws_subnet", lid, "id")
        for lid, subnet in of_type(prod, "aws_subnet").items()
        if "/private-" in path_of(subnet)
    }
    assert set(prod["output"]["function_subnet_ids"]["value"]) == private
    solo = functions.stack("solo")
    assert of_type(solo, "aws_ssm_parameter") == {} and "vpc_id" in solo["output"]


def test_a_function_of_an_ingress_only_environment_stays_outside_the_vpc(functions) -> None:
    plain = functions.stack("plain")
    fns = functions_by_name(plain)
    assert "vpc_config" not in fns["acme-plain-worker"]
    # No routes: the built-in webhook answers every path, as before.
    assert "acme-plain-webhook" in fns
    assert "aws_lb_listener_rule" not in plain["resource"]


def test_functions_do_not_change_the_cost(dev) -> None:
    prices = load_prices()
    without = json.loads(json.dumps(dev))
    for rtype in ("aws_lambda_function", "aws_iam_role", "aws_cloudwatch_log_group"):
        # The canary's functions are priced (its runs); the rest cost nothing fixed.
        without["resource"][rtype] = {
            lid: body
            for lid, body in of_type(dev, rtype).items()
            if lid not in not_canary(of_type(dev, rtype))
        }
    assert price_stack(dev, prices) == price_stack(without, prices)


# --- routes -------------------------------------------------------------------------------------


def rules(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return of_type(stack, "aws_lb_listener_rule")


def test_one_rule_target_group_and_permission_per_route(functions) -> None:
    hooks = functions.stack("hooks")
    env = functions.config.environment("hooks")
    assert "acme-hooks-webhook" not in functions_by_name(hooks), "routes replace the webhook"
    https_id, _ = by_path(hooks, "aws_lb_listener", "/ingress/https")
    route_rules = [r for r in rules(hooks).values() if r["priority"] != HEALTH_RULE_PRIORITY]
    assert len(route_rules) == len(env.routes) == 3
    by_pattern = {r["condition"][0]["path_pattern"]["values"][0]: r for r in route_rules}
    fns = {
        path_of(f).split("/")[1]: lid for lid, f in of_type(hooks, "aws_lambda_function").items()
    }
    groups = of_type(hooks, "aws_lb_target_group")
    for route in env.routes:
        rule = by_pattern[route.path_pattern]
        assert rule["priority"] == route.priority
        assert rule["listener_arn"] == ref("aws_lb_listener", https_id, "arn")
        (action,) = rule["action"]
        tg_id = re.fullmatch(
            r"\$\{aws_lb_target_group\.([\w-]+)\.arn\}", action["target_group_arn"]
        )[1]
        assert groups[tg_id]["target_type"] == "lambda"
        assert groups[tg_id]["health_check"] == {"enabled": False}
        (attachment,) = [
            a
            for a in of_type(hooks, "aws_lb_target_group_attachment").values()
            if a["target_group_arn"] == ref("aws_lb_target_group", tg_id, "arn")
        ]
        assert attachment["target_id"] == ref(
            "aws_lambda_function", fns[f"function-{route.function}"], "arn"
        )
        (permission,) = [
            p
            for p in of_type(hooks, "aws_lambda_permission").values()
            if p.get("source_arn") == ref("aws_lb_target_group", tg_id, "arn")
        ]
        assert permission["principal"] == "elasticloadbalancing.amazonaws.com"
    assert by_pattern["/stripe/refunds/*"]["priority"] == 5


def test_an_unrouted_path_gets_404_and_the_health_check_200(functions) -> None:
    hooks = functions.stack("hooks")
    _, https = by_path(hooks, "aws_lb_listener", "/ingress/https")
    (default,) = https["default_action"]
    assert default["type"] == "fixed-response"
    assert default["fixed_response"]["status_code"] == "404"
    (health,) = [r for r in rules(hooks).values() if r["priority"] == HEALTH_RULE_PRIORITY]
    assert health["condition"][0]["path_pattern"]["values"] == ["/health"]
    assert health["action"][0]["fixed_response"]["status_code"] == "200"
    # Port 80 still only redirects to HTTPS.
    _, http = by_path(hooks, "aws_lb_listener", "/ingress/http")
    assert http["default_action"][0]["type"] == "redirect"


def test_global_accelerator_routes_sit_on_port_80_without_a_certificate(functions) -> None:
    edge = functions.stack("edge")
    http_id, _ = by_path(edge, "aws_lb_listener", "/ingress/http")
    assert {r["listener_arn"] for r in rules(edge).values()} == {
        ref("aws_lb_listener", http_id, "arn")
    }


def test_only_the_allowed_cidrs_reach_what_faces_the_internet(functions) -> None:
    hooks = functions.stack("hooks")
    nlb_sg, _ = by_path(hooks, "aws_security_group", "/ingress/nlb-sg")
    alb_sg, _ = by_path(hooks, "aws_security_group", "/ingress/alb-sg")
    inbound = of_type(hooks, "aws_vpc_security_group_ingress_rule").values()
    on_nlb = sorted(
        (r["from_port"], r["cidr_ipv4"])
        for r in inbound
        if r["security_group_id"] == ref("aws_security_group", nlb_sg, "id")
    )
    assert on_nlb == sorted(
        (port, cidr) for port in (80, 443) for cidr in ("192.0.2.10/32", "198.51.100.0/28")
    )
    # The internal ALB still takes nothing but the NLB's group.
    on_alb = [
        r for r in inbound if r["security_group_id"] == ref("aws_security_group", alb_sg, "id")
    ]
    assert on_alb and all("cidr_ipv4" not in r for r in on_alb)
    edge = functions.stack("edge")
    edge_rules = of_type(edge, "aws_vpc_security_group_ingress_rule").values()
    assert [(r["from_port"], r["cidr_ipv4"]) for r in edge_rules] == [(80, "203.0.113.0/24")]


def test_adding_removing_or_reordering_routes_renames_nothing_else() -> None:
    """Construct IDs (so Terraform addresses) come from the route's pattern, never its place."""
    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from stacks.webhook_alb import ANYWHERE, AlbInbound, AlbRoute, WebhookAlb, WebhookAlbProps

    def synth(patterns: list[str]) -> dict[str, Any]:
        stack = TerraformStack(Testing.app(), "routes")
        AwsProvider(stack, "aws", region="us-east-1")
        fn = LambdaFunction(stack, "fn", function_name="f", role="r")
        WebhookAlb(
            stack,
            WebhookAlbProps(
                name="acme-hooks",
                vpc_id="vpc-1",
                subnet_ids=["subnet-1", "subnet-2"],
                function=None,
                routes=[AlbRoute(p, 10 + i, fn) for i, p in enumerate(patterns)],
                inbound=AlbInbound(via="test", cidrs_ipv4=[ANYWHERE]),
            ),
        )
        return json.loads(Testing.synth(stack))

    def ids(stack: dict[str, Any]) -> dict[str, dict[str, str]]:
        return {
            rtype: {lid: body.get("name", "") for lid, body in of_type(stack, rtype).items()}
            for rtype in ("aws_lb_target_group", "aws_lambda_permission", "aws_lb_listener")
        }

    before = ids(synth(["/a/*", "/b/*"]))
    after = ids(synth(["/c/*", "/b/*", "/a/*"]))
    for rtype, resources in before.items():
        assert resources.items() <= after[rtype].items(), rtype
    removed = ids(synth(["/b/*"]))
    assert removed["aws_lb_listener"] == before["aws_lb_listener"]
    assert removed["aws_lb_target_group"].items() <= before["aws_lb_target_group"].items()
