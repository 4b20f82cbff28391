"""`staticip review`: what a Terraform plan does to the allow-listed IPs, for a pull request.

Reads plans as `terraform show -json PLANFILE` prints them (one per environment) and reports,
per environment, what Terraform will add, change, replace and destroy, and the static-IP
impact, loud where it must be:

- blockers: an `aws_eip` destroyed or replaced (its address is released for good), an
  `aws_eip_association` removed with nothing taking its EIP over, a Global Accelerator replaced
  or destroyed (its two anycast IPs change), and a plan Terraform could not finish;
- warnings: the eni-eip function's `vpc_config` changing, or its security group or subnets being
  replaced (Lambda moves to new Hyperplane ENIs, which have no EIP until the associations are
  redone), an EIP association moving to another ENI, a NAT Gateway replaced or removed (egress
  gap), the ALB behind an accelerator replaced (ingress gap);
- the fixed monthly cost before and after, priced by `staticip.cost` from the plan's prior state
  and planned values.

A blocker makes the exit code 1 so a required check stops the merge; `allow_ip_change` turns the
IP blockers into acknowledged notes (a failed plan stays a blocker). Input problems (unreadable
file, malformed JSON, JSON that is not a plan) are exit 2 with one line.

The plan JSON format: https://developer.hashicorp.com/terraform/internals/json-format
(`resource_changes[].change.actions`, `before`/`after`/`after_unknown`, `replace_paths`,
`action_reason`, `prior_state`, `planned_values`, `errored`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from staticip.cost import price_stack
from staticip.prices import Prices, PricesError, load_prices
from staticip.result import EXIT_OK, EXIT_PROBLEM, CommandResult, usage_error

FORMATS = ("markdown", "json")

BLOCKER = "blocker"
WARNING = "warning"
NOTE = "note"

CREATE = "create"
UPDATE = "update"
REPLACE = "replace"
DELETE = "delete"
NO_OP = "no-op"
READ = "read"
FORGET = "forget"
#: The actions counted in the summary, in its column order.
COUNTED = {CREATE: "add", UPDATE: "change", REPLACE: "replace", DELETE: "destroy"}

#: Only Terraform's JSON plan format 1.x is understood (its major version changes only for
#: incompatible changes; the format's documentation says to reject other majors).
SUPPORTED_FORMAT_MAJOR = "1"
#: `ENV=PATH` names the environment explicitly; the name follows staticip.toml's rule.
_NAMED_ARGUMENT = re.compile(r"^([a-z][a-z0-9-]{0,30})=(.+)$")
#: Rows of the resource list per environment; a PR comment is limited to 65,536 characters.
MAX_RESOURCE_ROWS = 150


class PlanError(ValueError):
    """An input that is not a readable Terraform JSON plan; `str()` is one line for the user."""


# --- reading plans ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    """One plan file and the environment it belongs to."""

    environment: str
    path: Path


def environment_from_path(path: Path) -> str:
    """`prod.json` and `prod.plan.json` are environment `prod`."""
    name = path.name
    for suffix in (".plan.json", ".json"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return path.stem or name


def parse_plan_argument(argument: str) -> PlanInput:
    """`ENV=PATH` or `PATH` (environment from the file name, see `environment_from_path`).

    A path that exists as given is always a path, even if it contains `=`.
    """
    match = _NAMED_ARGUMENT.match(argument)
    if match and not Path(argument).exists():
        return PlanInput(match.group(1), Path(match.group(2)))
    path = Path(argument)
    return PlanInput(environment_from_path(path), path)


def load_plan(path: Path) -> dict[str, Any]:
    """Read and check one `terraform show -json` plan; raise `PlanError` with one line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise PlanError(f"{path}: is a directory, not a plan JSON file") from None
    except UnicodeDecodeError:
        raise PlanError(
            f"{path}: not UTF-8 text; is it the binary plan file? "
            "Review `terraform show -json PLANFILE > plan.json` instead"
        ) from None
    except OSError as exc:
        raise PlanError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    return check_plan(document, str(path))


def check_plan(document: object, source: str) -> dict[str, Any]:
    """`document` if it is a Terraform JSON plan of a supported format, else `PlanError`."""
    how = "make one with `terraform show -json PLANFILE`"
    if not isinstance(document, dict):
        raise PlanError(f"{source}: not a Terraform plan (a JSON {_json_type(document)}); {how}")
    version = document.get("format_version")
    if not isinstance(version, str):
        raise PlanError(f"{source}: not a Terraform plan (no format_version); {how}")
    if version.split(".")[0] != SUPPORTED_FORMAT_MAJOR:
        raise PlanError(f"{source}: plan format_version {version} is not supported (expected 1.x)")
    if "resource_changes" not in document and "planned_values" not in document:
        if "values" in document:
            raise PlanError(
                f"{source}: this is Terraform state (`terraform show -json` without a plan "
                f"file), not a plan; {how}"
            )
        raise PlanError(f"{source}: not a Terraform plan (no resource_changes); {how}")
    changes = document.get("resource_changes", [])
    if not isinstance(changes, list) or not all(_is_change(c) for c in changes):
        raise PlanError(f"{source}: resource_changes is not a list of changes; {how}")
    return document


def _is_change(item: object) -> bool:
    """The fields of a resource change the review relies on, with the right types."""
    if not isinstance(item, dict) or not isinstance(item.get("address"), str):
        return False
    change = item.get("change")
    return isinstance(change, dict) and isinstance(change.get("actions"), list)


def _json_type(value: object) -> str:
    names = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


# --- the review model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One resource instance Terraform will act on."""

    address: str
    type: str
    action: str
    """create, update, replace, delete, forget (or Terraform's actions joined by '+')."""
    reason: str | None = None
    """Terraform's `action_reason`, e.g. replace_because_cannot_update."""
    replace_paths: tuple[str, ...] = ()
    """The attributes that force a replacement, as dotted paths."""
    deposed: bool = False


@dataclass(frozen=True)
class Finding:
    """One static-IP consequence of a plan."""

    severity: str
    """blocker, warning or note."""
    code: str
    """Stable identifier, e.g. `eip-released`, for tooling and tests."""
    address: str
    message: str
    ips: tuple[str, ...] = ()
    """The allow-listed addresses concerned, where the plan knows them."""
    acknowledged: bool = False
    """A blocker accepted with --allow-ip-change (reported, exit code 0)."""


@dataclass(frozen=True)
class CostChange:
    """Fixed monthly cost (and per-GB rate) of what is in the state now and after the apply."""

    currency: str
    fixed_monthly_before: float
    fixed_monthly_after: float | None
    """None when the plan failed: its planned values are partial."""
    per_gb_before: float
    per_gb_after: float | None
    items_before: dict[str, int]
    """Priced item -> quantity, e.g. {"NAT Gateway": 2}."""
    items_after: dict[str, int] | None
    notes: tuple[str, ...] = ()

    @property
    def delta(self) -> float | None:
        if self.fixed_monthly_after is None:
            return None
        return self.fixed_monthly_after - self.fixed_monthly_before


@dataclass(frozen=True)
class EnvironmentReview:
    """The review of one environment's plan."""

    environment: str
    source: str
    terraform_version: str | None
    errored: bool
    counts: dict[str, int]
    """add, change, replace, destroy (a replacement counts once, under replace)."""
    changes: list[Change]
    unchanged: int
    findings: list[Finding]
    cost: CostChange

    def of(self, severity: str, *, acknowledged: bool | None = None) -> list[Finding]:
        return [
            f
            for f in self.findings
            if f.severity == severity and (acknowledged is None or f.acknowledged == acknowledged)
        ]


@dataclass(frozen=True)
class Review:
    """Every environment's review and what it means for the merge."""

    environments: list[EnvironmentReview]
    allow_ip_change: bool = False

    @property
    def blockers(self) -> list[tuple[str, Finding]]:
        """Blockers not acknowledged: each one fails the check."""
        return [
            (env.environment, f)
            for env in self.environments
            for f in env.of(BLOCKER, acknowledged=False)
        ]

    @property
    def exit_code(self) -> int:
        return EXIT_PROBLEM if self.blockers else EXIT_OK


# --- reading one plan ---------------------------------------------------------------------------


def _resources(module: Mapping[str, Any] | None) -> Iterator[Mapping[str, Any]]:
    """Every resource of a values representation's module and its child modules."""
    if not module:
        return
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _resources(child)


def _action(actions: Sequence[str]) -> str:
    if "delete" in actions and "create" in actions:
        # ["delete", "create"] or ["create", "delete"] (create_before_destroy).
        return REPLACE
    if len(actions) == 1:
        return actions[0]
    return "+".join(actions)


def _path(steps: Sequence[object]) -> str:
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps).lstrip(".")


def _has_unknown(value: object) -> bool:
    """Whether an `after_unknown` subtree marks anything unknown."""
    if value is True:
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False


def _first(value: object) -> dict[str, Any]:
    """The object of a single nested block (a list of at most one object in plan JSON)."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return {}


class _Plan:
    """Indexes over one plan document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.raw_changes: list[Mapping[str, Any]] = list(document.get("resource_changes", []))
        self.managed = [rc for rc in self.raw_changes if rc.get("mode", "managed") == "managed"]

    def of_type(self, rtype: str) -> list[Mapping[str, Any]]:
        return [rc for rc in self.managed if rc.get("type") == rtype]

    @staticmethod
    def action(rc: Mapping[str, Any]) -> str:
        return _action(rc["change"].get("actions", []))

    @staticmethod
    def before(rc: Mapping[str, Any]) -> dict[str, Any]:
        return rc["change"].get("before") or {}

    @staticmethod
    def after(rc: Mapping[str, Any]) -> dict[str, Any]:
        return rc["change"].get("after") or {}

    @staticmethod
    def unknown(rc: Mapping[str, Any]) -> dict[str, Any]:
        value = rc["change"].get("after_unknown")
        return value if isinstance(value, dict) else {}

    def changes_of(self, rtype: str, *actions: str) -> list[Mapping[str, Any]]:
        return [rc for rc in self.of_type(rtype) if self.action(rc) in actions]

    def provider_region(self) -> str | None:
        """The default (unaliased) AWS provider's region, when it is a constant."""
        config = self.document.get("configuration", {}).get("provider_config", {})
        aws = config.get("aws", {})
        return aws.get("expressions", {}).get("region", {}).get("constant_value")


def _to_change(rc: Mapping[str, Any]) -> Change:
    return Change(
        address=rc["address"],
        type=rc.get("type", ""),
        action=_Plan.action(rc),
        reason=rc.get("action_reason"),
        replace_paths=tuple(_path(p) for p in rc["change"].get("replace_paths", []) or []),
        deposed=bool(rc.get("deposed")),
    )


# --- the rules ----------------------------------------------------------------------------------


def _eip_label(values: Mapping[str, Any]) -> str:
    ip = values.get("public_ip") or "(address unknown)"
    az = (values.get("tags") or {}).get("staticip:az")
    return f"{ip} ({az})" if az else ip


def _eip_findings(plan: _Plan) -> list[Finding]:
    findings = []
    for rc in plan.changes_of("aws_eip", REPLACE, DELETE):
        before = plan.before(rc)
        ip = before.get("public_ip")
        label = _eip_label(before)
        allocation = before.get("allocation_id") or before.get("id") or "?"
        if plan.action(rc) == REPLACE:
            why = _replace_why(rc)
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
                    " Its resource left the configuration, so prevent_destroy (protect_ips) "
                    "no longer guards it."
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
        findings.append(
            Finding(
                NOTE,
                "eip-forgotten",
                rc["address"],
                f"Elastic IP {_eip_label(before)} leaves Terraform's state but stays allocated "
                "in AWS (and billed).",
                tuple(filter(None, [before.get("public_ip")])),
            )
        )
    return findings


def _ip_of_allocation(plan: _Plan, allocation: str | None) -> str | None:
    for rc in plan.of_type("aws_eip"):
        before = plan.before(rc)
        if allocation and before.get("allocation_id") == allocation:
            return before.get("public_ip")
    return None


def _association_findings(plan: _Plan) -> list[Finding]:
    findings = []
    # Whatever puts a known allocation on something after the apply takes an EIP over.
    takers: dict[str, list[str]] = {}
    for rtype in ("aws_eip_association", "aws_nat_gateway"):
        for rc in plan.changes_of(rtype, CREATE, REPLACE, UPDATE, NO_OP):
            allocation = plan.after(rc).get("allocation_id")
            if allocation:
                takers.setdefault(allocation, []).append(rc["address"])
    redone = [rc["address"] for rc in plan.changes_of("aws_eip_association", REPLACE, CREATE)]
    for rc in plan.of_type("aws_eip_association"):
        action = plan.action(rc)
        before = plan.before(rc)
        allocation = before.get("allocation_id")
        ip = before.get("public_ip") or _ip_of_allocation(plan, allocation)
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
                    f"{_replace_why(rc)}: egress from that subnet has no static IP between the "
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


def _accelerator_findings(plan: _Plan) -> list[Finding]:
    findings = []
    for rc in plan.changes_of("aws_globalaccelerator_accelerator", REPLACE, DELETE):
        before = plan.before(rc)
        ips = _accelerator_ips(before)
        shown = " and ".join(ips) or "its two static anycast IPs"
        if plan.action(rc) == REPLACE:
            message = (
                f"Global Accelerator {before.get('name', '')} is replaced{_replace_why(rc)}: "
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


def _eni_rotation_findings(plan: _Plan) -> list[Finding]:
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
    for rc in functions:
        before = plan.before(rc)
        name = before.get("function_name", "")
        gap = _eni_gap(plan, associations, name)
        action = plan.action(rc)
        before_vpc = _first(before.get("vpc_config"))
        after_vpc = _first(plan.after(rc).get("vpc_config"))
        unknown_vpc = plan.unknown(rc).get("vpc_config")
        changed = _has_unknown(unknown_vpc) or _comparable(before_vpc) != _comparable(after_vpc)
        if action == REPLACE:
            findings.append(
                Finding(
                    WARNING,
                    "function-replaced",
                    rc["address"],
                    f"The eni-eip function {name} is replaced{_replace_why(rc)}: the new "
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
        # Replacing these always changes the function's vpc_config too (new IDs), so the
        # warning above carries the consequences; these name the cause.
        see = f"see {rc['address']}"
        groups = set(before_vpc.get("security_group_ids") or [])
        subnets = set(before_vpc.get("subnet_ids") or [])
        for dep in plan.changes_of("aws_security_group", REPLACE, DELETE):
            dep_before = plan.before(dep)
            if dep_before.get("id") in groups:
                verb = "replaced" if plan.action(dep) == REPLACE else "destroyed"
                findings.append(
                    Finding(
                        WARNING,
                        "function-security-group-replaced",
                        dep["address"],
                        f"The eni-eip function's security group {dep_before.get('id')} is "
                        f"{verb}{_replace_why(dep)}: Lambda shares ENIs per subnet and "
                        f"security-group set, so new ones are made ({see}).",
                    )
                )
        for dep in plan.changes_of("aws_subnet", REPLACE, DELETE):
            dep_before = plan.before(dep)
            if dep_before.get("id") in subnets:
                verb = "replaced" if plan.action(dep) == REPLACE else "destroyed"
                az = dep_before.get("availability_zone", "")
                findings.append(
                    Finding(
                        WARNING,
                        "function-subnet-replaced",
                        dep["address"],
                        f"The eni-eip function's subnet {dep_before.get('id')} ({az}) is "
                        f"{verb}{_replace_why(dep)}: its ENI goes with it and the EIP on that ENI "
                        f"is left unassociated ({see}).",
                    )
                )
    return findings


def _eni_gap(plan: _Plan, associations: Sequence[Mapping[str, Any]], function_name: str) -> str:
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
    guard = any(
        plan.action(rc) not in (DELETE, FORGET)
        and _first(plan.after(rc).get("environment") or plan.before(rc).get("environment"))
        .get("variables", {})
        .get("FUNCTION_NAME")
        == function_name
        for rc in plan.of_type("aws_lambda_function")
    )
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


def _nat_findings(plan: _Plan) -> list[Finding]:
    findings = []
    for rc in plan.changes_of("aws_nat_gateway", REPLACE, DELETE):
        before, after = plan.before(rc), plan.after(rc)
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
                f"NAT Gateway {name} is replaced{_replace_why(rc)}: the private subnets routed "
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


def _alb_findings(plan: _Plan) -> list[Finding]:
    accelerators = plan.of_type("aws_globalaccelerator_accelerator")
    if not accelerators:
        return []
    endpoints = {
        c.get("endpoint_id")
        for rc in plan.of_type("aws_globalaccelerator_endpoint_group")
        for c in plan.before(rc).get("endpoint_configuration") or []
        if isinstance(c, dict)
    }
    findings = []
    for rc in plan.changes_of("aws_lb", REPLACE, DELETE):
        before = plan.before(rc)
        if endpoints and before.get("arn") not in endpoints:
            continue
        ips = tuple(ip for a in accelerators for ip in _accelerator_ips(plan.before(a)))
        verb = "replaced" if plan.action(rc) == REPLACE else "destroyed"
        message = (
            f"ALB {before.get('name', '')} behind the accelerator is {verb}{_replace_why(rc)}: "
            f"the accelerator's IPs ({', '.join(ips) or 'unchanged'}) stay, but webhooks fail "
            "from the old ALB's deletion until the endpoint group points at a healthy new one."
        )
        if before.get("enable_deletion_protection"):
            message += (
                " Deletion protection is on: the apply fails at the delete until "
                "alb_deletion_protection = false is deployed first."
            )
        findings.append(Finding(WARNING, f"alb-{verb}", rc["address"], message, ips))
    return findings


def _replace_why(rc: Mapping[str, Any]) -> str:
    reason = rc.get("action_reason")
    paths = [_path(p) for p in rc["change"].get("replace_paths", []) or []]
    if reason == "replace_by_request":
        return " (requested with -replace)"
    if reason == "replace_because_tainted":
        return " (tainted)"
    if paths:
        return f" (forced by {', '.join(paths)})"
    return ""


def _plan_findings(plan: _Plan) -> list[Finding]:
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


# --- cost ---------------------------------------------------------------------------------------


def stack_shape(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Adapter to the `cdk.tf.json` shape that `staticip.cost.price_stack` prices:
    `{"resource": {type: {address: attributes}}, "data": {...}}` from a plan's values
    representation (`prior_state.values` or `planned_values`). Attribute names are the same in
    both (the provider schema's), so the price logic stays in one place."""
    shape: dict[str, dict[str, dict[str, Any]]] = {"resource": {}, "data": {}}
    for resource in _resources((values or {}).get("root_module")):
        kind = "data" if resource.get("mode") == "data" else "resource"
        by_type = shape[kind].setdefault(resource.get("type", ""), {})
        by_type[resource.get("address", "")] = resource.get("values") or {}
    return shape


def _cost(plan: _Plan, prices: Prices) -> CostChange:
    before_values = (plan.document.get("prior_state") or {}).get("values")
    after_shape = stack_shape(plan.document.get("planned_values"))
    before_shape = stack_shape(before_values)
    # Data sources read during the plan are in the prior state; planned_values leaves them out.
    # A reused EIP (data.aws_eip) is billed all the same, so carry over those still configured.
    configured = {
        r.get("address")
        for r in plan.document.get("configuration", {}).get("root_module", {}).get("resources", [])
    }
    for rtype, by_address in before_shape["data"].items():
        for address, attrs in by_address.items():
            if address in configured and address not in after_shape["data"].get(rtype, {}):
                after_shape["data"].setdefault(rtype, {})[address] = attrs
    before_items = price_stack(before_shape, prices)
    after_items = price_stack(after_shape, prices)
    notes = []
    region = plan.provider_region()
    if region and region != prices.region:
        notes.append(
            f"the plan's region is {region} but the prices are for {prices.region}: "
            "pass --prices with that region's figures"
        )
    if not before_values:
        notes.append("no prior state: everything is new")
    errored = bool(plan.document.get("errored"))
    if errored:
        notes.append("the plan failed, so the cost after it is not known")
    return CostChange(
        currency=prices.currency,
        fixed_monthly_before=sum(i.fixed_monthly for i in before_items),
        fixed_monthly_after=None if errored else sum(i.fixed_monthly for i in after_items),
        per_gb_before=sum(i.per_gb for i in before_items),
        per_gb_after=None if errored else sum(i.per_gb for i in after_items),
        items_before={i.item: i.quantity for i in before_items},
        items_after=None if errored else {i.item: i.quantity for i in after_items},
        notes=tuple(notes),
    )


# --- putting it together ------------------------------------------------------------------------


def review_plan(
    environment: str,
    document: Mapping[str, Any],
    prices: Prices,
    *,
    source: str = "",
    allow_ip_change: bool = False,
) -> EnvironmentReview:
    """Review one environment's plan (as `check_plan` accepts it)."""
    plan = _Plan(document)
    changes, unchanged = [], 0
    counts = dict.fromkeys(COUNTED.values(), 0)
    for rc in plan.managed:
        change = _to_change(rc)
        if change.action == NO_OP:
            unchanged += 1
            continue
        if change.action == READ:
            continue
        changes.append(change)
        if change.action in COUNTED:
            counts[COUNTED[change.action]] += 1
    findings = (
        _plan_findings(plan)
        + _eip_findings(plan)
        + _association_findings(plan)
        + _accelerator_findings(plan)
        + _eni_rotation_findings(plan)
        + _nat_findings(plan)
        + _alb_findings(plan)
    )
    if allow_ip_change:
        findings = [
            Finding(f.severity, f.code, f.address, f.message, f.ips, acknowledged=True)
            if f.severity == BLOCKER and f.code != "plan-errored"
            else f
            for f in findings
        ]
    order = {BLOCKER: 0, WARNING: 1, NOTE: 2}
    findings.sort(key=lambda f: (order[f.severity], f.acknowledged, f.address))
    return EnvironmentReview(
        environment=environment,
        source=source,
        terraform_version=document.get("terraform_version"),
        errored=bool(document.get("errored")),
        counts=counts,
        changes=changes,
        unchanged=unchanged,
        findings=findings,
        cost=_cost(plan, prices),
    )


def review_plans(
    plans: Sequence[tuple[str, Mapping[str, Any], str]],
    prices: Prices,
    *,
    allow_ip_change: bool = False,
) -> Review:
    """Review `(environment, plan document, source)` triples, in the order given."""
    return Review(
        [
            review_plan(env, doc, prices, source=src, allow_ip_change=allow_ip_change)
            for env, doc, src in plans
        ],
        allow_ip_change,
    )


def run_review(
    arguments: Sequence[str],
    output_format: str = "markdown",
    *,
    allow_ip_change: bool = False,
    prices_path: str | Path | None = None,
) -> CommandResult:
    """`staticip review PLAN_JSON... [--format markdown|json] [--allow-ip-change]`.

    Exit 1 when a blocker is not acknowledged, 0 otherwise; 2 with one line for an input problem
    (nothing is reported then: a partial report could hide the environment that failed).
    """
    if output_format not in FORMATS:
        return usage_error(f"unknown format '{output_format}'; use one of {', '.join(FORMATS)}")
    if not arguments:
        return usage_error("no plan files given; pass the output of `terraform show -json`")
    try:
        prices = load_prices(prices_path)
        inputs = [parse_plan_argument(a) for a in arguments]
        seen: dict[str, Path] = {}
        for item in inputs:
            if item.environment in seen:
                raise PlanError(
                    f"{item.path}: environment '{item.environment}' already comes from "
                    f"{seen[item.environment]}; name them ENV=PATH"
                )
            seen[item.environment] = item.path
        plans = [(i.environment, load_plan(i.path), str(i.path)) for i in inputs]
    except (PlanError, PricesError) as exc:
        return usage_error(str(exc))
    review = review_plans(plans, prices, allow_ip_change=allow_ip_change)
    data = review_json(review)
    # The CLI prints the text with its own final newline.
    text = render_markdown(review).rstrip("\n") if output_format == "markdown" else ""
    return CommandResult(review.exit_code, text, data)


def review_json(review: Review) -> dict[str, Any]:
    """The review as plain data (what `--format json` prints)."""
    return {
        "exit_code": review.exit_code,
        "allow_ip_change": review.allow_ip_change,
        "blockers": len(review.blockers),
        "environments": [
            {
                "environment": env.environment,
                "source": env.source,
                "terraform_version": env.terraform_version,
                "errored": env.errored,
                "counts": env.counts,
                "unchanged": env.unchanged,
                "changes": [asdict(c) for c in env.changes],
                "findings": [asdict(f) for f in env.findings],
                "cost": asdict(env.cost) | {"delta": env.cost.delta},
            }
            for env in review.environments
        ],
    }


# --- Markdown -----------------------------------------------------------------------------------

_ICONS = {BLOCKER: ":no_entry:", WARNING: ":warning:", NOTE: ":information_source:"}


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell and outside HTML."""
    # `<` is enough to stop HTML (GitHub renders tags in comments); `>` mid-line is plain text.
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "&lt;")


def _money(value: float | None, currency: str) -> str:
    if value is None:
        return "unknown"
    sign = "-" if value < 0 else ""
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{symbol}{abs(value):,.2f}"


def render_markdown(review: Review) -> str:
    """The report for a pull-request comment."""
    lines = ["## Terraform plan review: static IPs", ""]
    blockers = review.blockers
    acknowledged = [
        (e.environment, f) for e in review.environments for f in e.of(BLOCKER, acknowledged=True)
    ]
    if blockers:
        envs = ", ".join(dict.fromkeys(env for env, _ in blockers))
        lines.append(
            f"{_ICONS[BLOCKER]} **{len(blockers)} blocker(s)** in {envs}: this change releases "
            "or moves allow-listed IPs (or its plan failed). The check fails; if the IP change "
            "is deliberate, re-run the review with `--allow-ip-change`."
        )
    elif acknowledged:
        lines.append(
            f":ballot_box_with_check: {len(acknowledged)} IP change(s) acknowledged with "
            "`--allow-ip-change`: tell the vendors before this is applied."
        )
    else:
        lines.append(":white_check_mark: No allow-listed IP is released or replaced.")
    lines += [
        "",
        "| environment | add | change | replace | destroy | blockers | warnings | "
        "fixed cost / month |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for env in review.environments:
        c = env.cost
        cost = f"{_money(c.fixed_monthly_before, c.currency)} → "
        cost += f"{_money(c.fixed_monthly_after, c.currency)}"
        lines.append(
            f"| {_cell(env.environment)} | {env.counts['add']} | {env.counts['change']} | "
            f"{env.counts['replace']} | {env.counts['destroy']} | "
            f"{len(env.of(BLOCKER, acknowledged=False))} | {len(env.of(WARNING))} | {cost} |"
        )
    for env in review.environments:
        lines += ["", *_environment_markdown(env)]
    return "\n".join(lines) + "\n"


def _environment_markdown(env: EnvironmentReview) -> list[str]:
    title = f"### {_cell(env.environment)}"
    if env.errored:
        title += " (plan failed)"
    lines = [title, "", "**Static-IP impact**", ""]
    if not env.findings:
        lines.append("- none: no Elastic IP, association, NAT Gateway, accelerator or ALB change")
    for f in env.findings:
        label = "acknowledged" if f.acknowledged else f.severity
        where = f" `{f.address}`" if f.address else ""
        lines.append(f"- {_ICONS[f.severity]} **{label}**{where}: {_cell(f.message)}")
    c = env.cost
    delta = c.delta
    if delta is None:
        change = ""
    elif abs(delta) < 0.005:
        change = " (no change)"
    else:
        change = f" ({'+' if delta > 0 else ''}{_money(delta, c.currency)})"
    per_gb = ""
    if c.per_gb_after is not None and c.per_gb_before != c.per_gb_after:
        per_gb = f"; per GB processed: {c.per_gb_before:.3f} → {c.per_gb_after:.3f}"
    lines += [
        "",
        f"**Monthly cost** (fixed): {_money(c.fixed_monthly_before, c.currency)} → "
        f"{_money(c.fixed_monthly_after, c.currency)}{change}{per_gb}.",
    ]
    after = c.items_after or {}
    items = sorted(set(c.items_before) | set(after))
    if items:
        lines.append(
            "Priced: "
            + "; ".join(
                f"{_cell(i)} {c.items_before.get(i, 0)} → "
                + (str(after.get(i, 0)) if c.items_after is not None else "?")
                for i in items
            )
            + "."
        )
    for note in c.notes:
        lines.append(f"Note: {_cell(note)}.")
    total = len(env.changes)
    summary = f"Resources: {total} to act on, {env.unchanged} unchanged"
    lines += ["", "<details><summary>" + _cell(summary) + "</summary>", ""]
    if env.changes:
        lines += ["| action | address | why |", "|---|---|---|"]
        for change in env.changes[:MAX_RESOURCE_ROWS]:
            why = ", ".join(
                filter(
                    None,
                    [
                        change.reason,
                        "forced by " + ", ".join(change.replace_paths)
                        if change.replace_paths
                        else "",
                        "deposed object" if change.deposed else "",
                    ],
                )
            )
            lines.append(f"| {change.action} | `{change.address}` | {_cell(why)} |")
        if total > MAX_RESOURCE_ROWS:
            lines.append(f"| … | {total - MAX_RESOURCE_ROWS} more | |")
    else:
        lines.append("No changes.")
    lines += ["", "</details>"]
    return lines
