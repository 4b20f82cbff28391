"""Environments in their own AWS accounts: `account_id`, `assume_role_arn` and `profile` are
validated, pinned in the synthesized providers and the ENI lookup, and honoured by the
`staticip` commands (moto: assuming a role in another account gives that account's view)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_fixtures import tag_spec
from conftest import synthesized_once, validated_once
from eni_fixtures import REGION, create_lambda_eni, make_network, use_fake_aws
from moto import mock_aws
from tfjson import of_type
from tfvalidate import Validation

from staticip import aws, enis
from staticip.cli import main
from staticip.config import ConfigError, load_config

REPO = Path(__file__).resolve().parent.parent
MOTO_ACCOUNT = "123456789012"
DEV_ACCOUNT = "111111111111"
PROD_ACCOUNT = "222222222222"
DEV_ROLE = f"arn:aws:iam::{DEV_ACCOUNT}:role/staticip-deploy"
PROD_ROLE = f"arn:aws-us-gov:iam::{PROD_ACCOUNT}:role/path/to/staticip-deploy"

TWO_ACCOUNTS = f"""
project = "staticip"

[environments.dev]
egress = "eni-eip"
vpc_cidr = "10.10.0.0/16"
account_id = "{DEV_ACCOUNT}"
assume_role_arn = "{DEV_ROLE}"
profile = "tooling"

[environments.prod]
egress = "nat-gateway"
vpc_cidr = "10.20.0.0/16"
account_id = "{PROD_ACCOUNT}"

[environments.ingress]
ingress = "global-accelerator"
vpc_cidr = "10.30.0.0/16"
account_id = "{PROD_ACCOUNT}"
assume_role_arn = "arn:aws:iam::{PROD_ACCOUNT}:role/staticip-deploy"
"""


#: Sessions and assumed-role credentials are kept per process; moto forgets its roles between
#: tests.
pytestmark = pytest.mark.usefixtures("fresh_roles")


# --- config --------------------------------------------------------------------------------------

BASE = '[environments.dev]\negress = "eni-eip"\nvpc_cidr = "10.0.0.0/16"\n'


@pytest.mark.parametrize(
    ("line", "key", "words"),
    [
        ("account_id = 111111111111", "account_id", "12 digits in quotes, got an integer"),
        ('account_id = "11111111111"', "account_id", "not an AWS account ID"),
        ('account_id = "1111111111112"', "account_id", "not an AWS account ID"),
        # Arabic-Indic digits are digits to Python's `\d`, not to AWS.
        ('account_id = "' + "\u0661" * 12 + '"', "account_id", "not an AWS account ID"),
        ('assume_role_arn = "staticip-deploy"', "assume_role_arn", "not an IAM role ARN"),
        (
            f'assume_role_arn = "arn:aws:iam::{DEV_ACCOUNT}:user/someone"',
            "assume_role_arn",
            "not an IAM role ARN",
        ),
        (
            f'account_id = "{PROD_ACCOUNT}"\nassume_role_arn = "{DEV_ROLE}"',
            "assume_role_arn",
            f"the role is in account {DEV_ACCOUNT} but account_id is {PROD_ACCOUNT}",
        ),
        ('profile = ""', "profile", "non-empty"),
        ('profile = " tooling"', "profile", "non-empty"),
        ("profile = 3", "profile", "expected a string"),
    ],
)
def test_bad_account_settings_are_one_line_naming_the_key(write_config, line, key, words):
    path = write_config(BASE + line + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: environment 'dev', key '{key}'")
    assert words in message, message


def test_exit_2_from_make_synth_entry_point(write_config, tmp_path, capsys):
    from staticip.synth import main as synth_main

    path = write_config(BASE + 'account_id = "42"\n')
    assert synth_main(["--config", str(path), "--outdir", str(tmp_path / "out")]) == 2
    assert "key 'account_id'" in capsys.readouterr().err


def test_good_settings_are_kept(write_config):
    env = load_config(write_config(TWO_ACCOUNTS)).environment("dev")
    assert (env.account_id, env.assume_role_arn, env.profile) == (DEV_ACCOUNT, DEV_ROLE, "tooling")
    other = load_config(write_config(BASE + f'assume_role_arn = "{PROD_ROLE}"\n'))
    assert other.environment("dev").assume_role_arn == PROD_ROLE  # another partition's ARN


# --- synthesized providers and ENI lookup --------------------------------------------------------


@pytest.fixture(scope="module")
def two_accounts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesized_once(tmp_path_factory, "accounts", TWO_ACCOUNTS).outdir


def stack(outdir: Path, name: str) -> dict[str, Any]:
    return json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text())


ROLE_REF = "${var.assume_role_arn}"


def test_every_provider_is_pinned_to_the_environments_account(two_accounts):
    dev = stack(two_accounts, "dev")
    (provider,) = dev["provider"]["aws"]
    assert provider["allowed_account_ids"] == [DEV_ACCOUNT]
    assert provider["assume_role"] == [{"role_arn": ROLE_REF, "session_name": "staticip-dev"}]
    assert provider["profile"] == "tooling"
    # The role is a variable whose default is the configured one, so a plan can pass another
    # role of the same account (-var assume_role_arn=...); allowed_account_ids still applies.
    assert dev["variable"]["assume_role_arn"] | {"description": ""} == {
        "type": "string",
        "nullable": False,
        "default": DEV_ROLE,
        "description": "",
    }

    prod = stack(two_accounts, "prod")
    assert prod["provider"]["aws"][0]["allowed_account_ids"] == [PROD_ACCOUNT]
    assert not {"assume_role", "profile"} & set(prod["provider"]["aws"][0])
    assert "variable" not in prod

    # The accelerator's us-west-2 provider is pinned as well as the regional one.
    ingress = stack(two_accounts, "ingress")
    assert {p.get("alias") for p in ingress["provider"]["aws"]} == {None, "global-accelerator"}
    for provider in ingress["provider"]["aws"]:
        assert provider["allowed_account_ids"] == [PROD_ACCOUNT]
        assert provider["assume_role"][0]["role_arn"] == ROLE_REF
    assert ingress["variable"]["assume_role_arn"]["default"].endswith(
        f"{PROD_ACCOUNT}:role/staticip-deploy"
    )


def test_the_eni_lookup_runs_in_the_environments_account(two_accounts):
    lookups = of_type(stack(two_accounts, "dev"), "external", "data").values()
    assert lookups
    for lookup in lookups:
        # The same variable as the providers: a plan with a read-only role looks ENIs up with it.
        assert lookup["query"]["assume_role_arn"] == ROLE_REF
        assert lookup["query"]["profile"] == "tooling"


def test_without_account_settings_the_providers_are_unchanged(shipped):
    for name in ("dev", "prod", "ingress"):
        assert "variable" not in shipped.stack(name)
        for provider in shipped.stack(name)["provider"]["aws"]:
            assert not {"allowed_account_ids", "assume_role", "profile"} & set(provider)
    lookups = of_type(shipped.stack("dev"), "external", "data").values()
    assert lookups
    for lookup in lookups:
        assert not {"assume_role_arn", "profile"} & set(lookup["query"])


# --- AWS: the role's account, and the wrong account ----------------------------------------------


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Any:
    use_fake_aws(monkeypatch)
    with mock_aws():
        yield


def test_client_with_a_role_works_in_the_roles_account(moto):
    plain = aws.client("sts", REGION)
    assumed = aws.client("sts", REGION, role_arn=DEV_ROLE)
    assert plain.get_caller_identity()["Account"] == MOTO_ACCOUNT
    identity = assumed.get_caller_identity()
    assert identity["Account"] == DEV_ACCOUNT
    assert identity["Arn"].endswith(f":assumed-role/staticip-deploy/{aws.ROLE_SESSION_NAME}")


def test_several_clients_share_one_assume_role_call(moto, monkeypatch):
    calls: list[str] = []
    real = aws.boto3.Session.client

    def counting(self: Any, service: str, *args: Any, **kwargs: Any) -> Any:
        client = real(self, service, *args, **kwargs)
        if service == "sts":
            client.meta.events.register("before-call.sts.AssumeRole", lambda **_: calls.append("x"))
        return client

    monkeypatch.setattr(aws.boto3.Session, "client", counting)
    for service in ("ec2", "lambda", "sts"):
        aws.client(service, REGION, role_arn=DEV_ROLE)
    assert len(calls) == 1


CREDENTIAL_PROCESS = """
import json, sys
with open(sys.argv[1], "a") as runs:
    runs.write("run\\n")
print(json.dumps({"Version": 1, "AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "secret"}))
"""


def test_a_commands_clients_resolve_the_profiles_credentials_once(tmp_path, monkeypatch):
    # A profile whose credentials come from a process, as with credential helpers: each client
    # of a command used to run it again (or, with SSO or a profile's own role, call AWS again).
    runs, script, config = tmp_path / "runs", tmp_path / "creds.py", tmp_path / "config"
    script.write_text(CREDENTIAL_PROCESS)
    config.write_text(f"[profile tooling]\ncredential_process = {sys.executable} {script} {runs}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)

    for service in ("ec2", "lambda", "sts"):
        aws.client(service, REGION, profile="tooling")
    assert runs.read_text().splitlines() == ["run"]

    # Any AWS_* variable changed: another session, which resolves them again.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    aws.client("ec2", REGION, profile="tooling")
    assert runs.read_text().splitlines() == ["run", "run"]


def allocate_tagged_eips(ec2: Any, env: str, azs: list[str]) -> dict[str, str]:
    """AZ -> public IP of an allow-listed EIP as the stack tags it, attached to an ENI."""
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    ips = {}
    for i, az in enumerate(azs):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.10.{i}.0/24", AvailabilityZone=az)
        eni = ec2.create_network_interface(SubnetId=subnet["Subnet"]["SubnetId"])
        address = ec2.allocate_address(
            Domain="vpc",
            TagSpecifications=tag_spec(
                "elastic-ip",
                "staticip",
                env,
                **{"staticip:allow-listed": "true", "staticip:az": az},
            ),
        )
        ec2.associate_address(
            AllocationId=address["AllocationId"],
            NetworkInterfaceId=eni["NetworkInterface"]["NetworkInterfaceId"],
        )
        ips[az] = address["PublicIp"]
    return ips


def test_ips_reads_the_environments_account_through_its_role(moto, write_config, capsys):
    config = write_config(TWO_ACCOUNTS)
    azs = list(load_config(config).environment("dev").azs)
    # The same tags in the caller's own account: a decoy the command must not list.
    decoys = allocate_tagged_eips(boto3.client("ec2", region_name=REGION), "dev", azs)
    ours = allocate_tagged_eips(aws.client("ec2", REGION, role_arn=DEV_ROLE), "dev", azs)
    # moto has no profile "tooling"; the role is assumed with the default credentials.
    config.write_text(config.read_text().replace('profile = "tooling"\n', ""))

    code = main(["ips", "dev", "--format", "json", "--config", str(config)])
    data = json.loads(capsys.readouterr().out)

    assert code == 0
    assert data["account"] == DEV_ACCOUNT
    assert [i["ip"] for i in data["ips"]] == [ours[az] for az in sorted(azs)]
    assert not set(decoys.values()) & {i["ip"] for i in data["ips"]}


@pytest.mark.parametrize("command", ["ips", "doctor", "verify"])
def test_credentials_of_another_account_stop_before_anything_else(
    moto, write_config, capsys, command
):
    # prod names its account but no role: the default (moto) credentials are another account's.
    config = write_config(TWO_ACCOUNTS)

    code = main([command, "prod", "--config", str(config)])
    captured = capsys.readouterr()

    assert code == 2 and captured.out == ""
    line = captured.err.strip()
    assert "\n" not in line and line.startswith(f"staticip {command}: ")
    assert f"account {MOTO_ACCOUNT}" in line and f"account_id {PROD_ACCOUNT}" in line


def test_the_resolver_finds_enis_in_the_roles_account(moto):
    ec2 = aws.client("ec2", REGION, role_arn=DEV_ROLE)
    net = make_network(ec2, subnets=1, security_groups=1)
    eni = create_lambda_eni(ec2, net.subnet_ids[0], net.security_group_ids)
    query = {
        "region": REGION,
        "subnet_ids": net.subnet_ids[0],
        "security_group_ids": net.security_group_ids[0],
        "timeout_seconds": "0.1",
        "assume_role_arn": DEV_ROLE,
    }
    out, err = io.StringIO(), io.StringIO()

    code = enis.external_main(io.StringIO(json.dumps(query)), out, err, sleep=lambda _: None)

    assert code == 0, err.getvalue()
    assert json.loads(out.getvalue()) == {net.subnet_ids[0]: eni}
    # Without the role the same query looks in the caller's account and finds nothing.
    del query["assume_role_arn"]
    out, err = io.StringIO(), io.StringIO()
    assert enis.external_main(io.StringIO(json.dumps(query)), out, err, sleep=lambda _: None) == 1


@pytest.fixture(scope="module")
def accounts_validation(two_accounts, tmp_path_factory) -> Validation:
    """The three stacks in one `terraform validate`, as the shipped stacks get theirs
    (tests/tfvalidate.py; skipped, with the reason, without a terraform binary and mirror)."""
    return validated_once(
        tmp_path_factory,
        "validation-accounts",
        lambda: {name: stack(two_accounts, name) for name in ("dev", "prod", "ingress")},
    )


@pytest.mark.terraform
@pytest.mark.parametrize("name", ["dev", "prod", "ingress"])
def test_the_pinned_stacks_are_valid_terraform(accounts_validation, name):
    accounts_validation.assert_valid(name)


# --- the pull-request plan with a read-only role per account -------------------------------------


def plan_role_arguments(plan_roles: str, env: str) -> list[str]:
    """Run the workflow's own role-selection lines in bash and return the extra plan args."""
    import shutil
    import subprocess

    import yaml

    from stacks.environment import ROLE_VARIABLE

    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "plan.yml").read_text())
    (job,) = workflow["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("id") == "plan"]
    assert step["env"]["PLAN_ROLES"] == "${{ vars.AWS_PLAN_ROLE_ARNS || '{}' }}"
    script = step["run"]
    assert '"${role_var[@]}"' in script.split("plan -input=false", 1)[1]
    assert f'-var "{ROLE_VARIABLE}=$role"' in script
    lines = [
        line.strip()
        for line in script.splitlines()
        if line.strip().startswith(("role=", "role_var=", 'if [ -n "$role" ]'))
    ]
    assert len(lines) == 3, lines
    bash = shutil.which("bash")
    assert bash and shutil.which("jq"), "bash and jq run the workflow (ubuntu-latest has both)"
    result = subprocess.run(
        [bash, "-eo", "pipefail", "-c", "\n".join(lines) + '\nprintf "%s\\n" "${role_var[@]}"'],
        env={"PATH": "/usr/bin:/bin", "PLAN_ROLES": plan_roles, "env": env},
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if line]


def test_the_plan_workflow_swaps_in_the_read_only_role_of_a_listed_environment():
    plan_role = f"arn:aws:iam::{DEV_ACCOUNT}:role/staticip-plan"
    roles = json.dumps({"dev": plan_role})
    assert plan_role_arguments(roles, "dev") == ["-var", f"assume_role_arn={plan_role}"]
    assert plan_role_arguments(roles, "prod") == []
    assert plan_role_arguments("{}", "dev") == []
