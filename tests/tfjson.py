"""Reading synthesized `cdk.tf.json`: find resources by type and construct path, and build the
`${type.id.attr}` references Terraform uses between them."""

from __future__ import annotations

import json
import re
from typing import Any

Stack = dict[str, Any]


def of_type(stack: Stack, rtype: str, kind: str = "resource") -> dict[str, dict[str, Any]]:
    return stack.get(kind, {}).get(rtype, {})


def by_path(
    stack: Stack, rtype: str, suffix: str, kind: str = "resource"
) -> tuple[str, dict[str, Any]]:
    """The one resource of `rtype` whose construct path ends with `suffix`."""
    found = [
        (lid, body)
        for lid, body in of_type(stack, rtype, kind).items()
        if body["//"]["metadata"]["path"].endswith(suffix)
    ]
    assert len(found) == 1, f"{rtype} ending {suffix!r}: {[lid for lid, _ in found]}"
    return found[0]


def ref(rtype: str, logical_id: str, attr: str, kind: str = "resource") -> str:
    prefix = "data." if kind == "data" else ""
    return f"${{{prefix}{rtype}.{logical_id}.{attr}}}"


def bare(rtype: str, logical_id: str) -> str:
    """A reference without `${}`, as it appears inside expressions and depends_on."""
    return f"{rtype}.{logical_id}"


def path_of(body: dict[str, Any]) -> str:
    return body["//"]["metadata"]["path"]


_BARE_REFERENCE = re.compile(r"(?<![\w\"])((?:data\.)?aws_[\w-]+\.[\w-]+\.\w+)")


def jsonencoded(expression: str) -> Any:
    """The value inside `${jsonencode({...})}` as Python data; Terraform references inside it
    become strings like `aws_subnet.x.id`."""
    assert expression.startswith("${jsonencode(") and expression.endswith(")}"), expression
    hcl = expression[len("${jsonencode(") : -2]
    return json.loads(_BARE_REFERENCE.sub(r'"\1"', hcl).replace('" = ', '": '))


#: The construct the egress canary's resources sit under (stacks/environment.py).
CANARY_CONSTRUCT = "egress-canary"


def not_canary(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`resources` less the egress canary's: it adds functions, rules and alarms to every
    egress environment, which tests of other parts leave to tests/test_stacks_canary.py."""
    return {
        lid: body
        for lid, body in resources.items()
        if path_of(body).split("/")[1:2] != [CANARY_CONSTRUCT]
    }
