"""The registry of egress and ingress modes: one declaration each (staticip/modes/<mode>/).

Everything mode-specific is found from here: `config` takes the valid `egress`, `ingress` and
variant values and the mode keys from it, and `cost` the price rules and alternatives. The
parts of a mode above the declarations are registered by the mode's label next to what uses
them, and found with `lookup`: its builder in `stacks/modes.py`, its doctor checks in
`staticip/modes/<mode>/checks.py` (gathered by `staticip.doctor`), its review rules in
`staticip/modes/<mode>/rules.py` (gathered by `staticip.review.mode_rules`), and for an ingress
mode how `ips` reads its addresses (`staticip.ips`). To add a mode, write its declaration (a
package here) and its line in `_registry`, its construct and builder (stacks/), its checks and
rules, and document it (docs/layout.md says where).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import TypeVar

from staticip.modes.base import (
    EGRESS,
    INGRESS,
    EgressMode,
    IngressMode,
    Mode,
    PriceRule,
)
from staticip.modes.eni_eip import EniEip
from staticip.modes.global_accelerator import GlobalAccelerator
from staticip.modes.nat_gateway import PerAzNatGateway, RegionalNatGateway, SingleNatGateway
from staticip.modes.nat_instance import PerAzNatInstance, SingleNatInstance
from staticip.modes.nlb_eip import NlbEip

NONE = "none"


@functools.cache
def _registry() -> tuple[tuple[EgressMode, ...], tuple[IngressMode, ...]]:
    """The declarations, made once on first use."""
    # Egress in the order `cost` lists the alternatives; a name's first variant is its default.
    egress = (
        PerAzNatGateway(),
        RegionalNatGateway(),
        SingleNatGateway(),
        PerAzNatInstance(),
        SingleNatInstance(),
        EniEip(),
    )
    ingress = (GlobalAccelerator(), NlbEip())
    return egress, ingress


def egress_modes() -> tuple[EgressMode, ...]:
    return _registry()[0]


def ingress_modes() -> tuple[IngressMode, ...]:
    return _registry()[1]


class UnknownModeError(ValueError):
    """A mode name (or variant) no declaration carries."""


def _names(modes: Sequence[Mode]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.name for m in modes))


def egress_names() -> tuple[str, ...]:
    """`egress` values: `none`, then the declared names alphabetically."""
    return (NONE, *sorted(_names(egress_modes())))


def ingress_names() -> tuple[str, ...]:
    return (NONE, *sorted(_names(ingress_modes())))


def variants(name: str) -> tuple[EgressMode, ...]:
    """The egress declarations sharing `name` (the NAT layouts), default first."""
    return tuple(m for m in egress_modes() if m.name == name)


def egress_mode(name: str, variant: str | None = None) -> EgressMode | None:
    """The declaration of `egress = name` (and its variant key's value), None for `none`."""
    if name == NONE:
        return None
    candidates = variants(name)
    if not candidates:
        raise UnknownModeError(f"unknown egress mode {name!r}; known: {', '.join(egress_names())}")
    if variant is None or candidates[0].variant_key is None:
        return candidates[0]
    for mode in candidates:
        if mode.variant == variant:
            return mode
    known = ", ".join(str(m.variant) for m in candidates)
    raise UnknownModeError(
        f"unknown {candidates[0].variant_key} {variant!r} for egress {name!r}; known: {known}"
    )


def ingress_mode(name: str) -> IngressMode | None:
    if name == NONE:
        return None
    for mode in ingress_modes():
        if mode.name == name:
            return mode
    raise UnknownModeError(f"unknown ingress mode {name!r}; known: {', '.join(ingress_names())}")


def all_modes() -> Iterator[Mode]:
    yield from egress_modes()
    yield from ingress_modes()


def mode_keys() -> Mapping[str, tuple[Mode, ...]]:
    """Every mode key -> the declarations that take it."""
    keys: dict[str, tuple[Mode, ...]] = {}
    for mode in all_modes():
        for key in mode.keys:
            keys[key] = (*keys.get(key, ()), mode)
    return keys


def price_rules() -> tuple[PriceRule, ...]:
    """Every registered mode's price rules, each once."""
    return tuple(dict.fromkeys(rule for mode in all_modes() for rule in mode.price_rules))


T = TypeVar("T")


def lookup(table: Mapping[str, T], mode: Mode, what: str) -> T:
    """`table[mode.label]`: the part of `mode` that a layer above the declarations registered
    by label (its builder, doctor checks, review rules). A mode missing from the table is an
    `UnknownModeError` naming it, never another mode's part or nothing."""
    try:
        return table[mode.label]
    except KeyError:
        raise UnknownModeError(f"no {what} for {mode.direction} mode {mode.label!r}") from None


__all__ = [
    "EGRESS",
    "INGRESS",
    "NONE",
    "EgressMode",
    "IngressMode",
    "Mode",
    "UnknownModeError",
    "all_modes",
    "egress_mode",
    "egress_modes",
    "egress_names",
    "ingress_mode",
    "ingress_modes",
    "ingress_names",
    "lookup",
    "mode_keys",
    "price_rules",
    "variants",
]
