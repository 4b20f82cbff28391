"""Forget, don't release: an allow-listed EIP that leaves the configuration stays allocated.

`prevent_destroy` guards only resources still in the configuration. When an AZ is removed,
`az_count` lowered, an AZ's EIP moved into `reuse_eip_allocation_ids`, or a mode change no
longer needs an address, its `aws_eip` block is gone and Terraform would release the address
for good. A `removed` block with `lifecycle { destroy = false }` (Terraform >= 1.7) makes
Terraform drop it from state instead, leaving it allocated with its tags, where `staticip ips`
lists it as retained and `reuse_eip_allocation_ids` adopts it again.

The stack cannot see the state, so it names every address an EIP of this environment could
have had: each direction's EIP in each AZ the region may have, except those it still creates.
Terraform treats a `removed` block for an address not in state as nothing to do (measured with
Terraform 1.11: the plan reports no changes), and a block for an address the configuration
still declares would be an error, which is why the created ones are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformStack
from constructs import Construct

from stacks.elastic_ips import CONSTRUCT_IDS, ElasticIps, eip_id


def forget_removed_eips(stack: TerraformStack, azs: Sequence[str]) -> list[str]:
    """Add to `stack` a `removed` block (forget, do not destroy) for each direction's EIP in
    each of `azs` that the stack does not create; return their addresses. Call once, after
    every `ElasticIps` of the stack is built."""
    addresses = []
    for construct_id in CONSTRUCT_IDS.values():
        built = stack.node.try_find_child(construct_id)
        created = set(built.created_azs) if isinstance(built, ElasticIps) else set()
        # The logical ID is the framework's, for the path the EIP has or had: a construct with
        # that path, which synthesizes nothing itself.
        parent = built if built is not None else Construct(stack, construct_id)
        for az in azs:
            if az not in created:
                spot = Construct(parent, eip_id(az))
                addresses.append(f"aws_eip.{stack.get_logical_id(spot.node)}")
    if addresses:
        stack.add_override(
            "removed",
            [{"from": address, "lifecycle": {"destroy": False}} for address in addresses],
        )
    return addresses
