"""The egress canary's monthly price per AZ, by hand from the shipped price table: at the
default `rate(5 minutes)`, 730 h x 12 = 8,760 runs, each priced at the check's 5 s timeout on
128 MB; two custom metrics, and an alarm that reads both."""

from __future__ import annotations

import tomllib

from staticip.prices import SHIPPED_PRICES

_TABLE = tomllib.loads(SHIPPED_PRICES.read_text())
RUNS_PER_AZ = 730 * 60 / 5  # 8,760
_LAMBDA, _CLOUDWATCH = _TABLE["lambda"], _TABLE["cloudwatch"]
CANARY_RUNS_PER_AZ_USD = RUNS_PER_AZ * (
    _LAMBDA["per_million_requests"] / 1e6 + 128 / 1024 * 5 * _LAMBDA["per_gb_second"]
)  # 8,760 x (0.0000002 + 0.125 x 5 x 0.0000166667) = 0.0930
CANARY_CLOUDWATCH_PER_AZ_USD = (
    2 * _CLOUDWATCH["custom_metric_per_month"] + 2 * _CLOUDWATCH["alarm_metric_per_month"]
)  # 2 x 0.30 + 2 x 0.10 = 0.80
CANARY_PER_AZ_USD = CANARY_RUNS_PER_AZ_USD + CANARY_CLOUDWATCH_PER_AZ_USD  # 0.893
