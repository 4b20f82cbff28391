"""Declared functions and routes in staticip.toml: what they parse to, and how bad input fails.

Bad input stops `make synth` (main.py) with one line naming the file, the environment, the
function and the key, exit 2, and the previous `cdktf.out` left as it was. These cases fail
before the provider bindings load (`stacks/function_code.py:check_code` runs first), so each
test runs the real entry point in-process and stays fast.
"""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import botocore.session
import pytest

from staticip import synth
from staticip.config import ConfigError, load_config, parse_config
from staticip.function_config import (
    DEFAULT_ARCHITECTURE,
    DEFAULT_HANDLER,
    DEFAULT_RUNTIME,
    HEALTH_RULE_PRIORITY,
    MAX_ROUTES,
    RUNTIMES,
    derived_priority,
)

BASE = """
project = "acme"
[environments.dev]
egress = "eni-eip"
vpc_cidr = "10.10.0.0/16"
"""


def write(root: Path, extra: str, *, code: bool = True) -> Path:
    """A config with `extra` after the dev table, and `services/pay/app.py` beside it."""
    if code:
        (root / "services" / "pay").mkdir(parents=True, exist_ok=True)
        (root / "services" / "pay" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    path = root / "staticip.toml"
    path.write_text(BASE + extra)
    return path


def synth_fails(config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Run main.py's entry point on a `cdktf.out` that exists; return the one error line."""
    outdir = config.parent / "cdktf.out"
    (outdir / "stacks").mkdir(parents=True, exist_ok=True)
    (outdir / "stacks" / "marker").write_text("previous synth")
    code = synth.main(["--config", str(config), "--outdir", str(outdir)])
    err = capsys.readouterr().err
    assert code == 2, err
    (line,) = err.splitlines()
    assert line.startswith(f"error: {config}: environment 'dev', key 'functions.pay.")
    assert sorted(p.name for p in outdir.rglob("*")) == ["marker", "stacks"]
    assert (outdir / "stacks" / "marker").read_text() == "previous synth"
    return line


def test_a_declared_function_gets_defaults_and_paths_relative_to_the_file(tmp_path) -> None:
    config = load_config(
        write(tmp_path, '[environments.dev.functions.pay]\nsource = "services/pay"\n')
    )
    (fn,) = config.environment("dev").functions
    assert fn.key == "pay" and fn.name == "acme-dev-pay"
    assert fn.source == tmp_path / "services" / "pay"
    assert (fn.handler, fn.runtime, fn.architecture) == (
        DEFAULT_HANDLER,
        DEFAULT_RUNTIME,
        DEFAULT_ARCHITECTURE,
    )
    env = config.environment("dev")
    # The probe first (the ENI lookups' anchor), then the declared ones by key.
    assert env.egress_function_names == ("acme-dev-egress-probe", "acme-dev-pay")


def test_every_key_of_the_issue_example_parses(tmp_path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
[environments.dev.functions.pay]
source = "services/pay"
handler = "app.handler"
runtime = "python3.13"
architecture = "arm64"
memory_mb = 512
timeout_seconds = 30
environment = { VENDOR_URL = "https://api.vendor.example" }
policy_arns = ["arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"]
name = "payments-dev"
tracing = "Active"
reserved_concurrency = 3
log_retention_days = 14
""",
        )
    )
    (fn,) = config.environment("dev").functions
    assert fn.name == "payments-dev" and fn.architecture == "arm64" and fn.runtime == "python3.13"
    assert fn.environment == {"VENDOR_URL": "https://api.vendor.example"}
    assert fn.policy_arns == ("arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess",)
    assert (fn.memory_mb, fn.timeout_seconds, fn.tracing) == (512, 30, "Active")
    assert (fn.reserved_concurrency, fn.log_retention_days) == (3, 14)


def test_the_supported_runtimes_are_lambda_runtimes() -> None:
    """Each is a value of the Lambda API's `Runtime` enum in the pinned botocore."""
    model = botocore.session.get_session().get_service_model("lambda")
    assert set(RUNTIMES) <= set(model.shape_for("Runtime").enum)


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ('source = "services/nope"', "source", "directory"),
        ('source = "services/pay"\npackage = "dist/pay.zip"', "package", "not both"),
        ('source = "services/pay"\nruntime = "python3.8"', "runtime", "python3.12"),
        ('source = "services/pay"\nruntime = "java21"', "runtime", "zip runtime"),
        ('source = "services/pay"\narchitecture = "arm"', "architecture", "arm64"),
        ('source = "services/pay"\nhandler = "main.handler"', "handler", "main.py"),
        ('source = "services/pay"\nhandler = "nodot"', "handler", "<module>.<function>"),
        ('source = "services/pay"\nname = "' + "n" * 65 + '"', "name", "1-64"),
        (
            'source = "services/pay"\npolicy_arns = ["arn:aws:iam::aws:role/x"]',
            "policy_arns",
            "policy ARN",
        ),
        (
            'source = "services/pay"\nenvironment = { AWS_REGION = "x" }',
            "environment.AWS_REGION",
            "reserves",
        ),
        ('source = "services/pay"\nenvironment = { N = 1 }', "environment.N", "quote it"),
        ('source = "services/pay"\nmemory_mb = 64', "memory_mb", "128 to 10240"),
        ("", "source", "missing"),
        ('source = "/abs/pay"', "source", "relative"),
        ('package = "dist/pay.tar"', "package", ".zip"),
        ('package = "dist/pay.zip"', "package", "not found"),
    ],
)
def test_bad_function_input_is_one_line_exit_2_and_nothing_written(
    tmp_path, capsys, table, key, words
) -> None:
    config = write(tmp_path, f"[environments.dev.functions.pay]\n{table}\n")
    line = synth_fails(config, capsys)
    assert f"key 'functions.pay.{key}'" in line and words in line, line


def test_a_default_name_over_64_characters_says_to_set_one(tmp_path, capsys) -> None:
    long_key = "k" * 60
    config = write(tmp_path, f'[environments.dev.functions.{long_key}]\nsource = "services/pay"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert f"key 'functions.{long_key}.name'" in str(raised.value)
    assert "set a shorter `name`" in str(raised.value)


def test_a_zip_without_the_handler_module_is_refused(tmp_path, capsys) -> None:
    (tmp_path / "dist").mkdir()
    with zipfile.ZipFile(tmp_path / "dist" / "pay.zip", "w") as archive:
        archive.writestr("other.py", "")
    config = write(tmp_path, '[environments.dev.functions.pay]\npackage = "dist/pay.zip"\n')
    line = synth_fails(config, capsys)
    assert "functions.pay.handler" in line and "handler.py" in line


def test_a_node_handler_needs_its_js_file(tmp_path, capsys) -> None:
    config = write(
        tmp_path,
        '[environments.dev.functions.pay]\nsource = "services/pay"\nruntime = "nodejs22.x"\n',
    )
    line = synth_fails(config, capsys)
    assert "handler.js or handler.mjs or handler.cjs" in line


def test_requirements_that_cannot_be_installed_are_one_line(tmp_path, capsys, monkeypatch) -> None:
    # No network in tests: pip may only look in an empty local directory.
    (tmp_path / "wheels").mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "wheels"))
    monkeypatch.setenv("STATICIP_CACHE_DIR", str(tmp_path / "cache"))
    config = write(
        tmp_path,
        '[environments.dev.functions.pay]\nsource = "services/pay"\nhandler = "app.handler"\n',
    )
    (tmp_path / "services" / "pay" / "requirements.txt").write_text("no-such-package==1.0\n")
    line = synth_fails(config, capsys)
    assert "functions.pay.source" in line and "could not be installed" in line
    assert "python3.12 x86_64" in line and "no-such-package" in line
    # Nothing half-installed is left in the cache to be reused.
    assert list((tmp_path / "cache" / "requirements").iterdir()) == []


def test_function_names_are_unique_in_a_region(tmp_path) -> None:
    text = (
        BASE
        + '[environments.dev.functions.pay]\nsource = "s"\nname = "shared"\n'
        + '[environments.stage]\negress = "nat-gateway"\nvpc_cidr = "10.20.0.0/16"\n'
        + '[environments.stage.functions.pay]\nsource = "s"\nname = "shared"\n'
    )
    path = tmp_path / "staticip.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"environment 'stage', key 'functions.pay.name'"):
        load_config(path)


def test_a_declared_name_may_not_take_a_built_in_functions(tmp_path) -> None:
    config = write(tmp_path, '[environments.dev.functions.eni-guard]\nsource = "services/pay"\n')
    with pytest.raises(ConfigError, match=r"functions.eni-guard.name.*another function"):
        load_config(config)


def test_probe_off_needs_a_declared_function(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"key 'probe': false, and no \[functions\]"):
        load_config(write(tmp_path, "probe = false\n"))
    env = load_config(
        write(tmp_path, 'probe = false\n[environments.dev.functions.pay]\nsource = "s"\n')
    ).environment("dev")
    assert env.egress_function_names == ("acme-dev-pay",)


@pytest.mark.parametrize("key", ["probe = false", "ssm_parameters = false"])
def test_egress_only_keys_outside_egress_are_refused(tmp_path, key) -> None:
    path = tmp_path / "staticip.toml"
    path.write_text(f'[environments.hooks]\ningress = "nlb-eip"\nvpc_cidr = "10.1.0.0/16"\n{key}\n')
    with pytest.raises(ConfigError, match="only applies to an egress mode"):
        load_config(path)


# --- routes -------------------------------------------------------------------------------------

INGRESS = """
[environments.hooks]
ingress = "nlb-eip"
vpc_cidr = "10.50.0.0/16"
{extra}
[environments.hooks.functions.stripe]
source = "s"
[environments.hooks.functions.github]
source = "s"
"""


def hooks(tmp_path: Path, extra: str = "", routes: str = "") -> Path:
    path = tmp_path / "staticip.toml"
    text = INGRESS.format(extra=extra)
    if routes:
        text += "[environments.hooks.routes]\n" + routes
    path.write_text(text)
    return path


def test_routes_point_at_declared_functions_with_stable_priorities(tmp_path) -> None:
    env = load_config(
        hooks(tmp_path, routes='"/stripe/*" = "stripe"\n"/github/*" = "github"\n')
    ).environment("hooks")
    assert {(r.path_pattern, r.function) for r in env.routes} == {
        ("/stripe/*", "stripe"),
        ("/github/*", "github"),
    }
    assert [r.priority for r in env.routes] == sorted(r.priority for r in env.routes)
    assert not env.has_webhook
    # Reordering the file, or adding a route, leaves every other route's priority as it was.
    again = load_config(
        hooks(
            tmp_path,
            routes='"/github/*" = "github"\n"/x/*" = "stripe"\n"/stripe/*" = "stripe"\n',
        )
    ).environment("hooks")
    before = {r.path_pattern: r.priority for r in env.routes}
    after = {r.path_pattern: r.priority for r in again.routes}
    assert {p: after[p] for p in before} == before


def test_a_longer_literal_prefix_is_tried_first() -> None:
    assert derived_priority("/stripe/refunds/*") < derived_priority("/stripe/*")
    assert derived_priority("/stripe/*") < derived_priority("/*")
    assert max(derived_priority("/" + "a" * 126 + "*"), derived_priority("/*")) < (
        HEALTH_RULE_PRIORITY
    )


def test_an_explicit_priority_is_taken(tmp_path) -> None:
    env = load_config(
        hooks(tmp_path, routes='"/stripe/*" = { function = "stripe", priority = 7 }\n')
    ).environment("hooks")
    ((route),) = env.routes
    assert route.priority == 7


@pytest.mark.parametrize(
    ("extra", "routes", "key", "words"),
    [
        ("", '"/stripe/*" = "nobody"\n', "routes./stripe/*", "not a function"),
        ("", '"stripe/*" = "stripe"\n', "routes.stripe/*", "start with '/'"),
        (
            "",
            '"/a/*" = { function = "stripe", priority = 3 }\n"/b/*" = { function = "github", '
            "priority = 3 }\n",
            "routes./b/*",
            "priority 3 is also",
        ),
        (
            "",
            '"/a/*" = { function = "stripe", priority = 50000 }\n',
            "routes./a/*.priority",
            "1 to 49999",
        ),
        ('ingress_allowed_cidrs = ["192.0.2.300/32"]', "", "ingress_allowed_cidrs", "IPv4 CIDR"),
        ('ingress_allowed_cidrs = ["192.0.2.1/24"]', "", "ingress_allowed_cidrs", "host bits"),
        ("ingress_allowed_cidrs = []", "", "ingress_allowed_cidrs", "empty"),
    ],
)
def test_bad_routes_and_cidrs_are_one_line(tmp_path, extra, routes, key, words) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(hooks(tmp_path, extra, routes))
    message = str(raised.value)
    assert f"environment 'hooks', key '{key}'" in message and words in message, message
    assert "\n" not in message


def test_more_routes_than_an_alb_takes_are_refused(tmp_path) -> None:
    routes = "".join(f'"/r{i}/*" = "stripe"\n' for i in range(MAX_ROUTES + 1))
    with pytest.raises(ConfigError, match=rf"key 'routes': {MAX_ROUTES + 1} routes.*at most"):
        load_config(hooks(tmp_path, routes=routes))


def test_a_pattern_written_twice_is_named(tmp_path) -> None:
    with pytest.raises(ConfigError, match="a key is given twice"):
        load_config(hooks(tmp_path, routes='"/a/*" = "stripe"\n"/a/*" = "github"\n'))


def test_too_many_cidrs_for_the_security_group_quota(tmp_path) -> None:
    cidrs = ", ".join(f'"10.9.{i}.0/24"' for i in range(61))
    with pytest.raises(ConfigError, match=r"61 CIDRs.*at most 60"):
        load_config(hooks(tmp_path, f"ingress_allowed_cidrs = [{cidrs}]"))


def test_routes_only_apply_with_ingress(tmp_path) -> None:
    text = BASE + '[environments.dev.functions.a]\nsource = "s"\n[environments.dev.routes]\n'
    text += '"/a/*" = "a"\n'
    with pytest.raises(ConfigError, match=r"key 'routes': only applies with ingress"):
        parse_config(tomllib.loads(text), tmp_path / "staticip.toml")
