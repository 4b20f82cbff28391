"""Egress probe: report the public IP the internet sees for this function's traffic.

`staticip verify` invokes it and compares the answer with the environment's allow-listed IPs.
Standard library only, so the deployment package is just this file.
"""

from __future__ import annotations

import os
import urllib.request
from typing import Any

DEFAULT_CHECKIP_URL = "https://checkip.amazonaws.com"
# Well under the function timeout: a Lambda ENI without an EIP has no route out, and the
# caller wants that reported as an error, not as the function timing out.
DEFAULT_TIMEOUT_SECONDS = "5"


def fetch_public_ip() -> str:
    url = os.environ.get("CHECKIP_URL", DEFAULT_CHECKIP_URL)
    timeout = float(os.environ.get("CHECKIP_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode("ascii").strip()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        ip = fetch_public_ip()
    except OSError as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "region": _region()}
    return {"ok": True, "ip": ip, "region": _region()}


def _region() -> str | None:
    # Lambda does not tell a function its AZ; `staticip verify` maps IPs to AZs by EIP tags.
    return os.environ.get("AWS_REGION")
