"""Example of your own function behind the static IPs: it calls a vendor's API, which sees the
environment's allow-listed address as the caller.

Declared in staticip.toml (`[environments.dev.functions.worker]`); replace it with your code.
Standard library only, so the package is just this file (a `requirements.txt` beside it would
be installed into the package for Lambda's platform at synth).
"""

from __future__ import annotations

import os
import urllib.request
from typing import Any

#: The "vendor" of the example: AWS's own what-is-my-IP service.
DEFAULT_VENDOR_URL = "https://checkip.amazonaws.com"
TIMEOUT_SECONDS = 5.0


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    url = os.environ.get("VENDOR_URL", DEFAULT_VENDOR_URL)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            body = response.read(200).decode("utf-8", "replace").strip()
            return {"ok": True, "status": response.status, "vendor_said": body}
    except OSError as exc:
        # No route out (an ENI without its EIP) shows up here, not as a function timeout.
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
