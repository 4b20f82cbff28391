"""stacks/provider_bindings.py: the stacks load only the AWS provider modules they use, and
synthesize the same bytes as with the package's own eager `__init__`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import USER_CONFIG

from stacks.provider_bindings import (
    EAGER_VARIABLE,
    LAZY_PACKAGES,
    ProviderSwitchError,
    SkipPackageInitFinder,
    eager_requested,
)
from staticip.config import load_config
from staticip.synth_cache import MANIFEST

REPO = Path(__file__).resolve().parent.parent
AWS = "cdktf_cdktf_provider_aws"
#: Resource modules the package's `__init__` imports (2,212 in 21.22.1); the stacks use ~40.
EAGER_MODULE_FLOOR = 2000


def loaded_aws_modules() -> set[str]:
    return {name for name in sys.modules if name.startswith(f"{AWS}.") and name.count(".") == 1}


@pytest.mark.parametrize(
    ("value", "eager"), [(None, False), ("", False), ("0", False), ("1", True)]
)
def test_the_switch_reads_0_1_or_unset(value, eager):
    environ = {} if value is None else {EAGER_VARIABLE: value}
    assert eager_requested(environ) is eager


@pytest.mark.parametrize("value", ["yes", "true", "2", "on"])
def test_any_other_switch_value_is_refused_in_one_line(value):
    with pytest.raises(ProviderSwitchError) as raised:
        eager_requested({EAGER_VARIABLE: value})
    message = str(raised.value)
    assert message == f"{EAGER_VARIABLE}: expected 1 or 0, got {value!r}"
    assert "\n" not in message


def test_main_py_exits_2_with_one_line_on_a_bad_switch(tmp_path):
    result = subprocess.run(
        [sys.executable, "main.py", "--outdir", str(tmp_path / "o")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), EAGER_VARIABLE: "yes"},
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: {EAGER_VARIABLE}: expected 1 or 0, got 'yes'\n"
    assert not (tmp_path / "o").exists()


def test_the_session_synthesized_through_the_lazy_path(shipped):
    """The session's synthesis (the `shipped` fixture) loaded a few dozen provider modules, not
    the package's 2,212: the finder, installed by stacks/__init__.py, skipped its `__init__`."""
    package = sys.modules[AWS]
    loaded = loaded_aws_modules()
    if eager_requested():
        assert len(loaded) > EAGER_MODULE_FLOOR
        return
    assert AWS in LAZY_PACKAGES
    assert any(isinstance(finder, SkipPackageInitFinder) for finder in sys.meta_path)
    assert type(package.__spec__.loader).__name__ == "_SkipInitLoader"
    assert {f"{AWS}.vpc", f"{AWS}.eip", f"{AWS}.lambda_function", f"{AWS}._jsii"} <= loaded
    assert len(loaded) < 100, sorted(loaded)


def test_submodules_are_reachable_as_attributes_of_the_lazy_package(shipped):
    package = sys.modules[AWS]
    assert f"{AWS}.sqs_queue" not in sys.modules or eager_requested()
    # Attribute access imports just that module, as `import pkg; pkg.mod` does eagerly.
    assert package.sqs_queue.SqsQueue.__name__ == "SqsQueue"
    assert f"{AWS}.sqs_queue" in sys.modules
    with pytest.raises(AttributeError, match="no_such_resource"):
        _ = package.no_such_resource


SYNTH_BOTH_CONFIGS = """
import sys
from pathlib import Path
from staticip.synth import synthesize
for config, outdir in zip(sys.argv[1::2], sys.argv[2::2]):
    synthesize(Path(config), Path(outdir))
modules = [m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.")]
print(len(modules))
"""


def synthesize_in_subprocess(configs: list[Path], outdirs: list[Path], eager: bool) -> int:
    """Synthesize each config into its outdir in a fresh interpreter; returns how many provider
    modules it loaded."""
    args = [str(p) for pair in zip(configs, outdirs, strict=True) for p in pair]
    result = subprocess.run(
        [sys.executable, "-c", SYNTH_BOTH_CONFIGS, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO), EAGER_VARIABLE: "1" if eager else "0"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return int(result.stdout.split()[-1])


ASSET_HASH = re.compile(r'"assets/[^/"]+/([0-9A-F]{32})/')


def tree(outdir: Path) -> dict[str, bytes]:
    """Every file of a synthesis by relative path, function archives included: they are
    reproducible to the byte (stacks/packaging.py)."""
    files: dict[str, bytes] = {}
    for path in sorted(p for p in outdir.rglob("*") if p.is_file()):
        files[path.relative_to(outdir).as_posix()] = path.read_bytes()
    return files


@pytest.mark.slow
def test_lazy_and_eager_bindings_synthesize_the_same_bytes(tmp_path):
    """Every environment of the shipped file and of the user file, synthesized in separate
    processes with and without the lazy path. A jsii type the lazy path failed to register
    would fail its synthesis here (jsii raises `Unknown type`) or change the JSON."""
    user_config = tmp_path / "environments.toml"
    user_config.write_text(USER_CONFIG)
    configs = [REPO / "staticip.toml", user_config]
    # Both modes write to the same absolute paths, moved aside after each run, so that no
    # difference can come from where the output went.
    work = tmp_path / "work"
    outdirs = [work / c.stem / "cdktf.out" for c in configs]
    lazy_modules = synthesize_in_subprocess(configs, outdirs, eager=False)
    work.rename(tmp_path / "lazy")
    eager_modules = synthesize_in_subprocess(configs, outdirs, eager=True)
    work.rename(tmp_path / "eager")
    assert lazy_modules < 100 < EAGER_MODULE_FLOOR < eager_modules
    out = {
        mode: [tmp_path / mode / d.relative_to(work) for d in outdirs] for mode in ("lazy", "eager")
    }

    compared = 0
    for lazy_dir, eager_dir in zip(out["lazy"], out["eager"], strict=True):
        lazy, eager = tree(lazy_dir), tree(eager_dir)
        stacks = sorted(k for k in lazy if k.endswith("/cdk.tf.json"))
        assert stacks and stacks == sorted(k for k in eager if k.endswith("/cdk.tf.json"))
        for key in stacks:
            assert lazy[key] == eager[key], f"{lazy_dir.parent.name}: {key} differs"
            # The asset hashes the JSON names are directories in both trees.
            hashes = set(ASSET_HASH.findall(lazy[key].decode()))
            assert hashes, key
            for files in (lazy, eager):
                assert all(any(f"/{h}/" in path for path in files) for h in hashes), key
            compared += 1
        # Manifests, stack metadata and every asset file (archives byte for byte) as well. The
        # no-op synth's manifest names the switch among its inputs (a change of it synthesizes
        # again): what it records of the output and the summary must be the same.
        assert sorted(lazy) == sorted(eager)
        assert [k for k in lazy if lazy[k] != eager[k]] in ([], [MANIFEST])
        recorded = [json.loads(files[MANIFEST]) for files in (lazy, eager)]
        for key in ("outputs", "summary"):
            assert recorded[0][key] == recorded[1][key], key
    # Every environment of both files (the user file has every mode but the regional NAT).
    assert compared == sum(len(load_config(c).environments) for c in configs)
