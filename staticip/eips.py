"""An environment's allow-listed Elastic IPs, found in AWS by the tags its stack puts on them.

The stack tags every EIP it creates with `environment`, `project` (provider default tags) and
`staticip:allow-listed=true`, `staticip:az=<az>`. EIPs reused through `reuse_eip_allocation_ids`
are someone else's: the stack tags them too (`aws_ec2_tag`), but they are also looked up by
allocation ID, so they count before those tags exist or after someone removed them.

The tag keys and `environment_tags` are in `staticip.names`, shared with the stacks; they are
re-exported here for this module's importers.

Standard library and botocore only: the ENI guard Lambda packages this module with `enis.py`
and `names.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient

from staticip.aws import tags
from staticip.names import ALLOW_LISTED_TAG as ALLOW_LISTED_TAG
from staticip.names import AZ_TAG as AZ_TAG
from staticip.names import DIRECTION_TAG as DIRECTION_TAG
from staticip.names import EGRESS as EGRESS
from staticip.names import INGRESS as INGRESS
from staticip.names import environment_tags as environment_tags


@dataclass(frozen=True)
class AllowListedEip:
    """One allow-listed address and where it is attached now."""

    allocation_id: str
    public_ip: str
    az: str | None
    """From the `staticip:az` tag, or the config for a reused EIP."""
    association_id: str | None
    network_interface_id: str | None
    reused: bool = False


def environment_tag_filters(project: str, environment: str) -> list[dict[str, Any]]:
    """EC2 `Filters` matching the default tags every resource of the environment carries."""
    return [
        {"Name": f"tag:{key}", "Values": [value]}
        for key, value in environment_tags(project, environment).items()
    ]


def find_allow_listed_eips(
    ec2: BaseClient,
    project: str,
    environment: str,
    reused: Mapping[str, str] | None = None,
    direction: str = EGRESS,
) -> list[AllowListedEip]:
    """The environment's allow-listed EIPs of one direction, sorted by AZ then IP. One
    DescribeAddresses call, two when `reused` (AZ name -> allocation ID) is given. Raises
    botocore errors (e.g. an unknown reused ID).

    Tagged EIPs are checked against the tags again here, not only by the server-side filter:
    moving an address that is not ours would take someone else's allow-listed IP.
    """
    wanted = {**environment_tags(project, environment), ALLOW_LISTED_TAG: "true"}
    filters = [{"Name": f"tag:{key}", "Values": [value]} for key, value in wanted.items()]
    found = {
        raw["AllocationId"]: _from_api(raw, None, reused=False)
        for raw in ec2.describe_addresses(Filters=filters).get("Addresses", [])
        if all(tags(raw).get(key) == value for key, value in wanted.items())
        and tags(raw).get(DIRECTION_TAG, EGRESS) == direction
    }
    reused_az = {alloc: az for az, alloc in (reused or {}).items()}
    if reused_az:
        response = ec2.describe_addresses(AllocationIds=sorted(reused_az))
        for raw in response.get("Addresses", []):
            found[raw["AllocationId"]] = _from_api(raw, reused_az[raw["AllocationId"]], True)
    return sorted(found.values(), key=lambda eip: (eip.az or "", eip.public_ip))


def _from_api(raw: Mapping[str, Any], az: str | None, reused: bool) -> AllowListedEip:
    return AllowListedEip(
        allocation_id=raw["AllocationId"],
        public_ip=raw.get("PublicIp", ""),
        az=az or tags(raw).get(AZ_TAG) or None,
        association_id=raw.get("AssociationId") or None,
        # An unassociated address may come back with an empty string rather than no key.
        network_interface_id=raw.get("NetworkInterfaceId") or None,
        reused=reused,
    )
