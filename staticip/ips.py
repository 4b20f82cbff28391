"""`staticip ips <environment>`: the addresses to hand to a vendor, egress and ingress.

From AWS (default) the egress IPs are the environment's allow-listed EIPs found by their tags
(`staticip.eips`) and the ingress IPs the two addresses of its tagged accelerator, each checked:
an EIP that is missing for one of the environment's AZs or is not associated with anything, or
an accelerator that is missing or disabled, is a problem (exit 1). With `--from-outputs` they
come from Terraform's outputs instead (`terraform output -json`, or a state file), which needs no
AWS credentials but cannot tell whether an address is attached.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError, ProfileNotFound

from staticip import aws, ipam, modes
from staticip.config import ConfigError, EnvironmentConfig, load_config
from staticip.eips import AllowListedEip, find_allow_listed_eips
from staticip.modes import nlb_eip
from staticip.modes.global_accelerator import GlobalAccelerator
from staticip.names import (
    AZ_TAG,
    EGRESS,
    INGRESS,
    INGRESS_IPS_OUTPUT,
    environment_tags,
    ips_by_az_output,
    local_state_file,
    prefix_list_id_output,
    prefix_list_name,
)
from staticip.result import EXIT_OK, EXIT_PROBLEM, CommandResult, usage_error
from staticip.table import render_table

FORMATS = ("text", "json", "csv", "cidr")
#: Read the outputs from the environment's local state file at the repository root.
FROM_STATE = "state"

ATTACHED = "attached"
UNATTACHED = "unattached"
DISABLED = "disabled"
#: Tagged allow-listed for the environment but used by none of its AZs: an EIP that Terraform
#: forgot rather than released when it left the configuration (`stacks/retained_ips.py`).
RETAINED = "retained, not in use"
#: Direction -> the environment key that adopts an existing EIP for an AZ.
REUSE_KEYS = {EGRESS: "reuse_eip_allocation_ids", INGRESS: "ingress_reuse_eip_allocation_ids"}
#: Outputs say which addresses Terraform made, not whether they are in use.
UNCHECKED = "not checked (outputs)"

CSV_COLUMNS = ("direction", "az", "ip", "cidr", "status", "attached_to")


class OutputsError(ValueError):
    """Unusable Terraform outputs; `str()` is the one line to show."""


@dataclass(frozen=True)
class StaticIp:
    """One address a vendor allow-lists."""

    direction: str
    """`egress` (the function's traffic leaves from it) or `ingress` (vendors call it)."""
    ip: str
    az: str | None
    """The AZ of an egress EIP; None for the accelerator's anycast addresses."""
    status: str
    attached_to: str | None = None
    """The network interface an EIP is on, or the accelerator's name."""

    @property
    def cidr(self) -> str:
        return f"{self.ip}/32"


@dataclass
class IpsReport:
    environment: str
    source: str
    """`aws`, or where the outputs came from."""
    region: str | None = None
    account: str | None = None
    ips: list[StaticIp] = field(default_factory=list)
    prefix_lists: dict[str, str] = field(default_factory=dict)
    """Direction -> managed prefix list ID."""
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    retained: list[str] = field(default_factory=list)
    """For each retained EIP, the config line that adopts it again."""
    ipam_pool: str | None = None
    """The environment's `ipam_pool_id`."""
    ipam_cidrs: list[str] = field(default_factory=list)
    """The CIDRs provisioned to that pool, when AWS could be asked."""

    @property
    def in_use(self) -> list[StaticIp]:
        """The addresses traffic uses: what a vendor allow-lists."""
        return [ip for ip in self.ips if ip.status != RETAINED]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class IpsClients:
    """`ec2` and `sts` in the environment's region, `globalaccelerator` in us-west-2."""

    ec2: BaseClient
    sts: BaseClient
    globalaccelerator: BaseClient | None = None

    @classmethod
    def create(cls, region: str, profile: str | None, env: EnvironmentConfig) -> IpsClients:
        role = env.assume_role_arn
        mode = env.ingress_mode
        ingress = mode is not None and "globalaccelerator" in mode.services(env)
        return cls(
            ec2=aws.client("ec2", region, profile, role),
            sts=aws.client("sts", region, profile, role),
            globalaccelerator=aws.client(
                "globalaccelerator", aws.GLOBAL_ACCELERATOR_REGION, profile, role
            )
            if ingress
            else None,
        )


# --- from AWS ------------------------------------------------------------------------------------


def from_aws(clients: IpsClients, project: str, env: EnvironmentConfig) -> IpsReport:
    """Check the credentials' account, then find and judge the environment's addresses.
    Raises `aws.WrongAccountError` before any other call when the account is not the
    environment's `account_id`."""
    account = aws.check_account(clients.sts, env.account_id, env.name)
    report = IpsReport(env.name, "aws", clients.ec2.meta.region_name, account)
    if env.egress_mode is not None:
        eips_from_aws(
            report,
            clients.ec2,
            project,
            env,
            EGRESS,
            env.static_ip_azs,
            env.reuse_eip_allocation_ids,
        )
    if env.ingress_mode is not None:
        by_service = aws.by_service((clients.ec2, clients.sts, clients.globalaccelerator))
        from_aws_of, _ = modes.lookup(INGRESS_IPS, env.ingress_mode, "ips reader")
        from_aws_of(report, by_service, project, env)
    if env.ipam_pool_id:
        read_pool(report, clients.ec2, env.ipam_pool_id)
    if env.prefix_list:
        report.prefix_lists = _prefix_lists(clients.ec2, project, env)
        expected = {EGRESS: env.egress != "none", INGRESS: env.ingress != "none"}
        for direction in (d for d, wanted in expected.items() if wanted):
            if direction not in report.prefix_lists:
                # The addresses still work without it: worth saying, not worth failing.
                name = prefix_list_name(project, env.name, direction)
                report.warnings.append(
                    f"no managed prefix list {name} tagged with the environment: deploy it "
                    f"(`cdktf deploy {env.name}`) to share the IPs as one"
                )
    return report


def eips_from_aws(
    report: IpsReport,
    ec2: BaseClient,
    project: str,
    env: EnvironmentConfig,
    direction: str,
    azs: Sequence[str],
    reused: Mapping[str, str],
) -> None:
    """The allow-listed EIPs of one direction, one per AZ of `azs`, each checked attached;
    the others tagged for the environment are listed as retained, with the line adopting each.

    Where an AZ has more than one (its EIP was retained, then the AZ came back with a new
    one), the AZ's is the reused allocation, else the associated one; the rest are retained.
    """
    eips = find_allow_listed_eips(ec2, project, env.name, reused, direction)
    by_az: dict[str | None, list[AllowListedEip]] = {}
    for eip in eips:
        by_az.setdefault(eip.az, []).append(eip)
    in_use: set[str] = set()
    for az in azs:
        candidates = sorted(
            by_az.get(az, []),
            key=lambda e: (e.allocation_id != reused.get(az), e.association_id is None),
        )
        if not candidates:
            report.problems.append(
                f"no allow-listed EIP for {az}: deploy the environment "
                f"(`cdktf deploy {env.name}`), or check --profile/--region"
            )
            continue
        eip = candidates[0]
        in_use.add(eip.allocation_id)
        attached = eip.association_id is not None
        status = ATTACHED if attached else UNATTACHED
        report.ips.append(StaticIp(direction, eip.public_ip, az, status, eip.network_interface_id))
        if not attached:
            report.problems.append(
                f"{eip.public_ip} ({az}) is not associated: traffic does not leave from it; "
                f"run `staticip doctor {env.name}`"
            )
    for eip in eips:
        if eip.allocation_id in in_use:
            continue
        if eip.az is None:
            report.warnings.append(
                f"{eip.public_ip} ({eip.allocation_id}) is tagged allow-listed for "
                f"{env.name} but has no {AZ_TAG} tag; not listed"
            )
            continue
        report.ips.append(
            StaticIp(direction, eip.public_ip, eip.az, RETAINED, eip.network_interface_id)
        )
        if env.ipam_pool_id:
            # A reuse table is refused next to a pool: the pool's CIDR is what vendors hold,
            # so a new EIP drawn from it is allow-listed already and this one is not needed.
            report.retained.append(
                f"{eip.public_ip} ({eip.allocation_id}) stays allocated and billed; with "
                f"ipam_pool_id an EIP the pool draws anew is inside the CIDR vendors allow-list, "
                f"so release this one (`aws ec2 release-address --allocation-id "
                f"{eip.allocation_id}`) to return its address to {env.ipam_pool_id}"
            )
            continue
        report.retained.append(
            f"{eip.public_ip} ({eip.allocation_id}) stays allocated and billed; adopt it again "
            f'with {REUSE_KEYS[direction]} = {{ "{eip.az}" = "{eip.allocation_id}" }} under '
            f"[environments.{env.name}], or release it once no vendor allow-lists it"
        )


def read_pool(report: IpsReport, ec2: BaseClient, pool_id: str) -> None:
    """The pool's provisioned CIDRs into `report` (one call), and a warning naming each
    address in use outside them: the vendor then needs the /32s, and should know why."""
    report.ipam_pool = pool_id
    try:
        cidrs = ipam.provisioned_cidrs(ec2, pool_id)
    except (ClientError, BotoCoreError) as exc:
        # The addresses are right either way; only the shorter form for the vendor is lost.
        report.warnings.append(
            f"IPAM pool {pool_id} could not be read ({aws.explain(exc)}): --format cidr lists "
            "each /32"
        )
        return
    report.ipam_cidrs = [str(c) for c in cidrs]
    outside = set(ipam.outside([ip.ip for ip in report.in_use], cidrs))
    for ip in (ip for ip in report.in_use if ip.ip in outside):
        where = f"{ip.direction}, {ip.az}" if ip.az else ip.direction
        why = (
            "an accelerator's addresses are AWS's, never a pool's"
            if ip.az is None
            else "it was allocated before ipam_pool_id was set, or not by this stack; "
            f"`cdktf deploy {report.environment}` with protect_ips off replaces an EIP whose "
            "pool changed (a new address for vendors)"
        )
        report.warnings.append(
            f"{ip.ip} ({where}) is not inside IPAM pool {pool_id} ({ipam.describe(cidrs)}), "
            f"so --format cidr lists each /32 instead of the pool's CIDR: {why}"
        )


def accelerator_ips_from_aws(
    report: IpsReport, ga: BaseClient, project: str, env: EnvironmentConfig
) -> None:
    """The two anycast IPs of the environment's tagged accelerator, checked enabled."""
    wanted = environment_tags(project, env.name)
    ours = []
    for acc in aws.paginate(ga, "list_accelerators", "Accelerators"):
        tags = aws.tags(ga.list_tags_for_resource(ResourceArn=acc["AcceleratorArn"]))
        if all(tags.get(k) == v for k, v in wanted.items()):
            ours.append(acc)
    if not ours:
        report.problems.append(
            f"no accelerator tagged environment={env.name}, project={project}: deploy the "
            f"environment (`cdktf deploy {env.name}`), or check --profile"
        )
        return
    for acc in ours:
        name = acc.get("Name") or acc["AcceleratorArn"]
        enabled = acc.get("Enabled") is not False
        ips = [
            ip
            for ip_set in acc.get("IpSets") or []
            if (ip_set.get("IpAddressFamily") or ip_set.get("IpFamily")) in ("IPv4", None)
            for ip in ip_set.get("IpAddresses") or []
        ]
        for ip in ips:
            report.ips.append(StaticIp(INGRESS, ip, None, ATTACHED if enabled else DISABLED, name))
        if not enabled:
            report.problems.append(f"accelerator {name} is disabled: its IPs accept no traffic")
        if len(ips) != 2:
            report.problems.append(
                f"accelerator {name} has {len(ips)} IPv4 addresses instead of 2; "
                f"run `staticip doctor {env.name}`"
            )


def _prefix_lists(ec2: BaseClient, project: str, env: EnvironmentConfig) -> dict[str, str]:
    """Direction -> ID of the environment's managed prefix lists (one call). Selected by name
    on the server and by the environment's tags here: names are the stack's, tags prove it."""
    names = {prefix_list_name(project, env.name, d): d for d in (EGRESS, INGRESS)}
    found = aws.paginate(
        ec2,
        "describe_managed_prefix_lists",
        "PrefixLists",
        Filters=[{"Name": "prefix-list-name", "Values": sorted(names)}],
    )
    wanted = environment_tags(project, env.name)
    return {
        names[pl["PrefixListName"]]: pl["PrefixListId"]
        for pl in found
        if pl.get("PrefixListName") in names
        and all(aws.tags(pl).get(k) == v for k, v in wanted.items())
    }


# --- from Terraform outputs ----------------------------------------------------------------------


def read_outputs_document(
    source: str, config_path: Path, env: EnvironmentConfig
) -> tuple[Any, str]:
    """The JSON document `source` names, and where it was: `-` (stdin), a file, or `state` for
    the local state file `terraform.<env>.tfstate` next to the config file (where the stack's
    local backend writes it). Raises `OutputsError`."""
    if source == "-":
        text, where = sys.stdin.read(), "stdin"
    else:
        if source == FROM_STATE:
            if env.backend.bucket:
                raise OutputsError(
                    f"environment '{env.name}' keeps its state in s3://{env.backend.bucket}: "
                    f"pipe `terraform -chdir=cdktf.out/stacks/{env.name} output -json` into "
                    "--from-outputs -"
                )
            path = config_path.parent / local_state_file(env.name)
        else:
            path = Path(source)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise OutputsError(
                f"{path}: not found; deploy the environment first, or pipe "
                "`terraform output -json` into --from-outputs -"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise OutputsError(f"{path}: unreadable ({exc})") from None
    try:
        return json.loads(text), where
    except ValueError as exc:
        raise OutputsError(f"{where}: not JSON ({exc})") from None


def output_values(document: Any) -> dict[str, Any]:
    """Output name -> value from `terraform output -json` (`{name: {value, type, ...}}`) or a
    state file (`{"version": 4, "outputs": {...}}`)."""
    if isinstance(document, dict) and "version" in document and "outputs" in document:
        document = document["outputs"]
    if not isinstance(document, dict) or not all(
        isinstance(o, dict) and "value" in o for o in document.values()
    ):
        raise OutputsError(
            'not `terraform output -json` or a state file (expected {name: {"value": ...}})'
        )
    return {name: output["value"] for name, output in document.items()}


def ips_by_az_from_outputs(
    report: IpsReport, values: Mapping[str, Any], direction: str, azs: Sequence[str]
) -> None:
    """One IP per AZ of `azs` from the output `<direction>_ips_by_az`."""
    name = ips_by_az_output(direction)
    by_az = values.get(name)
    if by_az is None:
        report.problems.append(
            f"no output {name}: the environment is not deployed (or these are "
            "another environment's outputs)"
        )
        return
    if not isinstance(by_az, dict):
        raise OutputsError(f"output {name}: expected an object of AZ -> IP")
    for az in azs:
        if az not in by_az:
            report.problems.append(f"output {name} has no IP for {az}")
            continue
        report.ips.append(StaticIp(direction, _ip(name, by_az[az]), az, UNCHECKED))


def accelerator_ips_from_outputs(report: IpsReport, values: Mapping[str, Any]) -> None:
    """The accelerator's two IPs from the output `ingress_ips`."""
    ingress = values.get(INGRESS_IPS_OUTPUT)
    if ingress is None:
        report.problems.append(f"no output {INGRESS_IPS_OUTPUT}: the environment is not deployed")
        return
    if not isinstance(ingress, list):
        raise OutputsError(f"output {INGRESS_IPS_OUTPUT}: expected a list of IPs")
    report.ips += [
        StaticIp(INGRESS, _ip(INGRESS_IPS_OUTPUT, ip), None, UNCHECKED) for ip in ingress
    ]
    if len(ingress) != 2:
        report.problems.append(f"output {INGRESS_IPS_OUTPUT} has {len(ingress)} IPs instead of 2")


# --- each ingress mode's addresses ---------------------------------------------------------------

IngressFromAws = Callable[[IpsReport, Mapping[str, BaseClient], str, EnvironmentConfig], None]
"""Add the mode's static IPs as found in AWS to the report, and a problem for each one missing
or not in use; the clients are `ec2` and the mode's `services` among `globalaccelerator`."""
IngressFromOutputs = Callable[[IpsReport, Mapping[str, Any], EnvironmentConfig], None]
"""The same from Terraform's output values (`--from-outputs`)."""


def _accelerator_from_aws(
    report: IpsReport, clients: Mapping[str, BaseClient], project: str, env: EnvironmentConfig
) -> None:
    accelerator_ips_from_aws(report, clients["globalaccelerator"], project, env)


def _accelerator_from_outputs(
    report: IpsReport, values: Mapping[str, Any], env: EnvironmentConfig
) -> None:
    accelerator_ips_from_outputs(report, values)


def _nlb_eips_from_aws(
    report: IpsReport, clients: Mapping[str, BaseClient], project: str, env: EnvironmentConfig
) -> None:
    azs, reused = nlb_eip.ingress_azs(env), nlb_eip.reused(env)
    eips_from_aws(report, clients["ec2"], project, env, INGRESS, azs, reused)


def _nlb_eips_from_outputs(
    report: IpsReport, values: Mapping[str, Any], env: EnvironmentConfig
) -> None:
    ips_by_az_from_outputs(report, values, INGRESS, nlb_eip.ingress_azs(env))


#: How `ips` reads each ingress mode's addresses, by label (`modes.lookup`): egress modes all
#: allow-list EIPs of their own, read the same way.
INGRESS_IPS: Mapping[str, tuple[IngressFromAws, IngressFromOutputs]] = {
    GlobalAccelerator().label: (_accelerator_from_aws, _accelerator_from_outputs),
    nlb_eip.NlbEip().label: (_nlb_eips_from_aws, _nlb_eips_from_outputs),
}


def from_outputs(values: Mapping[str, Any], env: EnvironmentConfig, source: str) -> IpsReport:
    """The addresses the outputs name, judged against the environment's configuration."""
    report = IpsReport(env.name, source)
    if env.egress_mode is not None:
        ips_by_az_from_outputs(report, values, EGRESS, env.static_ip_azs)
    if env.ingress_mode is not None:
        _, from_outputs_of = modes.lookup(INGRESS_IPS, env.ingress_mode, "ips reader")
        from_outputs_of(report, values, env)
    for direction in (EGRESS, INGRESS):
        prefix_list = values.get(prefix_list_id_output(direction))
        if isinstance(prefix_list, str) and prefix_list:
            report.prefix_lists[direction] = prefix_list
    if env.ipam_pool_id:
        report.ipam_pool = env.ipam_pool_id
        report.warnings.append(
            f"IPAM pool {env.ipam_pool_id}: its CIDR cannot be read from outputs (that takes "
            "AWS), so --format cidr lists each /32; run without --from-outputs for the "
            "pool's CIDR"
        )
    return report


def _ip(output: str, value: object) -> str:
    try:
        return str(ipaddress.IPv4Address(value))  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise OutputsError(f"output {output}: {value!r} is not an IPv4 address") from None


# --- rendering -----------------------------------------------------------------------------------


def render(report: IpsReport, fmt: str) -> str:
    """The report in `fmt` (one of FORMATS); no trailing newline."""
    if fmt == "json":
        return json.dumps(report_json(report), indent=2, sort_keys=True)
    if fmt == "cidr":
        return "\n".join(vendor_cidrs(report))
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for ip in report.ips:
            writer.writerow(
                [ip.direction, ip.az or "", ip.ip, ip.cidr, ip.status, ip.attached_to or ""]
            )
        return out.getvalue().rstrip("\n")
    where = ", ".join(
        part
        for part in (
            f"in {report.region}" if report.region else "",
            f"account {report.account}" if report.account else "",
            "from AWS" if report.source == "aws" else f"from the outputs in {report.source}",
        )
        if part
    )
    lines = [
        f"ips {report.environment} ({where}):",
        render_table(
            ["DIRECTION", "AZ", "IP", "CIDR", "STATUS", "ATTACHED TO"],
            [(i.direction, i.az, i.ip, i.cidr, i.status, i.attached_to) for i in report.ips],
        ),
    ]
    if report.ipam_pool:
        cidrs = ", ".join(report.ipam_cidrs) or "its CIDRs not read"
        lines.append(f"IPAM pool {report.ipam_pool}: {cidrs}")
    if report.prefix_lists:
        lines.append(
            "managed prefix lists: "
            + ", ".join(f"{d} {pl}" for d, pl in sorted(report.prefix_lists.items()))
        )
    lines += [f"problem: {p}" for p in report.problems]
    lines += [f"warning: {w}" for w in report.warnings]
    lines += [f"retained: {r}" for r in report.retained]
    return "\n".join(lines)


def vendor_cidrs(report: IpsReport) -> list[str]:
    """What a vendor allow-lists: the pool's CIDR(s) when every address in use lies inside
    them, else each address's /32."""
    cidrs = [ipaddress.IPv4Network(c) for c in report.ipam_cidrs]
    pooled = ipam.covering([ip.ip for ip in report.in_use], cidrs)
    return pooled if pooled is not None else list(dict.fromkeys(ip.cidr for ip in report.in_use))


def report_json(report: IpsReport) -> dict[str, Any]:
    data = asdict(report)
    data["ips"] = [asdict(ip) | {"cidr": ip.cidr} for ip in report.ips]
    return data | {"ok": report.ok, "vendor_cidrs": vendor_cidrs(report)}


# --- the command ---------------------------------------------------------------------------------


def run_ips(
    config_path: str | Path,
    environment: str,
    fmt: str = "text",
    *,
    from_outputs_source: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    clients: IpsClients | None = None,
) -> tuple[CommandResult, IpsReport | None]:
    """`staticip ips ENV [--format F] [--from-outputs [SOURCE]]`.

    Exit 0 when every expected address was found (and, from AWS, is attached), 1 when one is
    missing, unattached or disabled, or AWS failed; 2 for a bad config, an unknown
    environment, the wrong account, unusable outputs or a missing region/profile.
    `profile` defaults to the environment's; `clients` replaces the ones built from them.
    """
    if fmt not in FORMATS:
        return usage_error(f"--format must be one of {', '.join(FORMATS)}, got {fmt}"), None
    try:
        config = load_config(config_path)
        env = config.environment(environment)
    except ConfigError as exc:
        return usage_error(str(exc)), None
    if from_outputs_source is not None:
        try:
            document, where = read_outputs_document(from_outputs_source, Path(config_path), env)
            report = from_outputs(output_values(document), env, where)
        except OutputsError as exc:
            return usage_error(str(exc)), None
    else:
        region = region or env.region
        try:
            clients = clients or IpsClients.create(region, profile or env.profile, env)
            report = from_aws(clients, config.project, env)
        except (NoRegionError, ProfileNotFound, aws.WrongAccountError) as exc:
            return usage_error(aws.explain(exc)), None
        except (ClientError, BotoCoreError, aws.AwsError) as exc:
            message = f"ips {env.name}: {aws.explain(exc)}"
            return CommandResult(EXIT_PROBLEM, message, {"error": message}), None
    code = EXIT_OK if report.ok else EXIT_PROBLEM
    return CommandResult(code, render(report, fmt), report_json(report)), report
