#!/usr/bin/env python3
"""Regenerate `tests/fixtures/plans/*.json`: real `terraform show -json` plans of the stacks.

Each fixture is what Terraform itself printed for a saved plan of a synthesized stack, planned
against moto's ThreadedMotoServer (started in this process on 127.0.0.1) with the AWS
provider's endpoints pointed at it. Nothing touches AWS or the network:

1. synthesize the environment from `staticip.toml` (its table only, in a temporary config
   file) with `staticip.synth.synthesize`, copy `cdktf.out/stacks/<env>/` (with `assets/`) to a
   work directory and patch it: the AWS provider version the mirror holds, fake credentials and
   moto endpoints in each `provider.aws` block, a local backend in the work directory;
2. `terraform init -plugin-dir=<mirror>` and `terraform apply` the base configuration;
3. for each case, synthesize the changed configuration (or ask for `-replace=ADDRESS`), then
   `terraform plan -out` and `terraform show -json`, and write `<case>.json` with a sidecar
   `<case>.meta.json` saying what produced it and what was patched or constructed.

What moto cannot do is worked around, and each fixture's metadata says how:

- dev (eni-eip): the `hashicorp/external` provider is not in the offline mirror, so the
  `data.external` ENI lookup is removed. The base is applied without the EIP associations, then
  this script creates Lambda-shaped Hyperplane ENIs in moto (tests/eni_fixtures.py
  `create_lambda_eni`: moto makes none), resolves `{subnet: eni}` with the project's own
  resolver (`staticip.enis.resolve_enis`) and writes those IDs into the associations as literal
  `network_interface_id` values before applying them.
- ingress: moto has no Global Accelerator API. The base is applied without the accelerator,
  listener and endpoint group; this script then adds those three to the state (`terraform
  state push`) with attributes built from the provider's schema, documentation IP addresses
  (192.0.2.0/24, 198.51.100.0/24) as the accelerator's `ip_sets`, and the real ALB ARN. Every
  ingress plan uses `-refresh=false` (refreshing would call the missing API); the clean case
  checks that the constructed state matches the configuration exactly (no changes).

The script checks each plan's exit code (`-detailed-exitcode`: 0 for the clean cases, 2 for
changes, 1 for the deliberately failing plan) and stops on anything else.

Usage (from the repository root, in the project's virtualenv):

    .venv/bin/python scripts/make_plan_fixtures.py                # every case
    .venv/bin/python scripts/make_plan_fixtures.py prod-clean     # only these cases
    .venv/bin/python scripts/make_plan_fixtures.py --list
    options: --plugin-dir DIR (default /opt/tf-plugins, or STATICIP_TF_PLUGIN_DIR)
             --out DIR (default tests/fixtures/plans)  --work DIR (kept afterwards)
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# tests/eni_fixtures.py holds the one definition of "an ENI shaped like Lambda's"; reuse it.
sys.path.insert(1, str(REPO / "tests"))

# The terraform/moto harness is shared with `make e2e` (tests/tfharness.py).
from tfharness import (  # noqa: E402
    DEFAULT_PLUGIN_DIR,
    HarnessError,
    Moto,
    Terraform,
    environment_toml,
    merged_table,
    mirrored_aws_version,
    patch_for_moto,
    state_resource,
    terraform_version,
)

from staticip.names import INGRESS_DNS_NAME_OUTPUT, INGRESS_IPS_OUTPUT  # noqa: E402

DEFAULT_OUT = REPO / "tests" / "fixtures" / "plans"
#: moto's default account; the constructed Global Accelerator ARNs use it too.
MOTO_ACCOUNT = "123456789012"
#: The accelerator's two addresses in the constructed state: RFC 5737 documentation ranges, so
#: nobody mistakes them for real anycast IPs.
CONSTRUCTED_GA_IPS = ("192.0.2.10", "198.51.100.10")
GA_TYPES = (
    "aws_globalaccelerator_accelerator",
    "aws_globalaccelerator_listener",
    "aws_globalaccelerator_endpoint_group",
)

Stack = dict[str, Any]


# --- the cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One fixture: a change to an environment's base configuration, planned."""

    name: str
    environment: str
    description: str
    config_changes: Mapping[str, Any] = field(default_factory=dict)
    """Keys laid over the environment's table of staticip.toml before synthesis."""
    replace: tuple[tuple[str, str], ...] = ()
    """`-replace` targets as (resource type, construct path suffix)."""
    exit_code: int = 2
    """`terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 the plan failed."""


CASES: tuple[Case, ...] = (
    Case("prod-clean", "prod", "prod as in staticip.toml, planned right after apply", {}, (), 0),
    Case(
        "prod-nat-replaced",
        "prod",
        "the NAT Gateway of us-east-1a replaced on request (-replace), its EIP kept",
        replace=(("aws_nat_gateway", "nat/nat-us-east-1a"),),
    ),
    Case(
        "prod-eip-replaced",
        "prod",
        "the EIP of us-east-1a replaced on request (-replace) with protect_ips = false",
        {"protect_ips": False},
        replace=(("aws_eip", "egress-ips/eip-us-east-1a"),),
    ),
    Case(
        "prod-az-dropped",
        "prod",
        "us-east-1b dropped (azs = [us-east-1a]), protect_ips left on: the stack's removed "
        "block forgets its EIP (out of state, still allocated) instead of releasing it; its "
        "NAT Gateway goes",
        {"azs": ["us-east-1a"]},
    ),
    Case(
        "prod-az-dropped-unprotected",
        "prod",
        "us-east-1b dropped with protect_ips = false: no removed block, so its EIP is released",
        {"azs": ["us-east-1a"], "protect_ips": False},
    ),
    Case(
        "prod-eip-replace-protected",
        "prod",
        "the EIP of us-east-1a replaced on request (-replace) with protect_ips on: "
        "prevent_destroy fails the plan (Terraform still writes the plan file, errored = true)",
        replace=(("aws_eip", "egress-ips/eip-us-east-1a"),),
        exit_code=1,
    ),
    Case("dev-clean", "dev", "dev as in staticip.toml, planned right after apply", {}, (), 0),
    Case(
        "dev-vpc-cidr-changed",
        "dev",
        "vpc_cidr changed: VPC, subnets and the function's security group replaced, the "
        "function's vpc_config updated (ENI rotation), EIPs kept",
        {"vpc_cidr": "10.11.0.0/16"},
    ),
    Case(
        "dev-az-dropped",
        "dev",
        "us-east-1b dropped, protect_ips left on: its EIP association removed, its EIP "
        "forgotten (retained), not released",
        {"azs": ["us-east-1a"]},
    ),
    Case(
        "dev-to-nat",
        "dev",
        "egress switched from eni-eip to nat-gateway in place: the associations go, NAT "
        "Gateways take the same EIPs",
        {"egress": "nat-gateway"},
    ),
    Case(
        "ingress-clean",
        "ingress",
        "ingress as in staticip.toml (accelerator state constructed), -refresh=false",
        {},
        (),
        0,
    ),
    Case(
        "ingress-accelerator-replaced",
        "ingress",
        "the accelerator replaced on request (-replace) with protect_ips = false",
        {"protect_ips": False},
        replace=(("aws_globalaccelerator_accelerator", "ingress/accelerator"),),
    ),
    Case(
        "ingress-alb-replaced",
        "ingress",
        "the ALB behind the accelerator replaced on request (-replace)",
        replace=(("aws_lb", "ingress/alb"),),
    ),
)
CASES_BY_NAME = {case.name: case for case in CASES}
ENVIRONMENT_ORDER = ("prod", "dev", "ingress")


# --- helpers ----------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"make_plan_fixtures: {message}", file=sys.stderr, flush=True)


def case_table(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    table = merged_table(base, changes)
    # The ENI guard only applies to eni-eip: leaving dev for NAT takes its table along.
    if changes.get("egress") == "nat-gateway" and "eni_guard" not in changes:
        table.pop("eni_guard", None)
    return table


def by_path(stack: Stack, rtype: str, suffix: str) -> str:
    """The Terraform address of the one resource of `rtype` whose construct path ends so."""
    found = [
        lid
        for lid, body in stack.get("resource", {}).get(rtype, {}).items()
        if body["//"]["metadata"]["path"].endswith(suffix)
    ]
    if len(found) != 1:
        raise HarnessError(f"expected one {rtype} at '{suffix}', found {found}")
    return f"{rtype}.{found[0]}"


# --- moto -------------------------------------------------------------------------------------


# --- patching the synthesized stack -----------------------------------------------------------


_ENI_LOOKUP = re.compile(r"^\$\{data\.external\.[\w-]+\.result\[aws_subnet\.([\w-]+)\.id\]\}$")


def replace_eni_lookup(stack: Stack, eni_by_subnet_lid: Mapping[str, str] | None) -> list[str]:
    """Drop `data.external` (its provider is not in the mirror). With `eni_by_subnet_lid`, each
    association gets its subnet's ENI as a literal; without, the associations are dropped too
    (the first apply, before the function and so its ENIs exist)."""
    data = stack.get("data", {})
    if "external" not in data:
        return []
    data.pop("external")
    if not data:
        stack.pop("data")
    stack["provider"].pop("external", None)
    stack["terraform"]["required_providers"].pop("external", None)
    associations = stack["resource"].get("aws_eip_association", {})
    if eni_by_subnet_lid is None:
        stack["resource"].pop("aws_eip_association", None)
        # The ENI guard depends on the associations: it waits for the second apply too.
        for kind in ("resource", "data"):
            for rtype, blocks in list(stack.get(kind, {}).items()):
                for lid in [lid for lid, body in blocks.items() if "/eni-guard/" in _path(body)]:
                    del blocks[lid]
                if not blocks:
                    del stack[kind][rtype]
            if kind in stack and not stack[kind]:
                # Terraform rejects an empty `data` object in JSON configuration.
                del stack[kind]
        return [
            "data.external ENI lookup, aws_eip_association and the ENI guard (which depends on "
            "the associations) removed (first apply)"
        ]
    literal = {}
    for body in associations.values():
        match = _ENI_LOOKUP.match(body["network_interface_id"])
        if not match:
            raise HarnessError(f"unexpected network_interface_id {body['network_interface_id']}")
        body["network_interface_id"] = literal[match.group(1)] = eni_by_subnet_lid[match.group(1)]
    return [
        "data.external ENI lookup removed (hashicorp/external is not in the mirror); "
        "aws_eip_association.network_interface_id set to the literal ENI IDs "
        f"{json.dumps(literal, sort_keys=True)} that staticip.enis.resolve_enis resolved in "
        "moto, where this script created Lambda-shaped ENIs (tests/eni_fixtures.py)"
    ]


def _path(body: Mapping[str, Any]) -> str:
    return body.get("//", {}).get("metadata", {}).get("path", "")


def drop_global_accelerator(stack: Stack) -> list[str]:
    """The first ingress apply: everything except what moto cannot create, and what reads it
    (the ingress prefix list holds the accelerator's addresses). Returns the addresses of the
    resources dropped for reading it, which a second apply creates once its state is there."""
    for rtype in GA_TYPES:
        stack["resource"].pop(rtype, None)
    readers = []
    for rtype, by_id in list(stack["resource"].items()):
        for lid in [lid for lid, body in by_id.items() if _reads_global_accelerator(body)]:
            by_id.pop(lid)
            readers.append(f"{rtype}.{lid}")
        if not by_id:
            # Terraform rejects a resource type without resources in JSON configuration.
            stack["resource"].pop(rtype)
    outputs = stack.get("output", {})
    for output in [
        n
        for n, body in outputs.items()
        if _reads_global_accelerator(body) or any(r in json.dumps(body) for r in readers)
    ]:
        outputs.pop(output)
    for output in (INGRESS_IPS_OUTPUT, INGRESS_DNS_NAME_OUTPUT):
        outputs.pop(output, None)
    if not outputs:
        # Terraform rejects an empty `output` object in JSON configuration.
        stack.pop("output", None)
    return readers


def _reads_global_accelerator(body: Any) -> bool:
    return "aws_globalaccelerator_" in json.dumps(body)


def _reads_global_accelerator(body: Any) -> bool:
    return "aws_globalaccelerator_" in json.dumps(body)


# --- terraform --------------------------------------------------------------------------------


# --- one environment --------------------------------------------------------------------------


@dataclass
class Context:
    terraform_binary: str
    terraform_version: str
    plugin_dir: Path
    aws_version: str
    moto: Moto
    work: Path
    out: Path
    project: str
    tables: Mapping[str, Mapping[str, Any]]
    synth_root: Path
    _synth_count: int = 0

    def synthesize(self, name: str, table: Mapping[str, Any]) -> tuple[Stack, Path]:
        """Synthesize one environment from `table`; return its stack and stack directory."""
        from staticip.synth import synthesize

        self._synth_count += 1
        root = self.synth_root / f"{self._synth_count:02d}-{name}"
        root.mkdir(parents=True)
        config = root / "staticip.toml"
        config.write_text(environment_toml(self.project, name, table))
        # Declared functions' sources are relative to the config, as in the shipped file.
        shutil.copytree(
            REPO / "lambda_src", root / "lambda_src", ignore=shutil.ignore_patterns("__pycache__")
        )
        synthesize(config, root / "cdktf.out")
        stack_dir = root / "cdktf.out" / "stacks" / name
        return json.loads((stack_dir / "cdk.tf.json").read_text()), stack_dir


def run_environment(ctx: Context, name: str, cases: Sequence[Case]) -> list[Path]:
    log(f"{name}: base apply, then {len(cases)} case(s)")
    base_table = ctx.tables[name]
    workdir = ctx.work / name
    workdir.mkdir(parents=True)
    tf = Terraform(ctx.terraform_binary, workdir, ctx.plugin_dir, log)
    base_stack, base_dir = ctx.synthesize(name, base_table)
    patches = patch_for_moto(base_stack, ctx.moto.endpoint, ctx.aws_version)

    first = copy.deepcopy(base_stack)
    constructed: list[str] = []
    tf.note(f"synthesized {name} from staticip.toml's [environments.{name}] and patched it")
    if name == "dev":
        replace_eni_lookup(first, None)
        tf.note("first apply without data.external and the aws_eip_association resources")
    readers: list[str] = []
    if name == "ingress":
        readers = drop_global_accelerator(first)
        tf.note(
            "apply without the three aws_globalaccelerator_* resources, their outputs and what "
            f"reads them ({', '.join(readers) or 'nothing'})"
        )
    tf.write_stack(first, base_dir)
    tf.init()
    tf.run("apply", "-auto-approve", "-input=false", "-no-color")

    eni_map: dict[str, str] | None = None
    if name == "dev":
        eni_map = create_and_resolve_enis(ctx, tf, base_stack)
        constructed.append(
            "the egress function's Hyperplane ENIs: moto makes none, so the script created one "
            "per subnet with the function's security group (tests/eni_fixtures.py "
            "create_lambda_eni: interface type lambda, Lambda's description and attachment)"
        )
        second = copy.deepcopy(base_stack)
        patches += replace_eni_lookup(second, eni_map)
        tf.note("second apply: the associations, with the resolved ENIs as literals")
        tf.write_stack(second, base_dir)
        tf.run("apply", "-auto-approve", "-input=false", "-no-color")
    if name == "ingress":
        constructed = push_global_accelerator_state(ctx, tf, base_stack)
        if readers:
            # Now that the accelerator's state is there: without a refresh, which would call
            # the API moto lacks.
            tf.note(f"second apply, -refresh=false: {', '.join(readers)}")
            tf.write_stack(base_stack, base_dir)
            tf.run("apply", "-auto-approve", "-refresh=false", "-input=false", "-no-color")
    setup = list(tf.history)

    written = []
    for case in cases:
        table = case_table(base_table, case.config_changes)
        if case.config_changes:
            stack, stack_dir = ctx.synthesize(name, table)
            patch_for_moto(stack, ctx.moto.endpoint, ctx.aws_version)
        else:
            stack, stack_dir = copy.deepcopy(base_stack), base_dir
        case_patches = list(patches)
        if name == "dev":
            replace_eni_lookup(stack, eni_map)
        tf.write_stack(stack, stack_dir)
        plan_file = f"{case.name}.tfplan"
        args = ["plan", f"-out={plan_file}", "-input=false", "-no-color", "-detailed-exitcode"]
        if name == "ingress":
            args.append("-refresh=false")
        args += [f"-replace={by_path(stack, rtype, suffix)}" for rtype, suffix in case.replace]
        tf.history.clear()
        result = tf.run(*args, ok=(case.exit_code,))
        if not (workdir / plan_file).is_file():
            raise HarnessError(f"{case.name}: terraform wrote no plan file")
        shown = tf.run("show", "-json", "-no-color", plan_file)
        fixture = ctx.out / f"{case.name}.json"
        fixture.write_text(shown.stdout)
        meta = metadata(ctx, case, table, setup, tf.history, result, case_patches, constructed)
        meta_path = ctx.out / f"{case.name}.meta.json"
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
        written.append(fixture)
        log(f"  wrote {fixture.relative_to(ctx.out.parent)} ({fixture.stat().st_size:,} bytes)")
    return written


def _eni_set_of(attrs: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    vpc = attrs["vpc_config"][0]
    return tuple(sorted(vpc["subnet_ids"])), tuple(sorted(vpc["security_group_ids"]))


def create_and_resolve_enis(ctx: Context, tf: Terraform, stack: Stack) -> dict[str, str]:
    """Give the applied dev function the Hyperplane ENIs Lambda would have made, and resolve
    `{subnet logical id: eni id}` with the project's resolver, as the data source would."""
    from eni_fixtures import create_lambda_eni

    from staticip.enis import resolve_enis

    state = tf.state()
    # The first apply has the egress function, not the ENI guard's (it comes with the second).
    applied = {r["name"] for r in state["resources"] if r["type"] == "aws_lambda_function"}
    functions = [
        (lid, state_resource(state, "aws_lambda_function", lid))
        for lid in stack["resource"]["aws_lambda_function"]
        if lid in applied
    ]
    in_vpc = [(lid, attrs) for lid, attrs in functions if attrs.get("vpc_config")]
    # Every function of the environment has the one security group, in the function subnets
    # (the egress canary of an AZ in that AZ's alone), so one Hyperplane ENI per subnet; the
    # probe (the guard's anchor) is in all of them and the one to resolve them for.
    probes = [(lid, attrs) for lid, attrs in in_vpc if lid.startswith("egress-probe")] or in_vpc
    shared = len(probes) == 1 and all(
        set(_eni_set_of(a)[0]) <= set(_eni_set_of(probes[0][1])[0])
        and _eni_set_of(a)[1] == _eni_set_of(probes[0][1])[1]
        for _, a in in_vpc
    )
    if not shared:
        raise HarnessError(
            "expected one probe whose subnets and security group every function shares, "
            f"found {[lid for lid, _ in in_vpc]}"
        )
    attrs = probes[0][1]
    vpc_config = attrs["vpc_config"][0]
    region = attrs["arn"].split(":")[3]
    ec2 = ctx.moto.client("ec2", region)
    subnet_ids, group_ids = vpc_config["subnet_ids"], vpc_config["security_group_ids"]
    for subnet_id in subnet_ids:
        create_lambda_eni(ec2, subnet_id, group_ids, attrs["function_name"], region=region)
    resolved = resolve_enis(
        ec2, subnet_ids, group_ids, function_names=[attrs["function_name"]], timeout_seconds=5
    )
    tf.note(
        "created a Lambda-shaped ENI per subnet of the function in moto and resolved "
        f"{{subnet: eni}} with staticip.enis.resolve_enis: {json.dumps(resolved, sort_keys=True)}"
    )
    lid_by_subnet = {
        state_resource(state, "aws_subnet", lid)["id"]: lid
        for lid in stack["resource"]["aws_subnet"]
    }
    return {lid_by_subnet[subnet]: eni for subnet, eni in resolved.items()}


def push_global_accelerator_state(ctx: Context, tf: Terraform, stack: Stack) -> list[str]:
    """Add the accelerator, listener and endpoint group to the state with attributes built from
    the provider's schema: what the configuration sets, the provider's defaults, and constructed
    IDs, ARNs and documentation IP addresses for what only AWS would know."""
    schemas = json.loads(tf.run("providers", "schema", "-json").stdout)
    tf.history.pop()  # not a step of producing the plans
    resource_schemas = schemas["provider_schemas"]["registry.terraform.io/hashicorp/aws"][
        "resource_schemas"
    ]
    res = stack["resource"]
    accel_lid = next(iter(res["aws_globalaccelerator_accelerator"]))
    listener_lid = next(iter(res["aws_globalaccelerator_listener"]))
    group_lid = next(iter(res["aws_globalaccelerator_endpoint_group"]))
    alb_lid = next(iter(res["aws_lb"]))
    accel_cfg = res["aws_globalaccelerator_accelerator"][accel_lid]
    listener_cfg = res["aws_globalaccelerator_listener"][listener_lid]
    group_cfg = res["aws_globalaccelerator_endpoint_group"][group_lid]
    ga_provider = next(p for p in stack["provider"]["aws"] if p.get("alias"))
    tags = ga_provider["default_tags"][0]["tags"]

    state = tf.state()
    alb_arn = state_resource(state, "aws_lb", alb_lid)["arn"]
    accel_id = "0a0a0a0a-0000-4000-8000-00000000c0de"
    accel_arn = f"arn:aws:globalaccelerator::{MOTO_ACCOUNT}:accelerator/{accel_id}"
    listener_arn = f"{accel_arn}/listener/0c0de001"
    group_arn = f"{listener_arn}/endpoint-group/0c0de0000002"
    values = {
        "aws_globalaccelerator_accelerator": {
            "id": accel_arn,
            "arn": accel_arn,
            "name": accel_cfg["name"],
            "ip_address_type": accel_cfg["ip_address_type"],
            "enabled": accel_cfg["enabled"],
            "dns_name": "a0c0de0000000000.awsglobalaccelerator.com",
            "dual_stack_dns_name": "",
            "hosted_zone_id": "Z2BJ6XQ5FK7U4H",
            "ip_sets": [{"ip_family": "IPv4", "ip_addresses": list(CONSTRUCTED_GA_IPS)}],
            "attributes": [
                {"flow_logs_enabled": False, "flow_logs_s3_bucket": "", "flow_logs_s3_prefix": ""}
            ],
            "tags": None,
            "tags_all": tags,
        },
        "aws_globalaccelerator_listener": {
            "id": listener_arn,
            "arn": listener_arn,
            "accelerator_arn": accel_arn,
            "client_affinity": listener_cfg["client_affinity"],
            "protocol": listener_cfg["protocol"],
            "port_range": listener_cfg["port_range"],
        },
        "aws_globalaccelerator_endpoint_group": {
            "id": group_arn,
            "arn": group_arn,
            "listener_arn": listener_arn,
            "endpoint_group_region": group_cfg["endpoint_group_region"],
            "endpoint_configuration": [
                {
                    "attachment_arn": "",
                    "client_ip_preservation_enabled": c["client_ip_preservation_enabled"],
                    "endpoint_id": alb_arn,
                    "weight": c["weight"],
                }
                for c in group_cfg["endpoint_configuration"]
            ],
            # The provider's defaults for what the configuration leaves out.
            "health_check_interval_seconds": 30,
            "health_check_path": "",
            "health_check_port": 80,
            "health_check_protocol": "TCP",
            "threshold_count": 3,
            "traffic_dial_percentage": 100,
            "port_override": [],
        },
    }
    dependencies = {
        "aws_globalaccelerator_accelerator": [],
        "aws_globalaccelerator_listener": [f"aws_globalaccelerator_accelerator.{accel_lid}"],
        "aws_globalaccelerator_endpoint_group": [
            f"aws_globalaccelerator_accelerator.{accel_lid}",
            f"aws_globalaccelerator_listener.{listener_lid}",
            f"aws_lb.{alb_lid}",
        ],
    }
    names = {
        "aws_globalaccelerator_accelerator": accel_lid,
        "aws_globalaccelerator_listener": listener_lid,
        "aws_globalaccelerator_endpoint_group": group_lid,
    }
    provider = 'provider["registry.terraform.io/hashicorp/aws"].global-accelerator'
    for rtype in GA_TYPES:
        schema = resource_schemas[rtype]
        attributes = schema_filled(schema["block"], values[rtype])
        state["resources"].append(
            {
                "mode": "managed",
                "type": rtype,
                "name": names[rtype],
                "provider": provider,
                "instances": [
                    {
                        "schema_version": schema["version"],
                        "attributes": attributes,
                        "sensitive_attributes": [],
                        "private": "bnVsbA==",
                        "dependencies": sorted(dependencies[rtype]),
                    }
                ],
            }
        )
    # The outputs as an apply would have recorded them, so the clean plan has nothing to do.
    state.setdefault("outputs", {}).update(
        {
            INGRESS_IPS_OUTPUT: {"value": list(CONSTRUCTED_GA_IPS), "type": ["list", "string"]},
            INGRESS_DNS_NAME_OUTPUT: {
                "value": values["aws_globalaccelerator_accelerator"]["dns_name"],
                "type": "string",
            },
        }
    )
    state["serial"] += 1
    pushed = tf.workdir / "with-global-accelerator.tfstate"
    pushed.write_text(json.dumps(state, indent=2))
    tf.note("added the constructed Global Accelerator resources and outputs to the state")
    tf.run("state", "push", pushed.name)
    return [
        "aws_globalaccelerator_accelerator, _listener and _endpoint_group: moto has no Global "
        "Accelerator API, so the base apply left them out and the script added them to the state "
        "(terraform state push) with attributes built from the provider schema: the configured "
        "values, the provider's defaults, constructed IDs/ARNs/DNS name, the real ALB ARN from "
        f"moto, and ip_sets {list(CONSTRUCTED_GA_IPS)} (RFC 5737 documentation addresses)",
        "every ingress plan uses -refresh=false (a refresh would call the missing API); "
        "ingress-clean shows that the constructed state matches the configuration",
    ]


def schema_filled(block: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Every attribute and nested block of a resource schema, from `values` or empty (null for
    attributes, [] for list/set blocks, null for single blocks), as the state stores them."""
    filled: dict[str, Any] = {}
    for name in block.get("attributes", {}):
        filled[name] = values.get(name)
    for name, nested in block.get("block_types", {}).items():
        default = None if nested["nesting_mode"] == "single" else []
        filled[name] = values.get(name, default)
    unknown = set(values) - set(filled)
    if unknown:
        raise HarnessError(f"values for attributes the schema lacks: {sorted(unknown)}")
    return filled


def metadata(
    ctx: Context,
    case: Case,
    table: Mapping[str, Any],
    setup: Sequence[str],
    plan_commands: Sequence[str],
    result: subprocess.CompletedProcess[str],
    patches: Sequence[str],
    constructed: Sequence[str],
) -> dict[str, Any]:
    import moto

    return {
        "fixture": f"{case.name}.json",
        "environment": case.environment,
        "description": case.description,
        "generated_at": datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
        "generator": "scripts/make_plan_fixtures.py",
        "terraform_version": ctx.terraform_version,
        "providers": {"registry.terraform.io/hashicorp/aws": ctx.aws_version},
        "provider_version_in_stack": "the stacks pin hashicorp/aws 6.25.0; rewritten to the "
        "mirror's version",
        "moto_version": moto.__version__,
        "config": {"base": dict(ctx.tables[case.environment]), "planned": dict(table)},
        "config_changes": dict(case.config_changes),
        "setup_commands": list(setup),
        "plan_commands": [*plan_commands, f"terraform show -json {case.name}.tfplan"],
        "plan_exit_code": result.returncode,
        "real": "the whole file is `terraform show -json` output, unedited; prior state comes "
        "from `terraform apply` against moto (except what `constructed` lists)",
        "patched": list(patches),
        "constructed": list(constructed),
    }


# --- main -------------------------------------------------------------------------------------


def select(names: Sequence[str]) -> list[Case]:
    unknown = [n for n in names if n not in CASES_BY_NAME]
    if unknown:
        raise HarnessError(f"unknown case(s) {', '.join(unknown)}; see --list")
    return [c for c in CASES if not names or c.name in names]


def preflight(plugin_dir: Path) -> tuple[str, str, str]:
    terraform = shutil.which("terraform")
    if terraform is None:
        raise HarnessError("no terraform binary on PATH")
    version = terraform_version(terraform)
    if tuple(int(x) for x in version.split(".")[:2]) < (1, 10):
        raise HarnessError(f"terraform {version} is older than 1.10")
    return terraform, version, mirrored_aws_version(plugin_dir)


def work_directory(requested: Path | None) -> tuple[Path, bool]:
    """The work directory and whether to remove it afterwards (only the temporary one)."""
    if requested is None:
        return Path(tempfile.mkdtemp(prefix="staticip-plan-fixtures-")), True
    requested.mkdir(parents=True, exist_ok=True)
    if any(requested.iterdir()):
        raise HarnessError(f"--work {requested} is not empty")
    return requested.resolve(), False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("cases", nargs="*", metavar="CASE", help="cases to make (default: all)")
    parser.add_argument("--plugin-dir", type=Path, default=DEFAULT_PLUGIN_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--work", type=Path, help="work directory (kept; default: a temp dir)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--config", type=Path, default=REPO / "staticip.toml")
    args = parser.parse_args(argv)
    if args.list:
        for case in CASES:
            print(f"{case.name:30} {case.description}")
        return 0
    started = time.monotonic()
    moto = None
    try:
        cases = select(args.cases)
        terraform, tf_version, aws_version = preflight(args.plugin_dir)
        raw = tomllib.loads(args.config.read_text())
        args.out.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        moto = Moto()
        work, remove = work_directory(args.work)
        try:
            ctx = Context(
                terraform_binary=terraform,
                terraform_version=tf_version,
                plugin_dir=args.plugin_dir.resolve(),
                aws_version=aws_version,
                moto=moto,
                work=work,
                out=args.out.resolve(),
                project=raw.get("project", "staticip"),
                tables=raw["environments"],
                synth_root=work / "synth",
            )
            for env in ENVIRONMENT_ORDER:
                env_cases = [c for c in cases if c.environment == env]
                if env_cases:
                    run_environment(ctx, env, env_cases)
        finally:
            if remove:
                shutil.rmtree(work, ignore_errors=True)
    except (HarnessError, OSError, subprocess.SubprocessError) as exc:
        log(f"error: {exc}")
        return 1
    finally:
        if moto is not None:
            moto.stop()
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
