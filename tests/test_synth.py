"""`make synth` (main.py): the summary table, and nothing half-written on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from canary_prices import CANARY_PER_AZ_USD

from staticip.outdir import replace_directory
from staticip.prices import load_prices
from staticip.summary import summarize
from staticip.synth import main

REPO = Path(__file__).resolve().parent.parent


def test_summary_counts_static_ips_per_mode(shipped):
    prices = load_prices()
    rows = {r.environment: r for r in summarize(shipped.config, shipped.outdir, prices)}
    for env in shipped.config.environments:
        row = rows[env.name]
        # eni-eip and per-AZ NAT: one IP per AZ; Global Accelerator: two anycast IPs.
        expected = len(env.azs) if env.egress != "none" else 2
        assert row.static_ips == expected
        stack = shipped.stack(env.name)
        assert row.resources == sum(len(v) for v in stack["resource"].values())
        assert (row.region, row.egress, row.ingress) == (env.region, env.egress, env.ingress)
    # By hand from the reference prices, 730 h: EIP/public IPv4 $0.005/h, NAT $0.045/h,
    # Global Accelerator $0.025/h, ALB $0.0225/h (+ its 2 public IPv4 addresses, one per AZ).
    # The egress environments add the canary of each AZ (tests/canary_prices.py).
    expected = {
        "dev": 2 * 0.005 * 730 + 2 * CANARY_PER_AZ_USD,
        "prod": 2 * (0.045 + 0.005) * 730 + 2 * CANARY_PER_AZ_USD,
        "ingress": (0.025 + 0.0225 + 2 * 0.005) * 730,
    }
    for name, usd in expected.items():
        assert abs(rows[name].fixed_usd_per_month - usd) < 0.006, name


def test_main_prints_one_table_row_per_environment(user):
    lines = user.printed.splitlines()
    header = lines[0].split()
    assert header[:4] == ["environment", "region", "egress", "ingress"]
    rows = {
        line.split()[0]: line.split()
        for line in lines[2:]
        if line.split() and line.split()[0] in {e.name for e in user.config.environments}
    }
    assert set(rows) == {e.name for e in user.config.environments}
    # staging has one NAT (single) with a reused IP: exactly one static IP.
    assert rows["staging"][1:4] == ["eu-west-1", "nat-gateway", "none"]
    assert rows["staging"][4] == "1"
    assert rows["dev3"][4] == "3"
    # hooks: the single NAT's egress IP and an ingress EIP on the NLB in each of 2 AZs.
    assert rows["hooks"][2:5] == ["nat-gateway", "nlb-eip", "3"]
    assert f"synthesized {len(rows)} stack(s)" in user.printed


def test_bad_config_exits_2_with_one_line_and_leaves_outdir_alone(tmp_path, write_config, capsys):
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "dev").mkdir(parents=True)
    marker = outdir / "stacks" / "dev" / "cdk.tf.json"
    marker.write_text('{"previous": true}')
    config = write_config('[environments.dev]\negress = "eni-eip"\nvpc_cidr = "nope"\n')
    assert main(["--config", str(config), "--outdir", str(outdir)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(config) in err and "environment 'dev'" in err and "key 'vpc_cidr'" in err
    assert marker.read_text() == '{"previous": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out", "staticip.toml"]


def test_main_py_fails_fast_on_bad_config_without_loading_cdktf(tmp_path, write_config):
    config = write_config('[environments.dev]\negress = "teleport"\nvpc_cidr = "10.0.0.0/16"\n')
    result = subprocess.run(
        [sys.executable, "main.py", "--config", str(config), "--outdir", str(tmp_path / "o")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "key 'egress'" in result.stderr
    assert not (tmp_path / "o").exists()


def test_failed_build_leaves_target_untouched_and_no_temp_dir(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.json").write_text("old")

    def half_write_then_fail(tmp: Path) -> None:
        (tmp / "stacks").mkdir(parents=True)
        (tmp / "stacks" / "partial.json").write_text("{")
        raise RuntimeError("synth failed")

    with pytest.raises(RuntimeError):
        replace_directory(target, half_write_then_fail)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert [p.name for p in target.iterdir()] == ["old.json"]


def test_successful_build_replaces_the_whole_directory(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "stale.json").write_text("stale")
    replace_directory(target, lambda tmp: (tmp.mkdir(), (tmp / "new.json").write_text("new")))
    assert [p.name for p in target.iterdir()] == ["new.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
