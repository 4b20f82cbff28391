"""`staticip review`: what a Terraform plan does to the allow-listed IPs, for a pull request.

Reads plans as `terraform show -json PLANFILE` prints them (one per environment) and reports,
per environment, what Terraform will add, change, replace and destroy, and the static-IP
impact, loud where it must be:

- blockers: an `aws_eip` destroyed or replaced (its address is released for good), an
  `aws_eip_association` removed with nothing taking its EIP over, a Global Accelerator replaced
  or destroyed (its two anycast IPs change), and a plan Terraform could not finish;
- warnings: the eni-eip function's `vpc_config` changing, or its security group or subnets being
  replaced (Lambda moves to new Hyperplane ENIs, which have no EIP until the associations are
  redone), an EIP association moving to another ENI, a NAT Gateway replaced or removed (egress
  gap), the ALB behind an accelerator replaced (ingress gap);
- the fixed monthly cost before and after, priced by `staticip.cost` from the plan's prior state
  and planned values.

A blocker makes the exit code 1 so a required check stops the merge; `allow_ip_change` turns the
IP blockers into acknowledged notes (a failed plan stays a blocker). Input problems (unreadable
file, malformed JSON, JSON that is not a plan) are exit 2 with one line.

The plan JSON format: https://developer.hashicorp.com/terraform/internals/json-format
(`resource_changes[].change.actions`, `before`/`after`/`after_unknown`, `replace_paths`,
`action_reason`, `prior_state`, `planned_values`, `errored`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from staticip.prices import Prices, PricesError, load_prices
from staticip.result import CommandResult, usage_error
from staticip.review import mode_rules
from staticip.review.model import (
    BLOCKER,
    COUNTED,
    FORMATS,
    NO_OP,
    NOTE,
    READ,
    WARNING,
    EnvironmentReview,
    Finding,
    PlanError,
    Review,
)
from staticip.review.plans import (
    PlanView,
    check_plan,
    environment_from_path,
    load_plan,
    parse_plan_argument,
    to_change,
)
from staticip.review.pricing import cost_change, stack_shape
from staticip.review.render import render_markdown, review_json

__all__ = [
    "BLOCKER",
    "FORMATS",
    "NOTE",
    "WARNING",
    "EnvironmentReview",
    "Finding",
    "PlanError",
    "Review",
    "check_plan",
    "environment_from_path",
    "load_plan",
    "parse_plan_argument",
    "render_markdown",
    "review_json",
    "review_plan",
    "review_plans",
    "run_review",
    "stack_shape",
]


def review_plan(
    environment: str,
    document: Mapping[str, Any],
    prices: Prices,
    *,
    source: str = "",
    allow_ip_change: bool = False,
) -> EnvironmentReview:
    """Review one environment's plan (as `check_plan` accepts it)."""
    plan = PlanView(document)
    changes, unchanged = [], 0
    counts = dict.fromkeys(COUNTED.values(), 0)
    for rc in plan.managed:
        change = to_change(rc)
        if change.action == NO_OP:
            unchanged += 1
            continue
        if change.action == READ:
            continue
        changes.append(change)
        if change.action in COUNTED:
            counts[COUNTED[change.action]] += 1
    findings = mode_rules.findings(plan)
    if allow_ip_change:
        findings = [
            Finding(f.severity, f.code, f.address, f.message, f.ips, acknowledged=True)
            if f.severity == BLOCKER and f.code != "plan-errored"
            else f
            for f in findings
        ]
    order = {BLOCKER: 0, WARNING: 1, NOTE: 2}
    findings.sort(key=lambda f: (order[f.severity], f.acknowledged, f.address))
    return EnvironmentReview(
        environment=environment,
        source=source,
        terraform_version=document.get("terraform_version"),
        errored=bool(document.get("errored")),
        counts=counts,
        changes=changes,
        unchanged=unchanged,
        findings=findings,
        cost=cost_change(plan, prices),
    )


def review_plans(
    plans: Sequence[tuple[str, Mapping[str, Any], str]],
    prices: Prices,
    *,
    allow_ip_change: bool = False,
) -> Review:
    """Review `(environment, plan document, source)` triples, in the order given."""
    return Review(
        [
            review_plan(env, doc, prices, source=src, allow_ip_change=allow_ip_change)
            for env, doc, src in plans
        ],
        allow_ip_change,
    )


def run_review(
    arguments: Sequence[str],
    output_format: str = "markdown",
    *,
    allow_ip_change: bool = False,
    prices_path: str | Path | None = None,
) -> CommandResult:
    """`staticip review PLAN_JSON... [--format markdown|json] [--allow-ip-change]`.

    Exit 1 when a blocker is not acknowledged, 0 otherwise; 2 with one line for an input problem
    (nothing is reported then: a partial report could hide the environment that failed).
    """
    if output_format not in FORMATS:
        return usage_error(f"unknown format '{output_format}'; use one of {', '.join(FORMATS)}")
    if not arguments:
        return usage_error("no plan files given; pass the output of `terraform show -json`")
    try:
        prices = load_prices(prices_path)
        inputs = [parse_plan_argument(a) for a in arguments]
        seen: dict[str, Path] = {}
        for item in inputs:
            if item.environment in seen:
                raise PlanError(
                    f"{item.path}: environment '{item.environment}' already comes from "
                    f"{seen[item.environment]}; name them ENV=PATH"
                )
            seen[item.environment] = item.path
        plans = [(i.environment, load_plan(i.path), str(i.path)) for i in inputs]
    except (PlanError, PricesError) as exc:
        return usage_error(str(exc))
    review = review_plans(plans, prices, allow_ip_change=allow_ip_change)
    data = review_json(review)
    # The CLI prints the text with its own final newline.
    text = render_markdown(review).rstrip("\n") if output_format == "markdown" else ""
    return CommandResult(review.exit_code, text, data)
