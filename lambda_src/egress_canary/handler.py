"""Egress canary: check that this AZ's traffic leaves from this AZ's allow-listed address.

One function per AZ, each in that AZ's function subnet only, with the function security group
every function of the environment shares: Lambda runs it on the same Hyperplane ENI (eni-eip)
or through the same route (NAT) as the user's functions in that AZ. EventBridge runs each on
the canary's schedule, so every AZ is checked once per period.

The result goes out as a CloudWatch embedded-metric-format (EMF) line in the function's log:
Lambda delivers logs through its own service, not through the function's network, so an AZ
whose egress is broken still reports `NoEgress = 1` instead of falling silent. No CloudWatch
permission is needed either. A run that reports nothing at all (crashed, throttled, rule
disabled) is missing data, which the AZ's alarm treats as failing.

Deployment package: this file as ``handler.py`` next to ``staticip/{__init__,canary}.py``.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Any

from staticip.canary import (
    AZ_DIMENSION,
    AZ_VARIABLE,
    CHECK_TIMEOUT_SECONDS,
    CHECKIP_URL_VARIABLE,
    DEFAULT_CHECKIP_URL,
    ENVIRONMENT_DIMENSION,
    ENVIRONMENT_VARIABLE,
    EXPECTED_IP_VARIABLE,
    METRIC_NAMESPACE_VARIABLE,
    NO_EGRESS_METRIC,
    NOT_ALLOW_LISTED_METRIC,
)


def fetch_public_ip(url: str, timeout: float) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode("ascii").strip()


def check(expected_ip: str, url: str, timeout: float) -> dict[str, Any]:
    """One check: the address the internet sees, and how it compares with `expected_ip`."""
    try:
        seen = fetch_public_ip(url, timeout)
    except (OSError, UnicodeDecodeError) as exc:
        # URLError, timeouts, refused connections and DNS failures are all OSErrors.
        return {"ok": False, "no_egress": True, "ip": None, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": seen == expected_ip, "no_egress": False, "ip": seen, "error": None}


def emf_record(
    namespace: str, environment: str, az: str, expected_ip: str, result: dict[str, Any]
) -> dict[str, Any]:
    """The log line CloudWatch turns into the two metrics of (environment, AZ). Both are
    always written, so each period has a data point for each, failing or not."""
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [[ENVIRONMENT_DIMENSION, AZ_DIMENSION]],
                    "Metrics": [
                        {"Name": NO_EGRESS_METRIC, "Unit": "Count"},
                        {"Name": NOT_ALLOW_LISTED_METRIC, "Unit": "Count"},
                    ],
                }
            ],
        },
        ENVIRONMENT_DIMENSION: environment,
        AZ_DIMENSION: az,
        NO_EGRESS_METRIC: 1 if result["no_egress"] else 0,
        # Without egress nothing was seen, so no foreign address either: NoEgress says it.
        NOT_ALLOW_LISTED_METRIC: 0 if result["no_egress"] or result["ok"] else 1,
        "expected_ip": expected_ip,
        "seen_ip": result["ip"],
        "error": result["error"],
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    az = os.environ[AZ_VARIABLE]
    expected = os.environ[EXPECTED_IP_VARIABLE]
    result = check(
        expected, os.environ.get(CHECKIP_URL_VARIABLE, DEFAULT_CHECKIP_URL), CHECK_TIMEOUT_SECONDS
    )
    record = emf_record(
        os.environ[METRIC_NAMESPACE_VARIABLE],
        os.environ[ENVIRONMENT_VARIABLE],
        az,
        expected,
        result,
    )
    print(json.dumps(record, separators=(",", ":")))
    return {"az": az, "expected_ip": expected, **result}
