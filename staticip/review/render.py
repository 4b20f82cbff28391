"""The review as Markdown (for the pull-request comment) or JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from staticip.review.model import (
    BLOCKER,
    MAX_RESOURCE_ROWS,
    NOTE,
    WARNING,
    EnvironmentReview,
    Review,
)


def review_json(review: Review) -> dict[str, Any]:
    """The review as plain data (what `--format json` prints)."""
    return {
        "exit_code": review.exit_code,
        "allow_ip_change": review.allow_ip_change,
        "blockers": len(review.blockers),
        "environments": [
            {
                "environment": env.environment,
                "source": env.source,
                "terraform_version": env.terraform_version,
                "errored": env.errored,
                "counts": env.counts,
                "unchanged": env.unchanged,
                "changes": [asdict(c) for c in env.changes],
                "findings": [asdict(f) for f in env.findings],
                "cost": asdict(env.cost) | {"delta": env.cost.delta},
            }
            for env in review.environments
        ],
    }


# --- Markdown -----------------------------------------------------------------------------------

_ICONS = {BLOCKER: ":no_entry:", WARNING: ":warning:", NOTE: ":information_source:"}


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell and outside HTML."""
    # `<` is enough to stop HTML (GitHub renders tags in comments); `>` mid-line is plain text.
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "&lt;")


def _money(value: float | None, currency: str) -> str:
    if value is None:
        return "unknown"
    sign = "-" if value < 0 else ""
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{symbol}{abs(value):,.2f}"


def render_markdown(review: Review) -> str:
    """The report for a pull-request comment."""
    lines = ["## Terraform plan review: static IPs", ""]
    blockers = review.blockers
    acknowledged = [
        (e.environment, f) for e in review.environments for f in e.of(BLOCKER, acknowledged=True)
    ]
    if blockers:
        envs = ", ".join(dict.fromkeys(env for env, _ in blockers))
        lines.append(
            f"{_ICONS[BLOCKER]} **{len(blockers)} blocker(s)** in {envs}: this change releases "
            "or moves allow-listed IPs (or its plan failed). The check fails; if the IP change "
            "is deliberate, re-run the review with `--allow-ip-change`."
        )
    elif acknowledged:
        lines.append(
            f":ballot_box_with_check: {len(acknowledged)} IP change(s) acknowledged with "
            "`--allow-ip-change`: tell the vendors before this is applied."
        )
    else:
        lines.append(":white_check_mark: No allow-listed IP is released or replaced.")
    lines += [
        "",
        "| environment | add | change | replace | destroy | blockers | warnings | "
        "fixed cost / month |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for env in review.environments:
        c = env.cost
        cost = f"{_money(c.fixed_monthly_before, c.currency)} → "
        cost += f"{_money(c.fixed_monthly_after, c.currency)}"
        lines.append(
            f"| {_cell(env.environment)} | {env.counts['add']} | {env.counts['change']} | "
            f"{env.counts['replace']} | {env.counts['destroy']} | "
            f"{len(env.of(BLOCKER, acknowledged=False))} | {len(env.of(WARNING))} | {cost} |"
        )
    for env in review.environments:
        lines += ["", *_environment_markdown(env)]
    return "\n".join(lines) + "\n"


def _environment_markdown(env: EnvironmentReview) -> list[str]:
    title = f"### {_cell(env.environment)}"
    if env.errored:
        title += " (plan failed)"
    lines = [title, "", "**Static-IP impact**", ""]
    if not env.findings:
        lines.append("- none: no Elastic IP, association, NAT Gateway, accelerator or ALB change")
    for f in env.findings:
        label = "acknowledged" if f.acknowledged else f.severity
        where = f" `{f.address}`" if f.address else ""
        lines.append(f"- {_ICONS[f.severity]} **{label}**{where}: {_cell(f.message)}")
    c = env.cost
    delta = c.delta
    if delta is None:
        change = ""
    elif abs(delta) < 0.005:
        change = " (no change)"
    else:
        change = f" ({'+' if delta > 0 else ''}{_money(delta, c.currency)})"
    per_gb = ""
    if c.per_gb_after is not None and c.per_gb_before != c.per_gb_after:
        per_gb = f"; per GB processed: {c.per_gb_before:.3f} → {c.per_gb_after:.3f}"
    lines += [
        "",
        f"**Monthly cost** (fixed): {_money(c.fixed_monthly_before, c.currency)} → "
        f"{_money(c.fixed_monthly_after, c.currency)}{change}{per_gb}.",
    ]
    after = c.items_after or {}
    items = sorted(set(c.items_before) | set(after))
    if items:
        lines.append(
            "Priced: "
            + "; ".join(
                f"{_cell(i)} {c.items_before.get(i, 0)} → "
                + (str(after.get(i, 0)) if c.items_after is not None else "?")
                for i in items
            )
            + "."
        )
    for note in c.notes:
        lines.append(f"Note: {_cell(note)}.")
    total = len(env.changes)
    summary = f"Resources: {total} to act on, {env.unchanged} unchanged"
    lines += ["", "<details><summary>" + _cell(summary) + "</summary>", ""]
    if env.changes:
        lines += ["| action | address | why |", "|---|---|---|"]
        for change in env.changes[:MAX_RESOURCE_ROWS]:
            why = ", ".join(
                filter(
                    None,
                    [
                        change.reason,
                        "forced by " + ", ".join(change.replace_paths)
                        if change.replace_paths
                        else "",
                        "deposed object" if change.deposed else "",
                    ],
                )
            )
            lines.append(f"| {change.action} | `{change.address}` | {_cell(why)} |")
        if total > MAX_RESOURCE_ROWS:
            lines.append(f"| … | {total - MAX_RESOURCE_ROWS} more | |")
    else:
        lines.append("No changes.")
    lines += ["", "</details>"]
    return lines
