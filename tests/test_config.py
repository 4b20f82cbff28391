"""Config errors: one line naming the file, the environment and the key."""

from __future__ import annotations

import pytest

from staticip.config import ConfigError, load_config

#: A valid environment body, to which each case adds one mistake.
BASE = 'egress = "eni-eip"\nvpc_cidr = "10.0.0.0/16"\n'

NAT_INSTANCE = 'egress = "nat-instance"\nvpc_cidr = "10.0.0.0/16"\n'

VALID_DEV = """
[environments.dev]
egress = "eni-eip"
vpc_cidr = "10.10.0.0/16"
"""


def error_for(write_config, text: str) -> str:
    path = write_config(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


@pytest.mark.parametrize(
    ("body", "env", "key", "hint"),
    [
        ('egress = "squid-proxy"\nvpc_cidr = "10.0.0.0/16"', "dev", "egress", "nat-instance"),
        ('ingress = "nlb"\nvpc_cidr = "10.0.0.0/16"', "dev", "ingress", "global-accelerator"),
        ('egress = "eni-eip"\nvpc_cidr = "10.0.0.300/16"', "dev", "vpc_cidr", "IPv4"),
        ('egress = "eni-eip"\nvpc_cidr = "10.0.0.1/16"', "dev", "vpc_cidr", "host bits"),
        ('egress = "eni-eip"\nvpc_cidr = "10.0.0.0/28"', "dev", "vpc_cidr", "/16 to /24"),
        ('egress = "eni-eip"', "dev", "vpc_cidr", "missing"),
        (BASE + "az_count = 0", "dev", "az_count", "1 to"),
        (
            BASE + 'az_count = "2"',
            "dev",
            "az_count",
            "expected an integer, got a string",
        ),
        (
            BASE + "az_count = true",
            "dev",
            "az_count",
            "expected an integer, got a boolean",
        ),
        (
            BASE + "subnets = 3",
            "dev",
            "subnets",
            "unknown key",
        ),
        (
            BASE + 'nat = "single"',
            "dev",
            "nat",
            "only applies",
        ),
        ('egress = "nat-gateway"\nvpc_cidr = "10.0.0.0/16"\nnat = "two"', "dev", "nat", "per-az"),
        ('egress = "nat-gateway"\nvpc_cidr = "10.0.0.0/16"\nnat = "two"', "dev", "nat", "regional"),
        (
            'egress = "nat-gateway"\nvpc_cidr = "10.0.0.0/16"\nnat = "auto"',
            "dev",
            "nat",
            "breaks allow-lists",
        ),
        (
            'egress = "nat-gateway"\nvpc_cidr = "10.0.0.0/16"\nnat = "regional-auto"',
            "dev",
            "nat",
            "breaks allow-lists",
        ),
        (BASE + 'nat = "regional"', "dev", "nat", "only applies"),
        # nat-instance: a NAT Gateway layout, an instance type of no known family or without a
        # size, a key of the mode on another mode.
        (NAT_INSTANCE + 'nat = "regional"', "dev", "nat", "egress = 'nat-gateway'"),
        (NAT_INSTANCE + 'nat = "regional"', "dev", "nat", "'per-az' (default) or 'single'"),
        (NAT_INSTANCE + 'nat = "two"', "dev", "nat", "per-az, single"),
        (NAT_INSTANCE + 'nat_instance_type = "x9.large"', "dev", "nat_instance_type", "t4g"),
        (
            NAT_INSTANCE + 'nat_instance_type = "t4g"',
            "dev",
            "nat_instance_type",
            "no instance size",
        ),
        (
            NAT_INSTANCE + 'nat_instance_type = "t4g.huge"',
            "dev",
            "nat_instance_type",
            "no instance size",
        ),
        (NAT_INSTANCE + "nat_instance_type = 3", "dev", "nat_instance_type", "a string"),
        (NAT_INSTANCE + 'nat_instance_ssm = "yes"', "dev", "nat_instance_ssm", "a boolean"),
        (BASE + 'nat_instance_type = "t4g.nano"', "dev", "nat_instance_type", "only applies"),
        (
            'egress = "nat-gateway"\nvpc_cidr = "10.0.0.0/16"\nnat_instance_ssm = true',
            "dev",
            "nat_instance_ssm",
            "only applies",
        ),
        (
            BASE + 'region = "mars-1"',
            "dev",
            "region",
            "us-east-1",
        ),
        (
            BASE + 'azs = ["us-west-2a"]',
            "dev",
            "azs",
            "not an AZ of us-east-1",
        ),
        (
            BASE + 'azs = ["us-east-1a", "us-east-1a"]',
            "dev",
            "azs",
            "twice",
        ),
        (
            BASE + 'azs = ["us-east-1a"]\naz_count = 1',
            "dev",
            "az_count",
            "not both",
        ),
        (
            'ingress = "global-accelerator"\nvpc_cidr = "10.0.0.0/16"\naz_count = 1',
            "dev",
            "az_count",
            "at least 2",
        ),
        ('vpc_cidr = "10.0.0.0/16"', "dev", "egress", "neither egress nor ingress"),
        (
            BASE + "[environments.dev.function]\nmemory_mb = 64",
            "dev",
            "function.memory_mb",
            "128 to 10240",
        ),
        (
            BASE + '[environments.dev.function]\nruntime = "x"',
            "dev",
            "function.runtime",
            "unknown key",
        ),
        (
            BASE + "[environments.dev.function]\nlog_retention_days = 10",
            "dev",
            "function.log_retention_days",
            "14",
        ),
        (
            BASE + '[environments.dev.backend]\nkey = "k"',
            "dev",
            "backend.key",
            "backend.bucket",
        ),
        (
            BASE + '[environments.dev.tags]\nproject = "x"',
            "dev",
            "tags.project",
            "set by staticip",
        ),
        (
            BASE + 'protect_ips = "no"',
            "dev",
            "protect_ips",
            "boolean",
        ),
        (
            BASE + 'reuse_eip_allocation_ids = { "us-east-1c" = "eipalloc-0123456789abcdef0" }',
            "dev",
            "reuse_eip_allocation_ids.us-east-1c",
            "not one of this environment's AZs",
        ),
        (
            BASE + 'reuse_eip_allocation_ids = { "us-east-1a" = "eip-1" }',
            "dev",
            "reuse_eip_allocation_ids.us-east-1a",
            "eipalloc-",
        ),
        (
            BASE + 'certificate_arn = "arn:x"',
            "dev",
            "certificate_arn",
            "only applies",
        ),
        (
            BASE + 'eni_guard = { reserved_concurrency = "yes" }',
            "dev",
            "eni_guard.reserved_concurrency",
            "expected a boolean",
        ),
    ],
)
def test_invalid_environment_names_file_environment_and_key(write_config, body, env, key, hint):
    message = error_for(write_config, f"[environments.{env}]\n{body}\n")
    assert f"environment '{env}'" in message
    assert f"key '{key}'" in message
    assert hint in message


def test_overlapping_cidrs_name_both_environments(write_config):
    message = error_for(
        write_config,
        VALID_DEV
        + """
[environments.prod]
egress = "nat-gateway"
vpc_cidr = "10.10.128.0/17"
""",
    )
    assert "environment 'prod', key 'vpc_cidr'" in message
    assert "overlaps environment 'dev'" in message


def test_duplicate_environment_name_is_reported_with_its_line(write_config):
    message = error_for(write_config, VALID_DEV + VALID_DEV.replace("10.10", "10.20"))
    assert "invalid TOML" in message
    assert "line 6" in message


def test_duplicate_function_name_in_one_region(write_config):
    message = error_for(
        write_config,
        VALID_DEV
        + """
[environments.dev.function]
name = "probe"
[environments.dev2]
egress = "eni-eip"
vpc_cidr = "10.20.0.0/16"
[environments.dev2.function]
name = "probe"
""",
    )
    assert "environment 'dev2', key 'function.name'" in message


def test_unknown_top_level_key_and_bad_environment_name(write_config):
    assert "key 'environment'" in error_for(write_config, "[environment.dev]\nx = 1\n")
    assert "key 'environments.Dev'" in error_for(write_config, VALID_DEV.replace("dev", "Dev"))


def test_missing_file_and_malformed_toml(tmp_path, write_config):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")
    assert "invalid TOML" in error_for(write_config, "[environments.dev\n")


def test_defaults(write_config):
    env = load_config(write_config(VALID_DEV)).environment("dev")
    assert env.region == "us-east-1"
    assert env.azs == ("us-east-1a", "us-east-1b")
    assert env.protect_ips is True
    assert env.backend.bucket is None
    assert env.function.name == "staticip-dev-egress-probe"
    assert env.deletion_protection is False  # dev only; every other name defaults to True
    # The guard reserves no concurrency unless asked: the reservation fails to deploy in
    # accounts whose concurrency limit is below 101.
    assert env.eni_guard.enabled is True and env.eni_guard.reserved_concurrency is False
    asked = VALID_DEV + "[environments.dev.eni_guard]\nreserved_concurrency = true\n"
    assert load_config(write_config(asked)).environment("dev").eni_guard.reserved_concurrency


def test_subnet_cidrs_depend_on_the_az_letter_not_the_list_order(write_config):
    a = load_config(
        write_config(VALID_DEV.replace("vpc_cidr", 'azs = ["us-east-1a", "us-east-1c"]\nvpc_cidr'))
    ).environment("dev")
    b = load_config(
        write_config(VALID_DEV.replace("vpc_cidr", 'azs = ["us-east-1c", "us-east-1a"]\nvpc_cidr'))
    ).environment("dev")
    for az in ("us-east-1a", "us-east-1c"):
        assert a.subnet_cidr(az) == b.subnet_cidr(az)
        assert a.subnet_cidr(az, private=True) != a.subnet_cidr(az)
    assert a.subnet_cidr("us-east-1c") == "10.10.32.0/20"


def test_regional_nat_puts_an_allow_listed_ip_in_every_az(write_config):
    config = load_config(
        write_config(
            """
[environments.prod]
egress = "nat-gateway"
nat = "regional"
vpc_cidr = "10.10.0.0/16"
azs = ["us-east-1c", "us-east-1a"]
"""
        )
    )
    env = config.environment("prod")
    assert env.nat == "regional"
    assert env.static_ip_azs == ("us-east-1a", "us-east-1c")
    assert env.needs_private_subnets


@pytest.mark.parametrize(
    ("body", "nat", "type_name", "ssm", "nat_azs"),
    [
        ("", "per-az", "t4g.nano", False, ("us-east-1a", "us-east-1b")),
        (
            'nat = "single"\nnat_instance_type = "c6gn.medium"\nnat_instance_ssm = true',
            "single",
            "c6gn.medium",
            True,
            ("us-east-1a",),
        ),
        (
            'nat_instance_type = "t3.micro"',
            "per-az",
            "t3.micro",
            False,
            ("us-east-1a", "us-east-1b"),
        ),
    ],
)
def test_nat_instance_defaults_and_layouts(write_config, body, nat, type_name, ssm, nat_azs):
    config = load_config(write_config(f"[environments.dev]\n{NAT_INSTANCE}{body}\n"))
    env = config.environment("dev")
    assert (env.egress, env.nat) == ("nat-instance", nat)
    assert env.mode_options == {"nat_instance_type": type_name, "nat_instance_ssm": ssm}
    assert env.static_ip_azs == nat_azs
    assert env.needs_private_subnets


# --- the egress canary and the environment's alarm topic ----------------------------------------

TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms"


@pytest.mark.parametrize(
    ("body", "key", "hint"),
    [
        (BASE + 'canary = "every 5 minutes"', "canary", "rate(5 minutes)"),
        (BASE + 'canary = "rate(1 minutes)"', "canary", "not an EventBridge schedule"),
        (BASE + "canary = 5", "canary", "got an integer"),
        (
            'ingress = "global-accelerator"\nvpc_cidr = "10.0.0.0/16"\ncanary = false',
            "canary",
            "only applies to an egress mode",
        ),
        (BASE + 'alarm_topic_arn = "alarms"', "alarm_topic_arn", "SNS topic ARN"),
    ],
)
def test_canary_and_alarm_topic_errors(write_config, body, key, hint):
    message = error_for(write_config, f"[environments.dev]\n{body}\n")
    assert f"environment 'dev', key '{key}'" in message
    assert hint in message


def test_canary_defaults_on_with_egress_and_its_schedule_can_change(write_config):
    dev = load_config(write_config(VALID_DEV)).environment("dev")
    assert dev.canary == "rate(5 minutes)"
    assert dev.canary_function_names("staticip") == (
        "staticip-dev-canary-us-east-1a",
        "staticip-dev-canary-us-east-1b",
    )
    # Their names are taken like any other function's.
    assert set(dev.canary_function_names("staticip")) <= set(
        dev.deployed_function_names("staticip")
    )
    for value, schedule in [("true", "rate(5 minutes)"), ('"rate(1 hour)"', "rate(1 hour)")]:
        text = VALID_DEV + f"canary = {value}\n"
        assert load_config(write_config(text)).environment("dev").canary == schedule
    off = load_config(write_config(VALID_DEV + "canary = false\n")).environment("dev")
    assert off.canary is None and off.canary_function_names("staticip") == ()


def test_the_environment_topic_is_the_guards_unless_it_names_its_own(write_config):
    text = VALID_DEV + f'alarm_topic_arn = "{TOPIC}"\n'
    dev = load_config(write_config(text)).environment("dev")
    assert dev.alarm_topic_arn == TOPIC and dev.eni_guard.alarm_topic_arn == TOPIC
    own = TOPIC.replace("alarms", "guard")
    text += f'[environments.dev.eni_guard]\nalarm_topic_arn = "{own}"\n'
    dev = load_config(write_config(text)).environment("dev")
    assert (dev.alarm_topic_arn, dev.eni_guard.alarm_topic_arn) == (TOPIC, own)
