"""Reading one table of the environments file with errors that name file, environment and key.

Every validation failure in `staticip.toml` is a `ConfigError` whose message is one line naming
the file, the environment and the key, and saying what to write instead. `config` (the
environment tables), `function_config` (the function tables and routes) and the mode
declarations (`Mode.options`) read their keys through `TableReader`, so all of them fail alike.
The allocation-ID tables both `config` and the nlb-eip declaration read are parsed here too:
the declarations sit under `config` (which imports their registry) and never import it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# CloudWatch Logs accepts these retention values only.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827)
_ALLOCATION_ID = re.compile(r"^eipalloc-[0-9a-f]{8,17}$")


class ConfigError(ValueError):
    """A problem in the environments file; `str()` is the one line to show the user."""

    def __init__(self, message: str) -> None:
        # Keys and values are quoted back from the file, and TOML allows newlines and control
        # characters in both; escape them so the message stays one printable line.
        super().__init__("".join(c if c.isprintable() else repr(c)[1:-1] for c in message))


class TableReader:
    """Typed access to one table, raising errors that name file, environment and key (mode
    declarations read their own keys through it: `Mode.options`)."""

    def __init__(self, path: Path, env: str | None, table: Mapping[str, Any], prefix: str = ""):
        self.path, self.env, self.table, self.prefix = path, env, table, prefix

    def fail(self, key: str, problem: str) -> ConfigError:
        where = f"environment '{self.env}', " if self.env else ""
        return ConfigError(f"{self.path}: {where}key '{self.prefix}{key}': {problem}")

    def check_keys(self, allowed: set[str] | frozenset[str]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.fail(key, f"unknown key; allowed: {', '.join(sorted(allowed))}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        if key not in self.table:
            return default
        value = self.table[key]
        # bool is an int in Python; a TOML `true` must not pass for a number.
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(_TOML_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            raise self.fail(key, f"expected {names}, got {toml_type(value)}")
        return value

    def int_in(self, key: str, low: int, high: int, default: int) -> int:
        value = self.get(key, int, default)
        if not low <= value <= high:
            raise self.fail(key, f"{value} is out of range; use {low} to {high}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.get(key, str, default)
        if value not in choices:
            raise self.fail(key, f"unknown value '{value}'; use one of {', '.join(choices)}")
        return value

    def retention(self, key: str, default: int | None) -> int | None:
        """A CloudWatch Logs retention in days: one of the values Lambda and CloudWatch take."""
        days = self.get(key, int, default)
        if days is not None and days not in LOG_RETENTION_DAYS:
            raise self.fail(
                key,
                f"{days} is not a CloudWatch Logs retention; "
                f"use one of {', '.join(map(str, LOG_RETENTION_DAYS))}",
            )
        return days

    def sub(self, key: str) -> TableReader:
        table = self.get(key, dict, {})
        return TableReader(self.path, self.env, table, f"{self.prefix}{key}.")


_TOML_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "a boolean",
    dict: "a table",
    list: "an array",
    float: "a float",
}


def toml_type(value: object) -> str:
    return _TOML_TYPE_NAMES.get(type(value), type(value).__name__)


def allocation_ids(r: TableReader, key: str, azs: Sequence[str]) -> dict[str, str]:
    """The table `key` of AZ name -> existing EIP allocation ID (`reuse_eip_allocation_ids`
    and the like): each AZ one of `azs`, each ID well-formed and listed once."""
    reuse = r.get(key, dict, {})
    for az, alloc in reuse.items():
        if az not in azs:
            raise r.fail(
                f"{key}.{az}", f"'{az}' is not one of this environment's AZs ({', '.join(azs)})"
            )
        if not isinstance(alloc, str) or not _ALLOCATION_ID.match(alloc):
            raise r.fail(
                f"{key}.{az}", "expected an EIP allocation ID like 'eipalloc-0123456789abcdef0'"
            )
    if len(set(reuse.values())) != len(reuse):
        raise r.fail(key, "the same allocation ID is listed twice")
    return dict(reuse)


def reuse_with_pool_problem(key: str, az: str) -> str:
    """Why an AZ cannot both adopt an EIP (`key`) and take ipam_pool_id, and the fix."""
    return (
        f"{az} reuses an EIP, but a reused EIP's address is not drawn from the IPAM pool "
        f"(ipam_pool_id), so the pool's CIDR would not cover it; move {az} out of {key} or "
        "drop ipam_pool_id"
    )
