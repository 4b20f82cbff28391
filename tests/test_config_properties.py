"""Property tests over the config loader: whatever the file holds, the answer is a valid
Config or one ConfigError line that names the file, and the environment and key at fault."""

from __future__ import annotations

import contextlib
import copy
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staticip.config import ConfigError, environment_keys, load_config, parse_config
from staticip.synth import main

PATH = Path("env.toml")
VALID = {
    "project": "acme",
    "environments": {
        "dev": {"egress": "eni-eip", "vpc_cidr": "10.10.0.0/16"},
        "prod": {
            "egress": "nat-gateway",
            "nat": "single",
            "vpc_cidr": "10.20.0.0/16",
            "function": {"memory_mb": 512},
            "tags": {"team": "x"},
        },
        "ingress": {"ingress": "global-accelerator", "vpc_cidr": "10.30.0.0/16"},
    },
}
ENV_KEYS = sorted(environment_keys())

# Any value TOML can hold (no datetimes: they behave like strings for this loader).
toml_values = st.recursive(
    st.one_of(
        st.text(max_size=20),
        st.integers(-(10**6), 10**6),
        st.booleans(),
        st.floats(allow_nan=False),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=6,
)
fast = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check_error(exc: ConfigError) -> str:
    message = str(exc)
    assert "\n" not in message
    assert message.startswith(f"{PATH}: ")
    return message


def test_the_valid_base_is_valid():
    assert [e.name for e in parse_config(VALID, PATH).environments] == ["dev", "prod", "ingress"]


@fast
@given(text=st.text(max_size=300))
def test_any_text_gives_a_config_or_one_line(tmp_path, text):
    path = tmp_path / PATH
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)


@fast
@given(
    env=st.sampled_from(sorted(VALID["environments"])),
    key=st.sampled_from(ENV_KEYS),
    value=toml_values,
)
def test_any_value_for_any_key_is_accepted_or_named(env, key, value):
    raw = copy.deepcopy(VALID)
    raw["environments"][env][key] = value
    try:
        parse_config(raw, PATH)
    except ConfigError as exc:
        message = check_error(exc)
        assert f"environment '{env}'" in message
        assert f"key '{key}" in message, message


@fast
@given(
    env=st.sampled_from(sorted(VALID["environments"])),
    key=st.text(min_size=1, max_size=15).filter(lambda k: k not in ENV_KEYS and k.isprintable()),
)
def test_unknown_keys_are_always_rejected_by_name(env, key):
    raw = copy.deepcopy(VALID)
    raw["environments"][env][key] = "x"
    try:
        parse_config(raw, PATH)
    except ConfigError as exc:
        assert f"key '{key}': unknown key" in check_error(exc)
    else:
        raise AssertionError(f"unknown key {key!r} accepted")


def test_control_characters_in_keys_and_values_are_escaped_onto_one_line():
    raw = copy.deepcopy(VALID)
    raw["environments"]["dev"]["bad\nkey"] = "x"
    assert "key 'bad\\nkey': unknown key" in check_error(_error(raw))
    raw = copy.deepcopy(VALID)
    raw["environments"]["dev"]["egress"] = "nat\x1b[31m"
    assert "unknown value 'nat\\x1b[31m'" in check_error(_error(raw))


def _error(raw: dict) -> ConfigError:
    try:
        parse_config(raw, PATH)
    except ConfigError as exc:
        return exc
    raise AssertionError("accepted")


@fast
@given(
    sub=st.sampled_from(
        ["memory_mb", "timeout_seconds", "log_retention_days", "reserved_concurrency"]
    ),
    value=st.integers(-(10**9), 10**9),
)
def test_out_of_range_function_numbers(sub, value):
    raw = copy.deepcopy(VALID)
    raw["environments"]["dev"]["function"] = {sub: value}
    limits = {
        "memory_mb": (128, 10240),
        "timeout_seconds": (1, 900),
        "reserved_concurrency": (1, 10000),
    }
    try:
        env = parse_config(raw, PATH).environment("dev")
    except ConfigError as exc:
        assert f"key 'function.{sub}'" in check_error(exc)
    else:
        got = getattr(env.function, sub)
        assert got == value
        if sub in limits:
            assert limits[sub][0] <= value <= limits[sub][1]


@fast
@given(
    a=st.ip_addresses(v=4), b=st.ip_addresses(v=4), pa=st.integers(16, 24), pb=st.integers(16, 24)
)
def test_overlapping_vpc_cidrs_are_rejected(a, b, pa, pb):
    import ipaddress

    na = ipaddress.ip_network(f"{a}/{pa}", strict=False)
    nb = ipaddress.ip_network(f"{b}/{pb}", strict=False)
    raw = copy.deepcopy(VALID)
    raw["environments"] = {
        "one": {"egress": "eni-eip", "vpc_cidr": str(na)},
        "two": {"egress": "eni-eip", "vpc_cidr": str(nb), "function": {"name": "other"}},
    }
    try:
        parse_config(raw, PATH)
    except ConfigError as exc:
        message = check_error(exc)
        assert na.overlaps(nb)
        assert "environment 'two', key 'vpc_cidr'" in message
    else:
        assert not na.overlaps(nb)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.sampled_from(ENV_KEYS), value=toml_values)
def test_a_failed_synth_leaves_cdktf_out_exactly_as_it_was(tmp_path, key, value):
    raw = copy.deepcopy(VALID)
    raw["environments"]["dev"][key] = value
    try:
        parse_config(raw, PATH)
        return  # a valid config would synthesize; that path is tested elsewhere
    except ConfigError:
        pass
    config = tmp_path / "bad.toml"
    config.write_text(_to_toml(raw))
    # The file must really be the invalid config we built (or invalid TOML).
    with contextlib.suppress(tomllib.TOMLDecodeError):
        tomllib.loads(config.read_text())
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "dev").mkdir(parents=True, exist_ok=True)
    (outdir / "stacks" / "dev" / "cdk.tf.json").write_text("previous")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(["--config", str(config), "--outdir", str(outdir)]) == 2
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert (outdir / "stacks" / "dev" / "cdk.tf.json").read_text() == "previous"


def _to_toml(raw: dict) -> str:
    """A minimal TOML writer for the documents above (strings, numbers, bools, lists, tables)."""
    import json

    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, float):
            return repr(v) if v == v and abs(v) != float("inf") else "0.0"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"

    lines = [f"project = {value(raw['project'])}"]
    for name, env in raw["environments"].items():
        lines.append(f"[environments.{json.dumps(name)}]")
        lines.extend(f"{json.dumps(k)} = {value(v)}" for k, v in env.items())
    return "\n".join(lines) + "\n"
