"""The registry of egress and ingress modes: one declaration each (staticip/modes/*.py).

Everything mode-specific is found here: `config` takes the valid `egress`, `ingress` and
variant values and the mode keys from it; the environment stack builds, `cost` prices,
`doctor` checks and `review` guards what the declarations say. To add a mode, write its
construct (stacks/), its declaration (a module here) and its line in `_registry`, and document
it in README.md.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence

from staticip.modes.base import (
    EGRESS,
    INGRESS,
    EgressMode,
    IngressMode,
    Mode,
    PriceRule,
    ReviewRule,
)

NONE = "none"


@functools.cache
def _registry() -> tuple[tuple[EgressMode, ...], tuple[IngressMode, ...]]:
    """The declarations, imported on first use rather than with this package: `config`
    imports the package, and a declaration may import the tooling (doctor, review) that
    imports `config` in turn."""
    from staticip.modes.eni_eip import EniEip
    from staticip.modes.global_accelerator import GlobalAccelerator
    from staticip.modes.nat_gateway import PerAzNatGateway, RegionalNatGateway, SingleNatGateway
    from staticip.modes.nat_instance import PerAzNatInstance, SingleNatInstance
    from staticip.modes.nlb_eip import NlbEip

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


def review_rules() -> tuple[ReviewRule, ...]:
    """Every registered mode's review rules, each once."""
    return tuple(dict.fromkeys(rule for mode in all_modes() for rule in mode.review_rules))


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
    "mode_keys",
    "price_rules",
    "review_rules",
    "variants",
]
