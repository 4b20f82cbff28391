"""`make e2e`: the stacks under real Terraform, against moto on 127.0.0.1, with no network.

Synthesized JSON is not a plan: when Terraform reads a data source, what it replaces and what
`prevent_destroy` stops are Terraform's decisions, so they are asserted on what `terraform plan`
and `terraform destroy` really do. Providers come only from the local mirror
(`STATICIP_TF_PLUGIN_DIR`); the tests skip, saying why, where there is no `terraform` binary or
no hashicorp/aws in the mirror.

What is not real, and why:
- The mirror has no hashicorp/external, so each dev ENI lookup is replaced by a
  `data.aws_network_interface` that reads the same `terraform_data` outputs
  (`tfharness.stand_in_eni_lookups`): Terraform decides when to read it exactly as it decides for
  the real lookup, which `tests/test_dev_wiring.py` runs against the resolver.
- moto makes no Hyperplane ENIs: `tfharness.lambda_creates_enis` has moto's Lambda create them
  when a function is created or changes its VPC config, as Lambda does.
- moto ignores `MaxEntries` (and drops the name) when a managed prefix list is modified:
  `tfharness.prefix_lists_take_their_new_size` applies it, as AWS does.
- moto keeps a launch template's own tags in its data as a `launch-template` tag
  specification, so every plan would update the NAT instances' templates;
  `tfharness.launch_templates_keep_their_own_tags` keeps them on the template, as AWS does.
  moto runs no user data: the NAT instance test attaches each static ENI as the boot script
  would (the script itself is tested in `tests/test_nat_instance_boot.py`).
- moto leaves an ENI attached to the instance it terminates: `tfharness.
  terminated_instances_release_their_enis` detaches it, as EC2 does.
- moto has no Global Accelerator: the `ingress` environment is not applied here (its plans are
  covered by the constructed-state fixtures in `tests/fixtures/plans`).
- The provider is the mirror's 5.100.0, not the 6.25.0 the stacks pin; every attribute the stacks
  use exists in both.
"""

from __future__ import annotations

import json
import shutil
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_fixtures import moto_function
from tfharness import (
    DEFAULT_PLUGIN_DIR,
    Moto,
    Terraform,
    environment_toml,
    lambda_creates_enis,
    launch_templates_keep_their_own_tags,
    merged_table,
    mirrored_aws_version,
    missing_tools,
    moto_provider_settings,
    patch_for_moto,
    prefix_lists_take_their_new_size,
    stand_in_eni_lookups,
    terminated_instances_release_their_enis,
)
from tfjson import by_path

from staticip.config import load_config
from staticip.functions import list_functions
from staticip.ips import RETAINED, IpsClients, run_ips
from staticip.names import NAT_INSTANCE_TAG
from staticip.prices import load_prices
from staticip.review.command import BLOCKER, WARNING, review_plan

pytestmark = pytest.mark.terraform

REPO = Path(__file__).resolve().parent.parent
SHIPPED = tomllib.loads((REPO / "staticip.toml").read_text())
REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    reason = missing_tools()
    if reason:
        pytest.skip(reason)
    server = Moto()
    undo = lambda_creates_enis()
    undo_prefix_lists = prefix_lists_take_their_new_size()
    undo_templates = launch_templates_keep_their_own_tags()
    undo_terminate = terminated_instances_release_their_enis()
    try:
        yield server
    finally:
        undo_terminate()
        undo_templates()
        undo_prefix_lists()
        undo()
        server.stop()


class SavedPlan(Mapping[str, Any]):
    """A plan Terraform saved, as `terraform show -json` prints it; shown when a test first
    reads it. Most re-plans assert only their exit code and read the plan just to say what
    changed when that fails, and a `show` costs ~2 s and a provider start. Each plan has a
    file of its own, so a plan read late is still the plan it was."""

    def __init__(self, tf: Terraform, path: str) -> None:
        self.tf, self.path = tf, path
        self._document: dict[str, Any] | None = None

    def _shown(self) -> dict[str, Any]:
        if self._document is None:
            shown = self.tf.run("show", "-json", "-no-color", self.path)
            self._document = json.loads(shown.stdout)
        return self._document

    def __getitem__(self, key: str) -> Any:
        return self._shown()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._shown())

    def __len__(self) -> int:
        return len(self._shown())


class Deployment:
    """One environment synthesized from staticip.toml (with changes laid over its table),
    patched for moto and planned, applied or destroyed by real Terraform in one work dir."""

    def __init__(self, name: str, moto: Moto, root: Path, table: str | None = None) -> None:
        """`table`: the staticip.toml environment to start from (default: `name`'s)."""
        self.name, self.moto, self.root = name, moto, root
        self.table = SHIPPED["environments"][table or name]
        self.workdir = root / "work"
        self.workdir.mkdir(parents=True)
        # The config's home: declared functions' sources are relative to it, so it holds a copy
        # of lambda_src/ that a test may edit (a code change) before it synthesizes again.
        self.code_root = root / "code"
        shutil.copytree(REPO / "lambda_src", self.code_root / "lambda_src")
        self.aws_version = mirrored_aws_version(DEFAULT_PLUGIN_DIR)
        self.tf = Terraform(
            shutil.which("terraform") or "terraform", self.workdir, DEFAULT_PLUGIN_DIR
        )
        self.synths = 0
        self.plans = 0
        self.stack: dict[str, Any] = {}

    def synth(self, **changes: Any) -> dict[str, Any]:
        """Synthesize the environment with `changes` laid over its table and make it the
        configuration Terraform sees next."""
        from staticip.synth import synthesize

        table = merged_table(self.table, changes)
        self.synths += 1
        root = self.root / f"synth-{self.synths}"
        root.mkdir()
        config = self.code_root / "staticip.toml"
        config.write_text(environment_toml(SHIPPED.get("project", "staticip"), self.name, table))
        synthesize(config, root / "cdktf.out")
        stack_dir = root / "cdktf.out" / "stacks" / self.name
        stack = json.loads((stack_dir / "cdk.tf.json").read_text())
        patch_for_moto(stack, self.moto.endpoint, self.aws_version)
        if "external" in stack.get("data", {}):
            stand_in_eni_lookups(stack)
        # A fresh assets directory: the code of this synthesis, not of the one before.
        shutil.rmtree(self.workdir / "assets", ignore_errors=True)
        self.tf.write_stack(stack, stack_dir)
        self.stack = stack
        return stack

    def init(self) -> None:
        self.tf.init()

    def apply(self, *extra: str) -> None:
        self.tf.run("apply", "-auto-approve", "-input=false", "-no-color", *extra)

    def apply_planned(self) -> None:
        """Apply the plan the last `plan()` saved, as the deploy workflow applies the reviewed
        plan: Terraform does not refresh and plan again (one provider walk less)."""
        self.tf.run("apply", "-input=false", "-no-color", self.plan_file())

    def plan_file(self) -> str:
        return f"e2e-{self.plans}.tfplan"

    def plan(self, *extra: str) -> tuple[int, SavedPlan]:
        """`terraform plan -detailed-exitcode`: (0 no changes | 2 changes, the plan's JSON)."""
        self.plans += 1
        result = self.tf.run(
            "plan",
            f"-out={self.plan_file()}",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            *extra,
            ok=(0, 2),
        )
        return result.returncode, SavedPlan(self.tf, self.plan_file())

    def destroy(self, *extra: str, ok: tuple[int, ...] = (0,)) -> str:
        result = self.tf.run("destroy", "-auto-approve", "-input=false", "-no-color", *extra, ok=ok)
        return result.stdout + result.stderr

    def state(self) -> dict[str, Any]:
        path = self.workdir / "terraform.tfstate"
        return json.loads(path.read_text()) if path.exists() else {"resources": []}

    def ids(self, rtype: str) -> dict[str, str]:
        """Logical ID -> `id` of each managed resource of `rtype` in the state."""
        return {
            r["name"]: r["instances"][0]["attributes"]["id"]
            for r in self.state()["resources"]
            if r["mode"] == "managed" and r["type"] == rtype and r["instances"]
        }

    def lid(self, rtype: str, suffix: str, kind: str = "resource") -> str:
        """The logical ID of the one `rtype` whose construct path ends with `suffix`."""
        return by_path(self.stack, rtype, suffix, kind)[0]


def deferred_lookups(plan: Mapping[str, Any]) -> dict[str, str]:
    """ENI lookups Terraform could not read while planning: address -> action_reason."""
    return {
        rc["address"]: rc.get("action_reason", "")
        for rc in plan.get("resource_changes", [])
        if rc["mode"] == "data"
        and rc["type"] == "aws_network_interface"
        and "read" in rc["change"]["actions"]
    }


def changes_of(plan: Mapping[str, Any], rtype: str) -> dict[str, list[str]]:
    """Address -> planned actions of every managed `rtype` (no-ops included)."""
    return {
        rc["address"]: rc["change"]["actions"]
        for rc in plan.get("resource_changes", [])
        if rc["mode"] == "managed" and rc["type"] == rtype
    }


def planned(plan: Mapping[str, Any]) -> dict[str, list[str]]:
    """Address -> actions of what a plan would change (no-ops and reads left out)."""
    return {
        rc["address"]: rc["change"]["actions"]
        for rc in plan.get("resource_changes", [])
        if rc["change"]["actions"] not in (["no-op"], ["read"])
    }


def allow_listed_addresses(moto: Moto, environment: str) -> list[dict[str, Any]]:
    ec2 = moto.client("ec2", REGION)
    return ec2.describe_addresses(
        Filters=[
            {"Name": "tag:environment", "Values": [environment]},
            {"Name": "tag:staticip:allow-listed", "Values": ["true"]},
        ]
    )["Addresses"]


def lambda_eni(moto: Moto, subnet_id: str) -> str:
    ec2 = moto.client("ec2", REGION)
    (eni,) = ec2.describe_network_interfaces(
        Filters=[
            {"Name": "subnet-id", "Values": [subnet_id]},
            {"Name": "interface-type", "Values": ["lambda"]},
        ]
    )["NetworkInterfaces"]
    return eni["NetworkInterfaceId"]


def test_prod_apply_replan_protected_destroy(moto, tmp_path):
    prod = Deployment("prod", moto, tmp_path)
    prod.synth()
    prod.init()
    prod.apply()
    assert len(allow_listed_addresses(moto, "prod")) == 2

    code, plan = prod.plan()
    assert code == 0, f"re-plan right after apply is not empty: {plan.get('resource_changes')}"

    # prevent_destroy lives in the configuration: Terraform refuses before it touches anything.
    output = prod.destroy(ok=(1,))
    assert "Instance cannot be destroyed" in output
    assert len(allow_listed_addresses(moto, "prod")) == 2

    prod.synth(protect_ips=False)
    prod.destroy()
    assert allow_listed_addresses(moto, "prod") == []
    assert prod.ids("aws_eip") == {}


def test_dev_lifecycle(moto, tmp_path, monkeypatch):
    dev = Deployment("dev", moto, tmp_path)
    dev.synth()
    dev.init()
    dev.apply()
    subnets = dev.ids("aws_subnet")
    addresses = {a["AllocationId"]: a for a in allow_listed_addresses(moto, "dev")}
    assert len(addresses) == 2
    # Each EIP sits on the Lambda ENI of its own AZ's subnet.
    for az in ("us-east-1a", "us-east-1b"):
        subnet = subnets[dev.lid("aws_subnet", f"/public-{az}")]
        (address,) = [
            a for a in addresses.values() if a.get("NetworkInterfaceId") == lambda_eni(moto, subnet)
        ]
        assert {t["Key"]: t["Value"] for t in address["Tags"]}["staticip:az"] == az

    code, plan = dev.plan()
    assert code == 0, f"re-plan right after apply is not empty: {plan.get('resource_changes')}"
    assert_guard_deployed(moto, dev)

    # --- 1. a deploy that is not a network change keeps every association --------------------
    # 1a. Code only: the function, and nothing else, changes; no data source waits for apply.
    source = tmp_path / "lambda_src"
    shutil.copytree(REPO / "lambda_src", source)
    handler = source / "egress_probe" / "handler.py"
    handler.write_text(handler.read_text() + "\n# a code change\n")
    monkeypatch.setattr("stacks.function.LAMBDA_SRC", source)
    dev.synth()
    code, plan = dev.plan()
    assert code == 2
    changed = {
        rc["address"]: rc["change"]["actions"]
        for rc in plan["resource_changes"]
        if rc["change"]["actions"] != ["no-op"]
    }
    (probe,) = [a for a in changed if a.startswith("aws_lambda_function.egress-probe")]
    assert changed == {probe: ["update"]}, changed
    dev.apply_planned()

    # 1b. Memory, timeout and a tag: the tag reaches the EIPs and subnets too (in-place).
    dev.synth(
        function={"memory_mb": 512, "timeout_seconds": 20},
        tags={"owner": "platform", "cost-center": "42"},
    )
    code, plan = dev.plan()
    assert code == 2
    assert changes_of(plan, "aws_lambda_function")[probe] == ["update"]
    assert set(map(tuple, changes_of(plan, "aws_eip").values())) == {("update",)}
    assert deferred_lookups(plan) == {}, "the ENI lookups must be read while planning"
    associations = changes_of(plan, "aws_eip_association")
    assert len(associations) == 2
    assert all(actions == ["no-op"] for actions in associations.values()), associations
    dev.apply_planned()
    code, plan = dev.plan()
    assert code == 0, plan.get("resource_changes")

    # --- 2. a new AZ: only its lookup waits for the function to move ------------------------
    dev.synth(
        function={"memory_mb": 512, "timeout_seconds": 20},
        tags={"owner": "platform", "cost-center": "42"},
        az_count=3,
    )
    code, plan = dev.plan()
    new = dev.lid("aws_network_interface", "/enis-us-east-1c", "data")
    assert set(deferred_lookups(plan)) == {f"data.aws_network_interface.{new}"}
    associations = changes_of(plan, "aws_eip_association")
    assert sorted(map(tuple, associations.values())) == [("create",), ("no-op",), ("no-op",)]
    dev.apply_planned()
    subnet_c = dev.ids("aws_subnet")[dev.lid("aws_subnet", "/public-us-east-1c")]
    eni_c = lambda_eni(moto, subnet_c)
    held = {
        a["NetworkInterfaceId"]
        for a in allow_listed_addresses(moto, "dev")
        if a.get("NetworkInterfaceId")
    }
    assert eni_c in held, "the new AZ's EIP must land on the ENI Lambda made after the move"
    changes_so_far = {
        "function": {"memory_mb": 512, "timeout_seconds": 20},
        "tags": {"owner": "platform", "cost-center": "42"},
        "az_count": 3,
    }

    # --- 3. a network change defers every lookup until after the function moved ------------
    dev.synth(**changes_so_far, vpc_cidr="10.11.0.0/16")
    code, plan = dev.plan()
    # Unknown until the new subnets exist and the function moved: terraform_data references the
    # function, so it, and the lookups after it, wait for that update.
    assert sorted(deferred_lookups(plan).values()) == ["read_because_config_unknown"] * 3
    associations = changes_of(plan, "aws_eip_association")
    assert len(associations) == 3
    assert all(set(actions) == {"create", "delete"} for actions in associations.values())

    # --- 4. protected, then an idle environment destroyed with the documented command -------
    dev.synth(**changes_so_far)
    output = dev.destroy(ok=(1,))
    assert "Instance cannot be destroyed" in output
    assert len(allow_listed_addresses(moto, "dev")) == 3

    make_inactive(moto, "staticip-dev-egress-probe")
    dev.synth(**changes_so_far, protect_ips=False)
    # A plain destroy refreshes, which reads the lookups: with the ENIs gone it fails (the real
    # resolver fails at once on an Inactive function, naming `staticip wake`).
    dev.destroy(ok=(1,))
    assert len(allow_listed_addresses(moto, "dev")) == 3
    # docs/destroying.md: skip the refresh, and with it the lookups.
    output = dev.destroy("-refresh=false")
    assert allow_listed_addresses(moto, "dev") == []
    assert dev.ids("aws_eip") == {} and dev.ids("aws_lambda_function") == {}
    # The ENI guard's triggers, permissions and function go before any EIP is disassociated,
    # so a late guard run cannot put an EIP back while Terraform releases it.
    lines = output.splitlines()
    # What lets the guard act: its function, its triggers, its permissions (its log group and
    # role may go later: without the function nothing runs).
    acting = (
        "aws_lambda_function.eni-guard",
        "aws_lambda_permission.eni-guard",
        "aws_iam_role_policy.eni-guard",
        "aws_cloudwatch_event_rule.eni-guard",
        "aws_cloudwatch_event_target.eni-guard",
    )
    guard_gone = [
        i
        for i, line in enumerate(lines)
        if line.startswith(acting) and "Destruction complete" in line
    ]
    disassociating = [
        i
        for i, line in enumerate(lines)
        if line.startswith("aws_eip_association.") and "Destroying..." in line
    ]
    assert any(lines[i].startswith("aws_lambda_function.eni-guard") for i in guard_gone)
    assert disassociating
    assert max(guard_gone) < min(disassociating)


def assert_guard_deployed(moto: Moto, dev: Deployment) -> None:
    """One guard run at a time, allowed to move exactly the EIPs the stack associates."""
    lambda_client = moto.client("lambda", REGION)
    guard = lambda_client.get_function(FunctionName="staticip-dev-eni-guard")
    # No reservation (a small account refuses it): its lock table keeps runs apart instead.
    assert "Concurrency" not in guard
    variables = guard["Configuration"]["Environment"]["Variables"]
    table = moto.client("dynamodb", REGION).describe_table(TableName=variables["LOCK_TABLE"])
    assert table["Table"]["KeySchema"] == [{"AttributeName": "environment", "KeyType": "HASH"}]
    associated = {
        r["instances"][0]["attributes"]["allocation_id"]
        for r in dev.state()["resources"]
        if r["type"] == "aws_eip_association"
    }
    assert set(variables["ALLOCATION_IDS"].split(",")) == associated
    role = guard["Configuration"]["Role"].rsplit("/", 1)[-1]
    policies = moto.client("iam", REGION).list_role_policies(RoleName=role)["PolicyNames"]
    assert sorted(policies) == sorted(
        ["eni-guard"] + [f"eni-guard-associate-us-east-1{z}" for z in "ab"]
    )


def make_inactive(moto: Moto, function_name: str) -> None:
    """What Lambda does after 14 idle days: the function goes Inactive and its Hyperplane ENIs
    are reclaimed (their EIPs come off with them)."""
    from moto.ec2.models import ec2_backends

    ec2 = moto.client("ec2", REGION)
    moto_function(function_name).state = "Inactive"
    lambda_enis = {
        (account, eni_id)
        for account in list(ec2_backends.keys())
        for eni_id, eni in ec2_backends[account][REGION].enis.items()
        if getattr(eni, "interface_type", "") == "lambda"
    }
    reclaimed = {eni_id for _, eni_id in lambda_enis}
    for address in ec2.describe_addresses()["Addresses"]:
        if address.get("NetworkInterfaceId") in reclaimed:
            ec2.disassociate_address(AssociationId=address["AssociationId"])
    for account, eni_id in lambda_enis:
        del ec2_backends[account][REGION].enis[eni_id]


# --- the user's own functions -------------------------------------------------------------------

ATTACH_SNIPPET = REPO / "docs" / "attach" / "terraform" / "main.tf"


def test_declared_functions_share_the_ips_and_change_alone(moto, tmp_path):
    """Two declared functions beside the probe in a dev environment: one ENI lookup and one
    association per AZ for all three; a code or settings change of one function plans a change
    of that function only (no lookup read at apply time, no association replaced). Then a
    function deployed with plain Terraform (README's snippet) attaches through the SSM
    parameters and shares the same ENIs, so the same EIPs."""
    env_name = "fndev"
    fns = Deployment(env_name, moto, tmp_path / "env", table="dev")
    shutil.copytree(
        fns.code_root / "lambda_src" / "example_worker", fns.code_root / "lambda_src" / "billing"
    )
    functions = {
        "worker": {"source": "lambda_src/example_worker"},
        "billing": {"source": "lambda_src/billing", "memory_mb": 256},
    }
    base = {"vpc_cidr": "10.12.0.0/16", "functions": functions}
    fns.synth(**base)
    fns.init()
    fns.apply()
    assert len(fns.ids("aws_eip_association")) == 2
    code, plan = fns.plan()
    assert code == 0, f"re-plan right after apply is not empty: {plan.get('resource_changes')}"
    billing = fns.lid("aws_lambda_function", "/function-billing/function")

    # A code change of one function.
    handler = fns.code_root / "lambda_src" / "billing" / "handler.py"
    handler.write_text(handler.read_text() + "\n# billing changed\n")
    fns.synth(**base)
    code, plan = fns.plan()
    assert code == 2
    changed = {
        rc["address"]: rc["change"]["actions"]
        for rc in plan["resource_changes"]
        if rc["change"]["actions"] != ["no-op"]
    }
    assert changed == {f"aws_lambda_function.{billing}": ["update"]}, changed
    assert deferred_lookups(plan) == {}
    assert set(map(tuple, changes_of(plan, "aws_eip_association").values())) == {("no-op",)}
    fns.apply_planned()

    # A settings change of the same function: likewise.
    billing_512 = {**functions, "billing": {**functions["billing"], "memory_mb": 512}}
    fns.synth(**base | {"functions": billing_512})
    code, plan = fns.plan()
    changed = {
        rc["address"]: rc["change"]["actions"]
        for rc in plan["resource_changes"]
        if rc["change"]["actions"] != ["no-op"]
    }
    assert changed == {f"aws_lambda_function.{billing}": ["update"]}, changed
    assert deferred_lookups(plan) == {}
    fns.apply_planned()

    # README's plain-Terraform snippet, applied in its own directory against moto.
    attach = tmp_path / "attach"
    attach.mkdir()
    shutil.copy(ATTACH_SNIPPET, attach / "main.tf")
    with zipfile.ZipFile(attach / "vendor_client.zip", "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'ok'\n")
    # An override file merges into the snippet's own provider block: moto, fake keys.
    override = {"provider": {"aws": moto_provider_settings(moto.endpoint)}}
    (attach / "moto_override.tf.json").write_text(json.dumps(override))
    tf = Terraform(shutil.which("terraform") or "terraform", attach, DEFAULT_PLUGIN_DIR)
    tf.init()
    tf.run("apply", "-auto-approve", "-input=false", "-no-color", f"-var=environment={env_name}")

    lambda_client = moto.client("lambda", REGION)
    attached = lambda_client.get_function_configuration(FunctionName="vendor-client")
    sg = fns.ids("aws_security_group")[fns.lid("aws_security_group", "/function-sg/sg")]
    public = {
        fns.ids("aws_subnet")[fns.lid("aws_subnet", f"/public-{az}")]
        for az in ("us-east-1a", "us-east-1b")
    }
    assert attached["VpcConfig"]["SecurityGroupIds"] == [sg]
    assert set(attached["VpcConfig"]["SubnetIds"]) == public
    # It shares the declared functions' ENIs, each holding its AZ's allow-listed EIP.
    env = load_config(fns.code_root / "staticip.toml").environment(env_name)
    report = list_functions(moto.client("ec2", REGION), lambda_client, "staticip", env)
    rows = {f.name: f for f in report.functions}
    assert set(rows) == {
        *env.egress_function_names,
        *env.canary_function_names("staticip"),
        "vendor-client",
    }
    assert all(f.allow_listed for f in rows.values()), report.problems
    assert not rows["vendor-client"].declared
    ips = {a["PublicIp"] for a in allow_listed_addresses(moto, env_name)}
    assert set(rows["vendor-client"].egress_ips) == ips


# --- forget, don't release (issue 19.1) ---------------------------------------------------------


def test_an_az_removed_keeps_its_eip_and_adopting_it_plans_no_new_one(moto, tmp_path):
    """prod's table with three AZs, then two: the dropped AZ's EIP leaves the state but stays
    allocated with its tags (the stack's `removed` block); adopting it back creates none."""
    keep = Deployment("keep", moto, tmp_path, table="prod")
    three = ["us-east-1a", "us-east-1b", "us-east-1c"]
    keep.synth(azs=three)
    keep.init()
    keep.apply()
    by_az = {
        {t["Key"]: t["Value"] for t in a["Tags"]}["staticip:az"]: a
        for a in allow_listed_addresses(moto, "keep")
    }
    assert sorted(by_az) == three
    dropped = by_az["us-east-1c"]["AllocationId"]
    (address,) = [f"aws_eip.{lid}" for lid, eip in keep.ids("aws_eip").items() if eip == dropped]

    keep.synth(azs=three[:2])
    code, plan = keep.plan()
    assert code == 2
    assert changes_of(plan, "aws_eip")[address] == ["forget"]
    findings = review_plan("keep", plan, load_prices()).findings
    assert [f.code for f in findings if f.severity == BLOCKER] == []
    (retained,) = [f for f in findings if f.code == "eip-retained"]
    assert retained.severity == WARNING and retained.ips == (by_az["us-east-1c"]["PublicIp"],)
    # Terraform deletes the dropped AZ's subnets before it updates the functions leaving them
    # (it destroys a former dependency first), and EC2 refuses to delete a subnet holding a
    # Lambda ENI: so the functions move first, then the rest (README, "Removing an AZ").
    functions = [f"-target=aws_lambda_function.{lid}" for lid in keep.ids("aws_lambda_function")]
    keep.apply(*functions)
    keep.apply()

    # Still allocated in AWS, with the tags that find it; no longer Terraform's.
    (still,) = moto.client("ec2", REGION).describe_addresses(AllocationIds=[dropped])["Addresses"]
    assert {t["Key"]: t["Value"] for t in still["Tags"]}["staticip:az"] == "us-east-1c"
    assert dropped not in keep.ids("aws_eip").values() and len(keep.ids("aws_eip")) == 2
    code, plan = keep.plan()
    assert code == 0, f"re-plan after the forget is not empty: {planned(plan)}"
    clients = IpsClients(ec2=moto.client("ec2", REGION), sts=moto.client("sts", REGION))
    result, report = run_ips(keep.code_root / "staticip.toml", "keep", "json", clients=clients)
    assert result.exit_code == 0 and report is not None
    assert {i.ip: i.status for i in report.ips}[still["PublicIp"]] == RETAINED
    (line,) = report.retained
    assert f'reuse_eip_allocation_ids = {{ "us-east-1c" = "{dropped}" }}' in line

    # The line adopts it: AZ c comes back on the same address, and no EIP is created.
    keep.synth(azs=three, reuse_eip_allocation_ids={"us-east-1c": dropped})
    code, plan = keep.plan()
    assert code == 2
    assert not [a for a, acts in changes_of(plan, "aws_eip").items() if "create" in acts]
    nats = [
        rc["change"]["after"]
        for rc in plan["resource_changes"]
        if rc["type"] == "aws_nat_gateway" and "create" in rc["change"]["actions"]
    ]
    assert [n["allocation_id"] for n in nats] == [dropped]

    keep.synth(azs=three[:2], protect_ips=False)
    keep.destroy()
    assert keep.ids("aws_eip") == {}


# --- nat-instance -------------------------------------------------------------------------------


def nat_enis(moto: Moto, environment: str) -> dict[str, dict[str, Any]]:
    """AZ -> the static ENI of that AZ's NAT instance, as EC2 describes it."""
    ec2 = moto.client("ec2", REGION)
    enis = ec2.describe_network_interfaces(
        Filters=[
            {"Name": "tag:environment", "Values": [environment]},
            {"Name": "tag-key", "Values": [NAT_INSTANCE_TAG]},
        ]
    )["NetworkInterfaces"]
    return {next(t["Value"] for t in e["TagSet"] if t["Key"] == NAT_INSTANCE_TAG): e for e in enis}


def nat_group_instances(moto: Moto, names: list[str]) -> dict[str, list[str]]:
    groups = moto.client("autoscaling", REGION).describe_auto_scaling_groups(
        AutoScalingGroupNames=names
    )["AutoScalingGroups"]
    return {g["AutoScalingGroupName"]: [i["InstanceId"] for i in g["Instances"]] for g in groups}


def test_nat_instance_apply_replan_replacement_protected_destroy(moto, tmp_path):
    """The shipped `budget` environment: two NAT AZs, each a static ENI with its EIP and an
    Auto Scaling group of one instance. moto runs no user data, so the test attaches the ENI
    as the boot script would."""
    budget = Deployment("budget", moto, tmp_path)
    budget.synth()
    budget.init()
    budget.apply()

    addresses = {a["AllocationId"]: a for a in allow_listed_addresses(moto, "budget")}
    enis = nat_enis(moto, "budget")
    assert sorted(enis) == ["us-east-1a", "us-east-1b"] and len(addresses) == 2
    for eni in enis.values():
        assert eni["SourceDestCheck"] is False
        assert eni["Association"]["AllocationId"] in addresses
        assert addresses[eni["Association"]["AllocationId"]]["Tags"]
    ec2 = moto.client("ec2", REGION)
    # Each private route table sends 0.0.0.0/0 to its own AZ's ENI.
    private = {
        s["SubnetId"]: s["AvailabilityZone"]
        for s in ec2.describe_subnets(
            Filters=[
                {"Name": "tag:environment", "Values": ["budget"]},
                {"Name": "tag:tier", "Values": ["private"]},
            ]
        )["Subnets"]
    }
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": list(private)}]
    )["RouteTables"]
    for table in tables:
        (subnet,) = [a["SubnetId"] for a in table["Associations"] if a.get("SubnetId")]
        (default,) = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        assert default["NetworkInterfaceId"] == enis[private[subnet]]["NetworkInterfaceId"]
    names = [g["name"] for g in budget.stack["resource"]["aws_autoscaling_group"].values()]
    instances = nat_group_instances(moto, names)
    assert sorted(len(ids) for ids in instances.values()) == [1, 1]

    code, plan = budget.plan()
    assert code == 0, f"re-plan right after apply is not empty: {planned(plan)}"

    # What the boot script does, then what the group does when that instance fails: the
    # replacement attaches the same ENI. The EIP never moved, and Terraform has nothing to do.
    az = "us-east-1a"
    groups = budget.stack["resource"]["aws_autoscaling_group"]
    group = groups[budget.lid("aws_autoscaling_group", f"/group-{az}")]["name"]
    eni_id = enis[az]["NetworkInterfaceId"]
    ip = enis[az]["Association"]["PublicIp"]
    (first,) = instances[group]
    ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=first, DeviceIndex=1)
    code, plan = budget.plan()
    assert code == 0, f"an attached ENI plans changes: {planned(plan)}"
    moto.client("autoscaling", REGION).terminate_instance_in_auto_scaling_group(
        InstanceId=first, ShouldDecrementDesiredCapacity=False
    )
    (second,) = nat_group_instances(moto, [group])[group]
    assert second != first
    (released,) = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    assert released["Status"] == "available"
    ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=second, DeviceIndex=1)
    assert nat_enis(moto, "budget")[az]["Association"]["PublicIp"] == ip
    code, plan = budget.plan()
    assert code == 0, f"a replaced instance plans changes: {planned(plan)}"

    # staticip review on real plans: the ENI replaced blocks, the group replaced warns.
    eni_address = f"aws_network_interface.{budget.lid('aws_network_interface', f'/eni-{az}')}"
    group_address = f"aws_autoscaling_group.{budget.lid('aws_autoscaling_group', f'/group-{az}')}"
    prices = load_prices()
    code, plan = budget.plan(f"-replace={eni_address}")
    assert code == 2
    findings = {f.code: f for f in review_plan("budget", plan, prices).findings}
    assert findings["nat-eni-replaced"].severity == BLOCKER
    assert findings["nat-eni-replaced"].ips == (ip,)
    code, plan = budget.plan(f"-replace={group_address}")
    found = review_plan("budget", plan, prices).findings
    assert [(f.severity, f.code) for f in found] == [(WARNING, "nat-instance-group-replaced")]

    # prevent_destroy on the EIPs: Terraform refuses before it touches anything.
    output = budget.destroy(ok=(1,))
    assert "Instance cannot be destroyed" in output
    assert len(allow_listed_addresses(moto, "budget")) == 2

    budget.synth(protect_ips=False)
    budget.destroy()
    assert allow_listed_addresses(moto, "budget") == []
    assert nat_enis(moto, "budget") == {}
    assert nat_group_instances(moto, names) == {}
