"""Monthly cost before and after a plan, priced by `staticip.cost`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from staticip.cost import price_stack
from staticip.prices import Prices
from staticip.review.model import CostChange
from staticip.review.plans import PlanView, _resources

# --- cost ---------------------------------------------------------------------------------------


def stack_shape(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Adapter to the `cdk.tf.json` shape that `staticip.cost.price_stack` prices:
    `{"resource": {type: {address: attributes}}, "data": {...}}` from a plan's values
    representation (`prior_state.values` or `planned_values`). Attribute names are the same in
    both (the provider schema's), so the price logic stays in one place."""
    shape: dict[str, dict[str, dict[str, Any]]] = {"resource": {}, "data": {}}
    for resource in _resources((values or {}).get("root_module")):
        kind = "data" if resource.get("mode") == "data" else "resource"
        by_type = shape[kind].setdefault(resource.get("type", ""), {})
        by_type[resource.get("address", "")] = resource.get("values") or {}
    return shape


def cost_change(plan: PlanView, prices: Prices) -> CostChange:
    before_values = (plan.document.get("prior_state") or {}).get("values")
    after_shape = stack_shape(plan.document.get("planned_values"))
    before_shape = stack_shape(before_values)
    # Data sources read during the plan are in the prior state; planned_values leaves them out.
    # A reused EIP (data.aws_eip) is billed all the same, so carry over those still configured.
    configured = {
        r.get("address")
        for r in plan.document.get("configuration", {}).get("root_module", {}).get("resources", [])
    }
    for rtype, by_address in before_shape["data"].items():
        for address, attrs in by_address.items():
            if address in configured and address not in after_shape["data"].get(rtype, {}):
                after_shape["data"].setdefault(rtype, {})[address] = attrs
    before_items = price_stack(before_shape, prices)
    after_items = price_stack(after_shape, prices)
    notes = []
    region = plan.provider_region()
    if region and region != prices.region:
        notes.append(
            f"the plan's region is {region} but the prices are for {prices.region}: "
            "pass --prices with that region's figures"
        )
    if not before_values:
        notes.append("no prior state: everything is new")
    errored = bool(plan.document.get("errored"))
    if errored:
        notes.append("the plan failed, so the cost after it is not known")
    return CostChange(
        currency=prices.currency,
        fixed_monthly_before=sum(i.fixed_monthly for i in before_items),
        fixed_monthly_after=None if errored else sum(i.fixed_monthly for i in after_items),
        per_gb_before=sum(i.per_gb for i in before_items),
        per_gb_after=None if errored else sum(i.per_gb for i in after_items),
        items_before={i.item: i.quantity for i in before_items},
        items_after=None if errored else {i.item: i.quantity for i in after_items},
        notes=tuple(notes),
    )
