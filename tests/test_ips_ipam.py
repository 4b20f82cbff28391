"""`staticip ips ENV --format cidr` with `ipam_pool_id` (issue #19): the pool's CIDR once when
every address in use is inside it, else each /32 and a line on stderr saying which address is
outside and why. EIPs from moto, the pool's CIDRs stubbed (tests/ipam_fixtures.py)."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from aws_fixtures import tag_spec
from eni_fixtures import REGION, use_fake_aws
from ipam_fixtures import ADDRESSES, CONFIG, POOL, deploy_hooks, pool_cidr, stubbed_pool
from moto import mock_aws

from staticip import ipam
from staticip.cli import main
from staticip.ips import IpsClients, run_ips

#: Assumed-role credentials are cached per process; moto forgets them between tests.
pytestmark = pytest.mark.usefixtures("fresh_roles")


@pytest.fixture
def deployed(monkeypatch, tmp_path) -> Any:
    use_fake_aws(monkeypatch)
    with mock_aws():
        yield deploy_hooks(tmp_path)


def ips_with_pool(
    deployed: Any, answer: dict[str, Any] | str, fmt: str = "cidr"
) -> tuple[int, str, str]:
    """`staticip ips hooks --format FMT` with GetIpamPoolCidrs answered once by `answer`."""
    ec2, config = deployed
    with stubbed_pool(ec2, answer) as pooled:
        clients = IpsClients(ec2=pooled, sts=boto3.client("sts", region_name=REGION))  # type: ignore[arg-type]
        result, report = run_ips(config, "hooks", fmt, clients=clients)
    assert report is not None
    # With --format cidr the CLI prints the text on stdout and the warnings on stderr.
    return result.exit_code, result.text, "\n".join(report.warnings)


def test_every_address_inside_the_pool_prints_its_cidr_once(deployed):
    answer = {
        "IpamPoolCidrs": [
            pool_cidr("198.51.100.0/29"),
            # Not provisioned (yet): holds no address an EIP can have, so it is no answer.
            pool_cidr("203.0.113.0/29", "pending-provision"),
        ]
    }
    code, out, err = ips_with_pool(deployed, answer)
    assert code == 0
    assert out == "198.51.100.0/29"
    assert err == ""


def test_text_shows_the_pools_cidrs(deployed):
    answer = {"IpamPoolCidrs": [pool_cidr("198.51.100.0/29")]}
    _, text, _ = ips_with_pool(deployed, answer, "text")
    assert f"IPAM pool {POOL}: 198.51.100.0/29" in text.splitlines()


def test_json_names_the_pool_and_what_the_vendor_allow_lists(monkeypatch, tmp_path):
    use_fake_aws(monkeypatch)
    with mock_aws():
        deployed = deploy_hooks(tmp_path)
        _, text, _ = ips_with_pool(
            deployed, {"IpamPoolCidrs": [pool_cidr("198.51.100.0/29")]}, "json"
        )
    data = json.loads(text)
    assert data["ipam_pool"] == POOL
    assert data["ipam_cidrs"] == data["vendor_cidrs"] == ["198.51.100.0/29"]


def test_addresses_across_two_provisioned_cidrs_print_both_each_once(deployed):
    answer = {"IpamPoolCidrs": [pool_cidr("198.51.100.2/31"), pool_cidr("198.51.100.0/31")]}
    code, out, err = ips_with_pool(deployed, answer)
    assert (code, err) == (0, "")
    # In the order of the first address each holds (egress us-east-1a is .0).
    assert out.splitlines() == ["198.51.100.0/31", "198.51.100.2/31"]


def test_an_address_outside_the_pool_gives_the_slash_32s_and_says_which_and_why(deployed):
    answer = {"IpamPoolCidrs": [pool_cidr("198.51.100.0/31")]}
    code, out, err = ips_with_pool(deployed, answer)
    assert code == 0
    assert out.splitlines() == [f"{ip}/32" for ip in ADDRESSES.values()]
    (line,) = err.splitlines()
    assert "198.51.100.2 (ingress, us-east-1b) is not inside IPAM pool " + POOL in line
    assert "198.51.100.0/31" in line and "allocated before ipam_pool_id was set" in line


def test_an_unreadable_pool_gives_the_slash_32s_and_says_so(deployed):
    code, out, err = ips_with_pool(deployed, "InvalidIpamPoolId.NotFound")
    assert code == 0
    assert out.splitlines() == [f"{ip}/32" for ip in ADDRESSES.values()]
    assert f"IPAM pool {POOL} could not be read" in err and "InvalidIpamPoolId.NotFound" in err


def test_from_outputs_keeps_the_slash_32s_and_says_the_pool_needs_aws(
    monkeypatch, tmp_path, capsys
):
    use_fake_aws(monkeypatch, credentials=False)
    config = tmp_path / "staticip.toml"
    config.write_text(CONFIG)
    outputs = {
        "egress_ips_by_az": {"value": {"us-east-1a": "198.51.100.0"}},
        "ingress_ips_by_az": {
            "value": {"us-east-1a": "198.51.100.1", "us-east-1b": "198.51.100.2"}
        },
    }
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(outputs)))

    code = main(
        ["ips", "hooks", "--from-outputs", "-", "--format", "cidr", "--config", str(config)]
    )
    out = capsys.readouterr()

    assert code == 0
    assert out.out.splitlines() == [f"{ip}/32" for ip in ADDRESSES.values()]
    assert f"IPAM pool {POOL}" in out.err and "cannot be read from outputs" in out.err


@pytest.mark.parametrize(
    ("addresses", "cidrs", "expected"),
    [
        (["10.0.0.1"], [], None),
        ([], ["10.0.0.0/30"], None),
        (["10.0.0.1", "10.0.0.2"], ["10.0.0.0/30"], ["10.0.0.0/30"]),
        (["10.0.0.1", "10.0.0.9"], ["10.0.0.0/30"], None),
    ],
)
def test_covering(addresses, cidrs, expected):
    from ipaddress import IPv4Network

    assert ipam.covering(addresses, [IPv4Network(c) for c in cidrs]) == expected


def test_a_retained_eip_with_a_pool_is_to_be_released_not_adopted(deployed):
    # An EIP the pool drew for us-east-1b while it was an egress AZ, forgotten when the AZ
    # left (a single NAT now): a reuse table is refused next to the pool, and a new EIP from
    # the pool is inside the CIDR vendors hold, so the line says to release it.
    ec2, config = deployed
    extra = ec2.allocate_address(
        Domain="vpc",
        Address="198.51.100.3",
        TagSpecifications=tag_spec(
            "elastic-ip",
            "staticip",
            "hooks",
            **{"staticip:allow-listed": "true", "staticip:az": "us-east-1b"},
        ),
    )["AllocationId"]
    with stubbed_pool(ec2, {"IpamPoolCidrs": [pool_cidr("198.51.100.0/29")]}) as pooled:
        clients = IpsClients(ec2=pooled, sts=boto3.client("sts", region_name=REGION))  # type: ignore[arg-type]
        result, report = run_ips(config, "hooks", "text", clients=clients)
    assert "retained: 198.51.100.3" in result.text
    assert report is not None
    (line,) = report.retained
    assert f"aws ec2 release-address --allocation-id {extra}" in line and POOL in line
    assert "reuse_eip_allocation_ids" not in line
