"""The static-IP rules: which planned changes are blockers, warnings or notes."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from staticip.canary import AZ_VARIABLE
from staticip.guard import FUNCTION_NAMES_VARIABLE
from staticip.names import AZ_TAG
from staticip.review.model import (
    BLOCKER,
    CREATE,
    DELETE,
    FORGET,
    NO_OP,
    NOTE,
    REPLACE,
    UPDATE,
    WARNING,
    Finding,
)
from staticip.review.plans import PlanView, _first, _has_unknown, _path

ReviewRule = Callable[[PlanView], list[Finding]]
"""A rule over a `terraform show -json` plan: its findings, unsorted."""

# --- the rules ----------------------------------------------------------------------------------


def _eip_label(values: Mapping[str, Any]) -> str:
    ip = values.get("public_ip") or "(address unknown)"
    az = (values.get("tags") or {}).get(AZ_TAG)
    return f"{ip} ({az})" if az else ip


def _eip_findings(plan: PlanView) -> list[Finding]:
    findings = []
    for rc in plan.changes_of("aws_eip", REPLACE, DELETE):
        before = plan.before(rc)
        ip = before.get("public_ip")
        label = _eip_label(before)
        allocation = before.get("allocation_id") or before.get("id") or "?"
        if plan.action(rc) == REPLACE:
            why = replace_why(rc)
            message = (
                f"Elastic IP {label}, {allocation}, is replaced{why}: the address is released "
                "for good and a new one (known after apply) takes its place. Everything that "
                f"allow-lists {ip or 'it'} stops accepting this environment's traffic."
            )
            code = "eip-replaced"
        else:
            message = (
                f"Elastic IP {label}, {allocation}, is destroyed: the address is released for "
                f"good. Everything that allow-lists {ip or 'it'} stops accepting this "
                "environment's traffic, and no one can get the address back."
            )
            code = "eip-released"
            if rc.get("action_reason") == "delete_because_no_resource_config":
                # The lifecycle block left with the resource block: nothing stops the delete.
                message += (
                    " Its resource left the configuration and no `removed` block keeps it "
                    "(protect_ips = false, or a stack from before staticip forgot such EIPs), "
                    "so prevent_destroy no longer guards it."
                )
        if rc.get("deposed"):
            message += " (a deposed object left by an earlier failed replacement)"
        findings.append(Finding(BLOCKER, code, rc["address"], message, (ip,) if ip else ()))
    for rc in plan.changes_of("aws_eip", CREATE):
        findings.append(
            Finding(
                NOTE,
                "eip-created",
                rc["address"],
                "A new Elastic IP (address known after apply): add it to the vendors' "
                "allow-lists before traffic leaves from it.",
            )
        )
    for rc in plan.changes_of("aws_eip", FORGET):
        before = plan.before(rc)
        az = (before.get("tags") or {}).get(AZ_TAG) or "<az>"
        allocation = before.get("allocation_id") or before.get("id") or "eipalloc-..."
        findings.append(
            Finding(
                WARNING,
                "eip-retained",
                rc["address"],
                f"Elastic IP {_eip_label(before)} is retained, not released: it leaves "
                "Terraform's state but stays allocated in AWS with its tags (and billed), and no "
                "traffic of this environment uses it any more. `staticip ips` lists "
                f'it; `reuse_eip_allocation_ids = {{ "{az}" = "{allocation}" }}` adopts it '
                "again, or release it by hand once no vendor allow-lists it.",
                tuple(filter(None, [before.get("public_ip")])),
            )
        )
    return findings


def ip_of_allocation(plan: PlanView, allocation: str | None) -> str | None:
    for rc in plan.of_type("aws_eip"):
        before = plan.before(rc)
        if allocation and before.get("allocation_id") == allocation:
            return before.get("public_ip")
    return None


def _association_findings(plan: PlanView) -> list[Finding]:
    findings = []
    # Whatever puts a known allocation on something after the apply takes an EIP over.
    takers: dict[str, list[str]] = {}
    for rtype in ("aws_eip_association", "aws_nat_gateway"):
        for rc in plan.changes_of(rtype, CREATE, REPLACE, UPDATE, NO_OP):
            after = plan.after(rc)
            allocations = [after.get("allocation_id")]
            allocations += [a for ids in _regional_allocations(after).values() for a in ids]
            for allocation in filter(None, allocations):
                takers.setdefault(allocation, []).append(rc["address"])
    redone = [rc["address"] for rc in plan.changes_of("aws_eip_association", REPLACE, CREATE)]
    retained = {
        plan.before(rc).get("allocation_id") for rc in plan.changes_of("aws_eip", FORGET)
    } - {None}
    for rc in plan.of_type("aws_eip_association"):
        action = plan.action(rc)
        before = plan.before(rc)
        allocation = before.get("allocation_id")
        ip = before.get("public_ip") or ip_of_allocation(plan, allocation)
        ips = (ip,) if ip else ()
        eni = before.get("network_interface_id") or "its ENI"
        if action == DELETE:
            others = [a for a in takers.get(allocation or "", []) if a != rc["address"]]
            if others:
                findings.append(
                    Finding(
                        NOTE,
                        "eip-association-moved",
                        rc["address"],
                        f"The association of {ip or allocation} with {eni} is removed; "
                        f"{', '.join(others)} takes the same EIP, so the address stays in use.",
                        ips,
                    )
                )
                continue
            if allocation in retained:
                findings.append(
                    Finding(
                        WARNING,
                        "eip-association-removed",
                        rc["address"],
                        f"The association of {ip or allocation} with {eni} is removed with its "
                        "AZ: the EIP is retained, not released (see eip-retained), and no "
                        "traffic of this environment leaves from it after this apply.",
                        ips,
                    )
                )
                continue
            findings.append(
                Finding(
                    BLOCKER,
                    "eip-association-removed",
                    rc["address"],
                    f"The association of {ip or allocation} with {eni} is removed and nothing "
                    "in this plan takes that EIP over: the function's ENI in that subnet loses "
                    "its static IP, so its egress stops (or leaves from another address).",
                    ips,
                )
            )
        elif action == REPLACE:
            others = [a for a in redone if a != rc["address"]]
            findings.append(
                Finding(
                    WARNING,
                    "eip-association-replaced",
                    rc["address"],
                    f"{ip or 'The EIP'} is disassociated from {eni} and associated again"
                    f"{replace_why(rc)}: egress from that subnet has no static IP between the "
                    "two steps of this apply"
                    + (f" (also re-associated: {', '.join(others)})." if others else "."),
                    ips,
                )
            )
    return findings


def _accelerator_ips(values: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        ip
        for ip_set in values.get("ip_sets") or []
        if isinstance(ip_set, dict)
        for ip in ip_set.get("ip_addresses") or []
    )


def accelerator_findings(plan: PlanView) -> list[Finding]:
    findings = []
    for rc in plan.changes_of("aws_globalaccelerator_accelerator", REPLACE, DELETE):
        before = plan.before(rc)
        ips = _accelerator_ips(before)
        shown = " and ".join(ips) or "its two static anycast IPs"
        if plan.action(rc) == REPLACE:
            message = (
                f"Global Accelerator {before.get('name', '')} is replaced{replace_why(rc)}: "
                f"{shown} are released and the new accelerator gets two new addresses (known "
                "after apply). Vendors that call your webhooks at the old IPs fail."
            )
            code = "accelerator-replaced"
        else:
            message = (
                f"Global Accelerator {before.get('name', '')} is destroyed: {shown} are "
                "released for good; webhooks sent to them fail."
            )
            code = "accelerator-destroyed"
        findings.append(Finding(BLOCKER, code, rc["address"], message, ips))
    for rc in plan.changes_of("aws_globalaccelerator_accelerator", CREATE):
        findings.append(
            Finding(
                NOTE,
                "accelerator-created",
                rc["address"],
                "A new Global Accelerator: its two static IPs are known after apply; give them "
                "to the vendors that call your webhooks.",
            )
        )
    return findings


def eni_rotation_findings(plan: PlanView) -> list[Finding]:
    """eni-eip only: the EIPs sit on the function's Hyperplane ENIs, which Lambda replaces when
    the function's subnets or security groups change."""
    associations = plan.of_type("aws_eip_association")
    if not associations:
        return []
    functions = [
        rc
        for rc in plan.of_type("aws_lambda_function")
        if _first(plan.before(rc).get("vpc_config")).get("subnet_ids")
    ]
    findings = []
    users: dict[str, list[str]] = {}
    kept = _kept_eni_sets(plan, functions)
    for rc in functions:
        before = plan.before(rc)
        name = before.get("function_name", "")
        gap = _eni_gap(plan, associations, name)
        action = plan.action(rc)
        before_vpc = _first(before.get("vpc_config"))
        after_vpc = _first(plan.after(rc).get("vpc_config"))
        unknown_vpc = plan.unknown(rc).get("vpc_config")
        changed = _has_unknown(unknown_vpc) or _comparable(before_vpc) != _comparable(after_vpc)
        others = [other for other in kept.get(_eni_set(before_vpc), []) if other != name]
        if others and (action == DELETE or (action == REPLACE and not changed)):
            # Lambda keeps a shared ENI while any function on it is active: another function
            # of the same subnet + security-group set stays, so does every ENI and its EIP.
            verb = "replaced" if action == REPLACE else "destroyed"
            findings.append(
                Finding(
                    NOTE,
                    "function-on-shared-enis",
                    rc["address"],
                    f"The eni-eip function {name} is {verb}{replace_why(rc)}; its Hyperplane "
                    f"ENIs stay, since {', '.join(sorted(others))} keeps the same subnets and "
                    "security groups: no EIP moves.",
                )
            )
            continue
        if action == REPLACE:
            findings.append(
                Finding(
                    WARNING,
                    "function-replaced",
                    rc["address"],
                    f"The eni-eip function {name} is replaced{replace_why(rc)}: the new "
                    "function may get new Hyperplane ENIs, which have no Elastic IP. " + gap,
                )
            )
        elif action == UPDATE and changed:
            detail = _vpc_config_detail(before_vpc, after_vpc, unknown_vpc)
            effect, new_enis = _eni_effect(before_vpc, after_vpc, unknown_vpc)
            findings.append(
                Finding(
                    WARNING,
                    "function-vpc-config-changed",
                    rc["address"],
                    f"The eni-eip function {name} changes its vpc_config{detail}: {effect}"
                    + (f" {gap}" if new_enis else ""),
                )
            )
        elif action == DELETE:
            findings.append(
                Finding(
                    WARNING,
                    "function-destroyed",
                    rc["address"],
                    f"The eni-eip function {name} is destroyed; Lambda releases its ENIs "
                    "(slowly), and the EIP associations on them with them.",
                )
            )
        for resource_id in [
            *(before_vpc.get("security_group_ids") or []),
            *(before_vpc.get("subnet_ids") or []),
        ]:
            users.setdefault(resource_id, []).append(rc["address"])
    return findings + _network_replaced(plan, users)


def _network_replaced(plan: PlanView, users: Mapping[str, Sequence[str]]) -> list[Finding]:
    """One warning per replaced or destroyed security group or subnet of the eni-eip
    functions (`users`: its ID -> the functions on it). Replacing one always changes those
    functions' vpc_config too (new IDs), so their warnings carry the consequences; these name
    the cause."""
    findings = []
    for dep in plan.changes_of("aws_security_group", REPLACE, DELETE):
        dep_before = plan.before(dep)
        see = users.get(dep_before.get("id", ""))
        if see:
            verb = "replaced" if plan.action(dep) == REPLACE else "destroyed"
            findings.append(
                Finding(
                    WARNING,
                    "function-security-group-replaced",
                    dep["address"],
                    f"The eni-eip function's security group {dep_before.get('id')} is "
                    f"{verb}{replace_why(dep)}: Lambda shares ENIs per subnet and "
                    f"security-group set, so new ones are made (see {', '.join(see)}).",
                )
            )
    for dep in plan.changes_of("aws_subnet", REPLACE, DELETE):
        dep_before = plan.before(dep)
        see = users.get(dep_before.get("id", ""))
        if see:
            verb = "replaced" if plan.action(dep) == REPLACE else "destroyed"
            az = dep_before.get("availability_zone", "")
            findings.append(
                Finding(
                    WARNING,
                    "function-subnet-replaced",
                    dep["address"],
                    f"The eni-eip function's subnet {dep_before.get('id')} ({az}) is "
                    f"{verb}{replace_why(dep)}: its ENI goes with it and the EIP on that ENI "
                    f"is left unassociated (see {', '.join(see)}).",
                )
            )
    return findings


def _eni_set(vpc: Mapping[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(vpc.get("subnet_ids") or []), frozenset(vpc.get("security_group_ids") or [])


def _kept_eni_sets(
    plan: PlanView, functions: Sequence[Mapping[str, Any]]
) -> dict[tuple[frozenset[str], frozenset[str]], list[str]]:
    """(subnets, groups) -> the functions that keep that VPC config through the plan: neither
    replaced nor destroyed, and their vpc_config unchanged."""
    kept: dict[tuple[frozenset[str], frozenset[str]], list[str]] = {}
    for rc in functions:
        if plan.action(rc) in (REPLACE, DELETE, FORGET):
            continue
        before_vpc = _first(plan.before(rc).get("vpc_config"))
        after_vpc = _first(plan.after(rc).get("vpc_config"))
        if _has_unknown(plan.unknown(rc).get("vpc_config")):
            continue
        if _comparable(before_vpc) != _comparable(after_vpc):
            continue
        kept.setdefault(_eni_set(before_vpc), []).append(plan.before(rc).get("function_name", ""))
    return kept


def _variables(plan: PlanView, rc: Mapping[str, Any]) -> Mapping[str, Any]:
    """A function's environment variables, after the plan (before it, when it goes)."""
    environment = _first(plan.after(rc).get("environment") or plan.before(rc).get("environment"))
    return environment.get("variables") or {}


def _eni_gap(plan: PlanView, associations: Sequence[Mapping[str, Any]], function_name: str) -> str:
    """What happens to egress between Lambda's new ENIs and the EIPs being put on them."""
    redone = [rc["address"] for rc in associations if plan.action(rc) in (REPLACE, CREATE)]
    staying = [rc for rc in associations if plan.action(rc) not in (DELETE, FORGET)]
    if not staying:
        return (
            "Every EIP association goes in this plan (see the findings on them), so no static "
            "IP stays on the function's ENIs."
        )
    if redone:
        return (
            "Expect an egress gap from the moment Lambda switches to the new ENIs until the "
            f"EIP associations are redone later in this same apply ({', '.join(redone)})."
        )
    guarded: set[str] = set()
    canaries: set[str] = set()
    for rc in plan.of_type("aws_lambda_function"):
        variables = _variables(plan, rc)
        if AZ_VARIABLE in variables:
            canaries.add(str(plan.before(rc).get("function_name") or ""))
        elif plan.action(rc) not in (DELETE, FORGET):
            guarded.update(str(variables.get(FUNCTION_NAMES_VARIABLE, "")).split(","))
    guarded.discard("")
    # The egress canary sits on the same ENIs as the functions the guard watches.
    guard = function_name in guarded or (function_name in canaries and bool(guarded))
    fixer = (
        "the ENI guard re-associates them or the next deploy does"
        if guard
        else ("the next deploy re-associates them (this environment has no ENI guard)")
    )
    return (
        "This plan does not redo the EIP associations: the new ENIs have no EIP, so no egress, "
        f"until {fixer}."
    )


def _eni_effect(
    before: Mapping[str, Any], after: Mapping[str, Any], unknown: object
) -> tuple[str, bool]:
    """What a vpc_config change does to the Hyperplane ENIs, and whether new ones appear.

    Lambda keeps one ENI per subnet + security-group set (shared by every function with that
    set), so a subnet that stays with the same groups keeps its ENI, and its EIP.
    """
    unknown_keys = _first(unknown) if isinstance(unknown, list) else {}
    old_groups, new_groups = (
        set(before.get("security_group_ids") or []),
        set(after.get("security_group_ids") or []),
    )
    old_subnets, new_subnets = (
        set(before.get("subnet_ids") or []),
        set(after.get("subnet_ids") or []),
    )
    if (
        unknown_keys.get("security_group_ids")
        or unknown_keys.get("subnet_ids")
        or old_groups != new_groups
    ):
        return (
            "Lambda moves every subnet to new Hyperplane ENIs (a new subnet and security-group "
            "set), which have no Elastic IP.",
            True,
        )
    added, removed = sorted(new_subnets - old_subnets), sorted(old_subnets - new_subnets)
    if added:
        return (
            f"Lambda creates Hyperplane ENIs in {', '.join(added)}, which have no Elastic IP.",
            True,
        )
    if removed:
        return (
            f"Lambda stops using its ENIs in {', '.join(removed)} (an EIP on them is left "
            "unassociated); the other subnets keep their ENIs and EIPs.",
            False,
        )
    return "Lambda may replace its Hyperplane ENIs, which would have no Elastic IP.", True


def _comparable(vpc: Mapping[str, Any]) -> dict[str, Any]:
    """vpc_config without what is derived from the rest (vpc_id), sets as sorted lists."""
    return {
        k: sorted(v) if isinstance(v, list) else v for k, v in vpc.items() if k not in ("vpc_id",)
    }


def _vpc_config_detail(before: Mapping[str, Any], after: Mapping[str, Any], unknown: object) -> str:
    unknown_keys = _first(unknown) if isinstance(unknown, list) else {}
    parts = []
    for key, label in (("subnet_ids", "subnets"), ("security_group_ids", "security groups")):
        old = sorted(before.get(key) or [])
        if unknown_keys.get(key):
            parts.append(f"{label} {', '.join(old)} -> (known after apply)")
        elif sorted(after.get(key) or []) != old:
            parts.append(f"{label} {', '.join(old)} -> {', '.join(sorted(after.get(key) or []))}")
    return f" ({'; '.join(parts)})" if parts else ""


def _regional_allocations(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """A regional NAT Gateway's `availability_zone_address` blocks: AZ -> allocation IDs."""
    return {
        str(a.get("availability_zone") or a.get("availability_zone_id") or "?"): list(
            a.get("allocation_ids") or []
        )
        for a in values.get("availability_zone_address") or []
    }


def _any_unknown(marks: object) -> bool:
    """Whether an `after_unknown` value marks anything inside it as known only after apply."""
    if isinstance(marks, dict):
        return any(_any_unknown(v) for v in marks.values())
    if isinstance(marks, list):
        return any(_any_unknown(v) for v in marks)
    return marks is True


def _regional_ip(plan: PlanView, before: Mapping[str, Any], allocation: str) -> str | None:
    """The public IP of `allocation` on a regional gateway, from the gateway or the EIP."""
    for address in before.get("regional_nat_gateway_address") or []:
        if address.get("allocation_id") == allocation and address.get("public_ip"):
            return str(address["public_ip"])
    return ip_of_allocation(plan, allocation)


def regional_nat_findings(plan: PlanView) -> list[Finding]:
    """`availability_mode = "regional"`: one gateway carries every AZ's egress, so replacing
    or destroying it stops egress from all private subnets at once; an update that drops an
    AZ's address leaves that AZ without egress from its allow-listed IP."""
    findings = []
    for rc in plan.changes_of("aws_nat_gateway", REPLACE, DELETE, UPDATE):
        before, after = plan.before(rc), plan.after(rc)
        if before.get("availability_mode") != "regional":
            continue
        name = (before.get("tags") or {}).get("Name") or before.get("id", "")
        old = _regional_allocations(before)
        ips = tuple(
            ip for ids in old.values() for a in ids if (ip := _regional_ip(plan, before, a))
        )
        action = plan.action(rc)
        if action == UPDATE:
            new = _regional_allocations(after)
            if plan.unknown(rc).get("availability_zone_address") is True:
                continue
            for az, ids in sorted(old.items()):
                for allocation in ids:
                    if allocation in new.get(az, []):
                        continue
                    ip = _regional_ip(plan, before, allocation)
                    findings.append(
                        Finding(
                            WARNING,
                            "nat-gateway-address-removed",
                            rc["address"],
                            f"Regional NAT Gateway {name} stops using {ip or allocation} in "
                            f"{az}: traffic from {az} no longer leaves from that allow-listed "
                            "address (a manual-mode gateway does not serve an AZ without one).",
                            (ip,) if ip else (),
                        )
                    )
            continue
        listed = ", ".join(ips) or "its Elastic IPs"
        if action == REPLACE:
            if (
                _any_unknown(plan.unknown(rc).get("availability_zone_address"))
                or _regional_allocations(after) != old
            ):
                keeps = "its addresses change too (see the blockers and notes)"
            else:
                keeps = f"the new one takes the same Elastic IPs ({listed})"
            message = (
                f"Regional NAT Gateway {name} is replaced{replace_why(rc)}: every private "
                "subnet, in every AZ, routes through it, so the environment has no egress "
                f"between the delete and the new gateway becoming available (minutes); {keeps}."
            )
            code = "nat-gateway-replaced"
        else:
            message = (
                f"Regional NAT Gateway {name} is destroyed: every private subnet routed through "
                f"it, in every AZ, loses egress unless this plan routes them elsewhere; {listed} "
                "no longer carry their traffic."
            )
            code = "nat-gateway-removed"
        findings.append(Finding(WARNING, code, rc["address"], message, ips))
    return findings


def nat_findings(plan: PlanView) -> list[Finding]:
    """Zonal NAT Gateways (`per-az`, `single`) replaced or destroyed: their AZs lose egress."""
    findings = []
    for rc in plan.changes_of("aws_nat_gateway", REPLACE, DELETE):
        before, after = plan.before(rc), plan.after(rc)
        if before.get("availability_mode") == "regional":
            continue
        ip = before.get("public_ip")
        name = (before.get("tags") or {}).get("Name") or before.get("id", "")
        if plan.action(rc) == REPLACE:
            if plan.unknown(rc).get("allocation_id") or (
                after.get("allocation_id") != before.get("allocation_id")
            ):
                keeps = "its Elastic IP changes too (see the blockers)"
            else:
                keeps = f"the new one keeps the Elastic IP {ip}"
            message = (
                f"NAT Gateway {name} is replaced{replace_why(rc)}: the private subnets routed "
                f"through it have no egress between the delete and the new gateway becoming "
                f"available (minutes); {keeps}."
            )
            code = "nat-gateway-replaced"
        else:
            message = (
                f"NAT Gateway {name} is destroyed: the private subnets routed through it lose "
                f"egress unless this plan routes them elsewhere; {ip or 'its EIP'} no longer "
                "carries their traffic."
            )
            code = "nat-gateway-removed"
        findings.append(Finding(WARNING, code, rc["address"], message, (ip,) if ip else ()))
    return findings


def alb_findings(plan: PlanView) -> list[Finding]:
    """The ALB behind a Global Accelerator (its endpoint group's endpoint)."""
    accelerators = plan.of_type("aws_globalaccelerator_accelerator")
    if not accelerators:
        return []
    endpoints = {
        c.get("endpoint_id")
        for rc in plan.of_type("aws_globalaccelerator_endpoint_group")
        for c in plan.before(rc).get("endpoint_configuration") or []
        if isinstance(c, dict)
    }
    ips = tuple(ip for a in accelerators for ip in _accelerator_ips(plan.before(a)))
    return alb_gap_findings(
        plan,
        # No endpoint known (a new endpoint group): every ALB may be the one behind it.
        endpoints or None,
        front="the accelerator",
        stays=f"the accelerator's IPs ({', '.join(ips) or 'unchanged'})",
        until="the endpoint group points at a healthy new one",
        ips=ips,
    )


def alb_gap_findings(
    plan: PlanView,
    served: Collection[str] | None,
    *,
    front: str,
    stays: str,
    until: str,
    ips: tuple[str, ...],
) -> list[Finding]:
    """An application load balancer that `front` sends the webhooks to, replaced or destroyed:
    `front`'s addresses (`stays`) are untouched, but the webhooks fail for a while. `served` is
    the ARNs of the ALBs `front` points at, None when the plan does not say (then every ALB
    replaced or destroyed counts). Shared by the Global Accelerator and the nlb-eip rules."""
    findings = []
    for rc in plan.changes_of("aws_lb", REPLACE, DELETE):
        before = plan.before(rc)
        # An NLB is a front itself, with its own rule (staticip.modes.nlb_eip.rules).
        if (before.get("load_balancer_type") or "application") != "application":
            continue
        if served is not None and before.get("arn") not in served:
            continue
        verb = "replaced" if plan.action(rc) == REPLACE else "destroyed"
        message = (
            f"ALB {before.get('name', '')} behind {front} is {verb}{replace_why(rc)}: "
            f"{stays} stay, but webhooks fail from the old ALB's deletion until {until}."
        ) + deletion_protection_note(before, "alb_deletion_protection = false is deployed first")
        findings.append(Finding(WARNING, f"alb-{verb}", rc["address"], message, ips))
    return findings


def deletion_protection_note(before: Mapping[str, Any], until: str) -> str:
    """What deletion protection on a load balancer about to be deleted does to the apply;
    `until` says what turns it off."""
    if not before.get("enable_deletion_protection"):
        return ""
    return f" Deletion protection is on: the apply fails at the delete until {until}."


def _prefix_list_findings(plan: PlanView) -> list[Finding]:
    """A managed prefix list replaced or destroyed: its addresses may stay, but partners
    reference the list by its ID (security group rules, routes, a RAM share), and the ID goes."""
    findings = []
    for rc in plan.changes_of("aws_ec2_managed_prefix_list", REPLACE, DELETE):
        before = plan.before(rc)
        name, list_id = before.get("name", ""), before.get("id", "")
        cidrs = tuple(
            str(e["cidr"]).removesuffix("/32")
            for e in before.get("entry") or []
            if isinstance(e, dict) and e.get("cidr")
        )
        if plan.action(rc) == REPLACE:
            code = "prefix-list-replaced"
            message = (
                f"Managed prefix list {name} ({list_id}) is replaced{replace_why(rc)}: the new "
                "list gets a new ID, so partners' references to the old one (security group "
                "rules, routes) and its AWS RAM share stop working; share the new list and "
                "send them its ID (output *_prefix_list_id)."
            )
        else:
            code = "prefix-list-removed"
            message = (
                f"Managed prefix list {name} ({list_id}) is destroyed: partners that reference "
                "it lose these addresses from their rules; the IPs themselves are unaffected."
            )
        findings.append(Finding(WARNING, code, rc["address"], message, cidrs))
    return findings


def replace_why(rc: Mapping[str, Any]) -> str:
    reason = rc.get("action_reason")
    paths = [_path(p) for p in rc["change"].get("replace_paths", []) or []]
    if reason == "replace_by_request":
        return " (requested with -replace)"
    if reason == "replace_because_tainted":
        return " (tainted)"
    if paths:
        return f" (forced by {', '.join(paths)})"
    return ""


def _plan_findings(plan: PlanView) -> list[Finding]:
    findings = []
    if plan.document.get("errored"):
        findings.append(
            Finding(
                BLOCKER,
                "plan-errored",
                "",
                "Terraform could not finish this plan (errored): the changes listed are only "
                "what it planned before the error. See the plan's log, fix it and plan again.",
            )
        )
    elif plan.document.get("complete") is False:
        findings.append(
            Finding(
                NOTE,
                "plan-incomplete",
                "",
                "Terraform marked this plan incomplete (deferred changes): another plan and "
                "apply will follow.",
            )
        )
    return findings


COMMON_RULES = (_plan_findings, _eip_findings, _association_findings, _prefix_list_findings)
"""Rules for what every environment has; each mode lists its own in
`staticip/modes/<mode>/rules.py` (some defined here), and `staticip.review.mode_rules` runs
both."""
