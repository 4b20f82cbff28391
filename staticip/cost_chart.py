"""`staticip cost --chart FILE.svg`: the egress options' monthly cost against traffic.

Each option is a straight line, `fixed_monthly + per_gb * GB` (the `Option`s `staticip.cost`
prices from `prices.toml`; nothing is priced here), drawn up to a little past the last
crossover, with every crossover marked and labelled. One panel per AZ count among the
environments with egress.

matplotlib is an optional dependency (`pip install 'staticip[chart]'`; `make synth` installs
it from requirements.lock). It is imported only when a chart is drawn, so the other commands
never pay for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from staticip.cost_items import Alternatives
from staticip.prices import Prices

#: Fixed salt for the SVG element IDs matplotlib generates (random by default), and no date in
#: the metadata: the same config and prices always give the same bytes, so the chart in the
#: README can be checked for staleness.
SVG_RC = {"svg.hashsalt": "staticip-cost", "svg.fonttype": "none"}
SVG_METADATA = {"Date": None}
MIN_GB = 1000.0


class ChartError(Exception):
    """The chart could not be drawn; `str()` is one line for the user."""


def x_limit(blocks: Sequence[Alternatives]) -> float:
    """GB/month the x axis runs to: a third past the last crossover, rounded up to a round
    number, so every crossover sits inside the plot with room for its label."""
    last = max((c.gb_per_month for b in blocks for c in b.crossovers), default=0.0)
    target = max(MIN_GB, last * 4 / 3)
    step = 10 ** math.floor(math.log10(target))
    return math.ceil(target / step) * step


def draw_cost_chart(blocks: Sequence[Alternatives], prices: Prices, path: str | Path) -> Path:
    """Write the SVG to `path` and return it. Raises `ChartError`."""
    if not blocks:
        raise ChartError("no environment with egress to chart")
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise ChartError(
            "matplotlib is not installed: run `make synth` (it installs requirements.lock) or "
            "`pip install 'staticip[chart]'`"
        ) from None

    path = Path(path)
    xmax = x_limit(blocks)
    cur = prices.currency
    with matplotlib.rc_context(SVG_RC):
        fig = Figure(figsize=(9, 5.2 * len(blocks)), layout="constrained")
        axes = fig.subplots(len(blocks), 1, squeeze=False)[:, 0]
        for ax, block in zip(axes, blocks, strict=True):
            for option in block.options:
                users = [env for env, used in block.current.items() if used == option.name]
                label = (
                    f"{option.name}: {option.fixed_monthly:,.2f} {cur}/month"
                    + (f" + {option.per_gb:g} {cur}/GB" if option.per_gb else "")
                    + (f" (used by {', '.join(users)})" if users else "")
                )
                ax.plot(
                    [0, xmax],
                    [option.at(0), option.at(xmax)],
                    label=label,
                    linewidth=2.2 if users else 1.6,
                )
            for i, c in enumerate(block.crossovers):
                ax.plot([c.gb_per_month], [c.monthly_cost], "o", color="black", markersize=5)
                # Alternate above-left and below-right: crossovers can sit close together.
                above = i % 2 == 0
                ax.annotate(
                    f"{c.gb_per_month:,.0f} GB/month: {c.cheaper_above}\n"
                    f"costs less than {c.cheaper_below} above",
                    (c.gb_per_month, c.monthly_cost),
                    xytext=(-8, 10) if above else (8, -30),
                    textcoords="offset points",
                    ha="right" if above else "left",
                    fontsize=8,
                )
            ax.set_xlim(0, xmax)
            ax.set_ylim(bottom=0)
            ax.set_xlabel("traffic through the static IPs, GB/month")
            ax.set_ylabel(f"{cur}/month")
            ax.set_title(
                f"Static egress IPs, {block.az_count} AZ(s) ({', '.join(block.environments)}): "
                f"monthly cost, {prices.region} prices as of {prices.as_of}",
                fontsize=10,
            )
            ax.grid(True, linewidth=0.4, alpha=0.6)
            ax.legend(loc="upper left", fontsize=8)
        try:
            fig.savefig(path, format="svg", metadata=SVG_METADATA)
        except OSError as exc:
            raise ChartError(f"{path}: cannot write the chart ({exc.strerror or exc})") from None
    return path
