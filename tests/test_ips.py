"""`staticip ips ENV`: the addresses to hand to a vendor, from AWS (moto; Global Accelerator
through botocore's Stubber, which moto lacks) or from Terraform outputs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_fixtures import SHIPPED_CONFIG, deploy_eni_eip, deploy_nat, shipped_config, tag_spec
from botocore.stub import Stubber
from eni_fixtures import REGION, use_fake_aws
from moto import mock_aws

from staticip.cli import main
from staticip.ips import IpsClients, run_ips

PROJECT = "staticip"
CONFIG = str(SHIPPED_CONFIG)
PLANS = Path(__file__).resolve().parent / "fixtures" / "plans"
ACCELERATOR_ARN = "arn:aws:globalaccelerator::123456789012:accelerator/1234abcd-abcd-1234-abcd"
GA_IPS = ["75.2.101.10", "99.83.202.20"]


#: Assumed-role credentials are cached per process; moto forgets them between tests.
pytestmark = pytest.mark.usefixtures("fresh_roles")


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Any:
    use_fake_aws(monkeypatch)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield types_namespace()


def types_namespace() -> Any:
    import types

    return types.SimpleNamespace(
        ec2=boto3.client("ec2", region_name=REGION),
        lambda_client=boto3.client("lambda", region_name=REGION),
        iam=boto3.client("iam", region_name=REGION),
    )


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["ips", *args, "--config", CONFIG])
    out = capsys.readouterr()
    return code, out.out, out.err


# --- egress from AWS ---------------------------------------------------------------------------


def test_deployed_dev_lists_each_azs_eip_as_attached(moto, capsys):
    dep = deploy_eni_eip(moto.ec2, moto.lambda_client, moto.iam, PROJECT, "dev")

    code, out, err = run(["dev"], capsys)

    assert code == 0, err
    for az in dep.env.azs:
        row = next(line for line in out.splitlines() if line.startswith(f"egress     {az}"))
        assert dep.ip(az) in row and f"{dep.ip(az)}/32" in row
        assert "attached" in row and dep.enis[az] in row
    assert "problem" not in out and err == ""
    # The fixture deploys no prefix list: a warning, not a failure.
    assert "warning: no managed prefix list staticip-dev-egress" in out


def test_cidr_format_is_one_slash_32_per_line_sorted_by_az(moto, capsys):
    dep = deploy_eni_eip(moto.ec2, moto.lambda_client, moto.iam, PROJECT, "dev")

    code, out, _ = run(["dev", "--format", "cidr"], capsys)

    assert code == 0
    assert out.splitlines() == [f"{dep.ip(az)}/32" for az in sorted(dep.env.azs)]


def test_csv_and_json_carry_the_same_rows(moto, capsys):
    dep = deploy_eni_eip(moto.ec2, moto.lambda_client, moto.iam, PROJECT, "dev")

    _, csv_out, _ = run(["dev", "--format", "csv"], capsys)
    _, json_out, _ = run(["dev", "--json"], capsys)

    rows = list(csv.DictReader(io.StringIO(csv_out)))
    data = json.loads(json_out)
    assert [(r["az"], r["ip"], r["cidr"], r["status"]) for r in rows] == [
        (az, dep.ip(az), f"{dep.ip(az)}/32", "attached") for az in sorted(dep.env.azs)
    ]
    assert [(i["az"], i["ip"], i["attached_to"]) for i in data["ips"]] == [
        (az, dep.ip(az), dep.enis[az]) for az in sorted(dep.env.azs)
    ]
    assert data["ok"] is True and data["account"] == "123456789012"


def test_an_unattached_eip_exits_1_and_csv_keeps_problems_off_stdout(moto, capsys):
    dep = deploy_eni_eip(moto.ec2, moto.lambda_client, moto.iam, PROJECT, "dev")
    az = sorted(dep.env.azs)[1]
    address = moto.ec2.describe_addresses(AllocationIds=[dep.allocation(az)])["Addresses"][0]
    moto.ec2.disassociate_address(AssociationId=address["AssociationId"])

    code, out, err = run(["dev", "--format", "cidr"], capsys)

    assert code == 1
    # The address is still the allow-listed one: it stays in the paste-ready list.
    assert out.splitlines() == [f"{dep.ip(a)}/32" for a in sorted(dep.env.azs)]
    assert err.startswith("staticip ips: problem: ") and dep.ip(az) in err and az in err
    code, out, _ = run(["dev"], capsys)
    assert code == 1 and "unattached" in out and f"problem: {dep.ip(az)} ({az})" in out


def test_a_missing_eip_names_its_az(moto, capsys):
    dep = deploy_eni_eip(moto.ec2, moto.lambda_client, moto.iam, PROJECT, "dev")
    az = sorted(dep.env.azs)[0]
    address = moto.ec2.describe_addresses(AllocationIds=[dep.allocation(az)])["Addresses"][0]
    moto.ec2.disassociate_address(AssociationId=address["AssociationId"])
    moto.ec2.release_address(AllocationId=dep.allocation(az))

    code, out, _ = run(["dev", "--json"], capsys)

    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert [i["az"] for i in data["ips"]] == sorted(dep.env.azs)[1:]
    assert any(az in p and "no allow-listed EIP" in p for p in data["problems"])


def retain(moto: Any, az: str) -> tuple[str, str]:
    """An EIP Terraform forgot when `az` left the configuration: still allocated, with the
    tags the stack gave it (stacks/retained_ips.py); nothing associated."""
    address = moto.ec2.allocate_address(
        Domain="vpc",
        TagSpecifications=tag_spec(
            "elastic-ip", PROJECT, "dev", **{"staticip:allow-listed": "true", "staticip:az": az}
        ),
    )
    return address["AllocationId"], address["PublicIp"]


def test_a_retained_eip_is_listed_with_the_line_that_adopts_it(moto, capsys):
    dep = deploy_eni_eip(moto.ec2, moto.lambda_client, moto.iam, PROJECT, "dev")
    allocation, ip = retain(moto, "us-east-1c")

    code, out, _ = run(["dev"], capsys)

    # Not a problem: the environment's own AZs all have their attached EIP.
    assert code == 0
    (row,) = [line for line in out.splitlines() if ip in line and line.startswith("egress")]
    assert "us-east-1c" in row and "retained, not in use" in row
    assert (
        f"retained: {ip} ({allocation}) stays allocated and billed; adopt it again with "
        f'reuse_eip_allocation_ids = {{ "us-east-1c" = "{allocation}" }} under [environments.dev]'
    ) in out
    # Vendors get only the addresses traffic uses.
    _, cidrs, _ = run(["dev", "--format", "cidr"], capsys)
    assert cidrs.splitlines() == [f"{dep.ip(az)}/32" for az in sorted(dep.env.azs)]
    _, data, _ = run(["dev", "--json"], capsys)
    statuses = {i["ip"]: i["status"] for i in json.loads(data)["ips"]}
    assert statuses[ip] == "retained, not in use" and len(statuses) == 3


def test_an_az_back_with_a_new_eip_lists_the_old_one_as_retained(moto, capsys):
    # us-east-1a was dropped (its EIP forgotten), then added again: Terraform made a new EIP,
    # which is the attached one; the old one is retained, not the AZ's.
    dep = deploy_eni_eip(moto.ec2, moto.lambda_client, moto.iam, PROJECT, "dev")
    _, old_ip = retain(moto, "us-east-1a")

    code, out, _ = run(["dev", "--json"], capsys)

    data = json.loads(out)
    assert code == 0 and data["ok"] is True
    by_ip = {i["ip"]: i for i in data["ips"]}
    assert by_ip[dep.ip("us-east-1a")]["status"] == "attached"
    assert by_ip[old_ip]["status"] == "retained, not in use"
    assert len(data["retained"]) == 1 and old_ip in data["retained"][0]


def test_nothing_deployed_is_a_problem(moto, capsys):
    code, out, _ = run(["prod"], capsys)
    assert code == 1
    assert out.count("problem: no allow-listed EIP for") == len(
        shipped_config().environment("prod").azs
    )


def test_prod_nat_eips_and_the_egress_prefix_list(moto, capsys):
    dep = deploy_nat(moto.ec2, moto.lambda_client, moto.iam, PROJECT, "prod")
    pl = moto.ec2.create_managed_prefix_list(
        PrefixListName=f"{PROJECT}-prod-egress",
        AddressFamily="IPv4",
        MaxEntries=2,
        Entries=[{"Cidr": f"{dep.ip(az)}/32", "Description": az} for az in dep.env.azs],
        TagSpecifications=tag_spec("prefix-list", PROJECT, "prod"),
    )["PrefixList"]["PrefixListId"]
    # Another environment's list with a name that is not ours must not be picked up.
    moto.ec2.create_managed_prefix_list(
        PrefixListName=f"{PROJECT}-dev-egress",
        AddressFamily="IPv4",
        MaxEntries=1,
        TagSpecifications=tag_spec("prefix-list", PROJECT, "dev"),
    )

    code, out, err = run(["prod", "--json"], capsys)

    data = json.loads(out)
    assert [i["ip"] for i in data["ips"]] == [dep.ip(az) for az in sorted(dep.env.azs)]
    assert data["prefix_lists"] == {"egress": pl}
    assert data["warnings"] == []
    # A NAT Gateway holds its EIP through its own network interface.
    assert code == 0, err
    assert all(
        i["status"] == "attached" and i["attached_to"].startswith("eni-") for i in data["ips"]
    )


# --- ingress (Stubber) -------------------------------------------------------------------------


def ga_clients(stubber_setup: Any) -> tuple[IpsClients, Stubber]:
    ga = boto3.client("globalaccelerator", region_name="us-west-2")
    stubber = Stubber(ga)
    stubber_setup(stubber)
    stubber.activate()
    clients = IpsClients(
        boto3.client("ec2", region_name=REGION), boto3.client("sts", region_name=REGION), ga
    )
    return clients, stubber


def accelerator_response(stubber: Stubber, enabled: bool = True, environment: str = "ingress"):
    stubber.add_response(
        "list_accelerators",
        {
            "Accelerators": [
                {
                    "AcceleratorArn": ACCELERATOR_ARN,
                    "Name": "staticip-ingress",
                    "Enabled": enabled,
                    "IpSets": [{"IpFamily": "IPv4", "IpAddresses": GA_IPS}],
                    "Status": "DEPLOYED",
                }
            ]
        },
        {},
    )
    stubber.add_response(
        "list_tags_for_resource",
        {
            "Tags": [
                {"Key": "environment", "Value": environment},
                {"Key": "project", "Value": PROJECT},
            ]
        },
        {"ResourceArn": ACCELERATOR_ARN},
    )


def test_ingress_lists_the_accelerators_two_ips(moto):
    clients, stubber = ga_clients(accelerator_response)

    result, report = run_ips(CONFIG, "ingress", "cidr", clients=clients)

    stubber.assert_no_pending_responses()
    assert result.exit_code == 0
    assert result.text.splitlines() == [f"{ip}/32" for ip in GA_IPS]
    assert report is not None and {i.direction for i in report.ips} == {"ingress"}


def test_a_disabled_accelerator_exits_1(moto):
    clients, _ = ga_clients(lambda s: accelerator_response(s, enabled=False))

    result, _ = run_ips(CONFIG, "ingress", "text", clients=clients)

    assert result.exit_code == 1
    assert "disabled" in result.text and all(ip in result.text for ip in GA_IPS)


def test_another_environments_accelerator_is_not_ours(moto):
    clients, _ = ga_clients(lambda s: accelerator_response(s, environment="staging"))

    result, _ = run_ips(CONFIG, "ingress", "json", clients=clients)

    assert result.exit_code == 1
    assert result.data["ips"] == []
    assert "no accelerator tagged environment=ingress" in result.data["problems"][0]


# --- from Terraform outputs --------------------------------------------------------------------


def outputs_of(plan: str) -> dict[str, Any]:
    """The outputs of a real deployment, shaped as `terraform output -json` prints them."""
    return json.loads((PLANS / plan).read_text())["prior_state"]["values"]["outputs"]


def test_terraform_output_json_on_stdin_needs_no_credentials(monkeypatch, capsys):
    use_fake_aws(monkeypatch, credentials=False)
    outputs = outputs_of("prod-clean.json")
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(outputs)))

    code, out, err = run(["prod", "--from-outputs", "-", "--format", "cidr"], capsys)

    assert code == 0, err
    by_az = outputs["egress_ips_by_az"]["value"]
    assert out.splitlines() == [f"{by_az[az]}/32" for az in sorted(by_az)]


def test_the_local_state_file_next_to_the_config(tmp_path, capsys):
    config = tmp_path / "staticip.toml"
    config.write_text(SHIPPED_CONFIG.read_text())
    state = {
        "version": 4,
        "terraform_version": "1.11.4",
        "outputs": {
            "egress_ips_by_az": {
                "value": {"us-east-1a": "203.0.113.10", "us-east-1b": "203.0.113.11"},
                "type": ["object", {"us-east-1a": "string", "us-east-1b": "string"}],
            },
            "egress_prefix_list_id": {"value": "pl-0123456789abcdef0", "type": "string"},
        },
        "resources": [],
    }
    (tmp_path / "terraform.dev.tfstate").write_text(json.dumps(state))

    code = main(["ips", "dev", "--from-outputs", "--config", str(config)])
    out = capsys.readouterr().out

    assert code == 0
    assert "203.0.113.10/32" in out and "203.0.113.11/32" in out
    assert "not checked (outputs)" in out and "egress pl-0123456789abcdef0" in out


def test_outputs_missing_an_az_exit_1(tmp_path, capsys):
    outputs = {"egress_ips_by_az": {"value": {"us-east-1a": "203.0.113.10"}}}
    path = tmp_path / "out.json"
    path.write_text(json.dumps(outputs))

    code, out, _ = run(["dev", "--from-outputs", str(path)], capsys)

    assert code == 1 and "no IP for us-east-1b" in out


def test_outputs_of_an_undeployed_environment_exit_1(tmp_path, capsys):
    path = tmp_path / "out.json"
    path.write_text("{}")
    code, out, _ = run(["ingress", "--from-outputs", str(path)], capsys)
    assert code == 1 and "no output ingress_ips" in out


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json", "not JSON"),
        ('["1.2.3.4"]', "not `terraform output -json`"),
        ('{"egress_ips_by_az": {"value": {"us-east-1a": "nope"}}}', "not an IPv4 address"),
        ('{"egress_ips_by_az": {"value": ["1.2.3.4"]}}', "expected an object"),
    ],
)
def test_unusable_outputs_are_one_line_exit_2(tmp_path, capsys, content, words):
    path = tmp_path / "out.json"
    path.write_text(content)
    code, out, err = run(["dev", "--from-outputs", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("staticip ips: ") and words in err


def test_no_local_state_or_state_in_s3_is_a_usage_error(tmp_path, capsys):
    config = tmp_path / "staticip.toml"
    config.write_text(
        SHIPPED_CONFIG.read_text().replace(
            '# [environments.prod.backend]\n# bucket = "my-terraform-state"',
            '[environments.prod.backend]\nbucket = "my-terraform-state"',
        )
    )
    assert main(["ips", "dev", "--from-outputs", "--config", str(config)]) == 2
    assert "terraform.dev.tfstate: not found" in capsys.readouterr().err
    assert main(["ips", "prod", "--from-outputs", "--config", str(config)]) == 2
    assert "s3://my-terraform-state" in capsys.readouterr().err


def test_unknown_environment_is_a_usage_error(capsys):
    code, out, err = run(["staging", "--from-outputs", "-"], capsys)
    assert code == 2 and out == "" and "no environment named 'staging'" in err


# --- nlb-eip ingress -----------------------------------------------------------------------------

NLB_CONFIG = """
project = "staticip"
[environments.hooks]
egress = "nat-gateway"
nat = "single"
ingress = "nlb-eip"
region = "us-east-1"
vpc_cidr = "10.90.0.0/16"
prefix_list = false
"""


def test_nlb_eip_ingress_ips_come_from_the_ingress_tagged_eips(moto, tmp_path, capsys):
    """Egress and ingress EIPs of one environment, told apart by `staticip:direction`; an
    ingress EIP not on the NLB (here: not associated at all) is a problem naming it."""
    config = tmp_path / "staticip.toml"
    config.write_text(NLB_CONFIG)
    vpc = moto.ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
    ips = {}
    for az, direction in (
        ("us-east-1a", "egress"),
        ("us-east-1a", "ingress"),
        ("us-east-1b", "ingress"),
    ):
        extra = {"staticip:direction": "ingress"} if direction == "ingress" else {}
        eip = moto.ec2.allocate_address(
            Domain="vpc",
            TagSpecifications=tag_spec(
                "elastic-ip",
                PROJECT,
                "hooks",
                **{"staticip:allow-listed": "true", "staticip:az": az},
                **extra,
            ),
        )
        ips[direction, az] = eip
        if (direction, az) != ("ingress", "us-east-1b"):
            subnet = moto.ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.90.{len(ips)}.0/24", AvailabilityZone=az
            )
            eni = moto.ec2.create_network_interface(SubnetId=subnet["Subnet"]["SubnetId"])
            moto.ec2.associate_address(
                AllocationId=eip["AllocationId"],
                NetworkInterfaceId=eni["NetworkInterface"]["NetworkInterfaceId"],
            )

    code = main(["ips", "hooks", "--format", "json", "--config", str(config)])
    report = json.loads(capsys.readouterr().out)

    assert code == 1
    rows = {(r["direction"], r["az"]): r for r in report["ips"]}
    assert set(rows) == {
        ("egress", "us-east-1a"),
        ("ingress", "us-east-1a"),
        ("ingress", "us-east-1b"),
    }
    for key, eip in ips.items():
        assert rows[key]["ip"] == eip["PublicIp"]
    assert rows["ingress", "us-east-1b"]["status"] == "unattached"
    (problem,) = report["problems"]
    assert ips["ingress", "us-east-1b"]["PublicIp"] in problem and "not associated" in problem


def test_nlb_eip_ingress_ips_from_outputs_by_az(tmp_path, capsys):
    config = tmp_path / "staticip.toml"
    config.write_text(NLB_CONFIG)
    outputs = {
        "egress_ips_by_az": {"value": {"us-east-1a": "203.0.113.1"}},
        "ingress_ips_by_az": {
            "value": {"us-east-1b": "198.51.100.2", "us-east-1a": "198.51.100.1"}
        },
    }
    path = tmp_path / "out.json"
    path.write_text(json.dumps(outputs))

    code = main(
        ["ips", "hooks", "--from-outputs", str(path), "--format", "csv", "--config", str(config)]
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

    assert code == 0
    assert [(r["direction"], r["az"], r["ip"]) for r in rows] == [
        ("egress", "us-east-1a", "203.0.113.1"),
        ("ingress", "us-east-1a", "198.51.100.1"),
        ("ingress", "us-east-1b", "198.51.100.2"),
    ]
