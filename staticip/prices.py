"""The price table behind `staticip cost`: `prices.toml` next to this module, optionally
overridden key by key from a user's file (`--prices FILE`).

Every problem is a `PricesError` whose message is one line naming the file and the key.

The `Prices` dataclass is the one declaration of the table: each price field names its TOML key
and kind, and the file check and the building are derived from those fields. Adding a price is
one field here and its value in `prices.toml`.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

SHIPPED_PRICES = Path(__file__).with_name("prices.toml")

# The kinds of value: "money" is a finite number >= 0, "hours" a finite number > 0, "text" a
# non-empty string; a "money table" is a table of money by any name (instance types), and its
# `source`.
MONEY = "money"
HOURS = "hours"
TEXT = "text"
MONEY_TABLE = "money table"

# Every table, and the top level, carries a `source` text key (where its figures come from); it
# is collected into `Prices.sources` rather than a field per table.
_SOURCE = "source"
_KEY, _KIND = "toml_key", "toml_kind"


def _price(key: str, kind: str) -> Any:
    """A `Prices` field read from the dotted TOML `key` (`table.key` or a top-level key)."""
    return field(metadata={_KEY: key, _KIND: kind})


class PricesError(ValueError):
    """A problem in a price file; `str()` is the one line to show the user."""


@dataclass(frozen=True)
class Prices:
    """Unit prices for one region, in `currency`."""

    region: str = _price("region", TEXT)
    currency: str = _price("currency", TEXT)
    as_of: str = _price("as_of", TEXT)
    hours_per_month: float = _price("hours_per_month", HOURS)
    public_ipv4_per_hour: float = _price("public_ipv4.per_hour", MONEY)
    nat_gateway_per_hour: float = _price("nat_gateway.per_hour", MONEY)
    nat_gateway_per_gb: float = _price("nat_gateway.per_gb", MONEY)
    regional_nat_per_az_hour: float = _price("regional_nat_gateway.per_az_hour", MONEY)
    """A regional NAT Gateway, per hour for each AZ it is active in."""
    regional_nat_per_gb: float = _price("regional_nat_gateway.per_gb", MONEY)
    global_accelerator_per_hour: float = _price("global_accelerator.per_hour", MONEY)
    global_accelerator_per_gb: float = _price("global_accelerator.per_gb", MONEY)
    global_accelerator_route: str = _price("global_accelerator.per_gb_route", TEXT)
    alb_per_hour: float = _price("alb.per_hour", MONEY)
    alb_per_lcu_hour: float = _price("alb.per_lcu_hour", MONEY)
    nlb_per_hour: float = _price("nlb.per_hour", MONEY)
    nlb_per_lcu_hour: float = _price("nlb.per_lcu_hour", MONEY)
    ec2_per_hour: Mapping[str, float] = _price("ec2_per_hour", MONEY_TABLE)
    """On-Demand Linux instance prices per hour, by instance type (NAT instances)."""
    ebs_gp3_per_gb_month: float = _price("ebs.gp3_per_gb_month", MONEY)
    lambda_per_million_requests: float = _price("lambda.per_million_requests", MONEY)
    lambda_per_gb_second: float = _price("lambda.per_gb_second", MONEY)
    """x86_64 duration, the built-in functions' architecture."""
    cloudwatch_metric_per_month: float = _price("cloudwatch.custom_metric_per_month", MONEY)
    cloudwatch_alarm_metric_per_month: float = _price("cloudwatch.alarm_metric_per_month", MONEY)
    """A standard-resolution alarm, per metric it reads (a metric-math alarm pays for each)."""
    ipam_block_per_address_hour: float = _price("ipam.contiguous_ipv4_per_address_hour", MONEY)
    """Each address of an Amazon-provided contiguous IPv4 block, in use or not."""
    ipam_advanced_per_ip_hour: float = _price("ipam.advanced_per_active_ip_hour", MONEY)
    """IPAM Advanced Tier, per active IP address it manages."""
    hosted_proxy_name: str = _price("hosted_proxy.name", TEXT)
    hosted_proxy_per_month: float = _price("hosted_proxy.per_month", MONEY)
    files: tuple[str, ...]
    """The files the table was read from, shipped table first."""
    overridden: tuple[str, ...] = ()
    """Dotted keys the override file set."""
    sources: Mapping[str, str] | None = None
    """Table name (or `""` for the top level) -> where its figures come from."""

    def monthly(self, per_hour: float) -> float:
        """An hourly price over one month of `hours_per_month` hours."""
        return per_hour * self.hours_per_month


# Field name -> (dotted TOML key, kind), in declaration order.
_FIELDS: dict[str, tuple[str, str]] = {
    f.name: (f.metadata[_KEY], f.metadata[_KIND]) for f in fields(Prices) if _KEY in f.metadata
}


def _schema() -> dict[str, Any]:
    """key -> kind, nested dicts being TOML tables; each level ends its scalars with `source`."""
    top: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    for key, kind in _FIELDS.values():
        table, _, sub = key.rpartition(".")
        if kind == MONEY_TABLE:
            tables[key] = kind
        elif table:
            tables.setdefault(table, {})[sub] = kind
        else:
            top[key] = kind
    # TOML puts a file's top-level keys before its tables; the schema follows the file.
    top[_SOURCE] = TEXT
    for keys in tables.values():
        if isinstance(keys, dict):
            keys[_SOURCE] = TEXT
    return top | tables


_SCHEMA = _schema()


def load_prices(override: str | Path | None = None, shipped: str | Path = SHIPPED_PRICES) -> Prices:
    """Read the shipped table and, when given, lay the keys of `override` over it.

    Raises `PricesError` for an unreadable file, invalid TOML, an unknown key, a value of the
    wrong type or a negative price; and, for the shipped table only, a missing key.
    """
    base = _read(Path(shipped))
    _check(base, _SCHEMA, Path(shipped), "", require_all=True)
    merged, overridden = base, []
    files = [str(shipped)]
    if override is not None:
        extra = _read(Path(override))
        _check(extra, _SCHEMA, Path(override), "", require_all=False)
        merged, overridden = _merge(base, extra)
        files.append(str(override))
    return _build(merged, tuple(files), tuple(overridden))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PricesError(f"{path}: price file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PricesError(f"{path}: cannot read price file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PricesError(f"{path}: invalid TOML: {exc}") from None


def _check(
    table: Mapping[str, Any], schema: Mapping[str, Any], path: Path, prefix: str, require_all: bool
) -> None:
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if key not in schema:
            allowed = ", ".join(f"{prefix}{k}" for k in schema)
            raise PricesError(f"{path}: key '{dotted}': unknown key; allowed: {allowed}")
        kind = schema[key]
        if kind == MONEY_TABLE:
            if not isinstance(value, dict):
                raise PricesError(f"{path}: key '{dotted}': expected a table, got {_type(value)}")
            # Any name is a key here; each is a price, but for the table's `source`.
            _check(value, dict.fromkeys(value, MONEY) | {_SOURCE: TEXT}, path, f"{dotted}.", False)
            if require_all and _SOURCE not in value:
                raise PricesError(f"{path}: key '{dotted}.{_SOURCE}': missing")
        elif isinstance(kind, dict):
            if not isinstance(value, dict):
                raise PricesError(f"{path}: key '{dotted}': expected a table, got {_type(value)}")
            _check(value, kind, path, f"{dotted}.", require_all)
        else:
            problem = _value_problem(kind, value)
            if problem:
                raise PricesError(f"{path}: key '{dotted}': {problem}")
    if require_all:
        for key in schema:
            if key not in table:
                raise PricesError(f"{path}: key '{prefix}{key}': missing")


def _value_problem(kind: str, value: object) -> str | None:
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            return f"expected a non-empty string, got {_type(value)}"
        return None
    # TOML `true` is a Python int; a price must not pass as one.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a number, got {_type(value)}"
    if not math.isfinite(value):
        return f"expected a finite number, got {value}"
    if kind == "hours" and value <= 0:
        return f"expected a number of hours > 0, got {value}"
    if value < 0:
        return f"a price cannot be negative, got {value}"
    return None


def _type(value: object) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a float"}
    names |= {dict: "a table", list: "an array"}
    return names.get(type(value), type(value).__name__)


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    overridden = []
    for key, value in extra.items():
        if isinstance(value, dict):
            for sub, subvalue in value.items():
                merged[key][sub] = subvalue
                overridden.append(f"{key}.{sub}")
        else:
            merged[key] = value
            overridden.append(key)
    return merged, overridden


def _build(t: Mapping[str, Any], files: tuple[str, ...], overridden: tuple[str, ...]) -> Prices:
    values: dict[str, Any] = {}
    for name, (key, kind) in _FIELDS.items():
        value: Any = t
        for part in key.split("."):
            value = value[part]
        # TOML reads `730` as an int; every non-text figure is a float to its consumers.
        if kind == MONEY_TABLE:
            values[name] = {k: float(v) for k, v in value.items() if k != _SOURCE}
        else:
            values[name] = value if kind == TEXT else float(value)
    sources = {"": t[_SOURCE]} | {
        name: t[name][_SOURCE]
        for name, kind in _SCHEMA.items()
        if isinstance(kind, dict) or kind == MONEY_TABLE
    }
    return Prices(**values, files=files, overridden=overridden, sources=sources)
