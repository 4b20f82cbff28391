"""`staticip enis`: the table and JSON report on a function's Hyperplane ENIs, against moto."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_fixtures import SHIPPED_CONFIG, deploy_eni_eip
from eni_fixtures import (
    REGION,
    Network,
    attach_eip,
    create_function,
    create_lambda_eni,
    create_role,
    isolated_aws_env,
    make_network,
    use_fake_aws,
)
from moto import mock_aws

from staticip import cli, enis
from staticip.names import canary_function_name
from staticip.table import render_table, to_json

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Account:
    ec2: Any
    lambda_client: Any
    role_arn: str
    net: Network


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Any:
    use_fake_aws(monkeypatch)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        ec2 = boto3.client("ec2", region_name=REGION)
        lambda_client = boto3.client("lambda", region_name=REGION)
        role_arn = create_role(boto3.client("iam", region_name=REGION))
        yield Account(ec2, lambda_client, role_arn, make_network(ec2))


@dataclass
class Deployed:
    groups: tuple[str, ...]
    enis: dict[str, str]
    ips: dict[str, str]
    allocations: dict[str, str]


def deploy(account: Account, *names: str, with_eips: bool = True) -> Deployed:
    """Functions sharing all subnets and one SG set, with the ENIs and EIPs Lambda would have."""
    net = account.net
    groups = net.security_group_ids[:2]
    for name in names:
        create_function(account.lambda_client, account.role_arn, name, net.subnet_ids, groups)
    eni_ids = {s: create_lambda_eni(account.ec2, s, groups, names[0]) for s in net.subnet_ids}
    ips: dict[str, str] = {}
    allocations: dict[str, str] = {}
    if with_eips:
        for subnet, eni_id in eni_ids.items():
            allocations[subnet], ips[subnet] = attach_eip(account.ec2, eni_id)
    return Deployed(groups, eni_ids, ips, allocations)


def parse_table(text: str) -> tuple[list[str], list[list[str]]]:
    header, underline, *rows = text.rstrip("\n").splitlines()
    assert set(underline.replace(" ", "")) == {"-"}
    split = re.compile(r"\s{2,}")
    return split.split(header), [split.split(row) for row in rows]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- describe_function_enis ----------------------------------------------------------------------


def test_describe_lists_each_subnet_eni_and_the_functions_sharing_it(account: Account) -> None:
    net = account.net
    deployed = deploy(account, "billing", "invoices")
    # Same subnets, other SG set: its own ENIs, so it does not share ours.
    create_function(
        account.lambda_client,
        account.role_arn,
        "other-groups",
        net.subnet_ids,
        net.security_group_ids,
    )
    # Same SG set, but only in the first subnet: shares that subnet's ENI only.
    create_function(
        account.lambda_client, account.role_arn, "one-subnet", net.subnet_ids[:1], deployed.groups
    )
    create_function(account.lambda_client, account.role_arn, "no-vpc")

    rows = enis.describe_function_enis(account.lambda_client, account.ec2, "invoices")

    expected_sharing = {
        net.subnet_ids[0]: ["billing", "invoices", "one-subnet"],
        net.subnet_ids[1]: ["billing", "invoices"],
    }
    assert rows == [
        {
            "subnet_id": subnet,
            "availability_zone": net.az_of(subnet),
            "eni_id": deployed.enis[subnet],
            "status": "in-use",
            "public_ip": deployed.ips[subnet],
            "allocation_id": deployed.allocations[subnet],
            "security_group_ids": sorted(deployed.groups),
            "shared_by": expected_sharing[subnet],
        }
        for subnet in net.subnet_ids
    ]
    assert enis.eni_problems(rows) == []


def test_describe_rejects_unknown_and_non_vpc_functions(account: Account) -> None:
    create_function(account.lambda_client, account.role_arn, "no-vpc")

    with pytest.raises(enis.EniInputError, match="'missing'"):
        enis.describe_function_enis(account.lambda_client, account.ec2, "missing")
    with pytest.raises(enis.EniInputError, match=r"'no-vpc'.*VPC"):
        enis.describe_function_enis(account.lambda_client, account.ec2, "no-vpc")


# --- the command ---------------------------------------------------------------------------------


def test_table_shows_every_subnet_and_exits_0(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    net = account.net
    deployed = deploy(account, "billing", "invoices")

    code, out, err = run_cli(capsys, "enis", "--function", "billing", "--region", REGION)

    assert (code, err) == (0, "")
    headers, rows = parse_table(out)
    assert headers == list(cli._ENI_HEADERS)
    assert rows == [
        [
            subnet,
            net.az_of(subnet),
            deployed.enis[subnet],
            "in-use",
            deployed.ips[subnet],
            "billing, invoices",
        ]
        for subnet in net.subnet_ids
    ]


def test_json_carries_the_same_facts(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    deployed = deploy(account, "billing")

    code, out, _ = run_cli(capsys, "enis", "--function", "billing", "--json")

    assert code == 0
    report = json.loads(out)
    expected = enis.describe_function_enis(account.lambda_client, account.ec2, "billing")
    assert report == {"function": "billing", "enis": expected, "problems": []}
    assert {row["subnet_id"]: row["eni_id"] for row in report["enis"]} == deployed.enis


def test_missing_eni_and_missing_public_ip_exit_1(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    net = account.net
    groups = net.security_group_ids[:1]
    create_function(account.lambda_client, account.role_arn, "billing", net.subnet_ids, groups)
    with_eni, without_eni = net.subnet_ids
    eni_id = create_lambda_eni(account.ec2, with_eni, groups, "billing")

    code, out, err = run_cli(capsys, "enis", "--function", "billing")

    assert code == 1
    _, rows = parse_table(out)
    by_subnet = {row[0]: row for row in rows}
    assert by_subnet[with_eni][2] == eni_id
    assert not by_subnet[without_eni][2].startswith("eni-")
    problems = err.splitlines()
    assert len(problems) == 2
    assert any(without_eni in line for line in problems)
    assert any(eni_id in line and "public IP" in line for line in problems)

    code, out, _ = run_cli(capsys, "enis", "--function", "billing", "--json")
    assert code == 1
    assert json.loads(out)["problems"] == enis.eni_problems(
        enis.describe_function_enis(account.lambda_client, account.ec2, "billing")
    )


def test_unknown_function_exits_2(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "enis", "--function", "does-not-exist")

    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert "does-not-exist" in line and REGION in line


def test_function_outside_a_vpc_exits_2(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    create_function(account.lambda_client, account.role_arn, "no-vpc")

    code, out, err = run_cli(capsys, "enis", "--function", "no-vpc")

    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert "no-vpc" in line and "VPC" in line


def test_aws_failure_exits_1_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No moto and no credentials: boto3 gives up before sending anything.
    use_fake_aws(monkeypatch, credentials=False)

    code, out, err = run_cli(capsys, "enis", "--function", "billing")

    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert "credentials" in line


def test_unknown_profile_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_aws(monkeypatch)

    code, _, err = run_cli(capsys, "enis", "--function", "billing", "--profile", "nope")

    assert code == 2
    assert "nope" in err


def test_missing_function_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["enis"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "ENV" in line and "--function" in line


def test_python_dash_m_staticip_runs_the_cli(tmp_path: Path) -> None:
    env = {**os.environ, **isolated_aws_env(), "PYTHONPATH": str(REPO_ROOT)}

    result = subprocess.run(
        [sys.executable, "-m", "staticip", "enis", "--help"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "--function" in result.stdout


# --- table helpers -------------------------------------------------------------------------------


def test_render_table_aligns_columns_to_the_widest_cell() -> None:
    headers = ("SUBNET", "N", "FUNCTIONS")
    rows = [("subnet-a", None, ["f1", "f2"]), ("subnet-longer-id", 7, [])]
    # None and empty lists show as "-", lists joined with commas.
    cells = [list(headers), ["subnet-a", "-", "f1, f2"], ["subnet-longer-id", "7", "-"]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    starts = [sum(widths[:i]) + 2 * i for i in range(len(headers))]

    header, underline, *lines = render_table(headers, rows).splitlines()

    assert underline.split() == ["-" * width for width in widths]
    for line, expected in zip([header, *lines], cells, strict=True):
        assert [
            line[start : start + len(cell)] for start, cell in zip(starts, expected, strict=True)
        ] == expected
        assert line == line.rstrip()
    with pytest.raises(ValueError, match="columns"):
        render_table(("A",), [("x", "y")])


def test_to_json_sorts_keys_and_serialises_times_and_sets() -> None:
    when = datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC)

    text = to_json({"b": frozenset({"sg-2", "sg-1"}), "a": when})

    assert json.loads(text) == {"a": when.isoformat(), "b": ["sg-1", "sg-2"]}
    assert text.index('"a"') < text.index('"b"')
    assert text.splitlines()[1].startswith("  ")


def test_an_environment_shows_the_enis_its_functions_share(monkeypatch, capsys) -> None:
    use_fake_aws(monkeypatch)
    with mock_aws():
        clients = [boto3.client(s, region_name=REGION) for s in ("ec2", "lambda", "iam")]
        dev = deploy_eni_eip(*clients, "staticip", "dev")
        (worker,) = dev.env.functions

        assert cli.main(["enis", "dev", "--config", str(SHIPPED_CONFIG), "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["function"] == dev.env.function.name
        assert {row["eni_id"] for row in shown["enis"]} == set(dev.enis.values())
        for row in shown["enis"]:
            # Every function in both subnets, and the canary of the ENI's own AZ.
            canary = canary_function_name("staticip", "dev", row["availability_zone"])
            assert row["shared_by"] == sorted([*dev.env.egress_function_names, canary])

        # A key of [functions] names the declared function.
        argv = ["enis", "dev", "--function", worker.key, "--config", str(SHIPPED_CONFIG)]
        assert cli.main([*argv, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["function"] == worker.name
        assert cli.main(["enis", "dev", "--function", "nope", "--config", str(SHIPPED_CONFIG)]) == 2
        assert "nor a key of its [functions]" in capsys.readouterr().err
