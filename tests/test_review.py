"""`staticip review` on real `terraform show -json` plans (tests/fixtures/plans, made by
scripts/make_plan_fixtures.py; see the README there for what in them is real).

Expected IPs, counts and costs are read from each plan's own prior state or from the price
table, never copied from the review's output.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from canary_prices import (
    CANARY_CLOUDWATCH_PER_AZ_USD,
    CANARY_PER_AZ_USD,
    CANARY_RUNS_PER_AZ_USD,
)

from staticip import cli
from staticip.cost import price_stack
from staticip.prices import SHIPPED_PRICES, load_prices
from staticip.review.command import (
    BLOCKER,
    NOTE,
    WARNING,
    EnvironmentReview,
    Finding,
    PlanError,
    Review,
    check_plan,
    environment_from_path,
    load_plan,
    parse_plan_argument,
    render_markdown,
    review_plan,
    run_review,
    stack_shape,
)

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plans"
SCRIPT = REPO / "scripts" / "make_plan_fixtures.py"
MIRROR = Path(os.environ.get("STATICIP_TF_PLUGIN_DIR", "/opt/tf-plugins"))
PRICES = tomllib.loads(SHIPPED_PRICES.read_text())
HOURS = PRICES["hours_per_month"]
IPV4 = PRICES["public_ipv4"]["per_hour"] * HOURS
NAT = PRICES["nat_gateway"]["per_hour"] * HOURS


def fixture(name: str) -> Path:
    return FIXTURES / f"{name}.json"


def plan(name: str) -> dict[str, Any]:
    return json.loads(fixture(name).read_text())


def review(name: str, *, allow_ip_change: bool = False) -> EnvironmentReview:
    env = name.split("-")[0]
    return review_plan(
        env, load_plan(fixture(name)), load_prices(), allow_ip_change=allow_ip_change
    )


def codes(env_review: EnvironmentReview, severity: str) -> list[str]:
    return sorted(f.code for f in env_review.findings if f.severity == severity)


def one(env_review: EnvironmentReview, code: str) -> Finding:
    found = [f for f in env_review.findings if f.code == code]
    assert len(found) == 1, [f.code for f in env_review.findings]
    return found[0]


def prior(document: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    """Resources of one type in the plan's prior state (what Terraform read before planning)."""
    return [
        r
        for r in document["prior_state"]["values"]["root_module"]["resources"]
        if r["type"] == rtype and r["mode"] == "managed"
    ]


def eip_of_az(document: dict[str, Any], az: str) -> dict[str, Any]:
    (eip,) = [
        r["values"] for r in prior(document, "aws_eip") if r["values"]["tags"]["staticip:az"] == az
    ]
    return eip


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["review", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- the fixtures themselves ----------------------------------------------------------------


PLAN_FIXTURES = sorted(
    p.name[: -len(".json")] for p in FIXTURES.glob("*.json") if ".meta." not in p.name
)


def test_the_fixture_set_is_complete() -> None:
    for env in ("prod", "dev", "ingress"):
        assert f"{env}-clean" in PLAN_FIXTURES


@pytest.mark.parametrize("name", PLAN_FIXTURES)
def test_each_fixture_is_terraform_output_with_its_provenance(name: str) -> None:
    document = plan(name)
    meta = json.loads((FIXTURES / f"{name}.meta.json").read_text())
    assert check_plan(document, name) is document
    # The metadata describes this very file.
    assert meta["fixture"] == f"{name}.json"
    assert meta["terraform_version"] == document["terraform_version"]
    assert meta["environment"] == name.split("-")[0]
    assert meta["providers"]["registry.terraform.io/hashicorp/aws"]
    assert any(c.startswith("terraform plan") for c in meta["plan_commands"])
    assert meta["plan_exit_code"] == (
        1 if document["errored"] else 2 if document["applyable"] else 0
    )
    # Whole files, as Terraform wrote them: small enough to keep in the repository (the largest,
    # dev's with its guard and one canary per AZ, is about 400 kB).
    assert fixture(name).stat().st_size < 500_000


# --- clean plans ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["prod-clean", "dev-clean", "ingress-clean"])
def test_a_clean_plan_has_nothing_to_report(name: str) -> None:
    result = review(name)
    assert result.counts == {"add": 0, "change": 0, "replace": 0, "destroy": 0}
    assert result.changes == []
    assert result.findings == []
    managed = [rc for rc in plan(name)["resource_changes"] if rc["mode"] == "managed"]
    assert result.unchanged == len(managed) > 0
    assert result.cost.fixed_monthly_before == result.cost.fixed_monthly_after > 0
    assert run_review([f"{name.split('-')[0]}={fixture(name)}"]).exit_code == 0


# --- blockers -------------------------------------------------------------------------------


def test_an_az_dropped_with_protect_ips_retains_its_eip_instead_of_releasing_it() -> None:
    # Real Terraform's plan of the stack's `removed` block: the EIP is forgotten, not destroyed.
    document = plan("prod-az-dropped")
    retained = eip_of_az(document, "us-east-1b")
    result = review("prod-az-dropped")
    finding = one(result, "eip-retained")
    assert finding.severity == WARNING and finding.ips == (retained["public_ip"],)
    assert "retained, not released" in finding.message
    assert (
        f'reuse_eip_allocation_ids = {{ "us-east-1b" = "{retained["allocation_id"]}" }}'
        in finding.message
    )
    assert codes(result, BLOCKER) == []
    assert codes(result, WARNING) == ["eip-retained", "nat-gateway-removed"]
    assert run_review([f"prod={fixture('prod-az-dropped')}"]).exit_code == 0


def test_an_az_dropped_without_protect_ips_releases_its_eip_and_blocks() -> None:
    document = plan("prod-az-dropped-unprotected")
    released = eip_of_az(document, "us-east-1b")
    kept = eip_of_az(document, "us-east-1a")
    result = review("prod-az-dropped-unprotected")
    finding = one(result, "eip-released")
    assert finding.severity == BLOCKER and not finding.acknowledged
    assert finding.ips == (released["public_ip"],)
    assert released["public_ip"] in finding.message and kept["public_ip"] not in finding.message
    # The review says why nothing stopped it.
    assert "no `removed` block keeps it" in finding.message
    # Its NAT Gateway goes too: an egress warning, not a second blocker.
    assert codes(result, BLOCKER) == ["eip-released"]
    assert codes(result, WARNING) == ["nat-gateway-removed"]
    assert run_review([f"prod={fixture('prod-az-dropped-unprotected')}"]).exit_code == 1


def test_an_eip_replaced_is_a_blocker_and_its_nat_gateway_follows() -> None:
    document = plan("prod-eip-replaced")
    replaced = eip_of_az(document, "us-east-1a")
    result = review("prod-eip-replaced")
    finding = one(result, "eip-replaced")
    assert finding.severity == BLOCKER
    assert finding.ips == (replaced["public_ip"],)
    assert "-replace" in finding.message
    nat = one(result, "nat-gateway-replaced")
    assert nat.severity == WARNING and "Elastic IP changes too" in nat.message


def test_an_association_removed_with_its_retained_eip_is_a_warning() -> None:
    document = plan("dev-az-dropped")
    gone = eip_of_az(document, "us-east-1b")
    result = review("dev-az-dropped")
    finding = one(result, "eip-association-removed")
    assert finding.severity == WARNING and "retained, not released" in finding.message
    assert finding.ips == (gone["public_ip"],)
    (association,) = [
        r["values"]
        for r in prior(document, "aws_eip_association")
        if r["values"]["allocation_id"] == gone["allocation_id"]
    ]
    assert association["network_interface_id"] in finding.message
    assert codes(result, BLOCKER) == []
    assert one(result, "eip-retained").ips == (gone["public_ip"],)


def test_an_association_removed_while_its_eip_stays_is_a_blocker() -> None:
    # The same plan without the forget: the EIP stays in the configuration, unassociated.
    document = plan("dev-az-dropped")
    for rc in document["resource_changes"]:
        if rc["type"] == "aws_eip" and rc["change"]["actions"] == ["forget"]:
            rc["change"]["actions"] = ["no-op"]
            rc["change"]["after"] = rc["change"]["before"]
    result = review_plan("dev", document, load_prices())
    finding = one(result, "eip-association-removed")
    assert (
        finding.severity == BLOCKER
        and "nothing in this plan takes that EIP over" in finding.message
    )


def test_an_association_whose_eip_a_nat_gateway_takes_is_not_a_blocker() -> None:
    document = plan("dev-to-nat")
    result = review("dev-to-nat")
    assert codes(result, BLOCKER) == []
    moved = [f for f in result.findings if f.code == "eip-association-moved"]
    assert {f.ips[0] for f in moved} == {
        r["values"]["public_ip"] for r in prior(document, "aws_eip")
    }
    assert all(f.severity == NOTE and "aws_nat_gateway." in f.message for f in moved)
    assert run_review([f"dev={fixture('dev-to-nat')}"]).exit_code == 0


def test_an_accelerator_replaced_is_a_blocker_naming_both_ips() -> None:
    document = plan("ingress-accelerator-replaced")
    (accelerator,) = prior(document, "aws_globalaccelerator_accelerator")
    ips = tuple(accelerator["values"]["ip_sets"][0]["ip_addresses"])
    assert len(ips) == 2
    finding = one(review("ingress-accelerator-replaced"), "accelerator-replaced")
    assert finding.severity == BLOCKER
    assert finding.ips == ips
    assert all(ip in finding.message for ip in ips)


def test_a_failed_plan_is_a_blocker_that_allow_ip_change_does_not_lift() -> None:
    result = review("prod-eip-replace-protected", allow_ip_change=True)
    assert result.errored
    errored = one(result, "plan-errored")
    assert errored.severity == BLOCKER and not errored.acknowledged
    # What Terraform planned before failing is still reviewed (and acknowledged).
    assert one(result, "eip-replaced").acknowledged
    # A partial plan has no trustworthy "after".
    assert result.cost.fixed_monthly_after is None and result.cost.delta is None
    outcome = run_review([f"prod={fixture('prod-eip-replace-protected')}"], allow_ip_change=True)
    assert outcome.exit_code == 1
    assert "plan failed" in outcome.text


# --- warnings -------------------------------------------------------------------------------


def test_vpc_config_change_and_replaced_security_group_and_subnets_warn_of_eni_rotation() -> None:
    document = plan("dev-vpc-cidr-changed")
    result = review("dev-vpc-cidr-changed")
    assert codes(result, BLOCKER) == []
    functions = [r for r in prior(document, "aws_lambda_function") if r["values"]["vpc_config"]]
    # The probe, the worker and the canary of each AZ: one warning each; the group and each
    # subnet once, naming every function on it.
    assert len(functions) == 4
    assert codes(result, WARNING) == [
        "function-security-group-replaced",
        "function-subnet-replaced",
        "function-subnet-replaced",
        *["function-vpc-config-changed"] * 4,
    ]
    changes = {f.address: f for f in result.findings if f.code == "function-vpc-config-changed"}
    assert set(changes) == {f["address"] for f in functions}
    for change in changes.values():
        assert "new Hyperplane ENIs" in change.message
        # Not re-planned here (literal ENIs, see the fixture README); the guard covers the
        # canaries too, since they sit on the ENIs it watches.
        assert "does not redo the EIP associations" in change.message
        assert "the ENI guard re-associates them" in change.message
    vpc = functions[0]["values"]["vpc_config"][0]
    group = one(result, "function-security-group-replaced")
    assert vpc["security_group_ids"][0] in group.message
    assert all(f["address"] in group.message for f in functions)
    subnets = [f for f in result.findings if f.code == "function-subnet-replaced"]
    all_subnets = {s for f in functions for s in f["values"]["vpc_config"][0]["subnet_ids"]}
    assert sorted(s for f in subnets for s in all_subnets if s in f.message) == sorted(all_subnets)
    assert run_review([f"dev={fixture('dev-vpc-cidr-changed')}"]).exit_code == 0


def test_a_subnet_left_keeps_the_other_enis() -> None:
    # The probe and the declared worker both leave the subnet.
    changes = [
        f for f in review("dev-az-dropped").findings if f.code == "function-vpc-config-changed"
    ]
    assert len(changes) == 2
    for change in changes:
        assert "stops using its ENIs" in change.message
        assert "new Hyperplane ENIs" not in change.message


def test_a_nat_gateway_replaced_warns_and_keeps_its_eip() -> None:
    document = plan("prod-nat-replaced")
    kept = eip_of_az(document, "us-east-1a")
    result = review("prod-nat-replaced")
    assert codes(result, BLOCKER) == []
    finding = one(result, "nat-gateway-replaced")
    assert finding.severity == WARNING
    assert f"keeps the Elastic IP {kept['public_ip']}" in finding.message
    assert result.counts["replace"] == 1
    assert run_review([f"prod={fixture('prod-nat-replaced')}"]).exit_code == 0


def test_the_alb_replaced_behind_the_accelerator_warns() -> None:
    document = plan("ingress-alb-replaced")
    (alb,) = prior(document, "aws_lb")
    (accelerator,) = prior(document, "aws_globalaccelerator_accelerator")
    result = review("ingress-alb-replaced")
    assert codes(result, BLOCKER) == []
    finding = one(result, "alb-replaced")
    assert finding.address == alb["address"]
    assert finding.ips == tuple(accelerator["values"]["ip_sets"][0]["ip_addresses"])
    # Deletion protection (on outside dev) makes that apply fail: the review says so.
    assert alb["values"]["enable_deletion_protection"] is True
    assert "Deletion protection is on" in finding.message


# --- counts, resources and cost -------------------------------------------------------------


def test_counts_and_resources_follow_the_plans_actions() -> None:
    document = plan("dev-vpc-cidr-changed")
    actions = {
        rc["address"]: rc["change"]["actions"]
        for rc in document["resource_changes"]
        if rc["mode"] == "managed"
    }
    result = review("dev-vpc-cidr-changed")
    replaced = sorted(a for a, acts in actions.items() if sorted(acts) == ["create", "delete"])
    assert sorted(c.address for c in result.changes if c.action == "replace") == replaced
    assert result.counts["replace"] == len(replaced)
    assert result.counts["change"] == sum(acts == ["update"] for acts in actions.values())
    assert result.unchanged == sum(acts == ["no-op"] for acts in actions.values())
    subnet = next(c for c in result.changes if c.type == "aws_subnet")
    assert "cidr_block" in subnet.replace_paths
    assert subnet.reason == "replace_because_cannot_update"


def test_monthly_cost_before_and_after_comes_from_the_price_table() -> None:
    # Each AZ also has its egress canary (tests/canary_prices.py); dropping an AZ drops its.
    canary = CANARY_PER_AZ_USD
    dropped = review("prod-az-dropped-unprotected").cost
    assert dropped.fixed_monthly_before == pytest.approx(2 * (IPV4 + NAT + canary))
    assert dropped.fixed_monthly_after == pytest.approx(IPV4 + NAT + canary)
    assert dropped.delta == pytest.approx(-(IPV4 + NAT + canary))
    # A retained EIP leaves the state but stays allocated, so it stays on the bill.
    retained = review("prod-az-dropped").cost
    assert retained.fixed_monthly_after == pytest.approx(2 * IPV4 + NAT + canary)
    assert retained.delta == pytest.approx(-(NAT + canary))
    to_nat = review("dev-to-nat").cost
    assert to_nat.fixed_monthly_before == pytest.approx(2 * (IPV4 + canary))
    assert to_nat.fixed_monthly_after == pytest.approx(2 * (IPV4 + NAT + canary))
    assert to_nat.per_gb_after == pytest.approx(PRICES["nat_gateway"]["per_gb"])


def test_the_cost_adapter_feeds_the_cost_module_a_cdk_tf_json_shape() -> None:
    shape = stack_shape(plan("prod-clean")["prior_state"]["values"])
    assert set(shape) == {"resource", "data"}
    assert len(shape["resource"]["aws_nat_gateway"]) == 2
    items = {i.item: (i.quantity, i.fixed_monthly) for i in price_stack(shape, load_prices())}
    assert items == {
        "public IPv4: EIP": (2, pytest.approx(2 * IPV4)),
        "NAT Gateway": (2, pytest.approx(2 * NAT)),
        # Read from the state's list-shaped blocks: the canary's variables and alarm queries.
        "egress canary: Lambda runs": (2, pytest.approx(2 * CANARY_RUNS_PER_AZ_USD)),
        "egress canary: CloudWatch": (8, pytest.approx(2 * CANARY_CLOUDWATCH_PER_AZ_USD)),
        "managed prefix list": (1, 0.0),
    }


def test_a_reused_eip_still_configured_is_priced_after_the_plan_too() -> None:
    # planned_values leaves data sources out; a reused EIP (data.aws_eip) is billed anyway.
    reused = {"address": "data.aws_eip.reused", "mode": "data", "type": "aws_eip", "values": {}}
    document = {
        "format_version": "1.2",
        "prior_state": {"values": {"root_module": {"resources": [reused]}}},
        "planned_values": {"root_module": {}},
        "configuration": {"root_module": {"resources": [{"address": "data.aws_eip.reused"}]}},
        "resource_changes": [],
    }
    cost = review_plan("x", document, load_prices()).cost
    assert cost.fixed_monthly_before == cost.fixed_monthly_after == pytest.approx(IPV4)
    document["configuration"]["root_module"]["resources"] = []
    assert review_plan("x", document, load_prices()).cost.fixed_monthly_after == 0


# --- the report -----------------------------------------------------------------------------


def test_several_environments_in_one_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        [
            f"dev={fixture('dev-az-dropped')}",
            f"prod={fixture('prod-az-dropped-unprotected')}",
            f"ingress={fixture('ingress-clean')}",
        ],
        capsys,
    )
    assert code == 1 and err == ""
    # One section per environment, in the order given, after the summary table.
    sections = [line for line in out.splitlines() if line.startswith("### ")]
    assert sections == ["### dev", "### prod", "### ingress"]
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert {"prod", "dev", "ingress"} <= set(rows)
    dev_section = out.split("### dev")[1].split("### prod")[0]
    assert "**blocker**" not in dev_section and "eip-retained" in dev_section
    prod_section = out.split("### prod")[1].split("### ingress")[0]
    assert prod_section.count("**blocker**") == 1
    assert "blocker" not in out.split("### ingress")[1]
    assert "1 blocker(s)** in prod" in out


def test_allow_ip_change_acknowledges_ip_blockers(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        f"prod={fixture('prod-az-dropped-unprotected')}",
        f"ingress={fixture('ingress-accelerator-replaced')}",
    ]
    assert run_cli(args, capsys)[0] == 1
    code, out, _ = run_cli([*args, "--allow-ip-change"], capsys)
    assert code == 0
    assert "**acknowledged**" in out and "**blocker**" not in out
    result = run_review(args, allow_ip_change=True)
    findings = [f for env in result.data["environments"] for f in env["findings"]]
    blockers = [f for f in findings if f["severity"] == BLOCKER]
    assert {f["code"] for f in blockers} == {"eip-released", "accelerator-replaced"}
    assert all(f["acknowledged"] for f in blockers)
    assert result.data["blockers"] == 0


def test_json_output_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["--format", "json", f"prod={fixture('prod-eip-replaced')}", f"dev={fixture('dev-clean')}"],
        capsys,
    )
    data = json.loads(out)
    assert code == data["exit_code"] == 1
    assert data["blockers"] == 1 and data["allow_ip_change"] is False
    prod, dev = data["environments"]
    assert (prod["environment"], dev["environment"]) == ("prod", "dev")
    assert set(prod) == {
        "environment",
        "source",
        "terraform_version",
        "errored",
        "counts",
        "unchanged",
        "changes",
        "findings",
        "cost",
    }
    assert set(prod["counts"]) == {"add", "change", "replace", "destroy"}
    assert set(prod["findings"][0]) == {
        "severity",
        "code",
        "address",
        "message",
        "ips",
        "acknowledged",
    }
    assert {"action", "address", "type", "reason", "replace_paths", "deposed"} == set(
        prod["changes"][0]
    )
    assert prod["cost"]["delta"] == pytest.approx(
        prod["cost"]["fixed_monthly_after"] - prod["cost"]["fixed_monthly_before"]
    )
    assert dev["findings"] == [] and dev["changes"] == []


def test_markdown_keeps_plan_text_out_of_html() -> None:
    finding = Finding(BLOCKER, "x", "aws_eip.a", "tag <img src=x> | pipe")
    env = dataclasses.replace(review("prod-clean"), findings=[finding])
    text = render_markdown(Review([env]))
    line = next(line for line in text.splitlines() if "aws_eip.a" in line)
    assert "<img" not in line and "&lt;img" in line and "\\|" in line


# --- input errors: exit 2, one line ---------------------------------------------------------


def assert_one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str) -> str:
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("staticip review: ")
    for word in words:
        assert word in err
    return err


def test_malformed_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "prod.json"
    bad.write_text(fixture("prod-clean").read_text()[:5000])
    assert_one_line_error(capsys, [str(bad)], str(bad), "malformed JSON", "line 1")


def test_non_plan_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        "object.json": ({"resources": []}, "no format_version"),
        "array.json": ([1, 2], "a JSON array"),
        "state.json": ({"format_version": "1.0", "values": {}}, "Terraform state"),
        "future.json": ({"format_version": "2.0", "resource_changes": []}, "not supported"),
        "nochanges.json": ({"format_version": "1.2"}, "no resource_changes"),
        "badchanges.json": ({"format_version": "1.2", "resource_changes": [1]}, "not a list"),
    }
    for name, (content, words) in cases.items():
        path = tmp_path / name
        path.write_text(json.dumps(content))
        assert_one_line_error(capsys, [str(path)], str(path), words)


def test_unreadable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(capsys, [str(tmp_path / "missing.json")], "file not found")
    assert_one_line_error(capsys, [str(tmp_path)], "is a directory")
    binary = tmp_path / "prod.tfplan"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00binary plan")
    assert_one_line_error(capsys, [str(binary)], "terraform show -json")


def test_one_bad_file_stops_the_whole_review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A partial report could hide the very environment that failed to load.
    bad = tmp_path / "dev.json"
    bad.write_text("{")
    assert_one_line_error(capsys, [str(fixture("prod-az-dropped")), str(bad)], "dev.json")


# --- environment names ----------------------------------------------------------------------


def test_environment_names_come_from_file_names_or_env_equals_path(tmp_path: Path) -> None:
    assert environment_from_path(Path("plans/prod.json")) == "prod"
    assert environment_from_path(Path("plans/prod.plan.json")) == "prod"
    assert parse_plan_argument("dev=plans/x.json").environment == "dev"
    # A file that exists is a path even with "=" in its name.
    odd = tmp_path / "a=b.json"
    odd.write_text("{}")
    assert parse_plan_argument(str(odd)).path == odd
    copy = tmp_path / "staging.plan.json"
    shutil.copy(fixture("prod-clean"), copy)
    result = run_review([str(copy)])
    assert [e["environment"] for e in result.data["environments"]] == ["staging"]


def test_two_plans_for_one_environment_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(
        capsys,
        [f"prod={fixture('prod-clean')}", f"prod={fixture('prod-nat-replaced')}"],
        "already comes from",
    )


def test_load_plan_raises_plan_error_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("null")
    with pytest.raises(PlanError, match=r"x\.json: not a Terraform plan"):
        load_plan(path)


# --- the fixtures can be made again ---------------------------------------------------------


def classification(env_review: EnvironmentReview) -> dict[str, Any]:
    """What the review found, without the values moto makes up on every run (IPs, IDs)."""
    return {
        "counts": env_review.counts,
        "changes": sorted((c.address, c.action, c.reason) for c in env_review.changes),
        "findings": sorted(
            (f.severity, f.code, f.address, len(f.ips)) for f in env_review.findings
        ),
        "cost": (env_review.cost.fixed_monthly_before, env_review.cost.fixed_monthly_after),
    }


@pytest.mark.terraform
def test_a_regenerated_fixture_is_classified_like_the_committed_one(tmp_path: Path) -> None:
    """Slow (about a minute: synthesis, one apply and one plan against moto)."""
    if shutil.which("terraform") is None:
        pytest.skip("no terraform binary on PATH")
    if not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.skip(
            f"no hashicorp/aws provider in the mirror {MIRROR} (set STATICIP_TF_PLUGIN_DIR)"
        )
    case = "prod-nat-replaced"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), case, "--out", str(tmp_path), "--plugin-dir", str(MIRROR)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    regenerated = review_plan("prod", load_plan(tmp_path / f"{case}.json"), load_prices())
    assert classification(regenerated) == classification(review(case))
    meta = json.loads((tmp_path / f"{case}.meta.json").read_text())
    assert meta["plan_exit_code"] == 2
