"""`staticip cost --chart FILE.svg`: a valid SVG that names every option and crossover, the same
bytes every time, and the chart in docs/ matches the shipped config."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from staticip.config import load_config
from staticip.cost import alternatives_for, egress_options, run_cost
from staticip.cost_chart import draw_cost_chart, x_limit
from staticip.prices import load_prices

REPO = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
DOCS_CHART = REPO / "docs" / "cost.svg"


def shipped_blocks():
    return alternatives_for(load_config(REPO / "staticip.toml").environments, load_prices())


def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return [" ".join("".join(t.itertext()).split()) for t in root.iter(f"{SVG}text")]


def test_the_svg_names_every_option_and_marks_the_crossovers(tmp_path):
    blocks = shipped_blocks()
    path = draw_cost_chart(blocks, load_prices(), tmp_path / "cost.svg")

    texts = svg_texts(path)
    legend = " | ".join(texts)
    for option in egress_options(2, load_prices()):
        assert any(t.startswith(f"{option.name}: ") for t in texts), (option.name, legend)
    assert any(t.startswith("hosted proxy: 259.00 USD/month") for t in texts)
    assert any("(used by prod)" in t for t in texts) and any("(used by dev)" in t for t in texts)
    # (259 - 73) / 0.045 and (259 - 36.5) / 0.045, as the README says; the regional NAT's line
    # is per-AZ's line (same rates per AZ), so it crosses the proxy at the same traffic.
    crossings = [c.gb_per_month for b in blocks for c in b.crossovers]
    assert [round(x) for x in crossings] == [4133, 4133, 4944]
    for x in crossings:
        assert any(t.startswith(f"{x:,.0f} GB/month:") for t in texts), legend


def test_the_axis_reaches_past_the_last_crossover():
    blocks = shipped_blocks()
    last = max(c.gb_per_month for b in blocks for c in b.crossovers)
    assert last < x_limit(blocks) <= 2 * last


def test_same_input_same_bytes(tmp_path):
    blocks, prices = shipped_blocks(), load_prices()
    one = draw_cost_chart(blocks, prices, tmp_path / "one.svg").read_bytes()
    two = draw_cost_chart(blocks, prices, tmp_path / "two.svg").read_bytes()
    assert one == two


def test_the_readme_chart_is_the_shipped_configs(tmp_path):
    fresh = draw_cost_chart(shipped_blocks(), load_prices(), tmp_path / "cost.svg")
    assert DOCS_CHART.read_bytes() == fresh.read_bytes(), "docs/cost.svg is stale: run `make chart`"
    assert "](docs/cost.svg)" in (REPO / "README.md").read_text()  # embedded there


def test_cost_command_writes_the_chart(shipped, tmp_path):
    chart = tmp_path / "cost.svg"
    result = run_cost(shipped.config.path, shipped.outdir, chart_path=chart)
    assert result.exit_code == 0
    assert result.data["chart"] == str(chart)
    assert result.text.endswith(f"Chart: {chart}")
    assert any(t.startswith("eni-eip: ") for t in svg_texts(chart))


def test_chart_errors_are_usage_errors(shipped, tmp_path, monkeypatch):
    no_egress = run_cost(shipped.config.path, shipped.outdir, ["ingress"], chart_path="x.svg")
    assert no_egress.exit_code == 2 and "no environment with egress" in no_egress.text

    unwritable = run_cost(
        shipped.config.path, shipped.outdir, chart_path=tmp_path / "missing" / "cost.svg"
    )
    assert unwritable.exit_code == 2 and "cannot write the chart" in unwritable.text

    # Without the optional dependency the command says how to get it.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    missing = run_cost(shipped.config.path, shipped.outdir, chart_path=tmp_path / "c.svg")
    assert missing.exit_code == 2 and "matplotlib is not installed" in missing.text
    assert "\n" not in missing.text
    assert not (tmp_path / "c.svg").exists()


@pytest.mark.parametrize("az_count", [1, 3])
def test_other_az_counts_draw_too(tmp_path, az_count):
    prices = load_prices()
    config = load_config(REPO / "staticip.toml")
    env = config.environment("prod")
    import dataclasses

    region = env.region
    azs = tuple(f"{region}{chr(ord('a') + i)}" for i in range(az_count))
    blocks = alternatives_for([dataclasses.replace(env, azs=azs)], prices)
    texts = svg_texts(draw_cost_chart(blocks, prices, tmp_path / "c.svg"))
    names = {o.name for o in egress_options(az_count, prices)}
    assert all(any(t.startswith(f"{n}: ") for t in texts) for n in names)
