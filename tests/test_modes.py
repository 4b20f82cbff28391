"""The mode registry (`staticip.modes`): config, cost and review find every mode there, so a
mode that is not registered is an error, and a registered one needs nothing else to be parsed
and priced; the layers above (stack, doctor, review, ips) find its parts by label, and a mode
without them is an error there too."""

from __future__ import annotations

import pytest

from stacks.modes import EGRESS_BUILDERS, INGRESS_BUILDERS
from staticip import modes
from staticip.config import ConfigError, load_config
from staticip.cost import current_option, egress_options
from staticip.doctor import MODE_CHECKS
from staticip.ips import INGRESS_IPS
from staticip.modes.base import EgressMode, IngressMode, Option
from staticip.prices import load_prices
from staticip.review import mode_rules


def test_lookups_of_unregistered_modes_raise_instead_of_falling_back():
    with pytest.raises(modes.UnknownModeError, match="unknown egress mode 'squid-proxy'"):
        modes.egress_mode("squid-proxy")
    with pytest.raises(modes.UnknownModeError, match="unknown ingress mode 'cloudfront'"):
        modes.ingress_mode("cloudfront")
    with pytest.raises(modes.UnknownModeError, match="unknown nat 'zonal' for egress"):
        modes.egress_mode("nat-gateway", "zonal")
    assert modes.egress_mode("none") is None and modes.ingress_mode("none") is None


def test_every_declaration_is_distinct_and_complete():
    labels = [m.label for m in modes.egress_modes()]
    assert len(labels) == len(set(labels))
    names = [m.name for m in modes.ingress_modes()]
    assert len(names) == len(set(names))
    for mode in modes.all_modes():
        assert mode.summary, mode
        base = EgressMode if mode.direction == modes.EGRESS else IngressMode
        assert isinstance(mode, base)
        # Every registered mode has its parts in the layers above, and nothing else does.
        builders = EGRESS_BUILDERS if mode.direction == modes.EGRESS else INGRESS_BUILDERS
        assert mode.label in builders, mode
        assert mode.label in MODE_CHECKS, mode
        assert mode.label in mode_rules.MODE_RULES, mode
        if mode.direction == modes.INGRESS:
            assert mode.label in INGRESS_IPS, mode
    labels = {m.label for m in modes.all_modes()}
    for table in (EGRESS_BUILDERS, INGRESS_BUILDERS, MODE_CHECKS, mode_rules.MODE_RULES):
        assert set(table) <= labels


def test_a_key_of_another_mode_names_the_modes_that_take_it(write_config):
    path = write_config(
        '[environments.dev]\negress = "eni-eip"\nvpc_cidr = "10.0.0.0/16"\nnat = "single"\n'
    )
    with pytest.raises(ConfigError, match="key 'nat': only applies with egress = 'nat-gateway'"):
        load_config(path)
    path = write_config(
        '[environments.dev]\negress = "nat-gateway"\nvpc_cidr = "10.0.0.0/16"\n'
        "eni_guard = { enabled = false }\n"
    )
    with pytest.raises(ConfigError, match="key 'eni_guard': only applies with egress = 'eni-eip'"):
        load_config(path)


class _Proxy(EgressMode):
    """A mode only this test registers: an egress proxy fleet with one EIP in the first AZ."""

    name = "proxy-fleet"
    summary = "test-only"
    keys = {"proxy_size": "instances in the fleet"}

    def static_ip_azs(self, env):
        return (min(env.azs),)

    def options(self, r, azs):
        return {"proxy_size": r.int_in("proxy_size", 1, 10, 1)}

    def cost_option(self, az_count, prices):
        return Option(self.label, 42.0, 0.0, "test-only")


def test_a_registered_mode_is_parsed_priced_and_keyed_without_other_changes(
    write_config, monkeypatch
):
    registered = (*modes.egress_modes(), _Proxy())
    monkeypatch.setattr(modes, "egress_modes", lambda: registered)
    path = write_config(
        '[environments.edge]\negress = "proxy-fleet"\nvpc_cidr = "10.0.0.0/16"\nproxy_size = 3\n'
    )
    env = load_config(path).environment("edge")
    assert isinstance(env.egress_mode, _Proxy)
    assert env.mode_options == {"proxy_size": 3}
    assert env.static_ip_azs == ("us-east-1a",)
    assert current_option(env) == "proxy-fleet"
    assert "proxy-fleet" in [o.name for o in egress_options(2, load_prices())]

    bad = write_config(
        '[environments.edge]\negress = "proxy-fleet"\nvpc_cidr = "10.0.0.0/16"\nproxy_size = 0\n'
    )
    with pytest.raises(ConfigError, match="'edge', key 'proxy_size': 0 is out of range"):
        load_config(bad)


def test_a_registered_mode_without_its_parts_is_an_error_above_the_declarations(monkeypatch):
    registered = (*modes.egress_modes(), _Proxy())
    monkeypatch.setattr(modes, "egress_modes", lambda: registered)
    unknown = "no {} for egress mode 'proxy-fleet'"
    with pytest.raises(modes.UnknownModeError, match=unknown.format("builder")):
        modes.lookup(EGRESS_BUILDERS, _Proxy(), "builder")
    with pytest.raises(modes.UnknownModeError, match=unknown.format("doctor checks")):
        modes.lookup(MODE_CHECKS, _Proxy(), "doctor checks")
    # Review runs every registered mode's rules: one without any is not silently skipped.
    with pytest.raises(modes.UnknownModeError, match=unknown.format("review rules")):
        mode_rules.review_rules()


@pytest.mark.parametrize(
    ("nat", "azs", "option"),
    [
        ("per-az", 2, "nat-gateway per-az"),
        ("regional", 2, "nat-gateway regional"),
        ("single", 2, "nat-gateway single"),
        # One AZ: every layout is one gateway and one EIP, and that block lists only single.
        ("per-az", 1, "nat-gateway single"),
        ("regional", 1, "nat-gateway single"),
        ("single", 1, "nat-gateway single"),
    ],
)
def test_each_nat_layout_names_its_cost_line(write_config, nat, azs, option):
    path = write_config(
        f'[environments.prod]\negress = "nat-gateway"\nnat = "{nat}"\n'
        f'vpc_cidr = "10.0.0.0/16"\naz_count = {azs}\n'
    )
    env = load_config(path).environment("prod")
    assert current_option(env) == option
    assert option in [o.name for o in egress_options(azs, load_prices())]
