"""Call the vendor from the allow-listed IP: the request leaves through the environment's
Elastic IP of the AZ the invocation runs in."""

from __future__ import annotations

import os
import urllib.request
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with urllib.request.urlopen(os.environ["VENDOR_URL"], timeout=5) as response:
        return {"status": response.status}
