"""The nlb-eip ingress construct: internet-facing NLB with our EIPs -> internal ALB -> Lambda.

Built in throwaway stacks (the modes that wire it into an environment live elsewhere): one app
with a stack per case, synthesized once for the module."""

from __future__ import annotations

from pathlib import Path

import pytest
from tfjson import bare, by_path, of_type, ref

from staticip.stackfile import load_stack

CERTIFICATE_ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d"
#: AZs given out of order: the construct keys and sorts by AZ name, not by position.
SUBNETS = {"eu-west-1b": "subnet-bbbb", "eu-west-1a": "subnet-aaaa", "eu-west-1c": "subnet-cccc"}
ALLOCATIONS = {
    "eu-west-1c": "eipalloc-cccc",
    "eu-west-1a": "eipalloc-aaaa",
    "eu-west-1b": "eipalloc-bbbb",
}
#: 40 characters: every load balancer and target group name has to be cut to 32.
LONG_NAME = "acme-payments-webhooks-production-euwest"
CASES = {"http": None, "https": CERTIFICATE_ARN}


def _build(outdir: Path) -> None:
    from cdktf import App, TerraformStack
    from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from stacks.nlb_eip_ingress import NlbEipIngress, NlbEipIngressProps

    app = App(outdir=str(outdir))
    for case, certificate_arn in CASES.items():
        stack = TerraformStack(app, case)
        AwsProvider(stack, "aws", region="eu-west-1")
        webhook = LambdaFunction(
            stack,
            "webhook",
            function_name="acme-webhook",
            role="arn:aws:iam::123456789012:role/acme-webhook",
            handler="handler.handler",
            runtime="python3.12",
            filename="webhook.zip",
        )
        NlbEipIngress(
            stack,
            "ingress",
            NlbEipIngressProps(
                name=LONG_NAME,
                vpc_id="vpc-1234",
                public_subnet_ids=SUBNETS,
                allocation_ids=ALLOCATIONS,
                function=webhook,
                certificate_arn=certificate_arn,
            ),
        )
    app.synth()


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    outdir = tmp_path_factory.mktemp("nlb-eip") / "cdktf.out"
    _build(outdir)
    return {case: load_stack(outdir, case) for case in CASES}


@pytest.fixture(params=list(CASES))
def stack(request: pytest.FixtureRequest, stacks: dict[str, dict]) -> dict:
    return stacks[request.param]


def _nlb(stack: dict) -> tuple[str, dict]:
    return by_path(stack, "aws_lb", "/ingress/nlb")


def _alb(stack: dict) -> tuple[str, dict]:
    return by_path(stack, "aws_lb", "/ingress/alb")


def test_internet_facing_nlb_with_one_eip_per_az_sorted_by_az(stack):
    _, nlb = _nlb(stack)
    assert nlb["load_balancer_type"] == "network"
    assert nlb["internal"] is False
    assert nlb["subnet_mapping"] == [
        {"subnet_id": "subnet-aaaa", "allocation_id": "eipalloc-aaaa"},
        {"subnet_id": "subnet-bbbb", "allocation_id": "eipalloc-bbbb"},
        {"subnet_id": "subnet-cccc", "allocation_id": "eipalloc-cccc"},
    ]
    assert "subnets" not in nlb
    assert nlb["enable_deletion_protection"] is True
    assert nlb["enable_cross_zone_load_balancing"] is False
    assert nlb["enforce_security_group_inbound_rules_on_private_link_traffic"] == "on"


def test_internal_alb_in_the_public_subnets_sorted_by_az(stack):
    _, alb = _alb(stack)
    assert alb["load_balancer_type"] == "application"
    assert alb["internal"] is True
    assert alb["subnets"] == ["subnet-aaaa", "subnet-bbbb", "subnet-cccc"]
    assert alb["drop_invalid_header_fields"] is True
    assert alb["enable_deletion_protection"] is True


def test_names_fit_32_characters_and_do_not_collide(stack):
    lb_names = [body["name"] for body in of_type(stack, "aws_lb").values()]
    tg_names = [body["name"] for body in of_type(stack, "aws_lb_target_group").values()]
    for names in (lb_names, tg_names):
        assert all(len(n) <= 32 and not n.endswith("-") for n in names), names
        assert len(set(names)) == len(names), names
    _, nlb = _nlb(stack)
    assert nlb["name"] == f"{LONG_NAME[:28]}-nlb"


@pytest.mark.parametrize(("case", "ports"), [("http", [80]), ("https", [80, 443])])
def test_alb_type_target_group_per_port_with_the_alb_as_its_one_target(stacks, case, ports):
    stack = stacks[case]
    alb_id, _ = _alb(stack)
    nlb_id, _ = _nlb(stack)
    for port in ports:
        tg_id, tg = by_path(stack, "aws_lb_target_group", f"/nlb-target-group-{port}")
        assert (tg["target_type"], tg["protocol"], tg["port"]) == ("alb", "TCP", port)
        assert tg["vpc_id"] == "vpc-1234"
        assert tg["name"] == f"{LONG_NAME[: 32 - len(f'-nlb-{port}')]}-nlb-{port}"
        _, attachment = by_path(stack, "aws_lb_target_group_attachment", f"/nlb-target-{port}")
        assert attachment["target_group_arn"] == ref("aws_lb_target_group", tg_id, "arn")
        assert attachment["target_id"] == ref("aws_lb", alb_id, "arn")
        assert attachment["port"] == port
        _, listener = by_path(stack, "aws_lb_listener", f"/nlb-listener-{port}")
        assert listener["load_balancer_arn"] == ref("aws_lb", nlb_id, "arn")
        assert (listener["port"], listener["protocol"]) == (port, "TCP")
        assert listener["default_action"] == [
            {"type": "forward", "target_group_arn": ref("aws_lb_target_group", tg_id, "arn")}
        ]
    nlb_groups = [tg for tg in of_type(stack, "aws_lb_target_group").values() if tg.get("port")]
    assert sorted(tg["port"] for tg in nlb_groups) == ports


@pytest.mark.parametrize(
    ("case", "port", "check"),
    [
        ("http", 80, ("HTTP", "80")),
        ("https", 443, ("HTTPS", "443")),
        # The ALB's port 80 only redirects: that group checks the webhook over HTTPS too.
        ("https", 80, ("HTTPS", "443")),
    ],
)
def test_health_checks_reach_the_webhooks_health_path(stacks, case, port, check):
    _, tg = by_path(stacks[case], "aws_lb_target_group", f"/nlb-target-group-{port}")
    health = tg["health_check"]
    assert (health["protocol"], health["port"]) == check
    assert health["path"] == "/health"


@pytest.mark.parametrize(("case", "port"), [("http", 80), ("https", 443), ("https", 80)])
def test_alb_target_groups_set_only_the_health_check_settings_aws_always_allowed(
    stacks, case, port
):
    # AWS's NLB guide said an `alb` target group's unhealthy threshold, timeout and success
    # codes cannot be changed: a stack that sets them may fail to apply.
    _, tg = by_path(stacks[case], "aws_lb_target_group", f"/nlb-target-group-{port}")
    assert set(tg["health_check"]) <= {"protocol", "port", "path", "interval", "healthy_threshold"}


@pytest.mark.parametrize(("case", "ports"), [("http", [80]), ("https", [80, 443])])
def test_nlb_listener_and_registration_wait_for_the_albs_listener_on_their_port(
    stacks, case, ports
):
    stack = stacks[case]
    alb_listener = {80: "/ingress/http", 443: "/ingress/https"}
    for port in ports:
        listener_id, listener = by_path(stack, "aws_lb_listener", alb_listener[port])
        assert listener["port"] == port
        _, nlb_listener = by_path(stack, "aws_lb_listener", f"/nlb-listener-{port}")
        _, attachment = by_path(stack, "aws_lb_target_group_attachment", f"/nlb-target-{port}")
        for dependent in (nlb_listener, attachment):
            assert bare("aws_lb_listener", listener_id) in dependent["depends_on"]


def test_tls_stays_on_the_alb(stacks):
    stack = stacks["https"]
    _, https = by_path(stack, "aws_lb_listener", "/ingress/https")
    assert (https["protocol"], https["certificate_arn"]) == ("HTTPS", CERTIFICATE_ARN)
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    _, http = by_path(stack, "aws_lb_listener", "/ingress/http")
    assert http["default_action"][0]["type"] == "redirect"


def _rules(stack, rtype, sg_suffix):
    sg_id, _ = by_path(stack, "aws_security_group", sg_suffix)
    sg_ref = ref("aws_security_group", sg_id, "id")
    rules = [r for r in of_type(stack, rtype).values() if r["security_group_id"] == sg_ref]
    return sorted(rules, key=lambda r: r["from_port"])


@pytest.mark.parametrize(("case", "ports"), [("http", [80]), ("https", [80, 443])])
def test_alb_accepts_only_the_nlbs_security_group(stacks, case, ports):
    stack = stacks[case]
    nlb_sg_id, _ = by_path(stack, "aws_security_group", "/nlb-sg")
    _, nlb = _nlb(stack)
    assert nlb["security_groups"] == [ref("aws_security_group", nlb_sg_id, "id")]
    rules = _rules(stack, "aws_vpc_security_group_ingress_rule", "/alb-sg")
    assert [(r["from_port"], r["to_port"]) for r in rules] == [(p, p) for p in ports]
    for rule in rules:
        assert "cidr_ipv4" not in rule
        assert rule["referenced_security_group_id"] == ref("aws_security_group", nlb_sg_id, "id")
    assert _rules(stack, "aws_vpc_security_group_egress_rule", "/alb-sg") == []


@pytest.mark.parametrize(("case", "ports"), [("http", [80]), ("https", [80, 443])])
def test_nlb_open_on_its_listener_ports_and_sends_only_to_the_alb(stacks, case, ports):
    stack = stacks[case]
    alb_sg_id, _ = by_path(stack, "aws_security_group", "/alb-sg")
    inbound = _rules(stack, "aws_vpc_security_group_ingress_rule", "/nlb-sg")
    assert [(r["from_port"], r["to_port"], r["cidr_ipv4"]) for r in inbound] == [
        (p, p, "0.0.0.0/0") for p in ports
    ]
    outbound = _rules(stack, "aws_vpc_security_group_egress_rule", "/nlb-sg")
    assert [(r["from_port"], r["to_port"]) for r in outbound] == [(p, p) for p in ports]
    for rule in outbound:
        assert rule["ip_protocol"] == "tcp"
        assert rule["referenced_security_group_id"] == ref("aws_security_group", alb_sg_id, "id")
        assert "cidr_ipv4" not in rule


def test_lambda_target_group_and_permission_behind_the_alb(stack):
    tg_id, tg = by_path(stack, "aws_lb_target_group", "/ingress/target-group")
    assert tg["target_type"] == "lambda"
    assert tg["health_check"]["path"] == "/health"
    _, perm = by_path(stack, "aws_lambda_permission", "/ingress/alb-invoke")
    assert perm["source_arn"] == ref("aws_lb_target_group", tg_id, "arn")
    assert perm["principal"] == "elasticloadbalancing.amazonaws.com"


def test_the_construct_creates_no_eip(stack):
    assert of_type(stack, "aws_eip") == {}


@pytest.mark.parametrize(
    ("subnets", "allocations", "message"),
    [
        (SUBNETS, {"eu-west-1a": "eipalloc-aaaa"}, "one Elastic IP per public subnet's AZ"),
        ({"eu-west-1a": "subnet-aaaa"}, {"eu-west-1a": "eipalloc-aaaa"}, "at least two AZs"),
    ],
)
def test_inconsistent_props_fail_at_synth_time_with_what_to_supply(subnets, allocations, message):
    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction

    from stacks.nlb_eip_ingress import NlbEipIngress, NlbEipIngressProps

    stack = TerraformStack(Testing.app(), "bad")
    webhook = LambdaFunction(stack, "webhook", function_name="f", role="r")
    props = NlbEipIngressProps(
        name="acme",
        vpc_id="vpc-1234",
        public_subnet_ids=subnets,
        allocation_ids=allocations,
        function=webhook,
    )
    with pytest.raises(ValueError, match=message):
        NlbEipIngress(stack, "ingress", props)


# --- the mode in a user's environments (tests/conftest.py USER_CONFIG) --------------------------


@pytest.fixture(scope="module")
def partners(user):
    return user.stack("partners"), user.config.environment("partners")


def test_a_user_environment_gets_one_protected_ingress_eip_per_az_on_the_nlb(partners):
    stack, env = partners
    created = of_type(stack, "aws_eip")
    (reused,) = of_type(stack, "aws_eip", kind="data").values()
    assert reused["id"] == env.mode_options["ingress_reuse_eip_allocation_ids"]["ap-southeast-2b"]
    assert {e["tags"]["staticip:az"] for e in created.values()} == {
        "ap-southeast-2a",
        "ap-southeast-2c",
    }
    for eip in created.values():
        assert eip["lifecycle"] == {"prevent_destroy": True}
        # Tooling looking for egress EIPs (doctor, the ENI guard) must not count these.
        assert eip["tags"]["staticip:direction"] == "ingress"
    tagged = {t["key"]: t["value"] for t in of_type(stack, "aws_ec2_tag").values()}
    assert tagged["staticip:direction"] == "ingress" and tagged["environment"] == "partners"

    (nlb,) = [
        lb for lb in of_type(stack, "aws_lb").values() if lb["load_balancer_type"] == "network"
    ]
    (reused_id,) = of_type(stack, "aws_eip", kind="data")
    expected = {
        ref("aws_subnet", by_path(stack, "aws_subnet", f"/public-{az}")[0], "id"): (
            ref("aws_eip", reused_id, "id", kind="data")
            if az == "ap-southeast-2b"
            else ref("aws_eip", by_path(stack, "aws_eip", f"/eip-{az}")[0], "allocation_id")
        )
        for az in env.azs
    }
    assert {m["subnet_id"]: m["allocation_id"] for m in nlb["subnet_mapping"]} == expected


def test_a_user_environment_outputs_the_ingress_ips_sorted_by_az(partners):
    stack, env = partners
    outputs = stack["output"]
    by_az = outputs["ingress_ips_by_az"]["value"]
    assert sorted(by_az) == sorted(env.azs)
    assert outputs["ingress_ips"]["value"] == [by_az[az] for az in sorted(env.azs)]
    assert "aws_lb." in outputs["ingress_dns_name"]["value"]
    (prefix_list,) = of_type(stack, "aws_ec2_managed_prefix_list").values()
    assert prefix_list["max_entries"] == 3


def test_egress_and_nlb_eip_ingress_in_one_environment_keep_their_eips_apart(user):
    stack = user.stack("hooks")
    directions = sorted(
        e["tags"].get("staticip:direction", "egress") for e in of_type(stack, "aws_eip").values()
    )
    assert directions == ["egress", "ingress", "ingress"]  # single NAT: one egress EIP
    assert sorted(stack["output"]["egress_ips_by_az"]["value"]) == ["us-west-2a"]
    assert sorted(stack["output"]["ingress_ips_by_az"]["value"]) == ["us-west-2a", "us-west-2c"]
    lbs = of_type(stack, "aws_lb").values()
    assert all(lb["enable_deletion_protection"] is False for lb in lbs)
