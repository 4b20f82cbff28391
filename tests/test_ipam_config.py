"""`ipam_pool_id` in staticip.toml: which environments take it, its format, and the adopted
EIPs it cannot cover (issue #19, one CIDR for the vendor)."""

from __future__ import annotations

import json

import pytest
from ipam_fixtures import POOL
from test_config import error_for

from staticip.config import load_config

NLB = 'ingress = "nlb-eip"\nvpc_cidr = "10.0.0.0/16"\n'


@pytest.mark.parametrize(
    "body",
    [
        'egress = "eni-eip"\nvpc_cidr = "10.0.0.0/16"\n',
        'egress = "nat-gateway"\nnat = "single"\nvpc_cidr = "10.0.0.0/16"\n',
        'egress = "nat-instance"\nvpc_cidr = "10.0.0.0/16"\n',
        NLB,
        'egress = "nat-gateway"\ningress = "global-accelerator"\nvpc_cidr = "10.0.0.0/16"\n',
    ],
)
def test_every_mode_with_eips_of_its_own_takes_the_pool(write_config, body):
    config = load_config(write_config(f'[environments.dev]\n{body}ipam_pool_id = "{POOL}"\n'))
    assert config.environment("dev").ipam_pool_id == POOL


def test_no_pool_by_default(write_config):
    config = load_config(
        write_config('[environments.dev]\negress = "eni-eip"\nvpc_cidr = "10.0.0.0/16"\n')
    )
    assert config.environment("dev").ipam_pool_id is None


def test_global_accelerator_alone_has_no_eips_for_a_pool(write_config):
    message = error_for(
        write_config,
        '[environments.dev]\ningress = "global-accelerator"\nvpc_cidr = "10.0.0.0/16"\n'
        f'ipam_pool_id = "{POOL}"\n',
    )
    assert "environment 'dev', key 'ipam_pool_id': only applies with" in message
    assert "'nlb-eip'" in message and "remove it" in message


@pytest.mark.parametrize(
    "pool",
    [
        "ipam-pool-0533048da7d82372",  # 16 hex digits
        "ipam-pool-0533048da7d8237233",  # 18
        "ipam-pool-0533048DA7D823723",  # AWS IDs are lowercase
        "ipam-pool-0533048da7d82372g",
        "ipam-scope-0da34c61fd189a141",
        "eipalloc-0123456789abcdef0",
        "ipam-pool-0533048da7d823723\n",
    ],
)
def test_a_malformed_pool_id_is_one_line_with_an_example(write_config, pool):
    # A JSON string is a TOML basic string (the newline one included).
    message = error_for(
        write_config,
        '[environments.dev]\negress = "eni-eip"\nvpc_cidr = "10.0.0.0/16"\n'
        f"ipam_pool_id = {json.dumps(pool)}\n",
    )
    assert "key 'ipam_pool_id'" in message
    assert "17 hex digits" in message and "'ipam-pool-0123456789abcdef0'" in message


def test_a_pool_id_must_be_a_string(write_config):
    message = error_for(
        write_config,
        '[environments.dev]\negress = "eni-eip"\nvpc_cidr = "10.0.0.0/16"\nipam_pool_id = 17\n',
    )
    assert "key 'ipam_pool_id'" in message and "string" in message


def test_a_pool_and_an_adopted_egress_eip_name_the_az(write_config):
    message = error_for(
        write_config,
        '[environments.dev]\negress = "nat-gateway"\nvpc_cidr = "10.0.0.0/16"\naz_count = 3\n'
        f'ipam_pool_id = "{POOL}"\n'
        'reuse_eip_allocation_ids = { "us-east-1c" = "eipalloc-0123456789abcdef0", '
        '"us-east-1b" = "eipalloc-0123456789abcdef1" }\n',
    )
    assert "key 'reuse_eip_allocation_ids.us-east-1b'" in message
    assert "not drawn from the IPAM pool" in message
    assert "move us-east-1b out of reuse_eip_allocation_ids or drop ipam_pool_id" in message


def test_a_pool_and_an_adopted_ingress_eip_name_the_az(write_config):
    message = error_for(
        write_config,
        f'[environments.dev]\n{NLB}ipam_pool_id = "{POOL}"\n'
        'ingress_reuse_eip_allocation_ids = { "us-east-1b" = "eipalloc-0123456789abcdef0" }\n',
    )
    assert "key 'ingress_reuse_eip_allocation_ids.us-east-1b'" in message
    assert "not drawn from the IPAM pool" in message
    assert "move us-east-1b out of ingress_reuse_eip_allocation_ids" in message


def test_adopted_eips_without_a_pool_still_parse(write_config):
    config = load_config(
        write_config(
            f"[environments.dev]\n{NLB}"
            'ingress_reuse_eip_allocation_ids = { "us-east-1b" = "eipalloc-0123456789abcdef0" }\n'
        )
    )
    assert config.environment("dev").ipam_pool_id is None
