"""The no-op synth (issue #22): `make synth` reuses `cdktf.out` when nothing synthesis reads has
changed, by content hashes, and synthesizes again on any change of an input or of the output.

The manifest logic is tested on small fake trees (a fake repository root, config, function code
and output); `main()` on the session's `user` synthesis (tests/conftest.py), with one more real
synth to show the reused tree is byte-identical to a fresh one."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from staticip import synth, synth_cache
from staticip.synth_cache import MANIFEST, Recorded, check, input_digests, write_manifest

REPO = Path(__file__).resolve().parent.parent
HEADERS = ["environment", "region", "static ips"]
CELLS = [["dev", "us-east-1", 2], ["prod", "us-east-1", 3]]


class Fake:
    """A repository root, a config beside two functions' code, and an output directory with a
    manifest that matches them all."""

    def __init__(self, base: Path) -> None:
        self.root = base / "repo"
        for relative, text in {
            "stacks/app.py": "APP = 1\n",
            "stacks/sub/network.py": "NET = 1\n",
            "staticip/config.py": "CONFIG = 1\n",
            "staticip/prices.toml": "[eip]\nhourly = 0.005\n",
            "lambda_src/egress_probe/handler.py": "def handler(e, c): ...\n",
            "requirements.lock": "cdktf==0.21.0\n",
            "main.py": "main()\n",
        }.items():
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.home = base / "home"
        self.config = self.home / "staticip.toml"
        self.source = self.home / "services" / "billing"
        self.source.mkdir(parents=True)
        self.config.write_text('[environments.dev]\negress = "eni-eip"\n')
        (self.source / "app.py").write_text("def handler(e, c): ...\n")
        (self.source / "requirements.txt").write_text("requests==2.32.3\n")
        # A directory the source links to: synthesis copies what it holds.
        (self.home / "shared").mkdir()
        (self.home / "shared" / "util.py").write_text("UTIL = 1\n")
        (self.source / "shared").symlink_to(self.home / "shared")
        self.package = self.home / "reports.zip"
        with zipfile.ZipFile(self.package, "w") as archive:
            archive.writestr("handler.js", "exports.handler = async () => 1;\n")
        self.env = {"PATH": "/usr/bin", "HOME": "/root", "CDKTF_OUTDIR": "elsewhere"}
        self.outdir = base / "cdktf.out"
        for relative in ("manifest.json", "stacks/dev/cdk.tf.json", "stacks/dev/assets/a.zip"):
            path = self.outdir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{relative}\n")
        inputs = input_digests(self.config, self.code, self.env, self.root)
        write_manifest(self.outdir, inputs, self.code, HEADERS, CELLS)

    @property
    def code(self) -> list[Path]:
        return [self.source, self.package]

    def check(self) -> Recorded | str:
        return check(self.outdir, self.config, self.env, self.root)


@pytest.fixture
def fake(tmp_path: Path) -> Fake:
    return Fake(tmp_path)


def test_nothing_changed_is_reused_with_the_recorded_summary(fake):
    assert fake.check() == Recorded(HEADERS, CELLS, 2)


def test_same_bytes_written_again_or_touched_is_not_a_change(fake):
    """Content hashes, not modification times."""
    for path in (fake.config, fake.root / "stacks" / "app.py", fake.source / "app.py"):
        path.write_bytes(path.read_bytes())
        os.utime(path, (1, 1))
    os.utime(fake.outdir / "stacks" / "dev" / "cdk.tf.json", (1, 1))
    assert isinstance(fake.check(), Recorded)


def test_bytecode_and_terraform_working_files_are_not_changes(fake):
    """Python writes bytecode while it runs; `cdktf deploy` runs terraform in the stack
    directory. Neither is read or written by synthesis."""
    cache = fake.root / "staticip" / "__pycache__"
    cache.mkdir()
    (cache / "config.cpython-311.pyc").write_bytes(b"\0")
    (fake.source / ".app.py.swp").write_bytes(b"\0")
    stack = fake.outdir / "stacks" / "dev"
    (stack / ".terraform" / "providers").mkdir(parents=True)
    (stack / ".terraform" / "providers" / "x").write_text("x")
    (stack / ".terraform.lock.hcl").write_text("lock")
    (stack / "terraform.tfstate").write_text("{}")
    assert isinstance(fake.check(), Recorded)


def _append(path: Path) -> None:
    path.write_text(path.read_text() + "# changed\n")


INPUT_CHANGES = {
    "config": lambda f: _append(f.config),
    "price table": lambda f: _append(f.root / "staticip" / "prices.toml"),
    "stacks/": lambda f: _append(f.root / "stacks" / "sub" / "network.py"),
    "stacks/ (a new file)": lambda f: (f.root / "stacks" / "new.py").write_text(""),
    "stacks/ (a file removed)": lambda f: (f.root / "stacks" / "app.py").unlink(),
    "staticip/": lambda f: _append(f.root / "staticip" / "config.py"),
    "lambda_src/": lambda f: _append(f.root / "lambda_src" / "egress_probe" / "handler.py"),
    "lock file": lambda f: _append(f.root / "requirements.lock"),
    "main.py": lambda f: _append(f.root / "main.py"),
    "function source": lambda f: _append(f.source / "app.py"),
    "function requirements": lambda f: _append(f.source / "requirements.txt"),
    "function source (through a symlink)": lambda f: _append(f.home / "shared" / "util.py"),
    "function package": lambda f: f.package.write_bytes(f.package.read_bytes() + b"\0"),
    "STATICIP_EAGER_PROVIDER": lambda f: f.env.update(STATICIP_EAGER_PROVIDER="1"),
    "CDKTF_CONTEXT_JSON": lambda f: f.env.update(CDKTF_CONTEXT_JSON='{"a": 1}'),
}


@pytest.mark.parametrize("kind", INPUT_CHANGES)
def test_any_input_changed_synthesizes_again(fake, kind):
    INPUT_CHANGES[kind](fake)
    reason = fake.check()
    assert isinstance(reason, str) and reason.startswith("changed: "), reason
    label = kind.split(" (")[0]
    if kind.startswith("function"):
        label = "function code"
    elif kind.isupper() or kind.startswith("CDKTF"):
        label = "environment"
    assert label in reason


def test_variables_that_do_not_change_the_output_are_not_inputs(fake):
    fake.env.update(CDKTF_OUTDIR="another", PATH="/bin", TERM="dumb", STATICIP_FORCE_SYNTH="")
    assert isinstance(fake.check(), Recorded)


def test_the_config_at_another_path_is_a_change(fake, tmp_path):
    """Function code is found relative to the config: another config file is another input,
    even with the same bytes."""
    other = tmp_path / "other.toml"
    shutil.copy(fake.config, other)
    assert "config" in check(fake.outdir, other, fake.env, fake.root)


OUTPUT_DAMAGE = {
    "a file edited": lambda o: _append(o / "stacks" / "dev" / "cdk.tf.json"),
    "a file removed": lambda o: (o / "stacks" / "dev" / "assets" / "a.zip").unlink(),
    "a file added": lambda o: (
        (o / "stacks" / "prod").mkdir() or (o / "stacks" / "prod" / "x").touch()
    ),
    "the stacks removed": lambda o: shutil.rmtree(o / "stacks"),
    "no manifest": lambda o: (o / MANIFEST).unlink(),
    "a cut manifest": lambda o: (o / MANIFEST).write_text((o / MANIFEST).read_text()[:100]),
    "a manifest of another version": lambda o: (o / MANIFEST).write_text(
        json.dumps({**json.loads((o / MANIFEST).read_text()), "version": 0})
    ),
    "no output at all": lambda o: shutil.rmtree(o),
}


@pytest.mark.parametrize("damage", OUTPUT_DAMAGE)
def test_a_damaged_or_partial_output_synthesizes_again(fake, damage):
    OUTPUT_DAMAGE[damage](fake.outdir)
    assert isinstance(fake.check(), str)


def test_the_manifest_is_written_by_rename_and_leaves_no_temporary_file(fake):
    assert sorted(p.name for p in fake.outdir.iterdir()) == sorted(
        [MANIFEST, "manifest.json", "stacks"]
    )


def test_the_light_path_agrees_with_the_modules_it_does_not_import():
    from stacks.packaging import EXCLUDED_PATTERNS
    from staticip.config import DEFAULT_CONFIG_FILE

    assert synth.DEFAULT_CONFIG_FILE == DEFAULT_CONFIG_FILE
    assert synth_cache.IGNORED == EXCLUDED_PATTERNS


# --- main(): `make synth` and `cdktf synth|deploy|diff` -------------------------------------------


def run_main(*argv: str) -> tuple[int, str]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = synth.main(list(argv))
    return code, printed.getvalue()


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_main_reuses_an_up_to_date_output_and_prints_the_same_table(user):
    before = tree(user.outdir)
    code, printed = run_main("--config", str(user.config.path), "--outdir", str(user.outdir))
    assert code == 0
    *table, last = printed.splitlines()
    assert table == user.printed.splitlines()[:-1]
    assert last.startswith(f"{user.outdir} is up to date (inputs unchanged): reused ")
    assert tree(user.outdir) == before


def test_the_reused_output_is_byte_identical_to_a_fresh_synth(user, tmp_path):
    fresh = tmp_path / "cdktf.out"
    code, printed = run_main("--config", str(user.config.path), "--outdir", str(fresh), "--force")
    assert code == 0 and "synthesized" in printed
    assert tree(fresh) == tree(user.outdir)


@pytest.fixture
def copy_of_user_output(user, tmp_path, monkeypatch):
    """The `user` output copied (still up to date: the manifest has relative paths only), and
    `synthesize` replaced by a stand-in that records it was called."""
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(user.outdir, outdir)
    calls = []

    def synthesize(config_path, out):
        calls.append(out)
        return []

    monkeypatch.setattr(synth, "synthesize", synthesize)
    return outdir, calls


@pytest.mark.parametrize(
    "change",
    ["nothing", "force flag", "force variable", "relevant variable", "stack edited", "asset gone"],
)
def test_main_synthesizes_again_on_a_change_and_says_why(
    user, copy_of_user_output, change, monkeypatch
):
    outdir, calls = copy_of_user_output
    argv = ["--config", str(user.config.path), "--outdir", str(outdir)]
    stack = outdir / "stacks" / "staging" / "cdk.tf.json"
    if change == "force flag":
        argv.append("--force")
    elif change == "force variable":
        monkeypatch.setenv(synth.FORCE_VARIABLE, "1")
    elif change == "relevant variable":
        monkeypatch.setenv("STATICIP_EAGER_PROVIDER", "0")
    elif change == "stack edited":
        stack.write_text(stack.read_text().replace('"', "'", 1))
    elif change == "asset gone":
        (asset,) = [p for p in outdir.rglob("*.zip")][:1]
        asset.unlink()
    code, printed = run_main(*argv)
    assert code == 0
    if change == "nothing":
        assert calls == [] and "up to date" in printed
        return
    assert calls == [outdir]
    last = printed.splitlines()[-1]
    assert last.startswith("synthesized 0 stack(s)")
    reason = {
        "force flag": "--force",
        "force variable": "--force",
        "relevant variable": "changed: environment",
        "stack edited": "differs from what the last synth wrote",
        "asset gone": "differs from what the last synth wrote",
    }[change]
    assert reason in last


def test_main_py_no_op_is_fast_and_loads_neither_cdktf_nor_the_stacks(user):
    """What `make synth` and the cdktf CLI (CDKTF_OUTDIR) run, in a fresh interpreter."""
    script = (
        "import sys, time\n"
        "started = time.monotonic()\n"
        "from staticip.synth import main\n"
        f"code = main(['--config', {str(user.config.path)!r}])\n"
        "took = time.monotonic() - started\n"
        "heavy = ('cdktf', 'stacks', 'cdktf_cdktf_provider_aws', 'constructs', 'jsii')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or m in ('staticip.config', 'staticip.summary'))\n"
        "print(code, loaded, f'{took:.3f}')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=os.getcwd(),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO), "CDKTF_OUTDIR": str(user.outdir)},
    )
    assert result.returncode == 0, result.stderr
    *table, verdict, last = result.stdout.splitlines()
    assert table[0].split()[0] == "environment" and "is up to date" in verdict
    assert last.startswith("0 [] "), last
    assert float(last.rsplit(" ", 1)[1]) < 0.5, last
