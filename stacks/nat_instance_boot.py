"""The boot script of a NAT instance (stacks/nat_instance_boot.sh), filled in for one AZ.

Plain Python, no CDKTF import: the stack renders it with Terraform references as values, the
unit test (tests/test_nat_instance_boot.py) with literals, and runs it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("nat_instance_boot.sh")
#: How long the script keeps trying to attach the ENI and see it configured. A replacement can
#: boot while the old instance still holds the ENI (it is released when that instance has
#: terminated), and a first apply can boot the instance before IAM has propagated its role.
DEFAULT_ATTACH_TIMEOUT_SECONDS = 300

_PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


@dataclass(frozen=True)
class BootSettings:
    """What the script needs to know about its AZ; each field fills `@FIELD_NAME@`."""

    eni_id: str
    """The AZ's static ENI (a Terraform reference when synthesized)."""
    vpc_cidr: str
    """Traffic from here is forwarded and masqueraded; nothing else is."""
    region: str
    group_name: str
    """The instance's Auto Scaling group, told when the instance is unhealthy."""
    attach_timeout_seconds: int = DEFAULT_ATTACH_TIMEOUT_SECONDS


def render_boot_script(settings: BootSettings, for_terraform: bool = False) -> str:
    """The script with every placeholder filled; raises ValueError for one without a field.

    `for_terraform`: the script's own `${` and `%{` escaped as `$${` and `%%{`, so that
    Terraform, which reads both as template syntax in any string, hands the instance the
    script as written; the values (Terraform references among them) are left as they are."""
    values = {key.upper(): str(value) for key, value in asdict(settings).items()}
    text = SCRIPT.read_text()
    if for_terraform:
        text = text.replace("${", "$${").replace("%{", "%%{")

    def fill(match: re.Match[str]) -> str:
        if match[1] not in values:
            raise ValueError(f"{SCRIPT.name}: no setting for @{match[1]}@")
        return values[match[1]]

    return _PLACEHOLDER.sub(fill, text)
