"""A managed prefix list of an environment's allow-listed addresses, one per direction.

AWS suggests sharing NAT addresses with partners as a managed prefix list: they reference it
(after a RAM share) in their security groups and route tables instead of copying IPs. It has no
charge. The entries are the EIPs' (or the accelerator's) addresses as /32s, so the list follows
the IPs Terraform manages and cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_aws.ec2_managed_prefix_list import (
    Ec2ManagedPrefixList,
    Ec2ManagedPrefixListEntry,
)
from constructs import Construct


@dataclass(frozen=True)
class PrefixListProps:
    """The list's name and its addresses."""

    name: str
    """`<project>-<environment>-<direction>`; prefix list names are unique per account."""
    addresses: Mapping[str, str]
    """Entry description (the AZ name, or `accelerator-<n>`) -> public IP (a token)."""


class AllowListPrefixList(Construct):
    """`prefix_list.id` is what partners reference."""

    def __init__(self, scope: Construct, id_: str, props: PrefixListProps) -> None:
        super().__init__(scope, id_)
        if not props.addresses:
            raise ValueError(f"prefix list {props.name}: no addresses")
        self.prefix_list = Ec2ManagedPrefixList(
            self,
            "list",
            name=props.name,
            address_family="IPv4",
            # A security group that references the list counts max_entries against its rule
            # quota, so it is exactly the number of addresses; adding an AZ raises it in place.
            max_entries=len(props.addresses),
            # Inline entries: one ModifyManagedPrefixList per change, and sorted by their key,
            # so reordering AZs in the config changes nothing.
            entry=[
                Ec2ManagedPrefixListEntry(
                    cidr=Fn.format("%s/32", [props.addresses[key]]), description=key
                )
                for key in sorted(props.addresses)
            ],
            tags={"Name": props.name},
        )
