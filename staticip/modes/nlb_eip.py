"""The nlb-eip ingress mode: an internet-facing Network Load Balancer holding one of the
environment's allow-listed Elastic IPs in each AZ (`subnet_mapping { subnet_id, allocation_id
}`), TCP listeners on 80 (and 443 with a certificate) forwarding to `alb`-type target groups
whose one target is an internal ALB, whose `lambda` target group holds the webhook function.

Here: the mode's declaration (`NlbEip`, at the end), what `staticip doctor` checks
(`check_nlb_ingress`) and the `staticip review` rule over a plan (`nlb_findings`). Like every
declaration it imports no CDKTF at module level (`build` does, when it runs), and not the
`staticip.modes` registry, which imports this module on first use.

Facts the checks and rules rely on:

- AWS cannot change an NLB's Elastic IPs once it exists (Network Load Balancer user guide,
  "network-load-balancers.html"); SetSubnets on an NLB must repeat every enabled subnet with
  its configuration, so subnets can only be added.
- The AWS provider (hashicorp/terraform-provider-aws, internal/service/elbv2/load_balancer.go,
  `customizeDiffLoadBalancerNLB`) therefore forces a replacement of a `network` `aws_lb` when
  its `subnet_mapping` set, wholly known at plan time, loses a mapping or changes one (a
  different `allocation_id` or `subnet_id` is a different set element); mappings added while
  the old ones stay are done in place. The same goes for `subnets`, and for `security_groups`
  going from none to some or from some to none. `internal`, `load_balancer_type` and `name`
  are ForceNew in the schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient

from staticip import aws
from staticip.config import EnvironmentConfig, TableReader
from staticip.doctor_egress import deploy_fix
from staticip.doctor_ingress import (
    LISTENER,
    check_alb,
    lb_state_finding,
    short_arn,
    target_finding,
)
from staticip.eips import INGRESS, AllowListedEip, environment_tags, find_allow_listed_eips
from staticip.findings import ERROR, OK, WARNING, Finding
from staticip.modes.base import ALB_KEYS, DoctorCheck, DoctorContext, IngressMode
from staticip.names import INGRESS_DNS_NAME_OUTPUT
from staticip.review.model import DELETE, REPLACE
from staticip.review.model import WARNING as REVIEW_WARNING
from staticip.review.model import Finding as ReviewFinding
from staticip.review.plans import PlanView
from staticip.review.rules import (
    alb_gap_findings,
    deletion_protection_note,
    ip_of_allocation,
    replace_why,
)

if TYPE_CHECKING:
    from stacks.mode_context import IngressContext
    from staticip.ips import IpsReport

#: The mode's own config key (`NlbEip.options` reads it into `mode_options`).
REUSE_KEY = "ingress_reuse_eip_allocation_ids"


def ingress_azs(env: EnvironmentConfig) -> tuple[str, ...]:
    """The AZs holding an ingress EIP: every AZ of the environment, sorted by name."""
    return tuple(sorted(env.azs))


def reused(env: EnvironmentConfig) -> Mapping[str, str]:
    """AZ name -> the existing allocation the NLB uses there instead of a new EIP."""
    return env.mode_options.get(REUSE_KEY, {})


# --- doctor -------------------------------------------------------------------------------------

#: Check names (doctor's CHECK column). The ALB and its Lambda target keep the Global
#: Accelerator mode's names (`alb`, `target`), and the NLB's listeners `listener`: an
#: environment has one ingress mode, so they cannot be confused.
NLB = "nlb"
INGRESS_EIP = "ingress-eip"
NLB_TARGET = "nlb-target"

HTTP_PORT = 80
HTTPS_PORT = 443
#: DescribeTags takes at most 20 resource ARNs a call.
_DESCRIBE_TAGS_MAX = 20
_NLB_TARGET_FIX = (
    "the NLB health-checks the ALB through the ALB's listener on that port, which answers "
    "with the webhook function: see the alb and target findings (an unhealthy Lambda target "
    "makes the ALB unhealthy to the NLB too)"
)
#: AWS cannot move an NLB's EIPs, so putting the allow-listed one back means a new NLB.
_REPLACE_NLB_FIX = (
    " to replace the NLB with one that holds the allow-listed EIP (AWS cannot change an NLB's "
    "Elastic IPs in place; webhooks fail until the new NLB is active)"
)


def check_nlb_ingress(
    elbv2: BaseClient, ec2: BaseClient, project: str, env: EnvironmentConfig
) -> list[Finding]:
    """NLB (state, scheme) -> its address in each AZ (an allow-listed ingress EIP) ->
    listeners -> `alb` target groups and their health -> the ALB (state, internal) -> its
    Lambda target's health.

    8 AWS calls on a healthy environment without a certificate, 9 with one: DescribeLoadBalancers
    (one page; it also describes the ALB, which saves check_alb that call), DescribeTags,
    DescribeAddresses, DescribeListeners, DescribeTargetGroups and one DescribeTargetHealth per
    listener's target group for the NLB, DescribeTargetGroups and DescribeTargetHealth for the
    ALB. Raises botocore errors; the caller turns them into a finding.
    """
    balancers = aws.paginate(elbv2, "describe_load_balancers", "LoadBalancers")
    listed = {lb["LoadBalancerArn"]: lb for lb in balancers}
    nlbs = _tagged(
        elbv2, [lb for lb in balancers if lb.get("Type") == "network"], project, env.name
    )
    if not nlbs:
        return [
            Finding(
                ERROR,
                NLB,
                env.name,
                f"no network load balancer tagged environment={env.name}, project={project} "
                f"in {env.region}",
                deploy_fix(env) + ", or check --region/--profile",
            )
        ]
    # Reused ingress EIPs are looked up by allocation ID too: they count before the stack's
    # tags reach them.
    eips = find_allow_listed_eips(ec2, project, env.name, reused(env), direction=INGRESS)
    ours = {eip.allocation_id for eip in eips}
    # The NLB holding the most allow-listed EIPs is the stack's; another one tagged for the
    # environment is a leftover (an EIP sits on one load balancer at a time).
    nlb, *others = sorted(nlbs, key=lambda lb: (-len(_allocations(lb) & ours), _created(lb)))
    name = _name(nlb)
    findings = [
        Finding(
            WARNING,
            NLB,
            _name(other),
            f"a second network load balancer tagged for {env.name}; {name} is the one checked",
            "delete it if nothing uses it: the stack makes one NLB",
        )
        for other in others
    ]
    findings += _nlb_findings(env, nlb)
    findings += _address_findings(env, nlb, eips)
    listeners = aws.paginate(
        elbv2, "describe_listeners", "Listeners", LoadBalancerArn=nlb["LoadBalancerArn"]
    )
    findings += _listener_findings(env, name, listeners)
    groups = aws.paginate(
        elbv2, "describe_target_groups", "TargetGroups", LoadBalancerArn=nlb["LoadBalancerArn"]
    )
    group_findings, alb_arns = _target_group_findings(elbv2, env, name, groups)
    findings += group_findings
    for arn in alb_arns:
        findings += check_alb(
            elbv2,
            env,
            arn,
            referrer="the NLB's target",
            internal=True,
            described=listed.get(arn),
        )
    return findings


def _tagged(
    elbv2: BaseClient, lbs: Sequence[Mapping[str, Any]], project: str, environment: str
) -> list[Mapping[str, Any]]:
    """The load balancers carrying the environment's default tags (DescribeLoadBalancers
    returns no tags)."""
    wanted = environment_tags(project, environment)
    tagged: set[str] = set()
    arns = [lb["LoadBalancerArn"] for lb in lbs]
    for start in range(0, len(arns), _DESCRIBE_TAGS_MAX):
        response = elbv2.describe_tags(ResourceArns=arns[start : start + _DESCRIBE_TAGS_MAX])
        for description in response.get("TagDescriptions", []):
            if all(aws.tags(description).get(k) == v for k, v in wanted.items()):
                tagged.add(description["ResourceArn"])
    return [lb for lb in lbs if lb["LoadBalancerArn"] in tagged]


def _allocations(lb: Mapping[str, Any]) -> set[str]:
    return {
        address["AllocationId"]
        for zone in lb.get("AvailabilityZones") or []
        for address in zone.get("LoadBalancerAddresses") or []
        if address.get("AllocationId")
    }


def _created(lb: Mapping[str, Any]) -> str:
    return str(lb.get("CreatedTime", ""))


def _nlb_findings(env: EnvironmentConfig, nlb: Mapping[str, Any]) -> list[Finding]:
    """State and scheme."""
    scheme = nlb.get("Scheme", "?")
    findings = [lb_state_finding(env, NLB, nlb, f", {scheme}, {nlb.get('DNSName', 'no DNS name')}")]
    if scheme != "internet-facing":
        findings.append(
            Finding(
                ERROR,
                NLB,
                _name(nlb),
                f"{scheme}: vendors cannot reach it, and an internal NLB holds no Elastic IPs",
                # The scheme is fixed when a load balancer is created.
                deploy_fix(env, " (it replaces the NLB with an internet-facing one)"),
            )
        )
    return findings


def _address_findings(
    env: EnvironmentConfig, nlb: Mapping[str, Any], eips: Sequence[AllowListedEip]
) -> list[Finding]:
    """In each of the environment's AZs the NLB must answer on that AZ's allow-listed ingress
    EIP: the vendors' allow-lists name those addresses, not the NLB's DNS name."""
    ours = {eip.allocation_id: eip for eip in eips}
    by_az: dict[str, AllowListedEip] = {}
    for eip in eips:
        if eip.az:
            by_az.setdefault(eip.az, eip)
    zones = {zone.get("ZoneName", "?"): zone for zone in nlb.get("AvailabilityZones") or []}
    findings = []
    for az in ingress_azs(env):
        wanted = by_az.get(az)
        listed = (
            f"the vendors' allow-list has {wanted.public_ip} ({wanted.allocation_id})"
            + (f", now on {wanted.network_interface_id}" if wanted.network_interface_id else "")
            if wanted
            else f"no allow-listed ingress EIP is tagged staticip:az={az}"
        )
        zone = zones.get(az)
        if zone is None:
            findings.append(
                Finding(
                    ERROR,
                    INGRESS_EIP,
                    az,
                    f"the NLB is not in {az}: {listed}, and it reaches nothing",
                    deploy_fix(env, " to add the AZ to the NLB (done in place)"),
                )
            )
            continue
        addresses = zone.get("LoadBalancerAddresses") or []
        held = next((a for a in addresses if a.get("AllocationId") in ours), None)
        if held is not None:
            eip = ours[held["AllocationId"]]
            findings.append(
                Finding(
                    OK, INGRESS_EIP, az, f"{eip.public_ip} ({eip.allocation_id}) on {_name(nlb)}"
                )
            )
            continue
        address = addresses[0] if addresses else {}
        ip, allocation = address.get("IpAddress", "no public address"), address.get("AllocationId")
        source = (
            f"{allocation}, not one of {env.name}'s allow-listed ingress EIPs"
            if allocation
            else "an address AWS assigned, not an allow-listed EIP"
        )
        findings.append(
            Finding(
                ERROR,
                INGRESS_EIP,
                az,
                f"the NLB answers on {ip} in {az} ({source}); {listed}",
                deploy_fix(env, _REPLACE_NLB_FIX)
                if wanted
                else deploy_fix(env, " to allocate it (a new address: give it to the vendors)"),
            )
        )
    for az in sorted(set(zones) - set(env.azs)):
        ips = ", ".join(
            a.get("IpAddress", "?") for a in zones[az].get("LoadBalancerAddresses") or []
        )
        findings.append(
            Finding(
                WARNING,
                INGRESS_EIP,
                az,
                f"the NLB is also in {az} ({ips or 'no public address'}), which is not one of "
                f"{env.name}'s AZs: its DNS name resolves there too",
                deploy_fix(
                    env,
                    " to put the NLB back in the environment's AZs (it replaces the NLB: an AZ"
                    " cannot be removed from one in place)",
                ),
            )
        )
    return findings


def _listener_findings(
    env: EnvironmentConfig, name: str, listeners: Sequence[Mapping[str, Any]]
) -> list[Finding]:
    """One listener per webhook port: 80, and 443 when the environment has a certificate."""
    by_port = {listener.get("Port"): listener for listener in listeners}
    wanted = [HTTP_PORT] + ([HTTPS_PORT] if env.certificate_arn else [])
    findings = []
    for port in wanted:
        if port not in by_port:
            findings.append(
                Finding(
                    ERROR,
                    LISTENER,
                    name,
                    f"no listener on {port}: connections to the EIPs on {port} are refused",
                    deploy_fix(env),
                )
            )
    for port, listener in sorted(by_port.items(), key=lambda item: item[0] or 0):
        groups = _forwards_to(listener)
        subject = short_arn(listener["ListenerArn"])
        if not groups:
            findings.append(
                Finding(
                    ERROR,
                    LISTENER,
                    subject,
                    f"{listener.get('Protocol')} {port} forwards to no target group",
                    deploy_fix(env),
                )
            )
        else:
            targets = ", ".join(short_arn(g) for g in groups)
            findings.append(
                Finding(OK, LISTENER, subject, f"{listener.get('Protocol')} {port} -> {targets}")
            )
    return findings


def _forwards_to(listener: Mapping[str, Any]) -> list[str]:
    """The target group ARNs of a listener's forward actions (either form)."""
    arns: list[str] = []
    for action in listener.get("DefaultActions") or []:
        if action.get("Type") != "forward":
            continue
        found = [action.get("TargetGroupArn")] + [
            group.get("TargetGroupArn")
            for group in (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        ]
        arns += [arn for arn in found if arn and arn not in arns]
    return arns


def _target_group_findings(
    elbv2: BaseClient, env: EnvironmentConfig, name: str, groups: Sequence[Mapping[str, Any]]
) -> tuple[list[Finding], list[str]]:
    """Each of the NLB's target groups must be of type `alb` with the ALB registered and
    healthy. Returns the findings and the ALB ARNs found, in order."""
    if not groups:
        return [
            Finding(
                ERROR,
                NLB_TARGET,
                name,
                "the NLB has no target group: its listeners forward nowhere",
                deploy_fix(env),
            )
        ], []
    findings: list[Finding] = []
    albs: list[str] = []
    for group in groups:
        group_name = group.get("TargetGroupName", short_arn(group["TargetGroupArn"]))
        if group.get("TargetType") != "alb":
            findings.append(
                Finding(
                    ERROR,
                    NLB_TARGET,
                    group_name,
                    f"target type {group.get('TargetType')}, but the stack registers the ALB "
                    "(target type alb)",
                    deploy_fix(env),
                )
            )
        health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
        descriptions = health.get("TargetHealthDescriptions", [])
        if not descriptions:
            findings.append(
                Finding(
                    ERROR,
                    NLB_TARGET,
                    group_name,
                    f"no ALB registered: the NLB's port {group.get('Port')} forwards nowhere",
                    deploy_fix(env, " to register the ALB"),
                )
            )
        for description in descriptions:
            target = description.get("Target") or {}
            arn = target.get("Id", "?")
            findings.append(
                target_finding(
                    env,
                    description,
                    check=NLB_TARGET,
                    fix=_NLB_TARGET_FIX,
                    subject=f"{short_arn(arn)}:{target.get('Port', group.get('Port'))}",
                )
            )
            if ":loadbalancer/app/" in arn and arn not in albs:
                albs.append(arn)
    return findings, albs


def _name(lb: Mapping[str, Any]) -> str:
    return lb.get("LoadBalancerName") or short_arn(lb.get("LoadBalancerArn", "?"))


# --- review -------------------------------------------------------------------------------------

#: What lets the NLB's delete go through when deletion protection is on: the ALB's key
#: covers the NLB too (stacks/nlb_eip_ingress.py).
NLB_DELETION_PROTECTION_OFF = "alb_deletion_protection = false is deployed first"


def nlb_findings(plan: PlanView) -> list[ReviewFinding]:
    """An NLB replaced or destroyed (`nlb-replaced`, `nlb-destroyed`), and the ALB behind an
    `alb` target group replaced or destroyed (`alb-replaced`, `alb-destroyed`): warnings, the
    ingress stops for a while. The EIPs' own release is `eip-released`/`eip-replaced`, a
    blocker, from the generic EIP rule."""
    return _nlb_change_findings(plan) + _alb_behind_nlb_findings(plan)


def _nlb_allocations(values: Mapping[str, Any]) -> list[str]:
    """The allocation IDs of an `aws_lb`'s `subnet_mapping` blocks (an ALB's are "")."""
    return [
        str(mapping["allocation_id"])
        for mapping in values.get("subnet_mapping") or []
        if isinstance(mapping, dict) and mapping.get("allocation_id")
    ]


def _released(plan: PlanView, allocation: str) -> bool:
    """Whether the plan destroys or replaces the `aws_eip` of `allocation`."""
    return any(
        plan.before(rc).get("allocation_id") == allocation
        for rc in plan.changes_of("aws_eip", REPLACE, DELETE)
    )


def _nlb_change_findings(plan: PlanView) -> list[ReviewFinding]:
    findings = []
    for rc in plan.changes_of("aws_lb", REPLACE, DELETE):
        before = plan.before(rc)
        if before.get("load_balancer_type") != "network":
            continue
        name = before.get("name") or before.get("id", "")
        allocations = _nlb_allocations(before)
        ips = tuple(ip for a in allocations if (ip := ip_of_allocation(plan, a)))
        shown = ", ".join(ips) or ", ".join(allocations) or "its Elastic IPs"
        released = [ip_of_allocation(plan, a) or a for a in allocations if _released(plan, a)]
        if released:
            fate = f"this plan also releases {', '.join(released)} (see the blockers)"
        else:
            fate = f"the Elastic IPs ({shown}) stay allocated"
        if plan.action(rc) == REPLACE:
            code = "nlb-replaced"
            message = (
                f"NLB {name} is replaced{replace_why(rc)}: {fate}, but webhooks to them fail "
                "from the old NLB's deletion until the new one holds them and is active "
                f"(minutes). {_order(rc)}{_subnet_mapping_why(rc)}"
            )
            dns = before.get("dns_name")
            if dns:
                message += (
                    f" Its DNS name {dns} changes too (output ingress_dns_name): vendors that "
                    "call the name rather than the IPs need the new one."
                )
        else:
            code = "nlb-destroyed"
            message = f"NLB {name} is destroyed: webhooks to {shown} fail; {fate}" + (
                "." if released else ", and reach nothing until an NLB holds them again."
            )
        message += deletion_protection_note(before, NLB_DELETION_PROTECTION_OFF)
        findings.append(ReviewFinding(REVIEW_WARNING, code, rc["address"], message, ips))
    return findings


def _subnet_mapping_why(rc: Mapping[str, Any]) -> str:
    paths = rc["change"].get("replace_paths") or []
    if not any(path and path[0] == "subnet_mapping" for path in paths):
        return ""
    return (
        " The AWS provider replaces an NLB whose subnet_mapping loses or changes a mapping (an "
        "AZ removed, another subnet or EIP in one): AWS cannot change an NLB's Elastic IPs. "
        "Only adding AZs, the other mappings unchanged, is done in place."
    )


def _order(rc: Mapping[str, Any]) -> str:
    """What the replacement order does: an EIP sits on one load balancer at a time."""
    if rc["change"].get("actions", [])[:1] == ["create"]:
        return (
            "This replacement is create_before_destroy: the new NLB asks for Elastic IPs the "
            "old one still holds, which AWS refuses, so the apply fails; remove "
            "create_before_destroy from the NLB."
        )
    return (
        "The new NLB cannot take the EIPs while the old one holds them, so Terraform destroys "
        "the old one first (its default order for a replacement), then creates the new one."
    )


def _alb_behind_nlb_findings(plan: PlanView) -> list[ReviewFinding]:
    """The ALB registered in an `alb` target group: the NLB forwards the webhooks to it."""
    groups = {
        plan.before(rc).get("arn")
        for rc in plan.of_type("aws_lb_target_group")
        if plan.before(rc).get("target_type") == "alb"
    }
    groups.discard(None)
    if not groups:
        return []
    # Only an attachment that exists now serves webhooks: a new one (after a mode change)
    # has no traffic to lose.
    served = {
        plan.before(rc).get("target_id")
        for rc in plan.of_type("aws_lb_target_group_attachment")
        if plan.before(rc).get("target_group_arn") in groups
    }
    ips = tuple(
        ip
        for rc in plan.of_type("aws_lb")
        if plan.before(rc).get("load_balancer_type") == "network"
        for a in _nlb_allocations(plan.before(rc))
        if (ip := ip_of_allocation(plan, a))
    )
    return alb_gap_findings(
        plan,
        {arn for arn in served if arn},
        front="the NLB",
        stays=f"the NLB's Elastic IPs ({', '.join(ips) or 'unchanged'})",
        until=(
            "the new ALB is registered in the NLB's alb target group and passes its health checks"
        ),
        ips=ips,
    )


class NlbEip(IngressMode):
    """Our Elastic IPs, one per AZ, on an internet-facing NLB in front of an internal ALB.
    Unlike Global Accelerator's two addresses, the EIPs outlive the load balancer: they are
    protected like the egress EIPs and can be reused in another environment or account."""

    name = "nlb-eip"
    summary = "your own Elastic IPs (one per AZ) on an NLB in front of an internal ALB"
    keys = {
        **ALB_KEYS,
        REUSE_KEY: "AZ name -> existing `eipalloc-...` for the NLB instead of a new EIP",
    }
    min_azs = 2
    min_azs_reason = "an ALB needs subnets in at least 2 AZs; use 2 or more"
    takes_ipam_pool = True

    def options(self, r: TableReader, azs: tuple[str, ...]) -> dict[str, Any]:
        from staticip.config import allocation_ids

        return {REUSE_KEY: allocation_ids(r, REUSE_KEY, azs)}

    def validate(self, env: EnvironmentConfig, r: TableReader) -> None:
        shared = set(reused(env).values()) & set(env.reuse_eip_allocation_ids.values())
        if shared:
            raise r.fail(
                REUSE_KEY,
                f"{', '.join(sorted(shared))} is also in reuse_eip_allocation_ids; an address "
                "is either the function's egress IP or the webhook's ingress IP, not both",
            )
        if env.ipam_pool_id and reused(env):
            from staticip.config import reuse_with_pool_problem

            az = min(reused(env))
            raise r.fail(f"{REUSE_KEY}.{az}", reuse_with_pool_problem(REUSE_KEY, az))

    def services(self, env: EnvironmentConfig) -> Sequence[str]:
        return ("elbv2",)

    def doctor_checks(self, env: EnvironmentConfig) -> Sequence[DoctorCheck]:
        def run(ctx: DoctorContext) -> list[Finding]:
            return check_nlb_ingress(ctx.clients["elbv2"], ctx.clients["ec2"], ctx.project, ctx.env)

        return (DoctorCheck(NLB, run, needs=("elbv2", "ec2")),)

    review_rules = (nlb_findings,)

    def ips_from_aws(
        self,
        report: IpsReport,
        clients: Mapping[str, BaseClient],
        project: str,
        env: EnvironmentConfig,
    ) -> None:
        from staticip.ips import eips_from_aws

        eips_from_aws(report, clients["ec2"], project, env, INGRESS, ingress_azs(env), reused(env))

    def ips_from_outputs(
        self, report: IpsReport, values: Mapping[str, Any], env: EnvironmentConfig
    ) -> None:
        from staticip.ips import ips_by_az_from_outputs

        ips_by_az_from_outputs(report, values, INGRESS, ingress_azs(env))

    def build(self, ctx: IngressContext) -> Mapping[str, str]:
        from cdktf import TerraformOutput

        from stacks.elastic_ips import CONSTRUCT_IDS, ElasticIps, ElasticIpsProps
        from stacks.nlb_eip_ingress import NlbEipIngress, NlbEipIngressProps
        from stacks.webhook_alb import ANYWHERE

        env, network = ctx.env, ctx.network
        eips = ElasticIps(
            ctx.stack,
            CONSTRUCT_IDS[INGRESS],
            ElasticIpsProps(
                name=f"{ctx.name}-ingress",
                azs=ingress_azs(env),
                protect=env.protect_ips,
                reuse_allocation_ids=reused(env),
                environment_tags=ctx.default_tags,
                direction=INGRESS,
                ipam_pool_id=env.ipam_pool_id,
            ),
        )
        ingress = NlbEipIngress(
            ctx.stack,
            "ingress",
            NlbEipIngressProps(
                name=ctx.name,
                vpc_id=network.vpc.id,
                public_subnet_ids={az: network.public_subnets[az].id for az in env.azs},
                allocation_ids=eips.allocation_ids,
                function=ctx.function,
                routes=ctx.routes,
                allowed_cidrs=env.ingress_allowed_cidrs or (ANYWHERE,),
                certificate_arn=env.certificate_arn,
                deletion_protection=env.deletion_protection,
                access_logs_bucket=env.alb_access_logs_bucket,
            ),
        )
        eips.add_outputs(
            ctx.stack,
            INGRESS,
            "Give these Elastic IPs to vendors that call your webhooks, sorted by AZ",
        )
        TerraformOutput(
            ctx.stack,
            INGRESS_DNS_NAME_OUTPUT,
            value=ingress.nlb.dns_name,
            description="The NLB's DNS name (resolves to ingress_ips)",
        )
        return eips.public_ips
