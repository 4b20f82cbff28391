"""The ingress environment: Global Accelerator -> ALB -> Lambda."""

from __future__ import annotations

import pytest
from tfjson import bare, of_type, path_of, ref


@pytest.fixture(scope="module")
def ingress(shipped):
    return shipped.stack("ingress")


#: Terraform addresses of the ALB's resources in deployed global-accelerator stacks, built
#: from construct paths. Moving the ALB into `WebhookAlb` kept them; a changed one would make
#: Terraform replace the resource (the ALB with a new DNS name behind the accelerator).
DEPLOYED_ALB_ADDRESSES = {
    "aws_security_group.ingress_alb-sg_13E29EF3",
    "aws_vpc_security_group_ingress_rule.ingress_alb-in-80_FEB32658",
    "aws_lb.ingress_alb_A9A82B87",
    "aws_lb_target_group.ingress_target-group_05C01C47",
    "aws_lambda_permission.ingress_alb-invoke_E667130A",
    "aws_lb_target_group_attachment.ingress_target_F16B49E0",
    "aws_lb_listener.ingress_http_A39B01A0",
}
#: With a certificate, in addition.
DEPLOYED_HTTPS_ADDRESSES = {
    "aws_vpc_security_group_ingress_rule.ingress_alb-in-443_0F36D72D",
    "aws_lb_listener.ingress_https_F8ED1278",
}


def _ga_provider_ref(stack):
    (ga,) = [p for p in stack["provider"]["aws"] if p.get("alias")]
    return f"aws.{ga['alias']}", ga


def test_internet_facing_alb_in_the_public_subnets(ingress):
    (alb,) = of_type(ingress, "aws_lb").values()
    assert alb["internal"] is False
    assert alb["load_balancer_type"] == "application"
    assert alb["drop_invalid_header_fields"] is True
    # Not named dev: deletion protection is on by default.
    assert alb["enable_deletion_protection"] is True
    public = {
        ref("aws_subnet", lid, "id")
        for lid, s in of_type(ingress, "aws_subnet").items()
        if "/public-" in s["//"]["metadata"]["path"]
    }
    assert set(alb["subnets"]) == public and len(public) >= 2


def test_alb_open_on_80_only_without_a_certificate(ingress):
    (alb,) = of_type(ingress, "aws_lb").values()
    (sg_ref,) = alb["security_groups"]
    rules = [
        r
        for r in of_type(ingress, "aws_vpc_security_group_ingress_rule").values()
        if r["security_group_id"] == sg_ref
    ]
    assert [(r["from_port"], r["to_port"]) for r in rules] == [(80, 80)]
    (listener,) = of_type(ingress, "aws_lb_listener").values()
    assert (listener["port"], listener["protocol"]) == (80, "HTTP")
    assert listener["default_action"][0]["type"] == "forward"


def test_lambda_target_group_permission_and_attachment(ingress):
    tg_id, tg = next(iter(of_type(ingress, "aws_lb_target_group").items()))
    assert tg["target_type"] == "lambda"
    assert tg["health_check"]["path"] == "/health"
    fn_id, fn = next(iter(of_type(ingress, "aws_lambda_function").items()))
    assert "vpc_config" not in fn  # the webhook needs no VPC; the ALB invokes it
    perm_id, perm = next(iter(of_type(ingress, "aws_lambda_permission").items()))
    assert perm["principal"] == "elasticloadbalancing.amazonaws.com"
    assert perm["action"] == "lambda:InvokeFunction"
    assert perm["source_arn"] == ref("aws_lb_target_group", tg_id, "arn")
    assert perm["function_name"] == ref("aws_lambda_function", fn_id, "function_name")
    (attachment,) = of_type(ingress, "aws_lb_target_group_attachment").values()
    assert attachment["target_id"] == ref("aws_lambda_function", fn_id, "arn")
    assert attachment["target_group_arn"] == ref("aws_lb_target_group", tg_id, "arn")
    assert bare("aws_lambda_permission", perm_id) in attachment["depends_on"]
    (listener,) = of_type(ingress, "aws_lb_listener").values()
    assert listener["default_action"][0]["target_group_arn"] == ref(
        "aws_lb_target_group", tg_id, "arn"
    )


@pytest.mark.parametrize(
    ("fixture", "env", "expected"),
    [
        ("shipped", "ingress", DEPLOYED_ALB_ADDRESSES),
        ("user", "webhooks", DEPLOYED_ALB_ADDRESSES | DEPLOYED_HTTPS_ADDRESSES),
    ],
)
def test_alb_resources_keep_their_deployed_addresses(request, fixture, env, expected):
    stack = request.getfixturevalue(fixture).stack(env)
    addresses = {
        f"{rtype}.{lid}"
        for rtype, resources in stack["resource"].items()
        if not rtype.startswith("aws_globalaccelerator_")
        for lid, body in resources.items()
        if path_of(body).startswith(f"{env}/ingress/")
    }
    assert addresses == expected


def test_accelerator_points_at_the_alb_with_client_ip_preservation(ingress, shipped):
    provider_ref, ga_provider = _ga_provider_ref(ingress)
    assert ga_provider["region"] == "us-west-2"
    acc_id, acc = next(iter(of_type(ingress, "aws_globalaccelerator_accelerator").items()))
    listener_id, listener = next(iter(of_type(ingress, "aws_globalaccelerator_listener").items()))
    (group,) = of_type(ingress, "aws_globalaccelerator_endpoint_group").values()
    for resource in (acc, listener, group):
        assert resource["provider"] == provider_ref
    assert acc["lifecycle"]["prevent_destroy"] is True
    assert listener["accelerator_arn"] == ref("aws_globalaccelerator_accelerator", acc_id, "id")
    assert listener["protocol"] == "TCP"
    assert listener["port_range"] == [{"from_port": 80, "to_port": 80}]
    assert group["listener_arn"] == ref("aws_globalaccelerator_listener", listener_id, "id")
    assert group["endpoint_group_region"] == shipped.config.environment("ingress").region
    alb_id = next(iter(of_type(ingress, "aws_lb")))
    (endpoint,) = group["endpoint_configuration"]
    assert endpoint["endpoint_id"] == ref("aws_lb", alb_id, "arn")
    assert endpoint["client_ip_preservation_enabled"] is True


def test_outputs_the_two_accelerator_ips(ingress):
    acc_id = next(iter(of_type(ingress, "aws_globalaccelerator_accelerator")))
    value = ingress["output"]["ingress_ips"]["value"]
    assert f"aws_globalaccelerator_accelerator.{acc_id}.ip_sets" in value
    assert "egress_ips" not in ingress["output"]


def test_no_egress_resources_without_an_egress_mode(ingress):
    for rtype in ("aws_eip", "aws_nat_gateway", "aws_eip_association"):
        assert of_type(ingress, rtype) == {}


def test_webhook_role_has_basic_execution_only(ingress):
    attachments = of_type(ingress, "aws_iam_role_policy_attachment").values()
    assert [a["policy_arn"].rsplit("/", 1)[-1] for a in attachments] == [
        "AWSLambdaBasicExecutionRole"
    ]
