"""`staticip doctor` with `ipam_pool_id` (issue #19): every allow-listed EIP of egress and of
nlb-eip ingress lies inside the pool's provisioned CIDRs, read in one call. EIPs from moto,
the pool's CIDRs stubbed (tests/ipam_fixtures.py)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from eni_fixtures import REGION, use_fake_aws
from ipam_fixtures import ADDRESSES, POOL, PROJECT, deploy_hooks, pool_cidr, stubbed_pool
from moto import mock_aws

from staticip.config import load_config
from staticip.doctor import DoctorClients, diagnose
from staticip.findings import ERROR, OK, Finding

CHECK = "ipam-pool"


@pytest.fixture
def deployed(monkeypatch, tmp_path, fresh_roles) -> Any:
    use_fake_aws(monkeypatch)
    with mock_aws():
        yield deploy_hooks(tmp_path)


def pool_findings(deployed: Any, answer: dict[str, Any] | str) -> list[Finding]:
    """The doctor's ipam-pool findings with GetIpamPoolCidrs answered once by `answer`; the
    other checks run too (on a mostly empty moto account) and are not looked at here."""
    ec2, config = deployed
    env = load_config(config).environment("hooks")
    with stubbed_pool(ec2, answer) as pooled:
        clients = DoctorClients(
            ec2=pooled,  # type: ignore[arg-type]
            lambda_=boto3.client("lambda", region_name=REGION),
            elbv2=boto3.client("elbv2", region_name=REGION),
        )
        findings = diagnose(clients, PROJECT, env)
    return [f for f in findings if f.check == CHECK]


def test_every_eip_of_both_directions_inside_the_pool_is_ok(deployed):
    (finding,) = pool_findings(deployed, {"IpamPoolCidrs": [pool_cidr("198.51.100.0/30")]})
    assert (finding.severity, finding.subject) == (OK, POOL)
    assert "all 3 allow-listed EIPs" in finding.what and "198.51.100.0/30" in finding.what


def test_an_eip_outside_the_pool_is_an_error_naming_it_and_the_pool(deployed):
    outside = ADDRESSES["ingress", "us-east-1b"]
    (finding,) = pool_findings(deployed, {"IpamPoolCidrs": [pool_cidr("198.51.100.0/31")]})
    assert (finding.severity, finding.subject) == (ERROR, outside)
    assert f"ingress EIP {outside} (us-east-1b" in finding.what
    assert f"not inside IPAM pool {POOL} (198.51.100.0/31)" in finding.what
    assert finding.fix and "cdktf deploy hooks" in finding.fix


def test_an_egress_eip_outside_is_named_as_egress(deployed):
    findings = pool_findings(deployed, {"IpamPoolCidrs": [pool_cidr("198.51.100.2/31")]})
    assert sorted(f.subject for f in findings) == ["198.51.100.0", "198.51.100.1"]
    assert all(f.severity == ERROR for f in findings)
    assert any(f.what.startswith("egress EIP 198.51.100.0 (us-east-1a") for f in findings)


def test_an_unreadable_pool_is_an_error_naming_the_pool(deployed):
    (finding,) = pool_findings(deployed, "InvalidIpamPoolId.NotFound")
    assert (finding.severity, finding.subject) == (ERROR, POOL)
    assert "could not be read" in finding.what and "InvalidIpamPoolId.NotFound" in finding.what
    assert finding.fix and REGION in finding.fix


def test_a_pool_with_no_provisioned_cidr_is_an_error(deployed):
    answer = {"IpamPoolCidrs": [pool_cidr("198.51.100.0/30", "pending-provision")]}
    (finding,) = pool_findings(deployed, answer)
    assert (finding.severity, finding.subject) == (ERROR, POOL)
    assert "no provisioned CIDR" in finding.what
