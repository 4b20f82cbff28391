"""Forget, don't release (stacks/retained_ips.py): the `removed` blocks in the synthesized
stacks. That Terraform forgets rather than destroys is proven against moto in tests/test_e2e.py."""

from __future__ import annotations

from typing import Any

from tfjson import by_path, of_type

from staticip.config import MAX_AZ_LETTER


def removed(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["from"]: block for block in stack.get("removed", [])}


def letters() -> list[str]:
    return [chr(c) for c in range(ord("a"), ord(MAX_AZ_LETTER) + 1)]


def test_every_eip_address_the_stack_does_not_create_is_forgotten_not_destroyed(shipped):
    dev = shipped.stack("dev")
    blocks = removed(dev)
    assert all(block["lifecycle"] == {"destroy": False} for block in blocks.values())
    created = {f"aws_eip.{lid}" for lid in of_type(dev, "aws_eip")}
    assert created and not created & set(blocks)
    # Every egress and ingress EIP address an AZ of the region could have, but these two.
    assert len(blocks) == 2 * len(letters()) - len(created)


def test_the_forgotten_address_is_the_one_the_az_s_eip_had(shipped, user):
    # The 3-AZ environment creates us-east-1c's EIP; the 2-AZ one names the same address in
    # its removed block: dropping the AZ turns that very resource into a forget.
    (lid_3c, _) = by_path(user.stack("dev3"), "aws_eip", "/egress-ips/eip-us-east-1c")
    assert f"aws_eip.{lid_3c}" in removed(shipped.stack("dev"))
    # Likewise an ingress EIP for an environment that has none yet, and an egress one for an
    # environment without egress (a mode change that no longer needs the address).
    (lid_in, _) = by_path(user.stack("partners"), "aws_eip", "/ingress-ips/eip-ap-southeast-2a")
    assert lid_in.startswith("ingress-ips_eip-ap-southeast-2a_")
    ingress = removed(shipped.stack("ingress"))
    assert {a.split("_")[2] for a in ingress if a.startswith("aws_eip.egress-ips_")} == {
        f"eip-us-east-1{letter}" for letter in letters()
    }


def test_an_eip_moved_into_reuse_is_forgotten_too(user):
    # partners reuses an existing allocation in ap-southeast-2b: the EIP Terraform would have
    # created there is forgotten, and the reused one is never Terraform's to release.
    partners = user.stack("partners")
    (lid_2a, _) = by_path(partners, "aws_eip", "/ingress-ips/eip-ap-southeast-2a")
    forgotten = {a for a in removed(partners) if a.startswith("aws_eip.ingress-ips_")}
    assert f"aws_eip.{lid_2a}" not in forgotten
    assert any(a.startswith("aws_eip.ingress-ips_eip-ap-southeast-2b_") for a in forgotten)


def test_protect_ips_false_releases_on_purpose(user):
    # dev3 sets protect_ips = false: no removed block, so a dropped AZ's EIP is destroyed.
    assert "removed" not in user.stack("dev3")
